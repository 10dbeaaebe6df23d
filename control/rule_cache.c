/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * On-disk cache of compiled rule generations; see rule_cache.h for the directory and file
 * layout. Every file operation goes through a descriptor of the directory (openat and
 * friends), so the directory is resolved once per call even when its path is a symlink or is
 * renamed meanwhile. Entries are never modified in place: a put writes a temp file and
 * renames it, so an open entry never changes under a reader. The cache does no logging: its
 * return codes say what happened and the caller logs them. posternd's and posternctl's
 * control thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hs/hs.h>
#include <openssl/evp.h>

#include "rule_cache.h"

#define HEX_LEN (2 * RULE_CACHE_KEY_LEN)
#define SUFFIX_LEN (sizeof(RULE_CACHE_SUFFIX) - 1)
#define ENTRY_NAME_LEN (HEX_LEN + SUFFIX_LEN)
#define TMP_TAG ".tmp."
#define TMP_TAG_LEN (sizeof(TMP_TAG) - 1)
#define TMP_RAND_LEN 16
#define TMP_NAME_LEN (ENTRY_NAME_LEN + TMP_TAG_LEN + TMP_RAND_LEN)
#define TMP_TRIES 8
#define SHA256_LEN 32

/* Bumped whenever what goes into a key changes, so old keys stop matching. */
#define KEY_FORMAT "postern-rule-cache-key 1"

#if defined(__x86_64__)
#define BUILD_ARCH "x86_64"
#elif defined(__i386__)
#define BUILD_ARCH "i386"
#elif defined(__aarch64__)
#define BUILD_ARCH "aarch64"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define BUILD_ARCH "ppc64le"
#else
#define BUILD_ARCH "unknown"
#endif

struct rule_cache_key_ctx {
	EVP_MD_CTX *md;
	int err;        /* first error; _end returns it */
};

/* One cache entry seen by eviction. */
struct scan_entry {
	struct timespec mtime;
	uint64_t size;
	char name[ENTRY_NAME_LEN + 1];
};

static void
put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t
get_le32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t
get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int
sha256(const void *p, size_t n, uint8_t out[SHA256_LEN])
{
	unsigned int olen = 0;

	if (EVP_Digest(p, n, out, &olen, EVP_sha256(), NULL) != 1 || olen != SHA256_LEN)
		return -EIO;
	return 0;
}

int
rule_cache_platform_host(struct rule_cache_platform *p)
{
	hs_platform_info_t pi;
	hs_error_t rc;

	if (p == NULL)
		return -EINVAL;
	memset(&pi, 0, sizeof(pi));
	rc = hs_populate_platform(&pi);
	if (rc != HS_SUCCESS)
		return rc == HS_ARCH_ERROR ? -ENOTSUP : -EIO;
	p->arch = BUILD_ARCH;
	p->hs_version = hs_version();
	p->tune = pi.tune;
	p->cpu_features = pi.cpu_features;
	return 0;
}

static void
key_update(struct rule_cache_key_ctx *c, const void *p, size_t n)
{
	if (c->err == 0 && n > 0 && EVP_DigestUpdate(c->md, p, n) != 1)
		c->err = -EIO;
}

int
rule_cache_key_add(struct rule_cache_key_ctx *c, const char *name, const void *bytes,
		   size_t len)
{
	uint8_t n[8];

	if (c == NULL)
		return -EINVAL;
	if (name == NULL || (bytes == NULL && len > 0)) {
		if (c->err == 0)
			c->err = -EINVAL;
		return -EINVAL;
	}
	put_le64(n, strlen(name));
	key_update(c, n, sizeof(n));
	key_update(c, name, strlen(name));
	put_le64(n, len);
	key_update(c, n, sizeof(n));
	key_update(c, bytes, len);
	return c->err;
}

static int
key_add_str(struct rule_cache_key_ctx *c, const char *name, const char *s)
{
	return rule_cache_key_add(c, name, s, s != NULL ? strlen(s) : 0);
}

struct rule_cache_key_ctx *
rule_cache_key_begin(const struct rule_cache_platform *p)
{
	struct rule_cache_key_ctx *c;
	uint8_t b[8];
	int err;

	if (p == NULL || p->arch == NULL || p->hs_version == NULL) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->md = EVP_MD_CTX_new();
	if (c->md == NULL) {
		err = ENOMEM;
		goto err_free;
	}
	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		err = EIO;
		goto err_md;
	}
	key_add_str(c, "format", KEY_FORMAT);
	key_add_str(c, "platform.arch", p->arch);
	key_add_str(c, "platform.hs_version", p->hs_version);
	put_le32(b, p->tune);
	rule_cache_key_add(c, "platform.tune", b, 4);
	put_le64(b, p->cpu_features);
	rule_cache_key_add(c, "platform.cpu_features", b, 8);
	if (c->err != 0) {
		err = -c->err;
		goto err_md;
	}
	return c;

