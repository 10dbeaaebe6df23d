/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Redis output: sends each EVE line to a Redis server, either appended to a list (RPUSH, read
 * in order by a consumer's BLPOP/LPOP, as Logstash's redis input with data_type list does) or
 * published on a channel (PUBLISH). The key may hold "%t", replaced by the line's event_type,
 * so that alerts and stats go to different lists.
 *
 * Delivery is at-least-once below the queue bound: a line leaves the queue only when Redis
 * replied to its command. Lines whose commands were sent but not answered when the connection
 * dies go back to the head of the queue, in order, and are sent again after reconnecting, so
 * a consumer may see duplicates after a broken connection but never misses a line, and order
 * is kept. What is lost: lines beyond the queue bound (whole lines, counted as dropped), lines
 * Redis answered with an error (e.g. WRONGTYPE: retrying cannot help; counted as errors and
 * dropped, logged at most once a minute with the number not logged), and what is still queued
 * when posternd exits. Outages and full-queue bursts are logged once each. Redis itself
 * may lose what it acknowledged if it runs without persistence; that is its configuration.
 *
 * It never blocks: hiredis's synchronous context in non-blocking mode (redisAppendCommand,
 * redisBufferWrite, redisBufferRead), driven by the caller's poll loop. That context rather
 * than the async one because our own queue must be the only record of what was answered:
 * replies come back in command order, so each reply acknowledges the queue's head, and a
 * broken connection just rewinds the "next to send" mark; the async API would keep a second
 * copy of that state in its callback list and forbids freeing the context from its callbacks.
 * TCP host names are resolved once, in redis_out_create() (start-up may block on DNS); every
 * (re)connection uses the addresses found then (up to 4, the next one after a failed
 * connect), so a reconnect never waits on a resolver.
 * Writing to a closed socket raises SIGPIPE: the process must ignore it (posternd does).
 * It does not format lines (control/eve.c), authenticate, select a database, or speak TLS.
 * posternd control thread only; no locking.
 */
#pragma once

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define REDIS_OUT_BACKOFF_MIN_MS 1000u
#define REDIS_OUT_BACKOFF_MAX_MS 30000u
#define REDIS_OUT_CONNECT_TIMEOUT_MS 5000u /* a TCP connect still pending is abandoned */
#define REDIS_OUT_KEY_MAX 512              /* expanded key; a longer one drops the line */

enum redis_out_mode {
	REDIS_OUT_LIST,    /* RPUSH key line: a consumer's BLPOP/LPOP reads in order */
	REDIS_OUT_PUBLISH, /* PUBLISH key line */
};

struct redis_out_config {
	char target[256];   /* "tcp:HOST:PORT" ("tcp:[V6ADDR]:PORT") or "unix:PATH" */
	enum redis_out_mode mode;
	char key[128];      /* list or channel; every "%t" is replaced by the event_type */
	size_t queue_bytes; /* bound of the line bytes not yet acknowledged (> 0) */
};

struct redis_out;

struct redis_out_stats {
	uint64_t n_sent;     /* lines acknowledged by a reply that is not an error */
	uint64_t n_dropped;  /* lines dropped: queue full, too long, error reply, key too long */
	uint64_t n_errors;   /* error replies, failed connection attempts, lost connections */
	uint64_t n_connects; /* connections established */
	uint64_t n_queued;   /* lines waiting or unanswered now (not a running count) */
};

/*
 * Check cfg (copied) and resolve a TCP host. Does not connect: the first redis_out_tick()
 * does. Returns NULL with errno set (EINVAL for a bad config, ENOMEM) and a one-line reason
 * in err (errlen bytes, NUL-terminated) naming the bad field.
 */
struct redis_out *redis_out_create(const struct redis_out_config *cfg, char *err, size_t errlen);

/* Close the connection and free the queue (lines still queued are lost). NULL is a no-op. */
void redis_out_destroy(struct redis_out *r);

/*
 * Fill fds (at most max) with the connection's descriptor: POLLOUT while connecting or while
 * there is something to send, POLLIN once connected. Returns 0 (no connection) or 1.
 */
int redis_out_pollfds(const struct redis_out *r, struct pollfd *fds, int max);

/*
 * Act on poll's results for the n descriptors redis_out_pollfds() filled: finish a connect,
 * send queued lines (bounded per call), read replies. Entries that are not the connection's
 * descriptor are ignored, so a stale array is harmless.
 */
void redis_out_handle(struct redis_out *r, const struct pollfd *fds, int n);

/*
 * Call about once a second with a monotonic clock in milliseconds: starts a connection when
 * none is up and the backoff has passed (1 s after a failure, doubling to 30 s, back to 1 s
 * once connected), and abandons a connect pending longer than REDIS_OUT_CONNECT_TIMEOUT_MS.
 * Never blocks (a unix connect, or a TCP connect to an address, returns at once).
 */
void redis_out_tick(struct redis_out *r, uint64_t now_ms);

/*
 * Queue line (len bytes, no newline; copied) for the key with event_type (NUL-terminated,
 * borrowed; NULL or "" is "unknown") in place of "%t". Never does I/O: the line goes out when
 * the poll loop reports the socket writable. A line that does not fit under queue_bytes with
 * what is already queued is dropped whole and counted (the queue is never trimmed to make
 * room: what waits is older and goes first).
 */
void redis_out_write(struct redis_out *r, const char *line, size_t len, const char *event_type);

void redis_out_get_stats(const struct redis_out *r, struct redis_out_stats *out);

/* "list" -> REDIS_OUT_LIST, "publish" -> REDIS_OUT_PUBLISH, anything else -1. */
int redis_out_mode_from_name(const char *name);
