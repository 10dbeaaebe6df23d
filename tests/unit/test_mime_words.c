/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for dataplane/mime_words.c: B and Q words in several charsets (exact UTF-8 bytes),
 * whitespace between adjacent words, malformed words kept raw and counted, truncation at every
 * cap, and real subjects from the shared mail corpus checked against Python's
 * email.header.decode_header + make_header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mime_words.h"

static struct mime_words *mw;

static int
setup(void **state)
{
	(void)state;
	mw = mime_words_create();
	return mw == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	mime_words_destroy(mw);
	mw = NULL;
	return 0;
}

/*
 * Decode in (a C string) with a large buffer, then at every cap from 0 to the full length into
 * a heap buffer of exactly cap bytes (ASan catches an overrun), checking each result is a
 * prefix of the full one. Returns the number of bad words.
 */
static unsigned
check(const char *in, const char *want)
{
	size_t len = strlen(in), want_len = strlen(want);
	uint8_t full[4096];
	unsigned n_bad = 99, n_bad2;
	bool trunc = true;
	size_t n = mime_words_decode(mw, (const uint8_t *)in, len, full, sizeof(full), &n_bad,
				     &trunc);

	assert_false(trunc);
	assert_int_equal(n, want_len);
	assert_memory_equal(full, want, want_len);

	/* the same call again gives the same answer: no state leaks between calls */
	uint8_t again[4096];

	assert_int_equal(mime_words_decode(mw, (const uint8_t *)in, len, again, sizeof(again),
					   &n_bad2, NULL), n);
	assert_memory_equal(again, full, n);
	assert_int_equal(n_bad2, n_bad);

	for (size_t cap = 0; cap <= n; cap++) {
		uint8_t *buf = malloc(cap ? cap : 1);
		size_t got;

		assert_non_null(buf);
		got = mime_words_decode(mw, (const uint8_t *)in, len, cap ? buf : NULL, cap, NULL,
					&trunc);
		assert_true(got <= cap);
		assert_memory_equal(buf, full, got);
		if (cap < n) {
			assert_true(trunc);
			assert_int_equal(got, cap);
		} else {
			assert_false(trunc);
			assert_int_equal(got, n);
		}
		free(buf);
	}
	return n_bad;
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_int_equal(check("=?utf-8?B?w6k=?=", "\xc3\xa9"), 0);
	assert_int_equal(check("=?UTF-8?Q?caf=C3=A9?=", "caf\xc3\xa9"), 0);
	/* lower-case encodings, upper-case charset with hex in lower case */
	assert_int_equal(check("=?UTF-8?b?w6k=?=", "\xc3\xa9"), 0);
	assert_int_equal(check("=?Utf-8?q?caf=c3=a9?=", "caf\xc3\xa9"), 0);
}

static void
test_iso_8859_1(void **state)
{
	(void)state;
	assert_int_equal(check("=?iso-8859-1?q?caf=E9_au_lait?=", "caf\xc3\xa9 au lait"), 0);
	assert_int_equal(check("=?ISO-8859-1?B?6Q==?=", "\xc3\xa9"), 0);
}

static void
test_gb2312(void **state)
{
	(void)state;
	assert_int_equal(check("=?gb2312?B?1tDOxA==?=", "\xe4\xb8\xad\xe6\x96\x87"), 0);
	assert_int_equal(check("=?GB2312?Q?=D6=D0=CE=C4?=", "\xe4\xb8\xad\xe6\x96\x87"), 0);
}

static void
test_iso_2022_jp(void **state)
{
	(void)state;
	assert_int_equal(check("=?iso-2022-jp?B?GyRCJEskWyRzGyhC?=",
			       "\xe3\x81\xab\xe3\x81\xbb\xe3\x82\x93"), 0);
	assert_int_equal(check("=?ISO-2022-JP?Q?=1B$B$K$[$s=1B(B?=",
			       "\xe3\x81\xab\xe3\x81\xbb\xe3\x82\x93"), 0);
}

static void
test_windows_1251(void **state)
{
	(void)state;
	const char *want = "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82";

	assert_int_equal(check("=?windows-1251?B?z/Do4uXy?=", want), 0);
	assert_int_equal(check("=?WINDOWS-1251?Q?=CF=F0=E8=E2=E5=F2?=", want), 0);
}

