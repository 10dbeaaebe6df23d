/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 5424 messages over UDP, TCP (RFC 6587 octet counting) or a Unix datagram socket, with
 * a bounded queue of whole messages behind a non-blocking socket. The queue is one buffer of
 * records [u32 length][bytes] (a datagram, or a whole TCP frame) with a read offset; it is
 * compacted when the tail runs out of room. posternd control thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "net_target.h"
#include "syslog_out.h"

#define FRAME_PREFIX_MAX 21 /* "18446744073709551615 " */
#define QUEUE_REC_HDR sizeof(uint32_t)
#define FLUSH_MAX 1024 /* messages per flush: bound the work of one call */

enum syslog_transport { TRANSPORT_UDP, TRANSPORT_TCP, TRANSPORT_UNIX };

/* a TCP connection; for Unix sockets only DOWN (not connected) and UP */
enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_UP };

struct syslog_out {
	enum syslog_transport transport;
	int fd;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int facility;
	unsigned pid;
	char hostname[SYSLOG_HOSTNAME_MAX + 1];
	char app_name[SYSLOG_APP_NAME_MAX + 1];

	/* TCP connection and Unix socket connect state */
	enum conn_state state;
	uint64_t now_ms;          /* the last tick's time */
	uint64_t connect_started; /* now_ms when the pending connect began */
	bool clock_known;         /* a tick gave now_ms (create has no clock) */
	uint64_t next_attempt;    /* while down: the tick at or after it connects again */
	uint32_t backoff_ms;      /* the wait after the next failure */

	/* formatting scratch, grown to the largest message so far */
	char *fmt;
	size_t fmt_cap;

	/* queue of whole messages or frames */
	unsigned char *q;
	size_t q_cap, q_head, q_tail;
	size_t q_bytes;     /* message bytes queued (the bound), record headers not counted */
	size_t q_limit;
	size_t head_sent;   /* TCP: bytes of the head frame already on this connection */

	struct syslog_out_stats st;
};

/* ---- formatting ---------------------------------------------------------------------- */

static bool
is_printusascii(unsigned char c)
{
	return c >= 33 && c <= 126;
}

/* Copy a header field: at most max bytes, non-PRINTUSASCII as '_', "-" for none. */
static size_t
put_field(char *p, const char *s, size_t max)
{
	size_t n = 0;

	if (s != NULL)
		for (; s[n] != '\0' && n < max; n++)
			p[n] = is_printusascii((unsigned char)s[n]) ? s[n] : '_';
	if (n == 0)
		p[n++] = '-';
	return n;
}

static bool
msgid_is_valid(const char *id)
{
	size_t n;

	if (id == NULL || id[0] == '\0')
		return false;
	for (n = 0; id[n] != '\0'; n++)
		if (n >= SYSLOG_MSGID_MAX || !is_printusascii((unsigned char)id[n]))
			return false;
	return true;
}

/* RFC 3339 UTC with microseconds (27 bytes), or "-" when the year would pass 9999. */
static size_t
put_timestamp(char *p, uint64_t ts_us)
{
	uint64_t secs = ts_us / 1000000;
	time_t t = (time_t)secs;
	struct tm tm;
	char tmp[64];
	int n;

	/* 253402300800 is 10000-01-01T00:00:00Z */
	if (secs >= 253402300800ull || gmtime_r(&t, &tm) == NULL) {
		p[0] = '-';
		return 1;
	}
	n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (unsigned)(ts_us % 1000000));
	memcpy(p, tmp, (size_t)n);
	return (size_t)n;
}

size_t
syslog_format(char *buf, size_t cap, int pri, uint64_t ts_us, const char *host, const char *app,
	      unsigned pid, const char *msgid, const char *msg, size_t msg_len)
{
	char hdr[SYSLOG_FORMAT_HEADER_MAX + 8];
	size_t n;

	if (pri < 0 || pri > 191)
		return 0;
	n = (size_t)snprintf(hdr, sizeof(hdr), "<%d>1 ", pri);
	n += put_timestamp(hdr + n, ts_us);
	hdr[n++] = ' ';
	n += put_field(hdr + n, host, SYSLOG_HOSTNAME_MAX);
	hdr[n++] = ' ';
	n += put_field(hdr + n, app, SYSLOG_APP_NAME_MAX);
	n += (size_t)snprintf(hdr + n, sizeof(hdr) - n, " %u ", pid);
	n += put_field(hdr + n, msgid_is_valid(msgid) ? msgid : NULL, SYSLOG_MSGID_MAX);
	memcpy(hdr + n, " -", 2); /* no STRUCTURED-DATA */
	n += 2;
	if (msg_len > 0)
		hdr[n++] = ' ';
	if (n > cap || msg_len > cap - n)
		return 0;
	memcpy(buf, hdr, n);
	if (msg_len > 0)
		memcpy(buf + n, msg, msg_len);
	return n + msg_len;
}

