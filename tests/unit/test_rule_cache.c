/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the rule generation cache (control/rule_cache.c): round trips and the exact
 * file layout, misses, every kind of corrupt entry (written here by hand) reported and
 * removed, eviction by age under max_bytes with a get making an entry younger, keys that
 * change with every input and every platform field, two forked writers racing on one key
 * while a reader checks that it only ever sees a miss or a whole blob, and permissions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <hs/hs.h>
#include <openssl/evp.h>

#include "rule_cache.h"
#include "test_tmpdir.h"

#define BIG UINT64_MAX
#define NOBODY 65534

struct fixture {
	char base[64];
	char dir[96];   /* base/cache, made by the first put */
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	if (test_tmpdir_make(fx->base, sizeof(fx->base)) < 0) {
		free(fx);
		return -1;
	}
	snprintf(fx->dir, sizeof(fx->dir), "%s/cache", fx->base);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	test_tmpdir_remove(fx->base);
	free(fx);
	return 0;
}

static void
make_key(uint8_t key[RULE_CACHE_KEY_LEN], unsigned i)
{
	for (unsigned j = 0; j < RULE_CACHE_KEY_LEN; j++)
		key[j] = (uint8_t)(i * 131 + j * 7 + 1);
}

static uint8_t *
make_blob(size_t n, unsigned seed)
{
	uint8_t *b = malloc(n > 0 ? n : 1);
	uint32_t x = seed * 2654435761u + 1;

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
	return b;
}

