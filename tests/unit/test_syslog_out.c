/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Syslog output: the RFC 5424 format (PRI, each header field, its limits and NILVALUE cases,
 * the timestamp), target parsing, and real sockets on this machine: UDP to a socket the test
 * binds on 127.0.0.1, a Unix datagram socket in a scratch directory (absent, restarted, full),
 * and TCP to a listener the test accepts from (there from the start, appearing later after
 * backoff, closing mid-stream, a frame cut by a broken connection). Every test checks that
 * each write ended as exactly one of sent, dropped, too long, or still queued.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "syslog_out.h"
#include "test_tmpdir.h"

#define TS_2026 (1795375201ull * 1000000 + 123456) /* 2026-11-22T19:20:01.123456Z */

/* ---- helpers ------------------------------------------------------------------------- */

static struct syslog_out *
make(const char *target, size_t queue_bytes)
{
	struct syslog_out_config cfg = { .facility = 16, .queue_bytes = queue_bytes };
	char err[256] = "";
	struct syslog_out *s;

	snprintf(cfg.target, sizeof(cfg.target), "%s", target);
	snprintf(cfg.hostname, sizeof(cfg.hostname), "testhost");
	snprintf(cfg.app_name, sizeof(cfg.app_name), "posternd");
	s = syslog_out_create(&cfg, err, sizeof(err));
	if (s == NULL)
		fail_msg("create %s: %s", target, err);
	return s;
}

/* writes == sent + dropped + too_long + queued, always */
static void
check_exact(const struct syslog_out *s, uint64_t writes)
{
	struct syslog_out_stats st;

	syslog_out_get_stats(s, &st);
	assert_int_equal(st.n_sent + st.n_dropped + st.n_too_long + st.n_queued, writes);
}

static struct syslog_out_stats
stats(const struct syslog_out *s)
{
	struct syslog_out_stats st;

	syslog_out_get_stats(s, &st);
	return st;
}

/* One round of the caller's loop: poll what the module asks for (up to ms), handle it. */
static void
pump(struct syslog_out *s, int ms)
{
	struct pollfd fd;
	int n = syslog_out_pollfds(s, &fd, 1);

	assert_true(n == 0 || n == 1);
	if (n == 0) {
		poll(NULL, 0, ms);
		return;
	}
	if (poll(&fd, 1, ms) > 0)
		syslog_out_handle(s, &fd, 1);
}

/* The message the module should send, formatted independently of it. */
static size_t
expect(char *buf, size_t cap, int pri, const char *msgid, const char *line)
{
	return (size_t)snprintf(buf, cap, "<%d>1 2026-11-22T19:20:01.123456Z testhost posternd %u %s - %s",
				pri, (unsigned)getpid(), msgid, line);
}

static int
udp_bind(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int big = 4 << 20;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static ssize_t
recv_wait(int fd, char *buf, size_t cap)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 2000) != 1)
		return -1;
	return recv(fd, buf, cap, MSG_DONTWAIT);
}

/* A TCP listener on 127.0.0.1 (port 0: any; else that port). */
static int
tcp_listen(uint16_t *port, int rcvbuf)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(*port) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Accept while pumping the module (its connect completes in its own handle). */
static int
tcp_accept(int lfd, struct syslog_out *s)
{
	for (int i = 0; i < 300; i++) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };

		if (poll(&p, 1, 5) == 1) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

			pump(s, 5); /* let the module see its connect done */
			pump(s, 5);
			return fd;
		}
		pump(s, 5);
	}
	return -1;
}

/* What the test's side of a TCP connection received, parsed as octet-counted frames. */
struct rx {
	char *buf;
	size_t len, cap;
};

static void
rx_free(struct rx *r)
{
	free(r->buf);
	*r = (struct rx){ 0 };
}

/*
 * Count the complete frames in r; -1 if the stream is not well framed (a frame not starting
 * with digits and a space).
 */
