/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Alert socket: real Unix sockets in a private mkdtemp directory. The server side is driven
 * the way posternd drives it (pollfds, poll, handle, broadcast); subscribers are plain client
 * sockets that read, stop reading, half-close or go away.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alert_server.h"
#include "test_tmpdir.h"

struct fixture {
	char dir[64];
	char path[96];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	if (test_tmpdir_make(fx->dir, sizeof(fx->dir)) < 0) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/alerts.sock", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	test_tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

static int
client_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* One round of the caller's loop: poll for at most timeout_ms and handle the results. */
static void
pump(struct alert_server *srv, int timeout_ms)
{
	struct pollfd fds[ALERT_SERVER_MAX_SUBSCRIBERS + 1];
	int n = alert_server_pollfds(srv, fds, alert_server_npollfds(srv));

	assert_true(n >= 1);
	if (poll(fds, (nfds_t)n, timeout_ms) > 0)
		alert_server_handle(srv, fds, n);
}

static uint64_t
stat_of(struct alert_server *srv, size_t offset)
{
	struct alert_server_stats st;

	alert_server_get_stats(srv, &st);
	return *(const uint64_t *)((const char *)&st + offset);
}

#define STAT(srv, field) stat_of(srv, offsetof(struct alert_server_stats, field))

/* Pump until the server has accepted `want` subscribers in all, or fail after ~2 s. */
static void
wait_accepted(struct alert_server *srv, uint64_t want)
{
	for (int i = 0; i < 200 && STAT(srv, n_accepted) < want; i++)
		pump(srv, 10);
	assert_int_equal(STAT(srv, n_accepted), want);
}

/* A growing byte buffer for what a client received. */
struct rx {
	char *buf;
	size_t len;
	size_t cap;
	int eof;
};

/* Read what is available without blocking (or wait up to timeout_ms for something). */
static void
rx_read(int fd, struct rx *rx, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) <= 0)
		return;
	for (;;) {
		if (rx->cap - rx->len < 65536) {
			rx->cap = rx->cap * 2 + 65536;
			rx->buf = realloc(rx->buf, rx->cap);
			assert_non_null(rx->buf);
		}
		ssize_t n = recv(fd, rx->buf + rx->len, rx->cap - rx->len, MSG_DONTWAIT);

		if (n > 0) {
			rx->len += (size_t)n;
			continue;
		}
		if (n == 0)
			rx->eof = 1;
		else
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNRESET);
		return;
	}
}

static void
make_line(char *buf, size_t size, unsigned i, size_t pad)
{
	int n = snprintf(buf, size, "{\"n\":%u,\"pad\":\"", i);

	assert_true(n > 0 && (size_t)n + pad + 3 < size);
	memset(buf + n, 'a' + (char)(i % 26), pad);
	snprintf(buf + n + pad, size - (size_t)n - pad, "\"}");
}

/* Bytes that lines from..to-1 take on the wire, newlines included. */
static size_t
expected_len(unsigned from, unsigned to, size_t pad)
{
	char line[8192];
	size_t total = 0;

	for (unsigned i = from; i < to; i++) {
		make_line(line, sizeof(line), i, pad);
		total += strlen(line) + 1;
	}
	return total;
}

/* Check that rx holds exactly lines from..to-1 as make_line makes them. */
static void
check_lines(const struct rx *rx, unsigned from, unsigned to, size_t pad)
{
	char want[8192];
	size_t off = 0;

	for (unsigned i = from; i < to; i++) {
		make_line(want, sizeof(want), i, pad);
		size_t n = strlen(want);

		assert_true(off + n + 1 <= rx->len);
		assert_memory_equal(rx->buf + off, want, n);
		assert_int_equal(rx->buf[off + n], '\n');
		off += n + 1;
	}
	assert_int_equal(off, rx->len);
}

static void
test_two_subscribers_same_lines(void **state)
{
	struct fixture *fx = *state;
	struct alert_server *srv = alert_server_create(fx->path, 0);
	struct rx a = { 0 }, b = { 0 };
	char line[256];

	assert_non_null(srv);
	assert_string_equal(alert_server_path(srv), fx->path);
	/* A line broadcast before anyone listens reaches no one. */
	alert_server_broadcast(srv, "early", 5, "alert");

	int ca = client_connect(fx->path);
	int cb = client_connect(fx->path);
	wait_accepted(srv, 2);
	assert_int_equal(STAT(srv, n_subscribers), 2);
	assert_int_equal(alert_server_npollfds(srv), 3);

	for (unsigned i = 0; i < 100; i++) {
		make_line(line, sizeof(line), i, 50);
		alert_server_broadcast(srv, line, strlen(line), "alert");
	}
	size_t want = expected_len(0, 100, 50);

	for (int i = 0; i < 100 && (a.len < want || b.len < want); i++) {
		pump(srv, 0);
		rx_read(ca, &a, 10);
		rx_read(cb, &b, 10);
	}
	check_lines(&a, 0, 100, 50);
	check_lines(&b, 0, 100, 50);
	assert_int_equal(STAT(srv, n_lines), 101);
	assert_int_equal(STAT(srv, n_dropped_subscribers), 0);

	/* Server close: both see end of stream. */
	alert_server_destroy(srv);
	rx_read(ca, &a, 1000);
	rx_read(cb, &b, 1000);
	assert_true(a.eof && b.eof);
	/* The socket file is gone with the server. */
	struct stat sb;
	assert_int_equal(lstat(fx->path, &sb), -1);
	close(ca);
	close(cb);
	free(a.buf);
	free(b.buf);
}

