/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * MIME message parser: fed the raw bytes of one message (RFC 5322 header block and body, as the
 * SMTP layer hands them out, in pieces of any size), it reads the header block of the message
 * and of every part (unfolding, case-insensitive names, bounded count and length), the
 * Content-Type, Content-Transfer-Encoding and Content-Disposition of each (parameters per
 * RFC 2045, RFC 2231 continuations and charsets, RFC 2047 words in names), follows the
 * multipart tree (RFC 2046 boundaries, nesting, message/rfc822 encapsulation, a depth limit),
 * transfer-decodes leaf parts (mime_decode.h) and extracts URLs from text parts
 * (url_extract.h).
 *
 * It never buffers a part: decoded bytes go out through the hooks as they arrive, so memory
 * is fixed (struct mime_parser, embedded by the caller). Header values are handed out as sent
 * (unfolded, encoded words not decoded: the caller decides what to decode). Pure C, no DPDK;
 * one parser is used by one worker lcore. No allocation.
 *
 * Every slice and struct mime_part passed to a hook is borrowed for the duration of the call.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "mime_decode.h"
#include "slice.h"
#include "url_extract.h"

#define MIME_DEPTH_MAX 8         /* nested entities followed; deeper multiparts are leaves */
/*
 * RFC 2046 5.1.1 says 70, but readers (Python's email, mail clients) follow longer ones, so a
 * sensor must too, or a sender could keep its parts from being decoded. Past this, the
 * multipart is kept as one leaf and counted (MIME_AN_BAD_BOUNDARY).
 */
#define MIME_BOUNDARY_MAX 200
#define MIME_HEADER_MAX 4096     /* an unfolded header kept; longer ones are cut */
#define MIME_HEADERS_MAX 256     /* headers per entity before MIME_AN_TOO_MANY_HEADERS */
#define MIME_TYPE_MAX 64         /* "type/subtype" kept, lower-cased */
#define MIME_CHARSET_MAX 40
#define MIME_NAME_MAX 256        /* attachment name kept, UTF-8 */
#define MIME_DECODE_CHUNK 2048   /* encoded bytes decoded per step (scratch size) */

enum mime_anomaly {
	MIME_AN_HEADER_TOO_LONG,      /* a header over MIME_HEADER_MAX: cut */
	MIME_AN_TOO_MANY_HEADERS,     /* more than MIME_HEADERS_MAX in one block (still read) */
	MIME_AN_DEPTH,                /* nesting deeper than MIME_DEPTH_MAX: kept as a leaf */
	MIME_AN_BAD_BOUNDARY,         /* multipart without a usable boundary: kept as a leaf */
	MIME_AN_MISSING_BOUNDARY,     /* a multipart ended without its close delimiter */
	MIME_AN_NO_PARTS,             /* a multipart closed (or ended) with no part in it */
	MIME_AN_BASE64_GARBAGE,       /* bytes outside the base64 alphabet skipped */
	MIME_AN_QP_MALFORMED,         /* "=" not followed by hex or a line end: kept as is */
	MIME_AN_UNKNOWN_CTE,          /* unknown transfer encoding: passed through undecoded */
	MIME_AN_NAME_MISMATCH,        /* filename and filename* (or name) disagree: evasion? */
	MIME_AN_BAD_HEADER,           /* a line in a header block that is no header: body starts */
	MIME_AN__COUNT
};

/* What the parser knows about an entity (the message itself, or a part) once its headers end. */
struct mime_part {
	uint16_t depth;              /* 0: the message; a part of a depth-d multipart is d + 1 */
	uint16_t index;              /* entities numbered in order of appearance, the message 0 */
	uint8_t cte;                 /* enum mime_cte */
	bool multipart;              /* a multipart being followed (not decoded, holds parts) */
	bool message;                /* message/rfc822 being followed: its content is a message */
	bool attachment;             /* Content-Disposition: attachment, or a file name given */
	bool text;                   /* text/plain or text/html leaf: URLs are extracted */
	bool html;
	uint8_t type_len;
	uint8_t charset_len;
	uint16_t name_len;
	char type[MIME_TYPE_MAX];         /* "text/plain" (lower-cased; RFC 2045 default) */
	char charset[MIME_CHARSET_MAX];   /* lower-cased; empty when not given */
	uint8_t name[MIME_NAME_MAX];      /* attachment name (UTF-8): filename*, filename, name*, name */
	uint64_t size;                    /* decoded bytes of a leaf so far */
	uint64_t n_garbage;               /* transfer-decoding errors in this part */
};

