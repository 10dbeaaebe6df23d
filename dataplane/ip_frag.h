/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 and IPv6 fragment reassembly with bounded memory. One table per worker lcore, created
 * at start-up with every byte it will ever use (datagram slots, fragment data in fixed chunks,
 * one output buffer); nothing is allocated afterwards. Datagrams are keyed by (VLANs, src,
 * dst, id, IPv4 protocol). Overlaps follow a "first" policy: bytes already held win, and new
 * bytes that overlap them with different content raise IP_FRAG_EV_OVERLAP_DIFF (an evasion
 * attempt). Limits: 65535-byte datagrams, a maximum of disjoint byte ranges held per datagram
 * (holes, not fragments: adjacent fragments merge, so 8-byte fragments in order cost one), a
 * timeout from the first fragment, a table-full policy that evicts the oldest datagram. Every
 * limit hit is a counted event. It does not decode (decode.c describes each fragment in
 * struct pkt_frag; decode_ip() decodes the result) and it does not know about flows.
 * Pure C, no DPDK; a table belongs to one worker lcore, no locking.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* Disjoint ranges held per datagram. 8-byte fragments of a 9000-byte jumbo in random order
 * leave up to ~n/4 = 281 holes at once; in any order a 1500-byte packet leaves at most 93. */
#define IP_FRAG_MAX_FRAGS_CAP 512
#define IP_FRAG_DEFAULT_MAX_FRAGS 512
#define IP_FRAG_DEFAULT_TIMEOUT_US 30000000ull  /* Linux ipfrag_time */
#define IP_FRAG_MAX_HDR 256     /* IP header (+ IPv6 unfragmentable part) kept per datagram */
#define IP_FRAG_CHUNK 128       /* fragment data is held in chunks of this many bytes */

enum ip_frag_result {
	IP_FRAG_HELD = 0,       /* kept; the datagram is not complete yet */
	IP_FRAG_COMPLETE,       /* *out holds the reassembled IP packet */
	IP_FRAG_DROPPED,        /* the fragment (maybe its datagram) was dropped: see events */
};

/* Bit (1u << e) in *events; each one also has a counter in struct ip_frag_stats. */
enum ip_frag_event {
	IP_FRAG_EV_DUPLICATE = 0,   /* an exact repeat of bytes held: ignored */
	IP_FRAG_EV_OVERLAP_SAME,    /* overlaps bytes held with the same content */
	IP_FRAG_EV_OVERLAP_DIFF,    /* overlaps bytes held with different content: first wins */
	IP_FRAG_EV_TOO_MANY,        /* more disjoint ranges held than the limit: datagram dropped */
	IP_FRAG_EV_TIMEOUT,         /* a datagram expired incomplete (counter only) */
	IP_FRAG_EV_TABLE_FULL,      /* no free slot: the oldest datagram was evicted */
	IP_FRAG_EV_MEM_FULL,        /* no free chunk: the oldest evicted, or this one dropped */
	IP_FRAG_EV_BAD_LENGTH,      /* empty (dropped); past 65535 bytes (datagram dropped);
				     * not a multiple of 8 before the end (IPv4: trimmed, as
				     * Linux does; IPv6: dropped) */
	IP_FRAG_EV_END_CONFLICT,    /* data past the end, or a second, different last fragment:
				     * the datagram is dropped, as Linux does */
	IP_FRAG_EV_TINY_FIRST,      /* first fragment without a whole TCP header (IPv6:
				     * dropped, as Linux does, RFC 7112; IPv4: kept) */
	IP_FRAG_EV_HDR_TOO_LONG,    /* IPv6 unfragmentable part above IP_FRAG_MAX_HDR: dropped */
	IP_FRAG_EV_INVALID,         /* not a DECODE_FRAGMENT of this frame: dropped */
	IP_FRAG_EV__COUNT
};

struct ip_frag_stats {
	uint64_t n_fragments;           /* ip_frag_add() calls */
	uint64_t n_completed;           /* datagrams handed out */
	uint64_t n_events[IP_FRAG_EV__COUNT];
	uint32_t datagrams_in_use;
	uint64_t bytes_in_use;          /* fragment data held, in whole chunks */
	uint64_t bytes_max;
};

struct ip_frag_table;

/*
 * Start-up (main lcore): a table of `max_datagrams` datagrams in progress and `max_bytes` of
 * fragment data (rounded down to chunks), plus a fixed ~66 KB output buffer and
 * IP_FRAG_MAX_HDR per slot. NULL with errno EINVAL (a zero limit) or ENOMEM.
 */
struct ip_frag_table *ip_frag_table_create(uint32_t max_datagrams, uint32_t max_bytes);

/* Free everything; NULL is a no-op. Main lcore, after the worker stopped. */
void ip_frag_table_destroy(struct ip_frag_table *t);

/*
 * Start-up: change the timeout (microseconds, > 0) and the disjoint byte ranges (holes) held
 * per datagram (1..IP_FRAG_MAX_FRAGS_CAP). 0 or -EINVAL.
 */
int ip_frag_table_set_limits(struct ip_frag_table *t, uint64_t timeout_us, uint32_t max_frags);

/*
 * Add one fragment. `frame`/`len` are the buffer decode_packet() returned DECODE_FRAGMENT
 * for and `p` its pkt_info; the fragment is copied, `frame` is not kept. `now_us` is the
 * packet time; datagrams older than the timeout are freed on access.
 * IP_FRAG_COMPLETE: *out, *out_len is the reassembled IP packet (IPv4 header of the first
 * fragment with total length, fragment field and checksum rewritten; IPv6 header and
 * unfragmentable part of the first fragment, without the fragment header, payload length
 * rewritten), in the table's own buffer, valid until the next call on this table; decode it
 * with decode_ip(). Otherwise *out is NULL and *out_len 0.
 * `events` (may be NULL) gets the enum ip_frag_event bits raised by this fragment for its
 * own datagram, plus on IP_FRAG_COMPLETE those raised earlier for the same datagram (so an
 * overlap seen before the flow is known can be reported against it). Other datagrams timed
 * out or evicted on the way are only counted (ip_frag_table_stats). Worker lcore owning `t`.
 */
enum ip_frag_result ip_frag_add(struct ip_frag_table *t, const uint8_t *frame, size_t len,
				const struct pkt_info *p, uint64_t now_us, const uint8_t **out,
				size_t *out_len, uint32_t *events);

/*
 * Free up to `budget` datagrams older than the timeout, oldest first; returns how many
 * (each counted as IP_FRAG_EV_TIMEOUT). Call once per burst. Worker lcore owning `t`.
 */
unsigned ip_frag_sweep(struct ip_frag_table *t, uint64_t now_us, unsigned budget);

/* Counters and occupancy; any lcore may read them (values may be slightly stale). */
void ip_frag_table_stats(const struct ip_frag_table *t, struct ip_frag_stats *out);

/* Short name of an event for counters and logs ("overlap_diff"). */
const char *ip_frag_event_name(enum ip_frag_event e);