static int
rx_frames(const struct rx *r, size_t *off_of, size_t *len_of, int max)
{
	size_t off = 0;
	int n = 0;

	while (off < r->len) {
		size_t d = off, flen = 0;

		while (d < r->len && r->buf[d] >= '0' && r->buf[d] <= '9' && d - off < 10)
			flen = flen * 10 + (size_t)(r->buf[d++] - '0');
		if (d == r->len)
			break; /* the length is still coming */
		if (d == off || r->buf[d] != ' ' || r->buf[off] == '0')
			return -1;
		if (r->len - d - 1 < flen)
			break;
		if (n < max) {
			off_of[n] = d + 1;
			len_of[n] = flen;
		}
		n++;
		off = d + 1 + flen;
	}
	return n;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read until want frames arrived (pumping the module meanwhile) or 10 s passed. */
static int
rx_until(struct rx *r, int fd, struct syslog_out *s, int want)
{
	uint64_t end = mono_ms() + 10000;
	size_t o[1], l[1];

	while (mono_ms() < end) {
		int n = rx_frames(r, o, l, 0);

		if (n < 0 || n >= want)
			return n;
		for (;;) {
			ssize_t k;

			if (r->cap - r->len < 65536) {
				r->cap = r->cap ? r->cap * 2 : 1 << 16;
				r->buf = realloc(r->buf, r->cap);
				assert_non_null(r->buf);
			}
			k = recv(fd, r->buf + r->len, r->cap - r->len, MSG_DONTWAIT);
			if (k == 0)
				return rx_frames(r, o, l, 0);
			if (k < 0)
				break;
			r->len += (size_t)k;
		}
		pump(s, 1);
	}
	return rx_frames(r, o, l, 0);
}

/* The line of message i in the ordered tests. */
static size_t
numbered(char *buf, size_t cap, int i)
{
	return (size_t)snprintf(buf, cap, "{\"event_type\":\"alert\",\"n\":%03d}", i);
}

/* Frame k of r holds the message carrying line i. */
static void
assert_frame_is(const struct rx *r, int k, int i)
{
	size_t o[256], l[256];
	char line[64], want[512];
	size_t n;
	int nf = rx_frames(r, o, l, 256);

	assert_true(k < nf && k < 256);
	numbered(line, sizeof(line), i);
	n = expect(want, sizeof(want), 132, "alert", line);
	assert_int_equal(l[k], n);
	assert_memory_equal(r->buf + o[k], want, n);
}

/* ---- format -------------------------------------------------------------------------- */

static void
test_format_fields(void **state)
{
	const char *line = "{\"event_type\":\"alert\",\"msg\":\"a \\\"q\\\" [x] \\\\ ]\"}";
	char want[256], buf[512];
	size_t n, w;

	(void)state;
	n = syslog_format(buf, sizeof(buf), 16 * 8 + 4, TS_2026, "mx1.example.org", "posternd", 4242,
			  "alert", line, strlen(line));
	w = (size_t)snprintf(want, sizeof(want),
			     "<132>1 2026-11-22T19:20:01.123456Z mx1.example.org posternd 4242 alert - %s",
			     line);
	assert_int_equal(n, w);
	assert_memory_equal(buf, want, n);

	/* PRI bounds: 0 and 191 are the extremes (kern.emerg, local7.debug) */
	n = syslog_format(buf, sizeof(buf), 0, TS_2026, "h", "a", 1, "m", "x", 1);
	assert_int_equal(n, strlen("<0>1 2026-11-22T19:20:01.123456Z h a 1 m - x"));
	assert_memory_equal(buf, "<0>1 2026-11-22T19:20:01.123456Z h a 1 m - x", n);
	n = syslog_format(buf, sizeof(buf), 191, TS_2026, "h", "a", 1, "m", "x", 1);
	assert_memory_equal(buf, "<191>1 ", 7);
	assert_int_equal(syslog_format(buf, sizeof(buf), -1, TS_2026, "h", "a", 1, "m", "x", 1), 0);
	assert_int_equal(syslog_format(buf, sizeof(buf), 192, TS_2026, "h", "a", 1, "m", "x", 1), 0);

	/* MSG is bytes as is: newline, NUL, non-UTF-8, no BOM added */
	n = syslog_format(buf, sizeof(buf), 6, TS_2026, "h", "a", 7, "smtp", "a\nb\0c\xff", 6);
	w = strlen("<6>1 2026-11-22T19:20:01.123456Z h a 7 smtp - ");
	assert_int_equal(n, w + 6);
	assert_memory_equal(buf + w, "a\nb\0c\xff", 6);

	/* empty MSG: no SP after the structured data */
	n = syslog_format(buf, sizeof(buf), 6, TS_2026, "h", "a", 7, "smtp", "", 0);
	assert_int_equal(n, strlen("<6>1 2026-11-22T19:20:01.123456Z h a 7 smtp -"));
	assert_memory_equal(buf, "<6>1 2026-11-22T19:20:01.123456Z h a 7 smtp -", n);
}

static void
test_format_nilvalue(void **state)
{
	char buf[512];
	size_t n;
	const char *bad_ids[] = { NULL, "", "al ert", "al\tert", "caf\xc3\xa9", "\x7f",
				  "123456789012345678901234567890123" /* 33 */ };

	(void)state;
	n = syslog_format(buf, sizeof(buf), 6, TS_2026, NULL, "", 1, NULL, "m", 1);
	buf[n] = '\0';
	assert_string_equal(buf, "<6>1 2026-11-22T19:20:01.123456Z - - 1 - - m");
	n = syslog_format(buf, sizeof(buf), 6, TS_2026, "", NULL, 1, "", "m", 1);
	buf[n] = '\0';
	assert_string_equal(buf, "<6>1 2026-11-22T19:20:01.123456Z - - 1 - - m");
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		n = syslog_format(buf, sizeof(buf), 6, TS_2026, "h", "a", 1, bad_ids[i], "m", 1);
		buf[n] = '\0';
		assert_string_equal(buf, "<6>1 2026-11-22T19:20:01.123456Z h a 1 - - m");
	}
	/* 32 is the longest MSGID kept; every PRINTUSASCII byte passes */
	n = syslog_format(buf, sizeof(buf), 6, TS_2026, "h", "a", 1,
			  "!~345678901234567890123456789012", "m", 1);
	buf[n] = '\0';
	assert_string_equal(buf,
			    "<6>1 2026-11-22T19:20:01.123456Z h a 1 !~345678901234567890123456789012 - m");
}