static void
entry_path(const char *dir, const uint8_t key[RULE_CACHE_KEY_LEN], char *path, size_t size)
{
	char hex[2 * RULE_CACHE_KEY_LEN + 1];

	rule_cache_key_hex(key, hex);
	int n = snprintf(path, size, "%s/%s.pgc", dir, hex);

	assert_true(n > 0 && (size_t)n < size);
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static uint8_t *
read_file(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	close(fd);
	*n = (size_t)st.st_size;
	return p;
}

static void
set_mtime(const char *path, time_t sec)
{
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void
le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* An entry file built from the layout in rule_cache.h, independently of the module. */
static uint8_t *
build_entry(const uint8_t key[RULE_CACHE_KEY_LEN], const uint8_t *payload, size_t plen,
	    size_t *n)
{
	uint8_t *f = calloc(1, RULE_CACHE_HDR_LEN + plen);
	unsigned int olen = 0;

	assert_non_null(f);
	le32(f, RULE_CACHE_FILE_MAGIC);
	le32(f + 4, RULE_CACHE_FILE_VERSION);
	memcpy(f + 8, key, RULE_CACHE_KEY_LEN);
	le64(f + 40, plen);
	assert_int_equal(EVP_Digest(payload, plen, f + 48, &olen, EVP_sha256(), NULL), 1);
	assert_int_equal(olen, 32);
	memcpy(f + RULE_CACHE_HDR_LEN, payload, plen);
	*n = RULE_CACHE_HDR_LEN + plen;
	return f;
}

/* Files in dir, "." and ".." aside. */
static unsigned
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
expect_hit(const char *dir, const uint8_t key[RULE_CACHE_KEY_LEN], const uint8_t *want,
	   size_t wlen)
{
	void *blob = NULL;
	size_t len = 0;

	assert_int_equal(rule_cache_get(dir, key, &blob, &len), 0);
	assert_non_null(blob);
	assert_int_equal(len, wlen);
	if (wlen > 0)
		assert_memory_equal(blob, want, wlen);
	free(blob);
}

static void
expect_err(const char *dir, const uint8_t key[RULE_CACHE_KEY_LEN], int err)
{
	void *blob = (void *)1;
	size_t len = 99;

	assert_int_equal(rule_cache_get(dir, key, &blob, &len), err);
	assert_null(blob);
	assert_int_equal(len, 0);
}

static void
test_round_trip(void **state)
{
	struct fixture *fx = *state;
	static const size_t sizes[] = { 0, 1, 4093, 1u << 20 };
	uint8_t key[RULE_CACHE_KEY_LEN];
	char path[256];
	struct stat st;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *b = make_blob(sizes[i], (unsigned)i), *want, *got;
		size_t wn, gn;

		make_key(key, (unsigned)i);
		assert_int_equal(rule_cache_put(fx->dir, key, b, sizes[i], BIG), 0);
		expect_hit(fx->dir, key, b, sizes[i]);
		/* The file is exactly the documented layout. */
		entry_path(fx->dir, key, path, sizeof(path));
		want = build_entry(key, b, sizes[i], &wn);
		got = read_file(path, &gn);
		assert_int_equal(gn, wn);
		assert_memory_equal(got, want, wn);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		free(got);
		free(want);
		free(b);
	}
	assert_int_equal(count_files(fx->dir), 4);

	/* A second put of a key replaces its blob. */
	uint8_t *b1 = make_blob(5000, 7), *b2 = make_blob(3000, 8);

	make_key(key, 1);
	assert_int_equal(rule_cache_put(fx->dir, key, b1, 5000, BIG), 0);
	expect_hit(fx->dir, key, b1, 5000);
	assert_int_equal(rule_cache_put(fx->dir, key, b2, 3000, BIG), 0);
	expect_hit(fx->dir, key, b2, 3000);
	assert_int_equal(count_files(fx->dir), 4);
	free(b1);
	free(b2);

	/* A blob is returned aligned for struct gen_hdr. */
	void *blob;
	size_t len;

	assert_int_equal(rule_cache_get(fx->dir, key, &blob, &len), 0);
	assert_int_equal((uintptr_t)blob % 8, 0);
	free(blob);
}

static void
test_miss(void **state)
{
	struct fixture *fx = *state;
	uint8_t k1[RULE_CACHE_KEY_LEN], k2[RULE_CACHE_KEY_LEN];
	uint8_t *b = make_blob(100, 1);

	make_key(k1, 1);
	make_key(k2, 2);
	expect_err(fx->dir, k1, -ENOENT);       /* no directory yet */
	assert_false(exists(fx->dir));          /* a get does not create it */
	assert_int_equal(rule_cache_put(fx->dir, k1, b, 100, BIG), 0);
	expect_err(fx->dir, k2, -ENOENT);
	expect_hit(fx->dir, k1, b, 100);
	free(b);
}

enum corrupt_kind {
	C_EMPTY,
	C_HALF_HEADER,
	C_HEADER_ONLY,
	C_PAYLOAD_SHORT,
	C_TRAILING_BYTE,
	C_MAGIC,
	C_VERSION,
	C_KEY,
	C_LEN_LARGER,
	C_LEN_SMALLER,
	C_LEN_HUGE,
	C_PAYLOAD_BIT,
	C_SUM_BIT,
	C_GARBAGE,
	C__COUNT,
};

static void
test_corrupt(void **state)
{
	struct fixture *fx = *state;
	uint8_t key[RULE_CACHE_KEY_LEN], other[RULE_CACHE_KEY_LEN];
	const size_t plen = 1000;
	uint8_t *payload = make_blob(plen, 3);
	char path[256];

	make_key(key, 5);
	make_key(other, 6);
	entry_path(fx->dir, key, path, sizeof(path));
	assert_int_equal(mkdir(fx->dir, 0700), 0);

	for (int c = 0; c < C__COUNT; c++) {
		size_t n;
		uint8_t *f = build_entry(key, payload, plen, &n);

		switch ((enum corrupt_kind)c) {
		case C_EMPTY: n = 0; break;
		case C_HALF_HEADER: n = RULE_CACHE_HDR_LEN / 2; break;
		case C_HEADER_ONLY: n = RULE_CACHE_HDR_LEN; break;
		case C_PAYLOAD_SHORT: n -= 1; break;
		case C_TRAILING_BYTE:
			f = realloc(f, n + 1);
			assert_non_null(f);
			f[n++] = 0;
			break;
		case C_MAGIC: f[0] ^= 1; break;
		case C_VERSION: le32(f + 4, RULE_CACHE_FILE_VERSION + 1); break;
		case C_KEY: memcpy(f + 8, other, RULE_CACHE_KEY_LEN); break;
		case C_LEN_LARGER: le64(f + 40, plen + 1); break;
		case C_LEN_SMALLER: le64(f + 40, plen - 1); break;
		case C_LEN_HUGE: le64(f + 40, UINT64_MAX); break;
		case C_PAYLOAD_BIT: f[RULE_CACHE_HDR_LEN + plen / 2] ^= 0x10; break;
		case C_SUM_BIT: f[48 + 31] ^= 0x80; break;
		case C_GARBAGE:
			for (size_t i = 0; i < n; i++)
				f[i] = (uint8_t)(i * 37 + 11);
			break;
		case C__COUNT: break;
		}
		write_file(path, f, n);
		void *blob = (void *)1;
		size_t len = 99;
		int rc = rule_cache_get(fx->dir, key, &blob, &len);

		if (rc != -EBADMSG || blob != NULL || len != 0)
			fail_msg("corrupt case %d: get %d, blob %p, len %zu", c, rc, blob, len);
		assert_false(exists(path));             /* removed */
		expect_err(fx->dir, key, -ENOENT);      /* and now a plain miss */
		free(f);
	}

	/* The untouched image is accepted: the cases above failed for their one defect. */
	size_t n;
	uint8_t *f = build_entry(key, payload, plen, &n);

	write_file(path, f, n);
	expect_hit(fx->dir, key, payload, plen);
	free(f);

	/* A symlink under an entry's name: removed, its target left alone. */
	char target[256];

	snprintf(target, sizeof(target), "%s/target", fx->base);
	f = build_entry(key, payload, plen, &n);
	write_file(target, f, n);
	free(f);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(target, path), 0);
	expect_err(fx->dir, key, -EBADMSG);
	assert_false(exists(path));
	assert_true(exists(target));

	/* A FIFO: no hang, removed. */
	assert_int_equal(mkfifo(path, 0600), 0);
	expect_err(fx->dir, key, -EBADMSG);
	assert_false(exists(path));

	/* A directory: reported, but a directory is not ours to remove. */
	assert_int_equal(mkdir(path, 0700), 0);
	expect_err(fx->dir, key, -EBADMSG);
	assert_true(exists(path));
	assert_int_equal(rmdir(path), 0);

	/* After all that, the cache works. */
	assert_int_equal(rule_cache_put(fx->dir, key, payload, plen, BIG), 0);
	expect_hit(fx->dir, key, payload, plen);
	free(payload);
}

