/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Canonical flow keys: both directions of a TCP connection map to one key (the lower
 * address/port pair first), so a flow table lookup and the software dispatch hash agree for
 * the client's and the server's packets. The hash is symmetric by construction: it is a hash
 * of the canonical key. Pure C; worker and RX lcores.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

struct flow_key {
	uint8_t addr[2][16];   /* addr[0] <= addr[1] (with ports as tie-break) */
	uint16_t port[2];
	uint16_t vlan;         /* outer VLAN id: the same 5-tuple on two VLANs is two flows */
	uint8_t ip_version;
	uint8_t reserved;      /* zero: the key is hashed and compared as bytes */
};

/*
 * Fill the canonical key of a decoded packet. Returns the side the packet came from: 0 when
 * its source is key->addr[0]/port[0], 1 otherwise.
 */
unsigned flow_key_from_pkt(struct flow_key *key, const struct pkt_info *pkt);

/* 32-bit hash of a canonical key; the same for both directions of a flow. */
uint32_t flow_key_hash(const struct flow_key *key);

/*
 * Symmetric hash of a packet's two hosts (and outer VLAN), ports left out: what spreads
 * packets over workers, so that the fragments of a datagram, whose later pieces carry no
 * ports, reach the worker that owns their flow.
 */
uint32_t flow_hosts_hash(const struct pkt_info *pkt);

/* Stable 64-bit flow id for EVE's flow_id: a hash of the key and the flow's first packet time. */
uint64_t flow_key_id(const struct flow_key *key, uint64_t first_seen_us);
