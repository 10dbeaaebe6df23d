/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of control/redis_out.c against a real redis-server that each test starts itself
 * (fork/exec, no persistence, on a unix socket in a scratch directory, killed by PID): list
 * and publish modes, "%t" keys, the order of 10,000 lines, Redis killed mid-stream and
 * restarted on the same path (every line arrives, in order, duplicates only from the
 * unanswered ones), the queue bound with an exact drop count while Redis is down, WRONGTYPE
 * error replies, the reconnect backoff, TCP on 127.0.0.1, and targets that are refused.
 * The test drives the module as posternd's poll loop does, with a clock it advances itself.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "log.h"
#include "redis_out.h"
#include "test_tmpdir.h"

struct fixture {
	char dir[64];
	char sock[128];
	int port; /* 0: unix socket only */
	pid_t pid;
	uint64_t now_ms;
};

/* Start redis-server on f->sock (and f->port on 127.0.0.1 when set); wait until it answers. */
static int
srv_start(struct fixture *f)
{
	char port[16], logfile[160];
	pid_t pid;

	snprintf(port, sizeof(port), "%d", f->port);
	snprintf(logfile, sizeof(logfile), "%s/redis.log", f->dir);
	unlink(f->sock); /* a socket file left by a killed server */
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		       "--unixsocket", f->sock, "--save", "", "--appendonly", "no", "--daemonize",
		       "no", "--dir", f->dir, (char *)NULL);
		_exit(127);
	}
	f->pid = pid;
	for (int i = 0; i < 500; i++) {
		redisContext *c = redisConnectUnix(f->sock);
		redisReply *rep = NULL;
		bool up = false;

		if (c != NULL && !c->err) {
			rep = redisCommand(c, "PING");
			up = rep != NULL && rep->type == REDIS_REPLY_STATUS;
		}
		if (rep != NULL)
			freeReplyObject(rep);
		if (c != NULL)
			redisFree(c);
		if (up)
			return 0;
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			f->pid = 0;
			return -1;
		}
		usleep(10000);
	}
	return -1;
}

static void
srv_kill(struct fixture *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
}

static int
free_tcp_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int
fixture_make(void **state, bool start, bool tcp)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || test_tmpdir_make(f->dir, sizeof(f->dir)) < 0)
		return -1;
	snprintf(f->sock, sizeof(f->sock), "%s/redis.sock", f->dir);
	if (tcp && (f->port = free_tcp_port()) <= 0)
		return -1;
	f->now_ms = 1000000;
	*state = f;
	return start ? srv_start(f) : 0;
}

static int
setup_server(void **state)
{
	return fixture_make(state, true, false);
}

static int
setup_tcp(void **state)
{
	return fixture_make(state, true, true);
}

static int
setup_no_server(void **state)
{
	return fixture_make(state, false, false);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	srv_kill(f);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static struct redis_out *
make_out(struct fixture *f, const char *target, enum redis_out_mode mode, const char *key,
	 size_t queue_bytes)
{
	struct redis_out_config cfg = { .mode = mode, .queue_bytes = queue_bytes };
	char err[256];
	struct redis_out *r;

	snprintf(cfg.target, sizeof(cfg.target), "%s", target ? target : "");
	if (target == NULL)
		snprintf(cfg.target, sizeof(cfg.target), "unix:%s", f->sock);
	snprintf(cfg.key, sizeof(cfg.key), "%s", key);
	r = redis_out_create(&cfg, err, sizeof(err));
	if (r == NULL)
		fail_msg("redis_out_create: %s", err);
	return r;
}

/* One round of posternd's loop: tick, poll (10 ms at most), handle. */
static void
pump_once(struct fixture *f, struct redis_out *r, int events_mask)
{
	struct pollfd fds[1];
	int n;

	f->now_ms += 100;
	redis_out_tick(r, f->now_ms);
	n = redis_out_pollfds(r, fds, 1);
	if (n == 0) {
		usleep(2000);
		return;
	}
	fds[0].events &= (short)events_mask;
	if (poll(fds, (nfds_t)n, 10) > 0)
		redis_out_handle(r, fds, n);
}

/* Run the loop until n_sent + n_dropped reaches want (or 20 s pass). */
static void
pump_until(struct fixture *f, struct redis_out *r, uint64_t want)
{
	struct redis_out_stats st;
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		redis_out_get_stats(r, &st);
		if (st.n_sent + st.n_dropped >= want)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 20)
			fail_msg("timed out: %llu sent, %llu dropped, want %llu",
				 (unsigned long long)st.n_sent, (unsigned long long)st.n_dropped,
				 (unsigned long long)want);
		pump_once(f, r, POLLIN | POLLOUT);
	}
}

