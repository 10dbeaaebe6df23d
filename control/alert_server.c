/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Alert socket fan-out. A broadcast first tries to write the line straight to each
 * subscriber's socket (the common case: the kernel buffer has room, nothing is copied); what
 * the socket does not take goes to that subscriber's queue, flushed when poll says it is
 * writable. A queue grows on demand up to its bound, so idle subscribers cost little memory.
 * A subscriber dropped for a full queue may have received a cut last line: readers discard an
 * unterminated line at end of stream. posternd control thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "alert_server.h"
#include "log.h"

#define ACCEPT_PER_CALL 32           /* bound the work of one alert_server_handle() */
#define READ_DISCARD_PER_CALL 65536  /* bytes read and thrown away per subscriber per call */
#define QUEUE_KEEP 65536             /* an emptied queue larger than this is freed */

struct alert_sub {
	int fd;
	bool rd_eof;   /* the peer shut down its sending side: stop polling for input */
	/* its request line being read, and the event types it asked for (none: every type) */
	char req[ALERT_SERVER_REQUEST_MAX];
	size_t req_len;
	bool req_skip; /* the line passed ALERT_SERVER_REQUEST_MAX: skipped up to its end */
	char types[ALERT_SERVER_TYPES_MAX][ALERT_SERVER_TYPE_NAME_MAX];
	unsigned n_types;
	uint8_t *buf;  /* queued bytes are buf[head .. head + len) */
	size_t cap;
	size_t head;
	size_t len;
};

struct alert_server {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;     /* identity of our socket file, so destroy removes only ours */
	ino_t ino;
	size_t queue_bytes;
	unsigned n_subs;
	struct alert_sub subs[ALERT_SERVER_MAX_SUBSCRIBERS];
	struct alert_server_stats st;
};

