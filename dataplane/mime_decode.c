/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Streaming base64 and quoted-printable decoders, byte-at-a-time state machines whose whole
 * state lives in struct mime_decoder, plus the Content-Transfer-Encoding value parser. The
 * reference is what Python's email package gives for msg.get_payload(decode=True)
 * (email._encoded_words.decode_b over binascii.a2b_base64 for base64, binascii.a2b_qp for QP),
 * since that is what analysts check alerts against. Where we deliberately differ:
 *
 * base64
 *  - Padding that completes a quantum ("QQ==", "QUI=") makes Python stop decoding the rest of
 *    the part; we start a fresh quantum and keep decoding, so concatenated blobs (some mailers
 *    glue base64 files together) are all seen by the scanner: "QQ==QkM=" gives "ABC", Python
 *    "A".
 *  - A single '=' after two sextets ("QQ=") also ends the quantum for us; Python carries on
 *    with the same quantum if more data follows ("QQ=QUJD": ours "AABC", Python "A\x04\x14$").
 *  - When 4n+1 sextets arrive (one dangles at the end), Python returns the whole encoded text
 *    undecoded; we return the bytes decoded so far, drop the sextet and count it.
 *  Otherwise we match it: non-alphabet bytes are skipped, a missing final padding is
 *  tolerated, '=' with no or one sextet pending is ignored.
 *
 * quoted-printable
 *  - "=" followed by up to three spaces/tabs and then the line end is a soft line break
 *    (RFC 2045 6.7 (3): the whitespace was added by transport); Python keeps "= \r\n"
 *    literally. Longer runs are kept literally and counted: we withhold at most 4 bytes.
 *  - "=" [whitespace] CR is a soft line break that swallows a following LF; if no LF follows
 *    (a bare CR) it is counted. Python drops everything from "=\r" up to the next LF.
 *  - "= " (whitespace) at the very end of the part is a soft break like "=" (see finish).
 *  Otherwise we match binascii.a2b_qp: "=XX" with upper- or lower-case hex; "=\n"/"=\r\n"
 *  soft breaks; "==" gives one "="; other malformed escapes are kept literally (counted here);
 *  a trailing "=" at the end of the part is dropped; trailing whitespace on ordinary lines is
 *  kept (a2b_qp keeps it too, although RFC 2045 says to strip it: keeping it costs nothing in
 *  matching and does not need an unbounded withheld run); hard line breaks are copied as they
 *  are (CRLF stays CRLF).
 * No allocation, no shared state: worker lcores, each on the decoders of its own flows.
 */
#include <stdbool.h>
#include <string.h>

#include "ascii.h"
#include "mime_decode.h"
#include "slice.h"

/* QP states (struct mime_decoder.state). */
enum {
	MIME_QP_TEXT = 0, /* between escapes */
	MIME_QP_EQ,       /* "=" seen, then n_ws whitespace bytes (bits: 1 = TAB) */
	MIME_QP_EQ_HEX,   /* "=" and one hex digit seen (bits: the digit as written) */
	MIME_QP_SOFT_CR,  /* soft break ended by CR: an LF right after belongs to it */
};

#define MIME_QP_WS_MAX 3 /* whitespace withheld after '=': with the '=', 4 bytes (feed's slack) */

#define B64_SKIP 0x40  /* CR, LF, SP, TAB: line structure, not counted */
#define B64_PAD 0x41   /* '=' */
#define B64_BAD 0x42   /* anything else outside the alphabet: counted */

/* The value of each byte: a sextet (0-63), or B64_SKIP, B64_PAD, B64_BAD (RFC 2045 6.8). */
#define SK B64_SKIP
#define PD B64_PAD
#define BD B64_BAD
static const uint8_t b64_values[256] = {
	BD, BD, BD, BD, BD, BD, BD, BD, BD, SK, SK, BD, BD, SK, BD, BD,
	BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD,
	SK, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, 62, BD, BD, BD, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, BD, BD, BD, PD, BD, BD,
	BD,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, BD, BD, BD, BD, BD,
	BD, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, BD, BD, BD, BD, BD,
	BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD,
	BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD,
	BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD,
	BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD,
	BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD,
	BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD,
	BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD,
	BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD, BD,
};
#undef SK
#undef PD
#undef BD

static inline unsigned
b64_value(uint8_t c)
{
	return b64_values[c];
}

unsigned
mime_b64_sextet(uint8_t c)
{
	return b64_values[c];
}