static redisContext *
client(struct fixture *f)
{
	redisContext *c = redisConnectUnix(f->sock);
	struct timeval tv = { .tv_sec = 5 };

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	redisSetTimeout(c, tv);
	return c;
}

/* Take a list's whole content and delete it, atomically; returns the reply of LRANGE. */
static redisReply *
take_list(redisContext *c, const char *key)
{
	redisReply *rep, *lr;

	freeReplyObject(redisCommand(c, "MULTI"));
	freeReplyObject(redisCommand(c, "LRANGE %s 0 -1", key));
	freeReplyObject(redisCommand(c, "DEL %s", key));
	rep = redisCommand(c, "EXEC");
	assert_non_null(rep);
	assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep->elements, 2);
	lr = rep->element[0];
	rep->element[0] = NULL;
	freeReplyObject(rep);
	assert_int_equal(lr->type, REDIS_REPLY_ARRAY);
	return lr;
}

static void
make_line(char *buf, size_t size, int i, const char *type)
{
	snprintf(buf, size, "{\"event_type\":\"%s\",\"n\":%d}", type, i);
}

static void
write_line(struct redis_out *r, int i, const char *type)
{
	char line[128];

	make_line(line, sizeof(line), i, type);
	redis_out_write(r, line, strlen(line), type);
}

static void
check_list(redisReply *lr, int from, int to, const char *type)
{
	char want[128];

	assert_int_equal(lr->elements, (size_t)(to - from));
	for (int i = from; i < to; i++) {
		make_line(want, sizeof(want), i, type);
		assert_string_equal(lr->element[i - from]->str, want);
	}
}

static void
test_list_order(void **state)
{
	struct fixture *f = *state;
	struct redis_out *r = make_out(f, NULL, REDIS_OUT_LIST, "t:list", 8u << 20);
	struct redis_out_stats st;
	redisContext *c = client(f);
	redisReply *lr;

	for (int i = 0; i < 10000; i++)
		write_line(r, i, "alert");
	pump_until(f, r, 10000);
	lr = take_list(c, "t:list");
	check_list(lr, 0, 10000, "alert");
	freeReplyObject(lr);
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_sent, 10000);
	assert_int_equal(st.n_dropped, 0);
	assert_int_equal(st.n_errors, 0);
	assert_int_equal(st.n_connects, 1);
	redisFree(c);
	redis_out_destroy(r);
}

static void
test_key_event_type(void **state)
{
	/* NULL and "" are both "unknown"; "%t" is replaced each time it occurs */
	static const char *const types[] = { "alert", "stats", NULL, "" };
	static const char *const keys[] = { "k:alert:alert", "k:stats:stats", "k:unknown:unknown" };
	static const int n_want[] = { 100, 100, 200 };
	struct fixture *f = *state;
	struct redis_out *r = make_out(f, NULL, REDIS_OUT_LIST, "k:%t:%t", 1u << 20);
	redisContext *c = client(f);
	char line[128];

	for (int i = 0; i < 400; i++) {
		make_line(line, sizeof(line), i, "any");
		redis_out_write(r, line, strlen(line), types[i % 4]);
	}
	pump_until(f, r, 400);
	for (int k = 0; k < 3; k++) {
		redisReply *lr = take_list(c, keys[k]);
		size_t j = 0;

		assert_int_equal(lr->elements, n_want[k]);
		for (int i = 0; i < 400; i++) {
			if ((i % 4 < 2 ? i % 4 : 2) != k)
				continue;
			make_line(line, sizeof(line), i, "any");
			assert_true(j < lr->elements);
			assert_string_equal(lr->element[j]->str, line);
			j++;
		}
		freeReplyObject(lr);
	}
	redisFree(c);
	redis_out_destroy(r);
}

