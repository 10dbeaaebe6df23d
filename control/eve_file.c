/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Appending EVE lines to a file with plain write(2): O_APPEND makes every line land at the
 * end even when another writer (or a copytruncate rotation) moved it. posternd control thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "eve_file.h"

struct eve_file {
	int fd;
	char *path;
	struct eve_file_stats st;
};

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
	f->st.n_reopens++;
	return 0;
}

void
eve_file_get_stats(const struct eve_file *f, struct eve_file_stats *out)
{
	*out = f->st;
}