static void
test_slow_subscriber_dropped(void **state)
{
	struct fixture *fx = *state;
	const size_t queue = 64 * 1024;
	const unsigned n_lines = 5000;  /* 5 MB: far beyond socket buffer + queue */
	const size_t pad = 1000;
	struct alert_server *srv = alert_server_create(fx->path, queue);
	struct rx fast = { 0 }, slow = { 0 };
	char line[2048];

	assert_non_null(srv);
	int cfast = client_connect(fx->path);
	int cslow = client_connect(fx->path);
	wait_accepted(srv, 2);

	for (unsigned i = 0; i < n_lines; i++) {
		make_line(line, sizeof(line), i, pad);
		alert_server_broadcast(srv, line, strlen(line), "alert");
		pump(srv, 0);
		rx_read(cfast, &fast, 0);
	}
	assert_int_equal(STAT(srv, n_dropped_subscribers), 1);
	assert_int_equal(STAT(srv, n_subscribers), 1);
	assert_int_equal(STAT(srv, n_lines), n_lines);

	/* The reader got everything, in order. */
	for (int i = 0; i < 200 && fast.len < expected_len(0, n_lines, pad); i++) {
		pump(srv, 0);
		rx_read(cfast, &fast, 10);
	}
	check_lines(&fast, 0, n_lines, pad);

	/* The slow one got a prefix, then end of stream. */
	while (!slow.eof)
		rx_read(cslow, &slow, 1000);
	assert_true(slow.len > 0);
	assert_true(slow.len < fast.len);
	assert_memory_equal(slow.buf, fast.buf, slow.len);

	alert_server_destroy(srv);
	close(cfast);
	close(cslow);
	free(fast.buf);
	free(slow.buf);
}

/* A subscriber that pauses fills its queue, then catches up through POLLOUT flushes. */
static void
test_queue_flushed_when_writable(void **state)
{
	struct fixture *fx = *state;
	const unsigned n_lines = 600;
	const size_t pad = 1000;
	struct alert_server *srv = alert_server_create(fx->path, 4u << 20);
	struct rx rx = { 0 };
	char line[2048];

	assert_non_null(srv);
	int c = client_connect(fx->path);
	wait_accepted(srv, 1);
	for (unsigned i = 0; i < n_lines; i++) {
		make_line(line, sizeof(line), i, pad);
		alert_server_broadcast(srv, line, strlen(line), "alert");
	}
	/* 600 KB cannot all sit in the socket buffer: some of it is queued now. */
	struct pollfd fds[4];
	int n = alert_server_pollfds(srv, fds, 4);
	assert_int_equal(n, 2);
	assert_true(fds[1].events & POLLOUT);

	for (int i = 0; i < 500 && rx.len < expected_len(0, n_lines, pad); i++) {
		pump(srv, 10);
		rx_read(c, &rx, 10);
	}
	check_lines(&rx, 0, n_lines, pad);
	assert_int_equal(STAT(srv, n_dropped_subscribers), 0);
	n = alert_server_pollfds(srv, fds, 4);
	assert_false(fds[1].events & POLLOUT);
	/* With too small an array, only what fits is filled. */
	assert_int_equal(alert_server_pollfds(srv, fds, 1), 1);
	assert_int_equal(fds[0].events, POLLIN);
	assert_int_equal(alert_server_pollfds(srv, fds, 0), 0);

	alert_server_destroy(srv);
	close(c);
	free(rx.buf);
}

