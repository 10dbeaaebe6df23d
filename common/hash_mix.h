/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The 64-bit finaliser of MurmurHash3 (fmix64): a cheap, well-spread mix for the hash tables
 * of the fast path (flow keys, fragment keys). Not a keyed hash: tables exposed to chosen
 * keys add their own seed. Pure, any thread.
 */
#pragma once

#include <stdint.h>

static inline uint64_t
hash_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}
