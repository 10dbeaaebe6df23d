/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for common/peer_cred.c: a peer of this user is served; as root, a child that
 * drops to nobody and connects to a listening socket is refused with its uid; a descriptor
 * that is no socket is an error, not a pass.
 */
#include <errno.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "peer_cred.h"

#define NOBODY 65534

static void
test_same_user(void **state)
{
	(void)state;
	int sv[2];
	uid_t uid = 12345;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(peer_cred_check(sv[0], &uid), 0);
	assert_int_equal(uid, geteuid());
	close(sv[0]);
	close(sv[1]);
}

static void
test_not_a_socket(void **state)
{
	(void)state;
	int fds[2];
	uid_t uid;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(peer_cred_check(fds[0], &uid), -ENOTSOCK);
	close(fds[0]);
	close(fds[1]);
}

/* Root only: another user's connection is refused, and says who it was. */
static void
test_other_user_refused(void **state)
{
	(void)state;
	char dir[] = "/tmp/postern-peer-cred.XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, fd;
	pid_t child;
	uid_t uid = 0;

	if (geteuid() != 0)
		skip(); /* needs root to connect as someone else */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0711), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(chmod(sa.sun_path, 0666), 0); /* the mode lets it in: the check must not */
	assert_int_equal(listen(lfd, 1), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int c = -1;

		if (setgid(NOBODY) == 0 && setuid(NOBODY) == 0)
			c = socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(c >= 0 && connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : 1);
	}
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(peer_cred_check(fd, &uid), -EACCES);
	assert_int_equal(uid, NOBODY);
	int st;
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(fd);
	close(lfd);
	unlink(sa.sun_path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_user),
		cmocka_unit_test(test_not_a_socket),
		cmocka_unit_test(test_other_user_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
