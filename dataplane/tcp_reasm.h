/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP stream reassembly, one direction at a time. A stream tracks the next byte to deliver
 * (sequence numbers wrap), follows SYN/SYN-ACK (or picks the stream up on its first data
 * segment when the handshake was missed), FIN and RST, and hands the bytes to the caller in
 * order, each byte once, through callbacks: in-order data straight from the packet, data that
 * arrives beyond a hole copied into an out-of-order queue and delivered when the hole fills.
 * What arrives first is what the parser sees; an overlap carrying different bytes is reported
 * as an evasion event. Holes that will never fill (packets the mirror port lost) are skipped
 * and reported as gaps so the parser can resynchronise: when the peer acknowledges past them,
 * when the stream's queue window is full, when the worker's chunk pool is empty, and at flush.
 * It does not validate checksums, windows or timestamps (PAWS), does not reassemble IP
 * fragments, and never delays or modifies traffic.
 *
 * Memory: a struct tcp_stream is 40 bytes (two per flow, a million flows fit); queued data
 * lives in a per-worker struct tcp_reasm_pool of fixed chunks allocated once at start-up.
 * Each chunk holds one aligned 2 KiB window of sequence space with a presence bitmap, so a
 * stream's queue costs at most max_queued_bytes / 2 KiB + 2 chunks whatever the segmentation
 * (a thousand 1-byte segments in one window take one chunk).
 *
 * Overlap checking against bytes already delivered: a stream keeps no copy of them, only a
 * keyed fingerprint (NH universal hash, 2^-32 collision bound for a key the sender does not
 * know; key drawn at pool creation) of the last delivered run (up to 65535 bytes, usually the
 * last segment). A retransmission that covers that whole run is compared with it; one that
 * covers delivered bytes only partly, or older ones, is counted (n_unchecked) but cannot be
 * compared. That catches the classic insertion attack (the same segment sent twice with
 * different bytes) at 14 bytes per stream; retaining delivered bytes until ACKed would catch
 * more at the cost of copying every in-order byte into the pool. Queued bytes are compared
 * exactly. 1-byte segments at or below next_seq (keep-alives, zero-window probes) are ignored.
 *
 * Skipping is never silent: every hole given up comes with an event saying why and a gap()
 * of its exact length. Without the receiver's window (scaling is not parsed) a forged segment
 * far ahead can still make a stream skip to it (OOO_LIMIT), and a forged ACK skip a hole the
 * sender itself left; both are reported, and data more than TCP_REASM_MAX_JUMP ahead is
 * dropped outright. A mirror that reorders an ACK before the segment it acknowledges makes
 * that segment a gap (ACKs are taken at once, capped at the furthest byte seen).
 *
 * Threads: a pool and the streams using it belong to one worker lcore; nothing is locked.
 * Callbacks run on the calling thread and must not call back into the same stream.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCP_REASM_CHUNK_BYTES 2048u           /* sequence space per chunk (power of two) */
#define TCP_REASM_MAX_CHUNKS (1u << 22)       /* pool size bound (about 9.7 GB) */
#define TCP_REASM_MAX_WINDOW (1u << 30)       /* max_queued_bytes is clamped to this */
#define TCP_REASM_FP_MAX 65535u               /* longest run the fingerprint covers */
#define TCP_REASM_MAX_JUMP (1u << 30)         /* data further ahead of next_seq is dropped */
#define TCP_REASM_RST_SLACK (1u << 20)        /* RST accepted up to this far past max_seq */
#define TCP_REASM_NO_CHUNK 0u                 /* chunk references are 1-based */

enum tcp_reasm_event {
	TCP_REASM_EV_RETRANSMIT = 0,  /* bytes already seen, sent again (identical or unchecked) */
	TCP_REASM_EV_OVERLAP_DIFF,    /* evasion: re-sent bytes differ from the first copy */
	TCP_REASM_EV_GAP,             /* hole the peer acknowledged: lost before the sensor */
	TCP_REASM_EV_OOO_LIMIT,       /* queue window full: the first hole given up */
	TCP_REASM_EV_POOL_EXHAUSTED,  /* no free chunk: the first hole given up */
	TCP_REASM_EV_FLUSH_GAP,       /* flush found a hole (lost bytes before queued data/FIN) */
	TCP_REASM_EV_DEPTH,           /* max_stream_bytes reached: nothing more delivered (once) */
	TCP_REASM_EV_SYN_MISMATCH,    /* SYN with another ISN on a stream with data: ignored */
	TCP_REASM_EV_FIN_CONFLICT,    /* data past the first FIN, or a FIN contradicting it */
	TCP_REASM_EV_RST_INVALID,     /* RST outside the window: ignored */
	TCP_REASM_EV_OUT_OF_WINDOW,   /* data over TCP_REASM_MAX_JUMP ahead: dropped */
	TCP_REASM_EV__COUNT
};

