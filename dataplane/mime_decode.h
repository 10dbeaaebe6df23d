/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Streaming Content-Transfer-Encoding decoders (RFC 2045 section 6) for the bodies of MIME
 * leaf parts: base64 and quoted-printable are decoded, 7bit/8bit/binary and unknown encodings
 * are copied. The state is a few bytes embedded by the caller, so a part is never buffered and
 * the result never depends on how the body was cut into feeds. It does not find part
 * boundaries, convert charsets or parse anything but the Content-Transfer-Encoding value.
 * Pure C, no allocation, no DPDK: a decoder is used by the worker lcore that owns the flow;
 * mime_cte_parse() and mime_cte_name() are stateless and may be called from any thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum mime_cte {
	MIME_CTE_7BIT = 0,
	MIME_CTE_8BIT,
	MIME_CTE_BINARY,
	MIME_CTE_BASE64,
	MIME_CTE_QP,
	MIME_CTE_UNKNOWN,
};

/*
 * A Content-Transfer-Encoding header value, unfolded, not NUL-terminated. Whitespace and
 * comments "(...)" (nested, with \-escapes) around the mechanism are skipped; the mechanism is
 * the first RFC 2045 token and is compared case-insensitively; text after it is ignored, as
 * Thunderbird and Python's email.policy.default do ("base64 foo" is base64). Empty or only
 * comments -> MIME_CTE_7BIT (RFC 2045 6.1 default). Anything else, e.g. "x-uuencode" or a
 * quoted "\"base64\"" -> MIME_CTE_UNKNOWN: the caller passes such a part through undecoded,
 * as RFC 2045 6.4 says to treat it as application/octet-stream.
 */
enum mime_cte mime_cte_parse(const uint8_t *v, size_t len);

/* "7bit", "8bit", "binary", "base64", "quoted-printable", "unknown"; never NULL. */
const char *mime_cte_name(enum mime_cte cte);

/* Embedded by the caller; the fields are private to mime_decode.c except n_garbage. */
struct mime_decoder {
	uint8_t cte;    /* enum mime_cte */
	uint8_t state;  /* base64: sextets in the current quantum (0-3); QP: MIME_QP_* state */
	uint8_t bits;   /* base64: bits left over from the quantum; QP: the withheld hex digit,
			 * or one bit per withheld whitespace byte after '=' (1 = TAB) */
	uint8_t n_ws;   /* QP: whitespace bytes withheld after '=' (0-3) */
	/*
	 * Anomalies, for counters and rules. base64: bytes outside the alphabet other than
	 * CR/LF/SP/TAB, an '=' after a single sextet, and a single sextet left dangling at the end
	 * (it cannot make a byte). QP: malformed '=' sequences (each kept literally), a bare CR
	 * after a soft-break '='. Never reset by feed/finish; mime_decoder_init() clears it.
	 */
	uint64_t n_garbage;
};

/* Worker lcore. Prepares d for a new part body; a cte out of range is treated as UNKNOWN. */
void mime_decoder_init(struct mime_decoder *d, enum mime_cte cte);

/* The value of a base64 alphabet byte (0-63), or 64 and above for any other byte. Any thread. */
unsigned mime_b64_sextet(uint8_t c);

/*
 * Worker lcore owning d. Decode len bytes of the encoded part body (any split; the result for a
 * byte stream never depends on how it was cut) into out, which has room for at least len + 4
 * bytes (at most 4 bytes are ever withheld between feeds: a QP "=" plus up to three
 * whitespace bytes). Returns the bytes written. Identity encodings copy. in may be NULL when
 * len is 0.
 */
size_t mime_decoder_feed(struct mime_decoder *d, const uint8_t *in, size_t len, uint8_t *out);

/*
 * Worker lcore owning d. The part ended: flush what is withheld into out (room for 4 bytes)
 * and return the bytes written. base64 emits every whole byte as soon as it is complete, so
 * nothing is withheld; a dangling single sextet is dropped and counted. QP: a pending "=A"
 * is kept literally and counted; a pending "=" (with or without trailing whitespace) is a soft
 * line break whose line end was the CRLF that belongs to the boundary delimiter (RFC 2046
 * 5.1.1), so it is dropped, as Python's binascii.a2b_qp does. d is then ready for more input
 * as if a new part of the same encoding had started (n_garbage is kept).
 */
size_t mime_decoder_finish(struct mime_decoder *d, uint8_t *out);
