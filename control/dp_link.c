/* SPDX-License-Identifier: BSD-3-Clause */
/* Control link, posternd side; see dp_link.h. Control thread. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dp_link.h"
#include "log.h"
#include "peer_cred.h"

struct dp_peer {
	int fd;
	uint32_t next_seq;
	bool seq_known;
	bool ack_due;         /* records handled since the last acknowledgement went out */
};

#define DP_LINK_BATCH 16 /* records read per system call */

struct dp_link {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct dp_peer peers[DP_LINK_MAX_PEERS];
	const struct dp_link_ops *ops;
	void *ctx;
	struct dp_link_stats stats;
	/* Records arrive whole (SEQPACKET), a batch at a time (recvmmsg): one system call for up
	 * to DP_LINK_BATCH of them, the cost that bounds posternd at full rate. */
	_Alignas(8) uint8_t buf[DP_LINK_BATCH][IPC_RECORD_MAX];
};

struct dp_link *
dp_link_create(const char *path, const struct dp_link_ops *ops, void *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct dp_link *l;
	struct stat st;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	strcpy(l->path, path);
	strcpy(sa.sun_path, path);
	l->ops = ops;
	l->ctx = ctx;
	for (int i = 0; i < DP_LINK_MAX_PEERS; i++)
		l->peers[i].fd = -1;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	l->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->listen_fd < 0)
		goto fail;
	if (bind(l->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(l->listen_fd, 4) < 0)
		goto fail;
	return l;
fail:;
	int saved = errno;
	dp_link_destroy(l);
	errno = saved;
	return NULL;
}

static void
peer_close(struct dp_link *l, int i)
{
	close(l->peers[i].fd);
	l->peers[i].fd = -1;
	l->peers[i].seq_known = false;
	l->peers[i].ack_due = false;
}

/*
 * Tell the dataplane every record read so far is handled (the callbacks wrote it to the
 * outputs), so it may free them. A full socket costs nothing: the next one covers it.
 */
