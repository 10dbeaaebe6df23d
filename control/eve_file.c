/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Appending EVE lines to a file with plain write(2): O_APPEND makes every line land at the
 * end even when another writer (or a copytruncate rotation) moved it. posternd control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "eve_file.h"

struct eve_file {
	int fd;
	char *path;
	uint64_t size;       /* of the current file, as far as we know */
	uint64_t max_bytes;  /* rotate before passing it; 0: never */
	unsigned keep;
	struct eve_file_stats st;
};

/* The size of what fd holds now (another writer may have appended too). */
static uint64_t
file_size(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static int
open_append(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

struct eve_file *
eve_file_create(const char *path)
{
	struct eve_file *f;
	int err;

	if (path == NULL || *path == '\0') {
		errno = EINVAL;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->path = strdup(path);
	if (f->path == NULL)
		goto err_free;
	f->fd = open_append(path);
	if (f->fd < 0)
		goto err_path;
	f->size = file_size(f->fd);
	return f;

err_path:
	err = errno;
	free(f->path);
	errno = err;
err_free:
	err = errno;
	free(f);
	errno = err;
	return NULL;
}

void
eve_file_destroy(struct eve_file *f)
{
	if (f == NULL)
		return;
	close(f->fd);
	free(f->path);
	free(f);
}

void
eve_file_set_rotation(struct eve_file *f, uint64_t max_bytes, unsigned keep)
{
	f->max_bytes = max_bytes;
	f->keep = keep > 0 ? keep : 1;
}

/* PATH.n into buf (size bytes); PATH itself for n == 0. False when it does not fit. */
static bool
numbered(char *buf, size_t size, const char *path, unsigned n)
{
	int k = n == 0 ? snprintf(buf, size, "%s", path) : snprintf(buf, size, "%s.%u", path, n);

	return k > 0 && (size_t)k < size;
}

/* Shift the older files up by one, move the current one to PATH.1, start a new one. */
static void
rotate(struct eve_file *f)
{
	char from[4096], to[4096];
	int fd;

	for (unsigned n = f->keep; n > 0; n--) {
		if (!numbered(from, sizeof(from), f->path, n - 1) ||
		    !numbered(to, sizeof(to), f->path, n)) {
			f->st.n_rotate_errors++;
			return;
		}
		/* an older file may not exist yet: that is no error */
		if (rename(from, to) < 0 && (errno != ENOENT || n == 1)) {
			f->st.n_rotate_errors++;
			return;
		}
	}
	fd = open_append(f->path);
	if (fd < 0) {
		f->st.n_rotate_errors++; /* the moved file, now PATH.1, takes the lines */
		return;
	}
	close(f->fd);
	f->fd = fd;
	f->size = file_size(fd);
	f->st.n_rotations++;
}

int
eve_file_write(struct eve_file *f, const char *line, size_t len)
{
	static const char nl = '\n';
	struct iovec iov[2] = {
		{ .iov_base = (void *)line, .iov_len = len },
		{ .iov_base = (void *)&nl, .iov_len = 1 },
	};
	struct iovec *v = iov;
	int cnt = 2;

	if (f->max_bytes > 0 && f->size > 0 && f->size + len + 1 > f->max_bytes)
		rotate(f);

	/* A regular file takes the whole line at once unless it is short of space. */
	while (cnt > 0) {
		ssize_t n = writev(f->fd, v, cnt);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			f->st.n_errors++;
			return -err;
		}
		if (n == 0) {
			f->st.n_errors++;
			return -EIO;
		}
		size_t left = (size_t)n;
		while (cnt > 0 && left >= v->iov_len) {
			left -= v->iov_len;
			v++;
			cnt--;
		}
		if (cnt > 0) {
			v->iov_base = (char *)v->iov_base + left;
			v->iov_len -= left;
		}
	}
	f->st.n_lines++;
	f->size += len + 1;
	return 0;
}

int
eve_file_reopen(struct eve_file *f)
{
	int fd = open_append(f->path);

	if (fd < 0)
		return -errno;
	close(f->fd);
	f->fd = fd;
	f->size = file_size(fd);
	f->st.n_reopens++;
	return 0;
}

void
eve_file_get_stats(const struct eve_file *f, struct eve_file_stats *out)
{
	*out = f->st;
}
