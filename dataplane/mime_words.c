/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 2047 encoded-word decoder. A candidate starts at "=?"; it must read
 * "=?" charset ["*" lang] "?" (B|Q) "?" encoded-text "?=" with no '?', space or control byte
 * in the text (RFC 2047 section 5), or its "=?" is copied raw, counted, and scanning resumes
 * after it; a well-formed word that fails to decode is copied raw whole and counted once. Adjacent words with the same charset are converted as one run, as Python's
 * email.header and most MUAs do, so a character split over two words survives; if the run
 * does not convert, its first word is tried alone. Everything is converted into per-object
 * scratch buffers first and only then copied to the caller's buffer, so a cut at any cap
 * yields a prefix of the uncut result. Pure C, no allocation after create; one object per
 * worker lcore.
 */
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "mime_decode.h"
#include "mime_words.h"

#define MIME_WORDS_CHARSET_MAX 40 /* longest charset label accepted, language suffix included */
/* UTF-8 output per input byte is at most 3 (a BMP char from one byte) or 4/2 from UTF-16/32. */
#define MIME_WORDS_CONV_MAX (MIME_WORDS_RUN_MAX * 3 + 16)

struct mime_charset {
	const char *label;      /* as written in mail, compared case-insensitively */
	const char *iconv_name; /* glibc name */
};

static const struct mime_charset charsets[] = {
	{ "utf-8", "UTF-8" },
	{ "us-ascii", "ASCII" },
	{ "iso-8859-1", "ISO-8859-1" },
	{ "iso-8859-2", "ISO-8859-2" },
	{ "iso-8859-3", "ISO-8859-3" },
	{ "iso-8859-4", "ISO-8859-4" },
	{ "iso-8859-5", "ISO-8859-5" },
	{ "iso-8859-6", "ISO-8859-6" },
	{ "iso-8859-7", "ISO-8859-7" },
	{ "iso-8859-8", "ISO-8859-8" },
	{ "iso-8859-9", "ISO-8859-9" },
	{ "iso-8859-10", "ISO-8859-10" },
	{ "iso-8859-11", "ISO-8859-11" },
	{ "iso-8859-13", "ISO-8859-13" },
	{ "iso-8859-14", "ISO-8859-14" },
	{ "iso-8859-15", "ISO-8859-15" },
	{ "iso-8859-16", "ISO-8859-16" },
	{ "windows-1250", "CP1250" },
	{ "windows-1251", "CP1251" },
	{ "windows-1252", "CP1252" },
	{ "windows-1253", "CP1253" },
	{ "windows-1254", "CP1254" },
	{ "windows-1255", "CP1255" },
	{ "windows-1256", "CP1256" },
	{ "windows-1257", "CP1257" },
	{ "windows-1258", "CP1258" },
	{ "koi8-r", "KOI8-R" },
	{ "koi8-u", "KOI8-U" },
	/*
	 * Mail labelled gb2312 is routinely GBK (the spam corpus has such subjects); GBK is a
	 * superset of EUC-CN, so true gb2312 decodes the same. Browsers (WHATWG) do the same.
	 */
	{ "gb2312", "GBK" },
	{ "gbk", "GBK" },
	{ "gb18030", "GB18030" },
	{ "big5", "BIG5" },
	{ "shift_jis", "SHIFT_JIS" },
	{ "euc-jp", "EUC-JP" },
	{ "iso-2022-jp", "ISO-2022-JP" },
	{ "euc-kr", "EUC-KR" },
	{ "ks_c_5601-1987", "CP949" },
	{ "utf-16", "UTF-16" },
	{ "utf-16be", "UTF-16BE" },
	{ "utf-16le", "UTF-16LE" },
	{ "utf-7", "UTF-7" },
};

#define MIME_WORDS_N_CHARSETS (sizeof(charsets) / sizeof(charsets[0]))

struct mime_words {
	iconv_t cd[MIME_WORDS_N_CHARSETS]; /* (iconv_t)-1: not available, treated as unknown */
	uint8_t raw[MIME_WORDS_RUN_MAX];   /* B/Q-decoded bytes of the current run */
	uint8_t conv[MIME_WORDS_CONV_MAX]; /* their UTF-8 conversion */
};

/* One parsed encoded word: offsets into the input. */
struct mime_word {
	size_t end;        /* one past the closing "?=" */
	size_t text_off;   /* encoded text */
	size_t text_len;
	int charset;       /* index into charsets[], -1 when unknown */
	bool is_b;
};

struct mime_out {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool truncated;
};

struct mime_words *
mime_words_create(void)
{
	struct mime_words *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	for (size_t i = 0; i < MIME_WORDS_N_CHARSETS; i++)
		m->cd[i] = iconv_open("UTF-8", charsets[i].iconv_name);
	if (m->cd[0] == (iconv_t)-1) {
		mime_words_destroy(m);
		errno = ENOTSUP;
		return NULL;
	}
	return m;
}