static void
test_format_limits(void **state)
{
	char host[400], app[100], want[1024], buf[1024];
	size_t n, w;

	(void)state;
	/* HOSTNAME keeps 255 bytes, APP-NAME 48 */
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	memset(app, 'a', sizeof(app) - 1);
	app[sizeof(app) - 1] = '\0';
	n = syslog_format(buf, sizeof(buf), 6, TS_2026, host, app, 9, "x", "m", 1);
	w = (size_t)snprintf(want, sizeof(want), "<6>1 2026-11-22T19:20:01.123456Z %.255s %.48s 9 x - m",
			     host, app);
	assert_int_equal(n, w);
	assert_memory_equal(buf, want, n);
	host[255] = '\0';
	app[48] = '\0';
	assert_int_equal(syslog_format(buf, sizeof(buf), 6, TS_2026, host, app, 9, "x", "m", 1), w);

	/* bytes outside PRINTUSASCII become '_' */
	n = syslog_format(buf, sizeof(buf), 6, TS_2026, "a b\tc\xc3\xa9", "p d\x7f", 9, "x", "m", 1);
	buf[n] = '\0';
	assert_string_equal(buf, "<6>1 2026-11-22T19:20:01.123456Z a_b_c__ p_d_ 9 x - m");

	/* cap: exact fits, one less does not */
	n = syslog_format(buf, sizeof(buf), 6, TS_2026, "h", "a", 1, "m", "xyz", 3);
	assert_int_equal(syslog_format(buf, n, 6, TS_2026, "h", "a", 1, "m", "xyz", 3), n);
	assert_int_equal(syslog_format(buf, n - 1, 6, TS_2026, "h", "a", 1, "m", "xyz", 3), 0);
	assert_int_equal(syslog_format(buf, 5, 6, TS_2026, "h", "a", 1, "m", "xyz", 3), 0);
}

