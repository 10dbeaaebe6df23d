/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * XDP steering program for the hybrid inline mode: a kernel bridge carries all traffic
 * between the two ports, and this program, attached to both ports by DPDK's af_xdp PMD
 * (xdp_prog=), redirects only TCP segments to or from an inspected port (25 and 587 by default,
 * or the ports in postern_ports) to the AF_XDP socket of the receiving queue, where the
 * dataplane reads and forwards them itself. It parses Ethernet, up to two VLAN tags (802.1Q,
 * 802.1ad, the old 0x9100), IPv4 with any IHL and IPv6 with up to four hop-by-hop, routing,
 * destination-options or fragment extension headers (AH, ESP and anything else: not TCP, pass).
 * Every fragment of a TCP datagram is steered, whatever its ports (only the first fragment
 * has them): the dataplane reassembles to inspect and sends each fragment on as it came, so a
 * fragmented segment is never split between the two paths. Everything else returns XDP_PASS, and so does a redirect when no socket is bound to the queue
 * (dataplane stopped or killed): the bridge then carries the mail too (fail open). It never
 * drops, never rewrites a packet, and keeps per-CPU counters only. Runs in the kernel, in the
 * receive path of each port, on any CPU.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "postern_steer.h"

#define ETH_P_QINQ_OLD 0x9100
#define IP_FRAG_OFFSET_MASK 0x1fff
#define IP_MF 0x2000
#define IPV6_FRAG_OFFSET_MASK 0xfff8
#define STEER_MAX_VLANS 2
#define STEER_MAX_IPV6_EXT 4

/* Compiled-in inspected ports, used while postern_ports is all zero. */
#define STEER_DEFAULT_PORT_SMTP 25
#define STEER_DEFAULT_PORT_SUBMISSION 587

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, POSTERN_STEER_XSKS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, POSTERN_STEER_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u16);
} postern_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, POSTERN_STEER_N_STATS);
	__type(key, __u32);
	__type(value, __u64);
} postern_stats SEC(".maps");

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

struct ipv6_ext {
	__u8 next;
	__u8 len;	/* in 8-byte units, not counting the first 8 (fragment: reserved) */
	__be16 frag;	/* fragment header only: offset << 3 | flags */
};

static __always_inline int count(__u32 idx, int action)
{
	__u64 *n = bpf_map_lookup_elem(&postern_stats, &idx);

	if (n)
		*n += 1; /* per-CPU slot, nobody else writes it */
	return action;
}

/* Port numbers in host order. */
static __always_inline int port_is_inspected(__u16 sport, __u16 dport)
{
	int any_set = 0;

#pragma unroll
	for (__u32 i = 0; i < POSTERN_STEER_MAX_PORTS; i++) {
		__u32 key = i;
		__u16 *p = bpf_map_lookup_elem(&postern_ports, &key);

		if (!p || *p == 0)
			continue;
		any_set = 1;
		if (*p == sport || *p == dport)
			return 1;
	}
	if (any_set)
		return 0;
	return sport == STEER_DEFAULT_PORT_SMTP || dport == STEER_DEFAULT_PORT_SMTP ||
	       sport == STEER_DEFAULT_PORT_SUBMISSION || dport == STEER_DEFAULT_PORT_SUBMISSION;
}

/*
 * Walks the extension headers a TCP segment can sit behind; leaves *off at the upper-layer
 * header and returns its protocol, or -1 for a fragment of a TCP datagram (first or not: a
 * first fragment's ports are there, but its datagram's other pieces have none), -3 for a
 * fragment of anything else, -2 for a truncated header.
 */
