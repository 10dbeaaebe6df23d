/* SPDX-License-Identifier: BSD-3-Clause */
/* posternd's detections over records; see findings.h. Main thread only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "anomaly_model.h"
#include "bypass.h"
#include "canspam.h"
#include "findings.h"

#define ALERTS_PER_CALL 16

struct findings {
	struct canspam_policy *canspam;
	struct bypass *bypass;
	struct anomaly_model *model;
	uint64_t latest_us;           /* the newest record time: the models' clock */
	struct findings_stats st;
};

struct findings *
findings_create(const struct postern_config *cfg, char *err, size_t errlen)
{
	struct findings *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->canspam = canspam_create(cfg, err, errlen);
	f->bypass = f->canspam != NULL ? bypass_create(cfg, err, errlen) : NULL;
	f->model = f->bypass != NULL ? anomaly_model_create(cfg, err, errlen) : NULL;
	if (f->model == NULL) {
		findings_destroy(f);
		return NULL;
	}
	return f;
}

void
findings_destroy(struct findings *f)
{
	if (f == NULL)
		return;
	canspam_destroy(f->canspam);
	bypass_destroy(f->bypass);
	anomaly_model_destroy(f->model);
	free(f);
}

static int
emit_anomalies(struct findings *f, const struct anomaly_alert *a, unsigned n, eve_line_fn emit,
	       void *emit_ctx)
{
	int lines = 0;

	for (unsigned i = 0; i < n; i++) {
		int rc = eve_format_anomaly_alert(&a[i], emit, emit_ctx);

		if (rc < 0)
			return rc;
		lines += rc;
		f->st.anomaly_alerts++;
	}
	return lines;
}

int
findings_observe(struct findings *f, const struct ipc_tx *tx, const struct eve_options *opt,
		 struct canspam_result *cs, eve_line_fn emit, void *emit_ctx)
{
	struct bypass_finding b[2];
	struct anomaly_alert a[ALERTS_PER_CALL];
	unsigned nb, na;
	int lines = 0, rc;

	if (tx->ts_us > f->latest_us)
		f->latest_us = tx->ts_us;
	canspam_check(f->canspam, tx, cs);
	rc = eve_format_canspam(tx, cs, opt, emit, emit_ctx);
	if (rc < 0)
		return rc;
	lines += rc;
	f->st.canspam_alerts += (uint64_t)rc;
	nb = bypass_observe(f->bypass, tx, b);
	for (unsigned i = 0; i < nb; i++) {
		rc = eve_format_bypass(tx, &b[i], opt, emit, emit_ctx);
		if (rc < 0)
			return rc;
		lines += rc;
		f->st.bypass_alerts++;
	}
	na = anomaly_model_observe(f->model, tx, a, ALERTS_PER_CALL);
	rc = emit_anomalies(f, a, na, emit, emit_ctx);
	return rc < 0 ? rc : lines + rc;
}

/*
 * Live records reach posternd a moment after their time (a transaction is sent when it ends,
 * through the dataplane's rings and the link): the wall clock runs this far behind, so that
 * a window is not closed under a record still on its way.
 */
#define LIVE_CLOCK_LAG_US 2000000

int
findings_tick(struct findings *f, uint64_t wall_us, eve_line_fn emit, void *emit_ctx)
{
	struct anomaly_alert a[ALERTS_PER_CALL];
	uint64_t clock = f->latest_us;
	unsigned n;

	if (wall_us > LIVE_CLOCK_LAG_US && wall_us - LIVE_CLOCK_LAG_US > clock)
		clock = wall_us - LIVE_CLOCK_LAG_US;
	if (clock == 0)
		return 0;
	n = anomaly_model_tick(f->model, clock, a, ALERTS_PER_CALL);
	return emit_anomalies(f, a, n, emit, emit_ctx);
}

void
findings_get_stats(const struct findings *f, struct findings_stats *st)
{
	*st = f->st;
	st->anomaly_dropped = anomaly_model_dropped(f->model);
	st->bypass_evictions = bypass_evictions(f->bypass);
}