static void
test_format_timestamp(void **state)
{
	char buf[256];
	size_t n;
	struct {
		uint64_t ts;
		const char *want;
	} cases[] = {
		{ 0, "<6>1 1970-01-01T00:00:00.000000Z h a 1 m - x" },
		{ 999999, "<6>1 1970-01-01T00:00:00.999999Z h a 1 m - x" },
		{ 951782400ull * 1000000 + 1, "<6>1 2000-02-29T00:00:00.000001Z h a 1 m - x" },
		{ 253402300799ull * 1000000 + 999999, "<6>1 9999-12-31T23:59:59.999999Z h a 1 m - x" },
		{ 253402300800ull * 1000000, "<6>1 - h a 1 m - x" },
		{ UINT64_MAX, "<6>1 - h a 1 m - x" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = syslog_format(buf, sizeof(buf), 6, cases[i].ts, "h", "a", 1, "m", "x", 1);
		buf[n] = '\0';
		assert_string_equal(buf, cases[i].want);
	}
}

static void
test_facility_names(void **state)
{
	(void)state;
	assert_int_equal(syslog_facility_from_name("kern"), 0);
	assert_int_equal(syslog_facility_from_name("mail"), 2);
	assert_int_equal(syslog_facility_from_name("authpriv"), 10);
	assert_int_equal(syslog_facility_from_name("security"), 13);
	assert_int_equal(syslog_facility_from_name("audit"), 13);
	assert_int_equal(syslog_facility_from_name("solaris-cron"), 15);
	assert_int_equal(syslog_facility_from_name("local0"), 16);
	assert_int_equal(syslog_facility_from_name("LOCAL3"), 19);
	assert_int_equal(syslog_facility_from_name("local7"), 23);
	assert_int_equal(syslog_facility_from_name("local8"), -1);
	assert_int_equal(syslog_facility_from_name(""), -1);
	assert_int_equal(syslog_facility_from_name(NULL), -1);
}

static void
test_bad_targets(void **state)
{
	const char *bad[] = {
		"", "udp", "udp:", "udp:127.0.0.1", "udp:127.0.0.1:", "udp:127.0.0.1:0",
		"udp:127.0.0.1:65536", "udp:127.0.0.1:51x", "udp::514", "udp:[::1:514",
		"udp:[]:514", "tcp:127.0.0.1:-1", "sctp:127.0.0.1:514", "unix:",
		"udp:no-such-host.invalid:514", "file:/tmp/x",
		"udp:::1:514", /* an IPv6 literal without brackets: is 514 part of it? */
	};
	struct syslog_out_config cfg = { .facility = 16 };
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cfg.target, sizeof(cfg.target), "%s", bad[i]);
		err[0] = '\0';
		assert_null(syslog_out_create(&cfg, err, sizeof(err)));
		assert_true(strlen(err) > 0);
	}
	/* a Unix path too long for sun_path */
	memset(cfg.target, 'x', sizeof(cfg.target) - 1);
	memcpy(cfg.target, "unix:/", 6);
	cfg.target[sizeof(cfg.target) - 1] = '\0';
	assert_null(syslog_out_create(&cfg, err, sizeof(err)));
	/* facility out of range */
	snprintf(cfg.target, sizeof(cfg.target), "udp:127.0.0.1:514");
	cfg.facility = 24;
	assert_null(syslog_out_create(&cfg, err, sizeof(err)));
	cfg.facility = -1;
	assert_null(syslog_out_create(&cfg, err, sizeof(err)));
	/* good ones: IPv6 in brackets, a name, a path */
	cfg.facility = 0;
	const char *good[] = { "udp:[::1]:514", "tcp:[::1]:601", "udp:localhost:514",
			       "unix:/nonexistent/log" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct syslog_out *s;

		snprintf(cfg.target, sizeof(cfg.target), "%s", good[i]);
		s = syslog_out_create(&cfg, err, sizeof(err));
		if (s == NULL)
			fail_msg("%s: %s", good[i], err);
		syslog_out_destroy(s);
	}
	syslog_out_destroy(NULL);
}

/* ---- UDP ----------------------------------------------------------------------------- */

