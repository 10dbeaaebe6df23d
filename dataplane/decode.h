/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet decoding: Ethernet, 802.1Q/802.1ad (QinQ) tags, IPv4 (with options), IPv6 (with a
 * bounded walk of its extension header chain) and TCP (with its options), over one contiguous
 * buffer. Produces a struct pkt_info that borrows from the buffer. Fragments are recognised and
 * described (struct pkt_frag) so that ip_frag.c can reassemble them; decode_ip() then decodes
 * the reassembled datagram. Checksums: the IPv4 header checksum is always checked and a bad
 * one only flagged (mirror ports with offload show bad checksums on good packets: the caller
 * decides); the TCP checksum is a separate, optional call. Non-fatal oddities (bad TCP
 * options, IPv4 options, atomic fragments) are flagged in pkt_info.anomalies for counting.
 * Pure C, no DPDK; called by worker lcores on every packet, so it never allocates or logs:
 * a bad packet is a decode_result the caller counts.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DECODE_MAX_VLANS 2
#define DECODE_IPV6_MAX_EXT_HEADERS 8   /* extension headers walked before giving up */

enum decode_result {
	DECODE_OK = 0,
	DECODE_NOT_IP,          /* ARP, LLDP, ...: not ours, not an error */
	DECODE_NOT_TCP,         /* UDP, ICMP, ... (also their fragments): not ours, not an error */
	DECODE_FRAGMENT,        /* a fragment of a datagram that may carry TCP: see pkt_info.frag */
	DECODE_TRUNCATED,       /* the frame ends inside a header */
	DECODE_BAD_L2,          /* too many VLAN tags */
	DECODE_BAD_IPV4,        /* version, IHL or total length wrong */
	DECODE_BAD_IPV6,        /* version or payload length wrong */
	DECODE_BAD_TCP,         /* data offset wrong */
	/* appended: */
	DECODE_BAD_IPV4_OPT,    /* IPv4 option list malformed: the receiving host drops it too */
	DECODE_BAD_IPV6_EXT,    /* extension chain longer than the bound, or hop-by-hop not first */
	DECODE__COUNT
};

/* Non-fatal findings: bit (1u << a) in pkt_info.anomalies; the packet is still decoded. */
enum decode_anomaly {
	DECODE_AN_BAD_IP_CSUM = 0,  /* IPv4 header checksum wrong (also pkt_info.bad_ip_csum) */
	DECODE_AN_IPV4_OPTIONS,     /* IPv4 header carries options (IHL > 5) */
	DECODE_AN_IPV4_SRCROUTE,    /* IPv4 loose or strict source route option */
	DECODE_AN_IPV6_ATOMIC_FRAG, /* IPv6 fragment header with offset 0 and M clear (RFC 6946) */
	DECODE_AN_TCP_OPT_TRUNC,    /* a TCP option runs past the header: the rest is ignored */
	DECODE_AN_TCP_OPT_BAD_LEN,  /* option length < 2 or wrong for its kind: ignored */
	DECODE_AN_TCP_OPT_DUP,      /* an option repeated: the last one counts, as in Linux */
	DECODE_AN_TCP_OPT_NOT_SYN,  /* MSS, window scale or SACK-permitted outside a SYN: ignored */
	DECODE_AN_TCP_WSCALE_BIG,   /* window scale above 14: clamped to 14 (RFC 7323) */
	DECODE_AN_IPV4_LEN_ZERO,    /* IPv4 total length 0: a TSO/GSO frame captured on its host
				     * before segmentation; the frame's length is taken */
	DECODE_AN__COUNT
};

enum tcp_flag {
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
	TCP_URG = 0x20,
};

/* Which TCP options were found (struct tcp_options.present). */
enum tcp_opt_flag {
	TCP_OPT_MSS = 0x01,
	TCP_OPT_WSCALE = 0x02,
	TCP_OPT_SACK_PERM = 0x04,
	TCP_OPT_TIMESTAMP = 0x08,
	TCP_OPT_SACK = 0x10,
};

struct tcp_options {
	uint8_t present;        /* enum tcp_opt_flag */
	uint8_t wscale;         /* shift, at most 14 */
	uint16_t mss;
	uint8_t n_sack_blocks;
	uint32_t ts_val;
	uint32_t ts_ecr;
};

/*
 * What ip_frag_add() needs from a DECODE_FRAGMENT. Offsets are from the IP header
 * (pkt_info.l3_off in the decoded buffer).
 */
