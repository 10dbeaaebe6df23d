/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scratch directories for unit tests: made under /tmp, removed with everything the test
 * left in them (sockets, LMDB files, logs), so that fixtures need not list their files.
 */
#pragma once

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Make a fresh directory; its path goes in dir (at least 32 bytes). 0 or -1. */
static inline int
test_tmpdir_make(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/postern-test-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static inline int
test_tmpdir_remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove the directory and all it holds. */
static inline void
test_tmpdir_remove(const char *dir)
{
	nftw(dir, test_tmpdir_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