static void
test_publish(void **state)
{
	static const char *const types[] = { "alert", "stats", "anomaly" };
	struct fixture *f = *state;
	struct redis_out *r = make_out(f, NULL, REDIS_OUT_PUBLISH, "p:%t", 1u << 20);
	redisContext *sub = client(f), *sub2 = client(f);
	struct redis_out_stats st;
	redisReply *rep;
	char want[128];

	rep = redisCommand(sub, "PSUBSCRIBE p:*");
	assert_non_null(rep);
	freeReplyObject(rep);
	rep = redisCommand(sub2, "SUBSCRIBE p:stats");
	assert_non_null(rep);
	freeReplyObject(rep);
	for (int i = 0; i < 3000; i++)
		write_line(r, i, types[i % 3]);
	pump_until(f, r, 3000);
	for (int i = 0; i < 3000; i++) {
		char chan[32];

		assert_int_equal(redisGetReply(sub, (void **)&rep), REDIS_OK);
		assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
		assert_int_equal(rep->elements, 4);
		assert_string_equal(rep->element[0]->str, "pmessage");
		snprintf(chan, sizeof(chan), "p:%s", types[i % 3]);
		assert_string_equal(rep->element[2]->str, chan);
		make_line(want, sizeof(want), i, types[i % 3]);
		assert_string_equal(rep->element[3]->str, want);
		freeReplyObject(rep);
	}
	for (int i = 1; i < 3000; i += 3) {
		assert_int_equal(redisGetReply(sub2, (void **)&rep), REDIS_OK);
		assert_int_equal(rep->elements, 3);
		assert_string_equal(rep->element[1]->str, "p:stats");
		make_line(want, sizeof(want), i, "stats");
		assert_string_equal(rep->element[2]->str, want);
		freeReplyObject(rep);
	}
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_sent, 3000);
	assert_int_equal(st.n_dropped, 0);
	assert_int_equal(st.n_errors, 0);
	redisFree(sub);
	redisFree(sub2);
	redis_out_destroy(r);
}

static void
test_tcp(void **state)
{
	struct fixture *f = *state;
	char target[64];
	struct redis_out *r;
	struct redis_out_stats st;
	redisContext *c = client(f);
	redisReply *lr;

	snprintf(target, sizeof(target), "tcp:127.0.0.1:%d", f->port);
	r = make_out(f, target, REDIS_OUT_LIST, "tcp:%t", 1u << 20);
	for (int i = 0; i < 2000; i++)
		write_line(r, i, "alert");
	pump_until(f, r, 2000);
	lr = take_list(c, "tcp:alert");
	check_list(lr, 0, 2000, "alert");
	freeReplyObject(lr);
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_sent, 2000);
	assert_int_equal(st.n_connects, 1);
	redis_out_destroy(r);

	/* a name: whichever of its addresses comes first, the one Redis listens on is found */
	snprintf(target, sizeof(target), "tcp:localhost:%d", f->port);
	r = make_out(f, target, REDIS_OUT_LIST, "tcp:%t", 1u << 20);
	for (int i = 0; i < 100; i++)
		write_line(r, i, "stats");
	pump_until(f, r, 100);
	lr = take_list(c, "tcp:stats");
	check_list(lr, 0, 100, "stats");
	freeReplyObject(lr);
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_sent, 100);
	assert_int_equal(st.n_connects, 1);
	redisFree(c);
	redis_out_destroy(r);
}

/* Append the numbers of the lines in lr to seen[*n]. */
static void
collect(redisReply *lr, int *seen, int *n, int max)
{
	for (size_t j = 0; j < lr->elements; j++) {
		const char *p = strstr(lr->element[j]->str, "\"n\":");

		assert_non_null(p);
		assert_true(*n < max);
		seen[(*n)++] = atoi(p + 4);
	}
}

/*
 * 5,000 lines go through; Redis is stopped (SIGSTOP) and 500 more are sent to it, unanswered,
 * then it is killed; 3,000 more are written while it is down; it restarts on the same path.
 * Every line arrives once, in order: the 500 unanswered ones were re-sent first.
 */