/* Entries of n payload bytes take this much of max_bytes. */
#define ENTRY(n) ((uint64_t)(n) + RULE_CACHE_HDR_LEN)

static void
put_aged(const char *dir, unsigned i, size_t n, time_t mtime)
{
	uint8_t key[RULE_CACHE_KEY_LEN];
	uint8_t *b = make_blob(n, i);
	char path[256];

	make_key(key, i);
	assert_int_equal(rule_cache_put(dir, key, b, n, BIG), 0);
	entry_path(dir, key, path, sizeof(path));
	set_mtime(path, mtime);
	free(b);
}

static bool
has_key(const char *dir, unsigned i)
{
	uint8_t key[RULE_CACHE_KEY_LEN];
	char path[256];

	make_key(key, i);
	entry_path(dir, key, path, sizeof(path));
	return exists(path);
}

static void
test_evict(void **state)
{
	struct fixture *fx = *state;
	uint8_t key[RULE_CACHE_KEY_LEN];
	char hex[2 * RULE_CACHE_KEY_LEN + 1], path[256];
	uint8_t *b = make_blob(1000, 50);

	/* Entries 1..4, 1 the oldest; 4 is given an older time than 3 to show age, not order. */
	put_aged(fx->dir, 1, 1000, 1000);
	put_aged(fx->dir, 2, 1000, 2000);
	put_aged(fx->dir, 3, 1000, 4000);
	put_aged(fx->dir, 4, 1000, 3000);

	/* Things that are not entries: never counted, never removed, however old. */
	static const char *const others[] = {
		"notes.txt",
		"ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789.pgc",
		"abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678.pgc",
		"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789.pgcx",
		"abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789.pgc.tmp.zz",
	};
	uint8_t *junk = make_blob(100000, 9);

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fx->dir, others[i]);
		write_file(path, junk, 100000);
		set_mtime(path, 500);
	}
	/* A crashed put's temp file (stale, removed) and one in progress (fresh, kept). */
	char stale[256], fresh[256];

	make_key(key, 77);
	rule_cache_key_hex(key, hex);
	snprintf(stale, sizeof(stale), "%s/%s.pgc.tmp.0123456789abcdef", fx->dir, hex);
	snprintf(fresh, sizeof(fresh), "%s/%s.pgc.tmp.fedcba9876543210", fx->dir, hex);
	write_file(stale, junk, 10);
	set_mtime(stale, 1000);
	write_file(fresh, junk, 10);

	/* Room for three: entry 5 goes in, the two oldest (1 and 2) go out. */
	make_key(key, 5);
	assert_int_equal(rule_cache_put(fx->dir, key, b, 1000, 3 * ENTRY(1000)), 0);
	assert_false(has_key(fx->dir, 1));
	assert_false(has_key(fx->dir, 2));
	assert_true(has_key(fx->dir, 3));
	assert_true(has_key(fx->dir, 4));
	assert_true(has_key(fx->dir, 5));
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fx->dir, others[i]);
		assert_true(exists(path));
	}
	assert_false(exists(stale));
	assert_true(exists(fresh));

	/* Exactly at the bound nothing goes; one byte under it, the oldest (4) does. */
	make_key(key, 6);
	set_mtime(fresh, 1000); /* now stale too */
	assert_int_equal(rule_cache_put(fx->dir, key, b, 1000, 4 * ENTRY(1000)), 0);
	assert_true(has_key(fx->dir, 3) && has_key(fx->dir, 4) && has_key(fx->dir, 5));
	assert_false(exists(fresh));
	make_key(key, 7);
	assert_int_equal(rule_cache_put(fx->dir, key, b, 1000, 5 * ENTRY(1000) - 1), 0);
	assert_false(has_key(fx->dir, 4));
	assert_true(has_key(fx->dir, 3) && has_key(fx->dir, 5) && has_key(fx->dir, 6) &&
		    has_key(fx->dir, 7));

	/* A bound only the new entry fits under: everything else goes, the new one stays. */
	make_key(key, 8);
	assert_int_equal(rule_cache_put(fx->dir, key, b, 1000, ENTRY(1000)), 0);
	for (unsigned i = 1; i <= 7; i++)
		assert_false(has_key(fx->dir, i));
	expect_hit(fx->dir, key, b, 1000);
	assert_int_equal(count_files(fx->dir), 1 + sizeof(others) / sizeof(others[0]));
	free(junk);
	free(b);
}

