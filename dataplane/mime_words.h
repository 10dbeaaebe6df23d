/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 2047 encoded words ("=?charset?B|Q?text?=") in an unfolded header value, decoded to UTF-8
 * so that rules match Subject/From text whatever charset the sender chose. Conversion uses
 * iconv descriptors opened once at start-up for a fixed list of charsets; decoding never
 * allocates and never writes past the caller's buffer. It does not unfold headers, parse
 * addresses or decode RFC 2231 parameters (only the "*lang" suffix of a charset is ignored).
 * One struct mime_words per worker lcore: the descriptors carry state and are not shared.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decoded bytes of one run of adjacent same-charset words are converted together (a sender may
 * split a multibyte character across two words); a run is capped at this many decoded bytes,
 * and a single word longer than that is kept raw and counted.
 */
#define MIME_WORDS_RUN_MAX 2048

struct mime_words;

/*
 * Start-up only (main lcore, before the workers run): open one iconv descriptor per known
 * charset; a charset the C library lacks (e.g. utf-7 on some libcs) is treated as unknown.
 * Returns NULL with errno set when memory is short or UTF-8 itself cannot be converted.
 */
struct mime_words *mime_words_create(void);

/* Start-up/shutdown only; NULL is a no-op. */
void mime_words_destroy(struct mime_words *m);

/*
 * Worker lcore that owns m. Decode the header value `in` (len bytes, unfolded, not
 * NUL-terminated) into out (cap bytes). Encoded words become UTF-8; linear whitespace between
 * two decoded words is dropped (RFC 2047 6.2); a word that is malformed (bad base64 or Q
 * escape, missing "?=", unknown charset, bytes invalid for the charset, longer than
 * MIME_WORDS_RUN_MAX) is copied raw and counted in *n_bad (once per failed word, or per
 * "=?" that does not start a well-formed word). Other bytes,
 * 8-bit included, are copied unchanged. Output stops at cap: *truncated is set and the bytes
 * written are a prefix of the full result (possibly ending inside a UTF-8 sequence); words
 * after the cut are not examined or counted. Returns the number of bytes written (<= cap).
 * n_bad and truncated may be NULL.
 */
size_t mime_words_decode(struct mime_words *m, const uint8_t *in, size_t len, uint8_t *out,
			 size_t cap, unsigned *n_bad, bool *truncated);

/*
 * Worker lcore that owns m. Convert `in` (len bytes in the charset labelled cs, cs_len bytes,
 * e.g. from an RFC 2231 parameter "utf-8''%E2%82%AC") to UTF-8 into out (cap bytes). Returns
 * the bytes written, or -1 when the charset is unknown, the bytes are invalid in it, or the
 * result (or len) exceeds MIME_WORDS_RUN_MAX or cap: the caller keeps the bytes raw.
 */
long mime_words_to_utf8(struct mime_words *m, const uint8_t *cs, size_t cs_len,
			const uint8_t *in, size_t len, uint8_t *out, size_t cap);