/* Per-worker counters (in the pool): the worker's own thread writes, others may read/sum. */
struct tcp_reasm_counters {
	uint64_t n_events[TCP_REASM_EV__COUNT];
	uint64_t n_segments;      /* tcp_stream_segment calls */
	uint64_t n_bytes;         /* bytes delivered */
	uint64_t n_gap_bytes;     /* bytes skipped over holes (all causes) */
	uint64_t n_ooo_segments;  /* segments queued beyond a hole */
	uint64_t n_queued_bytes;  /* bytes copied into the queue */
	uint64_t n_keepalives;    /* keep-alives and 1-byte probes ignored */
	uint64_t n_unchecked;     /* overlaps of delivered bytes the fingerprint did not cover */
	uint64_t n_ignored;       /* segments dropped whole: after RST or depth */
	uint64_t n_rst;           /* RSTs accepted */
};

/* Adds every field of `c` to `sum` (main lcore: summing the workers). */
void tcp_reasm_counters_add(struct tcp_reasm_counters *sum, const struct tcp_reasm_counters *c);

/* Short name of an event for counters and logs ("overlap_diff"). */
const char *tcp_reasm_event_name(enum tcp_reasm_event ev);

struct tcp_reasm_limits {
	/* How far past the next byte to deliver data may be queued (a receive window): memory
	 * per stream is at most max_queued_bytes / TCP_REASM_CHUNK_BYTES + 2 chunks. 0: no
	 * queue, a segment beyond a hole skips it at once (OOO_LIMIT). E.g. 65536. */
	uint32_t max_queued_bytes;
	/* Stream offset (bytes delivered + skipped) past which nothing is delivered; 0: none. */
	uint64_t max_stream_bytes;
};

/*
 * Callbacks; any may be NULL (ops itself may be NULL). During deliver and gap,
 * tcp_stream_next_seq() is the sequence number of their first byte. `data` is borrowed for
 * the call only (it points into the packet or into a pool chunk).
 */
typedef void (*tcp_reasm_deliver_fn)(void *ctx, const uint8_t *data, uint32_t len);
typedef void (*tcp_reasm_gap_fn)(void *ctx, uint32_t len);
typedef void (*tcp_reasm_event_fn)(void *ctx, enum tcp_reasm_event ev, uint32_t seq,
				   uint32_t len);

struct tcp_reasm_ops {
	tcp_reasm_deliver_fn deliver;
	tcp_reasm_gap_fn gap;       /* called after the event saying why */
	tcp_reasm_event_fn event;   /* seq/len: the segment, hole or bytes concerned */
};

/* The worker's chunk pool, counters and fingerprint key. */
struct tcp_reasm_pool;

/*
 * Start-up: a pool of n_chunks chunks (1..TCP_REASM_MAX_CHUNKS) on the heap; NULL with errno
 * EINVAL or ENOMEM. The only allocation this module makes.
 */
struct tcp_reasm_pool *tcp_reasm_pool_create(uint32_t n_chunks);

/* Frees a pool from tcp_reasm_pool_create (NULL and pools from _init are ignored). */
void tcp_reasm_pool_destroy(struct tcp_reasm_pool *p);

/*
 * For callers that place the pool themselves (rte_zmalloc_socket on the worker's socket):
 * the size to allocate (0 if n_chunks is out of range), then _init on that memory (8-byte
 * aligned) returns the pool, or NULL with errno EINVAL. The caller frees the memory.
 */
size_t tcp_reasm_pool_size(uint32_t n_chunks);
struct tcp_reasm_pool *tcp_reasm_pool_init(void *mem, size_t size, uint32_t n_chunks);

uint32_t tcp_reasm_pool_n_chunks(const struct tcp_reasm_pool *p);
uint32_t tcp_reasm_pool_n_free(const struct tcp_reasm_pool *p);
const struct tcp_reasm_counters *tcp_reasm_pool_counters(const struct tcp_reasm_pool *p);

enum tcp_stream_flag {
	TCP_STREAM_SYNCED = 1 << 0,     /* next_seq known */
	TCP_STREAM_SYN_SEEN = 1 << 1,
	TCP_STREAM_MIDSTREAM = 1 << 2,  /* synced on data, no SYN seen first */
	TCP_STREAM_FIN_SEEN = 1 << 3,   /* a FIN arrived (maybe beyond a hole) */
	TCP_STREAM_CLOSED = 1 << 4,     /* everything up to the FIN delivered or skipped */
	TCP_STREAM_RST = 1 << 5,        /* a valid RST: nothing more is taken */
	TCP_STREAM_DEPTH = 1 << 6,      /* max_stream_bytes reached */
};