static void
test_utf16(void **state)
{
	(void)state;
	/* BOM FE FF then U+041F U+0440 */
	assert_int_equal(check("=?utf-16?B?/v8EHwRA?=", "\xd0\x9f\xd1\x80"), 0);
	assert_int_equal(check("=?utf-16le?Q?=1F=04?=", "\xd0\x9f"), 0);
	assert_int_equal(check("=?utf-16be?B?BB8EQA==?=", "\xd0\x9f\xd1\x80"), 0);
	/* a descriptor left mid-state by a failed word must not leak into the next call */
	assert_int_equal(check("=?utf-16?B?//4=?=", ""), 0);
	assert_int_equal(check("=?utf-16?B?/v8EHwRA?=", "\xd0\x9f\xd1\x80"), 0);
}

static void
test_adjacent_words_joined(void **state)
{
	(void)state;
	assert_int_equal(check("=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"), 0);
	assert_int_equal(check("=?utf-8?Q?a?=\t \t=?iso-8859-1?Q?b?=", "ab"), 0);
	assert_int_equal(check("=?utf-8?Q?a?=\r\n =?utf-8?B?Yg==?=", "ab"), 0);
	/* a character split across two words of the same charset */
	assert_int_equal(check("=?utf-8?Q?x=C3?= =?utf-8?Q?=A9y?=", "x\xc3\xa9y"), 0);
	/* RFC 2231 language suffix ignored, words still joined */
	assert_int_equal(check("=?iso-8859-2*sl?Q?Doma=e8e?=  =?utf-8*sl?Q?_omre=C5?=     "
			       "=?Utf-8*SL?q?=BEje?=",
			       "Doma\xc4\x8d" "e omre\xc5\xbe" "je"), 0);
}

static void
test_word_next_to_text_keeps_space(void **state)
{
	(void)state;
	assert_int_equal(check("Re: =?utf-8?Q?caf=C3=A9?= ok", "Re: caf\xc3\xa9 ok"), 0);
	assert_int_equal(check("=?utf-8?Q?a?= b =?utf-8?Q?c?=", "a b c"), 0);
	assert_int_equal(check("=?utf-8?Q?a?= ", "a "), 0);
	/* a word right against text is still decoded */
	assert_int_equal(check("x=?utf-8?Q?a?=y", "xay"), 0);
}

static void
test_underscore_in_q(void **state)
{
	(void)state;
	assert_int_equal(check("=?utf-8?Q?a_b__c=5F?=", "a b  c_"), 0);
	/* in B, '_' is not base64 */
	assert_int_equal(check("=?utf-8?B?a_b_?=", "=?utf-8?B?a_b_?="), 1);
}