/* The names rsyslog and common/config.c use; RFC 5424's words for 13..15 are aliases. */
static const char *const facility_names[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

int
syslog_facility_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < (int)(sizeof(facility_names) / sizeof(facility_names[0])); i++)
		if (strcasecmp(name, facility_names[i]) == 0)
			return i;
	if (strcasecmp(name, "audit") == 0)
		return 13;
	if (strcasecmp(name, "alert") == 0)
		return 14;
	if (strcasecmp(name, "clock") == 0)
		return 15;
	return -1;
}

/* ---- queue --------------------------------------------------------------------------- */

static bool
queue_empty(const struct syslog_out *s)
{
	return s->q_head == s->q_tail;
}

/* Append a whole message; false when it would pass the bound (or memory runs out). */
static bool
queue_push(struct syslog_out *s, const char *data, size_t len)
{
	size_t need = QUEUE_REC_HDR + len;
	uint32_t len32 = (uint32_t)len;

	if (len > s->q_limit - s->q_bytes)
		return false;
	if (s->q_cap - s->q_tail < need && s->q_head > 0) {
		memmove(s->q, s->q + s->q_head, s->q_tail - s->q_head);
		s->q_tail -= s->q_head;
		s->q_head = 0;
	}
	if (s->q_cap - s->q_tail < need) {
		size_t cap = s->q_cap ? s->q_cap * 2 : 4096;
		unsigned char *q;

		while (cap - s->q_tail < need)
			cap *= 2;
		q = realloc(s->q, cap);
		if (q == NULL)
			return false;
		s->q = q;
		s->q_cap = cap;
	}
	memcpy(s->q + s->q_tail, &len32, sizeof(len32));
	memcpy(s->q + s->q_tail + QUEUE_REC_HDR, data, len);
	s->q_tail += need;
	s->q_bytes += len;
	s->st.n_queued++;
	return true;
}

static const unsigned char *
queue_peek(const struct syslog_out *s, size_t *len)
{
	uint32_t len32;

	memcpy(&len32, s->q + s->q_head, sizeof(len32));
	*len = len32;
	return s->q + s->q_head + QUEUE_REC_HDR;
}

static void
queue_pop(struct syslog_out *s)
{
	size_t len;

	queue_peek(s, &len);
	s->q_head += QUEUE_REC_HDR + len;
	s->q_bytes -= len;
	s->st.n_queued--;
	s->head_sent = 0;
	if (s->q_head == s->q_tail)
		s->q_head = s->q_tail = 0;
}

/* ---- sockets ------------------------------------------------------------------------- */