static void
test_touch_on_get(void **state)
{
	struct fixture *fx = *state;
	uint8_t key[RULE_CACHE_KEY_LEN];
	uint8_t *b = make_blob(500, 60);
	char path[256];
	struct stat st;

	put_aged(fx->dir, 1, 500, 1000);
	put_aged(fx->dir, 2, 500, 2000);
	put_aged(fx->dir, 3, 500, 3000);

	/* Reading 1, the oldest, makes it the youngest. */
	uint8_t *b1 = make_blob(500, 1); /* what put_aged(.., 1, 500, ..) stored */

	make_key(key, 1);
	expect_hit(fx->dir, key, b1, 500);
	free(b1);
	entry_path(fx->dir, key, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_mtim.tv_sec > 3000);

	/* So the next eviction takes 2 then 3, not 1. */
	make_key(key, 4);
	assert_int_equal(rule_cache_put(fx->dir, key, b, 500, 2 * ENTRY(500)), 0);
	assert_true(has_key(fx->dir, 1));
	assert_false(has_key(fx->dir, 2));
	assert_false(has_key(fx->dir, 3));
	assert_true(has_key(fx->dir, 4));
	free(b);
}

static void
test_too_big(void **state)
{
	struct fixture *fx = *state;
	uint8_t key[RULE_CACHE_KEY_LEN];
	uint8_t *b = make_blob(2000, 70);

	put_aged(fx->dir, 1, 100, 1000);
	make_key(key, 2);
	/* Above max_bytes alone: not kept, and nothing else is evicted for it. */
	assert_int_equal(rule_cache_put(fx->dir, key, b, 2000, ENTRY(2000) - 1), -EFBIG);
	assert_false(has_key(fx->dir, 2));
	assert_true(has_key(fx->dir, 1));
	assert_int_equal(count_files(fx->dir), 1);
	assert_int_equal(rule_cache_put(fx->dir, key, b, 2000, 0), -EFBIG);
	/* Above 2 GiB: refused before the bytes are read (b is much smaller; ASan would see). */
	assert_int_equal(rule_cache_put(fx->dir, key, b, (size_t)RULE_CACHE_MAX_PAYLOAD + 1, BIG),
			 -EFBIG);
	assert_int_equal(count_files(fx->dir), 1);
	/* Exactly max_bytes is kept. */
	assert_int_equal(rule_cache_put(fx->dir, key, b, 2000, ENTRY(2000)), 0);
	expect_hit(fx->dir, key, b, 2000);
	assert_false(has_key(fx->dir, 1));
	free(b);
}

static const struct rule_cache_platform plat0 = {
	.arch = "x86_64",
	.hs_version = "5.4.0 2023-01-01",
	.tune = HS_TUNE_FAMILY_SKL,
	.cpu_features = HS_CPU_FEATURES_AVX2,
};