static void
test_subscriber_goes_away(void **state)
{
	struct fixture *fx = *state;
	struct alert_server *srv = alert_server_create(fx->path, 0);
	struct rx rx = { 0 };

	assert_non_null(srv);
	int gone = client_connect(fx->path);
	int half = client_connect(fx->path);
	wait_accepted(srv, 2);

	/* A half-closed subscriber (it sent EOF, e.g. nc -N) still receives. */
	assert_int_equal(shutdown(half, SHUT_WR), 0);
	/* What a subscriber sends is read and ignored. */
	assert_int_equal(send(gone, "hello\n", 6, 0), 6);
	pump(srv, 50);
	close(gone);
	for (int i = 0; i < 100 && STAT(srv, n_subscribers) > 1; i++)
		pump(srv, 10);
	assert_int_equal(STAT(srv, n_subscribers), 1);
	assert_int_equal(STAT(srv, n_closed_subscribers), 1);

	alert_server_broadcast(srv, "x", 1, "alert");
	pump(srv, 10);
	rx_read(half, &rx, 1000);
	assert_int_equal(rx.len, 2);
	assert_memory_equal(rx.buf, "x\n", 2);
	/* A half-closed subscriber is not polled for input any more (it would spin). */
	struct pollfd fds[4];
	assert_int_equal(alert_server_pollfds(srv, fds, 4), 2);
	assert_int_equal(fds[1].events, 0);

	/* Gone for good: the next broadcast (EPIPE) or poll (POLLHUP) drops it. */
	close(half);
	alert_server_broadcast(srv, "y", 1, "alert");
	pump(srv, 10);
	assert_int_equal(STAT(srv, n_subscribers), 0);
	assert_int_equal(STAT(srv, n_closed_subscribers), 2);
	assert_int_equal(STAT(srv, n_dropped_subscribers), 0);
	alert_server_destroy(srv);
	free(rx.buf);
}

static void
test_stale_socket_replaced(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat sb;
	int fd;

	/* A socket file whose server died without removing it. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(lstat(fx->path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));

	struct alert_server *srv = alert_server_create(fx->path, 0);
	assert_non_null(srv);
	assert_int_equal(lstat(fx->path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0660);
	int c = client_connect(fx->path);
	wait_accepted(srv, 1);

	/* A live server's socket is not taken over. */
	errno = 0;
	assert_null(alert_server_create(fx->path, 0));
	assert_int_equal(errno, EADDRINUSE);
	assert_int_equal(STAT(srv, n_subscribers), 1);

	close(c);
	alert_server_destroy(srv);
	alert_server_destroy(NULL);
}