static void
send_ack(struct dp_link *l, int i)
{
	struct dp_peer *p = &l->peers[i];
	struct ipc_ack ack = { .seq = p->next_seq - 1 };

	if (!p->ack_due)
		return;
	ipc_hdr_init(&ack.hdr, IPC_ACK, sizeof(ack), 0);
	if (send(p->fd, &ack, sizeof(ack), MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(ack))
		p->ack_due = false;
}

void
dp_link_tick(struct dp_link *l)
{
	for (int i = 0; i < DP_LINK_MAX_PEERS; i++)
		if (l->peers[i].fd >= 0)
			send_ack(l, i);
}

void
dp_link_destroy(struct dp_link *l)
{
	if (l == NULL)
		return;
	for (int i = 0; i < DP_LINK_MAX_PEERS; i++)
		if (l->peers[i].fd >= 0)
			peer_close(l, i);
	if (l->listen_fd >= 0) {
		close(l->listen_fd);
		unlink(l->path);
	}
	free(l);
}

int
dp_link_npollfds(void)
{
	return 1 + DP_LINK_MAX_PEERS;
}

int
dp_link_pollfds(const struct dp_link *l, struct pollfd *fds, int max)
{
	int n = 0;

	if (n < max)
		fds[n++] = (struct pollfd){ .fd = l->listen_fd, .events = POLLIN };
	for (int i = 0; i < DP_LINK_MAX_PEERS && n < max; i++)
		if (l->peers[i].fd >= 0)
			fds[n++] = (struct pollfd){ .fd = l->peers[i].fd, .events = POLLIN };
	return n;
}

static void
accept_peer(struct dp_link *l)
{
	int fd = accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	uid_t uid = 0;

	if (fd < 0)
		return;
	if (peer_cred_check(fd, &uid) < 0) {
		log_warn("control link: refused a connection from uid %u (neither root nor "
			 "posternd's user)", (unsigned)uid);
		l->stats.n_refused++;
		close(fd);
		return;
	}
	for (int i = 0; i < DP_LINK_MAX_PEERS; i++) {
		if (l->peers[i].fd < 0) {
			l->peers[i].fd = fd;
			l->stats.n_connects++;
			return;
		}
	}
	log_warn("control link: more than %d dataplanes connected; refusing one",
		 DP_LINK_MAX_PEERS);
	close(fd);
}

static void
dispatch(struct dp_link *l, int i, const uint8_t *buf, size_t n)
{
	struct dp_peer *p = &l->peers[i];
	const struct ipc_hdr *h = (const void *)buf;

	if (ipc_hdr_check(buf, n) < 0) {
		l->stats.n_invalid++;
		return;
	}
	if (p->seq_known && h->seq != p->next_seq)
		l->stats.n_seq_gaps += (uint32_t)(h->seq - p->next_seq);
	p->seq_known = true;
	p->next_seq = h->seq + 1;
	p->ack_due = true;
	l->stats.n_records++;

	switch (h->type) {
	case IPC_HELLO:
		if (n == sizeof(struct ipc_hello) && l->ops->on_hello != NULL)
			l->ops->on_hello(l->ctx, i, (const void *)buf);
		return;
	case IPC_TX:
		if (ipc_tx_check(buf, n) < 0) {
			l->stats.n_invalid++;
			return;
		}
		l->ops->on_tx(l->ctx, (const void *)buf, n);
		return;
	case IPC_EVENT:
		if (ipc_event_check(buf, n) < 0) {
			l->stats.n_invalid++;
			return;
		}
		if (l->ops->on_event != NULL)
			l->ops->on_event(l->ctx, (const void *)buf);
		return;
	case IPC_STATS:
		if (n == sizeof(struct ipc_stats) && l->ops->on_stats != NULL)
			l->ops->on_stats(l->ctx, (const void *)buf);
		return;
	case IPC_SPOOL:
		if (n != sizeof(struct ipc_spool)) {
			l->stats.n_invalid++;
			return;
		}
		if (l->ops->on_spool != NULL)
			l->ops->on_spool(l->ctx, (const void *)buf);
		return;
	case IPC_RULES_ACK:
		if (n == sizeof(struct ipc_rules_ack) && l->ops->on_rules_ack != NULL)
			l->ops->on_rules_ack(l->ctx, (const void *)buf);
		return;
	case IPC_BYE:
		if (l->ops->on_bye != NULL)
			l->ops->on_bye(l->ctx, i);
		return;
	default:
		l->stats.n_invalid++;
	}
}

static void
read_peer(struct dp_link *l, int i)
{
	struct mmsghdr msgs[DP_LINK_BATCH];
	struct iovec iov[DP_LINK_BATCH];

	/* Bounded: a busy dataplane cannot keep posternd from its other sockets. */
	for (int round = 0; round < 256 / DP_LINK_BATCH && l->peers[i].fd >= 0; round++) {
		for (int k = 0; k < DP_LINK_BATCH; k++) {
			iov[k] = (struct iovec){ .iov_base = l->buf[k], .iov_len = IPC_RECORD_MAX };
			msgs[k] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[k], .msg_iovlen = 1 } };
		}
		int got = recvmmsg(l->peers[i].fd, msgs, DP_LINK_BATCH, MSG_DONTWAIT, NULL);

		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (got <= 0) {
			log_info("dataplane disconnected");
			peer_close(l, i);
			return;
		}
		for (int k = 0; k < got; k++) {
			if (msgs[k].msg_len == 0) { /* the peer's end of stream */
				log_info("dataplane disconnected");
				peer_close(l, i);
				return;
			}
			if (msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
				l->stats.n_invalid++;
				continue;
			}
			dispatch(l, i, l->buf[k], msgs[k].msg_len);
			if (l->peers[i].fd < 0)
				return; /* a bye closed it */
		}
		send_ack(l, i);
		if (got < DP_LINK_BATCH)
			return;
	}
}

void
dp_link_handle(struct dp_link *l, const struct pollfd *fds, int n)
{
	for (int k = 0; k < n; k++) {
		if (fds[k].revents == 0)
			continue;
		if (fds[k].fd == l->listen_fd) {
			accept_peer(l);
			continue;
		}
		for (int i = 0; i < DP_LINK_MAX_PEERS; i++)
			if (l->peers[i].fd == fds[k].fd)
				read_peer(l, i);
	}
}

static void
send_rules(struct dp_link *l, int i, int memfd, size_t len, uint64_t gen_id)
{
	struct ipc_rules r = { .gen_id = gen_id, .blob_len = len };
	union {
		struct cmsghdr hdr;
		char space[CMSG_SPACE(sizeof(int))];
	} ctrl = { 0 };
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctrl.space,
		.msg_controllen = sizeof(ctrl.space),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	ipc_hdr_init(&r.hdr, IPC_RULES, sizeof(r), 0);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &memfd, sizeof(int));
	if (sendmsg(l->peers[i].fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_warn("sending rule generation %llu to the dataplane: %s",
			 (unsigned long long)gen_id, strerror(errno));
}

void
dp_link_send_rules(struct dp_link *l, int peer, int memfd, size_t len, uint64_t gen_id)
{
	for (int i = 0; i < DP_LINK_MAX_PEERS; i++)
		if (l->peers[i].fd >= 0 && (peer < 0 || peer == i))
			send_rules(l, i, memfd, len, gen_id);
}

void
dp_link_get_stats(const struct dp_link *l, struct dp_link_stats *out)
{
	*out = l->stats;
}

unsigned
dp_link_n_peers(const struct dp_link *l)
{
	unsigned n = 0;

	for (int i = 0; i < DP_LINK_MAX_PEERS; i++)
		n += l->peers[i].fd >= 0;
	return n;
}
