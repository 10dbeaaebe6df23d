/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the rule header address and port sets (common/netset.c): tables of fields
 * with the exact ranges they compile to (IPv4, IPv6, netmasks, ranges, negated lists,
 * variables using variables), errors with their offsets and messages, the variables file,
 * every limit, every prefix of the inputs (no crash, sane error), and randomized fields
 * checked against a brute-force model: over 10.0.0.0/24 plus one point standing for every
 * other IPv4 address and one for every IPv6 address (atoms stay inside the /24, so those
 * points represent their classes exactly), and over all 65536 ports. NETSET_SEED=<n>
 * replays a run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "netset.h"
#include "test_tmpdir.h"

#define MAX6 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

static char err[2048];

static struct netset_vars *
vars_str(const char *text)
{
	struct netset_vars *v = netset_vars_parse_buffer("v.conf", text, strlen(text), err,
							 sizeof(err));

	if (v == NULL)
		fail_msg("vars: %s", err);
	return v;
}

/* IPv4 (as ::ffff:a.b.c.d) or IPv6 text to 16 bytes. */
static void
addr(const char *s, uint8_t out[16])
{
	uint8_t v4[4];

	if (inet_pton(AF_INET, s, v4) == 1) {
		netset_ip_from_v4(v4, out);
		return;
	}
	if (inet_pton(AF_INET6, s, out) != 1)
		fail_msg("bad test address '%s'", s);
}

static void
fmt_ip(const uint8_t a[16], char *out, size_t size)
{
	static const uint8_t v4pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (memcmp(a, v4pfx, 12) == 0)
		inet_ntop(AF_INET, a + 12, out, (socklen_t)size);
	else
		inet_ntop(AF_INET6, a, out, (socklen_t)size);
}

/* The ranges as "lo-hi lo-hi", a range of one as "a", for messages and comparisons. */
static void
fmt_ip_ranges(const struct netset_ip_range *r, uint32_t n, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < n && o + 100 < size; i++) {
		char lo[64], hi[64];

		fmt_ip(r[i].lo, lo, sizeof(lo));
		fmt_ip(r[i].hi, hi, sizeof(hi));
		if (memcmp(r[i].lo, r[i].hi, 16) == 0)
			o += (size_t)snprintf(out + o, size - o, "%s%s", i ? " " : "", lo);
		else
			o += (size_t)snprintf(out + o, size - o, "%s%s-%s", i ? " " : "", lo, hi);
	}
}

static void
fmt_port_ranges(const struct netset_port_range *r, uint32_t n, char *out, size_t size)
{
	size_t o = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < n && o + 20 < size; i++) {
		if (r[i].lo == r[i].hi)
			o += (size_t)snprintf(out + o, size - o, "%s%u", i ? " " : "", r[i].lo);
		else
			o += (size_t)snprintf(out + o, size - o, "%s%u-%u", i ? " " : "", r[i].lo,
					      r[i].hi);
	}
}

/* Sorted, disjoint and not adjacent: what netset.h promises. */
static void
check_ip_normal(const struct netset_ip_range *r, uint32_t n)
{
	assert_true(n >= 1 && n <= NETSET_MAX_RANGES);
	for (uint32_t i = 0; i < n; i++) {
		assert_true(memcmp(r[i].lo, r[i].hi, 16) <= 0);
		if (i > 0) {
			uint8_t next[16];

			/* previous hi + 1 must be below this lo */
			memcpy(next, r[i - 1].hi, 16);
			for (int k = 15; k >= 0 && ++next[k] == 0; k--)
				;
			assert_true(memcmp(next, r[i].lo, 16) < 0);
		}
	}
}

static void
check_port_normal(const struct netset_port_range *r, uint32_t n)
{
	assert_true(n >= 1 && n <= NETSET_MAX_RANGES);
	for (uint32_t i = 0; i < n; i++) {
		assert_true(r[i].lo <= r[i].hi);
		if (i > 0)
			assert_true((uint32_t)r[i - 1].hi + 1 < r[i].lo);
	}
}

