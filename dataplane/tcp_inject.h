/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The frames an inline dataplane sends of its own accord when it blocks a transaction: an
 * SMTP reply to the client as if from the server, and a reset to the server as if from the
 * client. Each is built from a frame of the flow that was just decoded, so that its link
 * layer (MAC addresses, the same VLAN tags) and IP addresses mirror that frame exactly: a
 * reply swaps both ends, a frame onward keeps them. The IP header is minimal (IPv4 without
 * options, TTL 64, DF; IPv6 without extension headers, hop limit 64), the TCP header carries
 * no options, and both checksums are computed.
 *
 * Pure C, no DPDK: it writes into a caller's buffer and never allocates. Worker lcores.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct pkt_info;

enum tcp_inject_dir {
	TCP_INJECT_REPLY = 0,   /* back towards the frame's sender: addresses and ports swapped */
	TCP_INJECT_ONWARD = 1,  /* on towards the frame's receiver, as its sender */
};

struct tcp_inject {
	enum tcp_inject_dir dir;
	uint32_t seq, ack;      /* host order */
	uint8_t flags;          /* enum tcp_flag; other bits are not sent */
	uint16_t window;
	const void *payload;    /* may be NULL when payload_len is 0 */
	uint16_t payload_len;
};

/* The largest frame tcp_inject_build writes for a payload of n bytes. */
#define TCP_INJECT_MAX(n) (14u + 4u * 2u + 40u + 20u + (n)) /* two VLAN tags, IPv6 */

/*
 * Recompute, in place, the TCP checksum of frame (len bytes, decoded into p) after its
 * payload was rewritten. 0, or -EINVAL when p does not describe a TCP segment of frame.
 */
int tcp_inject_fix_checksum(uint8_t *frame, size_t len, const struct pkt_info *p);

/*
 * Build into out (cap bytes) the frame t describes, on the flow of frame (len bytes, decoded
 * into p, whose l3_off and l4_off locate its headers). Returns the frame's length, or
 * -EINVAL (p is not a decoded TCP frame of frame), -ENOSPC (cap too small).
 */
int tcp_inject_build(const uint8_t *frame, size_t len, const struct pkt_info *p,
		     const struct tcp_inject *t, uint8_t *out, size_t cap);
