/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of addr_norm: what an address becomes (brackets, spaces, domain case, IDNA,
 * optional local-part folding, +tag stripping and Gmail dot folding), what is refused and
 * with which errno, the length and buffer bounds, and the SHA-256 keys against known digests
 * (Python hashlib).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "addr_norm.h"

/* Normalize s (with explicit length, so NUL bytes can be tested) and compare. */
static void
check_norm_len(const char *s, size_t len, unsigned flags, int want_rc, const char *want)
{
	char out[ADDR_NORM_CAP];
	int rc;

	memset(out, 'X', sizeof(out));
	rc = addr_normalize(slice_make(s, len), flags, out, sizeof(out));
	assert_int_equal(rc, want_rc);
	if (want != NULL) {
		assert_int_equal(strlen(out), (size_t)rc);
		assert_string_equal(out, want);
	} else {
		assert_string_equal(out, ""); /* nothing half-written */
	}
}

static void
check_norm(const char *s, unsigned flags, int want_rc, const char *want)
{
	check_norm_len(s, strlen(s), flags, want_rc, want);
}

static void
ok(const char *s, unsigned flags, const char *want)
{
	check_norm(s, flags, (int)strlen(want), want);
}

static void
test_basic(void **state)
{
	(void)state;
	ok("Alice@Example.COM", 0, "Alice@example.com");
	ok("  <Alice@Example.COM>  ", 0, "Alice@example.com");
	ok("\t< Alice@Example.COM >\r\n", 0, "Alice@example.com");
	ok("a@b", 0, "a@b");
	/* The DNS root dot names the same domain. */
	ok("a@b.example.", 0, "a@b.example");
	/* Address literals: kept, lowercased. */
	ok("a@[192.0.2.1]", 0, "a@[192.0.2.1]");
	ok("a@[IPv6:2001:DB8::1]", 0, "a@[ipv6:2001:db8::1]");
}

static void
test_flags(void **state)
{
	(void)state;
	ok("Alice+News@Example.com", 0, "Alice+News@example.com");
	ok("Alice+News@Example.com", ADDR_NORM_LOWER_LOCAL, "alice+news@example.com");
	ok("Alice+News@Example.com", ADDR_NORM_STRIP_TAG, "Alice@example.com");
	ok("Alice+News+x@Example.com", ADDR_NORM_FLAGS_ALL, "alice@example.com");
	/* Nothing before the '+': kept whole rather than emptied. */
	ok("+tag@x.org", ADDR_NORM_STRIP_TAG, "+tag@x.org");
	/* Quoted local parts are opaque to tag stripping. */
	ok("\"a+b\"@x.org", ADDR_NORM_STRIP_TAG, "\"a+b\"@x.org");
	/* Lowercasing touches ASCII letters only; UTF-8 local parts (SMTPUTF8) are kept. */
	ok("J\xc3\x96RA@x.org", ADDR_NORM_LOWER_LOCAL, "j\xc3\x96ra@x.org");
	ok("J\xc3\x96RA@x.org", 0, "J\xc3\x96RA@x.org");
	check_norm("a@b", 1u << 7, -EINVAL, NULL);
}

static void
test_quoted(void **state)
{
	(void)state;
	ok("\"john doe\"@Example.com", 0, "\"john doe\"@example.com");
	ok("\"a\\\"b\"@x.org", 0, "\"a\\\"b\"@x.org");
	/* An '@' inside quotes is not the separator. */
	ok("\"a@b\"@X.org", 0, "\"a@b\"@x.org");
	check_norm("\"john\"x@y.org", 0, -EINVAL, NULL);
	check_norm("\"unterminated@x.org", 0, -EINVAL, NULL);
	check_norm("\"\"@x.org", 0, -EINVAL, NULL);
	check_norm("\"a\\", 0, -EINVAL, NULL);
	check_norm("\"a\x01\"@x.org", 0, -EINVAL, NULL);
}

