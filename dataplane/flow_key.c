/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Canonical flow keys and their symmetric hash. The hash is a 64-bit multiply-xorshift mix
 * over the key's words: cheap, good enough to spread flows across workers and hash buckets,
 * and identical on both directions because the key is canonical. Pure, any lcore.
 */
#include <string.h>

#include "flow_key.h"
#include "hash_mix.h"

_Static_assert(sizeof(struct flow_key) == 40, "flow key is hashed as 5 words");

unsigned
flow_key_from_pkt(struct flow_key *key, const struct pkt_info *pkt)
{
	int c = memcmp(pkt->src, pkt->dst, 16);
	unsigned side = (c > 0 || (c == 0 && pkt->sport > pkt->dport)) ? 1 : 0;

	memset(key, 0, sizeof(*key));
	if (side == 0) {
		memcpy(key->addr[0], pkt->src, 16);
		memcpy(key->addr[1], pkt->dst, 16);
		key->port[0] = pkt->sport;
		key->port[1] = pkt->dport;
	} else {
		memcpy(key->addr[0], pkt->dst, 16);
		memcpy(key->addr[1], pkt->src, 16);
		key->port[0] = pkt->dport;
		key->port[1] = pkt->sport;
	}
	key->vlan = pkt->n_vlans > 0 ? pkt->vlan[0] : 0;
	key->ip_version = pkt->ip_version;
	return side;
}

static uint64_t
hash_words(const struct flow_key *key, uint64_t seed)
{
	uint64_t w[5];
	uint64_t h = seed;

	memcpy(w, key, sizeof(w));
	for (int i = 0; i < 5; i++)
		h = hash_mix64(h ^ w[i]) + UINT64_C(0x9e3779b97f4a7c15);
	return h;
}

uint32_t
flow_key_hash(const struct flow_key *key)
{
	uint64_t h = hash_words(key, 0);

	return (uint32_t)(h ^ (h >> 32));
}

uint64_t
flow_key_id(const struct flow_key *key, uint64_t first_seen_us)
{
	/* EVE consumers (and jq) read flow_id as a JSON number: keep it within 2^53. */
	return hash_words(key, hash_mix64(first_seen_us)) & ((UINT64_C(1) << 53) - 1);
}

uint32_t
flow_hosts_hash(const struct pkt_info *pkt)
{
	struct flow_key k;
	bool swap = memcmp(pkt->src, pkt->dst, 16) > 0;

	memset(&k, 0, sizeof(k));
	memcpy(k.addr[0], swap ? pkt->dst : pkt->src, 16);
	memcpy(k.addr[1], swap ? pkt->src : pkt->dst, 16);
	k.vlan = pkt->n_vlans > 0 ? pkt->vlan[0] : 0;
	k.ip_version = pkt->ip_version;
	return flow_key_hash(&k);
}