static size_t
b64_feed(struct mime_decoder *d, const uint8_t *in, size_t len, uint8_t *out)
{
	unsigned pos = d->state, bits = d->bits;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		/* Between quanta, whole quanta of alphabet bytes go four at a time: that is
		 * nearly all of a base64 body (76-byte lines), and it halves the cost. */
		while (pos == 0 && len - i >= 4) {
			unsigned a = b64_values[in[i]], b = b64_values[in[i + 1]],
				 c = b64_values[in[i + 2]], e = b64_values[in[i + 3]];

			if ((a | b | c | e) >= 64)
				break;
			out[n++] = (uint8_t)(a << 2 | b >> 4);
			out[n++] = (uint8_t)(b << 4 | c >> 2);
			out[n++] = (uint8_t)(c << 6 | e);
			i += 4;
		}
		if (i == len)
			break;
		unsigned v = b64_value(in[i]);

		if (v == B64_SKIP)
			continue;
		if (v == B64_BAD) {
			d->n_garbage++;
			continue;
		}
		if (v == B64_PAD) {
			/*
			 * After two or three sextets the quantum is complete (its bytes are out);
			 * the leftover bits are padding. With none pending this is the rest of
			 * "==" or stray padding; with one pending, Python ignores it and so do we,
			 * but it cannot be valid, so it is counted.
			 */
			if (pos >= 2) {
				pos = 0;
				bits = 0;
			} else if (pos == 1) {
				d->n_garbage++;
			}
			continue;
		}
		switch (pos) {
		case 0:
			bits = v;
			pos = 1;
			break;
		case 1:
			out[n++] = (uint8_t)(bits << 2 | v >> 4);
			bits = v & 0x0f;
			pos = 2;
			break;
		case 2:
			out[n++] = (uint8_t)(bits << 4 | v >> 2);
			bits = v & 0x03;
			pos = 3;
			break;
		default:
			out[n++] = (uint8_t)(bits << 6 | v);
			bits = 0;
			pos = 0;
			break;
		}
	}
	d->state = (uint8_t)pos;
	d->bits = (uint8_t)bits;
	return n;
}

/* Write the withheld "=" and whitespace literally: the sequence was not a soft break. */
static size_t
qp_release_eq(struct mime_decoder *d, uint8_t *out)
{
	size_t n = 0;

	out[n++] = '=';
	for (unsigned k = 0; k < d->n_ws; k++)
		out[n++] = (d->bits >> k & 1) ? '\t' : ' ';
	d->state = MIME_QP_TEXT;
	d->n_ws = 0;
	d->bits = 0;
	return n;
}

static size_t
qp_feed(struct mime_decoder *d, const uint8_t *in, size_t len, uint8_t *out)
{
	size_t n = 0, i = 0;

	while (i < len) {
		uint8_t c = in[i];
		int h;

		switch (d->state) {
		case MIME_QP_TEXT: {
			/* text up to the next '=' is itself: one copy, not a byte at a time */
			const uint8_t *eq = memchr(in + i, '=', len - i);
			size_t run = eq != NULL ? (size_t)(eq - (in + i)) : len - i;

			memcpy(out + n, in + i, run);
			n += run;
			i += run;
			if (eq != NULL) {
				d->state = MIME_QP_EQ;
				d->n_ws = 0;
				d->bits = 0;
				i++;
			}
			break;
		}
		case MIME_QP_EQ:
			if (c == '\n') {
				/* soft break: "=", whitespace and LF vanish */
				d->state = MIME_QP_TEXT;
				d->n_ws = 0;
				d->bits = 0;
				i++;
			} else if (c == '\r') {
				d->state = MIME_QP_SOFT_CR;
				d->n_ws = 0;
				d->bits = 0;
				i++;
			} else if ((c == ' ' || c == '\t') && d->n_ws < MIME_QP_WS_MAX) {
				if (c == '\t')
					d->bits |= (uint8_t)(1u << d->n_ws);
				d->n_ws++;
				i++;
			} else if (d->n_ws == 0 && ascii_hex_digit(c) >= 0) {
				d->state = MIME_QP_EQ_HEX;
				d->bits = c;
				i++;
			} else if (d->n_ws == 0 && c == '=') {
				/* "==": one literal '=', as binascii.a2b_qp ("broken python qp") */
				out[n++] = '=';
				d->state = MIME_QP_TEXT;
				d->n_garbage++;
				i++;
			} else {
				/* malformed: "=" (and whitespace) literal; c is handled as text */
				n += qp_release_eq(d, out + n);
				d->n_garbage++;
			}
			break;
		case MIME_QP_EQ_HEX:
			h = ascii_hex_digit(c);
			if (h >= 0) {
				out[n++] = (uint8_t)(ascii_hex_digit(d->bits) << 4 | h);
				d->state = MIME_QP_TEXT;
				d->bits = 0;
				i++;
			} else {
				/* "=A", not hex: both literal; c is text (may be '=') */
				out[n++] = '=';
				out[n++] = d->bits;
				d->state = MIME_QP_TEXT;
				d->bits = 0;
				d->n_garbage++;
			}
			break;
		default: /* MIME_QP_SOFT_CR */
			d->state = MIME_QP_TEXT;
			if (c == '\n')
				i++;
			else
				d->n_garbage++; /* bare CR; c is handled as text */
			break;
		}
	}
	return n;
}