err_md:
	EVP_MD_CTX_free(c->md);
err_free:
	free(c);
	errno = err;
	return NULL;
}

void
rule_cache_key_abort(struct rule_cache_key_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

int
rule_cache_key_end(struct rule_cache_key_ctx *c, uint8_t key[RULE_CACHE_KEY_LEN])
{
	unsigned int olen = 0;
	int rc;

	if (c == NULL || key == NULL) {
		rule_cache_key_abort(c);
		return -EINVAL;
	}
	rc = c->err;
	if (rc == 0 && (EVP_DigestFinal_ex(c->md, key, &olen) != 1 || olen != RULE_CACHE_KEY_LEN))
		rc = -EIO;
	if (rc != 0)
		memset(key, 0, RULE_CACHE_KEY_LEN);
	rule_cache_key_abort(c);
	return rc;
}

void
rule_cache_key_hex(const uint8_t key[RULE_CACHE_KEY_LEN], char hex[HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < RULE_CACHE_KEY_LEN; i++) {
		hex[2 * i] = digits[key[i] >> 4];
		hex[2 * i + 1] = digits[key[i] & 0xf];
	}
	hex[HEX_LEN] = '\0';
}

static bool
is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool
name_is_entry(const char *name)
{
	return strlen(name) == ENTRY_NAME_LEN && is_lower_hex(name, HEX_LEN) &&
	       memcmp(name + HEX_LEN, RULE_CACHE_SUFFIX, SUFFIX_LEN) == 0;
}

static bool
name_is_tmp(const char *name)
{
	return strlen(name) == TMP_NAME_LEN && is_lower_hex(name, HEX_LEN) &&
	       memcmp(name + HEX_LEN, RULE_CACHE_SUFFIX, SUFFIX_LEN) == 0 &&
	       memcmp(name + ENTRY_NAME_LEN, TMP_TAG, TMP_TAG_LEN) == 0 &&
	       is_lower_hex(name + ENTRY_NAME_LEN + TMP_TAG_LEN, TMP_RAND_LEN);
}

static void
entry_name(const uint8_t key[RULE_CACHE_KEY_LEN], char name[ENTRY_NAME_LEN + 1])
{
	rule_cache_key_hex(key, name);
	memcpy(name + HEX_LEN, RULE_CACHE_SUFFIX, SUFFIX_LEN + 1);
}

/* A directory descriptor for dir (symlinks followed), or -errno. */
static int
dir_open(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd >= 0 ? fd : -errno;
}

/*
 * Whoever can write the directory chooses the bytes the dataplane deserializes, and Hyperscan
 * trusts a serialized database: only us or root may.
 */
static int
dir_check(int dfd)
{
	struct stat st;

	if (fstat(dfd, &st) < 0)
		return -errno;
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return -EPERM;
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return -EPERM;
	return 0;
}

/* mkdir -p with 0700 for what it creates; the last component made exactly 0700 whatever umask. */
static int
dir_make(const char *dir)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);
	int fd;

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (char *s = buf + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(buf, 0700) < 0)
		return errno == EEXIST ? 0 : -errno;
	fd = dir_open(buf);
	if (fd < 0)
		return fd;
	if (fchmod(fd, 0700) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

/* Bytes read (fewer than n only at end of file) or -errno. */
static ssize_t
pread_full(int fd, void *buf, size_t n, off_t off)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (uint8_t *)buf + got, n - got, off + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int
write_full(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = write(fd, (const uint8_t *)buf + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		done += (size_t)r;
	}
	return 0;
}

/*
 * Remove the corrupt entry we looked at, unless a put replaced it meanwhile with a good one
 * (then it is another inode). What is left is a short race that can only cost a miss.
 */
static void
remove_if_same(int dfd, const char *name, const struct stat *seen)
{
	struct stat now;

	if (fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (now.st_dev != seen->st_dev || now.st_ino != seen->st_ino || S_ISDIR(now.st_mode))
		return;
	(void)unlinkat(dfd, name, 0);
}

/* Read and verify the open entry fd; 0 with a malloc'ed payload, -EBADMSG or -errno. */
static int
entry_read(int fd, const struct stat *st, const uint8_t key[RULE_CACHE_KEY_LEN], void **blob,
	   size_t *len)
{
	uint8_t hdr[RULE_CACHE_HDR_LEN], sum[SHA256_LEN];
	uint64_t plen;
	uint8_t *p;
	ssize_t got;
	int rc;

	if (st->st_size < RULE_CACHE_HDR_LEN)
		return -EBADMSG;
	got = pread_full(fd, hdr, sizeof(hdr), 0);
	if (got < 0)
		return (int)got;
	if ((size_t)got < sizeof(hdr))
		return -EBADMSG;
	plen = get_le64(hdr + 40);
	if (get_le32(hdr) != RULE_CACHE_FILE_MAGIC || get_le32(hdr + 4) != RULE_CACHE_FILE_VERSION ||
	    memcmp(hdr + 8, key, RULE_CACHE_KEY_LEN) != 0 || plen > RULE_CACHE_MAX_PAYLOAD ||
	    plen != (uint64_t)st->st_size - RULE_CACHE_HDR_LEN)
		return -EBADMSG;
	/* malloc: at least 16-byte aligned, enough for struct gen_hdr. */
	p = malloc(plen > 0 ? (size_t)plen : 1);
	if (p == NULL)
		return -ENOMEM;
	got = pread_full(fd, p, (size_t)plen, RULE_CACHE_HDR_LEN);
	if (got < 0) {
		rc = (int)got;
		goto err_free;
	}
	if ((uint64_t)got != plen) {
		rc = -EBADMSG;
		goto err_free;
	}
	rc = sha256(p, (size_t)plen, sum);
	if (rc < 0)
		goto err_free;
	if (memcmp(sum, hdr + 48, SHA256_LEN) != 0) {
		rc = -EBADMSG;
		goto err_free;
	}
	*blob = p;
	*len = (size_t)plen;
	return 0;

err_free:
	free(p);
	return rc;
}

int
rule_cache_get(const char *dir, const uint8_t key[RULE_CACHE_KEY_LEN], void **blob,
	       size_t *len)
{
	char name[ENTRY_NAME_LEN + 1];
	struct stat st;
	int dfd, fd, rc;

	if (blob != NULL)
		*blob = NULL;
	if (len != NULL)
		*len = 0;
	if (dir == NULL || *dir == '\0' || key == NULL || blob == NULL || len == NULL)
		return -EINVAL;
	dfd = dir_open(dir);
	if (dfd < 0)
		return dfd;
	rc = dir_check(dfd);
	if (rc < 0)
		goto out_dir;
	entry_name(key, name);
	/* O_NONBLOCK: a FIFO planted under an entry's name must not hang the open. */
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ELOOP && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			remove_if_same(dfd, name, &st);
			rc = -EBADMSG;
		}
		goto out_dir;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out_fd;
	}
	if (!S_ISREG(st.st_mode))
		rc = -EBADMSG;
	else
		rc = entry_read(fd, &st, key, blob, len);
	if (rc == -EBADMSG)
		remove_if_same(dfd, name, &st);
	else if (rc == 0)
		(void)futimens(fd, NULL); /* younger for eviction; fails harmlessly when read-only */
out_fd:
	close(fd);
out_dir:
	close(dfd);
	return rc;
}

