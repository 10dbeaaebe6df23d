/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * On-disk cache of compiled rule generations (gen_format.h blobs), so that a big pack whose
 * inputs did not change starts without recompiling its Hyperscan databases. An entry is found
 * by a key: SHA-256 over everything the caller says the blob depends on (pack bytes, variables,
 * compiler version) and over the platform (Hyperscan's version and the host CPU's tuning and
 * features), so a database built for another CPU or another Hyperscan is never reused.
 *
 * The cache only stores and returns bytes: it does not know what a blob means, does not
 * deserialize it, and leaves the blob's gen_id as it was stored (the caller sets its own).
 * Writes are atomic (temp file, fsync, rename), reads verify a checksum, and a corrupt entry
 * is removed and reported as such; any error lets the caller compile without the cache.
 * posternd's and posternctl's control thread; several processes may share one directory.
 *
 * Directory: created 0700 (with missing parents) by a put. It must be owned by the caller's
 * effective uid or by root and must not be writable by group or others, since whoever can
 * write there decides which Hyperscan bytes the dataplane deserializes. It may be a symlink.
 * Only names the cache makes are ever touched or counted, the rest of the directory is left
 * alone:
 *   <64 lower-case hex digits of the key>.pgc            an entry, mode 0600
 *   <64 hex>.pgc.tmp.<16 hex>                             a put in progress (removed by a
 *                                                         later put when stale for an hour)
 * Entry file, integers little-endian:
 *   0  u32 magic RULE_CACHE_FILE_MAGIC ("PGCE")   4  u32 version RULE_CACHE_FILE_VERSION
 *   8  key[32]                                     40 u64 payload length
 *   48 SHA-256 of the payload[32]                  80 payload
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define RULE_CACHE_KEY_LEN 32
#define RULE_CACHE_FILE_MAGIC 0x45434750u /* "PGCE" */
#define RULE_CACHE_FILE_VERSION 1u
#define RULE_CACHE_HDR_LEN 80
#define RULE_CACHE_SUFFIX ".pgc"
/* Largest payload a put accepts and a get reads. */
#define RULE_CACHE_MAX_PAYLOAD (UINT64_C(2) << 30)
/* Entries a put's eviction considers; names past it in the directory are ignored. */
#define RULE_CACHE_MAX_SCAN 65536u
/* A temp file untouched for this long is a crashed put's leftover. */
#define RULE_CACHE_STALE_TMP_SEC 3600

/* What a compiled database depends on besides the rules. Strings are borrowed. */
struct rule_cache_platform {
	const char *arch;          /* the build's CPU architecture, e.g. "x86_64" */
	const char *hs_version;    /* hs_version(): release and build date */
	uint32_t tune;             /* hs_platform_info_t.tune, HS_TUNE_FAMILY_* */
	uint64_t cpu_features;     /* hs_platform_info_t.cpu_features, HS_CPU_FEATURES_* */
};

/*
 * Fill p for this process: hs_version() and hs_populate_platform(). 0, -ENOTSUP when
 * Hyperscan does not run on this CPU, or -EIO. Any thread; the strings are static.
 */
int rule_cache_platform_host(struct rule_cache_platform *p);

/*
 * A key is SHA-256 over a sequence of named inputs, each encoded as
 *   u64 LE strlen(name), name, u64 LE len, bytes
 * starting with ("format", "postern-rule-cache-key 1"), ("platform.arch", arch),
 * ("platform.hs_version", hs_version), ("platform.tune", u32 LE), ("platform.cpu_features",
 * u64 LE), then the caller's inputs in the order added.
 */
struct rule_cache_key_ctx;

/*
 * Start a key over the platform p (required: use rule_cache_platform_host() unless testing).
 * NULL with errno (ENOMEM, EINVAL, EIO). The context is freed by _end or _abort.
 */
struct rule_cache_key_ctx *rule_cache_key_begin(const struct rule_cache_platform *p);

/*
 * Add one named input: name (NUL-terminated, ours, e.g. "pack") and len bytes (NULL when
 * len is 0). Inputs are length-prefixed, so ("ab","c") and ("a","bc") give different keys;
 * their order matters. 0 or -EINVAL/-EIO; an error is kept and returned again by _end, so a
 * caller may check only _end.
 */
int rule_cache_key_add(struct rule_cache_key_ctx *c, const char *name, const void *bytes,
		       size_t len);

/* Finish into key and free c (also on error). 0, or the first error of c. */
int rule_cache_key_end(struct rule_cache_key_ctx *c, uint8_t key[RULE_CACHE_KEY_LEN]);

/* Free c without a key; NULL is a no-op. */
void rule_cache_key_abort(struct rule_cache_key_ctx *c);

/* The key as 64 lower-case hex digits and a NUL, for logs and file names. */
void rule_cache_key_hex(const uint8_t key[RULE_CACHE_KEY_LEN],
			char hex[2 * RULE_CACHE_KEY_LEN + 1]);

/*
 * Look up key in dir. 0 with *blob (malloc'ed, the caller frees it, aligned for gen_hdr) of
 * *len bytes, and the entry's mtime set to now so eviction keeps it longer; -ENOENT on a miss
 * (also when dir does not exist); -EBADMSG when the entry is corrupt (truncated, wrong magic,
 * version, key, length or checksum, not a regular file), which is then removed; -EPERM when
 * dir is unsafe (see above); other -errno of the file system (-ENOTDIR, -EACCES, -EIO...).
 * *blob is NULL and *len 0 on every error. A read-only dir or file system is fine.
 */
int rule_cache_get(const char *dir, const uint8_t key[RULE_CACHE_KEY_LEN], void **blob,
		   size_t *len);

/*
 * Store len bytes of blob (borrowed) under key in dir, atomically: readers see the old entry,
 * no entry or the whole new one, never a part; when two processes put the same key both
 * succeed and the last rename wins. Then the oldest entries by mtime are removed until the
 * entries of dir total (header included) at most max_bytes; the new one is never removed by
 * its own put. Eviction is best effort: a file that cannot be removed is left for the next put.
 * 0, or -EFBIG when len is above RULE_CACHE_MAX_PAYLOAD or the entry alone is above max_bytes
 * (nothing is written or removed then), -EPERM when dir is unsafe, -EINVAL, -ENOMEM, or the
 * -errno of the file system (-EACCES, -EROFS, -ENOSPC, -ENOTDIR...).
 */
int rule_cache_put(const char *dir, const uint8_t key[RULE_CACHE_KEY_LEN], const void *blob,
		   size_t len, uint64_t max_bytes);