static __always_inline int ipv6_skip_ext(void *data, void *end, __u32 *off, __u8 next)
{
#pragma unroll
	for (int i = 0; i < STEER_MAX_IPV6_EXT; i++) {
		struct ipv6_ext *ext;

		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING &&
		    next != IPPROTO_DSTOPTS && next != IPPROTO_FRAGMENT)
			return next;
		if (*off > 512) /* keeps the offset provably small for the verifier */
			return -2;
		ext = data + *off;
		if ((void *)(ext + 1) > end)
			return -2;
		if (next == IPPROTO_FRAGMENT) {
			/* an atomic fragment (offset 0, M clear) is a whole datagram: walk on */
			if (bpf_ntohs(ext->frag) & (IPV6_FRAG_OFFSET_MASK | 1))
				return ext->next == IPPROTO_TCP ? -1 : -3;
			*off += 8;
		} else {
			*off += ((__u32)ext->len + 1) * 8;
		}
		next = ext->next;
	}
	/* Still an extension header after four: not worth the walk, not steered. */
	if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
	    next == IPPROTO_FRAGMENT)
		return 255;
	return next;
}

SEC("xdp")
int postern_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	__u32 off = sizeof(*eth);
	__u16 proto;
	int l4;

	if ((void *)(eth + 1) > end)
		return count(POSTERN_STEER_PASS_MALFORMED, XDP_PASS);
	proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (int i = 0; i < STEER_MAX_VLANS; i++) {
		struct vlan_tag *vlan;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD && proto != ETH_P_QINQ_OLD)
			break;
		vlan = data + off;
		if ((void *)(vlan + 1) > end)
			return count(POSTERN_STEER_PASS_MALFORMED, XDP_PASS);
		proto = bpf_ntohs(vlan->proto);
		off += sizeof(*vlan);
	}

	if (proto == ETH_P_IP) {
		struct iphdr *ip = data + off;
		__u32 ihl;

		if ((void *)(ip + 1) > end)
			return count(POSTERN_STEER_PASS_MALFORMED, XDP_PASS);
		ihl = (__u32)ip->ihl * 4;
		if (ip->version != 4 || ihl < sizeof(*ip))
			return count(POSTERN_STEER_PASS_MALFORMED, XDP_PASS);
		if (ip->protocol != IPPROTO_TCP)
			return count(POSTERN_STEER_PASS_NOT_TCP, XDP_PASS);
		if (bpf_ntohs(ip->frag_off) & (IP_MF | IP_FRAG_OFFSET_MASK))
			goto steer; /* the dataplane reassembles: every piece goes there */
		off += ihl;
		l4 = IPPROTO_TCP;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > end)
			return count(POSTERN_STEER_PASS_MALFORMED, XDP_PASS);
		if (ip6->version != 6)
			return count(POSTERN_STEER_PASS_MALFORMED, XDP_PASS);
		off += sizeof(*ip6);
		l4 = ipv6_skip_ext(data, end, &off, ip6->nexthdr);
		if (l4 == -1)
			goto steer;
		if (l4 == -3)
			return count(POSTERN_STEER_PASS_FRAGMENT, XDP_PASS);
		if (l4 == -2)
			return count(POSTERN_STEER_PASS_MALFORMED, XDP_PASS);
		if (l4 != IPPROTO_TCP)
			return count(POSTERN_STEER_PASS_NOT_TCP, XDP_PASS);
	} else {
		return count(POSTERN_STEER_PASS_NOT_IP, XDP_PASS);
	}

	/* off is at most 14 + 8 + 40 + 512 + 8 * 256 here; bound it again for the verifier. */
	if (off > 1024)
		return count(POSTERN_STEER_PASS_MALFORMED, XDP_PASS);
	tcp = data + off;
	if ((void *)(tcp + 1) > end)
		return count(POSTERN_STEER_PASS_MALFORMED, XDP_PASS);
	if (!port_is_inspected(bpf_ntohs(tcp->source), bpf_ntohs(tcp->dest)))
		return count(POSTERN_STEER_PASS_TCP, XDP_PASS);
steer:
	/*
	 * The low bits of the flags are the action when the queue has no socket: XDP_PASS keeps
	 * mail flowing through the bridge while the dataplane is down.
	 */
	if (bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS) == XDP_REDIRECT)
		return count(POSTERN_STEER_STEERED, XDP_REDIRECT);
	return count(POSTERN_STEER_NO_SOCKET, XDP_PASS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
