/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hybrid inline mode's XDP side, through libbpf. DPDK's af_xdp PMD loads and attaches
 * the steering program itself (dataplane/bpf/postern_steer.bpf.c, vdev argument xdp_prog=),
 * so this module only does what the PMD cannot:
 *  - before the ports open, remove a steering program that a dataplane killed earlier left
 *    attached (it keeps mail flowing through the bridge meanwhile, XDP_PASS without a
 *    socket, but the PMD refuses to attach over any program); a program that is not ours is
 *    never touched: that is an error for the operator;
 *  - once the ports are up, write the configured inspected ports into the attached
 *    program's port map (it steers 25 and 587 until then).
 * Main lcore, start-up only; needs CAP_NET_ADMIN and CAP_BPF (or root).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The name the kernel knows the steering program by (SEC("xdp") function, 15 chars max). */
#define XDP_STEER_PROG_NAME "postern_steer"

/*
 * Remove our steering program from ifname if one is attached. Returns 1 if one was removed,
 * 0 if none was attached, -1 with the reason in err (no such interface, another program
 * attached, or libbpf's error).
 */
int xdp_steer_detach_stale(const char *ifname, char *err, size_t errlen);

/*
 * Write ports (n of them, at most the map's size; the rest of the map cleared) into the
 * port map of the steering program attached to ifname. 0, or -1 with the reason in err.
 */
int xdp_steer_set_ports(const char *ifname, const uint16_t *ports, unsigned n, char *err,
			size_t errlen);