static void
test_rejects(void **state)
{
	static const char *const bad[] = {
		"", "   ", "<>", "< >", "noat", "@x.org", "a@", "a@b@c", "a b@c.org",
		"a@b c.org", "a\x01@b.org", "a@b\x7f.org", "<a@b.org", "a@b.org>",
		"Name <a@b.org>", "a@b.org, c@d.org", "a@.b.org", "a@b..org", "a@b.org..",
		"a@.", "a@[1.2.3.4", "a@[]", "a@[1.2[3]", "a(comment)@b.org", "a@b;org",
		"<<a@b.org>>",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_norm(bad[i], 0, -EINVAL, NULL);
	/* A NUL byte in the middle of a slice is a control byte, not an end. */
	check_norm_len("a\0b@c.org", 9, 0, -EINVAL, NULL);
	check_norm_len("ab@c.org\0", 9, 0, -EINVAL, NULL);
}

static void
test_lengths(void **state)
{
	char in[600];
	char out[ADDR_NORM_CAP];

	(void)state;
	/* 64 + 1 + 189 = 254: the longest accepted. */
	memset(in, 'l', 64);
	in[64] = '@';
	memset(in + 65, 'd', 185);
	memcpy(in + 250, ".org", 5);
	assert_int_equal(strlen(in), 254);
	assert_int_equal(addr_normalize(slice_from_cstr(in), 0, out, sizeof(out)), 254);
	/* Exactly fitting buffer, then one byte short. */
	assert_int_equal(addr_normalize(slice_from_cstr(in), 0, out, 255), 254);
	assert_int_equal(addr_normalize(slice_from_cstr(in), 0, out, 254), -ENOBUFS);
	assert_int_equal(addr_normalize(slice_from_cstr(in), 0, out, 0), -ENOBUFS);
	/* 255 bytes. */
	memmove(in + 1, in, 255);
	assert_int_equal(addr_normalize(slice_from_cstr(in), 0, out, sizeof(out)),
			 -ENAMETOOLONG);
	/* Spaces and brackets around do not count. */
	char wrapped[700];

	in[0] = 'l';
	memmove(in, in + 1, 255); /* back to 254 */
	snprintf(wrapped, sizeof(wrapped), "   <%s>   ", in);
	assert_int_equal(addr_normalize(slice_from_cstr(wrapped), 0, out, sizeof(out)), 254);
	/* Much longer input. */
	memset(in, 'a', 599);
	in[599] = '\0';
	in[10] = '@';
	assert_int_equal(addr_normalize(slice_from_cstr(in), 0, out, sizeof(out)),
			 -ENAMETOOLONG);
	/* Domains: 253 bytes at most. */
	char dom[300];

	memset(dom, 'd', 254);
	dom[254] = '\0';
	assert_int_equal(addr_domain(slice_from_cstr(dom), out, sizeof(out)), -ENAMETOOLONG);
	dom[253] = '\0';
	assert_int_equal(addr_domain(slice_from_cstr(dom), out, sizeof(out)), 253);
}

static void
test_idna(void **state)
{
	(void)state;
	/* Python: 'bücher.example'.encode('idna') == b'xn--bcher-kva.example'. */
	ok("user@b\xc3\xbc" "cher.example", 0, "user@xn--bcher-kva.example");
	/* Uppercase U-umlaut maps to the same A-label (UTS 46 mapping). */
	ok("user@B\xc3\x9c" "CHER.example", 0, "user@xn--bcher-kva.example");
	/* Not UTF-8: refused, not guessed. */
	check_norm("user@\xff.example", 0, -EINVAL, NULL);
	/* U+0080, a C1 control, is never valid in a label. */
	check_norm("user@a\xc2\x80" "b.example", 0, -EINVAL, NULL);
	/* Domain-wide entries use the same path. */
	char out[ADDR_NORM_CAP];

	assert_int_equal(addr_domain(slice_from_cstr("@B\xc3\x9c" "cher.Example"), out,
				     sizeof(out)), 21);
	assert_string_equal(out, "xn--bcher-kva.example");
}

static void
test_domain(void **state)
{
	char out[ADDR_NORM_CAP];

	(void)state;
	assert_int_equal(addr_domain(slice_from_cstr("@Example.COM"), out, sizeof(out)), 11);
	assert_string_equal(out, "example.com");
	assert_int_equal(addr_domain(slice_from_cstr(" example.com "), out, sizeof(out)), 11);
	assert_string_equal(out, "example.com");
	assert_int_equal(addr_domain(slice_from_cstr("<@x.y>"), out, sizeof(out)), 3);
	assert_string_equal(out, "x.y");
	assert_int_equal(addr_domain(slice_from_cstr("a@b.org"), out, sizeof(out)), -EINVAL);
	assert_int_equal(addr_domain(slice_from_cstr("@"), out, sizeof(out)), -EINVAL);
	assert_int_equal(addr_domain(slice_from_cstr(""), out, sizeof(out)), -EINVAL);
	assert_int_equal(addr_domain(slice_from_cstr("@@x.org"), out, sizeof(out)), -EINVAL);
	assert_int_equal(addr_domain(slice_from_cstr("example.com"), out, 11), -ENOBUFS);
}

static void
hex(const uint8_t *k, char *s)
{
	for (int i = 0; i < ADDR_KEY_LEN; i++)
		snprintf(s + 2 * i, 3, "%02x", k[i]);
}

static void
test_fold_dots(void **state)
{
	const unsigned fd = ADDR_NORM_FOLD_DOTS;

	(void)state;
	/* Gmail ignores dots in the local part: every spelling is one mailbox. */
	ok("j.o.h.n@gmail.com", fd, "john@gmail.com");
	ok("John.Smith@GMail.COM", fd, "JohnSmith@gmail.com");
	ok("john.smith@googlemail.com", fd, "johnsmith@googlemail.com");
	ok("<j.ohn@Gmail.com.>", fd, "john@gmail.com");
	/* Off by default, and only for those two domains (not their sub-domains). */
	ok("john.smith@gmail.com", 0, "john.smith@gmail.com");
	ok("john.smith@example.com", fd, "john.smith@example.com");
	ok("john.smith@mail.gmail.com", fd, "john.smith@mail.gmail.com");
	ok("john.smith@gmail.co", fd, "john.smith@gmail.co");
	ok("john.smith@xgmail.com", fd, "john.smith@xgmail.com");
	/* Quoted local parts are opaque. */
	ok("\"john.smith\"@gmail.com", fd, "\"john.smith\"@gmail.com");
	/* With the other flags: the tag goes first, its dots with it; case folds too. */
	ok("J.Smith+news.letter@gmail.com", ADDR_NORM_FLAGS_ALL, "jsmith@gmail.com");
	ok("J.Smith+news.letter@gmail.com", fd | ADDR_NORM_STRIP_TAG, "JSmith@gmail.com");
	ok("J.Smith+news.letter@gmail.com", fd, "JSmith+newsletter@gmail.com");
	ok("J.Smith+news@gmail.com", fd | ADDR_NORM_LOWER_LOCAL, "jsmith+news@gmail.com");
	/* Dots anywhere in the local part, repeated or at its ends, all go; a local part of
	 * dots only is kept as written rather than emptied. */
	ok(".a..b.@gmail.com", fd, "ab@gmail.com");
	ok("...@gmail.com", fd, "...@gmail.com");
	/* The result is what gets hashed: two spellings, one key. */
	{
		char a[ADDR_NORM_CAP], b[ADDR_NORM_CAP];
		int na = addr_normalize(slice_from_cstr("a.b.c@gmail.com"), fd, a, sizeof(a));
		int nb = addr_normalize(slice_from_cstr("abc@GMAIL.com"), fd, b, sizeof(b));

		assert_true(na > 0);
		assert_int_equal(na, nb);
		assert_memory_equal(a, b, (size_t)na);
	}
	/* The buffer bound is checked before folding: the unfolded length must fit. */
	{
		char out[16];

		assert_int_equal(addr_normalize(slice_from_cstr("a.b.c.d.e@gmail.com"), fd, out,
						sizeof(out)), -ENOBUFS);
	}
}

static void
test_hasher(void **state)
{
	struct addr_hasher h;
	uint8_t k1[ADDR_KEY_LEN], k2[ADDR_KEY_LEN];
	char s[2 * ADDR_KEY_LEN + 1];

	(void)state;
	assert_int_equal(addr_hasher_init(&h), 0);
	/* FIPS 180-2 test vector. */
	assert_int_equal(addr_hasher_key(&h, "abc", 3, k1), 0);
	hex(k1, s);
	assert_string_equal(s, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* hashlib.sha256(b'Alice@example.com'), twice on the same context. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(addr_hasher_key(&h, "Alice@example.com", 17, k1), 0);
		hex(k1, s);
		assert_string_equal(
			s, "cdbc73c2371c82a21a4ee7267fa1e49ec9e6f744aa75af0bb36d058006d5748a");
	}
	/* The domain key is SHA-256 of "@example.com". */
	assert_int_equal(addr_hasher_domain_key(&h, "example.com", 11, k2), 0);
	hex(k2, s);
	assert_string_equal(s, "5ded7034f18daeb6f3e8a29b9cefb5084a25a289ea98e8bddb94a2e4df875afa");
	assert_int_equal(addr_hasher_key(&h, "@example.com", 12, k1), 0);
	assert_memory_equal(k1, k2, ADDR_KEY_LEN);
	addr_hasher_fini(&h);
	addr_hasher_fini(&h); /* idempotent */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_fold_dots),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_idna),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_hasher),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
