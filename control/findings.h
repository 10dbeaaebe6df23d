/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternd's own detections over the dataplane's transaction records, after each record's
 * rule and suppression alerts: CAN-SPAM checks of commercial messages and the header hygiene
 * of automated mail (canspam.h), mail sent around the sanctioned relays and hosts new to SMTP
 * (bypass.h), and rates far above their baselines (anomaly_model.h). Both run on the
 * records' own times, so a replayed capture gives the same alerts as the live traffic did.
 * posternd's main thread only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "eve.h"

struct findings;
struct postern_config;

struct findings_stats {
	uint64_t canspam_alerts;      /* commercial messages failing a check, broken automated mail */
	uint64_t bypass_alerts;
	uint64_t anomaly_alerts;
	uint64_t anomaly_dropped;     /* alerts past what one call could hand out */
	uint64_t bypass_evictions;    /* hosts or pairs forgotten for room */
};

/* NULL with "KEY: reason" in err when the configuration's sets cannot be compiled. */
struct findings *findings_create(const struct postern_config *cfg, char *err, size_t errlen);
void findings_destroy(struct findings *f);

struct canspam_result;

/*
 * One record: the alerts it shows, as EVE lines, and its CAN-SPAM result in *cs (for the
 * record's smtp event). The number of lines, or emit's error.
 */
int findings_observe(struct findings *f, const struct ipc_tx *tx, const struct eve_options *opt,
		     struct canspam_result *cs, eve_line_fn emit, void *emit_ctx);

/*
 * About once a second: windows that time has closed since the last record. wall_us: the
 * wall clock when the dataplane watches live traffic (IPC_HELLO_LIVE), so that a host that
 * falls silent after a flood has its window judged on time; 0 for captures, whose record
 * times are the only clock (a replay then alerts the same however fast it runs).
 */
int findings_tick(struct findings *f, uint64_t wall_us, eve_line_fn emit, void *emit_ctx);

void findings_get_stats(const struct findings *f, struct findings_stats *st);
