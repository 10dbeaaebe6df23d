/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule generations on the dataplane side: a validated gen blob from posternd, its Hyperscan
 * databases deserialized, one scratch per worker, and the rule tables that decide which rules
 * fired from the set of atoms (control/rule_expr.h) that matched in a transaction.
 *
 * Matching is two-step, as in Suricata's MPM + detect: Hyperscan callbacks only record atom
 * ids (struct scan_matches); an atom Hyperscan could only prefilter is confirmed with PCRE2
 * on the value right after its scan. scan_eval() then runs the rule logic once per
 * transaction, only for rules that can fire: every positive atom present and no negated
 * one, addresses and ports, flowbits (tested and set in stage order, setters first; their
 * scope is the transaction, one message).
 *
 * Threads: scan_gen_load/destroy on the main lcore; everything else on the worker lcore whose
 * index is passed in. A generation is pinned by every transaction that scans with it
 * (scan_gen_pin/unpin) so the main lcore frees it only after the last one let go.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "buffer_id.h"
#include "gen_format.h"

#define SCAN_MATCH_MAX 256   /* distinct contents recorded per transaction */

struct scan_gen;
struct hs_stream;

/*
 * Hyperscan keeps a stream's state in memory it allocates when the stream opens. On a
 * worker that memory comes from a fixed pool of slots made at start (a session holds at most
 * a body part and a raw stream per direction): scan_stream_pool_bind() makes one for the
 * calling worker thread and routes Hyperscan's stream allocator to it. A generation whose
 * stream state does not fit a slot is refused at load. Threads that bound no pool (tests,
 * tools) use malloc.
 */
#define SCAN_STREAM_SLOT_MAX 4096       /* bytes of stream state a generation may need */

/* Worker lcore, at its start: a pool of n_slots stream states for this thread. 0 or -ENOMEM. */
int scan_stream_pool_bind(uint32_t n_slots);

/* Worker lcore, at its end: release the thread's pool (all streams closed by then). */
void scan_stream_pool_unbind(void);

/* Streams that could not open because the calling thread's pool was empty. */
uint64_t scan_stream_pool_exhausted(void);

struct scan_matches {
	uint32_t n;
	bool overflow;           /* more than SCAN_MATCH_MAX distinct contents matched */
	uint32_t ids[SCAN_MATCH_MAX];
};

/*
 * Load a generation from a blob (copied; the caller keeps its buffer) for n_workers workers.
 * Returns NULL with a message in err on any inconsistency or Hyperscan error.
 */
struct scan_gen *scan_gen_load(const void *blob, size_t len, unsigned n_workers, char *err,
			       size_t errlen);
void scan_gen_destroy(struct scan_gen *g);

uint64_t scan_gen_id(const struct scan_gen *g);
uint32_t scan_gen_n_rules(const struct scan_gen *g);

/* Pins are taken by workers at transaction start and dropped at its end. */
void scan_gen_pin(struct scan_gen *g);
void scan_gen_unpin(struct scan_gen *g);
bool scan_gen_is_pinned(const struct scan_gen *g);

static inline void
scan_matches_reset(struct scan_matches *m)
{
	m->n = 0;
	m->overflow = false;
}

/* Add src's ids to dst (each once). */
void scan_matches_merge(struct scan_matches *dst, const struct scan_matches *src);

/* Scan one whole buffer value (a header, an envelope address). Returns 0 or -EIO. */
int scan_block(const struct scan_gen *g, unsigned worker, enum buffer_id buf, const uint8_t *data,
	       size_t len, struct scan_matches *m);

/* Does the generation have patterns for this buffer? */
bool scan_gen_has_buffer(const struct scan_gen *g, enum buffer_id buf);

/* Streaming scan of a body: open (NULL when the buffer has no database or no stream state
 * could be had), write, close. */
struct hs_stream *scan_stream_open(const struct scan_gen *g, enum buffer_id buf);
int scan_stream_write(const struct scan_gen *g, unsigned worker, struct hs_stream *st,
		      const uint8_t *data, size_t len, struct scan_matches *m);
int scan_stream_close(const struct scan_gen *g, unsigned worker, struct hs_stream *st,
		      struct scan_matches *m);

typedef void (*scan_fired_fn)(void *ctx, const struct gen_rule *rule);

/* The transaction's endpoints, for the rules' addresses and ports. */
struct scan_flow {
	const uint8_t *client_ip;   /* 16 bytes, IPv4 as ::ffff:a.b.c.d */
	const uint8_t *server_ip;
	uint16_t client_port;
	uint16_t server_port;
};

/*
 * Call fired() once for every rule that matches (m, f), except noalert rules, which only
 * set their flowbits; when a pass rule matches, for none (*pass_out, when not NULL, is then
 * set). Returns the number of rules that matched, noalert and pass ones included. Worker
 * lcore `worker`.
 */
unsigned scan_eval(const struct scan_gen *g, unsigned worker, const struct scan_matches *m,
		   const struct scan_flow *f, scan_fired_fn fired, void *ctx, bool *pass_out);

/* Whether flowbit `bit` (< 64: Postern's reserved marks, GEN_FLOWBIT_*) was set when the
 * worker's last scan_eval ended. */
bool scan_last_flowbit(const struct scan_gen *g, unsigned worker, unsigned bit);