static int
open_socket(const struct syslog_out *s)
{
	int type = s->transport == TRANSPORT_TCP ? SOCK_STREAM : SOCK_DGRAM;

	return socket(s->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static void
tcp_down(struct syslog_out *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->state = CONN_DOWN;
	s->next_attempt = s->now_ms + s->backoff_ms;
	s->backoff_ms = s->backoff_ms * 2 > SYSLOG_OUT_BACKOFF_MAX_MS ? SYSLOG_OUT_BACKOFF_MAX_MS :
									   s->backoff_ms * 2;
	/* a frame cut by the break goes again whole on the next connection */
	s->head_sent = 0;
}

static void queue_flush(struct syslog_out *s);

static void
tcp_connected(struct syslog_out *s)
{
	s->state = CONN_UP;
	s->backoff_ms = SYSLOG_OUT_BACKOFF_MIN_MS;
	s->st.n_connects++;
	queue_flush(s);
}

static void
tcp_connect(struct syslog_out *s)
{
	s->fd = open_socket(s);
	if (s->fd < 0) {
		s->st.n_errors++;
		tcp_down(s);
		return;
	}
	s->connect_started = s->now_ms;
	if (connect(s->fd, (struct sockaddr *)&s->addr, s->addr_len) == 0) {
		tcp_connected(s);
	} else if (errno == EINPROGRESS) {
		s->state = CONN_CONNECTING;
	} else {
		s->st.n_errors++;
		tcp_down(s);
	}
}

/* Unix datagram: connect so that poll reports when the receiver has room again. */
static bool
unix_connect(struct syslog_out *s)
{
	if (connect(s->fd, (struct sockaddr *)&s->addr, s->addr_len) < 0)
		return false;
	s->state = CONN_UP;
	s->st.n_connects++;
	return true;
}

enum send_result { SEND_DONE, SEND_AGAIN, SEND_TOO_LONG, SEND_FAILED, SEND_BROKEN };

static enum send_result
dgram_send(struct syslog_out *s, const void *data, size_t len)
{
	bool retried = false;

	if (s->transport == TRANSPORT_UNIX && s->state != CONN_UP && !unix_connect(s)) {
		s->st.n_errors++;
		return SEND_FAILED;
	}
again:
	if (send(s->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
		return SEND_DONE;
	switch (errno) {
	case EAGAIN:
	case ENOBUFS:
	case EINTR:
		return SEND_AGAIN;
	case EMSGSIZE:
		return SEND_TOO_LONG;
	case ECONNREFUSED:
	case ENOTCONN:
		/*
		 * A Unix receiver that went away (rsyslog restarted and made /dev/log anew):
		 * connect again and try once more. For UDP the refusal belongs to an earlier
		 * datagram (an ICMP error, now cleared): counted, as the receiver is not there,
		 * but this one was not sent: try it once more.
		 */
		if (!retried) {
			retried = true;
			if (s->transport == TRANSPORT_UDP) {
				s->st.n_errors++;
				goto again;
			}
			s->state = CONN_DOWN;
			if (unix_connect(s))
				goto again;
		}
		s->st.n_errors++;
		return SEND_FAILED;
	default:
		s->st.n_errors++;
		return SEND_FAILED;
	}
}

/* Write (the rest of) a TCP frame: SEND_DONE when all of it is on the connection. */
static enum send_result
tcp_send(struct syslog_out *s, const unsigned char *data, size_t len, size_t *sent)
{
	while (*sent < len) {
		ssize_t n = send(s->fd, data + *sent, len - *sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return SEND_AGAIN;
		if (n <= 0) {
			s->st.n_errors++;
			return SEND_BROKEN;
		}
		*sent += (size_t)n;
	}
	return SEND_DONE;
}

static void
queue_flush(struct syslog_out *s)
{
	for (int i = 0; i < FLUSH_MAX && !queue_empty(s); i++) {
		size_t len;
		const unsigned char *data = queue_peek(s, &len);
		enum send_result r;

		if (s->transport == TRANSPORT_TCP) {
			if (s->state != CONN_UP)
				return;
			r = tcp_send(s, data, len, &s->head_sent);
		} else {
			r = dgram_send(s, data, len);
		}
		switch (r) {
		case SEND_DONE:
			s->st.n_sent++;
			break;
		case SEND_AGAIN:
			return;
		case SEND_TOO_LONG:
			s->st.n_too_long++;
			break;
		case SEND_FAILED:
			s->st.n_dropped++;
			break;
		case SEND_BROKEN:
			tcp_down(s);
			return;
		}
		queue_pop(s);
	}
}

/* ---- target -------------------------------------------------------------------------- */

static int
parse_target(struct syslog_out *s, const char *target, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_NUMERICSERV }, *res = NULL;
	struct net_target t;
	char port[8];
	int rc;

	char why[NET_HOST_MAX + 96];

	if (net_target_parse(target, NET_UDP | NET_TCP | NET_UNIX, &t, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "syslog target: %s", why);
		return -EINVAL;
	}
	if (t.scheme == NET_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&s->addr;

		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, t.path, strlen(t.path) + 1);
		s->addr_len =
			(socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(t.path) + 1);
		s->transport = TRANSPORT_UNIX;
		return 0;
	}
	s->transport = t.scheme == NET_TCP ? TRANSPORT_TCP : TRANSPORT_UDP;
	hints.ai_socktype = t.scheme == NET_TCP ? SOCK_STREAM : SOCK_DGRAM;
	snprintf(port, sizeof(port), "%u", t.hp.port);
	/* resolved once, here: a reconnect never waits on DNS */
	rc = getaddrinfo(t.hp.host, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "syslog target %s: %s", target,
			 rc != 0 ? gai_strerror(rc) : "no address");
		if (res != NULL)
			freeaddrinfo(res);
		return -EINVAL;
	}
	memcpy(&s->addr, res->ai_addr, res->ai_addrlen);
	s->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* ---- public -------------------------------------------------------------------------- */

struct syslog_out *
syslog_out_create(const struct syslog_out_config *cfg, char *err, size_t errlen)
{
	struct syslog_out *s;

	if (cfg->facility < 0 || cfg->facility > 23) {
		snprintf(err, errlen, "syslog facility %d: not 0..23", cfg->facility);
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "syslog: out of memory");
		return NULL;
	}
	s->fd = -1;
	if (parse_target(s, cfg->target, err, errlen) < 0) {
		free(s);
		errno = EINVAL;
		return NULL;
	}
	s->facility = cfg->facility;
	s->pid = (unsigned)getpid();
	if (cfg->hostname[0] != '\0')
		snprintf(s->hostname, sizeof(s->hostname), "%s", cfg->hostname);
	else if (gethostname(s->hostname, sizeof(s->hostname)) < 0)
		s->hostname[0] = '\0';
	s->hostname[sizeof(s->hostname) - 1] = '\0';
	snprintf(s->app_name, sizeof(s->app_name), "%s", cfg->app_name);
	s->q_limit = cfg->queue_bytes ? cfg->queue_bytes : SYSLOG_OUT_QUEUE_DEFAULT;
	s->backoff_ms = SYSLOG_OUT_BACKOFF_MIN_MS;
	s->state = CONN_DOWN;

	if (s->transport == TRANSPORT_TCP) {
		tcp_connect(s); /* a refusal now is retried from the ticks */
		return s;
	}
	s->fd = open_socket(s);
	if (s->fd < 0) {
		int e = errno;

		snprintf(err, errlen, "syslog target %s: socket: %s", cfg->target, strerror(e));
		free(s);
		errno = e;
		return NULL;
	}
	if (s->transport == TRANSPORT_UDP) {
		/* connected, so that an ICMP refusal is reported (and counted) */
		if (connect(s->fd, (struct sockaddr *)&s->addr, s->addr_len) < 0) {
			int e = errno;

			snprintf(err, errlen, "syslog target %s: connect: %s", cfg->target,
				 strerror(e));
			close(s->fd);
			free(s);
			errno = e;
			return NULL;
		}
		s->state = CONN_UP;
	} else {
		unix_connect(s); /* a socket not there yet is tried again at each message */
	}
	return s;
}

void
syslog_out_destroy(struct syslog_out *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s->q);
	free(s->fmt);
	free(s);
}

int
syslog_out_pollfds(const struct syslog_out *s, struct pollfd *fds, int max)
{
	short ev = 0;

	if (max < 1 || s->fd < 0)
		return 0;
	if (s->transport == TRANSPORT_TCP) {
		if (s->state == CONN_CONNECTING)
			ev = POLLOUT;
		else if (s->state == CONN_UP)
			ev = POLLIN | (queue_empty(s) ? 0 : POLLOUT);
	} else if (!queue_empty(s)) {
		ev = POLLOUT;
	}
	if (ev == 0)
		return 0;
	fds[0] = (struct pollfd){ .fd = s->fd, .events = ev };
	return 1;
}

/* The peer sent something or closed: syslog receivers send nothing, so read and discard. */
static void
tcp_read(struct syslog_out *s)
{
	char buf[512];

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0)
			s->st.n_errors++;
		tcp_down(s);
		return;
	}
}