static void
test_restart(void **state)
{
	enum { N1 = 5000, N2 = 500, N3 = 3000, N = N1 + N2 + N3 };
	struct fixture *f = *state;
	struct redis_out *r = make_out(f, NULL, REDIS_OUT_LIST, "r:list", 8u << 20);
	struct redis_out_stats st;
	redisContext *c = client(f);
	redisReply *lr;
	int *seen = calloc(N + 1, sizeof(int)), n_seen = 0, wst;

	assert_non_null(seen);
	for (int i = 0; i < N1; i++)
		write_line(r, i, "alert");
	pump_until(f, r, N1);
	lr = take_list(c, "r:list");
	collect(lr, seen, &n_seen, N + 1);
	freeReplyObject(lr);
	assert_int_equal(n_seen, N1);
	redisFree(c);

	/* stopped, Redis takes the commands into its socket buffer and never answers */
	assert_int_equal(kill(f->pid, SIGSTOP), 0);
	assert_int_equal(waitpid(f->pid, &wst, WUNTRACED), f->pid);
	assert_true(WIFSTOPPED(wst));
	for (int i = N1; i < N1 + N2; i++)
		write_line(r, i, "alert");
	for (int k = 0; k < 20; k++)
		pump_once(f, r, POLLIN | POLLOUT);
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_sent, N1);
	srv_kill(f);

	/* the module notices, and keeps everything while Redis is down */
	for (int i = N1 + N2; i < N; i++)
		write_line(r, i, "alert");
	for (int k = 0; k < 50; k++)
		pump_once(f, r, POLLIN | POLLOUT);
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_sent, N1);
	assert_int_equal(st.n_dropped, 0);
	assert_true(st.n_errors >= 2); /* the broken connection and a refused reconnect */

	assert_int_equal(srv_start(f), 0);
	pump_until(f, r, N);
	c = client(f);
	lr = take_list(c, "r:list");
	collect(lr, seen, &n_seen, N + 1);
	freeReplyObject(lr);
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_sent, N);
	assert_int_equal(st.n_dropped, 0);
	assert_int_equal(st.n_connects, 2);
	assert_int_equal(n_seen, N);
	for (int j = 0; j < N; j++)
		if (seen[j] != j)
			fail_msg("position %d holds line %d", j, seen[j]);
	free(seen);
	redisFree(c);
	redis_out_destroy(r);
}

/*
 * A stand-in server on a unix socket, to do what a real Redis will not do on demand: take
 * commands and close without answering (as when it dies between executing and replying).
 */
struct fake_srv {
	int lfd, cfd;
	char buf[1 << 16];
	size_t len;
};

static int
fake_listen(struct fake_srv *s, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s->cfd = -1;
	s->len = 0;
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->lfd, 4) < 0)
		return -1;
	return 0;
}

/* Accept if nobody is connected, read what is there; the number of RPUSH commands held. */
static int
fake_service(struct fake_srv *s)
{
	int n = 0;

	if (s->cfd < 0)
		s->cfd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK);
	if (s->cfd >= 0) {
		ssize_t got = read(s->cfd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);

		if (got > 0)
			s->len += (size_t)got;
	}
	s->buf[s->len] = '\0';
	for (const char *p = s->buf; (p = strstr(p, "$5\r\nRPUSH\r\n")) != NULL; p++)
		n++;
	return n;
}

static void
test_resend_unanswered(void **state)
{
	enum { K = 100 };
	struct fixture *f = *state;
	struct fake_srv *s = calloc(1, sizeof(*s));
	char path[160], *first;
	struct redis_out *r;
	struct redis_out_stats st;
	size_t first_len;
	int k;

	assert_non_null(s);
	snprintf(path, sizeof(path), "%s/fake.sock", f->dir);
	assert_int_equal(fake_listen(s, path), 0);
	snprintf(path, sizeof(path), "unix:%s/fake.sock", f->dir);
	r = make_out(f, path, REDIS_OUT_LIST, "d", 1u << 20);
	for (int i = 0; i < K; i++)
		write_line(r, i, "alert");
	for (k = 0; k < 1000 && fake_service(s) < K; k++)
		pump_once(f, r, POLLIN | POLLOUT);
	assert_int_equal(fake_service(s), K);
	first = strndup(s->buf, s->len);
	first_len = s->len;
	close(s->cfd); /* executed, never answered */
	s->cfd = -1;
	s->len = 0;

	/* the module re-sends the same commands, in the same order, on its next connection */
	for (k = 0; k < 1000 && fake_service(s) < K; k++)
		pump_once(f, r, POLLIN | POLLOUT);
	assert_int_equal(fake_service(s), K);
	assert_int_equal(s->len, first_len);
	assert_memory_equal(s->buf, first, first_len);
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_sent, 0);
	assert_int_equal(st.n_errors, 1);
	assert_int_equal(st.n_connects, 2);
	for (int i = 0; i < K; i++) {
		char line[128];

		make_line(line, sizeof(line), i, "alert");
		assert_non_null(strstr(first, line));
		if (i > 0) {
			char prev[128];

			make_line(prev, sizeof(prev), i - 1, "alert");
			assert_true(strstr(first, prev) < strstr(first, line));
		}
	}
	/* now it answers: every line is acknowledged once */
	for (int i = 0; i < K; i++)
		assert_int_equal(write(s->cfd, ":1\r\n", 4), 4);
	pump_until(f, r, K);
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_sent, K);
	assert_int_equal(st.n_dropped, 0);
	free(first);
	close(s->cfd);
	close(s->lfd);
	free(s);
	redis_out_destroy(r);
}