/* Key over plat and inputs given as name, bytes pairs (strings), NULL-terminated. */
static void
key_of(const struct rule_cache_platform *plat, uint8_t key[RULE_CACHE_KEY_LEN], ...)
{
	struct rule_cache_key_ctx *c = rule_cache_key_begin(plat);
	const char *name;
	va_list ap;

	assert_non_null(c);
	va_start(ap, key);
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);

		assert_int_equal(rule_cache_key_add(c, name, v, strlen(v)), 0);
	}
	va_end(ap);
	assert_int_equal(rule_cache_key_end(c, key), 0);
}

/* The key encoding as rule_cache.h documents it, written out here on its own. */
static void
ref_add(EVP_MD_CTX *md, const char *name, const void *p, size_t n)
{
	uint8_t l[8];

	le64(l, strlen(name));
	assert_int_equal(EVP_DigestUpdate(md, l, 8), 1);
	assert_int_equal(EVP_DigestUpdate(md, name, strlen(name)), 1);
	le64(l, n);
	assert_int_equal(EVP_DigestUpdate(md, l, 8), 1);
	assert_int_equal(EVP_DigestUpdate(md, p, n), 1);
}

static void
test_key_encoding(void **state)
{
	(void)state;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t want[RULE_CACHE_KEY_LEN], got[RULE_CACHE_KEY_LEN], b[8];
	unsigned int olen = 0;

	assert_non_null(md);
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	ref_add(md, "format", "postern-rule-cache-key 1", 24);
	ref_add(md, "platform.arch", plat0.arch, strlen(plat0.arch));
	ref_add(md, "platform.hs_version", plat0.hs_version, strlen(plat0.hs_version));
	le32(b, plat0.tune);
	ref_add(md, "platform.tune", b, 4);
	le64(b, plat0.cpu_features);
	ref_add(md, "platform.cpu_features", b, 8);
	ref_add(md, "pack", "alert smtp", 10);
	ref_add(md, "vars", "", 0);
	assert_int_equal(EVP_DigestFinal_ex(md, want, &olen), 1);
	EVP_MD_CTX_free(md);
	key_of(&plat0, got, "pack", "alert smtp", "vars", "", NULL);
	assert_memory_equal(got, want, RULE_CACHE_KEY_LEN);
}

#define NKEYS 12