void
mime_words_destroy(struct mime_words *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < MIME_WORDS_N_CHARSETS; i++) {
		if (m->cd[i] != (iconv_t)-1)
			iconv_close(m->cd[i]);
		m->cd[i] = (iconv_t)-1;
	}
	free(m);
}

/* Index of the charset label (language suffix already cut), or -1. */
static int
charset_lookup(const struct mime_words *m, const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < MIME_WORDS_N_CHARSETS; i++) {
		const char *name = charsets[i].label;
		size_t j;

		if (strlen(name) != len || m->cd[i] == (iconv_t)-1)
			continue;
		for (j = 0; j < len; j++)
			if (ascii_lower(s[j]) != name[j])
				break;
		if (j == len)
			return (int)i;
	}
	return -1;
}

/* Bytes allowed in a charset label and in encoded text: visible ASCII except '?'. */
static bool
is_word_byte(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != '?';
}

static bool
is_lws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parse the syntax of a word starting at in[i] == '=', in[i + 1] == '?'. */
static bool
word_parse(const struct mime_words *m, const uint8_t *in, size_t len, size_t i,
	   struct mime_word *w)
{
	size_t p = i + 2, cs = p, cs_len;

	while (p < len && is_word_byte(in[p]) && p - cs <= MIME_WORDS_CHARSET_MAX)
		p++;
	if (p == cs || p >= len || in[p] != '?' || p - cs > MIME_WORDS_CHARSET_MAX)
		return false;
	cs_len = p - cs;
	for (size_t k = cs; k < p; k++) {
		if (in[k] == '*') { /* RFC 2231 language suffix */
			cs_len = k - cs;
			break;
		}
	}
	p++;
	if (p + 1 >= len || in[p + 1] != '?')
		return false;
	if (in[p] == 'B' || in[p] == 'b')
		w->is_b = true;
	else if (in[p] == 'Q' || in[p] == 'q')
		w->is_b = false;
	else
		return false;
	p += 2;
	w->text_off = p;
	while (p < len && is_word_byte(in[p]))
		p++;
	if (p + 1 >= len || in[p] != '?' || in[p + 1] != '=')
		return false;
	w->text_len = p - w->text_off;
	w->end = p + 2;
	w->charset = charset_lookup(m, in + cs, cs_len);
	return true;
}

/* Strict base64: whole quanta, '=' padding only at the end. Appends to dst; false on error. */
static bool
b_decode(const uint8_t *s, size_t len, uint8_t *dst, size_t cap, size_t *dst_len)
{
	size_t o = *dst_len;

	if (len % 4 != 0)
		return false;
	for (size_t i = 0; i < len; i += 4) {
		unsigned v[4];
		size_t n_pad = 0;

		for (size_t k = 0; k < 4; k++) {
			if (s[i + k] == '=') {
				v[k] = 0;
				n_pad++;
			} else {
				if (n_pad != 0)
					return false; /* data after padding */
				v[k] = mime_b64_sextet(s[i + k]);
				if (v[k] >= 64)
					return false;
			}
		}
		if (n_pad > 2 || (n_pad != 0 && i + 4 != len))
			return false;
		uint32_t q = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
		size_t n = 3 - n_pad;

		if (cap - o < n)
			return false;
		for (size_t k = 0; k < n; k++)
			dst[o++] = (uint8_t)(q >> (16 - 8 * k));
	}
	*dst_len = o;
	return true;
}

/* RFC 2047 4.2 Q: "_" is 0x20, "=XX" a hex byte, other bytes literal. */
static bool
q_decode(const uint8_t *s, size_t len, uint8_t *dst, size_t cap, size_t *dst_len)
{
	size_t o = *dst_len;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];

		if (c == '=') {
			int hi, lo;

			if (len - i < 3 || (hi = ascii_hex_digit(s[i + 1])) < 0 ||
			    (lo = ascii_hex_digit(s[i + 2])) < 0)
				return false;
			c = (uint8_t)(hi << 4 | lo);
			i += 2;
		} else if (c == '_') {
			c = ' ';
		}
		if (o == cap)
			return false;
		dst[o++] = c;
	}
	*dst_len = o;
	return true;
}

static bool
word_payload(struct mime_words *m, const uint8_t *in, const struct mime_word *w,
	     size_t *raw_len)
{
	const uint8_t *t = in + w->text_off;

	if (w->is_b)
		return b_decode(t, w->text_len, m->raw, sizeof(m->raw), raw_len);
	return q_decode(t, w->text_len, m->raw, sizeof(m->raw), raw_len);
}

