/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Contract between the hybrid-mode XDP program (postern_steer.bpf.c) and whoever loads it or
 * reads its maps (the af_xdp PMD loads it; the dataplane's main lcore may fill the port map
 * and sum the per-CPU counters). Map names, sizes and counter indices live here so that both
 * sides agree; the header holds no code and includes nothing, so that it builds for the BPF
 * target and for the host alike.
 */
#pragma once

/* The AF_XDP socket map; the name is fixed by DPDK's af_xdp PMD (xdp_prog= argument). */
#define POSTERN_STEER_XSKS_MAP "xsks_map"
#define POSTERN_STEER_XSKS_MAX 64

/*
 * Inspected TCP ports, host byte order, one u16 per entry, 0 = unused. While every entry is
 * 0 (the PMD loads the program and knows nothing of this map) the compiled-in default set
 * (25, 587) applies; as soon as one entry is non-zero the map alone decides.
 */
#define POSTERN_STEER_PORTS_MAP "postern_ports"
#define POSTERN_STEER_MAX_PORTS 16

/* Per-CPU array of u64 packet counters, one per index below; the reader sums the CPUs. */
#define POSTERN_STEER_STATS_MAP "postern_stats"

enum postern_steer_stat {
	POSTERN_STEER_STEERED = 0,	/* redirected to the AF_XDP socket of the rx queue */
	POSTERN_STEER_NO_SOCKET,	/* inspected port, no socket bound: XDP_PASS (fail open) */
	POSTERN_STEER_PASS_TCP,		/* TCP on other ports: kernel bridge */
	POSTERN_STEER_PASS_NOT_TCP,	/* IPv4/IPv6, not TCP (UDP, ICMP, ...) */
	POSTERN_STEER_PASS_NOT_IP,	/* ARP, LLDP, other ethertypes, more than two VLAN tags */
	POSTERN_STEER_PASS_FRAGMENT,	/* a fragment of a datagram that is not TCP */
	POSTERN_STEER_PASS_MALFORMED,	/* truncated or inconsistent header: left to the kernel */
	POSTERN_STEER_N_STATS
};
