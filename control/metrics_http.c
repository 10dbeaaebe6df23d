/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The metrics endpoint on libmicrohttpd in "external select" mode with epoll: MHD keeps its
 * sockets in an epoll set of its own and we poll that one descriptor, so posternd stays
 * single-threaded. MHD registers connections edge-triggered and keeps those with work left in
 * a ready list that the epoll fd does not signal again; MHD_get_timeout() returns 0 while that
 * list is not empty, which is why posternd must bound its poll by metrics_http_timeout_ms()
 * (idle connections are closed the same way, by the timeout). Each answer is rendered
 * whole before it is queued: an exposition is a few tens of KB and a scrape comes every few
 * seconds. posternd control thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics_http.h"
#include "net_target.h"

#define MEMORY_PER_CONNECTION 16384 /* request line and headers; MHD answers 431 past it */
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_http {
	struct MHD_Daemon *daemon;
	int epoll_fd;
	uint16_t port;
	metrics_render_fn render;
	void *ctx;
	uint64_t n_requests;
	uint64_t n_errors;
	char last_error[160]; /* MHD's last log message, for metrics_http_create()'s err */
};

int
metrics_http_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct net_hostport hp;
	char err[64];

	memset(ss, 0, sizeof(*ss));
	if (listen == NULL ||
	    net_hostport_parse(listen, NET_HP_EMPTY_HOST | NET_HP_PORT_ZERO | NET_HP_NUMERIC, &hp,
			       err, sizeof(err)) < 0)
		return -EINVAL;
	if (hp.ipv6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, hp.host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(hp.port);
		*sslen = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (hp.host[0] == '\0')
			a4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, hp.host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(hp.port);
		*sslen = sizeof(*a4);
	}
	return 0;
}

/* MHD's messages go to our log, and the last one is kept to explain a failed start. */
static void __attribute__((format(printf, 2, 0)))
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct metrics_http *m = cls;
	size_t n;

	vsnprintf(m->last_error, sizeof(m->last_error), fmt, ap);
	n = strlen(m->last_error);
	while (n > 0 && (m->last_error[n - 1] == '\n' || m->last_error[n - 1] == '\r'))
		m->last_error[--n] = '\0';
	log_warn("metrics: %s", m->last_error);
}

static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * Every request is answered on its first call, before any body is read: none is wanted, and
 * MHD closes a connection whose body was left unread after the answer.
 */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct metrics_http *m = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *buf = NULL;
	size_t len = 0;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	m->n_requests++;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		m->n_errors++;
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	}
	if (strcmp(url, "/metrics") != 0) {
		m->n_errors++;
		return answer(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	}
	if (m->render(m->ctx, &buf, &len) < 0) {
		free(buf);
		m->n_errors++;
		return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the metrics\n");
	}
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		m->n_errors++;
		return MHD_NO; /* MHD closes the connection */
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

struct metrics_http *
metrics_http_create(const char *listen, metrics_render_fn render, void *ctx, char *err,
		    size_t errlen)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	struct metrics_http *m;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	socklen_t sslen;

	if (metrics_http_parse_listen(listen, &ss, &sslen) < 0) {
		snprintf(err, errlen, "metrics listen address '%s': expected HOST:PORT, "
			 "[IPV6]:PORT or :PORT", listen != NULL ? listen : "(null)");
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, errlen, "metrics endpoint: out of memory");
		errno = ENOMEM;
		return NULL;
	}
	m->render = render;
	m->ctx = ctx;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, m,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned int)METRICS_HTTP_MAX_CONNECTIONS,
				     /* one client cannot hold every slot, and Prometheus out */
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				     (unsigned int)METRICS_HTTP_MAX_PER_IP,
				     MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned int)METRICS_HTTP_TIMEOUT_S,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				     (size_t)MEMORY_PER_CONNECTION, MHD_OPTION_END);
	if (m->daemon == NULL)
		goto fail_free;
	info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || info->epoll_fd < 0) {
		snprintf(m->last_error, sizeof(m->last_error), "no epoll descriptor");
		goto fail_stop;
	}
	m->epoll_fd = info->epoll_fd;
	info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
	m->port = info != NULL ? info->port : 0;
	return m;

fail_stop:
	MHD_stop_daemon(m->daemon);
fail_free:
	snprintf(err, errlen, "metrics endpoint on %s: %s", listen,
		 m->last_error[0] != '\0' ? m->last_error : "cannot start");
	free(m);
	errno = EADDRNOTAVAIL;
	return NULL;
}

static unsigned int
n_connections(const struct metrics_http *m)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info != NULL ? info->num_connections : 0;
}

void
metrics_http_destroy(struct metrics_http *m)
{
	if (m == NULL)
		return;
	MHD_stop_daemon(m->daemon);
	free(m);
}

uint16_t
metrics_http_port(const struct metrics_http *m)
{
	return m->port;
}

int
metrics_http_pollfds(const struct metrics_http *m, struct pollfd *fds, int max)
{
	if (max < 1)
		return 0;
	fds[0] = (struct pollfd){ .fd = m->epoll_fd, .events = POLLIN };
	return 1;
}

/*
 * MHD runs on every call, not only when its fd is readable: at the connection limit it takes
 * its listening socket out of its epoll set and puts it back only at the start of a later
 * run, which no event would ever trigger. One epoll_wait(0) per loop turn is the price. A run
 * that ends below the limit after starting at it is followed by another, so that waiting
 * clients are accepted now rather than at the next loop turn.
 */
void
metrics_http_handle(struct metrics_http *m, const struct pollfd *fds, int n)
{
	unsigned int before = n_connections(m);

	(void)fds;
	(void)n;
	MHD_run(m->daemon);
	if (before >= METRICS_HTTP_MAX_CONNECTIONS && n_connections(m) < before)
		MHD_run(m->daemon);
}

uint64_t
metrics_http_timeout_ms(const struct metrics_http *m)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(m->daemon, &t) != MHD_YES)
		return UINT64_MAX;
	return (uint64_t)t;
}

void
metrics_http_get_stats(const struct metrics_http *m, uint64_t *n_requests, uint64_t *n_errors)
{
	*n_requests = m->n_requests;
	*n_errors = m->n_errors;
}