static void
test_udp(void **state)
{
	uint16_t port;
	int fd = udp_bind(&port);
	char target[64], want[512], got[70000];
	const char *alert = "{\"event_type\":\"alert\",\"a\":1}";
	const char *st = "{\"event_type\":\"stats\"}";
	struct syslog_out *s;
	size_t n, hdr;
	char *big;
	ssize_t k;

	(void)state;
	snprintf(target, sizeof(target), "udp:127.0.0.1:%u", port);
	s = make(target, 0);
	assert_int_equal(syslog_out_pollfds(s, (struct pollfd[1]){ 0 }, 1), 0);

	syslog_out_write(s, alert, strlen(alert), "alert", TS_2026);
	n = expect(want, sizeof(want), 132, "alert", alert);
	k = recv_wait(fd, got, sizeof(got));
	assert_int_equal(k, (ssize_t)n);
	assert_memory_equal(got, want, n);

	syslog_out_write(s, st, strlen(st), "stats", TS_2026);
	n = expect(want, sizeof(want), 134, "stats", st);
	k = recv_wait(fd, got, sizeof(got));
	assert_int_equal(k, (ssize_t)n);
	assert_memory_equal(got, want, n);

	syslog_out_write(s, st, strlen(st), "anomaly", TS_2026);
	k = recv_wait(fd, got, sizeof(got));
	assert_true(k > 5);
	assert_memory_equal(got, "<132>1 ", 7);
	/* the report of an outage, records perhaps lost: a warning too */
	syslog_out_write(s, st, strlen(st), "spool", TS_2026);
	k = recv_wait(fd, got, sizeof(got));
	assert_true(k > 5);
	assert_memory_equal(got, "<132>1 ", 7);
	syslog_out_write(s, st, strlen(st), NULL, TS_2026);
	k = recv_wait(fd, got, sizeof(got));
	assert_true(k > 5);
	assert_memory_equal(got, "<134>1 ", 7);

	/* the largest datagram (65507 bytes) goes whole; one byte more is too long */
	hdr = expect(want, sizeof(want), 132, "alert", "");
	big = malloc(SYSLOG_OUT_UDP_MAX + 2);
	assert_non_null(big);
	memset(big, 'j', SYSLOG_OUT_UDP_MAX + 1);
	syslog_out_write(s, big, SYSLOG_OUT_UDP_MAX - hdr, "alert", TS_2026);
	k = recv_wait(fd, got, sizeof(got));
	assert_int_equal(k, SYSLOG_OUT_UDP_MAX);
	assert_memory_equal(got, want, hdr);
	syslog_out_write(s, big, SYSLOG_OUT_UDP_MAX - hdr + 1, "alert", TS_2026);
	syslog_out_write(s, big, SYSLOG_OUT_UDP_MAX + 1, "alert", TS_2026);
	assert_int_equal(stats(s).n_sent, 6);
	assert_int_equal(stats(s).n_too_long, 2);
	assert_int_equal(recv(fd, got, sizeof(got), MSG_DONTWAIT), -1); /* nothing cut was sent */
	check_exact(s, 8);
	free(big);

	/* no listener: the ICMP refusal shows on a later send, which is counted as an error;
	 * that datagram is sent all the same (UDP: the refusal was an earlier one's) */
	close(fd);
	uint64_t sent = stats(s).n_sent;
	for (int i = 0; i < 4; i++) {
		syslog_out_write(s, alert, strlen(alert), "alert", TS_2026);
		poll(NULL, 0, 5);
	}
	assert_true(stats(s).n_errors >= 1);
	assert_int_equal(stats(s).n_dropped, 0);
	assert_int_equal(stats(s).n_sent, sent + 4);
	assert_int_equal(stats(s).n_queued, 0);
	check_exact(s, 12);
	syslog_out_destroy(s);
}

/* ---- Unix datagram ------------------------------------------------------------------- */

