/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's end of the control link to posternd (a SOCK_SEQPACKET Unix socket, records
 * from common/ipc.h). Connects and reconnects on its own, says hello, receives rule
 * generations as memfds, and sends records without ever blocking. Main lcore only.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_link;

/*
 * Called for each rule generation received; the blob is borrowed for the call. Returns 0 if
 * the generation went live, or a negative errno reported back to posternd.
 */
typedef int (*ctl_rules_fn)(void *ctx, const void *blob, size_t len, uint64_t gen_id);

/* Called for each acknowledgement: posternd has handled every record up to seq. */
typedef void (*ctl_ack_fn)(void *ctx, uint32_t seq);

/* hello_flags: IPC_HELLO_* sent in the hello on every connection. */
struct ctl_link *ctl_link_create(const char *path, uint16_t n_workers, uint16_t hello_flags,
				 ctl_rules_fn on_rules, ctl_ack_fn on_ack, void *ctx);
void ctl_link_destroy(struct ctl_link *l);

/* Connect if due, read what posternd sent. Never blocks. */
void ctl_link_poll(struct ctl_link *l);

bool ctl_link_is_up(const struct ctl_link *l);

/*
 * Which connection the link is on: 1 for the first, 2 after one reconnect... 0 while down.
 * A change means records sent on the old one may not have been handled.
 */
uint64_t ctl_link_connection(const struct ctl_link *l);

/*
 * Send one record; its header's seq is set here, and stays there for the caller to match
 * acknowledgements. 0, -EAGAIN when the socket is full (try again later), -ENOTCONN when
 * posternd is not there.
 */
int ctl_link_send(struct ctl_link *l, void *rec, size_t len);