static void
test_key(void **state)
{
	(void)state;
	uint8_t k[NKEYS][RULE_CACHE_KEY_LEN], again[RULE_CACHE_KEY_LEN];
	struct rule_cache_platform p;
	int i = 0;

	key_of(&plat0, k[i++], "pack", "alert smtp", "vars", "HOME=1", "compiler", "1", NULL);
	key_of(&plat0, again, "pack", "alert smtp", "vars", "HOME=1", "compiler", "1", NULL);
	assert_memory_equal(k[0], again, RULE_CACHE_KEY_LEN);   /* deterministic */

	/* Each input. */
	key_of(&plat0, k[i++], "pack", "alert smtP", "vars", "HOME=1", "compiler", "1", NULL);
	key_of(&plat0, k[i++], "pack", "alert smtp", "vars", "HOME=2", "compiler", "1", NULL);
	key_of(&plat0, k[i++], "pack", "alert smtp", "vars", "HOME=1", "compiler", "2", NULL);
	/* Where one input ends and the next begins, names, order, a missing input. */
	key_of(&plat0, k[i++], "pack", "alert smt", "vars", "pHOME=1", "compiler", "1", NULL);
	key_of(&plat0, k[i++], "packs", "alert smtp", "vars", "HOME=1", "compiler", "1", NULL);
	key_of(&plat0, k[i++], "vars", "HOME=1", "pack", "alert smtp", "compiler", "1", NULL);
	key_of(&plat0, k[i++], "pack", "alert smtp", "vars", "HOME=1", NULL);
	/* Each platform field. */
	p = plat0;
	p.arch = "aarch64";
	key_of(&p, k[i++], "pack", "alert smtp", "vars", "HOME=1", "compiler", "1", NULL);
	p = plat0;
	p.hs_version = "5.4.1 2023-01-01";
	key_of(&p, k[i++], "pack", "alert smtp", "vars", "HOME=1", "compiler", "1", NULL);
	p = plat0;
	p.tune = HS_TUNE_FAMILY_ICX;
	key_of(&p, k[i++], "pack", "alert smtp", "vars", "HOME=1", "compiler", "1", NULL);
	p = plat0;
	p.cpu_features = HS_CPU_FEATURES_AVX2 | HS_CPU_FEATURES_AVX512;
	key_of(&p, k[i++], "pack", "alert smtp", "vars", "HOME=1", "compiler", "1", NULL);
	assert_int_equal(i, NKEYS);
	for (int a = 0; a < NKEYS; a++)
		for (int b = a + 1; b < NKEYS; b++)
			if (memcmp(k[a], k[b], RULE_CACHE_KEY_LEN) == 0)
				fail_msg("keys %d and %d are equal", a, b);

	/* Binary inputs with NULs count whole, and an empty input differs from none. */
	struct rule_cache_key_ctx *c;
	uint8_t x[RULE_CACHE_KEY_LEN], y[RULE_CACHE_KEY_LEN], z[RULE_CACHE_KEY_LEN];

	c = rule_cache_key_begin(&plat0);
	assert_int_equal(rule_cache_key_add(c, "pack", "a\0b", 3), 0);
	assert_int_equal(rule_cache_key_end(c, x), 0);
	c = rule_cache_key_begin(&plat0);
	assert_int_equal(rule_cache_key_add(c, "pack", "a\0c", 3), 0);
	assert_int_equal(rule_cache_key_end(c, y), 0);
	assert_memory_not_equal(x, y, RULE_CACHE_KEY_LEN);
	c = rule_cache_key_begin(&plat0);
	assert_int_equal(rule_cache_key_add(c, "vars", NULL, 0), 0);
	assert_int_equal(rule_cache_key_end(c, x), 0);
	c = rule_cache_key_begin(&plat0);
	assert_int_equal(rule_cache_key_end(c, z), 0);
	assert_memory_not_equal(x, z, RULE_CACHE_KEY_LEN);

	/* One input whose bytes spell the encoding of two inputs is still one input. */
	static const uint8_t spelled[] = { 'x', 1, 0, 0, 0, 0, 0, 0, 0, 'b', 'y' };

	c = rule_cache_key_begin(&plat0);
	assert_int_equal(rule_cache_key_add(c, "a", spelled, sizeof(spelled)), 0);
	assert_int_equal(rule_cache_key_end(c, x), 0);
	key_of(&plat0, y, "a", "x", "b", "y", NULL);
	assert_memory_not_equal(x, y, RULE_CACHE_KEY_LEN);

	/* Errors: kept until _end, and a NULL platform is refused. */
	c = rule_cache_key_begin(&plat0);
	assert_int_equal(rule_cache_key_add(c, NULL, "x", 1), -EINVAL);
	assert_int_equal(rule_cache_key_add(c, "pack", "x", 1), -EINVAL);
	assert_int_equal(rule_cache_key_end(c, x), -EINVAL);
	c = rule_cache_key_begin(&plat0);
	assert_int_equal(rule_cache_key_add(c, "pack", NULL, 1), -EINVAL);
	rule_cache_key_abort(c);
	rule_cache_key_abort(NULL);
	errno = 0;
	assert_null(rule_cache_key_begin(NULL));
	assert_int_equal(errno, EINVAL);
	p = plat0;
	p.hs_version = NULL;
	assert_null(rule_cache_key_begin(&p));

	/* Hex: lower case, two digits a byte. */
	char hex[2 * RULE_CACHE_KEY_LEN + 1];
	uint8_t kk[RULE_CACHE_KEY_LEN] = { 0x00, 0x0f, 0xa5, 0xff };

	rule_cache_key_hex(kk, hex);
	assert_string_equal(hex, "000fa5ff00000000000000000000000000000000000000000000000000000000");
}

static void
test_platform_host(void **state)
{
	(void)state;
	struct rule_cache_platform p, q;
	hs_platform_info_t pi;

	assert_int_equal(rule_cache_platform_host(NULL), -EINVAL);
	assert_int_equal(rule_cache_platform_host(&p), 0);
	assert_int_equal(hs_populate_platform(&pi), HS_SUCCESS);
	assert_string_equal(p.hs_version, hs_version());
	assert_int_equal(p.tune, pi.tune);
	assert_int_equal(p.cpu_features, pi.cpu_features);
	assert_non_null(p.arch);
	assert_true(strlen(p.arch) > 0);
	/* Same host, same key; this host's key is not another CPU's. */
	uint8_t a[RULE_CACHE_KEY_LEN], b[RULE_CACHE_KEY_LEN];

	assert_int_equal(rule_cache_platform_host(&q), 0);
	key_of(&p, a, "pack", "x", NULL);
	key_of(&q, b, "pack", "x", NULL);
	assert_memory_equal(a, b, RULE_CACHE_KEY_LEN);
	q.cpu_features ^= HS_CPU_FEATURES_AVX512VBMI;
	key_of(&q, b, "pack", "x", NULL);
	assert_memory_not_equal(a, b, RULE_CACHE_KEY_LEN);
}