/* Remove a socket file left by a dead server; refuse a live one or a non-socket. */
static int
remove_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(sb.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	int err = errno;
	close(fd);
	if (rc == 0 || err == EAGAIN)
		return -EADDRINUSE;  /* someone is listening (EAGAIN: with a full backlog) */
	if (err == ENOENT)
		return 0;
	if (err != ECONNREFUSED)
		return -err;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

struct alert_server *
alert_server_create(const char *path, size_t queue_bytes)
{
	struct alert_server *srv;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat sb;
	int rc;

	if (path == NULL || *path == '\0') {
		errno = EINVAL;
		return NULL;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return NULL;
	srv->listen_fd = -1;
	strcpy(srv->path, path);
	strcpy(sa.sun_path, path);
	if (queue_bytes == 0)
		queue_bytes = ALERT_SERVER_QUEUE_DEFAULT;
	srv->queue_bytes = queue_bytes < ALERT_SERVER_QUEUE_MIN ? ALERT_SERVER_QUEUE_MIN
								 : queue_bytes;

	rc = remove_stale(path, &sa);
	if (rc < 0)
		goto err_free;
	srv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->listen_fd < 0) {
		rc = -errno;
		goto err_free;
	}
	/*
	 * The file exists with the umask's mode until chmod: the directory (/run/postern) is
	 * what keeps strangers out during that instant.
	 */
	if (bind(srv->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto err_close;
	}
	if (chmod(path, 0660) < 0 || lstat(path, &sb) < 0 || listen(srv->listen_fd, 64) < 0) {
		rc = -errno;
		goto err_unlink;
	}
	srv->dev = sb.st_dev;
	srv->ino = sb.st_ino;
	return srv;

err_unlink:
	unlink(path);
err_close:
	close(srv->listen_fd);
err_free:
	free(srv);
	errno = -rc;
	return NULL;
}

static void
sub_close(struct alert_server *srv, unsigned i)
{
	struct alert_sub *s = &srv->subs[i];

	close(s->fd);
	free(s->buf);
	srv->subs[i] = srv->subs[--srv->n_subs];
	memset(&srv->subs[srv->n_subs], 0, sizeof(srv->subs[0]));
	srv->st.n_subscribers = srv->n_subs;
}

void
alert_server_destroy(struct alert_server *srv)
{
	struct stat sb;

	if (srv == NULL)
		return;
	while (srv->n_subs > 0)
		sub_close(srv, srv->n_subs - 1);
	close(srv->listen_fd);
	/* Another instance may have taken the path over since: remove only our file. */
	if (lstat(srv->path, &sb) == 0 && sb.st_dev == srv->dev && sb.st_ino == srv->ino)
		unlink(srv->path);
	free(srv);
}

const char *
alert_server_path(const struct alert_server *srv)
{
	return srv->path;
}

void
alert_server_get_stats(const struct alert_server *srv, struct alert_server_stats *out)
{
	*out = srv->st;
}

int
alert_server_npollfds(const struct alert_server *srv)
{
	return 1 + (int)srv->n_subs;
}

int
alert_server_pollfds(const struct alert_server *srv, struct pollfd *fds, int max)
{
	int n = 0;

	if (max < 1)
		return 0;
	fds[n++] = (struct pollfd){ .fd = srv->listen_fd, .events = POLLIN };
	for (unsigned i = 0; i < srv->n_subs && n < max; i++) {
		const struct alert_sub *s = &srv->subs[i];
		short ev = s->rd_eof ? 0 : POLLIN;

		if (s->len > 0)
			ev |= POLLOUT;
		fds[n++] = (struct pollfd){ .fd = s->fd, .events = ev };
	}
	return n;
}

/* Write queued bytes. 0 when the queue emptied or the socket is full, -errno if it broke. */
static int
sub_flush(struct alert_sub *s)
{
	while (s->len > 0) {
		ssize_t n = send(s->fd, s->buf + s->head, s->len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		s->head += (size_t)n;
		s->len -= (size_t)n;
	}
	s->head = 0;
	if (s->cap > QUEUE_KEEP) {
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
	return 0;
}

/* Append to the queue; -ENOBUFS when the bound would be passed. */
static int
sub_queue(struct alert_sub *s, size_t bound, const void *a, size_t alen, const void *b,
	  size_t blen)
{
	size_t need = s->len + alen + blen;

	if (need > bound)
		return -ENOBUFS;
	if (s->head + need > s->cap) {
		if (need <= s->cap) {
			memmove(s->buf, s->buf + s->head, s->len);
		} else {
			size_t cap = s->cap < 4096 ? 4096 : s->cap;

			while (cap < need)
				cap *= 2;
			if (cap > bound)
				cap = bound;
			uint8_t *nb = malloc(cap);
			if (nb == NULL)
				return -ENOMEM;
			if (s->len > 0)
				memcpy(nb, s->buf + s->head, s->len);
			free(s->buf);
			s->buf = nb;
			s->cap = cap;
		}
		s->head = 0;
	}
	if (alen > 0)
		memcpy(s->buf + s->head + s->len, a, alen);
	s->len += alen;
	if (blen > 0)
		memcpy(s->buf + s->head + s->len, b, blen);
	s->len += blen;
	return 0;
}

/* Send line + "\n" to one subscriber. 0, -ENOBUFS (queue full) or the socket's error. */
static int
sub_send_line(struct alert_server *srv, struct alert_sub *s, const char *line, size_t len)
{
	static const char nl = '\n';
	size_t sent = 0;
	int rc;

	rc = sub_flush(s);
	if (rc < 0)
		return rc;
	if (s->len == 0) {
		struct iovec iov[2] = {
			{ .iov_base = (void *)line, .iov_len = len },
			{ .iov_base = (void *)&nl, .iov_len = 1 },
		};
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t n;

		do
			n = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		sent = n > 0 ? (size_t)n : 0;
	}
	if (sent == len + 1)
		return 0;
	if (sent >= len)
		return sub_queue(s, srv->queue_bytes, NULL, 0, &nl, 1);
	return sub_queue(s, srv->queue_bytes, line + sent, len - sent, &nl, 1);
}

static bool
sub_wants(const struct alert_sub *s, const char *event_type)
{
	if (s->n_types == 0)
		return true;
	for (unsigned t = 0; t < s->n_types; t++)
		if (event_type != NULL && strcmp(s->types[t], event_type) == 0)
			return true;
	return false;
}

void
alert_server_broadcast(struct alert_server *srv, const char *line, size_t len,
		       const char *event_type)
{
	srv->st.n_lines++;
	for (unsigned i = 0; i < srv->n_subs;) {
		int rc = sub_wants(&srv->subs[i], event_type)
				 ? sub_send_line(srv, &srv->subs[i], line, len)
				 : 0;

		if (rc == 0) {
			i++;
			continue;
		}
		if (rc == -ENOBUFS || rc == -ENOMEM) {
			srv->st.n_dropped_subscribers++;
			log_warn("alert socket %s: subscriber too slow, disconnected "
				 "(%zu bytes queued)", srv->path, srv->subs[i].len);
		} else {
			srv->st.n_closed_subscribers++;
		}
		sub_close(srv, i);  /* the last one moved into i: do not advance */
	}
}

static int
sub_find(const struct alert_server *srv, int fd)
{
	for (unsigned i = 0; i < srv->n_subs; i++)
		if (srv->subs[i].fd == fd)
			return (int)i;
	return -1;
}

/*
 * A complete request line: "types" and the names it lists (blanks or commas between them).
 * Anything else is not a request and changes nothing. Returns false for a refused one.
 */
static bool
sub_request(struct alert_sub *s, char *line)
{
	char names[ALERT_SERVER_TYPES_MAX][ALERT_SERVER_TYPE_NAME_MAX];
	unsigned n = 0;
	char *save = NULL;

	if (strncmp(line, "types", 5) != 0 || (line[5] != '\0' && line[5] != ' ' &&
						line[5] != '\t'))
		return true; /* not a request: discarded, as it always was */
	for (char *t = strtok_r(line + 5, " \t,", &save); t != NULL;
	     t = strtok_r(NULL, " \t,", &save)) {
		if (n == ALERT_SERVER_TYPES_MAX || strlen(t) >= ALERT_SERVER_TYPE_NAME_MAX)
			return false;
		strcpy(names[n++], t);
	}
	memcpy(s->types, names, sizeof(names));
	s->n_types = n;
	return true;
}

/* Take a subscriber's bytes: request lines are acted on, the rest discarded. */
static void
sub_take_input(struct alert_server *srv, struct alert_sub *s, const char *p, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (p[k] != '\n') {
			if (s->req_len + 1 < sizeof(s->req))
				s->req[s->req_len++] = p[k];
			else
				s->req_skip = true;
			continue;
		}
		if (s->req_len > 0 && s->req[s->req_len - 1] == '\r')
			s->req_len--; /* CRLF from telnet-like clients */
		s->req[s->req_len] = '\0';
		if (s->req_skip || !sub_request(s, s->req))
			srv->st.n_bad_requests++;
		else if (strncmp(s->req, "types", 5) == 0)
			srv->st.n_requests++;
		s->req_len = 0;
		s->req_skip = false;
	}
}

/* Read what a subscriber sent: its requests. -1 when it must be closed. */
static int
sub_drain_input(struct alert_server *srv, struct alert_sub *s)
{
	char scratch[4096];
	size_t total = 0;

	while (total < READ_DISCARD_PER_CALL) {
		ssize_t n = recv(s->fd, scratch, sizeof(scratch), MSG_DONTWAIT);

		if (n > 0) {
			sub_take_input(srv, s, scratch, (size_t)n);
			total += (size_t)n;
			continue;
		}
		if (n == 0) {
			/* Half-closed (e.g. `nc -N`): it may still read, keep sending. */
			s->rd_eof = true;
			return 0;
		}
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	}
	return 0;
}

static void
accept_new(struct alert_server *srv)
{
	for (int k = 0; k < ACCEPT_PER_CALL; k++) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("alert socket %s: accept: %s", srv->path, strerror(errno));
			return;
		}
		if (srv->n_subs == ALERT_SERVER_MAX_SUBSCRIBERS) {
			close(fd);
			srv->st.n_refused++;
			continue;
		}
		srv->subs[srv->n_subs++] = (struct alert_sub){ .fd = fd };
		srv->st.n_subscribers = srv->n_subs;
		srv->st.n_accepted++;
	}
}

void
alert_server_handle(struct alert_server *srv, const struct pollfd *fds, int n)
{
	bool listen_ready = false;

	for (int k = 0; k < n; k++) {
		short re = fds[k].revents;

		if (re == 0)
			continue;
		if (fds[k].fd == srv->listen_fd) {
			listen_ready = (re & POLLIN) != 0;
			continue;
		}
		int i = sub_find(srv, fds[k].fd);
		if (i < 0)
			continue;
		struct alert_sub *s = &srv->subs[i];
		bool broken = (re & (POLLERR | POLLNVAL | POLLHUP)) != 0;

		if (!broken && (re & POLLIN))
			broken = sub_drain_input(srv, s) < 0;
		if (!broken && (re & POLLOUT))
			broken = sub_flush(s) < 0;
		if (broken) {
			srv->st.n_closed_subscribers++;
			sub_close(srv, (unsigned)i);
		}
	}
	if (listen_ready)
		accept_new(srv);
}