static void
expect_ip(const struct netset_vars *v, const char *spec, const char *want)
{
	struct netset_ip_range *r;
	uint32_t n;
	size_t off = 99;
	char got[8192];
	int rc = netset_ip_compile(spec, strlen(spec), v, &r, &n, &off, err, sizeof(err));

	if (rc != 0)
		fail_msg("'%s': error at %zu: %s", spec, off, err);
	check_ip_normal(r, n);
	fmt_ip_ranges(r, n, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("'%s': got '%s', want '%s'", spec, got, want);
	free(r);
}

static void
expect_ip_err(const struct netset_vars *v, const char *spec, size_t want_off, const char *want)
{
	struct netset_ip_range *r = (void *)1;
	uint32_t n = 7;
	size_t off = 9999;
	int rc = netset_ip_compile(spec, strlen(spec), v, &r, &n, &off, err, sizeof(err));

	if (rc != -EINVAL)
		fail_msg("'%s': rc %d, want -EINVAL", spec, rc);
	assert_null(r);
	assert_int_equal(n, 0);
	if (strcmp(err, want) != 0 || off != want_off)
		fail_msg("'%s': got %zu '%s', want %zu '%s'", spec, off, err, want_off, want);
}

static void
expect_port(const struct netset_vars *v, const char *spec, const char *want)
{
	struct netset_port_range *r;
	uint32_t n;
	size_t off = 99;
	char got[8192];
	int rc = netset_port_compile(spec, strlen(spec), v, &r, &n, &off, err, sizeof(err));

	if (rc != 0)
		fail_msg("'%s': error at %zu: %s", spec, off, err);
	check_port_normal(r, n);
	fmt_port_ranges(r, n, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("'%s': got '%s', want '%s'", spec, got, want);
	free(r);
}

static void
expect_port_err(const struct netset_vars *v, const char *spec, size_t want_off,
		const char *want)
{
	struct netset_port_range *r = (void *)1;
	uint32_t n = 7;
	size_t off = 9999;
	int rc = netset_port_compile(spec, strlen(spec), v, &r, &n, &off, err, sizeof(err));

	if (rc != -EINVAL)
		fail_msg("'%s': rc %d, want -EINVAL", spec, rc);
	assert_null(r);
	assert_int_equal(n, 0);
	if (strcmp(err, want) != 0 || off != want_off)
		fail_msg("'%s': got %zu '%s', want %zu '%s'", spec, off, err, want_off, want);
}

static void
expect_vars_err(const char *text, const char *want)
{
	struct netset_vars *v = netset_vars_parse_buffer("v.conf", text, strlen(text), err,
							 sizeof(err));

	if (v != NULL) {
		netset_vars_destroy(v);
		fail_msg("'%s': parsed, want '%s'", text, want);
	}
	assert_int_equal(errno, EINVAL);
	if (strcmp(err, want) != 0)
		fail_msg("'%s': got '%s', want '%s'", text, err, want);
}

/* ---------------------------------------------------------------- tables */

static const char test_vars[] =
	"# the test network\n"
	"NET = [10.0.0.0/24, !10.0.0.128/25]\n"
	"V6 = 2001:db8::/32\n"
	"BOTH = [$NET, $V6]\n"
	"NOT_NET = !$NET\n"
	"OUT_OR_HOST = [$NOT_NET, 10.0.0.5]\n"
	"WEB = [80, 443, 8000:8080]\n"
	"NOT_WEB = !$WEB\n"
	"BAD_ADDR = [10.0.0.1, 10.0.0.300]\n"
	"BAD_USE = [$NET, $BAD_ADDR]\n"
	"LOOP_A = [$LOOP_B]\n"
	"LOOP_B = $LOOP_C\n"
	"LOOP_C = [1.2.3.4, $LOOP_A]\n"
	"SELF = $SELF\n"
	"EMPTY_SET = [10.0.0.1, !10.0.0.1]\n";

static void
test_ip_table(void **state)
{
	(void)state;
	static const struct {
		const char *spec, *want;
	} cases[] = {
		{ "any", "::-" MAX6 },
		{ "ANY", "::-" MAX6 },
		{ "1.2.3.4", "1.2.3.4" },
		{ "  1.2.3.4\t", "1.2.3.4" },
		{ "0.0.0.0", "0.0.0.0" },
		{ "255.255.255.255", "255.255.255.255" },
		{ "1.2.3.0/24", "1.2.3.0-1.2.3.255" },
		{ "1.2.3.77/24", "1.2.3.0-1.2.3.255" },      /* host bits masked, as Suricata */
		{ "1.2.3.4/32", "1.2.3.4" },
		{ "1.2.3.4/0", "0.0.0.0-255.255.255.255" },
		{ "0.0.0.0/0", "0.0.0.0-255.255.255.255" },
		{ "1.2.3.4/255.255.255.0", "1.2.3.0-1.2.3.255" },
		{ "1.2.3.4/255.255.255.255", "1.2.3.4" },
		{ "1.2.3.4/0.0.0.0", "0.0.0.0-255.255.255.255" },
		{ "1.2.3.4/255.255.240.0", "1.2.0.0-1.2.15.255" },
		{ "1.2.3.4-1.2.3.4", "1.2.3.4" },
		{ "1.2.3.250-1.2.4.5", "1.2.3.250-1.2.4.5" },
		{ "2001:db8::1", "2001:db8::1" },
		{ "2001:db8::/32", "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ "2001:db8::77/120", "2001:db8::-2001:db8::ff" },
		{ "2001:db8::1-2001:db8::5", "2001:db8::1-2001:db8::5" },
		{ "::1/128", "::1" },
		/* IPv6 elements leave the IPv4 block alone unless they lie inside it */
		{ "::/0", "::-::fffe:ffff:ffff ::1:0:0:0-" MAX6 },
		{ "::/64", "::-::fffe:ffff:ffff ::1:0:0:0-::ffff:ffff:ffff:ffff" },
		{ "::ffff:1.2.3.4", "1.2.3.4" },
		{ "::ffff:0:0/96", "0.0.0.0-255.255.255.255" },
		{ "::ffff:1.2.3.0/120", "1.2.3.0-1.2.3.255" },
		{ "::fffe:ffff:ffff-::1:0:0:0", "::fffe:ffff:ffff ::1:0:0:0" },
		{ "[0.0.0.0/0, ::/0]", "::-" MAX6 },
		/* lists: merged, sorted, adjacent ranges joined */
		{ "[1.2.3.4,1.2.3.5]", "1.2.3.4-1.2.3.5" },
		{ "[1.2.3.5, 1.2.3.4, 1.2.3.4]", "1.2.3.4-1.2.3.5" },
		{ "[1.2.3.0/25,1.2.3.128/25]", "1.2.3.0-1.2.3.255" },
		{ "[1.2.3.0/24, 1.2.3.200-1.2.4.10]", "1.2.3.0-1.2.4.10" },
		{ "[10.0.0.0/8, 1.2.3.4, 2001:db8::1]",
		  "1.2.3.4 10.0.0.0-10.255.255.255 2001:db8::1" },
		{ "1.2.3.4, 5.6.7.8", "1.2.3.4 5.6.7.8" },   /* a field is a list body */
		{ "[ 1.2.3.4 ,\t5.6.7.8 ]", "1.2.3.4 5.6.7.8" },
		{ "[[1.2.3.4],[[5.6.7.8]]]", "1.2.3.4 5.6.7.8" },
		{ "[[[[[[[[1.2.3.4]]]]]]]]", "1.2.3.4" },
		/* negation: the /24 but one host; only negations: everything but those */
		{ "[1.2.3.0/24,!1.2.3.4]", "1.2.3.0-1.2.3.3 1.2.3.5-1.2.3.255" },
		{ "[!1.2.3.4, 1.2.3.0/24]", "1.2.3.0-1.2.3.3 1.2.3.5-1.2.3.255" },
		{ "[1.2.3.0/24, ! 1.2.3.0/25]", "1.2.3.128-1.2.3.255" },
		{ "[1.2.3.0/24,!1.2.2.250-1.2.3.10]", "1.2.3.11-1.2.3.255" }, /* crosses the edge */
		{ "!1.2.3.4", "::-1.2.3.3 1.2.3.5-" MAX6 },
		{ "[!1.2.3.4,!1.2.3.6]",
		  "::-1.2.3.3 1.2.3.5 1.2.3.7-" MAX6 },
		{ "!0.0.0.0", "::-::fffe:ffff:ffff 0.0.0.1-" MAX6 },
		{ "!::/0", "0.0.0.0-255.255.255.255" },
		{ "![0.0.0.0/0]", "::-::fffe:ffff:ffff ::1:0:0:0-" MAX6 },
		{ "[any, !::/0]", "0.0.0.0-255.255.255.255" },
		{ "[any,!0.0.0.0/1,!128.0.0.0/1,!::/1]", "8000::-" MAX6 },
		/* a negated list is evaluated first, then removed */
		{ "![1.2.3.0/24,!1.2.3.4]",
		  "::-1.2.2.255 1.2.3.4 1.2.4.0-" MAX6 },
		{ "[1.0.0.0/8, ![1.2.3.0/24, !1.2.3.4]]",
		  "1.0.0.0-1.2.2.255 1.2.3.4 1.2.4.0-1.255.255.255" },
		{ "[1.0.0.0/8, ![!1.2.3.4]]", "1.2.3.4" },
		/* a nested list is a set of its own: its negations stay inside it */
		{ "[1.2.3.0/24, [!1.2.3.4]]", "::-" MAX6 },
		{ "[2001:db8::/32, !2001:db8::1-2001:db8::2]",
		  "2001:db8:: 2001:db8::3-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" },
		/* variables */
		{ "$HOME_NET", "10.0.0.0-10.255.255.255 172.16.0.0-172.31.255.255 "
			       "192.168.0.0-192.168.255.255" },
		{ "$SMTP_SERVERS", "10.0.0.0-10.255.255.255 172.16.0.0-172.31.255.255 "
				   "192.168.0.0-192.168.255.255" },
		{ "$EXTERNAL_NET", "::-9.255.255.255 11.0.0.0-172.15.255.255 "
				   "172.32.0.0-192.167.255.255 "
				   "192.169.0.0-" MAX6 },
		{ "[$HOME_NET, !10.1.2.3]", "10.0.0.0-10.1.2.2 10.1.2.4-10.255.255.255 "
					    "172.16.0.0-172.31.255.255 "
					    "192.168.0.0-192.168.255.255" },
		{ "$NET", "10.0.0.0-10.0.0.127" },
		{ "$BOTH",
		  "10.0.0.0-10.0.0.127 2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ "!$BOTH", "::-9.255.255.255 10.0.0.128-2001:db7:ffff:ffff:ffff:ffff:ffff:ffff "
			    "2001:db9::-" MAX6 },
		{ "[$NOT_NET, !1.2.3.4]",
		  "::-1.2.3.3 1.2.3.5-9.255.255.255 10.0.0.128-" MAX6 },
		{ "$OUT_OR_HOST",
		  "::-9.255.255.255 10.0.0.5 10.0.0.128-" MAX6 },
		{ "[$NET, !$NET, 1.2.3.4]", "1.2.3.4" },
		{ "[$NET,!10.0.0.5]", "10.0.0.0-10.0.0.4 10.0.0.6-10.0.0.127" },
	};
	struct netset_vars *v = vars_str(test_vars);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_ip(v, cases[i].spec, cases[i].want);
	netset_vars_destroy(v);
}

static void
test_ip_errors(void **state)
{
	(void)state;
	static const struct {
		const char *spec;
		size_t off;
		const char *err;
	} cases[] = {
		{ "", 0, "missing value" },
		{ "   ", 3, "missing value" },
		{ "1.2.3.300", 0, "invalid address '1.2.3.300'" },
		{ "1.2.3", 0, "invalid address '1.2.3'" },
		{ "[1.2.3.4, 01.2.3.4]", 10, "invalid address '01.2.3.4'" },
		{ "1.2.3.4/33", 0, "prefix length in '1.2.3.4/33' is over 32" },
		{ "2001:db8::/129", 0, "prefix length in '2001:db8::/129' is over 128" },
		{ "1.2.3.4/", 0, "invalid address '1.2.3.4/'" },
		{ "1.2.3.4/-1", 0, "invalid address '1.2.3.4/-1'" },
		{ "1.2.3.4/0024", 0, "invalid address '1.2.3.4/0024'" },
		{ "1.2.3.4/255.0.255.0", 0, "netmask in '1.2.3.4/255.0.255.0' is not contiguous" },
		{ "1.2.3.4/0.0.0.255", 0, "netmask in '1.2.3.4/0.0.0.255' is not contiguous" },
		{ "2001:db8::/ffff::", 0, "invalid address '2001:db8::/ffff::'" },
		{ "1.2.3.9-1.2.3.1", 0, "range '1.2.3.9-1.2.3.1' ends before it starts" },
		{ "1.2.3.4-::1", 0, "range '1.2.3.4-::1' mixes IPv4 and IPv6" },
		{ "1.2.3.0/24-1.2.4.0", 0, "invalid address '1.2.3.0/24-1.2.4.0'" },
		{ "1.2.3.4-", 0, "invalid address '1.2.3.4-'" },
		{ "fe80::1%eth0", 0, "invalid address 'fe80::1%eth0'" },
		{ "host.example", 0, "invalid address 'host.example'" },
		{ "[1.2.3.4", 0, "missing ']'" },
		{ "[1.2.3.4, [5.6.7.8]", 0, "missing ']'" },
		{ "1.2.3.4]", 7, "unexpected ']'" },
		{ "[]", 0, "empty list" },
		{ "[ ]", 0, "empty list" },
		{ "[1.2.3.4,]", 9, "unexpected ']'" },
		{ "[,1.2.3.4]", 1, "unexpected ','" },
		{ "[1.2.3.4,,5.6.7.8]", 9, "unexpected ','" },
		{ "[1.2.3.4 5.6.7.8]", 9, "expected ',' or ']', found '5'" },
		{ "1.2.3.4 5.6.7.8", 8, "expected ',' or ']', found '5'" },
		{ "[1.2.3.4][5.6.7.8]", 9, "expected ',' or ']', found '['" },
		{ "!", 1, "missing value" },
		{ "!!1.2.3.4", 1, "'!' twice" },
		{ "! !1.2.3.4", 2, "'!' twice" },
		{ "[1.2.3.4,!]", 10, "unexpected ']'" },
		{ "1.2.3.4\x01", 0, "invalid address '1.2.3.4\\x01'" },
		{ "!any", 0, "'!any' matches nothing" },
		{ "[1.2.3.4, !any]", 10, "'!any' matches nothing" },
		{ "[1.2.3.4,!1.2.3.4]", 0, "matches no address" },
		{ "[1.2.3.0/24,!1.2.3.0/24,1.2.3.4]", 0, "matches no address" },
		{ "[1.2.3.0/24, !1.2.3.0/25, !1.2.3.128/25]", 0, "matches no address" },
		{ "!0.0.0.0/0, !::/0", 0, "matches no address" },
		{ "[1.2.3.4, [1.2.3.5, !1.2.3.5]]", 10, "matches no address" },
		/* Suricata: a negation that removes nothing is a mistake */
		{ "[10.0.0.0/8, !192.168.1.1]", 13,
		  "'!192.168.1.1' removes nothing from its list" },
		{ "[1.2.3.4, !::1]", 10, "'!::1' removes nothing from its list" },
		{ "[$NET, !10.0.0.200]", 7, "'!10.0.0.200' removes nothing from its list" },
		{ "[1.2.3.4, ![5.6.7.8, 9.9.9.9]]", 10,
		  "'![5.6.7.8, 9.9.9.9]' removes nothing from its list" },
		/* the first error in the text comes first, negated atoms included */
		{ "[!1.2.3.400, 1.2.3.x]", 2, "invalid address '1.2.3.400'" },
		/* variables */
		{ "$", 0, "invalid variable name '$'" },
		{ "$HOME-NET", 0, "invalid variable name '$HOME-NET'" },
		{ "$$HOME_NET", 0, "invalid variable name '$$HOME_NET'" },
		{ "[1.2.3.4, $NOPE]", 10, "unknown variable $NOPE" },
		{ "$home_net", 0, "unknown variable $home_net" },
		{ "[1.2.3.4, $BAD_ADDR]", 10,
		  "$BAD_ADDR: invalid address '10.0.0.300' (v.conf:9:23)" },
		{ "[1.2.3.4, !$BAD_USE]", 11,
		  "$BAD_USE -> $BAD_ADDR: invalid address '10.0.0.300' (v.conf:9:23)" },
		{ "$WEB", 0, "$WEB: invalid address '80' (v.conf:7:8)" },
		{ "$LOOP_A", 0, "$LOOP_A -> $LOOP_B -> $LOOP_C: variable cycle through $LOOP_A "
				"(v.conf:13:20)" },
		{ "[1.2.3.4, $LOOP_C]", 10, "$LOOP_C -> $LOOP_A -> $LOOP_B: variable cycle through "
					    "$LOOP_C (v.conf:12:10)" },
		{ "$SELF", 0, "$SELF: variable cycle through $SELF (v.conf:14:8)" },
		{ "$EMPTY_SET", 0, "$EMPTY_SET: matches no address (v.conf:15:13)" },
		{ "[$NET, !$NET]", 0, "matches no address" },
		{ "[$NET, 10.0.0.1, $SMTP_PORTS]", 17,
		  "$SMTP_PORTS: invalid address '25' (built-in:4:15)" },
	};
	struct netset_vars *v = vars_str(test_vars);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_ip_err(v, cases[i].spec, cases[i].off, cases[i].err);

	/* without a table every variable is unknown */
	expect_ip_err(NULL, "$HOME_NET", 0, "unknown variable $HOME_NET");
	expect_ip(NULL, "[1.2.3.4]", "1.2.3.4");

	/* len, not the NUL, ends the field */
	struct netset_ip_range *r;
	uint32_t n;
	size_t off;

	assert_int_equal(netset_ip_compile("1.2.3.4, junk", 7, v, &r, &n, &off, err, sizeof(err)),
			 0);
	assert_int_equal(n, 1);
	free(r);
	assert_int_equal(netset_ip_compile("1.2.3.4\0" "5", 9, v, &r, &n, &off, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(off, 0);
	assert_string_equal(err, "invalid address '1.2.3.4\\x005'");

	/* a short err buffer still gets a terminated message; none at all is fine */
	char small[8];

	assert_int_equal(netset_ip_compile("1.2.3.300", 9, v, &r, &n, &off, small, sizeof(small)),
			 -EINVAL);
	assert_string_equal(small, "invalid");
	assert_int_equal(netset_ip_compile("1.2.3.300", 9, v, &r, &n, &off, NULL, 0), -EINVAL);
	netset_vars_destroy(v);
}

static void
test_port_table(void **state)
{
	(void)state;
	static const struct {
		const char *spec, *want;
	} cases[] = {
		{ "any", "0-65535" },
		{ "Any", "0-65535" },
		{ "25", "25" },
		{ "0", "0" },
		{ "65535", "65535" },
		{ "00025", "25" },
		{ "1024:", "1024-65535" },
		{ ":1023", "0-1023" },
		{ "0:65535", "0-65535" },
		{ "80:80", "80" },
		{ "[25,465,587]", "25 465 587" },
		{ "[25, 26, 24]", "24-26" },
		{ "[1:10, 5:20, 22]", "1-20 22" },
		{ "[1:10, 11:20]", "1-20" },
		{ "!80", "0-79 81-65535" },
		{ "!0", "1-65535" },
		{ "!65535", "0-65534" },
		{ "!:1023", "1024-65535" },
		{ "[80:100,!90]", "80-89 91-100" },
		{ "[!25, !587]", "0-24 26-586 588-65535" },
		{ "[1:100, !50:60, !55:70, !100]", "1-49 71-99" },
		{ "![1:100, !50]", "0 50 101-65535" },
		{ "[1:100, [!50]]", "0-65535" },
		/* ports do not refuse a negation that removes nothing, as Suricata */
		{ "[25, !80]", "25" },
		{ "$SMTP_PORTS", "25 465 587" },
		{ "!$SMTP_PORTS", "0-24 26-464 466-586 588-65535" },
		{ "[$SMTP_PORTS, 2525]", "25 465 587 2525" },
		{ "$WEB", "80 443 8000-8080" },
		{ "$NOT_WEB", "0-79 81-442 444-7999 8081-65535" },
		{ "[$NOT_WEB, 443]", "0-79 81-7999 8081-65535" },
		{ "[$WEB, !8000:8079]", "80 443 8080" },
	};
	struct netset_vars *v = vars_str(test_vars);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_port(v, cases[i].spec, cases[i].want);
	netset_vars_destroy(v);
}

static void
test_port_errors(void **state)
{
	(void)state;
	static const struct {
		const char *spec;
		size_t off;
		const char *err;
	} cases[] = {
		{ "", 0, "missing value" },
		{ "65536", 0, "invalid port '65536'" },
		{ "123456", 0, "invalid port '123456'" },
		{ "-1", 0, "invalid port '-1'" },
		{ "+25", 0, "invalid port '+25'" },
		{ ":", 0, "invalid port ':'" },
		{ "1:2:3", 0, "invalid port '1:2:3'" },
		{ "80:!90", 0, "invalid port '80:!90'" },
		{ "100:90", 0, "port range '100:90' ends before it starts" },
		{ "[25, 1.2.3.4]", 5, "invalid port '1.2.3.4'" },
		{ "[25,]", 4, "unexpected ']'" },
		{ "[25", 0, "missing ']'" },
		{ "!any", 0, "'!any' matches nothing" },
		{ "!0:65535", 0, "matches no port" },
		{ "[!:100, !101:]", 0, "matches no port" },
		{ "[25, !25]", 0, "matches no port" },
		{ "[[[[[[[[[25]]]]]]]]]", 8, "lists nested deeper than 8" },
		{ "$NET", 0, "$NET: invalid port '10.0.0.0/24' (v.conf:2:8)" },
		{ "[25, $UNKNOWN]", 5, "unknown variable $UNKNOWN" },
	};
	struct netset_vars *v = vars_str(test_vars);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_port_err(v, cases[i].spec, cases[i].off, cases[i].err);
	netset_vars_destroy(v);
}

static void
test_contains(void **state)
{
	(void)state;
	struct netset_ip_range *r;
	struct netset_port_range *pr;
	uint32_t n;
	size_t off;
	uint8_t a[16];
	static const char spec[] = "[1.2.3.0/24, !1.2.3.4, 2001:db8::/126, ::]";
	static const struct {
		const char *ip;
		bool in;
	} probes[] = {
		{ "1.2.2.255", false }, { "1.2.3.0", true },    { "1.2.3.3", true },
		{ "1.2.3.4", false },   { "1.2.3.5", true },    { "1.2.3.255", true },
		{ "1.2.4.0", false },   { "0.0.0.0", false },   { "255.255.255.255", false },
		{ "::", true },         { "::1", false },       { "2001:db8::", true },
		{ "2001:db8::3", true }, { "2001:db8::4", false },
		{ MAX6, false },
		{ "::102:304", false }, /* 1.2.3.4 as an IPv4-compatible address, not mapped */
	};

	assert_int_equal(netset_ip_compile(spec, strlen(spec), NULL, &r, &n, &off, err,
					   sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		addr(probes[i].ip, a);
		if (netset_ip_contains(r, n, a) != probes[i].in)
			fail_msg("%s: want %d", probes[i].ip, probes[i].in);
	}
	free(r);

	/* the bytes a dataplane hands in for an IPv4 packet */
	static const uint8_t v4[4] = { 10, 9, 8, 7 };
	uint8_t m[16];

	netset_ip_from_v4(v4, m);
	addr("::ffff:10.9.8.7", a);
	assert_memory_equal(m, a, 16);

	/* any holds the extremes; an empty array holds nothing */
	assert_int_equal(netset_ip_compile("any", 3, NULL, &r, &n, &off, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	memset(a, 0, 16);
	assert_true(netset_ip_contains(r, n, a));
	memset(a, 0xff, 16);
	assert_true(netset_ip_contains(r, n, a));
	assert_false(netset_ip_contains(r, 0, a));
	free(r);

	assert_int_equal(netset_port_compile("[0, 2:3, 65535]", 15, NULL, &pr, &n, &off, err,
					     sizeof(err)), 0);
	assert_true(netset_port_contains(pr, n, 0));
	assert_false(netset_port_contains(pr, n, 1));
	assert_true(netset_port_contains(pr, n, 2));
	assert_true(netset_port_contains(pr, n, 3));
	assert_false(netset_port_contains(pr, n, 4));
	assert_false(netset_port_contains(pr, n, 65534));
	assert_true(netset_port_contains(pr, n, 65535));
	assert_false(netset_port_contains(pr, 0, 0));
	free(pr);
}

/* ---------------------------------------------------------------- variables file */

static void
test_vars_defaults(void **state)
{
	(void)state;
	struct netset_vars *v = netset_vars_defaults();

	assert_non_null(v);
	expect_ip(v, "$HOME_NET", "10.0.0.0-10.255.255.255 172.16.0.0-172.31.255.255 "
				  "192.168.0.0-192.168.255.255");
	expect_ip(v, "$SMTP_SERVERS", "10.0.0.0-10.255.255.255 172.16.0.0-172.31.255.255 "
				      "192.168.0.0-192.168.255.255");
	/* EXTERNAL_NET holds every IPv6 address too (see netset.h) */
	expect_ip(v, "[$EXTERNAL_NET, !0.0.0.0/0]",
		  "::-::fffe:ffff:ffff ::1:0:0:0-" MAX6);
	expect_port(v, "$SMTP_PORTS", "25 465 587");
	assert_int_equal(netset_vars_check(v, err, sizeof(err)), 0);
	netset_vars_destroy(v);
	netset_vars_destroy(NULL);
}

static void
test_vars_file(void **state)
{
	(void)state;
	struct netset_vars *v = vars_str(
		"# site variables\r\n"
		"\r\n"
		"   # indented comment\n"
		"HOME_NET = \"[10.20.0.0/16, 2001:db8::/48]\"  # copied from suricata.yaml\r\n"
		"\tSMTP_PORTS=[25,587]\n"
		"RELAYS = [ $MX , 10.20.0.9 ]\n"             /* MX is defined below */
		"MX = 10.20.0.25\n"
		"Mixed_Case_9 = 1.1.1.1   \n"
		"EMPTY_QUOTES_OK = \" 2.2.2.2 \"\n"
		"# no newline at the end\n"
		"LAST = 3.3.3.3");

	expect_ip(v, "$HOME_NET",
		  "10.20.0.0-10.20.255.255 2001:db8::-2001:db8:0:ffff:ffff:ffff:ffff:ffff");
	/* defaults that refer to an overridden variable follow it */
	expect_ip(v, "$SMTP_SERVERS",
		  "10.20.0.0-10.20.255.255 2001:db8::-2001:db8:0:ffff:ffff:ffff:ffff:ffff");
	expect_ip(v, "[$EXTERNAL_NET, !::/0]", "0.0.0.0-10.19.255.255 10.21.0.0-255.255.255.255");
	expect_port(v, "$SMTP_PORTS", "25 587");
	expect_ip(v, "$RELAYS", "10.20.0.9 10.20.0.25");
	expect_ip(v, "$Mixed_Case_9", "1.1.1.1");
	expect_ip(v, "$EMPTY_QUOTES_OK", "2.2.2.2");
	expect_ip(v, "$LAST", "3.3.3.3");
	expect_ip_err(v, "$mixed_case_9", 0, "unknown variable $mixed_case_9");
	assert_int_equal(netset_vars_check(v, err, sizeof(err)), 0);
	netset_vars_destroy(v);

	/* an empty file is the defaults */
	v = vars_str("");
	expect_port(v, "$SMTP_PORTS", "25 465 587");
	netset_vars_destroy(v);
}

static void
test_vars_file_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "HOME_NET\n", "v.conf:1:9: expected '=' after HOME_NET" },
		{ "HOME_NET: [1.2.3.4]\n", "v.conf:1:9: expected '=' after HOME_NET" },
		{ "HOME NET = 1.2.3.4\n", "v.conf:1:6: expected '=' after HOME" },
		{ "$HOME_NET = 1.2.3.4\n", "v.conf:1:1: write the variable name without '$'" },
		{ "= 1.2.3.4\n", "v.conf:1:1: expected a variable name, found '='" },
		{ "\n\n  HOME-NET = 1\n", "v.conf:3:7: expected '=' after HOME" },
		{ "A =\n", "v.conf:1:4: A has no value" },
		{ "A =   # nothing\n", "v.conf:1:7: A has no value" },
		{ "A = \"\"\n", "v.conf:1:6: A has no value" },
		{ "A = \"1.2.3.4\n", "v.conf:1:5: unterminated quote" },
		{ "A = \"\n", "v.conf:1:5: unterminated quote" },
		{ "A = 1.2.3.4\nB = 2.2.2.2\nA = 5.6.7.8\n",
		  "v.conf:3:1: duplicate variable A, first defined at line 1" },
		{ "HOME_NET = 1.1.1.1\nHOME_NET = 2.2.2.2\n",
		  "v.conf:2:1: duplicate variable HOME_NET, first defined at line 1" },
		{ "A = 1.2.3.4\x01\n", "v.conf:1:12: control byte 0x01 in value" },
		{ "A = 1.2.3.4\x7f\n", "v.conf:1:12: control byte 0x7f in value" },
		{ "A = 1.2\r3.4\n", "v.conf:1:8: control byte 0x0d in value" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_vars_err(cases[i].text, cases[i].err);

	/* a NUL anywhere in a line */
	struct netset_vars *v = netset_vars_parse_buffer("v.conf", "# a\nA = 1\0", 10, err,
							 sizeof(err));

	assert_null(v);
	assert_string_equal(err, "v.conf:2:6: NUL byte");
}

static void
test_vars_check(void **state)
{
	(void)state;
	struct netset_vars *v = vars_str(test_vars);

	/* values are checked where they are used; check() finds the first bad one */
	assert_int_equal(netset_vars_check(v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "v.conf:9:23: $BAD_ADDR: invalid address '10.0.0.300'");
	netset_vars_destroy(v);

	v = vars_str("OK = [1.2.3.4]\nP = [25, 80]\nA = $B\nB = [$A, 1.2.3.4]\n");
	assert_int_equal(netset_vars_check(v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "v.conf:4:6: $A -> $B: variable cycle through $A");
	netset_vars_destroy(v);

	/* the reading that got further is reported: this one is a port list gone wrong */
	v = vars_str("P = [25, 80, 70000]\n");
	assert_int_equal(netset_vars_check(v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "v.conf:1:14: $P: invalid port '70000'");
	netset_vars_destroy(v);

	/* overriding HOME_NET with any leaves the default EXTERNAL_NET empty */
	v = vars_str("HOME_NET = any\n");
	assert_int_equal(netset_vars_check(v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "built-in:2:16: $EXTERNAL_NET: matches no address");
	netset_vars_destroy(v);
	v = vars_str("HOME_NET = any\nEXTERNAL_NET = any\n");
	assert_int_equal(netset_vars_check(v, err, sizeof(err)), 0);
	netset_vars_destroy(v);
	assert_int_equal(netset_vars_check(NULL, err, sizeof(err)), 0);
}

static void
test_vars_load(void **state)
{
	(void)state;
	char dir[64], path[128];
	struct netset_vars *v;
	FILE *f;

	assert_int_equal(test_tmpdir_make(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/vars.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("HOME_NET = [10.9.0.0/16]\nBAD = 10.9.0.300\n", f);
	fclose(f);
	v = netset_vars_load(path, err, sizeof(err));
	assert_non_null(v);
	expect_ip(v, "$HOME_NET", "10.9.0.0-10.9.255.255");

	char want[256];

	/* an error inside a variable names the file it came from */
	snprintf(want, sizeof(want), "$BAD: invalid address '10.9.0.300' (%s:2:7)", path);
	expect_ip_err(v, "[1.1.1.1, $BAD]", 10, want);
	netset_vars_destroy(v);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("HOME_NET = [10.9.0.0/16]\n\nX Y\n", f);
	fclose(f);
	assert_null(netset_vars_load(path, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	snprintf(want, sizeof(want), "%s:3:3: expected '=' after X", path);
	assert_string_equal(err, want);

	/* the file size limit */
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < NETSET_VARS_FILE_MAX; i += 8)
		fputs("#######\n", f);
	fclose(f);
	v = netset_vars_load(path, err, sizeof(err));
	assert_non_null(v);
	netset_vars_destroy(v);
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("\n", f);
	fclose(f);
	assert_null(netset_vars_load(path, err, sizeof(err)));
	assert_int_equal(errno, EFBIG);
	snprintf(want, sizeof(want), "%s: larger than %u bytes", path, NETSET_VARS_FILE_MAX);
	assert_string_equal(err, want);

	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	assert_null(netset_vars_load(path, err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	assert_string_equal(err, want);

	assert_null(netset_vars_load(dir, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	test_tmpdir_remove(dir);

	/* the buffer form has the same limit */
	char *big = malloc(NETSET_VARS_FILE_MAX + 1);

	assert_non_null(big);
	memset(big, '\n', NETSET_VARS_FILE_MAX + 1);
	assert_null(netset_vars_parse_buffer("big.conf", big, NETSET_VARS_FILE_MAX + 1, err,
					     sizeof(err)));
	snprintf(want, sizeof(want), "big.conf: larger than %u bytes", NETSET_VARS_FILE_MAX);
	assert_string_equal(err, want);
	v = netset_vars_parse_buffer("big.conf", big, NETSET_VARS_FILE_MAX, err, sizeof(err));
	assert_non_null(v);
	netset_vars_destroy(v);
	free(big);
}

/* ---------------------------------------------------------------- limits */

/* A growing text buffer for building big inputs. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (b->len + (size_t)n < b->cap)
			break;
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	b->len += (size_t)n;
}

static void
test_limit_nesting(void **state)
{
	(void)state;
	/* 8 levels in a field, and 8 more inside a variable's value */
	struct netset_vars *v = vars_str("DEEP = [[[[[[[[1.2.3.4]]]]]]]]\n"
					 "TOO_DEEP = [[[[[[[[[1.2.3.4]]]]]]]]]\n");

	expect_ip(v, "[[[[[[[[1.2.3.4]]]]]]]]", "1.2.3.4");
	expect_ip(v, "[[[[[[[$DEEP]]]]]]]", "1.2.3.4");
	expect_ip_err(v, "[[[[[[[[[1.2.3.4]]]]]]]]]", 8, "lists nested deeper than 8");
	expect_ip_err(v, "[[[[[[[[![1.2.3.4]]]]]]]]]", 9, "lists nested deeper than 8");
	expect_ip_err(v, "[1.1.1.1, $TOO_DEEP]", 10,
		      "$TOO_DEEP: lists nested deeper than 8 (v.conf:2:20)");
	expect_port(v, "[[[[[[[[25]]]]]]]]", "25");
	netset_vars_destroy(v);
}

static void
test_limit_ranges(void **state)
{
	(void)state;
	struct sbuf b = { 0 };
	struct netset_vars *v;

	/* five variables of 1024 single hosts each (10.K.x.y, never adjacent) */
	for (int k = 0; k < 5; k++) {
		sb_add(&b, "H%d = [", k);
		for (int i = 0; i < 1024; i++)
			sb_add(&b, "%s10.%d.%d.%d", i ? "," : "", k, i / 128, (i % 128) * 2);
		sb_add(&b, "]\n");
	}
	/* and 4096 odd ports in two variables, so that their complement has 4097 ranges */
	for (int k = 0; k < 2; k++) {
		sb_add(&b, "P%d = [", k);
		for (int i = 0; i < NETSET_MAX_RANGES / 2; i++)
			sb_add(&b, "%s%d", i ? "," : "", (k * NETSET_MAX_RANGES / 2 + i) * 2 + 1);
		sb_add(&b, "]\n");
	}
	sb_add(&b, "PP = [$P0, $P1, 9999]\n");
	v = vars_str(b.p);

	struct netset_ip_range *r;
	uint32_t n;
	size_t off;
	static const char four[] = "[$H0,$H1,$H2,$H3]";
	/* 8192 raw ranges merge back to 4096 */
	static const char twice[] = "[$H0,$H1,$H2,$H3,$H3,$H2,$H1,$H0]";

	assert_int_equal(netset_ip_compile(four, strlen(four), v, &r, &n, &off, err, sizeof(err)),
			 0);
	assert_int_equal(n, NETSET_MAX_RANGES);
	check_ip_normal(r, n);
	free(r);
	assert_int_equal(netset_ip_compile(twice, strlen(twice), v, &r, &n, &off, err,
					   sizeof(err)), 0);
	assert_int_equal(n, NETSET_MAX_RANGES);
	free(r);
	expect_ip_err(v, "[1.1.1.1, [$H0,$H1,$H2,$H3,$H4]]", 10, "more than 4096 ranges");
	expect_ip_err(v, "[$H0,$H1,$H2,$H3,9.9.9.9]", 0, "more than 4096 ranges");
	/* a negation splitting everything into 4097 pieces */
	expect_ip_err(v, "![$H0,$H1,$H2,$H3]", 0, "more than 4096 ranges");
	expect_port(v, "[$P1, !1:8000]", "8001 8003 8005 8007 8009 8011 8013 8015 8017 8019 "
					  "8021 8023 8025 8027 8029 8031 8033 8035 8037 8039 "
					  "8041 8043 8045 8047 8049 8051 8053 8055 8057 8059 "
					  "8061 8063 8065 8067 8069 8071 8073 8075 8077 8079 "
					  "8081 8083 8085 8087 8089 8091 8093 8095 8097 8099 "
					  "8101 8103 8105 8107 8109 8111 8113 8115 8117 8119 "
					  "8121 8123 8125 8127 8129 8131 8133 8135 8137 8139 "
					  "8141 8143 8145 8147 8149 8151 8153 8155 8157 8159 "
					  "8161 8163 8165 8167 8169 8171 8173 8175 8177 8179 "
					  "8181 8183 8185 8187 8189 8191");
	expect_port_err(v, "$PP", 0, "$PP: more than 4096 ranges (v.conf:8:6)");
	expect_port_err(v, "![$P0, $P1]", 0, "more than 4096 ranges");

	struct netset_port_range *pr;

	assert_int_equal(netset_port_compile("[$P0,$P1]", 9, v, &pr, &n, &off, err, sizeof(err)),
			 0);
	assert_int_equal(n, NETSET_MAX_RANGES);
	free(pr);
	netset_vars_destroy(v);
	free(b.p);
}

static void
test_limit_var_depth(void **state)
{
	(void)state;
	struct sbuf b = { 0 };
	struct netset_vars *v;

	sb_add(&b, "V0 = 1.2.3.4\n");
	for (int i = 1; i <= NETSET_MAX_VAR_DEPTH; i++)
		sb_add(&b, "V%d = [$V%d]\n", i, i - 1);
	v = vars_str(b.p);
	expect_ip(v, "$V15", "1.2.3.4");       /* V15 .. V0: 16 variables deep */
	expect_ip_err(v, "[$V16]", 1,
		      "$V16 -> $V15 -> $V14 -> $V13 -> $V12 -> $V11 -> $V10 -> $V9 -> $V8 -> "
		      "$V7 -> $V6 -> $V5 -> $V4 -> $V3 -> $V2 -> $V1: variables nested deeper "
		      "than 16 (v.conf:2:7)");
	netset_vars_destroy(v);
	free(b.p);
}

static void
test_limit_expansion(void **state)
{
	(void)state;
	struct sbuf b = { 0 };
	struct netset_vars *v;

	/* D0 is 8000 bytes; each D(k) uses D(k-1) twice: D7 reads 128 * 8000 bytes */
	sb_add(&b, "D0 = [1.2.3.4%7985s]\n", "");
	for (int i = 1; i <= 8; i++)
		sb_add(&b, "D%d = [$D%d, $D%d]\n", i, i - 1, i - 1);
	v = vars_str(b.p);
	expect_ip(v, "$D7", "1.2.3.4");
	/* found at the second $D0 of some D1, deep down the second half */
	expect_ip_err(v, "[1.1.1.1, $D8]", 10,
		      "$D8 -> $D7 -> $D6 -> $D5 -> $D4 -> $D3 -> $D2 -> $D1: variables expand to "
		      "more than 1048576 bytes (v.conf:2:12)");
	netset_vars_destroy(v);
	free(b.p);
}

static void
test_limit_text(void **state)
{
	(void)state;
	struct sbuf b = { 0 };
	struct netset_vars *v;
	char *spec = malloc(NETSET_TEXT_MAX + 1);

	/* a field: NETSET_TEXT_MAX bytes is fine, one more is not */
	assert_non_null(spec);
	memset(spec, ' ', NETSET_TEXT_MAX + 1);
	memcpy(spec, "1.2.3.4", 7);
	expect_ip_err(NULL, "", 0, "missing value");

	struct netset_ip_range *r;
	uint32_t n;
	size_t off;

	assert_int_equal(netset_ip_compile(spec, NETSET_TEXT_MAX, NULL, &r, &n, &off, err,
					   sizeof(err)), 0);
	free(r);
	assert_int_equal(netset_ip_compile(spec, NETSET_TEXT_MAX + 1, NULL, &r, &n, &off, err,
					   sizeof(err)), -EINVAL);
	assert_int_equal(off, NETSET_TEXT_MAX);
	assert_string_equal(err, "longer than 16384 bytes");
	free(spec);

	/* a value */
	sb_add(&b, "A = [1.2.3.4%*s]\n", NETSET_TEXT_MAX - 9, "");
	v = vars_str(b.p);
	expect_ip(v, "$A", "1.2.3.4");
	netset_vars_destroy(v);
	b.len = 0;
	sb_add(&b, "A = [1.2.3.4%*s]\n", NETSET_TEXT_MAX - 8, "");
	expect_vars_err(b.p, "v.conf:1:5: value longer than 16384 bytes");

	/* a name: 64 bytes, in the file and in a field */
	char name[NETSET_NAME_MAX + 2], text[256], ref[256];

	memset(name, 'N', sizeof(name));
	name[NETSET_NAME_MAX] = '\0';
	snprintf(text, sizeof(text), "%s = 1.2.3.4\n", name);
	v = vars_str(text);
	snprintf(ref, sizeof(ref), "$%s", name);
	expect_ip(v, ref, "1.2.3.4");
	name[NETSET_NAME_MAX] = 'N';
	name[NETSET_NAME_MAX + 1] = '\0';
	snprintf(ref, sizeof(ref), "[1.2.3.4, $%s]", name);
	snprintf(text, sizeof(text), "invalid variable name '$%.55s...'", name);
	expect_ip_err(v, ref, 10, text);
	netset_vars_destroy(v);
	snprintf(text, sizeof(text), "%s = 1.2.3.4\n", name);
	expect_vars_err(text, "v.conf:1:1: variable name longer than 64 bytes");
	free(b.p);
}

static void
test_limit_var_count(void **state)
{
	(void)state;
	struct sbuf b = { 0 };
	struct netset_vars *v;
	int defaults = 4;

	/* the defaults count: 1020 more fill the table; overriding one costs nothing */
	sb_add(&b, "HOME_NET = 10.0.0.0/8\n");
	for (int i = 0; i < NETSET_VARS_MAX - defaults; i++)
		sb_add(&b, "X%d = 10.0.%d.%d\n", i, i / 256, i % 256);
	v = vars_str(b.p);
	expect_ip(v, "[$X0, $X1019]", "10.0.0.0 10.0.3.251");
	netset_vars_destroy(v);
	sb_add(&b, "ONE_MORE = 1.1.1.1\n");
	expect_vars_err(b.p, "v.conf:1022:1: more than 1024 variables");
	free(b.p);
}

/* ---------------------------------------------------------------- every prefix */

static void
test_prefixes(void **state)
{
	(void)state;
	static const char *const specs[] = {
		"[1.2.3.0/24, !1.2.3.4, 2001:db8::1-2001:db8::5, $HOME_NET, "
		"![5.5.5.5/255.255.255.0]]",
		"[25, 465:587, !500, $SMTP_PORTS, ![1:3, !2]]",
		"$EXTERNAL_NET",
	};
	struct netset_vars *v = netset_vars_defaults();

	assert_non_null(v);
	for (size_t k = 0; k < sizeof(specs) / sizeof(specs[0]); k++) {
		size_t len = strlen(specs[k]);

		for (size_t cut = 0; cut <= len; cut++) {
			struct netset_ip_range *r;
			struct netset_port_range *pr;
			uint32_t n;
			size_t off;
			int rc;

			/* a copy of exactly cut bytes, so ASan sees any read past the end */
			char *t = malloc(cut + 1);

			assert_non_null(t);
			memcpy(t, specs[k], cut);
			err[0] = '\0';
			rc = netset_ip_compile(t, cut, v, &r, &n, &off, err, sizeof(err));
			if (rc == 0) {
				check_ip_normal(r, n);
				free(r);
			} else {
				assert_int_equal(rc, -EINVAL);
				assert_true(off <= cut);
				assert_true(err[0] != '\0');
			}
			rc = netset_port_compile(t, cut, v, &pr, &n, &off, err, sizeof(err));
			if (rc == 0) {
				check_port_normal(pr, n);
				free(pr);
			} else {
				assert_int_equal(rc, -EINVAL);
				assert_true(off <= cut);
				assert_true(err[0] != '\0');
			}
			free(t);
		}
	}
	netset_vars_destroy(v);

	size_t len = strlen(test_vars);

	for (size_t cut = 0; cut <= len; cut++) {
		char *t = malloc(cut + 1);

		assert_non_null(t);
		memcpy(t, test_vars, cut);
		v = netset_vars_parse_buffer("v.conf", t, cut, err, sizeof(err));
		if (v != NULL) {
			(void)netset_vars_check(v, err, sizeof(err));
			netset_vars_destroy(v);
		} else {
			assert_true(strncmp(err, "v.conf:", 7) == 0);
		}
		free(t);
	}
}

/* ---------------------------------------------------------------- property tests */

static uint64_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	/* xorshift64*: reproducible from NETSET_SEED */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32) % n;
}

static void
seed_rng(void)
{
	const char *s = getenv("NETSET_SEED");

	rng_state = s != NULL ? strtoull(s, NULL, 0) : 0x5eed2024ull;
	if (rng_state == 0)
		rng_state = 1;
	print_message("netset property seed %llu\n", (unsigned long long)rng_state);
}

/*
 * The model of an address set: bits 0..255 are 10.0.0.0/24, bit 256 every other IPv4
 * address, bit 257 every IPv6 address. Ports: one bit per port.
 */
#define IP_POINTS 258
#define IP_WORDS ((IP_POINTS + 63) / 64)
#define PORT_WORDS (65536 / 64)
#define MODEL_VARS 4

struct model {
	bool port;
	int words;
	uint64_t *var_bits[MODEL_VARS];   /* NULL: the variable is an error */
	int n_vars;                       /* variables defined so far (usable) */
};

static void
bits_set(uint64_t *b, uint32_t i)
{
	b[i / 64] |= 1ull << (i % 64);
}

static bool
bits_get(const uint64_t *b, uint32_t i)
{
	return (b[i / 64] >> (i % 64)) & 1;
}

static bool
bits_empty(const uint64_t *b, int words)
{
	for (int i = 0; i < words; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void
bits_all(struct model *m, uint64_t *b)
{
	memset(b, 0, (size_t)m->words * 8);
	for (uint32_t i = 0; i < (m->port ? 65536u : IP_POINTS); i++)
		bits_set(b, i);
}

/* One random atom: its text appended to t, its set in b. false: an atom that is an error. */
static bool
gen_atom(struct model *m, struct sbuf *t, uint64_t *b)
{
	memset(b, 0, (size_t)m->words * 8);
	if (rnd(12) == 0) {
		sb_add(t, rnd(2) ? "any" : "ANY");
		bits_all(m, b);
		return true;
	}
	if (m->n_vars > 0 && rnd(6) == 0) {
		int k = (int)rnd((uint32_t)m->n_vars);

		sb_add(t, "$V%d", k);
		if (m->var_bits[k] == NULL)
			return false;
		memcpy(b, m->var_bits[k], (size_t)m->words * 8);
		return true;
	}
	if (m->port) {
		static const uint32_t edge[] = { 0,  1,  2,    24,    25,   26,
						 80, 1023, 1024, 65534, 65535 };
		uint32_t lo = rnd(3) ? edge[rnd(11)] : rnd(65536);
		uint32_t hi = rnd(3) ? edge[rnd(11)] : rnd(65536);

		if (lo > hi) {
			uint32_t x = lo;

			lo = hi;
			hi = x;
		}
		switch (rnd(4)) {
		case 0:
			sb_add(t, "%u", lo);
			hi = lo;
			break;
		case 1:
			sb_add(t, "%u:%u", lo, hi);
			break;
		case 2:
			sb_add(t, "%u:", lo);
			hi = 65535;
			break;
		default:
			sb_add(t, ":%u", hi);
			lo = 0;
			break;
		}
		for (uint32_t p = lo; p <= hi; p++)
			bits_set(b, p);
		return true;
	}
	switch (rnd(7)) {
	case 0: {
		uint32_t h = rnd(256);

		sb_add(t, rnd(2) ? "10.0.0.%u" : "::ffff:10.0.0.%u", h);
		bits_set(b, h);
		return true;
	}
	case 1: {
		uint32_t h = rnd(256), plen = 24 + rnd(9);
		uint32_t mask = plen == 32 ? 0xff : (0xffu << (32 - plen)) & 0xff;

		if (rnd(2))
			sb_add(t, "10.0.0.%u/%u", h, plen);
		else
			sb_add(t, "10.0.0.%u/255.255.255.%u", h, mask);
		for (uint32_t j = 0; j < 256; j++)
			if ((j & mask) == (h & mask))
				bits_set(b, j);
		return true;
	}
	case 2: {
		uint32_t a = rnd(256), z = rnd(256);

		if (a > z) {
			uint32_t x = a;

			a = z;
			z = x;
		}
		sb_add(t, "10.0.0.%u-10.0.0.%u", a, z);
		for (uint32_t j = a; j <= z; j++)
			bits_set(b, j);
		return true;
	}
	case 3: {
		/* an IPv4-mapped prefix within the /24, written as IPv6 */
		uint32_t plen = 120 + rnd(9), h = rnd(256);
		uint32_t mask = plen == 128 ? 0xff : (0xffu << (128 - plen)) & 0xff;

		sb_add(t, "::ffff:10.0.0.%u/%u", h, plen);
		for (uint32_t j = 0; j < 256; j++)
			if ((j & mask) == (h & mask))
				bits_set(b, j);
		return true;
	}
	case 4:
		sb_add(t, "0.0.0.0/0");
		for (uint32_t j = 0; j <= 256; j++)
			bits_set(b, j);
		return true;
	case 5:
		sb_add(t, rnd(2) ? "::/0" : "::-" MAX6);
		bits_set(b, 257);
		return true;
	default: {
		uint32_t h = rnd(256);

		sb_add(t, "10.0.0.%u", h);
		bits_set(b, h);
		return true;
	}
	}
}

static void
blanks(struct sbuf *t)
{
	if (rnd(4) == 0)
		sb_add(t, rnd(2) ? " " : "\t ");
}

/*
 * A random list body of 1..4 elements: text appended to t, its model set in b; false when
 * the field must be refused (an error anywhere, an empty result, an address negation that
 * removes nothing, '!any').
 */
static bool
gen_body(struct model *m, struct sbuf *t, uint64_t *b, int depth)
{
	int n = 1 + (int)rnd(4);
	uint64_t pos[PORT_WORDS], neg[PORT_WORDS], el[PORT_WORDS];
	bool ok = true, any_pos = false;
	uint64_t negs_ip[4][IP_WORDS];
	int n_negs = 0;

	memset(pos, 0, (size_t)m->words * 8);
	memset(neg, 0, (size_t)m->words * 8);
	for (int i = 0; i < n; i++) {
		bool negated = rnd(3) == 0, el_ok;
		size_t at;

		if (i > 0)
			sb_add(t, ",");
		blanks(t);
		if (negated) {
			sb_add(t, "!");
			blanks(t);
		}
		at = t->len;
		if (depth < 3 && rnd(4) == 0) {
			sb_add(t, "[");
			blanks(t);
			el_ok = gen_body(m, t, el, depth + 1);
			blanks(t);
			sb_add(t, "]");
		} else {
			el_ok = gen_atom(m, t, el);
			if (negated && t->len - at == 3 && strncasecmp(t->p + at, "any", 3) == 0)
				el_ok = false;
		}
		blanks(t);
		ok &= el_ok;
		if (!el_ok)
			continue;
		for (int w = 0; w < m->words; w++) {
			if (negated)
				neg[w] |= el[w];
			else
				pos[w] |= el[w];
		}
		any_pos |= !negated;
		if (negated && !m->port)
			memcpy(negs_ip[n_negs++], el, sizeof(negs_ip[0]));
	}
	if (!ok)
		return false;
	if (!any_pos)
		bits_all(m, pos);
	for (int k = 0; k < n_negs; k++) {
		bool meets = false;

		for (int w = 0; w < m->words; w++)
			meets |= (negs_ip[k][w] & pos[w]) != 0;
		if (!meets)
			return false;
	}
	for (int w = 0; w < m->words; w++)
		b[w] = pos[w] & ~neg[w];
	return !bits_empty(b, m->words);
}

static const char *const v4_other[] = { "0.0.0.0",	   "9.255.255.255", "10.0.1.0",
					"10.255.255.255", "192.168.1.1",   "255.255.255.255" };
static const char *const v6_any[] = { "::",	    "::1",	    "::fffe:ffff:ffff",
				      "::1:0:0:0", "2001:db8::1", MAX6 };

/* The compiled ports against the model, port by port. */
static void
property_check_ports(const char *spec, const char *vars, const struct netset_port_range *r,
		     uint32_t n, const uint64_t *want)
{
	check_port_normal(r, n);
	for (uint32_t p = 0; p < 65536; p++)
		if (netset_port_contains(r, n, (uint16_t)p) != bits_get(want, p))
			fail_msg("ports '%s' with\n%s: port %u", spec, vars, p);
}

/* The compiled addresses against the model: the /24, and a few of every other class. */
static void
property_check_ips(const char *spec, const char *vars, const struct netset_ip_range *r,
		   uint32_t n, const uint64_t *want)
{
	uint8_t a[16];
	char s4[32];

	check_ip_normal(r, n);
	for (uint32_t j = 0; j < 256; j++) {
		snprintf(s4, sizeof(s4), "10.0.0.%u", j);
		addr(s4, a);
		if (netset_ip_contains(r, n, a) != bits_get(want, j))
			fail_msg("'%s' with\n%s: %s", spec, vars, s4);
	}
	for (size_t j = 0; j < sizeof(v4_other) / sizeof(v4_other[0]); j++) {
		addr(v4_other[j], a);
		if (netset_ip_contains(r, n, a) != bits_get(want, 256))
			fail_msg("'%s' with\n%s: %s", spec, vars, v4_other[j]);
	}
	for (size_t j = 0; j < sizeof(v6_any) / sizeof(v6_any[0]); j++) {
		addr(v6_any[j], a);
		if (netset_ip_contains(r, n, a) != bits_get(want, 257))
			fail_msg("'%s' with\n%s: %s", spec, vars, v6_any[j]);
	}
}

/* One random field: compiled, and compared with the model. true when it compiled. */
static bool
property_one(struct model *m, const struct netset_vars *v, const char *vars)
{
	uint64_t want[PORT_WORDS];
	struct sbuf spec = { 0 };
	size_t off;
	uint32_t n;
	bool ok;
	int rc;

	sb_add(&spec, "%s", "");
	ok = gen_body(m, &spec, want, 0);
	if (m->port) {
		struct netset_port_range *r;

		rc = netset_port_compile(spec.p, spec.len, v, &r, &n, &off, err, sizeof(err));
		if ((rc == 0) != ok)
			fail_msg("ports '%s' with\n%s: rc %d (%s), model %d", spec.p, vars, rc, err,
				 ok);
		if (rc == 0) {
			property_check_ports(spec.p, vars, r, n, want);
			free(r);
		}
	} else {
		struct netset_ip_range *r;

		rc = netset_ip_compile(spec.p, spec.len, v, &r, &n, &off, err, sizeof(err));
		if ((rc == 0) != ok)
			fail_msg("addresses '%s' with\n%s: rc %d (%s), model %d", spec.p, vars, rc,
				 err, ok);
		if (rc == 0) {
			property_check_ips(spec.p, vars, r, n, want);
			free(r);
		}
	}
	if (rc != 0)
		assert_true(off <= spec.len);
	free(spec.p);
	return rc == 0;
}

static void
property_run(bool port, int rounds)
{
	struct model m = { .port = port, .words = port ? PORT_WORDS : IP_WORDS };
	int n_ok = 0, n_err = 0;

	for (int round = 0; round < rounds; round++) {
		struct sbuf vars = { 0 };
		struct netset_vars *v;

		/* a few variables, each using only earlier ones */
		m.n_vars = 0;
		sb_add(&vars, "# round %d\n", round);
		for (int k = 0; k < MODEL_VARS; k++) {
			struct sbuf val = { 0 };
			uint64_t *vb = malloc(PORT_WORDS * sizeof(uint64_t));

			assert_non_null(vb);
			sb_add(&val, "%s", "");
			if (!gen_body(&m, &val, vb, 0)) {
				free(vb);
				vb = NULL;
			}
			m.var_bits[k] = vb;
			sb_add(&vars, "V%d = %s\n", k, val.p);
			m.n_vars++;
			free(val.p);
		}
		v = vars_str(vars.p);
		for (int s = 0; s < 20; s++) {
			if (property_one(&m, v, vars.p))
				n_ok++;
			else
				n_err++;
		}
		netset_vars_destroy(v);
		for (int k = 0; k < MODEL_VARS; k++)
			free(m.var_bits[k]);
		free(vars.p);
	}
	/* both outcomes must be well represented, or the test proves little */
	print_message("%s: %d compiled, %d refused\n", port ? "ports" : "addresses", n_ok, n_err);
	assert_true(n_ok > rounds * 4);
	assert_true(n_err > rounds * 2);
}

static void
test_property_ip(void **state)
{
	(void)state;
	seed_rng();
	property_run(false, 400);
}

static void
test_property_port(void **state)
{
	(void)state;
	seed_rng();
	property_run(true, 60);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_table),
		cmocka_unit_test(test_ip_errors),
		cmocka_unit_test(test_port_table),
		cmocka_unit_test(test_port_errors),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_vars_defaults),
		cmocka_unit_test(test_vars_file),
		cmocka_unit_test(test_vars_file_errors),
		cmocka_unit_test(test_vars_check),
		cmocka_unit_test(test_vars_load),
		cmocka_unit_test(test_limit_nesting),
		cmocka_unit_test(test_limit_ranges),
		cmocka_unit_test(test_limit_var_depth),
		cmocka_unit_test(test_limit_expansion),
		cmocka_unit_test(test_limit_text),
		cmocka_unit_test(test_limit_var_count),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_property_ip),
		cmocka_unit_test(test_property_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
