/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Redis output over hiredis's non-blocking synchronous context. One FIFO holds every line not
 * yet acknowledged; `unsent` marks the first whose command has not been handed to hiredis,
 * the n_in_flight lines before it are waiting for their replies. Each reply acknowledges the
 * head (Redis answers a connection's commands in order); a lost connection sets `unsent` back
 * to the head, which re-queues the unanswered lines in order. Commands are handed to hiredis
 * in batches only when its output buffer is empty, so hiredis never holds more than one batch
 * beside our queue. posternd control thread only.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>

#include <hiredis/hiredis.h>

#include "log.h"
#include "net_target.h"
#include "redis_out.h"

#define REDIS_OUT_BATCH_LINES 1024
#define REDIS_OUT_BATCH_BYTES (256u * 1024)
#define REDIS_OUT_WRITE_ROUNDS 8 /* batches written per handle() call */
#define REDIS_OUT_READ_ROUNDS 4  /* 16 KB reads per handle() call */
#define REDIS_OUT_MAX_ADDRS 4    /* addresses of a TCP host tried in turn */
#define REDIS_OUT_ERR_LOG_MS 60000 /* error replies are reported at most this often */

struct redis_line {
	struct redis_line *next;
	uint32_t key_len;
	uint32_t len;
	char data[]; /* key, then line */
};

enum redis_conn_state { REDIS_CONN_DOWN, REDIS_CONN_CONNECTING, REDIS_CONN_UP };

struct redis_out {
	struct redis_out_config cfg;
	bool is_unix;
	char hosts[REDIS_OUT_MAX_ADDRS][INET6_ADDRSTRLEN]; /* numeric, resolved at create */
	unsigned n_hosts, host_idx; /* a failed connect moves on to the next address */
	int port;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	redisContext *ctx;
	enum redis_conn_state state;
	bool obuf_pending; /* hiredis still holds bytes to write */

	struct redis_line *head, *tail, *unsent;
	size_t queued_bytes; /* line bytes from head to tail */
	uint32_t n_in_flight;

	uint64_t now_ms; /* last tick */
	uint64_t next_attempt_ms;
	uint64_t connect_start_ms;
	uint32_t backoff_ms;

	/* once-per-burst logging */
	bool outage_logged;
	uint64_t n_failed_attempts;
	bool err_logged;
	uint64_t err_log_ms;
	uint64_t n_unreported_errors;
	bool in_drop_burst; /* ends when the queue drains */
	uint64_t n_burst_drops;

	struct redis_out_stats stats;
};

int
redis_out_mode_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "list") == 0)
		return REDIS_OUT_LIST;
	if (strcmp(name, "publish") == 0)
		return REDIS_OUT_PUBLISH;
	return -1;
}

/* "tcp:HOST:PORT" / "tcp:[V6]:PORT" / "unix:PATH" into r; the host resolved once, here. */
static int
parse_target(struct redis_out *r, const char *target, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	struct net_target t;
	const char *host = t.hp.host;
	int rc;

	char why[NET_HOST_MAX + 96];

	if (net_target_parse(target, NET_TCP | NET_UNIX, &t, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "redis target: %s", why);
		return -1;
	}
	if (t.scheme == NET_UNIX) {
		_Static_assert(sizeof(r->path) >= sizeof(t.path), "a parsed path fits");
		r->is_unix = true;
		strcpy(r->path, t.path);
		return 0;
	}
	r->port = t.hp.port;
	rc = getaddrinfo(host, NULL, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		snprintf(err, errlen, "redis target \"%s\": cannot resolve %s: %s", target, host,
			 rc != 0 ? gai_strerror(rc) : "no address");
		return -1;
	}
	/* "localhost" may give ::1 first while Redis listens on 127.0.0.1 only: keep a few */
	for (const struct addrinfo *a = ai; a != NULL && r->n_hosts < REDIS_OUT_MAX_ADDRS;
	     a = a->ai_next) {
		char *h = r->hosts[r->n_hosts];

		if (a->ai_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr, h,
				  INET6_ADDRSTRLEN);
		else if (a->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)a->ai_addr)->sin_addr, h,
				  INET6_ADDRSTRLEN);
		else
			continue;
		if (r->n_hosts > 0 && strcmp(h, r->hosts[r->n_hosts - 1]) == 0)
			continue;
		r->n_hosts++;
	}
	freeaddrinfo(ai);
	if (r->n_hosts == 0) {
		snprintf(err, errlen, "redis target \"%s\": no IPv4 or IPv6 address for %s",
			 target, host);
		return -1;
	}
	r->is_unix = false;
	return 0;
}