/* One direction of a flow; embedded in the flow, fields private to tcp_reasm.c. */
struct tcp_stream {
	uint32_t next_seq;    /* next byte to deliver, valid once synced */
	uint32_t max_seq;     /* end of the furthest data (or FIN) seen */
	uint32_t fin_seq;     /* sequence number of the FIN, with TCP_STREAM_FIN_SEEN */
	uint32_t head;        /* first chunk of the queue, TCP_REASM_NO_CHUNK when empty */
	uint64_t n_bytes;     /* stream offset of next_seq: bytes delivered + skipped */
	uint64_t fp_hash;     /* fingerprint of the last delivered run */
	uint32_t fp_seq;      /* its first byte */
	uint16_t fp_len;      /* its length, 0: none */
	uint16_t flags;       /* enum tcp_stream_flag */
};

/* Any thread before use (flow creation); a zeroed stream is the same. Holds no chunk. */
void tcp_stream_init(struct tcp_stream *s);

/*
 * One segment of this direction, as decoded: seq, TCP flags (enum tcp_flag in decode.h),
 * payload borrowed for the call. Delivers what became contiguous, queues what lies beyond a
 * hole, reports events. Worker lcore owning the pool.
 */
void tcp_stream_segment(struct tcp_stream *s, struct tcp_reasm_pool *pool,
			const struct tcp_reasm_limits *lim, uint32_t seq, uint8_t flags,
			const uint8_t *data, uint32_t len, const struct tcp_reasm_ops *ops,
			void *ctx);

/*
 * The other direction acknowledged `ack` (call for every segment with TCP_ACK, on the
 * stream of the opposite direction): holes below it are lost, skipped with gap(); what
 * follows them is delivered. The ack is capped at the furthest data seen from this sender,
 * so a forged ACK cannot skip bytes the sender was never seen to send.
 */
void tcp_stream_ack(struct tcp_stream *s, struct tcp_reasm_pool *pool,
		    const struct tcp_reasm_limits *lim, uint32_t ack,
		    const struct tcp_reasm_ops *ops, void *ctx);

/*
 * End of the stream (FIN/RST seen in both directions, eviction, end of capture): delivers
 * every queued byte, holes (and a hole before a seen FIN) reported with gap(); the queue is
 * empty afterwards. The stream keeps its state (further segments are handled as before).
 */
void tcp_stream_flush(struct tcp_stream *s, struct tcp_reasm_pool *pool,
		      const struct tcp_reasm_limits *lim, const struct tcp_reasm_ops *ops,
		      void *ctx);

/* Returns the queued chunks to the pool without delivering them (no callbacks). */
void tcp_stream_release(struct tcp_stream *s, struct tcp_reasm_pool *pool);

/* Chunks the stream holds (walks its queue; for tests and assertions). */
uint32_t tcp_stream_n_chunks(const struct tcp_stream *s, const struct tcp_reasm_pool *pool);

/* Sequence comparison across wrap-around: a < b. */
static inline bool
tcp_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool
tcp_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline uint32_t
tcp_stream_next_seq(const struct tcp_stream *s)
{
	return s->next_seq;
}

/* Stream offset of the next byte: bytes delivered plus bytes skipped over holes. */
static inline uint64_t
tcp_stream_offset(const struct tcp_stream *s)
{
	return s->n_bytes;
}

static inline bool
tcp_stream_is_midstream(const struct tcp_stream *s)
{
	return (s->flags & TCP_STREAM_MIDSTREAM) != 0;
}

/* A FIN or a valid RST arrived: the sender is done (flush before forgetting the flow). */
static inline bool
tcp_stream_is_finished(const struct tcp_stream *s)
{
	return (s->flags & (TCP_STREAM_FIN_SEEN | TCP_STREAM_RST)) != 0;
}

static inline bool
tcp_stream_fin_seen(const struct tcp_stream *s)
{
	return (s->flags & TCP_STREAM_FIN_SEEN) != 0;
}

static inline bool
tcp_stream_is_closed(const struct tcp_stream *s)
{
	return (s->flags & TCP_STREAM_CLOSED) != 0;
}

static inline bool
tcp_stream_rst_seen(const struct tcp_stream *s)
{
	return (s->flags & TCP_STREAM_RST) != 0;
}

static inline bool
tcp_stream_has_queue(const struct tcp_stream *s)
{
	return s->head != TCP_REASM_NO_CHUNK;
}