void
syslog_out_handle(struct syslog_out *s, const struct pollfd *fds, int n)
{
	for (int i = 0; i < n; i++) {
		short re = fds[i].revents;

		if (fds[i].fd != s->fd || s->fd < 0 || re == 0)
			continue;
		if (s->transport != TRANSPORT_TCP) {
			queue_flush(s);
			continue;
		}
		if (s->state == CONN_CONNECTING) {
			int soerr = 0;
			socklen_t sl = sizeof(soerr);

			if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
				soerr = errno;
			if (soerr == EINPROGRESS)
				continue;
			if (soerr != 0) {
				s->st.n_errors++;
				tcp_down(s);
			} else {
				tcp_connected(s);
			}
			continue;
		}
		if (re & (POLLIN | POLLHUP | POLLERR))
			tcp_read(s);
		if (s->state == CONN_UP && (re & POLLOUT))
			queue_flush(s);
	}
}

void
syslog_out_tick(struct syslog_out *s, uint64_t now_ms)
{
	s->now_ms = now_ms;
	if (!s->clock_known) {
		/* the connect begun in create dates from now: the caller's clock starts here */
		s->clock_known = true;
		s->connect_started = now_ms;
	}
	if (s->transport != TRANSPORT_TCP)
		return;
	if (s->state == CONN_CONNECTING &&
	    now_ms - s->connect_started >= SYSLOG_OUT_CONNECT_TIMEOUT_MS) {
		s->st.n_errors++;
		tcp_down(s);
	}
	if (s->state == CONN_DOWN && now_ms >= s->next_attempt)
		tcp_connect(s);
}

