/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The link type of a capture file (classic pcap or pcapng), so that frames read from it
 * through DPDK's pcap vdev, which does not say, are decoded from the right header. Pure C,
 * start-up only (it reads the file's first blocks with stdio).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode.h"

#define PCAP_MAGIC_US 0xa1b2c3d4u  /* classic pcap, microsecond timestamps */
#define PCAP_MAGIC_NS 0xa1b23c4du  /* classic pcap, nanosecond timestamps */
#define PCAPNG_SHB 0x0a0d0d0au     /* pcapng section header block */
#define PCAPNG_IDB 1u              /* pcapng interface description block */
#define PCAPNG_BYTE_ORDER 0x1a2b3c4du

/* A pcap or pcapng field, in the file's byte order (swap: it is not the host's). */
static inline uint16_t
pcap_rd16(const uint8_t *p, bool swap)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return swap ? __builtin_bswap16(v) : v;
}

static inline uint32_t
pcap_rd32(const uint8_t *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swap ? __builtin_bswap32(v) : v;
}

/*
 * Read the link type of the capture at path: pcap's header field, or pcapng's first
 * interface description. 0, or a negative errno with a message in err: -ENOTSUP for a link
 * type the decoder does not follow (with its number), -EINVAL for a file that is neither
 * format, or the errno of opening and reading it.
 */
int pcap_link_type(const char *path, enum decode_link *out, char *err, size_t errlen);

/* The decoder's link for a LINKTYPE_* number; -1 when it has none. */
int pcap_link_from_dlt(unsigned dlt);
