/* SPDX-License-Identifier: BSD-3-Clause */
/* posternd control link, dataplane side; see ctl_link.h. Main lcore. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "ctl_link.h"
#include "ipc.h"
#include "log.h"

#define RECONNECT_MS 500

#define CTL_LINK_PENDING_ACKS 16 /* generations acked while the socket was full */

struct ctl_link {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	uint32_t seq;
	uint16_t n_workers;
	uint16_t hello_flags;
	uint64_t next_try_ms;
	uint64_t n_connects;
	bool warned;
	ctl_rules_fn on_rules;
	ctl_ack_fn on_ack;
	void *ctx;
	/*
	 * Acks the socket had no room for: the link also carries every record, and right after
	 * posternd compiled a pack it is full of them. An ack is never dropped; it waits here
	 * and goes out on the next poll.
	 */
	struct ipc_rules_ack pending[CTL_LINK_PENDING_ACKS];
	uint32_t n_pending;
};

struct ctl_link *
ctl_link_create(const char *path, uint16_t n_workers, uint16_t hello_flags, ctl_rules_fn on_rules,
		ctl_ack_fn on_ack, void *ctx)
{
	struct ctl_link *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	if (strlen(path) >= sizeof(l->path)) {
		free(l);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(l->path, path);
	l->fd = -1;
	l->n_workers = n_workers;
	l->hello_flags = hello_flags;
	l->on_rules = on_rules;
	l->on_ack = on_ack;
	l->ctx = ctx;
	return l;
}

static void
link_down(struct ctl_link *l)
{
	l->n_pending = 0; /* posternd sends the live generation again on the next hello */
	if (l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
		log_warn("control link to posternd lost; reconnecting");
	}
}

void
ctl_link_destroy(struct ctl_link *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

bool
ctl_link_is_up(const struct ctl_link *l)
{
	return l->fd >= 0;
}

uint64_t
ctl_link_connection(const struct ctl_link *l)
{
	return l->fd >= 0 ? l->n_connects : 0;
}

int
ctl_link_send(struct ctl_link *l, void *rec, size_t len)
{
	struct ipc_hdr *h = rec;

	if (l->fd < 0)
		return -ENOTCONN;
	h->seq = l->seq;
	if (send(l->fd, rec, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return -EAGAIN;
		link_down(l);
		return -ENOTCONN;
	}
	l->seq++;
	return 0;
}

static void
try_connect(struct ctl_link *l)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t now = clock_mono_ms();

	if (now < l->next_try_ms)
		return;
	l->next_try_ms = now + RECONNECT_MS;
	strcpy(sa.sun_path, l->path);

	/* non-blocking: a posternd whose backlog is full (hung, or busy accepting) must not
	 * hold the main lcore in connect(); EAGAIN is retried like any refusal */
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (!l->warned)
			log_warn("posternd not reachable at %s (%s); will keep trying", l->path,
				 strerror(errno));
		l->warned = true;
		close(fd);
		return;
	}
	l->fd = fd;
	l->n_connects++;
	l->warned = false;
	log_info("control link to posternd up (%s)", l->path);

	struct ipc_hello hello = {
		.pid = (uint32_t)getpid(), .n_workers = l->n_workers, .flags = l->hello_flags,
	};

	ipc_hdr_init(&hello.hdr, IPC_HELLO, sizeof(hello), 0);
	ctl_link_send(l, &hello, sizeof(hello));
}

static void
handle_rules(struct ctl_link *l, const struct ipc_rules *r, int fd)
{
	struct ipc_rules_ack ack = { .gen_id = r->gen_id };
	void *blob = MAP_FAILED;

	if (fd < 0 || r->blob_len == 0 || r->blob_len > (UINT64_C(1) << 32)) {
		ack.error = -EINVAL;
		goto reply;
	}
	blob = mmap(NULL, r->blob_len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (blob == MAP_FAILED) {
		ack.error = -errno;
		goto reply;
	}
	ack.error = l->on_rules(l->ctx, blob, r->blob_len, r->gen_id);
	munmap(blob, r->blob_len);
reply:
	if (fd >= 0)
		close(fd);
	ipc_hdr_init(&ack.hdr, IPC_RULES_ACK, sizeof(ack), 0);
	if (l->n_pending == 0 && ctl_link_send(l, &ack, sizeof(ack)) != -EAGAIN)
		return;
	if (l->n_pending == CTL_LINK_PENDING_ACKS) {
		/* only the newest matter to posternd: the oldest is given up, and said so */
		log_warn("control link: ack of rule generation %llu given up",
			 (unsigned long long)l->pending[0].gen_id);
		memmove(l->pending, l->pending + 1, sizeof(ack) * (CTL_LINK_PENDING_ACKS - 1));
		l->n_pending--;
	}
	l->pending[l->n_pending++] = ack;
}

/* Send the acks that waited, in order, as far as the socket takes them. */
static void
flush_acks(struct ctl_link *l)
{
	uint32_t sent = 0;

	while (sent < l->n_pending && ctl_link_send(l, &l->pending[sent], sizeof(l->pending[0])) == 0)
		sent++;
	if (l->fd < 0)
		return; /* link_down cleared them */
	memmove(l->pending, l->pending + sent, sizeof(l->pending[0]) * (l->n_pending - sent));
	l->n_pending -= sent;
}

void
ctl_link_poll(struct ctl_link *l)
{
	if (l->fd < 0) {
		try_connect(l);
		return;
	}
	if (l->n_pending > 0)
		flush_acks(l);
	for (;;) {
		_Alignas(8) uint8_t buf[256];
		union {
			struct cmsghdr hdr;
			char space[CMSG_SPACE(sizeof(int))];
		} ctrl;
		struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctrl.space,
			.msg_controllen = sizeof(ctrl.space),
		};
		ssize_t n = recvmsg(l->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			link_down(l);
			return;
		}

		int fd = -1;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(fd));

		const struct ipc_hdr *h = (const void *)buf;
		if ((msg.msg_flags & MSG_TRUNC) || ipc_hdr_check(buf, (size_t)n) < 0) {
			log_warn("control link: malformed record of %zd bytes dropped", n);
		} else if (h->type == IPC_RULES && (size_t)n == sizeof(struct ipc_rules)) {
			handle_rules(l, (const void *)buf, fd);
			fd = -1;
		} else if (h->type == IPC_ACK && (size_t)n == sizeof(struct ipc_ack)) {
			l->on_ack(l->ctx, ((const struct ipc_ack *)(const void *)buf)->seq);
		} else {
			log_warn("control link: unexpected record type %u dropped", h->type);
		}
		if (fd >= 0)
			close(fd);
	}
}
