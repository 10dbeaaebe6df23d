/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Syslog output: each EVE line goes to a syslog receiver (rsyslog, syslog-ng, a SIEM's
 * collector) as one RFC 5424 message, "<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG",
 * with the event type as MSGID and the JSON line, untouched, as MSG. Transports: UDP and Unix
 * datagram sockets (one datagram per message, never fragmented or truncated by us: a message
 * that cannot fit is dropped and counted as too long) and TCP with RFC 6587 octet counting
 * ("LEN SP MSG"), reconnected with backoff. Nothing blocks: sockets are non-blocking, what the
 * socket does not take waits in a queue bounded by queue_bytes, and a message beyond the bound
 * is dropped whole and counted, so a slow or absent receiver costs messages, never posternd's
 * loop. On TCP a frame is either written whole to one connection or not counted as sent: a
 * frame half-written when the connection broke is sent again whole on the next one, so every
 * connection starts at a frame boundary. What the kernel took before a connection broke is
 * counted as sent, though the peer may not have read it: RFC 6587 has no acknowledgement.
 *
 * Counters: every syslog_out_write() ends as exactly one of n_sent, n_dropped, n_too_long,
 * or, for now, waits in the queue (n_queued); n_errors counts socket errors, not messages.
 * It does not format the JSON (control/eve.c) and owns no loop: the caller polls the
 * descriptor syslog_out_pollfds() fills, hands the result to syslog_out_handle(), and calls
 * syslog_out_tick() about once a second. posternd control thread only; no locking.
 */
#pragma once

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define SYSLOG_OUT_QUEUE_DEFAULT (1u << 20)  /* queue_bytes 0 */
#define SYSLOG_OUT_UDP_MAX 65507u             /* the largest UDP payload over IPv4 */
#define SYSLOG_OUT_UNIX_MAX (256u << 10)      /* beyond, not even tried (EMSGSIZE below) */
#define SYSLOG_OUT_BACKOFF_MIN_MS 1000u
#define SYSLOG_OUT_BACKOFF_MAX_MS 30000u
#define SYSLOG_OUT_CONNECT_TIMEOUT_MS 10000u  /* a TCP connect still pending is abandoned */

/* Lengths of RFC 5424's header fields (without NUL). */
#define SYSLOG_HOSTNAME_MAX 255
#define SYSLOG_APP_NAME_MAX 48
#define SYSLOG_PROCID_MAX 128
#define SYSLOG_MSGID_MAX 32
/* The longest header syslog_format() writes before MSG: "<191>1 " TIMESTAMP(27) and the fields. */
#define SYSLOG_FORMAT_HEADER_MAX                                                              \
	(7 + 27 + 1 + SYSLOG_HOSTNAME_MAX + 1 + SYSLOG_APP_NAME_MAX + 1 + 10 + 1 +           \
	 SYSLOG_MSGID_MAX + 1 + 1 + 1)

struct syslog_out_config {
	/*
	 * "udp:HOST:PORT", "tcp:HOST:PORT" (HOST an IPv4 literal, an IPv6 literal, bracketed or
	 * not, or a name resolved once at create) or "unix:PATH" (a datagram socket, /dev/log).
	 */
	char target[256];
	int facility;       /* 0..23 (local0 = 16) */
	char hostname[256]; /* empty: gethostname() */
	char app_name[49];  /* e.g. "posternd"; empty: "-" */
	size_t queue_bytes; /* what may wait (messages, or TCP frames); 0: the default,
			     * SYSLOG_OUT_QUEUE_DEFAULT */
};

struct syslog_out;

struct syslog_out_stats {
	uint64_t n_sent;     /* messages the socket took whole */
	uint64_t n_dropped;  /* queue full, or a datagram that failed (a Unix receiver gone) */
	uint64_t n_too_long; /* larger than a datagram, or than queue_bytes as a TCP frame */
	uint64_t n_errors;   /* socket errors: refused, reset, failed connects... */
	uint64_t n_connects; /* TCP connections established (and Unix socket connects) */
	uint64_t n_queued;   /* messages waiting now (not a running count) */
};

/*
 * Parse the target, resolve its host (may block on DNS: start-up only), open the socket and,
 * for TCP, start connecting (a receiver not there yet is not an error: messages queue and the
 * connect is retried). Returns NULL with a message in err (errlen bytes) for a bad target or
 * facility, or when no socket can be made.
 */
struct syslog_out *syslog_out_create(const struct syslog_out_config *cfg, char *err,
				     size_t errlen);

/* Close the socket; what was still queued is lost. NULL is a no-op. */
void syslog_out_destroy(struct syslog_out *s);

/*
 * Fill at most max (0 or 1) entries of fds: POLLOUT while a TCP connect is pending or bytes
 * wait, POLLIN on a TCP connection to see the peer close it. Returns the number filled.
 */
int syslog_out_pollfds(const struct syslog_out *s, struct pollfd *fds, int max);

/* Act on poll's results: finish a connect, flush the queue, notice a close. Entries whose
 * descriptor is not ours are ignored. */
void syslog_out_handle(struct syslog_out *s, const struct pollfd *fds, int n);

/*
 * Call about once a second with a monotonic time in ms: starts TCP reconnects (1 s after a
 * failure, doubling to 30 s; back to 1 s once connected) and abandons connects pending too
 * long. Never blocks.
 */
void syslog_out_tick(struct syslog_out *s, uint64_t now_ms);

/*
 * Send one EVE line (len bytes, no newline) of the given event type ("alert", "anomaly",
 * "smtp", "stats"; alert, anomaly and spool get severity warning, the rest info) stamped ts_us
 * (microseconds since the epoch, UTC). Sent at once where the socket takes it, else queued or
 * dropped (see the top). line and event_type are borrowed for the call.
 */
void syslog_out_write(struct syslog_out *s, const char *line, size_t len, const char *event_type,
		      uint64_t ts_us);

void syslog_out_get_stats(const struct syslog_out *s, struct syslog_out_stats *out);

/*
 * Facility names "kern", "user" ... "local7" as in common/config.c and rsyslog (13 "security",
 * 14 "console", 15 "solaris-cron"; RFC 5424's "audit", "alert", "clock" too; case ignored)
 * -> 0..23, or -1.
 */
int syslog_facility_from_name(const char *name);

/*
 * Format one RFC 5424 message into buf (cap bytes; no NUL added): "<pri>1 TIMESTAMP HOSTNAME
 * APP-NAME PROCID MSGID - MSG". HOSTNAME and APP-NAME keep their first 255 and 48 bytes, each
 * byte outside PRINTUSASCII (33..126) replaced by '_', "-" when empty or NULL; MSGID is "-"
 * when NULL, empty, longer than 32 or not all PRINTUSASCII; TIMESTAMP is "-" for a time past
 * year 9999. MSG is msg as is (SP MSG left out when msg_len is 0). Returns the length, or 0 when
 * pri is outside 0..191 or the message does not fit in cap. Pure; any thread.
 */
size_t syslog_format(char *buf, size_t cap, int pri, uint64_t ts_us, const char *host,
		     const char *app, unsigned pid, const char *msgid, const char *msg,
		     size_t msg_len);
