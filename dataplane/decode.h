/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet decoding: Ethernet, 802.1Q/802.1ad (QinQ) tags, IPv4, IPv6 (with its extension
 * header chain) and TCP, over one contiguous frame. Produces a struct pkt_info that borrows
 * from the frame. Fragments are recognised and reported, not reassembled (a later stage).
 * Pure C, no DPDK; called by worker lcores on every packet, so it never allocates or logs:
 * a bad packet is a decode_result the caller counts.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DECODE_MAX_VLANS 2

enum decode_result {
	DECODE_OK = 0,
	DECODE_NOT_IP,          /* ARP, LLDP, ...: not ours, not an error */
	DECODE_NOT_TCP,         /* UDP, ICMP, ...: not ours, not an error */
	DECODE_FRAGMENT,        /* an IP fragment: counted, not reassembled yet */
	DECODE_TRUNCATED,       /* the frame ends inside a header */
	DECODE_BAD_L2,          /* too many VLAN tags */
	DECODE_BAD_IPV4,        /* version, IHL or total length wrong */
	DECODE_BAD_IPV6,        /* payload length wrong, extension chain too long */
	DECODE_BAD_TCP,         /* data offset wrong */
	DECODE__COUNT
};

enum tcp_flag {
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
	TCP_URG = 0x20,
};

struct pkt_info {
	uint8_t ip_version;     /* 4 or 6 */
	uint8_t n_vlans;
	uint16_t vlan[DECODE_MAX_VLANS];
	uint8_t src[16];        /* IPv4 as ::ffff:a.b.c.d so both families compare alike */
	uint8_t dst[16];
	uint16_t sport;         /* host order */
	uint16_t dport;
	uint32_t seq;           /* host order */
	uint32_t ack;
	uint16_t window;
	uint8_t tcp_flags;      /* enum tcp_flag */
	const uint8_t *payload; /* borrowed from the frame */
	uint32_t payload_len;   /* from the IP length, so Ethernet padding is excluded */
};

/* Decode one frame starting at its Ethernet header. */
enum decode_result decode_packet(const uint8_t *frame, size_t len, struct pkt_info *out);

/* Short name of a result for counters and logs ("truncated"). */
const char *decode_result_name(enum decode_result r);
