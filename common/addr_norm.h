/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Email address normalization and the suppression-set keys derived from it. An address as it
 * comes from the wire (RCPT TO path) or from an operator's CSV becomes one canonical string:
 * surrounding spaces and one pair of angle brackets dropped, the domain lowercased (ASCII) or
 * converted to its ASCII (A-label) form when it is internationalized, the local part kept as
 * is unless a flag says otherwise. The key of an address is SHA-256 of that string; the key of
 * a whole domain is SHA-256 of "@" + the normalized domain, so the two never collide.
 *
 * Not a full RFC 5321/5322 validator: it rejects what cannot be one mailbox (no '@', empty
 * parts, control bytes, spaces and specials outside a quoted local part, overlong input) and
 * leaves the rest alone. It does not unquote quoted local parts; the one provider-specific
 * rule it knows (dots in Gmail local parts) is a flag, off by default. Pure; any thread. ASCII addresses never allocate; only a
 * non-ASCII domain goes through libidn2, which allocates (and is therefore off the worker
 * fast path's no-allocation promise for those addresses only).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slice.h"

#define ADDR_NORM_MAX 254                /* longest normalized address, bytes (RFC 5321 path) */
#define ADDR_NORM_CAP (ADDR_NORM_MAX + 1) /* out buffer that always fits, with its NUL */
#define ADDR_DOMAIN_MAX 253              /* longest domain, bytes */
#define ADDR_KEY_LEN 32                  /* SHA-256 */

enum addr_norm_flag {
	ADDR_NORM_LOWER_LOCAL = 1u << 0, /* lowercase the local part (ASCII letters only) */
	ADDR_NORM_STRIP_TAG = 1u << 1,   /* drop "+tag" from an unquoted local part */
	ADDR_NORM_FOLD_DOTS = 1u << 2,   /* Gmail: drop dots from an unquoted local part at
					  * gmail.com and googlemail.com, which ignore them */
};
#define ADDR_NORM_FLAGS_ALL (ADDR_NORM_LOWER_LOCAL | ADDR_NORM_STRIP_TAG | ADDR_NORM_FOLD_DOTS)

/*
 * Normalize `in` into out (cap bytes; ADDR_NORM_CAP always suffices), NUL-terminated.
 * Returns the length without the NUL, -EINVAL when it is not an address (or flags has unknown
 * bits), -ENAMETOOLONG when the input or the result is over ADDR_NORM_MAX (or the domain over
 * ADDR_DOMAIN_MAX), -ENOBUFS when cap is too small, -ENOMEM when libidn2 could not allocate.
 * The domain of the result is everything after its last '@'.
 */
int addr_normalize(struct slice in, unsigned flags, char *out, size_t cap);

/*
 * Normalize a bare domain for a domain-wide entry: "example.com", "@Example.COM" or
 * "<@example.com>" all give "example.com". Same returns as addr_normalize().
 */
int addr_domain(struct slice in, char *out, size_t cap);

/*
 * SHA-256 through libcrypto's one-shot-state interface (SHA256_Init/Update/Final): the state
 * lives in the hasher, so a worker hashes without allocating. OpenSSL 3.0's EVP interface
 * allocates a provider context on every digest init (fixed upstream in 3.1, PR 18105), which
 * the dataplane's "no allocation after start" rules out. One hasher per thread.
 */
#include <openssl/sha.h>

struct addr_hasher {
	SHA256_CTX ctx;
};

/* Prepare a hasher. Always 0; kept fallible so a hasher may later hold resources. */
int addr_hasher_init(struct addr_hasher *h);

/* Release it; safe on a zeroed or already finished hasher. */
void addr_hasher_fini(struct addr_hasher *h);

/* key = SHA-256(norm[0..len)). 0 or -EIO. */
int addr_hasher_key(struct addr_hasher *h, const char *norm, size_t len,
		    uint8_t key[ADDR_KEY_LEN]);

/* key = SHA-256("@" + domain[0..len)), the key of a domain-wide entry. 0 or -EIO. */
int addr_hasher_domain_key(struct addr_hasher *h, const char *domain, size_t len,
			   uint8_t key[ADDR_KEY_LEN]);
