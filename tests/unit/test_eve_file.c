/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE file output: lines appended whole, mode 0640, reopen after a logrotate-style rename,
 * a failed reopen keeps the old file, errors reported as -errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "eve_file.h"
#include "test_tmpdir.h"

struct fixture {
	char dir[64];
	char path[128];
	char rotated[128];
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
	snprintf(fx->path, sizeof(fx->path), "%s/eve.json", fx->dir);
	snprintf(fx->rotated, sizeof(fx->rotated), "%s/eve.json.1", fx->dir);
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

/* The whole content of a file, NUL-terminated (caller frees). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 65536);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_append_and_mode(void **state)
{
	struct fixture *fx = *state;
	struct eve_file_stats st;
	struct stat sb;
	mode_t old = umask(022);
	struct eve_file *f = eve_file_create(fx->path);
	assert_non_null(f);
	assert_int_equal(stat(fx->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	umask(old);

	assert_int_equal(eve_file_write(f, "{\"a\":1}", 7), 0);
	assert_int_equal(eve_file_write(f, "{\"b\":2} trailing", 7), 0); /* len, not strlen */
	eve_file_destroy(f);

	/* An existing file is appended to, never truncated. */
	f = eve_file_create(fx->path);
	assert_non_null(f);
	assert_int_equal(eve_file_write(f, "{\"c\":3}", 7), 0);
	eve_file_get_stats(f, &st);
	assert_int_equal(st.n_lines, 1);
	assert_int_equal(st.n_errors, 0);
	eve_file_destroy(f);
	eve_file_destroy(NULL);

	char *all = slurp(fx->path);
	assert_string_equal(all, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n");
	free(all);
}

static void
test_reopen_after_rotation(void **state)
{
	struct fixture *fx = *state;
	struct eve_file_stats st;
	struct eve_file *f = eve_file_create(fx->path);

	assert_non_null(f);
	assert_int_equal(eve_file_write(f, "one", 3), 0);
	/* logrotate moves the file; until the reopen we keep writing to it. */
	assert_int_equal(rename(fx->path, fx->rotated), 0);
	assert_int_equal(eve_file_write(f, "two", 3), 0);
	assert_int_equal(eve_file_reopen(f), 0);
	assert_int_equal(eve_file_write(f, "three", 5), 0);

	char *a = slurp(fx->rotated);
	char *b = slurp(fx->path);
	assert_string_equal(a, "one\ntwo\n");
	assert_string_equal(b, "three\n");
	free(a);
	free(b);

	/* A reopen that fails (directory gone) keeps the file that works. */
	char moved[160];
	snprintf(moved, sizeof(moved), "%s.moved", fx->dir);
	assert_int_equal(rename(fx->dir, moved), 0);
	assert_int_equal(eve_file_reopen(f), -ENOENT);
	assert_int_equal(eve_file_write(f, "four", 4), 0);
	assert_int_equal(rename(moved, fx->dir), 0);
	b = slurp(fx->path);
	assert_string_equal(b, "three\nfour\n");
	free(b);

	eve_file_get_stats(f, &st);
	assert_int_equal(st.n_lines, 4);
	assert_int_equal(st.n_reopens, 1);
	eve_file_destroy(f);
}

/*
 * Rotation by size: 20 lines of 49 bytes (50 with the newline) into files of at most 200
 * bytes, keeping 2: PATH holds the newest lines, PATH.1 and PATH.2 the ones before, whole
 * and in order, none over the limit, nothing older kept; then a line longer than the
 * limit goes whole into a fresh file.
 */
static void
test_rotation_by_size(void **state)
{
	struct fixture *fx = *state;
	struct eve_file *f = eve_file_create(fx->path);
	struct eve_file_stats st;
	char line[64], name[160];

	assert_non_null(f);
	eve_file_set_rotation(f, 200, 2);
	for (int i = 0; i < 20; i++) {
		snprintf(line, sizeof(line), "{\"n\":%02d,\"pad\":\"%032d\"}", i, 0);
		assert_int_equal(strlen(line), 49);
		assert_int_equal(eve_file_write(f, line, strlen(line)), 0);
	}
	/* 4 lines a file: lines 16-19 in PATH, 12-15 in .1, 8-11 in .2 */
	for (int k = 0; k <= 2; k++) {
		if (k == 0)
			snprintf(name, sizeof(name), "%s", fx->path);
		else
			snprintf(name, sizeof(name), "%s.%d", fx->path, k);
		char *text = slurp(name);

		assert_non_null(text);
		assert_int_equal(strlen(text), 200);
		for (int j = 0; j < 4; j++) {
			snprintf(line, sizeof(line), "{\"n\":%02d,", 16 - 4 * k + j);
			assert_memory_equal(text + 50 * j, line, strlen(line));
			assert_int_equal(text[50 * j + 49], '\n');
		}
		free(text);
	}
	snprintf(name, sizeof(name), "%s.3", fx->path);
	assert_int_equal(access(name, F_OK), -1);
	eve_file_get_stats(f, &st);
	assert_int_equal(st.n_rotations, 4);
	assert_int_equal(st.n_rotate_errors, 0);
	assert_int_equal(st.n_lines, 20);

	char big[300];
	memset(big, 'x', sizeof(big));
	assert_int_equal(eve_file_write(f, big, sizeof(big)), 0);
	char *text = slurp(fx->path);
	assert_non_null(text);
	assert_int_equal(strlen(text), sizeof(big) + 1);
	free(text);
	eve_file_destroy(f);
}

static void
test_errors(void **state)
{
	(void)state;
	struct eve_file_stats st;

	errno = 0;
	assert_null(eve_file_create("/nonexistent-postern-dir/eve.json"));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(eve_file_create(""));
	assert_int_equal(errno, EINVAL);

	/* A full disk: /dev/full fails every write with ENOSPC, counted. */
	struct eve_file *f = eve_file_create("/dev/full");
	if (f == NULL)
		skip();
	assert_int_equal(eve_file_write(f, "x", 1), -ENOSPC);
	eve_file_get_stats(f, &st);
	assert_int_equal(st.n_errors, 1);
	assert_int_equal(st.n_lines, 0);
	eve_file_destroy(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_and_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_by_size, setup, teardown),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