void
mime_decoder_init(struct mime_decoder *d, enum mime_cte cte)
{
	memset(d, 0, sizeof(*d));
	d->cte = (uint8_t)((unsigned)cte <= MIME_CTE_UNKNOWN ? cte : MIME_CTE_UNKNOWN);
}

size_t
mime_decoder_feed(struct mime_decoder *d, const uint8_t *in, size_t len, uint8_t *out)
{
	if (len == 0)
		return 0;
	switch (d->cte) {
	case MIME_CTE_BASE64:
		return b64_feed(d, in, len, out);
	case MIME_CTE_QP:
		return qp_feed(d, in, len, out);
	default:
		memcpy(out, in, len);
		return len;
	}
}

size_t
mime_decoder_finish(struct mime_decoder *d, uint8_t *out)
{
	size_t n = 0;

	switch (d->cte) {
	case MIME_CTE_BASE64:
		if (d->state == 1)
			d->n_garbage++; /* 6 bits cannot make a byte */
		break;
	case MIME_CTE_QP:
		if (d->state == MIME_QP_EQ_HEX) {
			out[n++] = '=';
			out[n++] = d->bits;
			d->n_garbage++;
		}
		/* MIME_QP_EQ: soft break before the boundary's CRLF, dropped (see header) */
		break;
	default:
		break;
	}
	d->state = 0;
	d->bits = 0;
	d->n_ws = 0;
	return n;
}

/* RFC 2045 5.1 tspecials and the controls/space that cannot be in a token. */
static bool
is_token_char(uint8_t c)
{
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Skip whitespace (CR/LF included, in case the caller left folding) and comments. */
static size_t
skip_cfws(const uint8_t *v, size_t len, size_t i)
{
	while (i < len) {
		if (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n') {
			i++;
		} else if (v[i] == '(') {
			size_t depth = 0;

			/* an unterminated comment runs to the end of the value */
			for (; i < len; i++) {
				if (v[i] == '\\') {
					i++;
				} else if (v[i] == '(') {
					depth++;
				} else if (v[i] == ')' && --depth == 0) {
					i++;
					break;
				}
			}
		} else {
			break;
		}
	}
	return i < len ? i : len;
}

static const char *const cte_names[] = {
	[MIME_CTE_7BIT] = "7bit",
	[MIME_CTE_8BIT] = "8bit",
	[MIME_CTE_BINARY] = "binary",
	[MIME_CTE_BASE64] = "base64",
	[MIME_CTE_QP] = "quoted-printable",
	[MIME_CTE_UNKNOWN] = "unknown",
};

enum mime_cte
mime_cte_parse(const uint8_t *v, size_t len)
{
	size_t start, end;

	if (len == 0)
		return MIME_CTE_7BIT;
	start = skip_cfws(v, len, 0);
	if (start == len)
		return MIME_CTE_7BIT;
	for (end = start; end < len && is_token_char(v[end]); end++)
		;
	if (end == start)
		return MIME_CTE_UNKNOWN;
	for (unsigned c = MIME_CTE_7BIT; c < MIME_CTE_UNKNOWN; c++)
		if (slice_eq_nocase(slice_make(v + start, end - start), cte_names[c]))
			return (enum mime_cte)c;
	return MIME_CTE_UNKNOWN;
}

const char *
mime_cte_name(enum mime_cte cte)
{
	if ((unsigned)cte > MIME_CTE_UNKNOWN)
		return cte_names[MIME_CTE_UNKNOWN];
	return cte_names[cte];
}