struct pkt_frag {
	uint32_t id;            /* IPv4 identification, or the IPv6 fragment header's */
	uint16_t offset;        /* byte offset of this fragment's data in the datagram */
	bool more;              /* more fragments follow (MF / M) */
	uint8_t proto;          /* IPv4 protocol; IPv6: the fragment header's next header */
	uint16_t hdr_len;       /* IP header kept on reassembly: IHL * 4, or IPv6 header plus
				 * the unfragmentable extension headers (up to the fragment
				 * header, which reassembly removes) */
	uint16_t nh_off;        /* IPv6: the next-header byte that names the fragment header */
	uint32_t data_off;      /* this fragment's data */
	uint32_t data_len;
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
	/* appended: */
	bool bad_ip_csum;       /* IPv4 header checksum wrong; decoded anyway */
	uint8_t l4_proto;       /* upper-layer protocol reached (6 once TCP) */
	uint8_t tcp_hlen;       /* TCP header length with options */
	uint32_t anomalies;     /* bits (1u << enum decode_anomaly) */
	uint32_t l3_off;        /* IP header, from the start of the decoded buffer */
	uint32_t l3_len;        /* IPv4 total length, IPv6 40 + payload length */
	uint32_t l4_off;        /* TCP header, from the start of the decoded buffer */
	uint32_t v6_dst_off;    /* IPv6 final destination (routing header aware), from l3 */
	struct tcp_options tcp_opt;
	struct pkt_frag frag;   /* DECODE_FRAGMENT only */
};

/*
 * Decode one frame starting at its Ethernet header. Worker lcores. `out` is fully rewritten;
 * its pointers borrow from `frame`. Only DECODE_OK fills the TCP fields; DECODE_FRAGMENT
 * fills the addresses, l3_*, bad_ip_csum and frag.
 */
enum decode_result decode_packet(const uint8_t *frame, size_t len, struct pkt_info *out);

/* What a frame starts with: the capture's link type (a pcap file's DLT_*). */
enum decode_link {
	DECODE_LINK_ETHERNET = 0, /* DLT_EN10MB */
	DECODE_LINK_NULL,         /* DLT_NULL, DLT_LOOP: 4-byte address family, either order */
	DECODE_LINK_RAW,          /* DLT_RAW: the IP header */
	DECODE_LINK_SLL,          /* DLT_LINUX_SLL: 16-byte cooked header, protocol last */
};

/*
 * Decode one frame of the given link type: decode_packet() for Ethernet; the others have
 * no VLANs, and l3_off is where their IP header starts. Worker lcores.
 */
enum decode_result decode_frame(enum decode_link link, const uint8_t *frame, size_t len,
				struct pkt_info *out);

/*
 * Decode from the IP header (version from the first nibble): for datagrams ip_frag.c
 * reassembled. Same results and fields as decode_packet() with l3_off 0 and no VLANs (copy
 * n_vlans/vlan from the fragment's pkt_info). A DECODE_FRAGMENT here (a fragment header
 * inside a reassembled datagram) must not be fed back to ip_frag_add(): count and drop it.
 */
enum decode_result decode_ip(const uint8_t *ip, size_t len, struct pkt_info *out);

/*
 * True if the TCP checksum (IPv4 or IPv6 pseudo-header) of a segment is right. `buf`/`len`
 * are what decode_packet() or decode_ip() decoded into `p` with DECODE_OK; false if `p` does
 * not fit in `buf`. Optional: mirror ports with checksum offload show bad ones. Any lcore.
 */
bool decode_tcp_csum_ok(const uint8_t *buf, size_t len, const struct pkt_info *p);

/* Short name of a result for counters and logs ("truncated"). */
const char *decode_result_name(enum decode_result r);

/* Short name of an anomaly for counters ("bad_ip_csum"). */
const char *decode_anomaly_name(enum decode_anomaly a);

/*
 * The unfolded sum of the TCP pseudo-header: source and destination (16 bytes each, IPv4 as
 * ::ffff:a.b.c.d as in pkt_info), protocol 6 and the segment's length seg.
 */
uint32_t decode_tcp_pseudo_sum(int ip_version, const uint8_t src[16], const uint8_t dst[16],
			       size_t seg);

/* One's complement sum of `len` bytes (big-endian words) added to `sum`, not folded. */
uint32_t decode_csum_add(uint32_t sum, const uint8_t *p, size_t len);

/* Fold a decode_csum_add() sum to 16 bits and complement it: the checksum field value. */
uint16_t decode_csum_fold(uint32_t sum);
