/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Streaming URL extractor for the transfer-decoded bytes of text/plain and text/html body parts,
 * fed in pieces of any size; the URLs found feed the URL buffer that rules match. It recognises
 * http://, https://, ftp:// (any case) and bare "www." hosts starting at a word boundary, and in
 * HTML also the values of href=, src= and action= attributes whatever their scheme (mailto:,
 * javascript:, data:, relative; empty and "#fragment" values are skipped). It does not parse,
 * normalise, lower-case or deduplicate URLs (a link and its visible text are two URLs), does
 * not decode percent-escapes or QP/base64 (the caller already did), and does not tokenise HTML
 * (no tag or comment tracking). Pure C, no allocation, no system calls: one struct per body
 * part being parsed, embedded in the caller's state and used by the worker lcore that owns it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A URL longer than this is cut here and flagged; the rest of it is skipped, not re-scanned. */
#define URL_EXTRACT_MAX 1024

/* Longest pattern recognised across feed boundaries ("https://"). */
#define URL_EXTRACT_WIN 8

/*
 * Embedded in the caller's per-part state; the fields are private to url_extract.c except the
 * two counters, which the owner may read at any time.
 */
struct url_extract {
	uint8_t state;      /* enum url_extract_state */
	uint8_t kind;       /* how the URL being collected was found: scheme or attribute */
	uint8_t quote;      /* closing quote of an attribute value, 0 when unquoted */
	uint8_t prev;       /* class of the previous byte: word, separator, other */
	uint8_t win_len;    /* bytes of a possible pattern seen so far */
	bool win_attr;      /* the pattern in win may be an attribute name */
	bool html;          /* text/html part */
	uint8_t win[URL_EXTRACT_WIN];
	uint16_t len;       /* bytes in url */
	uint16_t amp;       /* 1 + index in url of the last raw '&' (entity start), 0 if none */
	uint16_t scheme_len; /* bytes of the scheme or "www." at the start of url */
	uint64_t n_urls;      /* URLs emitted, truncated ones included */
	uint64_t n_truncated; /* URLs cut at URL_EXTRACT_MAX */
	uint8_t url[URL_EXTRACT_MAX];
};

/*
 * Called for each URL found. url is borrowed until the callback returns, len is 1 to
 * URL_EXTRACT_MAX, truncated says the URL went on past URL_EXTRACT_MAX bytes.
 */
typedef void (*url_extract_fn)(void *ctx, const uint8_t *url, size_t len, bool truncated);

/*
 * Worker lcore. Start a part: html is true for text/html, which adds attribute values, decodes
 * character references (&amp; &quot; &lt; &gt; &apos; &nbsp; &#N; &#xH;) inside URLs, and drops
 * TAB/CR/LF inside quoted attribute values as browsers do. Zeroes the counters.
 */
void url_extract_init(struct url_extract *u, bool html);

/*
 * Worker lcore that owns u. Feed the next len bytes of the part; fn (may be NULL) is called for
 * each URL completed in them, in the order they appear. The URLs found in a part never depend
 * on how it was cut into feeds. Work is O(len); p is only read.
 */
void url_extract_feed(struct url_extract *u, const uint8_t *p, size_t len, url_extract_fn fn,
		      void *ctx);

/*
 * Worker lcore that owns u. End of the part: emit a URL still being collected, then return to
 * the state url_extract_init left (counters and html flag kept), ready for another part of the
 * same type.
 */
void url_extract_finish(struct url_extract *u, url_extract_fn fn, void *ctx);