static void
test_bad_paths(void **state)
{
	struct fixture *fx = *state;
	char longpath[200];
	struct stat sb;
	FILE *f;

	/* Not a socket: never removed. */
	f = fopen(fx->path, "w");
	assert_non_null(f);
	fputs("keep me\n", f);
	fclose(f);
	errno = 0;
	assert_null(alert_server_create(fx->path, 0));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(lstat(fx->path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	unlink(fx->path);

	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	errno = 0;
	assert_null(alert_server_create(longpath, 0));
	assert_int_equal(errno, ENAMETOOLONG);
	errno = 0;
	assert_null(alert_server_create("", 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(alert_server_create("/nonexistent-postern-dir/alerts.sock", 0));
	assert_int_equal(errno, ENOENT);
}

static void
test_subscriber_limit(void **state)
{
	struct fixture *fx = *state;
	struct alert_server *srv = alert_server_create(fx->path, 0);
	int fds[ALERT_SERVER_MAX_SUBSCRIBERS + 2];
	const int n = ALERT_SERVER_MAX_SUBSCRIBERS + 2;

	assert_non_null(srv);
	for (int i = 0; i < n; i++) {
		fds[i] = client_connect(fx->path);
		if (i % 32 == 31)
			pump(srv, 10);  /* keep the listen backlog short */
	}
	for (int i = 0; i < 100 && STAT(srv, n_accepted) + STAT(srv, n_refused) < (uint64_t)n;
	     i++)
		pump(srv, 10);
	assert_int_equal(STAT(srv, n_subscribers), ALERT_SERVER_MAX_SUBSCRIBERS);
	assert_int_equal(STAT(srv, n_refused), 2);
	/* Everyone admitted still gets the lines. */
	alert_server_broadcast(srv, "z", 1, "alert");
	int got = 0;
	for (int i = 0; i < n; i++) {
		char buf[4];
		struct pollfd p = { .fd = fds[i], .events = POLLIN };

		if (poll(&p, 1, 100) == 1 && recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT) == 2)
			got++;
		close(fds[i]);
	}
	assert_int_equal(got, ALERT_SERVER_MAX_SUBSCRIBERS);
	alert_server_destroy(srv);
}

static void
send_text(int fd, const char *text)
{
	assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* Pump until the server has taken `want` requests and `bad` refused ones, or fail. */
static void
wait_requests(struct alert_server *srv, uint64_t want, uint64_t bad)
{
	for (int i = 0; i < 200 && (STAT(srv, n_requests) < want ||
				    STAT(srv, n_bad_requests) < bad); i++)
		pump(srv, 10);
	assert_int_equal(STAT(srv, n_requests), want);
	assert_int_equal(STAT(srv, n_bad_requests), bad);
}

/* What the client has received once the server flushed everything: a NUL-terminated copy. */
static char *
received(struct alert_server *srv, int fd, struct rx *rx)
{
	for (int i = 0; i < 20; i++) {
		pump(srv, 0);
		rx_read(fd, rx, 10);
	}
	if (rx->cap < rx->len + 1) {
		rx->cap = rx->len + 1;
		rx->buf = realloc(rx->buf, rx->cap);
		assert_non_null(rx->buf);
	}
	rx->buf[rx->len] = '\0';
	return rx->buf;
}

/*
 * "types T..." requests: each subscriber gets the event types it asked for, a request may
 * come in pieces, "types" alone asks for everything again, and refused requests (too many
 * types, a line too long) change nothing and are counted.
 */
static void
test_types_filter(void **state)
{
	struct fixture *fx = *state;
	struct alert_server *srv = alert_server_create(fx->path, 0);
	struct rx a = { 0 }, b = { 0 }, c = { 0 };
	char junk[ALERT_SERVER_REQUEST_MAX + 10];

	assert_non_null(srv);
	int ca = client_connect(fx->path);
	int cb = client_connect(fx->path);
	int cc = client_connect(fx->path);
	wait_accepted(srv, 3);
	send_text(cb, "typ");
	pump(srv, 10);
	send_text(cb, "es alert, anomaly\n");
	send_text(cc, "hello, not a request\ntypes stats\n");
	memset(junk, 't', sizeof(junk) - 2);
	memcpy(junk, "types ", 6);
	junk[sizeof(junk) - 2] = '\n';
	junk[sizeof(junk) - 1] = '\0';
	send_text(ca, junk); /* too long: skipped to its newline, counted */
	wait_requests(srv, 2, 1);

	alert_server_broadcast(srv, "A1", 2, "alert");
	alert_server_broadcast(srv, "S1", 2, "stats");
	alert_server_broadcast(srv, "M1", 2, "smtp");
	alert_server_broadcast(srv, "N1", 2, "anomaly");
	alert_server_broadcast(srv, "X1", 2, NULL);
	assert_string_equal(received(srv, ca, &a), "A1\nS1\nM1\nN1\nX1\n");
	assert_string_equal(received(srv, cb, &b), "A1\nN1\n");
	assert_string_equal(received(srv, cc, &c), "S1\n");

	/* nine types: refused, the filter stays; then "types" alone: everything again */
	send_text(cb, "types a b c d e f g h i\n");
	send_text(cc, "types\r\n");
	wait_requests(srv, 3, 2);
	alert_server_broadcast(srv, "S2", 2, "stats");
	alert_server_broadcast(srv, "A2", 2, "alert");
	assert_string_equal(received(srv, cb, &b), "A1\nN1\nA2\n");
	assert_string_equal(received(srv, cc, &c), "S1\nS2\nA2\n");
	assert_int_equal(STAT(srv, n_dropped_subscribers), 0);

	close(ca);
	close(cb);
	close(cc);
	free(a.buf);
	free(b.buf);
	free(c.buf);
	alert_server_destroy(srv);
}

/*
 * A subscriber that asked for alerts only and reads nothing is not sent, so not dropped for,
 * the 8 MB of stats lines that go by; another that takes everything and reads nothing is.
 */
static void
test_filtered_subscriber_not_held_back(void **state)
{
	struct fixture *fx = *state;
	struct alert_server *srv = alert_server_create(fx->path, 0);
	char line[1024];
	struct rx a = { 0 };

	assert_non_null(srv);
	int only_alerts = client_connect(fx->path);
	int everything = client_connect(fx->path);
	wait_accepted(srv, 2);
	send_text(only_alerts, "types alert\n");
	wait_requests(srv, 1, 0);
	memset(line, 's', sizeof(line));
	for (unsigned i = 0; i < 8192; i++)
		alert_server_broadcast(srv, line, sizeof(line), "stats");
	alert_server_broadcast(srv, "A", 1, "alert");
	assert_int_equal(STAT(srv, n_dropped_subscribers), 1);
	assert_int_equal(STAT(srv, n_subscribers), 1);
	assert_string_equal(received(srv, only_alerts, &a), "A\n");
	close(only_alerts);
	close(everything);
	free(a.buf);
	alert_server_destroy(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_subscribers_same_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_subscriber_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_flushed_when_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscriber_goes_away, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscriber_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_types_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filtered_subscriber_not_held_back, setup,
					       teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