static int
unix_bind(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true(strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void
test_unix(void **state)
{
	char dir[64], path[128], target[160], want[512], got[4096], line[64];
	struct syslog_out *s;
	size_t n;
	ssize_t k;
	int fd, writes = 0;

	(void)state;
	assert_int_equal(test_tmpdir_make(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/log", dir);
	snprintf(target, sizeof(target), "unix:%s", path);

	/* nothing there yet: counted error and drop, not a failure to create */
	s = make(target, 0);
	syslog_out_write(s, "{}", 2, "smtp", TS_2026), writes++;
	assert_int_equal(stats(s).n_dropped, 1);
	assert_int_equal(stats(s).n_errors, 1);

	/* the receiver appears: the next message goes */
	fd = unix_bind(path);
	syslog_out_write(s, "{\"x\":1}", 7, "smtp", TS_2026), writes++;
	n = expect(want, sizeof(want), 134, "smtp", "{\"x\":1}");
	k = recv_wait(fd, got, sizeof(got));
	assert_int_equal(k, (ssize_t)n);
	assert_memory_equal(got, want, n);

	/* the receiver restarts (a new socket at the same path): no message lost */
	close(fd);
	unlink(path);
	fd = unix_bind(path);
	syslog_out_write(s, "{\"x\":2}", 7, "alert", TS_2026), writes++;
	n = expect(want, sizeof(want), 132, "alert", "{\"x\":2}");
	k = recv_wait(fd, got, sizeof(got));
	assert_int_equal(k, (ssize_t)n);
	assert_memory_equal(got, want, n);
	assert_int_equal(stats(s).n_sent, 2);
	check_exact(s, (uint64_t)writes);
	syslog_out_destroy(s);

	/*
	 * A receiver that does not read: the socket fills (EAGAIN), then 5 messages wait (the
	 * bound is exactly 5 of them), then every further one is dropped: exact counts. Once the
	 * receiver reads, the 5 arrive after the ones sent before, in order.
	 */
	numbered(line, sizeof(line), 0);
	n = expect(want, sizeof(want), 132, "alert", line);
	s = make(target, 5 * n);
	writes = 0;
	for (int i = 0; i < 100; i++) {
		numbered(line, sizeof(line), i);
		syslog_out_write(s, line, strlen(line), "alert", TS_2026), writes++;
	}
	struct syslog_out_stats st = stats(s);
	assert_true(st.n_sent > 0 && st.n_sent < 95);
	assert_int_equal(st.n_queued, 5);
	assert_int_equal(st.n_dropped, 100 - 5 - st.n_sent);
	check_exact(s, 100);
	struct pollfd pfd;
	assert_int_equal(syslog_out_pollfds(s, &pfd, 1), 1);
	assert_true(pfd.events & POLLOUT);

	int next = 0;
	for (int round = 0; round < 200 && next < (int)st.n_sent + 5; round++) {
		while ((k = recv(fd, got, sizeof(got), MSG_DONTWAIT)) > 0) {
			numbered(line, sizeof(line), next++);
			n = expect(want, sizeof(want), 132, "alert", line);
			assert_int_equal(k, (ssize_t)n);
			assert_memory_equal(got, want, n);
		}
		pump(s, 5);
	}
	assert_int_equal(next, (int)st.n_sent + 5);
	assert_int_equal(stats(s).n_queued, 0);
	assert_int_equal(stats(s).n_sent, st.n_sent + 5);
	assert_int_equal(syslog_out_pollfds(s, &pfd, 1), 0);
	check_exact(s, 100);

	/* EMSGSIZE: larger than the socket can ever take */
	char *big = calloc(1, SYSLOG_OUT_UNIX_MAX + 1);
	assert_non_null(big);
	syslog_out_write(s, big, SYSLOG_OUT_UNIX_MAX + 1, "alert", TS_2026);
	assert_int_equal(stats(s).n_too_long, 1);
	check_exact(s, 101);
	free(big);

	syslog_out_destroy(s);
	close(fd);
	test_tmpdir_remove(dir);
}

/* ---- TCP ----------------------------------------------------------------------------- */

static void
test_tcp(void **state)
{
	uint16_t port = 0;
	int lfd = tcp_listen(&port, 0), fd;
	char target[64], line[64];
	struct syslog_out *s;
	struct rx r = { 0 };

	(void)state;
	snprintf(target, sizeof(target), "tcp:127.0.0.1:%u", port);
	s = make(target, 0);
	fd = tcp_accept(lfd, s);
	assert_true(fd >= 0);
	assert_int_equal(stats(s).n_connects, 1);
	for (int i = 0; i < 3; i++) {
		numbered(line, sizeof(line), i);
		syslog_out_write(s, line, strlen(line), "alert", TS_2026);
	}
	assert_int_equal(rx_until(&r, fd, s, 3), 3);
	for (int i = 0; i < 3; i++)
		assert_frame_is(&r, i, i);
	assert_int_equal(stats(s).n_sent, 3);
	check_exact(s, 3);

	/* POLLIN is asked for on the connection, to see a close */
	struct pollfd pfd;
	assert_int_equal(syslog_out_pollfds(s, &pfd, 1), 1);
	assert_true(pfd.events & POLLIN);

	rx_free(&r);
	close(fd);
	close(lfd);
	syslog_out_destroy(s);
}

/*
 * The connect create() starts has no time of its own: the caller's clock (monotonic, any
 * origin) starts with the first tick, which must not take it for a connect pending since 0
 * and abandon it.
 */
static void
test_tcp_first_tick_keeps_the_connect(void **state)
{
	char target[64];
	uint16_t port = 0;
	int lfd = tcp_listen(&port, 0);
	struct syslog_out *s;

	(void)state;
	snprintf(target, sizeof(target), "tcp:127.0.0.1:%u", port);
	s = make(target, 0);
	syslog_out_tick(s, UINT64_C(50000000)); /* a machine up for 14 hours */
	assert_int_equal(stats(s).n_errors, 0);
	int afd = tcp_accept(lfd, s);
	assert_true(afd >= 0);
	assert_int_equal(stats(s).n_connects, 1);
	syslog_out_tick(s, UINT64_C(50000000) + SYSLOG_OUT_CONNECT_TIMEOUT_MS);
	assert_int_equal(stats(s).n_errors, 0);
	close(afd);
	close(lfd);
	syslog_out_destroy(s);
}

static void
test_tcp_late_listener(void **state)
{
	uint16_t port = 0;
	int lfd = tcp_listen(&port, 0), fd;
	char target[64], line[64], want[256];
	struct syslog_out *s;
	struct rx r = { 0 };
	size_t frame;
	int writes = 0;

	(void)state;
	close(lfd); /* the port is known and nothing listens on it */
	snprintf(target, sizeof(target), "tcp:127.0.0.1:%u", port);

	/* the queue holds exactly 3 frames */
	numbered(line, sizeof(line), 0);
	frame = expect(want, sizeof(want), 132, "alert", line);
	frame += (size_t)snprintf(want, sizeof(want), "%zu ", frame);
	s = make(target, 3 * frame);
	pump(s, 20); /* the refusal of the first connect */
	assert_int_equal(stats(s).n_connects, 0);
	assert_true(stats(s).n_errors >= 1);

	for (int i = 0; i < 10; i++) {
		numbered(line, sizeof(line), i);
		syslog_out_write(s, line, strlen(line), "alert", TS_2026), writes++;
	}
	assert_int_equal(stats(s).n_queued, 3);
	assert_int_equal(stats(s).n_dropped, 7);
	check_exact(s, 10);

	/* backoff: 1 s after create (t=0), then 2 s, then 4 s */
	uint64_t e = stats(s).n_errors;
	syslog_out_tick(s, 999);
	pump(s, 20);
	assert_int_equal(stats(s).n_errors, e);
	syslog_out_tick(s, 1000);
	pump(s, 20);
	pump(s, 20);
	assert_int_equal(stats(s).n_errors, e + 1); /* tried and refused */
	syslog_out_tick(s, 2999);
	pump(s, 20);
	assert_int_equal(stats(s).n_errors, e + 1);
	syslog_out_tick(s, 3000);
	pump(s, 20);
	pump(s, 20);
	assert_int_equal(stats(s).n_errors, e + 2);

	/* the listener appears; the next attempt is at 7000 */
	lfd = tcp_listen(&port, 0);
	syslog_out_tick(s, 6999);
	pump(s, 20);
	assert_int_equal(stats(s).n_connects, 0);
	syslog_out_tick(s, 7000);
	fd = tcp_accept(lfd, s);
	assert_true(fd >= 0);
	assert_int_equal(stats(s).n_connects, 1);

	/* the 3 queued first, in order, then one written now */
	numbered(line, sizeof(line), 10);
	syslog_out_write(s, line, strlen(line), "alert", TS_2026), writes++;
	assert_int_equal(rx_until(&r, fd, s, 4), 4);
	for (int i = 0; i < 3; i++)
		assert_frame_is(&r, i, i);
	assert_frame_is(&r, 3, 10);
	assert_int_equal(stats(s).n_sent, 4);
	assert_int_equal(stats(s).n_queued, 0);
	check_exact(s, (uint64_t)writes);

	/* too long: a frame the queue could never hold */
	char big[512];
	memset(big, 'x', sizeof(big));
	syslog_out_write(s, big, sizeof(big), "alert", TS_2026), writes++;
	assert_int_equal(stats(s).n_too_long, 1);
	check_exact(s, (uint64_t)writes);

	rx_free(&r);
	close(fd);
	close(lfd);
	syslog_out_destroy(s);
}

static void
test_tcp_peer_closes(void **state)
{
	uint16_t port = 0;
	int lfd = tcp_listen(&port, 0), fd;
	char target[64], line[64];
	struct syslog_out *s;
	struct rx r = { 0 };
	int writes = 0;

	(void)state;
	snprintf(target, sizeof(target), "tcp:127.0.0.1:%u", port);
	s = make(target, 0);
	syslog_out_tick(s, 100);
	fd = tcp_accept(lfd, s);
	assert_true(fd >= 0);
	for (int i = 0; i < 2; i++) {
		numbered(line, sizeof(line), i);
		syslog_out_write(s, line, strlen(line), "alert", TS_2026), writes++;
	}
	assert_int_equal(rx_until(&r, fd, s, 2), 2);
	rx_free(&r);

	/* the peer closes; the module sees it in its POLLIN and queues from then on */
	close(fd);
	for (int i = 0; i < 10; i++)
		pump(s, 5);
	assert_int_equal(stats(s).n_sent, 2);
	struct pollfd pfd;
	assert_int_equal(syslog_out_pollfds(s, &pfd, 1), 0); /* down: nothing to poll */
	for (int i = 2; i < 6; i++) {
		numbered(line, sizeof(line), i);
		syslog_out_write(s, line, strlen(line), "alert", TS_2026), writes++;
	}
	assert_int_equal(stats(s).n_queued, 4);
	syslog_out_tick(s, 100 + 1000);
	fd = tcp_accept(lfd, s);
	assert_true(fd >= 0);
	assert_int_equal(stats(s).n_connects, 2);
	assert_int_equal(rx_until(&r, fd, s, 4), 4);
	for (int i = 0; i < 4; i++)
		assert_frame_is(&r, i, i + 2);
	assert_int_equal(stats(s).n_sent, 6);
	check_exact(s, (uint64_t)writes);
	rx_free(&r);
	close(fd);
	close(lfd);
	syslog_out_destroy(s);
}

/*
 * A frame larger than both socket buffers is half-written when the peer resets the
 * connection: on the next connection it is sent again whole, first, and the stream is
 * well framed from its first byte.
 */
static void
test_tcp_cut_frame_resent_whole(void **state)
{
	const size_t big_len = 8u << 20;
	uint16_t port = 0;
	int lfd = tcp_listen(&port, 4096), fd;
	char target[64];
	struct syslog_out *s;
	struct rx r = { 0 };
	char *big = malloc(big_len);
	size_t o[4], l[4];

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	snprintf(target, sizeof(target), "tcp:127.0.0.1:%u", port);
	s = make(target, 32u << 20);
	fd = tcp_accept(lfd, s);
	assert_true(fd >= 0);
	syslog_out_write(s, big, big_len, "alert", TS_2026);
	syslog_out_write(s, "{\"after\":1}", 11, "alert", TS_2026);
	assert_int_equal(stats(s).n_queued, 2);   /* the big one part-written, the next behind */
	assert_int_equal(stats(s).n_sent, 0);

	/* the peer reads a little, then resets (unread data: RST) */
	char tmp[1000];
	assert_true(recv(fd, tmp, sizeof(tmp), 0) > 0);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	for (int i = 0; i < 20 && stats(s).n_connects == 1; i++) {
		pump(s, 5);
		struct syslog_out_stats st = stats(s);
		if (st.n_errors > 0)
			break;
	}
	assert_true(stats(s).n_errors >= 1);
	assert_int_equal(stats(s).n_queued, 2);
	syslog_out_tick(s, 1000);
	fd = tcp_accept(lfd, s);
	assert_true(fd >= 0);
	assert_int_equal(rx_until(&r, fd, s, 2), 2);
	assert_int_equal(rx_frames(&r, o, l, 4), 2);
	assert_int_equal(o[0], (size_t)snprintf(tmp, sizeof(tmp), "%zu ", l[0]));
	assert_true(l[0] > big_len);
	assert_memory_equal(r.buf + o[0] + l[0] - big_len, big, big_len);
	assert_memory_equal(r.buf + o[1] + l[1] - 11, "{\"after\":1}", 11);
	assert_int_equal(stats(s).n_sent, 2);
	check_exact(s, 2);
	rx_free(&r);
	free(big);
	close(fd);
	close(lfd);
	syslog_out_destroy(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_fields),
		cmocka_unit_test(test_format_nilvalue),
		cmocka_unit_test(test_format_limits),
		cmocka_unit_test(test_format_timestamp),
		cmocka_unit_test(test_facility_names),
		cmocka_unit_test(test_bad_targets),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_unix),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_tcp_first_tick_keeps_the_connect),
		cmocka_unit_test(test_tcp_late_listener),
		cmocka_unit_test(test_tcp_peer_closes),
		cmocka_unit_test(test_tcp_cut_frame_resent_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