static void
test_malformed_kept_raw(void **state)
{
	(void)state;
	const char *cases[] = {
		"=?utf-8?Q?abc",              /* missing ?= */
		"=?utf-8?Q?abc?",
		"=?utf-8?B?YQ=?=",            /* bad padding */
		"=?utf-8?B?YQ?=",             /* missing padding */
		"=?utf-8?B?Y===?=",
		"=?utf-8?B?YQ==YQ==?=",       /* data after padding */
		"=?x-foo?Q?abc?=",            /* unknown charset */
		"=?utf-8?X?abc?=",            /* unknown encoding */
		"=?utf-8?Q?a=4?=",            /* short Q escape */
		"=?utf-8?Q?a=GG?=",
		"=?utf-8?Q?a b?=",            /* space in encoded text */
		"=??Q?abc?=",                 /* empty charset */
		"=?utf-8?Q?=FF?=",            /* invalid UTF-8 */
		"=?us-ascii?Q?=E9?=",         /* 8-bit in us-ascii */
		"=?utf-8?Q?=C3?=",            /* truncated sequence */
		"=?",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (check(cases[i], cases[i]) != 1)
			fail_msg("%s", cases[i]);
	/* whitespace after a bad word is kept; the good word after it decodes */
	assert_int_equal(check("=?x-foo?Q?a?= =?utf-8?Q?b?=", "=?x-foo?Q?a?= b"), 1);
	/* a bad word between good ones keeps the spaces around it */
	assert_int_equal(check("=?utf-8?Q?a?= =?utf-8?Q?=FF?= =?utf-8?Q?c?=",
			       "a =?utf-8?Q?=FF?= c"), 1);
	/* a run that fails as a whole still decodes its good first word */
	assert_int_equal(check("=?utf-8?Q?a?= =?utf-8?Q?=FF?=", "a =?utf-8?Q?=FF?="), 1);
	/* "=?" inside garbage, then a real word */
	assert_int_equal(check("=?=?utf-8?Q?a?=", "=?a"), 1);
	/* empty encoded text is a valid, empty word */
	assert_int_equal(check("x =?utf-8?Q?\?= y", "x  y"), 0);
}

static void
test_raw_8bit_copied(void **state)
{
	(void)state;
	assert_int_equal(check("caf\xe9 \xff =?utf-8?Q?ok?=", "caf\xe9 \xff ok"), 0);
	/* embedded NUL: strlen-free path */
	const uint8_t in[] = { 'a', 0, 0xfe, '=', '?' };
	uint8_t out[8];
	unsigned n_bad;
	bool trunc;

	assert_int_equal(mime_words_decode(mw, in, sizeof(in), out, sizeof(out), &n_bad, &trunc),
			 sizeof(in));
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(n_bad, 1);
	assert_false(trunc);
}

static void
test_long_word(void **state)
{
	(void)state;
	/* a Q word of MIME_WORDS_RUN_MAX + 1 decoded bytes is kept raw; one byte less decodes */
	size_t body = MIME_WORDS_RUN_MAX + 1;
	char *in = malloc(body + 16);
	uint8_t *out = malloc(body + 16);
	unsigned n_bad;
	bool trunc;

	assert_non_null(in);
	assert_non_null(out);
	memcpy(in, "=?utf-8?Q?", 10);
	memset(in + 10, 'a', body);
	memcpy(in + 10 + body, "?=", 2);
	assert_int_equal(mime_words_decode(mw, (uint8_t *)in, body + 12, out, body + 16, &n_bad,
					   &trunc), body + 12);
	assert_int_equal(n_bad, 1);
	memcpy(in + 10 + body - 1, "?=", 2);
	assert_int_equal(mime_words_decode(mw, (uint8_t *)in, body + 11, out, body + 16, &n_bad,
					   &trunc), body - 1);
	assert_int_equal(n_bad, 0);
	free(in);
	free(out);
}

/*
 * Real Subject values (unfolded) from the shared data set (shared/data/emails, beside the
 * repository); the expected bytes are what Python 3's str(make_header(decode_header(subject)))
 * gives, encoded as UTF-8.
 */
static const struct {
	const char *file;
	const char *in;
	const char *want;
} real_subjects[] = {
	{ "spam/rspamd__spam.eml",
		"=?windows-1251?B?wPPk6O797fbo6uvu7+Xk6Ogg5Ov/IOTl8uXp?=\x09=?windows-1251?B?IC0g"
		"4uXr6Oru6+Xv7eD/IOru6+vl6vbo/yDi?=\x09=?windows-1251?B?IO7y6+j37e7sIOrg9+Xx8uLlL"
		"iAwOF8wMV8y?=\x09=?windows-1251?B?MDE5IDAyXzEwIDI1MTU2NA==?=",
		"\xd0\x90\xd1\x83\xd0\xb4\xd0\xb8\xd0\xbe\xd1\x8d\xd0\xbd\xd1\x86\xd0\xb8\xd0\xba"
		"\xd0\xbb\xd0\xbe\xd0\xbf\xd0\xb5\xd0\xb4\xd0\xb8\xd0\xb8 \xd0\xb4\xd0\xbb\xd1"
		"\x8f \xd0\xb4\xd0\xb5\xd1\x82\xd0\xb5\xd0\xb9 - \xd0\xb2\xd0\xb5\xd0\xbb\xd0\xb8"
		"\xd0\xba\xd0\xbe\xd0\xbb\xd0\xb5\xd0\xbf\xd0\xbd\xd0\xb0\xd1\x8f \xd0\xba\xd0"
		"\xbe\xd0\xbb\xd0\xbb\xd0\xb5\xd0\xba\xd1\x86\xd0\xb8\xd1\x8f \xd0\xb2 \xd0\xbe"
		"\xd1\x82\xd0\xbb\xd0\xb8\xd1\x87\xd0\xbd\xd0\xbe\xd0\xbc \xd0\xba\xd0\xb0\xd1"
		"\x87\xd0\xb5\xd1\x81\xd1\x82\xd0\xb2\xd0\xb5. 08_01_2019 02_10 251564" },
	{ "spam/spamscope-mail-parser__mail_test_12.eml",
		"=?GB2312?B?tPq/qrj3tdjU9ta1y7C3osax?=",
		"\xe4\xbb\xa3\xe5\xbc\x80\xe5\x90\x84\xe5\x9c\xb0\xe5\xa2\x9e\xe5\x80\xbc\xe7\xa8"
		"\x8e\xe5\x8f\x91\xe7\xa5\xa8" },
	{ "mime-edge/spamassassin__nice__unicode2.eml",
		"=?UTF-8?B?44CQ6YeN6KaB6KiK5oGv44CR5Y+w6Zu7MTA15bm0?=\x09 =?UTF-8?B?M+aciOmbu+iyu"
		"++8jOWnlOiol+mHkeiejeapn+ani+aJow==?= =?UTF-8?B?57mz5oiQ5Yqf6Zu75a2Q57mz6LK75oaR"
		"6K2JKOmbu+iZnw==?= =?UTF-8?B?MDc0ODc2MTY3MzAp?=",
		"\xe3\x80\x90\xe9\x87\x8d\xe8\xa6\x81\xe8\xa8\x8a\xe6\x81\xaf\xe3\x80\x91\xe5\x8f"
		"\xb0\xe9\x9b\xbb" "105\xe5\xb9\xb4" "3\xe6\x9c\x88\xe9\x9b\xbb\xe8\xb2\xbb\xef"
		"\xbc\x8c\xe5\xa7\x94\xe8\xa8\x97\xe9\x87\x91\xe8\x9e\x8d\xe6\xa9\x9f\xe6\xa7\x8b"
		"\xe6\x89\xa3\xe7\xb9\xb3\xe6\x88\x90\xe5\x8a\x9f\xe9\x9b\xbb\xe5\xad\x90\xe7\xb9"
		"\xb3\xe8\xb2\xbb\xe6\x86\x91\xe8\xad\x89(\xe9\x9b\xbb\xe8\x99\x9f" "07487616730)" },
	{ "mime-edge/stalwart-mail-parser__legacy__001.eml",
		"=?utf-7?Q?Die_Hasen_und_die_Fr+APY-sche_=28Microsoft_Outlook_00=29?=",
		"Die Hasen und die Fr\xc3\xb6sche (Microsoft Outlook 00)" },
	{ "marketing/unspy-email__newsletter2go__examples__2023-01-02-schoepflin.u1.eml",
		"=?UTF-8?Q?Sch=C3=B6pflins_Schaufenster_01/2022?=",
		"Sch\xc3\xb6pflins Schaufenster 01/2022" },
};

static void
test_real_subjects(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(real_subjects) / sizeof(real_subjects[0]); i++) {
		print_message("%s\n", real_subjects[i].file);
		assert_int_equal(check(real_subjects[i].in, real_subjects[i].want), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_iso_8859_1),
		cmocka_unit_test(test_gb2312),
		cmocka_unit_test(test_iso_2022_jp),
		cmocka_unit_test(test_windows_1251),
		cmocka_unit_test(test_utf16),
		cmocka_unit_test(test_adjacent_words_joined),
		cmocka_unit_test(test_word_next_to_text_keeps_space),
		cmocka_unit_test(test_underscore_in_q),
		cmocka_unit_test(test_malformed_kept_raw),
		cmocka_unit_test(test_raw_8bit_copied),
		cmocka_unit_test(test_long_word),
		cmocka_unit_test(test_real_subjects),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