#define RACE_PUTS 150

static void
test_race(void **state)
{
	struct fixture *fx = *state;
	uint8_t key[RULE_CACHE_KEY_LEN];
	const size_t na = 300000, nb = 200001;
	uint8_t *a = make_blob(na, 100), *b = make_blob(nb, 200);
	unsigned n_gets = 0, n_hits = 0, n_miss = 0, n_bad = 0, n_writer_bad = 0;
	int first_bad = 0;
	pid_t w[2];
	int live = 2, status;

	make_key(key, 42);
	assert_int_equal(mkdir(fx->dir, 0700), 0);
	for (int i = 0; i < 2; i++) {
		w[i] = fork();
		assert_true(w[i] >= 0);
		if (w[i] == 0) {
			int bad = 0;

			for (int j = 0; j < RACE_PUTS; j++)
				if (rule_cache_put(fx->dir, key, i == 0 ? a : b, i == 0 ? na : nb,
						   BIG) != 0)
					bad++;
			_exit(bad == 0 ? 0 : 1);
		}
	}
	/* No assert until both writers are gone: a failing test must not leave them running. */
	while (live > 0) {
		void *blob;
		size_t len;
		int rc = rule_cache_get(fx->dir, key, &blob, &len);

		n_gets++;
		if (rc == -ENOENT) {
			n_miss++;
			/* A rename replaces the entry: once there, it never goes missing. */
			if (n_hits > 0 && n_bad++ == 0)
				first_bad = rc;
		} else if (rc != 0) {
			if (n_bad++ == 0)
				first_bad = rc;
		} else {
			if ((len == na && memcmp(blob, a, na) == 0) ||
			    (len == nb && memcmp(blob, b, nb) == 0))
				n_hits++;
			else if (n_bad++ == 0)
				first_bad = INT32_MAX; /* a blob neither writer put */
			free(blob);
		}
		for (int i = 0; i < 2; i++) {
			if (w[i] > 0 && waitpid(w[i], &status, WNOHANG) == w[i]) {
				if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
					n_writer_bad++;
				w[i] = 0;
				live--;
			}
		}
	}
	print_message("race: %u gets, %u hits, %u misses\n", n_gets, n_hits, n_miss);
	if (n_bad > 0)
		fail_msg("%u bad gets, the first: %d", n_bad, first_bad);
	assert_int_equal(n_writer_bad, 0);
	assert_true(n_hits > 0 || n_gets < 3);
	/* Whoever renamed last won; no temp file is left behind. */
	void *blob;
	size_t len;

	assert_int_equal(rule_cache_get(fx->dir, key, &blob, &len), 0);
	assert_true((len == na && memcmp(blob, a, na) == 0) ||
		    (len == nb && memcmp(blob, b, nb) == 0));
	free(blob);
	assert_int_equal(count_files(fx->dir), 1);
	free(a);
	free(b);
}