/* Redis down: 1,000 bytes hold exactly ten 100-byte lines; the rest are dropped. */
static void
test_queue_bound(void **state)
{
	struct fixture *f = *state;
	struct redis_out *r = make_out(f, NULL, REDIS_OUT_LIST, "q:%t", 1000);
	struct redis_out_stats st;
	char line[1200];
	redisContext *c;
	redisReply *lr;

	for (int k = 0; k < 10; k++)
		pump_once(f, r, POLLIN | POLLOUT); /* no server: attempts fail */
	redis_out_get_stats(r, &st);
	assert_true(st.n_errors >= 1);
	assert_int_equal(st.n_connects, 0);

	for (int i = 0; i < 25; i++) {
		memset(line, 'a' + i % 26, 100);
		redis_out_write(r, line, 100, "alert");
	}
	memset(line, 'z', 1001);
	redis_out_write(r, line, 1001, "alert"); /* longer than the bound alone */
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_dropped, 16);
	assert_int_equal(st.n_sent, 0);

	assert_int_equal(srv_start(f), 0);
	pump_until(f, r, 26);
	c = client(f);
	lr = take_list(c, "q:alert");
	assert_int_equal(lr->elements, 10);
	for (int i = 0; i < 10; i++) {
		memset(line, 'a' + i, 100);
		assert_int_equal(lr->element[i]->len, 100);
		assert_memory_equal(lr->element[i]->str, line, 100);
	}
	freeReplyObject(lr);
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_sent, 10);
	assert_int_equal(st.n_dropped, 16);
	assert_int_equal(st.n_connects, 1);

	/* drained, the queue takes lines again; an exactly full queue is accepted */
	memset(line, 'x', 1000);
	redis_out_write(r, line, 1000, "alert");
	pump_until(f, r, 27);
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_sent, 11);
	assert_int_equal(st.n_dropped, 16);
	redisFree(c);
	redis_out_destroy(r);
}

/* A key holding a string: RPUSH gets WRONGTYPE; counted, dropped, the others still go. */
static void
test_error_reply(void **state)
{
	struct fixture *f = *state;
	struct redis_out *r = make_out(f, NULL, REDIS_OUT_LIST, "e:%t", 1u << 20);
	struct redis_out_stats st;
	redisContext *c = client(f);
	redisReply *rep, *lr;
	int n_good = 0;

	rep = redisCommand(c, "SET e:bad not-a-list");
	assert_non_null(rep);
	freeReplyObject(rep);
	for (int i = 0; i < 30; i++)
		write_line(r, i, i % 3 == 1 ? "bad" : "good");
	pump_until(f, r, 30);
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_errors, 10);
	assert_int_equal(st.n_dropped, 10);
	assert_int_equal(st.n_sent, 20);
	assert_int_equal(st.n_connects, 1); /* an error reply does not break the connection */
	lr = take_list(c, "e:good");
	assert_int_equal(lr->elements, 20);
	for (int i = 0; i < 30; i++) {
		char want[128];

		if (i % 3 == 1)
			continue;
		make_line(want, sizeof(want), i, "good");
		assert_string_equal(lr->element[n_good++]->str, want);
	}
	freeReplyObject(lr);
	rep = redisCommand(c, "GET e:bad");
	assert_non_null(rep);
	assert_string_equal(rep->str, "not-a-list");
	freeReplyObject(rep);
	redisFree(c);
	redis_out_destroy(r);
}

/* Attempts at 0, 1, 3, 7, 15, 31 s, then every 30 s; failures counted. */
static void
test_backoff(void **state)
{
	static const uint64_t attempts[] = { 0, 1000, 3000, 7000, 15000, 31000, 61000, 91000 };
	struct fixture *f = *state;
	struct redis_out *r = make_out(f, NULL, REDIS_OUT_LIST, "b", 1000);
	struct redis_out_stats st;
	uint64_t base = 5000000, n_want = 0;
	size_t a = 0;

	for (uint64_t t = 0; t <= 100000; t += 500) {
		redis_out_tick(r, base + t);
		if (a < sizeof(attempts) / sizeof(attempts[0]) && t == attempts[a]) {
			n_want++;
			a++;
		}
		redis_out_get_stats(r, &st);
		if (st.n_errors != n_want)
			fail_msg("at %llu ms: %llu failed attempts, want %llu",
				 (unsigned long long)t, (unsigned long long)st.n_errors,
				 (unsigned long long)n_want);
	}
	assert_int_equal(a, sizeof(attempts) / sizeof(attempts[0]));
	redis_out_destroy(r);
}

