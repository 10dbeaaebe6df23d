/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternctl alerts against a real alert socket: cmd_alerts runs in a forked child whose
 * stdout and stderr go to files; the parent plays posternd (alert_server) or, for the cut
 * and over-long line cases, a raw socket server.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "alert_server.h"
#include "commands.h"
#include "config.h"
#include "test_tmpdir.h"

struct fixture {
	char dir[64];
	char sock[96];
	char out[96];
	char err[96];
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
	snprintf(fx->sock, sizeof(fx->sock), "%s/alerts.sock", fx->dir);
	snprintf(fx->out, sizeof(fx->out), "%s/stdout", fx->dir);
	snprintf(fx->err, sizeof(fx->err), "%s/stderr", fx->dir);
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

/* Run cmd_alerts with args in a child, stdout/stderr to the fixture's files. */
static pid_t
spawn(const struct fixture *fx, const char *const *args)
{
	char *argv[16];
	int argc = 0;
	pid_t pid;

	argv[argc++] = (char *)"alerts";
	for (; *args != NULL && argc < 15; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct postern_config cfg;
		int o = open(fx->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(fx->err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(99);
		alarm(10);  /* a hung child must not hang the suite */
		config_defaults(&cfg);
		snprintf(cfg.alert_socket, sizeof(cfg.alert_socket), "%s", fx->sock);
		int rc = cmd_alerts(argc, argv, &cfg);

		fflush(NULL);  /* posternctl's exit() would; _exit() does not */
		_exit(rc);
	}
	return pid;
}

/* Exit status of the child, pumping srv (if any) meanwhile. Fails after ~5 s. */
static int
wait_child(pid_t pid, struct alert_server *srv)
{
	int status;

	for (int i = 0; i < 500; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		assert_true(r >= 0);
		if (r == pid) {
			assert_true(WIFEXITED(status));
			return WEXITSTATUS(status);
		}
		if (srv != NULL) {
			struct pollfd fds[8];
			int n = alert_server_pollfds(srv, fds, 8);

			if (poll(fds, (nfds_t)n, 10) > 0)
				alert_server_handle(srv, fds, n);
		} else {
			usleep(10000);
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("cmd_alerts did not exit");
	return -1;
}

static void
wait_subscribed(struct alert_server *srv)
{
	struct alert_server_stats st;

	for (int i = 0; i < 500; i++) {
		struct pollfd fds[8];
		int n = alert_server_pollfds(srv, fds, 8);

		if (poll(fds, (nfds_t)n, 10) > 0)
			alert_server_handle(srv, fds, n);
		alert_server_get_stats(srv, &st);
		if (st.n_subscribers > 0)
			return;
	}
	fail_msg("cmd_alerts never connected");
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

#define L_ALERT1 "{\"timestamp\":\"t\",\"event_type\":\"alert\",\"n\":1}"
#define L_SMTP "{\"timestamp\":\"t\",\"event_type\":\"smtp\",\"n\":2}"
#define L_STATS "{\"timestamp\":\"t\",\"event_type\":\"stats\",\"n\":3}"
#define L_ALERT2 "{\"timestamp\":\"t\",\"event_type\":\"alert\",\"n\":4,\"s\":\"a\\u0000b\"}"
#define L_ALERT3 "{\"timestamp\":\"t\",\"event_type\":\"alert\",\"n\":5}"

static void
bcast(struct alert_server *srv, const char *line)
{
	alert_server_broadcast(srv, line, strlen(line), "alert");
}

static void
test_prints_until_server_closes(void **state)
{
	struct fixture *fx = *state;
	struct alert_server *srv = alert_server_create(fx->sock, 0);
	static const char *const args[] = { NULL };

	assert_non_null(srv);
	pid_t pid = spawn(fx, args);  /* default socket: the config's alert_socket */
	wait_subscribed(srv);
	bcast(srv, L_ALERT1);
	bcast(srv, L_SMTP);
	bcast(srv, "not json at all");
	bcast(srv, L_STATS);
	alert_server_destroy(srv);
	assert_int_equal(wait_child(pid, NULL), 0);

	char *out = slurp(fx->out);
	assert_string_equal(out, L_ALERT1 "\n" L_SMTP "\nnot json at all\n" L_STATS "\n");
	free(out);
}

static void
test_type_and_count(void **state)
{
	struct fixture *fx = *state;
	struct alert_server *srv = alert_server_create(fx->sock, 0);
	static const char *const args[] = { "--type", "alert", "--count", "2", NULL };

	assert_non_null(srv);
	pid_t pid = spawn(fx, args);
	wait_subscribed(srv);
	bcast(srv, L_SMTP);
	bcast(srv, L_ALERT1);
	bcast(srv, "{\"event_type\":\"alert\""); /* invalid JSON: no type to match */
	bcast(srv, L_STATS);
	bcast(srv, L_ALERT2);
	bcast(srv, L_ALERT3);
	/* It stops after two alerts, with the server still up. */
	assert_int_equal(wait_child(pid, srv), 0);
	alert_server_destroy(srv);

	char *out = slurp(fx->out);
	assert_string_equal(out, L_ALERT1 "\n" L_ALERT2 "\n");
	free(out);
}

/*
 * --type asks the server: a line the server files under another type never reaches the
 * client, even though its JSON would pass the client's own filter.
 */
static void
test_types_asked_of_the_server(void **state)
{
	struct fixture *fx = *state;
	struct alert_server *srv = alert_server_create(fx->sock, 0);
	static const char *const args[] = { "--type", "anomaly", "--type", "spool", "--type",
					    "anomaly", "--count", "2", NULL };
	struct alert_server_stats st = { 0 };
	const char *anomaly = "{\"event_type\":\"anomaly\",\"n\":1}";
	const char *spool = "{\"event_type\":\"spool\",\"n\":2}";

	assert_non_null(srv);
	pid_t pid = spawn(fx, args);
	wait_subscribed(srv);
	for (int i = 0; i < 500 && st.n_requests == 0; i++) {
		struct pollfd fds[8];
		int n = alert_server_pollfds(srv, fds, 8);

		if (poll(fds, (nfds_t)n, 10) > 0)
			alert_server_handle(srv, fds, n);
		alert_server_get_stats(srv, &st);
	}
	assert_int_equal(st.n_requests, 1);
	alert_server_broadcast(srv, L_ALERT1, strlen(L_ALERT1), "stats");
	alert_server_broadcast(srv, anomaly, strlen(anomaly) - 1, "alert"); /* cut: never sent */
	alert_server_broadcast(srv, anomaly, strlen(anomaly), "anomaly");
	alert_server_broadcast(srv, spool, strlen(spool), "spool");
	assert_int_equal(wait_child(pid, srv), 0);
	alert_server_destroy(srv);

	char *out = slurp(fx->out);
	assert_string_equal(out, "{\"event_type\":\"anomaly\",\"n\":1}\n"
				 "{\"event_type\":\"spool\",\"n\":2}\n");
	free(out);
}

static void
test_socket_option_and_errors(void **state)
{
	struct fixture *fx = *state;
	char other[128];
	static const char *const none[] = { NULL };

	/* Nothing listens: a clear error, exit 2 (environment error, commands.h). */
	assert_int_equal(wait_child(spawn(fx, none), NULL), 2);
	char *err = slurp(fx->err);
	assert_non_null(strstr(err, "cannot connect to "));
	assert_non_null(strstr(err, fx->sock));
	assert_non_null(strstr(err, "is posternd running?"));
	free(err);

	/* --socket overrides the config. */
	snprintf(other, sizeof(other), "%s/other.sock", fx->dir);
	struct alert_server *srv = alert_server_create(other, 0);
	assert_non_null(srv);
	const char *const args[] = { "-s", other, "-n", "1", NULL };
	pid_t pid = spawn(fx, args);
	wait_subscribed(srv);
	bcast(srv, L_STATS);
	assert_int_equal(wait_child(pid, srv), 0);
	alert_server_destroy(srv);
	char *out = slurp(fx->out);
	assert_string_equal(out, L_STATS "\n");
	free(out);
}

static void
test_usage_errors(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad_count[] = { "--count", "abc", NULL };
	static const char *const zero_count[] = { "--count", "0", NULL };
	static const char *const neg_count[] = { "--count", "-3", NULL };
	static const char *const big_count[] = { "--count", "99999999999999999999999", NULL };
	static const char *const bad_type[] = { "--type", "flow", NULL };
	static const char *const extra[] = { "junk", NULL };
	static const char *const unknown[] = { "--bogus", NULL };
	static const char *const help[] = { "--help", NULL };
	static const char *const *const bad[] = { bad_count, zero_count, neg_count, big_count,
						  bad_type, extra, unknown };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(wait_child(spawn(fx, bad[i]), NULL), 2);
		char *err = slurp(fx->err);
		assert_true(strlen(err) > 0);
		free(err);
	}
	assert_int_equal(wait_child(spawn(fx, help), NULL), 0);
	char *out = slurp(fx->out);
	assert_non_null(strstr(out, "usage: posternctl alerts"));
	free(out);
}

/* A raw server: accept one client, send bytes, close. */
static int
raw_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		assert_true(w > 0);
		p += w;
		n -= (size_t)w;
	}
}

static void
test_cut_and_long_lines(void **state)
{
	struct fixture *fx = *state;
	static const char *const none[] = { NULL };
	int lfd = raw_listen(fx->sock);
	pid_t pid = spawn(fx, none);
	int c = accept(lfd, NULL, NULL);
	size_t big = (1u << 20) + 100;  /* over ALERTS_LINE_MAX */
	char *long_line = malloc(big + 1);

	assert_true(c >= 0);
	assert_non_null(long_line);
	memset(long_line, 'x', big);
	long_line[big] = '\n';
	send_all(c, "first\n", 6);
	send_all(c, long_line, big + 1);
	/* A line split over many sends is put back together. */
	send_all(c, "sec", 3);
	send_all(c, "ond\nthi", 7);
	send_all(c, "rd\ncut-by-the-ser", 17);
	close(c);
	close(lfd);
	free(long_line);
	assert_int_equal(wait_child(pid, NULL), 0);

	char *out = slurp(fx->out);
	assert_string_equal(out, "first\nsecond\nthird\n");
	free(out);
	char *err = slurp(fx->err);
	assert_non_null(strstr(err, "skipped a line longer than"));
	assert_non_null(strstr(err, "stream ended inside a line"));
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prints_until_server_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type_and_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_types_asked_of_the_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_option_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cut_and_long_lines, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
