/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bypass detection over the transaction records the dataplane sends: mail from the company's
 * own hosts (internal_clients) that goes around the sanctioned relays (sanctioned_relays), and
 * hosts that start speaking SMTP for the first time. It judges one record at a time and
 * returns findings; it does not write alerts (the caller turns findings into EVE alerts with
 * SID_BYPASS_RELAY / SID_BYPASS_NEW_HOST of builtin_sids.h) and does not look at the
 * message. The clock is the record's ts_us (capture time), never wall time, so a pcap replay
 * gives the same findings every time.
 *
 * Only records whose client (src_ip) is in internal_clients count, for both checks.
 *
 * RELAY_SKIPPED: dst_port is 25 or 587, the server (dst_ip) is not in sanctioned_relays, and
 * the client is not itself a sanctioned relay: the relay's own outbound delivery to the
 * Internet is its job, never a bypass. One (client IP, server IP) pair alerts at most once per
 * bypass_alert_interval seconds (0: every transaction); the finding carries the port of the
 * transaction that raised it, when the pair was first seen and how many transactions of the
 * pair there were since its last alert, this one included. Other ports (2525, 465, ...) are
 * never RELAY_SKIPPED. An empty sanctioned_relays turns this check off.
 *
 * NEW_SMTP_HOST: a client IP never seen before as an SMTP client, to any server and port.
 * During new_host_learning seconds after the first record this module sees (of any client),
 * hosts are learned silently; after that a new host is reported once, with the time it was
 * first seen. new_host_learning = 0 turns this check off.
 *
 * Memory: two tables allocated at creation and never grown, new_host_table entries each
 * (hosts, and pairs of the relay check), about 72 bytes an entry plus 8 bytes of index; no
 * allocation per record. When a table is full its least recently seen entry is evicted and
 * counted (bypass_evictions()). Consequences: an evicted host that speaks SMTP again is new
 * again and is reported again (after learning); an evicted pair alerts again at once, with
 * its first_seen_us and count restarted. Size new_host_table above the number of SMTP
 * clients of the network so that evictions stay at 0.
 *
 * Control thread of posternd only: nothing here is locked.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ipc.h"

enum bypass_kind {
	BYPASS_RELAY_SKIPPED = 1,
	BYPASS_NEW_SMTP_HOST = 2,
};

struct bypass_finding {
	uint8_t kind;            /* enum bypass_kind */
	uint8_t client_ip[16];   /* IPv4 as ::ffff:a.b.c.d, as in the record */
	uint8_t server_ip[16];
	uint16_t server_port;
	uint64_t first_seen_us;  /* NEW_SMTP_HOST: when the host was first seen (this record);
				  * RELAY: when this pair was first seen */
	uint64_t count;          /* RELAY: transactions of this pair since its last alert,
				  * this one included (>= 1); NEW_SMTP_HOST: 1 */
};

struct bypass;

/*
 * Build the detector from cfg: sanctioned_relays and internal_clients are address sets in
 * rule syntax (common/netset.h, with the default variables such as $HOME_NET), the three
 * numbers as in config.h; new_host_table must be 1 .. 1 << 24. Returns a new detector the
 * caller frees with bypass_destroy(), or NULL with errno EINVAL and "KEY: reason (column N)"
 * (or "KEY: reason") in err, or ENOMEM. cfg is only read during the call. Control thread.
 */
struct bypass *bypass_create(const struct postern_config *cfg, char *err, size_t errlen);

/* Free a detector; NULL is a no-op. Control thread. */
void bypass_destroy(struct bypass *b);

/*
 * Judge one transaction record (checked with ipc_tx_check; only its fixed part is read).
 * Writes 0, 1 or 2 findings to out and returns how many: NEW_SMTP_HOST first, then
 * RELAY_SKIPPED, when one record raises both. No allocation. Control thread.
 */
unsigned bypass_observe(struct bypass *b, const struct ipc_tx *tx, struct bypass_finding out[2]);

/* Entries evicted from either table because it was full, since creation. Control thread. */
uint64_t bypass_evictions(const struct bypass *b);