static void
test_permissions(void **state)
{
	struct fixture *fx = *state;
	uint8_t key[RULE_CACHE_KEY_LEN];
	uint8_t *b = make_blob(100, 80);
	char dir[256], path[256];
	struct stat st;
	mode_t old;

	make_key(key, 1);
	/* Made 0700 with missing parents, entries 0600, whatever the umask. */
	snprintf(dir, sizeof(dir), "%s/a/b/c/", fx->base);
	old = umask(0);
	assert_int_equal(rule_cache_put(dir, key, b, 100, BIG), 0);
	umask(old);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	entry_path(dir, key, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	old = umask(0277);
	snprintf(dir, sizeof(dir), "%s/strict", fx->base);
	assert_int_equal(rule_cache_put(dir, key, b, 100, BIG), 0);
	umask(old);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	entry_path(dir, key, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* A directory others can write is refused for reads and writes. */
	snprintf(dir, sizeof(dir), "%s/open", fx->base);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_equal(rule_cache_put(dir, key, b, 100, BIG), -EPERM);
	expect_err(dir, key, -EPERM);
	assert_int_equal(chmod(dir, 01777), 0);
	assert_int_equal(rule_cache_put(dir, key, b, 100, BIG), -EPERM);
	assert_int_equal(count_files(dir), 0);
	assert_int_equal(chmod(dir, 0755), 0);          /* only writable by its owner: fine */
	assert_int_equal(rule_cache_put(dir, key, b, 100, BIG), 0);
	expect_hit(dir, key, b, 100);
	if (geteuid() == 0) {
		/* Owned by someone else (neither us nor root). */
		assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
		expect_err(dir, key, -EPERM);
		assert_int_equal(rule_cache_put(dir, key, b, 100, BIG), -EPERM);
	}

	/* A symlink to the directory is fine; entries land in the target. */
	char link[256];

	snprintf(dir, sizeof(dir), "%s/real", fx->base);
	snprintf(link, sizeof(link), "%s/link", fx->base);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(symlink(dir, link), 0);
	assert_int_equal(rule_cache_put(link, key, b, 100, BIG), 0);
	expect_hit(link, key, b, 100);
	expect_hit(dir, key, b, 100);
	entry_path(dir, key, path, sizeof(path));
	assert_true(exists(path));
	free(b);
}

/* The read-only part of test_read_only_dir, run as the directory's owner. Bit per failure. */
static int
read_only_checks(const char *dir, const uint8_t *b)
{
	uint8_t k1[RULE_CACHE_KEY_LEN], k2[RULE_CACHE_KEY_LEN];
	void *blob = NULL;
	size_t len = 0;
	int bad = 0;

	make_key(k1, 1);
	make_key(k2, 2);
	if (rule_cache_get(dir, k1, &blob, &len) != 0 || len != 100 || memcmp(blob, b, 100) != 0)
		bad |= 1;
	free(blob);
	if (rule_cache_put(dir, k2, b, 100, BIG) != -EACCES)
		bad |= 2;
	if (rule_cache_get(dir, k2, &blob, &len) != -ENOENT)
		bad |= 4;
	return bad;
}

static void
test_read_only_dir(void **state)
{
	struct fixture *fx = *state;
	uint8_t key[RULE_CACHE_KEY_LEN];
	uint8_t *b = make_blob(100, 90);
	char path[256];
	int status;

	make_key(key, 1);
	assert_int_equal(rule_cache_put(fx->dir, key, b, 100, BIG), 0);
	entry_path(fx->dir, key, path, sizeof(path));
	if (geteuid() != 0) {
		assert_int_equal(chmod(fx->dir, 0500), 0);
		assert_int_equal(read_only_checks(fx->dir, b), 0);
		assert_int_equal(chmod(fx->dir, 0700), 0);
		free(b);
		return;
	}
	/* Root ignores modes: hand the cache to nobody and check as nobody. */
	assert_int_equal(chmod(fx->base, 0711), 0);
	assert_int_equal(chown(fx->dir, NOBODY, NOBODY), 0);
	assert_int_equal(chown(path, NOBODY, NOBODY), 0);
	assert_int_equal(chmod(fx->dir, 0500), 0);
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(100);
		_exit(read_only_checks(fx->dir, b));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(count_files(fx->dir), 1);
	free(b);
}

static void
test_bad_args(void **state)
{
	struct fixture *fx = *state;
	uint8_t key[RULE_CACHE_KEY_LEN];
	char file[256], under[256];
	void *blob;
	size_t len;

	make_key(key, 1);
	assert_int_equal(rule_cache_get(NULL, key, &blob, &len), -EINVAL);
	assert_int_equal(rule_cache_get("", key, &blob, &len), -EINVAL);
	assert_int_equal(rule_cache_get(fx->base, NULL, &blob, &len), -EINVAL);
	assert_int_equal(rule_cache_get(fx->base, key, NULL, &len), -EINVAL);
	assert_int_equal(rule_cache_get(fx->base, key, &blob, NULL), -EINVAL);
	assert_int_equal(rule_cache_put(NULL, key, "x", 1, BIG), -EINVAL);
	assert_int_equal(rule_cache_put(fx->dir, NULL, "x", 1, BIG), -EINVAL);
	assert_int_equal(rule_cache_put(fx->dir, key, NULL, 1, BIG), -EINVAL);

	/* A path that is a file, or goes through one. */
	snprintf(file, sizeof(file), "%s/file", fx->base);
	snprintf(under, sizeof(under), "%s/file/cache", fx->base);
	write_file(file, "x", 1);
	expect_err(file, key, -ENOTDIR);
	assert_int_equal(rule_cache_put(file, key, "x", 1, BIG), -ENOTDIR);
	expect_err(under, key, -ENOTDIR);
	assert_int_equal(rule_cache_put(under, key, "x", 1, BIG), -ENOTDIR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_miss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_touch_on_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_key_encoding),
		cmocka_unit_test(test_platform_host),
		cmocka_unit_test_setup_teardown(test_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
