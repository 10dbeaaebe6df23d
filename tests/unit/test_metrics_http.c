/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Metrics endpoint: a real libmicrohttpd daemon on 127.0.0.1 port 0, driven the way posternd
 * drives it (pollfds, poll bounded by the timeout, handle). Each request is made by a forked
 * child with a plain socket, which hands the raw response back through a pipe; the parent
 * runs the loop until the pipe closes and checks status line, headers and body. Also: bad
 * listen strings, a port in use, the connection limit and the idle timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics_http.h"

#define BODY "# TYPE postern_test_total counter\npostern_test_total 42\n"
#define CONTENT_TYPE "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"

struct render_ctx {
	int calls;
	int fail; /* render returns -EIO */
};

static int
render(void *ctx, char **buf, size_t *len)
{
	struct render_ctx *rc = ctx;

	rc->calls++;
	if (rc->fail)
		return -EIO;
	*buf = strdup(BODY);
	if (*buf == NULL)
		return -ENOMEM;
	*len = strlen(BODY);
	return 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One turn of posternd's loop, plus extra fds of the test's own. */
static void
loop_once(struct metrics_http *m, struct pollfd *extra, int n_extra, int max_ms)
{
	struct pollfd fds[8];
	int n = metrics_http_pollfds(m, fds, 1);
	uint64_t t = metrics_http_timeout_ms(m);
	int timeout = t < (uint64_t)max_ms ? (int)t : max_ms;

	assert_int_equal(n, 1);
	for (int i = 0; i < n_extra; i++)
		fds[n + i] = extra[i];
	assert_true(poll(fds, (nfds_t)(n + n_extra), timeout) >= 0);
	metrics_http_handle(m, fds, n);
	for (int i = 0; i < n_extra; i++)
		extra[i].revents = fds[n + i].revents;
}

static int
connect_to(int family, uint16_t port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(port);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(port);
		len = sizeof(*a);
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The child: send req, copy the whole response to out, exit. Never returns. */
static void
client(int family, uint16_t port, const char *req, int out)
{
	struct timeval tv = { .tv_sec = 10 };
	char buf[4096];
	ssize_t n;
	int fd;

	/* the parent's sockets, which a test closes to see what the server does */
	for (int i = 3; i < 1024; i++)
		if (i != out)
			close(i);
	fd = connect_to(family, port);
	if (fd < 0)
		_exit(2);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		_exit(3);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			_exit(4);
	_exit(n == 0 ? 0 : 5);
}

struct pending {
	pid_t pid;
	int fd; /* the pipe the child writes the response to */
};

/* Start request req in a child; request_wait() runs the loop until it has the answer. */
static struct pending
request_start(struct metrics_http *m, int family, const char *req)
{
	uint16_t port = metrics_http_port(m);
	struct pending p;
	int pipefd[2];

	assert_int_equal(pipe(pipefd), 0);
	p.pid = fork();
	assert_true(p.pid >= 0);
	if (p.pid == 0) {
		close(pipefd[0]);
		client(family, port, req, pipefd[1]);
	}
	close(pipefd[1]);
	p.fd = pipefd[0];
	return p;
}

/* Whether the child has written anything yet, after running the loop for ms. */
static bool
request_answered(struct metrics_http *m, const struct pending *pd, int ms)
{
	uint64_t deadline = now_ms() + (uint64_t)ms;

	while (now_ms() < deadline) {
		struct pollfd p = { .fd = pd->fd, .events = POLLIN };

		loop_once(m, &p, 1, 20);
		if (p.revents != 0)
			return true;
	}
	return false;
}

/* Run the loop until the child has the whole response: the raw response (caller frees). */
static char *
request_wait(struct metrics_http *m, struct pending pd)
{
	size_t len = 0, cap = 65536;
	char *resp = calloc(1, cap + 1);
	uint64_t deadline = now_ms() + 10000;
	int status;

	assert_non_null(resp);
	for (;;) {
		struct pollfd p = { .fd = pd.fd, .events = POLLIN };

		if (now_ms() >= deadline) {
			kill(pd.pid, SIGKILL);
			waitpid(pd.pid, &status, 0);
			close(pd.fd);
			free(resp);
			fail_msg("no complete answer within 10 s");
		}
		loop_once(m, &p, 1, 100);
		if (p.revents == 0)
			continue;
		ssize_t n = read(pd.fd, resp + len, cap - len);

		assert_true(n >= 0);
		if (n == 0)
			break;
		len += (size_t)n;
		assert_true(len < cap);
	}
	close(pd.fd);
	assert_int_equal(waitpid(pd.pid, &status, 0), pd.pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	resp[len] = '\0';
	return resp;
}

static char *
request(struct metrics_http *m, int family, const char *req)
{
	return request_wait(m, request_start(m, family, req));
}

static const char *
body_of(const char *resp)
{
	const char *b = strstr(resp, "\r\n\r\n");

	assert_non_null(b);
	return b + 4;
}

static int
setup(void **state)
{
	static struct render_ctx rc;
	char err[256] = "";
	struct metrics_http *m;

	rc = (struct render_ctx){ 0 };
	m = metrics_http_create("127.0.0.1:0", render, &rc, err, sizeof(err));
	if (m == NULL) {
		fprintf(stderr, "metrics_http_create: %s\n", err);
		return -1;
	}
	*state = m;
	return 0;
}

static int
teardown(void **state)
{
	metrics_http_destroy(*state);
	return 0;
}

static void
test_get_metrics(void **state)
{
	struct metrics_http *m = *state;
	uint64_t n_req, n_err;
	char *r;

	assert_true(metrics_http_port(m) > 0);
	r = request(m, AF_INET, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(r, CONTENT_TYPE));
	assert_string_equal(body_of(r), BODY);
	free(r);
	/* a query string is not part of the path; HTTP/1.0 closes by itself */
	r = request(m, AF_INET, "GET /metrics?x=1 HTTP/1.0\r\n\r\n");
	assert_true(strncmp(r, "HTTP/1.0 200 OK\r\n", 17) == 0 ||
		    strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_string_equal(body_of(r), BODY);
	free(r);
	/* HEAD: the headers, no body */
	r = request(m, AF_INET, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(r, CONTENT_TYPE));
	assert_string_equal(body_of(r), "");
	free(r);
	metrics_http_get_stats(m, &n_req, &n_err);
	assert_int_equal(n_req, 3);
	assert_int_equal(n_err, 0);
}

static void
test_not_found(void **state)
{
	struct metrics_http *m = *state;
	static const char *const paths[] = { "/", "/metrics/", "/metricsx", "/favicon.ico" };
	uint64_t n_req, n_err;
	char req[128];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", paths[i]);
		char *r = request(m, AF_INET, req);

		assert_true(strncmp(r, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
		assert_null(strstr(r, "postern_test_total"));
		free(r);
	}
	metrics_http_get_stats(m, &n_req, &n_err);
	assert_int_equal(n_req, 4);
	assert_int_equal(n_err, 4);
}

static void
test_method_not_allowed(void **state)
{
	struct metrics_http *m = *state;
	uint64_t n_req, n_err;
	char *r;

	r = request(m, AF_INET, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
				"Connection: close\r\n\r\nhello");
	assert_true(strncmp(r, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0);
	assert_non_null(strstr(r, "Allow: GET, HEAD\r\n"));
	assert_null(strstr(r, "postern_test_total"));
	free(r);
	r = request(m, AF_INET, "DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(r, "HTTP/1.1 405 ", 13) == 0);
	free(r);
	metrics_http_get_stats(m, &n_req, &n_err);
	assert_int_equal(n_req, 2);
	assert_int_equal(n_err, 2);
}

static void
test_render_fails(void **state)
{
	struct render_ctx rc = { .fail = 1 };
	char err[256];
	struct metrics_http *m = metrics_http_create("127.0.0.1:0", render, &rc, err, sizeof(err));
	uint64_t n_req, n_err;
	char *r;

	(void)state;
	assert_non_null(m);
	r = request(m, AF_INET, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(r, "HTTP/1.1 500 ", 13) == 0);
	assert_int_equal(rc.calls, 1);
	free(r);
	/* the endpoint goes on: the next render succeeds */
	rc.fail = 0;
	r = request(m, AF_INET, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_string_equal(body_of(r), BODY);
	free(r);
	metrics_http_get_stats(m, &n_req, &n_err);
	assert_int_equal(n_req, 2);
	assert_int_equal(n_err, 1);
	metrics_http_destroy(m);
}

static void
test_ipv6(void **state)
{
	struct render_ctx rc = { 0 };
	char err[256];
	struct metrics_http *m = metrics_http_create("[::1]:0", render, &rc, err, sizeof(err));
	char *r;

	(void)state;
	if (m == NULL)
		skip(); /* no IPv6 loopback here */
	r = request(m, AF_INET6, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_string_equal(body_of(r), BODY);
	free(r);
	metrics_http_destroy(m);
}

static void
test_bad_listen(void **state)
{
	static const char *const bad[] = {
		"", "9477", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
		"127.0.0.1:80x", "127.0.0.1: 80", "1.2.3:80", "host.example:80", "::1:9477",
		"[::1]9477", "[::1]:", "[]:80", "[127.0.0.1]:80", "[::1:80",
		":99999999999999999999",
	};
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(metrics_http_parse_listen(bad[i], &ss, &len), -EINVAL);
		errno = 0;
		assert_null(metrics_http_create(bad[i], render, NULL, err, sizeof(err)));
		assert_int_equal(errno, EINVAL);
		assert_non_null(strstr(err, bad[i]));
	}
	assert_null(metrics_http_create(NULL, render, NULL, err, sizeof(err)));
	assert_int_equal(metrics_http_parse_listen(":9477", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_port, htons(9477));
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(metrics_http_parse_listen("[::1]:9477", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(metrics_http_parse_listen("10.1.2.3:0", &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	metrics_http_destroy(NULL);
}

static void
test_port_in_use(void **state)
{
	struct metrics_http *m = *state;
	char listen[32], err[256] = "";

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", metrics_http_port(m));
	errno = 0;
	assert_null(metrics_http_create(listen, render, NULL, err, sizeof(err)));
	assert_int_not_equal(errno, 0);
	assert_non_null(strstr(err, listen));
}

/* An idle IPv4 connection from source address 127.0.0.src (loopback: any of them is ours). */
static int
connect_from(unsigned src, uint16_t port)
{
	struct sockaddr_in from = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK - 1 + src) };
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&to, sizeof(to)), 0);
	return fd;
}

/*
 * One address holding METRICS_HTTP_MAX_PER_IP idle connections gets no more (its next one is
 * closed unanswered), while another address is still served: a stuck or hostile client
 * cannot keep Prometheus out.
 */
static void
test_per_ip_limit(void **state)
{
	struct metrics_http *m = *state;
	int idle[METRICS_HTTP_MAX_PER_IP];
	char *r;

	for (int i = 0; i < METRICS_HTTP_MAX_PER_IP; i++) {
		idle[i] = connect_from(9, metrics_http_port(m));
		loop_once(m, NULL, 0, 20);
	}
	int extra = connect_from(9, metrics_http_port(m));
	char buf[64];
	bool closed = false;

	for (int i = 0; i < 50 && !closed; i++) {
		struct pollfd p = { .fd = extra, .events = POLLIN };

		loop_once(m, NULL, 0, 20);
		if (poll(&p, 1, 0) > 0) {
			ssize_t n = read(extra, buf, sizeof(buf));

			/* closed without an answer: end of stream, or a reset */
			closed = n == 0 || (n < 0 && errno == ECONNRESET);
			assert_true(n <= 0);
		}
	}
	assert_true(closed);
	close(extra);
	r = request_wait(m, request_start(m, AF_INET, "GET /metrics HTTP/1.1\r\nHost: x\r\n"
							"Connection: close\r\n\r\n"));
	assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	free(r);
	for (int i = 0; i < METRICS_HTTP_MAX_PER_IP; i++)
		close(idle[i]);
}

/*
 * METRICS_HTTP_MAX_CONNECTIONS idle clients (from several addresses: one address may hold
 * only METRICS_HTTP_MAX_PER_IP) take every slot: one more waits in the listen backlog,
 * unanswered, until a slot frees; then it is served.
 */
static void
test_connection_limit(void **state)
{
	struct metrics_http *m = *state;
	int idle[METRICS_HTTP_MAX_CONNECTIONS];
	struct pending pd;
	char *r;

	for (int i = 0; i < METRICS_HTTP_MAX_CONNECTIONS; i++) {
		idle[i] = connect_from(2 + (unsigned)i / METRICS_HTTP_MAX_PER_IP,
				       metrics_http_port(m));
		loop_once(m, NULL, 0, 20);
	}
	pd = request_start(m, AF_INET, "GET /metrics HTTP/1.1\r\nHost: x\r\n"
				       "Connection: close\r\n\r\n");
	assert_false(request_answered(m, &pd, 500));
	for (int i = 0; i < METRICS_HTTP_MAX_CONNECTIONS; i++)
		close(idle[i]);
	r = request_wait(m, pd);
	assert_true(strncmp(r, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_string_equal(body_of(r), BODY);
	free(r);
}

/*
 * A client that connects and sends nothing is closed after METRICS_HTTP_TIMEOUT_S, by the
 * loop alone (no I/O wakes it: the timeout does). Takes about 5 s.
 */
static void
test_idle_timeout(void **state)
{
	struct metrics_http *m = *state;
	uint64_t start = now_ms(), closed_at = 0;
	int fd = connect_to(AF_INET, metrics_http_port(m));
	bool saw_timeout = false;
	char c;

	assert_true(fd >= 0);
	while (now_ms() - start < (METRICS_HTTP_TIMEOUT_S + 3) * 1000) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		loop_once(m, &p, 1, 1000);
		if (metrics_http_timeout_ms(m) <= METRICS_HTTP_TIMEOUT_S * 1000)
			saw_timeout = true;
		if (p.revents != 0) {
			assert_int_equal(read(fd, &c, 1), 0); /* closed, nothing sent */
			closed_at = now_ms();
			break;
		}
	}
	close(fd);
	assert_true(saw_timeout);
	assert_true(closed_at != 0);
	assert_true(closed_at - start >= (METRICS_HTTP_TIMEOUT_S - 1) * 1000);
	/* and the endpoint still serves */
	char *r = request(m, AF_INET, "GET /metrics HTTP/1.0\r\n\r\n");

	assert_non_null(strstr(r, " 200 OK\r\n"));
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
		cmocka_unit_test(test_render_fails),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_bad_listen),
		cmocka_unit_test_setup_teardown(test_port_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_ip_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