/* Convert m->raw[0..raw_len) from charset cs into m->conv; length or -1 when invalid. */
static long
convert(struct mime_words *m, int cs, size_t raw_len)
{
	iconv_t cd = m->cd[cs];
	char *ip = (char *)m->raw, *op = (char *)m->conv;
	size_t il = raw_len, ol = sizeof(m->conv);

	/* A previous run may have failed half-way: start from the initial shift state. */
	iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0)
		return -1;
	/* Stateful charsets (UTF-7) may hold bits until flushed. */
	if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
		return -1;
	return (long)(sizeof(m->conv) - ol);
}

/*
 * Decode the run of words starting at the word w (already parsed, known charset). On success
 * m->conv holds *conv_len bytes and *end is one past the last word used.
 */
static bool
run_decode(struct mime_words *m, const uint8_t *in, size_t len, const struct mime_word *w,
	   size_t *end, size_t *conv_len)
{
	size_t raw_len = 0, first_raw_len, run_end = w->end;
	unsigned n_words = 1;
	long n;

	if (!word_payload(m, in, w, &raw_len))
		return false;
	first_raw_len = raw_len;
	for (;;) {
		size_t p = run_end, saved = raw_len;
		struct mime_word next;

		while (p < len && is_lws(in[p]))
			p++;
		if (p == run_end || len - p < 2 || in[p] != '=' || in[p + 1] != '?' ||
		    !word_parse(m, in, len, p, &next) || next.charset != w->charset)
			break;
		if (!word_payload(m, in, &next, &raw_len)) {
			raw_len = saved;
			break;
		}
		run_end = next.end;
		n_words++;
	}
	n = convert(m, w->charset, raw_len);
	if (n < 0 && n_words > 1) {
		/* m->raw still starts with the first word's bytes */
		run_end = w->end;
		n = convert(m, w->charset, first_raw_len);
	}
	if (n < 0)
		return false;
	*end = run_end;
	*conv_len = (size_t)n;
	return true;
}

static void
out_put(struct mime_out *o, const uint8_t *p, size_t n)
{
	size_t room = o->cap - o->len;

	if (n > room) {
		n = room;
		o->truncated = true;
	}
	if (n != 0)
		memcpy(o->buf + o->len, p, n);
	o->len += n;
}

size_t
mime_words_decode(struct mime_words *m, const uint8_t *in, size_t len, uint8_t *out,
		  size_t cap, unsigned *n_bad, bool *truncated)
{
	struct mime_out o = { .buf = out, .cap = cap };
	unsigned bad = 0;
	size_t i = 0;
	/* Whitespace seen right after a decoded word: dropped if another decoded word follows. */
	size_t ws_off = 0, ws_len = 0;
	bool after_word = false;

	while (i < len && !o.truncated) {
		if (in[i] == '=' && len - i >= 2 && in[i + 1] == '?') {
			struct mime_word w;
			size_t end, conv_len;
			bool parsed = word_parse(m, in, len, i, &w);

			if (parsed && w.charset >= 0 &&
			    run_decode(m, in, len, &w, &end, &conv_len)) {
				ws_len = 0;
				out_put(&o, m->conv, conv_len);
				i = end;
				after_word = true;
				continue;
			}
			/*
			 * A well-formed word that does not decode is copied whole (its text may
			 * hold "=?", as in "YQ=?="); otherwise only the "=?" is, and a real word
			 * may start inside what followed it.
			 */
			end = parsed ? w.end : i + 2;
			bad++;
			out_put(&o, in + ws_off, ws_len);
			ws_len = 0;
			out_put(&o, in + i, end - i);
			i = end;
			after_word = false;
			continue;
		}
		if (after_word && is_lws(in[i])) {
			ws_off = i;
			while (i < len && is_lws(in[i]))
				i++;
			ws_len = i - ws_off;
			after_word = false;
			continue;
		}
		out_put(&o, in + ws_off, ws_len);
		ws_len = 0;
		out_put(&o, in + i, 1);
		i++;
		after_word = false;
	}
	out_put(&o, in + ws_off, ws_len);
	if (n_bad != NULL)
		*n_bad = bad;
	if (truncated != NULL)
		*truncated = o.truncated;
	return o.len;
}

long
mime_words_to_utf8(struct mime_words *m, const uint8_t *cs, size_t cs_len, const uint8_t *in,
		   size_t len, uint8_t *out, size_t cap)
{
	int c = charset_lookup(m, cs, cs_len);
	long n;

	if (c < 0 || len > sizeof(m->raw))
		return -1;
	memcpy(m->raw, in, len);
	n = convert(m, c, len);
	if (n < 0 || (size_t)n > cap)
		return -1;
	memcpy(out, m->conv, (size_t)n);
	return n;
}