static int
severity_of(const char *event_type)
{
	/* a spool event tells of records held back or lost while posternd was away */
	if (event_type != NULL &&
	    (strcmp(event_type, "alert") == 0 || strcmp(event_type, "anomaly") == 0 ||
	     strcmp(event_type, "spool") == 0))
		return 4; /* warning */
	return 6;         /* informational */
}

static bool
fmt_reserve(struct syslog_out *s, size_t need)
{
	char *p;

	if (s->fmt_cap >= need)
		return true;
	p = realloc(s->fmt, need);
	if (p == NULL)
		return false;
	s->fmt = p;
	s->fmt_cap = need;
	return true;
}

void
syslog_out_write(struct syslog_out *s, const char *line, size_t len, const char *event_type,
		 uint64_t ts_us)
{
	size_t max, mlen, cap;
	char *msg;
	enum send_result r;

	switch (s->transport) {
	case TRANSPORT_UDP:
		max = SYSLOG_OUT_UDP_MAX;
		break;
	case TRANSPORT_UNIX:
		max = SYSLOG_OUT_UNIX_MAX;
		break;
	default:
		max = s->q_limit; /* a frame the queue could never hold */
		break;
	}
	/* the header is at least 17 bytes ("<0>1 - - - 0 - - "): no need to format to know */
	if (len > max) {
		s->st.n_too_long++;
		return;
	}
	cap = FRAME_PREFIX_MAX + SYSLOG_FORMAT_HEADER_MAX + len;
	if (!fmt_reserve(s, cap)) {
		s->st.n_dropped++;
		return;
	}
	msg = s->fmt + FRAME_PREFIX_MAX;
	mlen = syslog_format(msg, cap - FRAME_PREFIX_MAX, s->facility * 8 + severity_of(event_type),
			     ts_us, s->hostname, s->app_name, s->pid, event_type, line, len);
	if (s->transport == TRANSPORT_TCP) {
		char pfx[FRAME_PREFIX_MAX + 1];
		int pn = snprintf(pfx, sizeof(pfx), "%zu ", mlen);

		msg -= pn;
		memcpy(msg, pfx, (size_t)pn);
		mlen += (size_t)pn;
	}
	if (mlen > max) {
		s->st.n_too_long++;
		return;
	}

	/* behind queued messages, or no connection: wait in order */
	if (!queue_empty(s) || (s->transport == TRANSPORT_TCP && s->state != CONN_UP)) {
		if (!queue_push(s, msg, mlen))
			s->st.n_dropped++;
		queue_flush(s);
		return;
	}
	if (s->transport == TRANSPORT_TCP) {
		size_t sent = 0;

		r = tcp_send(s, (const unsigned char *)msg, mlen, &sent);
		if (r == SEND_DONE) {
			s->st.n_sent++;
			return;
		}
		/* the queue is empty and the frame within its bound: the push cannot fail but
		 * for memory */
		if (!queue_push(s, msg, mlen)) {
			s->st.n_dropped++;
			if (sent > 0) /* a frame cut on the wire: this connection is unusable */
				tcp_down(s);
			return;
		}
		s->head_sent = r == SEND_BROKEN ? 0 : sent;
		if (r == SEND_BROKEN)
			tcp_down(s);
		return;
	}
	r = dgram_send(s, msg, mlen);
	switch (r) {
	case SEND_DONE:
		s->st.n_sent++;
		break;
	case SEND_AGAIN:
		if (!queue_push(s, msg, mlen))
			s->st.n_dropped++;
		break;
	case SEND_TOO_LONG:
		s->st.n_too_long++;
		break;
	default:
		s->st.n_dropped++;
		break;
	}
}

void
syslog_out_get_stats(const struct syslog_out *s, struct syslog_out_stats *out)
{
	*out = s->st;
}
