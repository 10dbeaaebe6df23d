/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcap_link: the link type of classic pcap files in both byte orders and time resolutions,
 * and of pcapng files (the first interface description, after other blocks), mapped to the
 * decoder's links; unknown link types, other files and short files are clear errors. Real
 * captures from tests/pcap/real are read too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pcap_link.h"
#include "test_tmpdir.h"

static char dir[64];

static const char *
write_file(const void *bytes, size_t len)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cap", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	fclose(f);
	return path;
}

static void
put32(uint8_t *p, uint32_t v, bool be)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(be ? v >> (24 - 8 * i) : v >> (8 * i));
}

static int
link_of_pcap(uint32_t magic, bool be, uint32_t dlt, enum decode_link *out)
{
	uint8_t h[24] = { 0 };
	char err[256];

	put32(h, magic, be);
	put32(h + 20, dlt, be);
	return pcap_link_type(write_file(h, sizeof(h)), out, err, sizeof(err));
}

static void
test_classic_pcap(void **state)
{
	enum decode_link l;

	(void)state;
	for (int be = 0; be < 2; be++) {
		assert_int_equal(link_of_pcap(0xa1b2c3d4, be, 1, &l), 0);
		assert_int_equal(l, DECODE_LINK_ETHERNET);
		assert_int_equal(link_of_pcap(0xa1b23c4d, be, 0, &l), 0);
		assert_int_equal(l, DECODE_LINK_NULL);
		assert_int_equal(link_of_pcap(0xa1b2c3d4, be, 108, &l), 0);
		assert_int_equal(l, DECODE_LINK_NULL);
		assert_int_equal(link_of_pcap(0xa1b2c3d4, be, 101, &l), 0);
		assert_int_equal(l, DECODE_LINK_RAW);
		assert_int_equal(link_of_pcap(0xa1b2c3d4, be, 113, &l), 0);
		assert_int_equal(l, DECODE_LINK_SLL);
		/* FCS flags in the upper bits do not change the link type */
		assert_int_equal(link_of_pcap(0xa1b2c3d4, be, 0x10000001, &l), 0);
		assert_int_equal(l, DECODE_LINK_ETHERNET);
		/* 802.11 radiotap: not ours, and said so */
		assert_int_equal(link_of_pcap(0xa1b2c3d4, be, 127, &l), -ENOTSUP);
	}
}

/* pcapng: SHB, then a block that is not an IDB, then the IDB. */
static void
test_pcapng(void **state)
{
	uint8_t f[28 + 16 + 20];
	enum decode_link l;
	char err[256];

	(void)state;
	for (int be = 0; be < 2; be++) {
		memset(f, 0, sizeof(f));
		put32(f, 0x0a0d0d0a, be);
		put32(f + 4, 28, be);
		put32(f + 8, 0x1a2b3c4d, be);
		put32(f + 24, 28, be);
		put32(f + 28, 0x00000bad, be);  /* some other block */
		put32(f + 32, 16, be);
		put32(f + 40, 16, be);
		put32(f + 44, 1, be);           /* IDB */
		put32(f + 48, 20, be);
		f[52 + (be ? 1 : 0)] = 113;     /* link type, 16 bits */
		put32(f + 60, 20, be);
		assert_int_equal(pcap_link_type(write_file(f, sizeof(f)), &l, err, sizeof(err)), 0);
		assert_int_equal(l, DECODE_LINK_SLL);
	}
}

static void
test_errors(void **state)
{
	enum decode_link l;
	char err[256];
	uint8_t junk[64];

	(void)state;
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(pcap_link_type(write_file(junk, sizeof(junk)), &l, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a pcap or pcapng capture"));
	assert_int_equal(pcap_link_type(write_file("\xd4\xc3\xb2\xa1", 4), &l, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(pcap_link_type("/nonexistent/x.pcap", &l, err, sizeof(err)), -ENOENT);
	assert_int_equal(link_of_pcap(0xa1b2c3d4, false, 127, &l), -ENOTSUP);
}

/* Captures written by others: Ethernet pcap and pcapng. */
static void
test_real_captures(void **state)
{
	const char *root = getenv("POSTERN_SOURCE_ROOT");
	static const char *const files[] = {
		"tests/pcap/real/zeek-smtp.pcap",
		"tests/pcap/real/zeek-bdat-cmd-invalid.pcapng",
	};
	char path[512], err[256];
	enum decode_link l;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root != NULL ? root : ".", files[i]);
		assert_int_equal(pcap_link_type(path, &l, err, sizeof(err)), 0);
		assert_int_equal(l, DECODE_LINK_ETHERNET);
	}
}

static int
setup(void **state)
{
	(void)state;
	return test_tmpdir_make(dir, sizeof(dir));
}

static int
teardown(void **state)
{
	(void)state;
	test_tmpdir_remove(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classic_pcap),
		cmocka_unit_test(test_pcapng),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_real_captures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
