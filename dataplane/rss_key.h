/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RSS key that makes a NIC's Toeplitz hash symmetric: one 16-bit pattern (0x6d5a)
 * repeated, so (src, dst, sport, dport) and (dst, src, dport, sport) hash alike and both
 * directions of a flow reach the same queue and worker (Woo and Park, "Scalable TCP Session
 * Monitoring with Symmetric Receive-side Scaling", 2012). Pure; used by port set-up and
 * checked by tests/unit/test_rss_key.c with DPDK's software Toeplitz.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define RSS_KEY_MAX 52

static inline void
rss_symmetric_key(uint8_t *key, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		key[i] = 0x6d;
		key[i + 1] = 0x5a;
	}
}
