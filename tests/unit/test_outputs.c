/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternd's network outputs as a whole (control/outputs.h): created from the config (a bad
 * target refused), every line to each output, and the drain of a clean stop: lines a slow
 * receiver left queued go out while the drain waits, and the drain gives up at its time
 * limit, saying how many are left. The receiver is a real Unix datagram socket, whose
 * kernel queue fills quickly, so that lines do wait in posternd.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "outputs.h"
#include "test_tmpdir.h"

#define N_LINES 3000

struct fixture {
	char dir[64];
	char path[96];
	int rx;                   /* the syslog receiver */
	struct postern_config cfg;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (fx == NULL || test_tmpdir_make(fx->dir, sizeof(fx->dir)) < 0)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/log.sock", fx->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", fx->path);
	fx->rx = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fx->rx < 0 || bind(fx->rx, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	config_defaults(&fx->cfg);
	snprintf(fx->cfg.syslog, sizeof(fx->cfg.syslog), "unix:%s", fx->path);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	close(fx->rx);
	test_tmpdir_remove(fx->dir);
	free(fx);
	return 0;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
write_lines(struct outputs *o, unsigned n)
{
	char line[160];

	for (unsigned i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "{\"event_type\":\"alert\",\"n\":%u,\"pad\":"
					       "\"%0100u\"}", i, i);
		outputs_write(o, line, (size_t)len, "alert", 1700000000000000ull);
	}
}

/* A child that waits delay_ms, then reads datagrams until it has want (or 5 s pass). */
static pid_t
slow_reader(int fd, unsigned want, int delay_ms)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid > 0)
		return pid;
	char buf[4096];
	unsigned got = 0, last = 0;
	bool in_order = true;

	usleep((useconds_t)delay_ms * 1000);
	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 5000) <= 0)
			break;
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			break;
		buf[n] = '\0';
		const char *num = strstr(buf, "\"n\":");
		unsigned k = num != NULL ? (unsigned)strtoul(num + 4, NULL, 10) : 0;
		in_order &= got == 0 ? k == 0 : k == last + 1;
		last = k;
		got++;
	}
	_exit(got == want && in_order ? 0 : 1);
}

static void
test_drain_delivers_what_waits(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	struct outputs *o = outputs_create(&fx->cfg, err, sizeof(err));
	int status;

	assert_non_null(o);
	write_lines(o, N_LINES);
	/* the receiver reads nothing yet: most lines wait in the output */
	assert_true(outputs_queued(o) > N_LINES / 2);
	pid_t pid = slow_reader(fx->rx, N_LINES, 200);
	uint64_t t0 = mono_ms();
	assert_int_equal(outputs_drain(o, 10000), 0);
	assert_true(mono_ms() - t0 >= 150); /* it waited for the reader */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* all, in order */

	json_t *j = outputs_stats_json(o);
	json_t *sys = json_object_get(j, "syslog");
	assert_int_equal(json_integer_value(json_object_get(sys, "sent")), N_LINES);
	assert_int_equal(json_integer_value(json_object_get(sys, "dropped")), 0);
	assert_int_equal(json_integer_value(json_object_get(sys, "queued")), 0);
	json_decref(j);
	outputs_destroy(o);
}

/* Nobody reads: the drain gives up at its limit and says how many lines are left. */
static void
test_drain_gives_up_in_time(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	struct outputs *o = outputs_create(&fx->cfg, err, sizeof(err));

	assert_non_null(o);
	write_lines(o, N_LINES);
	uint64_t queued = outputs_queued(o), t0 = mono_ms();

	assert_true(queued > 0);
	assert_int_equal(outputs_drain(o, 300), queued);
	uint64_t took = mono_ms() - t0;
	assert_true(took >= 300 && took < 2000);
	outputs_destroy(o);
}

/* No output configured: nothing queued, a drain returns at once; a bad target is refused. */
static void
test_none_and_bad(void **state)
{
	struct fixture *fx = *state;
	struct postern_config cfg;
	char err[256] = "";

	config_defaults(&cfg);
	struct outputs *o = outputs_create(&cfg, err, sizeof(err));
	assert_non_null(o);
	write_lines(o, 10);
	assert_int_equal(outputs_queued(o), 0);
	assert_int_equal(outputs_drain(o, 5000), 0);
	json_t *j = outputs_stats_json(o);
	assert_int_equal(json_object_size(j), 0);
	json_decref(j);
	outputs_destroy(o);

	(void)fx;
	snprintf(cfg.redis, sizeof(cfg.redis), "tcp:no-such-host.invalid:6379");
	assert_null(outputs_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "redis"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drain_delivers_what_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_gives_up_in_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none_and_bad, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
