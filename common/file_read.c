/* SPDX-License-Identifier: BSD-3-Clause */
/* Bounded whole-file reads; see file_read.h. Control threads and tools. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_read.h"

int
file_read_all(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat st;
	char *b = NULL;
	size_t got = 0;
	int rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out_fd;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		rc = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto out_fd;
	}
	b = malloc((size_t)st.st_size + 1);
	if (b == NULL) {
		rc = -ENOMEM;
		goto out_fd;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			free(b);
			goto out_fd;
		}
		if (n == 0) /* the file shrank while we read it */
			break;
		got += (size_t)n;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	rc = 0;
out_fd:
	close(fd);
	return rc;
}
