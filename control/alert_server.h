/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Alert socket: a listening Unix SOCK_STREAM socket to which any number of subscribers
 * (posternctl alerts, Filebeat, Vector, socat...) connect; each receives every line broadcast
 * after it connected, newline-terminated. Nothing ever blocks: sockets are non-blocking, each
 * subscriber has a bounded output queue, and a subscriber whose queue would overflow is
 * disconnected and counted, so a slow consumer costs its own stream, never the server's.
 * A subscriber may ask for some event types only by sending a line "types T1 T2 ..." (blanks
 * or commas between names; "types" alone: every type again), at any time: from then on it
 * gets only lines of those types, so a SOC reader of alerts is neither sent nor held back by
 * the stats and smtp lines it does not want. Anything else it sends is read and discarded;
 * a request line longer than ALERT_SERVER_REQUEST_MAX is skipped.
 *
 * It does not format lines (control/eve.c does) and owns no loop: the caller polls the
 * descriptors alert_server_pollfds() fills and hands the results to alert_server_handle().
 * posternd control thread only; no locking.
 */
#pragma once

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define ALERT_SERVER_MAX_SUBSCRIBERS 256  /* more connections are accepted, then closed */
#define ALERT_SERVER_QUEUE_MIN 4096u
#define ALERT_SERVER_QUEUE_DEFAULT (1u << 20)
#define ALERT_SERVER_REQUEST_MAX 256  /* a subscriber's request line */
#define ALERT_SERVER_TYPES_MAX 8      /* event types one subscriber may ask for */
#define ALERT_SERVER_TYPE_NAME_MAX 16

struct alert_server;

struct alert_server_stats {
	uint64_t n_subscribers;          /* connected now */
	uint64_t n_accepted;             /* connections accepted since start */
	uint64_t n_lines;                /* lines broadcast */
	uint64_t n_dropped_subscribers;  /* disconnected because their queue was full */
	uint64_t n_closed_subscribers;   /* disconnected by the peer or a socket error */
	uint64_t n_refused;              /* over ALERT_SERVER_MAX_SUBSCRIBERS, closed at once */
	uint64_t n_requests;             /* "types" requests taken */
	uint64_t n_bad_requests;         /* request lines refused: too long, too many types */
};

/*
 * Listen on path. A stale socket file left by a previous run is removed first; a live one
 * (something still accepts on it) gives -EADDRINUSE, and a path that is not a socket gives
 * -EEXIST (it is never removed). The socket file gets mode 0660. queue_bytes bounds each
 * subscriber's queue (0: ALERT_SERVER_QUEUE_DEFAULT; at least ALERT_SERVER_QUEUE_MIN).
 * Returns NULL and sets errno.
 */
struct alert_server *alert_server_create(const char *path, size_t queue_bytes);

/* Close every subscriber and the listener, remove the socket file. NULL is a no-op. */
void alert_server_destroy(struct alert_server *srv);

/* Upper bound of the descriptors alert_server_pollfds() fills: size the array with it. */
int alert_server_npollfds(const struct alert_server *srv);

/*
 * Fill fds (at most max) with the listener and every subscriber: POLLIN always, POLLOUT for
 * subscribers with queued bytes. Returns the number filled. Subscribers beyond max are not
 * polled this round; they are still written to directly by broadcasts.
 */
int alert_server_pollfds(const struct alert_server *srv, struct pollfd *fds, int max);

/*
 * Act on poll's results for the n descriptors alert_server_pollfds() filled: flush writable
 * subscribers, drop closed ones, then accept new connections (bounded per call). Entries
 * whose descriptor no longer belongs to the server (a subscriber dropped by a broadcast since
 * the poll) are ignored.
 */
void alert_server_handle(struct alert_server *srv, const struct pollfd *fds, int n);

/*
 * Send one line (len bytes, without its newline; the server adds it) of event_type to every
 * subscriber that takes that type. Written at once where the socket takes it, queued
 * otherwise; a subscriber whose queue cannot hold the rest is disconnected and counted.
 * line and event_type are borrowed for the call.
 */
void alert_server_broadcast(struct alert_server *srv, const char *line, size_t len,
			    const char *event_type);

void alert_server_get_stats(const struct alert_server *srv, struct alert_server_stats *out);

/* The path the server listens on (borrowed while srv lives). */
const char *alert_server_path(const struct alert_server *srv);
