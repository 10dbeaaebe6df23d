/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the rule header sets (common/netset.c). The input is a variables
 * file, a NUL byte, and a field; without a NUL, the whole input is tried as both, with the
 * defaults. The field is compiled as addresses and as ports. A set that compiles must be
 * sorted, disjoint, non-adjacent, within NETSET_MAX_RANGES, hold its own bounds and not the
 * addresses or ports just outside them, and compile the same twice; when `![field]` compiles
 * too, it must be the exact complement. A failure must leave NULL/0, an offset within the
 * field and a NUL-terminated message. Anything else aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_err(int rc, const void *out, uint32_t n, size_t off, size_t len, const char *err,
	  size_t errlen)
{
	if ((rc != -EINVAL && rc != -ENOMEM) || out != NULL || n != 0 || off > len ||
	    memchr(err, '\0', errlen) == NULL || err[0] == '\0')
		abort();
}

/* a + 1 in 16-byte big-endian arithmetic; false when it wraps. */
static bool
ip_next(const uint8_t a[16], uint8_t out[16])
{
	memcpy(out, a, 16);
	for (int i = 15; i >= 0; i--)
		if (++out[i] != 0)
			return true;
	return false;
}

static bool
ip_prev(const uint8_t a[16], uint8_t out[16])
{
	memcpy(out, a, 16);
	for (int i = 15; i >= 0; i--)
		if (out[i]-- != 0)
			return true;
	return false;
}

static void
check_ip_set(const struct netset_ip_range *r, uint32_t n)
{
	uint8_t x[16];

	if (n == 0 || n > NETSET_MAX_RANGES)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		if (memcmp(r[i].lo, r[i].hi, 16) > 0)
			abort();
		if (i > 0 && (!ip_next(r[i - 1].hi, x) || memcmp(x, r[i].lo, 16) >= 0))
			abort();
		if (!netset_ip_contains(r, n, r[i].lo) || !netset_ip_contains(r, n, r[i].hi))
			abort();
		if (ip_prev(r[i].lo, x) && netset_ip_contains(r, n, x))
			abort();
		if (ip_next(r[i].hi, x) && netset_ip_contains(r, n, x))
			abort();
	}
}

static void
check_port_set(const struct netset_port_range *r, uint32_t n)
{
	if (n == 0 || n > NETSET_MAX_RANGES)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		if (r[i].lo > r[i].hi || (i > 0 && (uint32_t)r[i - 1].hi + 1 >= r[i].lo))
			abort();
		if (!netset_port_contains(r, n, r[i].lo) || !netset_port_contains(r, n, r[i].hi))
			abort();
		if (r[i].lo > 0 && netset_port_contains(r, n, (uint16_t)(r[i].lo - 1)))
			abort();
		if (r[i].hi < 65535 && netset_port_contains(r, n, (uint16_t)(r[i].hi + 1)))
			abort();
	}
}

/* `![spec]`, in a new buffer the caller frees. */
static char *
negated(const char *spec, size_t len)
{
	char *t = malloc(len + 3);

	if (t == NULL)
		abort();
	t[0] = '!';
	t[1] = '[';
	memcpy(t + 2, spec, len);
	t[len + 2] = ']';
	return t;
}

static void
fuzz_ip(const char *spec, size_t len, const struct netset_vars *v)
{
	struct netset_ip_range *r, *r2, *c;
	uint32_t n, n2, nc;
	size_t off;
	char err[512];
	int rc;

	memset(err, 'X', sizeof(err));
	rc = netset_ip_compile(spec, len, v, &r, &n, &off, err, sizeof(err));
	if (rc != 0) {
		check_err(rc, r, n, off, len, err, sizeof(err));
		return;
	}
	check_ip_set(r, n);
	if (netset_ip_compile(spec, len, v, &r2, &n2, &off, err, sizeof(err)) != 0 || n2 != n ||
	    memcmp(r, r2, n * sizeof(*r)) != 0)
		abort();
	free(r2);

	/* the complement, when it compiles, fills exactly the gaps */
	char *t = negated(spec, len);

	if (netset_ip_compile(t, len + 3, v, &c, &nc, &off, err, sizeof(err)) == 0) {
		uint32_t i = 0, j = 0;
		uint8_t x[16];
		bool have = true;

		/* walk the space: r and c must alternate, each starting right after the other */
		memset(x, 0, 16);
		while (have) {
			const struct netset_ip_range *cur;

			if (i < n && memcmp(r[i].lo, x, 16) == 0)
				cur = &r[i++];
			else if (j < nc && memcmp(c[j].lo, x, 16) == 0)
				cur = &c[j++];
			else
				abort();
			have = ip_next(cur->hi, x);
		}
		if (i != n || j != nc)
			abort();
		free(c);
	}
	free(t);
	free(r);
}

static void
fuzz_port(const char *spec, size_t len, const struct netset_vars *v)
{
	struct netset_port_range *r, *c;
	uint32_t n, nc;
	size_t off;
	char err[512];
	int rc;

	memset(err, 'X', sizeof(err));
	rc = netset_port_compile(spec, len, v, &r, &n, &off, err, sizeof(err));
	if (rc != 0) {
		check_err(rc, r, n, off, len, err, sizeof(err));
		return;
	}
	check_port_set(r, n);

	char *t = negated(spec, len);

	if (netset_port_compile(t, len + 3, v, &c, &nc, &off, err, sizeof(err)) == 0) {
		for (uint32_t p = 0; p < 65536; p++)
			if (netset_port_contains(r, n, (uint16_t)p) ==
			    netset_port_contains(c, nc, (uint16_t)p))
				abort();
		free(c);
	}
	free(t);
	free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t vlen = nul != NULL ? (size_t)(nul - text) : size;
	const char *spec = nul != NULL ? nul + 1 : text;
	size_t slen = nul != NULL ? size - vlen - 1 : size;
	struct netset_vars *v;
	char err[512];

	memset(err, 'X', sizeof(err));
	v = netset_vars_parse_buffer("fuzz.conf", text, vlen, err, sizeof(err));
	if (v == NULL) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		v = netset_vars_defaults();
		if (v == NULL)
			abort();
	} else {
		memset(err, 'X', sizeof(err));
		int rc = netset_vars_check(v, err, sizeof(err));

		if (rc != 0 && (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0'))
			abort();
	}
	fuzz_ip(spec, slen, v);
	fuzz_port(spec, slen, v);
	netset_vars_destroy(v);
	return 0;
}
