/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternd's network outputs, for sites that collect alerts with their own transport: syslog
 * (RFC 5424, control/syslog_out.h) and Redis (control/redis_out.h), each configured by its
 * key (syslog, redis) and off when it is empty. Every EVE line goes to each of them; none
 * ever blocks posternd: each queues up to output_queue_size bytes while its peer is slow or
 * away, reconnects by itself, and drops and counts beyond that. The alert socket and the EVE
 * file are not here: they are local and always kept. Control thread only.
 */
#pragma once

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"

#define OUTPUTS_MAX_POLLFDS 2

struct outputs;

/* Create those the config names. NULL with a message in err for a bad target. */
struct outputs *outputs_create(const struct postern_config *cfg, char *err, size_t errlen);
void outputs_destroy(struct outputs *o);

/* One EVE line (without newline) of event_type, stamped ts_us, to every output. */
void outputs_write(struct outputs *o, const char *line, size_t len, const char *event_type,
		   uint64_t ts_us);

/* The descriptors to poll (at most OUTPUTS_MAX_POLLFDS), and poll's results for them. */
int outputs_pollfds(struct outputs *o, struct pollfd *fds, int max);
void outputs_handle(struct outputs *o, const struct pollfd *fds, int n);

/* About once a second, now_ms from CLOCK_MONOTONIC: reconnects. */
void outputs_tick(struct outputs *o, uint64_t now_ms);

/* Lines the outputs hold, not yet delivered. */
uint64_t outputs_queued(const struct outputs *o);

/*
 * A clean stop: poll the outputs for at most timeout_ms, until nothing is queued. Returns
 * what is still queued then (lost when the outputs are destroyed; they log it).
 */
uint64_t outputs_drain(struct outputs *o, uint64_t timeout_ms);

/* {"syslog": {sent, dropped, ...}, "redis": {...}} for those configured; a new reference. */
json_t *outputs_stats_json(const struct outputs *o);
