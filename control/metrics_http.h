/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternd's Prometheus endpoint: a libmicrohttpd daemon without a thread of its own, run
 * from posternd's poll loop. GET (or HEAD) /metrics answers 200 with what the render callback
 * produces (text/plain; version=0.0.4); any other path 404, any other method 405. At most
 * METRICS_HTTP_MAX_CONNECTIONS connections, each closed after METRICS_HTTP_TIMEOUT_S idle
 * seconds, so a stuck or hostile client cannot hold posternd's resources.
 *
 * It does not format the exposition (control/prom_text.c does) and owns no loop: the caller
 * polls what metrics_http_pollfds() fills, bounds its poll timeout by
 * metrics_http_timeout_ms() and calls metrics_http_handle() after every poll. No TLS, no
 * authentication: listen on loopback or a management network. posternd control thread only.
 */
#pragma once

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define METRICS_HTTP_MAX_CONNECTIONS 16
#define METRICS_HTTP_MAX_PER_IP 4      /* of them from one client address */
#define METRICS_HTTP_TIMEOUT_S 5

struct metrics_http;

/*
 * Fill *buf with a malloc'd exposition of *len bytes (the endpoint frees it). 0 or -errno:
 * the request is then answered 500. Called from metrics_http_handle().
 */
typedef int (*metrics_render_fn)(void *ctx, char **buf, size_t *len);

/*
 * Parse a listen address: "HOST:PORT" with an IPv4 HOST, "[IPV6]:PORT", or ":PORT" (every
 * IPv4 address). PORT is 0..65535 (0: any free port). 0 or -EINVAL; for config validation.
 */
int metrics_http_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen);

/*
 * Listen on listen (see metrics_http_parse_listen()). render and ctx are borrowed for the
 * endpoint's life. Returns NULL with a reason in err (and errno set) when the address is
 * invalid or cannot be bound.
 */
struct metrics_http *metrics_http_create(const char *listen, metrics_render_fn render, void *ctx,
					 char *err, size_t errlen);
/* Close every connection and the listening socket. NULL is a no-op. */
void metrics_http_destroy(struct metrics_http *m);

/* The port bound (useful after listening on port 0). */
uint16_t metrics_http_port(const struct metrics_http *m);

/* Fill fds with the descriptor to poll (one: libmicrohttpd's epoll fd, POLLIN). Returns 1. */
int metrics_http_pollfds(const struct metrics_http *m, struct pollfd *fds, int max);
/*
 * Serve what is ready: accept, read, answer, close timed-out connections. Call after every
 * poll, whatever it returned, with the fds metrics_http_pollfds() filled (n of them); when
 * nothing is due it costs one epoll_wait(0).
 */
void metrics_http_handle(struct metrics_http *m, const struct pollfd *fds, int n);
/* Milliseconds until metrics_http_handle() has work without I/O; UINT64_MAX for none. */
uint64_t metrics_http_timeout_ms(const struct metrics_http *m);
/*
 * Requests answered since start, and those of them not answered 200 (404, 405, 500 when
 * render failed).
 */
void metrics_http_get_stats(const struct metrics_http *m, uint64_t *n_requests,
			    uint64_t *n_errors);