struct mime_hooks {
	/* A header of an entity whose header block is being read: value unfolded, raw. */
	void (*on_header)(void *ctx, const struct mime_part *part, struct slice name,
			  struct slice value);
	/* The entity's header block ended; part says what it is. */
	void (*on_part_begin)(void *ctx, const struct mime_part *part);
	/* Transfer-decoded content of a leaf entity. */
	void (*on_part_data)(void *ctx, const struct mime_part *part, struct slice data);
	/*
	 * Text of a multipart outside its parts (preamble, epilogue), as sent. Readers ignore
	 * it, but a multipart whose boundary never comes holds its whole body there, and a
	 * sensor must still see that.
	 */
	void (*on_preamble)(void *ctx, const struct mime_part *part, struct slice data);
	/* The entity ended (its boundary, an enclosing boundary, or the end of the message). */
	void (*on_part_end)(void *ctx, const struct mime_part *part);
	/* A URL in a text or HTML leaf (as written, at most URL_EXTRACT_MAX bytes). */
	void (*on_url)(void *ctx, const struct mime_part *part, struct slice url, bool truncated);
	void (*on_anomaly)(void *ctx, enum mime_anomaly what);
};

struct mime_words;

/* One entity on the parser's stack. */
struct mime_level {
	struct mime_part part;
	uint8_t state;               /* mime.c's enum: headers, leaf content, preamble, ... */
	uint8_t boundary_len;
	bool saw_part;               /* a multipart: a delimiter was seen */
	bool digest;                 /* multipart/digest: parts default to message/rfc822 */
	bool type_seen;              /* the first Content-Type counts */
	bool cte_seen;
	uint16_t n_headers;
	uint16_t ct_name_len;
	uint8_t boundary[MIME_BOUNDARY_MAX];
	uint8_t ct_name[MIME_NAME_MAX]; /* Content-Type name=, the fallback for filename= */
};

/*
 * A line start that may be a boundary delimiter: "--" boundary ["--"] padding. Content lines
 * are examined up to this many bytes and streamed past it.
 */
#define MIME_CANDIDATE_MAX (2 + MIME_BOUNDARY_MAX + 2 + 32)

struct mime_parser {
	const struct mime_hooks *hooks;
	void *ctx;
	struct mime_words *words;    /* charset conversion for RFC 2231/2047 names; may be NULL */
	uint8_t depth;               /* levels in use - 1 */
	uint8_t line_state;          /* mime.c's enum: line start, candidate, mid-line, ... */
	uint8_t eol_held;            /* line end withheld: it belongs to a boundary if one follows */
	bool cr_held;                /* content ended in CR: a CRLF may be split */
	bool hdr_overflow;
	uint8_t line_first;          /* first byte of the header line being read */
	uint16_t n_entities;
	uint16_t cand_len;
	uint16_t hdr_len;            /* unfolded header being built, name included */
	uint16_t line_len;           /* current physical header line, appended after it */
	uint32_t line_seen;          /* its bytes seen, stored or not */
	struct mime_decoder decoder;
	struct url_extract urls;
	uint8_t cand[MIME_CANDIDATE_MAX];
	uint8_t hdr[MIME_HEADER_MAX];
	uint8_t scratch[MIME_DECODE_CHUNK + 8];
	struct mime_level level[MIME_DEPTH_MAX + 1];
	uint64_t n_anomalies[MIME_AN__COUNT];
};

/* Prepare a parser for one message; hooks, ctx and words are borrowed for its life. */
void mime_parser_init(struct mime_parser *m, const struct mime_hooks *hooks, void *ctx,
		      struct mime_words *words);

/* Bytes of the message, in order, any split; the result never depends on the split. */
void mime_parser_feed(struct mime_parser *m, const uint8_t *p, size_t len);

/*
 * The message ended: the last line is finished, every open entity ends (on_part_end, from the
 * innermost); multiparts left open are counted as MIME_AN_MISSING_BOUNDARY. The parser may be
 * re-initialised afterwards.
 */
void mime_parser_finish(struct mime_parser *m);

/* Inside on_header: was this header's value cut at MIME_HEADER_MAX? */
static inline bool
mime_parser_header_cut(const struct mime_parser *m)
{
	return m->hdr_overflow;
}

/* Name of an anomaly ("missing_boundary"). */
const char *mime_anomaly_name(enum mime_anomaly what);