static void
test_bad_config(void **state)
{
	static const char *const bad[] = {
		"",
		"redis://127.0.0.1:6379",
		"tcp:",
		"tcp:127.0.0.1",
		"tcp:127.0.0.1:",
		"tcp::6379",
		"tcp:127.0.0.1:0",
		"tcp:127.0.0.1:65536",
		"tcp:127.0.0.1:63x9",
		"tcp:127.0.0.1:-1",
		"tcp:[::1:6379",
		"tcp:[::1]6379",
		"tcp:999.1.1.1.1:6379x",
		"unix:",
		("unix:/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), /* > sun_path */
	};
	struct redis_out_config cfg;
	struct redis_out *r;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&cfg, 0, sizeof(cfg));
		snprintf(cfg.target, sizeof(cfg.target), "%s", bad[i]);
		snprintf(cfg.key, sizeof(cfg.key), "k");
		cfg.queue_bytes = 1000;
		err[0] = '\0';
		errno = 0;
		r = redis_out_create(&cfg, err, sizeof(err));
		if (r != NULL)
			fail_msg("target \"%s\" accepted", bad[i]);
		assert_int_equal(errno, EINVAL);
		assert_true(strlen(err) > 0);
		assert_non_null(strstr(err, "redis"));
	}
	/* good target, bad other fields */
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.target, sizeof(cfg.target), "tcp:[::1]:6379");
	snprintf(cfg.key, sizeof(cfg.key), "k");
	cfg.queue_bytes = 1000;
	r = redis_out_create(&cfg, err, sizeof(err));
	assert_non_null(r); /* the well-formed v6 form parses (no connection yet) */
	redis_out_destroy(r);
	cfg.queue_bytes = 0;
	assert_null(redis_out_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "queue"));
	cfg.queue_bytes = 1000;
	cfg.key[0] = '\0';
	assert_null(redis_out_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "key"));
	snprintf(cfg.key, sizeof(cfg.key), "k");
	cfg.mode = (enum redis_out_mode)7;
	assert_null(redis_out_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "mode"));
	cfg.mode = REDIS_OUT_LIST;
	memset(cfg.key, 'k', sizeof(cfg.key)); /* not terminated */
	assert_null(redis_out_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "key"));
	assert_null(redis_out_create(NULL, err, sizeof(err)));
	redis_out_destroy(NULL);

	assert_int_equal(redis_out_mode_from_name("list"), REDIS_OUT_LIST);
	assert_int_equal(redis_out_mode_from_name("publish"), REDIS_OUT_PUBLISH);
	assert_int_equal(redis_out_mode_from_name("List"), -1);
	assert_int_equal(redis_out_mode_from_name(""), -1);
	assert_int_equal(redis_out_mode_from_name(NULL), -1);
}

/* A key that "%t" makes longer than REDIS_OUT_KEY_MAX drops the line, counted. */
static void
test_key_too_long(void **state)
{
	struct fixture *f = *state;
	struct redis_out *r = make_out(f, NULL, REDIS_OUT_LIST, "%t%t%t%t%t", 1000);
	struct redis_out_stats st;
	char type[200];

	memset(type, 't', sizeof(type) - 1);
	type[sizeof(type) - 1] = '\0';
	redis_out_write(r, "x", 1, type); /* 5 * 199 bytes > REDIS_OUT_KEY_MAX */
	redis_out_write(r, "y", 1, "ok");
	redis_out_get_stats(r, &st);
	assert_int_equal(st.n_dropped, 1);
	redis_out_destroy(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test_setup_teardown(test_list_order, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_key_event_type, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_publish, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_tcp, setup_tcp, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_resend_unanswered, setup_no_server, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound, setup_no_server, teardown),
		cmocka_unit_test_setup_teardown(test_error_reply, setup_server, teardown),
		cmocka_unit_test_setup_teardown(test_backoff, setup_no_server, teardown),
		cmocka_unit_test_setup_teardown(test_key_too_long, setup_no_server, teardown),
	};

	signal(SIGPIPE, SIG_IGN); /* as posternd does: a write to a dead server is an error */
	log_init("test_redis_out", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