struct redis_out *
redis_out_create(const struct redis_out_config *cfg, char *err, size_t errlen)
{
	struct redis_out *r;
	char dummy[1];

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (cfg == NULL) {
		snprintf(err, errlen, "redis: no configuration");
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "redis: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	r->cfg = *cfg;
	/* the copy is ours: terminate what a careless caller may have filled to the brim */
	r->cfg.target[sizeof(r->cfg.target) - 1] = '\0';
	r->cfg.key[sizeof(r->cfg.key) - 1] = '\0';
	if (memchr(cfg->target, '\0', sizeof(cfg->target)) == NULL) {
		snprintf(err, errlen, "redis target longer than %zu bytes",
			 sizeof(cfg->target) - 1);
		goto invalid;
	}
	if (memchr(cfg->key, '\0', sizeof(cfg->key)) == NULL) {
		snprintf(err, errlen, "redis key longer than %zu bytes", sizeof(cfg->key) - 1);
		goto invalid;
	}
	if (cfg->mode != REDIS_OUT_LIST && cfg->mode != REDIS_OUT_PUBLISH) {
		snprintf(err, errlen, "redis mode must be list or publish");
		goto invalid;
	}
	if (cfg->key[0] == '\0') {
		snprintf(err, errlen, "redis key is empty");
		goto invalid;
	}
	if (cfg->queue_bytes == 0) {
		snprintf(err, errlen, "redis queue size must be above 0");
		goto invalid;
	}
	if (parse_target(r, r->cfg.target, err, errlen) < 0)
		goto invalid;
	r->state = REDIS_CONN_DOWN;
	r->backoff_ms = REDIS_OUT_BACKOFF_MIN_MS;
	r->next_attempt_ms = 0;
	return r;

invalid:
	free(r);
	errno = EINVAL;
	return NULL;
}

static void
queue_pop_head(struct redis_out *r)
{
	struct redis_line *l = r->head;

	r->head = l->next;
	if (r->head == NULL)
		r->tail = NULL;
	if (r->unsent == l)
		r->unsent = r->head;
	r->queued_bytes -= l->len;
	r->stats.n_queued--;
	free(l);
}

void
redis_out_destroy(struct redis_out *r)
{
	uint64_t n = 0;

	if (r == NULL)
		return;
	if (r->ctx != NULL)
		redisFree(r->ctx);
	while (r->head != NULL) {
		queue_pop_head(r);
		n++;
	}
	if (n > 0)
		log_warn("redis: %llu lines not delivered at exit", (unsigned long long)n);
	free(r);
}

static const char *
target_name(const struct redis_out *r)
{
	return r->cfg.target;
}

static void
schedule_retry(struct redis_out *r)
{
	r->next_attempt_ms = r->now_ms + r->backoff_ms;
	r->backoff_ms = r->backoff_ms * 2 > REDIS_OUT_BACKOFF_MAX_MS ? REDIS_OUT_BACKOFF_MAX_MS
								     : r->backoff_ms * 2;
}

/*
 * The connection failed or broke: every unanswered line goes back to be sent again, so the
 * queue from its head is again all unsent, in order.
 */
static void
conn_lost(struct redis_out *r, const char *reason)
{
	char why[160];

	snprintf(why, sizeof(why), "%s", reason); /* it may be the context's errstr */
	if (r->state != REDIS_CONN_UP && r->n_hosts > 1)
		r->host_idx = (r->host_idx + 1) % r->n_hosts;
	if (r->ctx != NULL) {
		redisFree(r->ctx);
		r->ctx = NULL;
	}
	r->state = REDIS_CONN_DOWN;
	r->obuf_pending = false;
	r->unsent = r->head;
	r->n_in_flight = 0;
	r->stats.n_errors++;
	r->n_failed_attempts++;
	if (!r->outage_logged) {
		log_warn("redis %s: %s; lines are queued (up to %zu bytes) and sent again once "
			 "connected, retrying every 1 to %u s",
			 target_name(r), why, r->cfg.queue_bytes, REDIS_OUT_BACKOFF_MAX_MS / 1000);
		r->outage_logged = true;
	}
	schedule_retry(r);
}

static void
conn_start(struct redis_out *r)
{
	redisContext *c;

	if (r->is_unix)
		c = redisConnectUnixNonBlock(r->path);
	else
		c = redisConnectNonBlock(r->hosts[r->host_idx], r->port);
	r->ctx = c;
	if (c == NULL) {
		conn_lost(r, "out of memory");
		return;
	}
	if (c->err) {
		char why[160];

		snprintf(why, sizeof(why), "cannot connect: %s", c->errstr);
		conn_lost(r, why);
		return;
	}
	r->state = REDIS_CONN_CONNECTING;
	r->connect_start_ms = r->now_ms;
}

void
redis_out_tick(struct redis_out *r, uint64_t now_ms)
{
	r->now_ms = now_ms;
	switch (r->state) {
	case REDIS_CONN_DOWN:
		if (now_ms >= r->next_attempt_ms)
			conn_start(r);
		break;
	case REDIS_CONN_CONNECTING:
		if (now_ms - r->connect_start_ms >= REDIS_OUT_CONNECT_TIMEOUT_MS)
			conn_lost(r, "connect timed out");
		break;
	case REDIS_CONN_UP:
		break;
	}
}

static bool
has_output(const struct redis_out *r)
{
	return r->obuf_pending || r->unsent != NULL;
}

int
redis_out_pollfds(const struct redis_out *r, struct pollfd *fds, int max)
{
	if (max < 1 || r->ctx == NULL)
		return 0;
	switch (r->state) {
	case REDIS_CONN_CONNECTING:
		fds[0] = (struct pollfd){ .fd = r->ctx->fd, .events = POLLOUT };
		return 1;
	case REDIS_CONN_UP:
		fds[0] = (struct pollfd){ .fd = r->ctx->fd,
					  .events = POLLIN | (has_output(r) ? POLLOUT : 0) };
		return 1;
	case REDIS_CONN_DOWN:
		break;
	}
	return 0;
}

static void
conn_established(struct redis_out *r)
{
	r->state = REDIS_CONN_UP;
	r->stats.n_connects++;
	r->backoff_ms = REDIS_OUT_BACKOFF_MIN_MS;
	if (!r->is_unix)
		redisEnableKeepAlive(r->ctx); /* notice a peer that vanished without a FIN */
	if (r->outage_logged)
		log_info("redis %s: connected after %llu failures; %zu bytes queued",
			 target_name(r), (unsigned long long)r->n_failed_attempts,
			 r->queued_bytes);
	r->outage_logged = false;
	r->n_failed_attempts = 0;
}

/* Hand a batch of unsent lines to hiredis. 0, or -1 when hiredis ran out of memory. */
static int
append_batch(struct redis_out *r)
{
	const char *fmt = r->cfg.mode == REDIS_OUT_LIST ? "RPUSH %b %b" : "PUBLISH %b %b";
	size_t bytes = 0;
	int n = 0;

	while (r->unsent != NULL && n < REDIS_OUT_BATCH_LINES && bytes < REDIS_OUT_BATCH_BYTES) {
		struct redis_line *l = r->unsent;

		if (redisAppendCommand(r->ctx, fmt, l->data, (size_t)l->key_len,
				       l->data + l->key_len, (size_t)l->len) != REDIS_OK)
			return -1;
		r->unsent = l->next;
		r->n_in_flight++;
		bytes += l->len + l->key_len;
		n++;
	}
	r->obuf_pending = n > 0;
	return 0;
}

static void
flush_out(struct redis_out *r)
{
	for (int round = 0; round < REDIS_OUT_WRITE_ROUNDS; round++) {
		int done = 0;

		if (!r->obuf_pending) {
			if (r->unsent == NULL)
				return;
			if (append_batch(r) < 0) {
				conn_lost(r, "out of memory formatting a command");
				return;
			}
		}
		if (redisBufferWrite(r->ctx, &done) != REDIS_OK) {
			conn_lost(r, r->ctx->errstr[0] ? r->ctx->errstr : "write failed");
			return;
		}
		if (!done)
			return; /* the socket is full: POLLOUT will say when to go on */
		r->obuf_pending = false;
	}
}

static void
on_reply(struct redis_out *r, const redisReply *reply)
{
	const struct redis_line *l = r->head;

	if (reply->type == REDIS_REPLY_ERROR) {
		r->stats.n_errors++;
		r->stats.n_dropped++;
		/* a misconfigured key fails every line: one report a minute, not one a line */
		if (!r->err_logged || r->now_ms - r->err_log_ms >= REDIS_OUT_ERR_LOG_MS) {
			log_warn("redis %s: key %.*s: %.*s; the line is dropped (%llu more error "
				 "replies since the last report)",
				 target_name(r), (int)l->key_len, l->data, (int)reply->len,
				 reply->str, (unsigned long long)r->n_unreported_errors);
			r->err_logged = true;
			r->err_log_ms = r->now_ms;
			r->n_unreported_errors = 0;
		} else {
			r->n_unreported_errors++;
		}
	} else {
		r->stats.n_sent++;
	}
	r->n_in_flight--;
	queue_pop_head(r);
	if (r->head == NULL && r->in_drop_burst) {
		log_info("redis %s: queue drained; %llu lines were dropped while it was full",
			 target_name(r), (unsigned long long)r->n_burst_drops);
		r->in_drop_burst = false;
	}
}

static void
read_replies(struct redis_out *r)
{
	for (int round = 0; round < REDIS_OUT_READ_ROUNDS; round++) {
		void *reply;
		int n_replies = 0;

		if (redisBufferRead(r->ctx) != REDIS_OK) {
			conn_lost(r, r->ctx->errstr[0] ? r->ctx->errstr : "read failed");
			return;
		}
		for (;;) {
			reply = NULL;
			if (redisGetReplyFromReader(r->ctx, &reply) != REDIS_OK) {
				conn_lost(r, "protocol error in a reply");
				return;
			}
			if (reply == NULL)
				break;
			if (r->n_in_flight == 0) {
				freeReplyObject(reply);
				conn_lost(r, "a reply to no command");
				return;
			}
			on_reply(r, reply);
			freeReplyObject(reply);
			n_replies++;
		}
		/* read again only while replies keep coming and some are still awaited */
		if (n_replies == 0 || r->n_in_flight == 0)
			return;
	}
}

void
redis_out_handle(struct redis_out *r, const struct pollfd *fds, int n)
{
	for (int i = 0; i < n; i++) {
		short ev;

		if (r->ctx == NULL || fds[i].fd != r->ctx->fd || fds[i].revents == 0)
			continue;
		ev = fds[i].revents;
		if (r->state == REDIS_CONN_CONNECTING) {
			int soerr = 0;
			socklen_t slen = sizeof(soerr);

			if (getsockopt(r->ctx->fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0)
				soerr = errno;
			if (soerr == 0 && (ev & (POLLERR | POLLHUP | POLLNVAL)))
				soerr = ECONNREFUSED;
			if (soerr != 0) {
				char why[160];

				snprintf(why, sizeof(why), "cannot connect: %s", strerror(soerr));
				conn_lost(r, why);
				return;
			}
			if (!(ev & POLLOUT))
				return;
			conn_established(r);
			ev = POLLOUT; /* nothing to read yet: we have sent nothing */
		}
		if (ev & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
			read_replies(r);
			if (r->state != REDIS_CONN_UP)
				return;
		}
		if (ev & POLLOUT)
			flush_out(r);
		return;
	}
}

/* Key with every "%t" replaced by type into buf. Its length, or -1 when it does not fit. */
static int
expand_key(const char *key, const char *type, char *buf, size_t size)
{
	size_t o = 0, tlen = strlen(type);

	for (const char *p = key; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 't') {
			if (tlen > size - o)
				return -1;
			memcpy(buf + o, type, tlen);
			o += tlen;
			p++;
			continue;
		}
		if (o == size)
			return -1;
		buf[o++] = *p;
	}
	return (int)o;
}

static void
drop_line(struct redis_out *r, const char *why, size_t len)
{
	r->stats.n_dropped++;
	if (!r->in_drop_burst) {
		log_warn("redis %s: %s (line of %zu bytes, %zu of %zu queued); lines that do "
			 "not fit are dropped, reported again once the queue drained",
			 target_name(r), why, len, r->queued_bytes, r->cfg.queue_bytes);
		r->in_drop_burst = true;
		r->n_burst_drops = 0;
	}
	r->n_burst_drops++;
}

void
redis_out_write(struct redis_out *r, const char *line, size_t len, const char *event_type)
{
	char key[REDIS_OUT_KEY_MAX];
	struct redis_line *l;
	int key_len;

	if (event_type == NULL || event_type[0] == '\0')
		event_type = "unknown";
	key_len = expand_key(r->cfg.key, event_type, key, sizeof(key));
	if (key_len < 0) {
		drop_line(r, "key too long for that event_type", len);
		return;
	}
	if (len > r->cfg.queue_bytes - r->queued_bytes || len > UINT32_MAX) {
		drop_line(r, "queue full", len);
		return;
	}
	l = malloc(sizeof(*l) + (size_t)key_len + len);
	if (l == NULL) {
		drop_line(r, "out of memory", len);
		return;
	}
	l->next = NULL;
	l->key_len = (uint32_t)key_len;
	l->len = (uint32_t)len;
	memcpy(l->data, key, (size_t)key_len);
	if (len > 0)
		memcpy(l->data + key_len, line, len);
	if (r->tail != NULL)
		r->tail->next = l;
	else
		r->head = l;
	r->tail = l;
	if (r->unsent == NULL)
		r->unsent = l;
	r->queued_bytes += len;
	r->stats.n_queued++;
}

void
redis_out_get_stats(const struct redis_out *r, struct redis_out_stats *out)
{
	*out = r->stats;
}