/* Create a temp file for name; its fd, with its name in tmp, or -errno. */
static int
tmp_create(int dfd, const char *name, char tmp[TMP_NAME_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	static unsigned counter;

	for (int tries = 0; tries < TMP_TRIES; tries++) {
		uint8_t r[TMP_RAND_LEN / 2];
		int fd;

		if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
			/* Only uniqueness matters here, not secrecy: pid, time and a counter. */
			struct timespec ts;
			uint64_t v;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			v = ((uint64_t)getpid() << 40) ^ ((uint64_t)ts.tv_nsec << 8) ^
			    (uint64_t)ts.tv_sec ^ (uint64_t)++counter;
			put_le64(r, v);
		}
		memcpy(tmp, name, ENTRY_NAME_LEN);
		memcpy(tmp + ENTRY_NAME_LEN, TMP_TAG, TMP_TAG_LEN);
		for (size_t i = 0; i < sizeof(r); i++) {
			tmp[ENTRY_NAME_LEN + TMP_TAG_LEN + 2 * i] = digits[r[i] >> 4];
			tmp[ENTRY_NAME_LEN + TMP_TAG_LEN + 2 * i + 1] = digits[r[i] & 0xf];
		}
		tmp[TMP_NAME_LEN] = '\0';
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int
scan_cmp(const void *a, const void *b)
{
	const struct scan_entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * Remove the oldest entries but keep (whose size is keep_size) until the entries total at most
 * max_bytes; also remove stale temp files. Best effort: errors leave files for the next put.
 */
static void
evict(int dfd, const char *keep, uint64_t keep_size, uint64_t max_bytes)
{
	struct scan_entry *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t total = keep_size;
	struct timespec now;
	struct dirent *de;
	int fd2;
	DIR *d;

	clock_gettime(CLOCK_REALTIME, &now);
	fd2 = dup(dfd); /* closedir closes it; dfd stays the caller's */
	if (fd2 < 0)
		return;
	d = fdopendir(fd2);
	if (d == NULL) {
		close(fd2);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		bool entry = name_is_entry(de->d_name);
		struct stat st;

		if ((!entry && !name_is_tmp(de->d_name)) || strcmp(de->d_name, keep) == 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!entry) {
			/* A put in progress keeps its temp file's mtime fresh with every write. */
			if (now.tv_sec - st.st_mtim.tv_sec > RULE_CACHE_STALE_TMP_SEC)
				(void)unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (n == cap) {
			size_t ncap = cap == 0 ? 16 : 2 * cap;
			struct scan_entry *nv;

			if (ncap > RULE_CACHE_MAX_SCAN)
				ncap = RULE_CACHE_MAX_SCAN;
			if (n == ncap)
				break;
			nv = realloc(v, ncap * sizeof(*v));
			if (nv == NULL)
				break;
			v = nv;
			cap = ncap;
		}
		v[n].mtime = st.st_mtim;
		v[n].size = (uint64_t)st.st_size;
		memcpy(v[n].name, de->d_name, ENTRY_NAME_LEN + 1);
		total += v[n].size;
		n++;
	}
	closedir(d);
	if (total > max_bytes && n > 0) {
		qsort(v, n, sizeof(*v), scan_cmp);
		for (size_t i = 0; i < n && total > max_bytes; i++)
			if (unlinkat(dfd, v[i].name, 0) == 0 || errno == ENOENT)
				total -= v[i].size;
	}
	free(v);
}

int
rule_cache_put(const char *dir, const uint8_t key[RULE_CACHE_KEY_LEN], const void *blob,
	       size_t len, uint64_t max_bytes)
{
	char name[ENTRY_NAME_LEN + 1], tmp[TMP_NAME_LEN + 1];
	uint8_t hdr[RULE_CACHE_HDR_LEN];
	int dfd, fd, rc;

	if (dir == NULL || *dir == '\0' || key == NULL || (blob == NULL && len > 0))
		return -EINVAL;
	if ((uint64_t)len > RULE_CACHE_MAX_PAYLOAD || (uint64_t)len + RULE_CACHE_HDR_LEN > max_bytes)
		return -EFBIG;
	memset(hdr, 0, sizeof(hdr));
	put_le32(hdr, RULE_CACHE_FILE_MAGIC);
	put_le32(hdr + 4, RULE_CACHE_FILE_VERSION);
	memcpy(hdr + 8, key, RULE_CACHE_KEY_LEN);
	put_le64(hdr + 40, len);
	rc = sha256(blob != NULL ? blob : "", len, hdr + 48);
	if (rc < 0)
		return rc;

	dfd = dir_open(dir);
	if (dfd == -ENOENT) {
		rc = dir_make(dir);
		if (rc < 0)
			return rc;
		dfd = dir_open(dir);
	}
	if (dfd < 0)
		return dfd;
	rc = dir_check(dfd);
	if (rc < 0)
		goto out_dir;
	entry_name(key, name);
	fd = tmp_create(dfd, name, tmp);
	if (fd < 0) {
		rc = fd;
		goto out_dir;
	}
	/* Whatever the umask: only the owner reads what the dataplane will trust. */
	if (fchmod(fd, 0600) < 0) {
		rc = -errno;
		goto out_tmp;
	}
	rc = write_full(fd, hdr, sizeof(hdr));
	if (rc == 0)
		rc = write_full(fd, blob, len);
	if (rc < 0)
		goto out_tmp;
	/* The data must be on disk before the name points at it, or a crash leaves garbage. */
	if (fsync(fd) < 0) {
		rc = -errno;
		goto out_tmp;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		goto out_tmp;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) < 0) {
		rc = -errno;
		goto out_tmp;
	}
	(void)fsync(dfd); /* the rename itself; the entry is valid either way */
	evict(dfd, name, (uint64_t)len + RULE_CACHE_HDR_LEN, max_bytes);
	rc = 0;
	goto out_dir;

out_tmp:
	if (fd >= 0)
		close(fd);
	(void)unlinkat(dfd, tmp, 0);
out_dir:
	close(dfd);
	return rc;
}
