/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of posternd's stats object, the one
 * `posternctl stats --json` prints (control/main.c stats_json()). Every object section maps to
 * postern_<section>_<key>; the "workers" array to postern_worker_<key>{worker="N"} and the
 * "outputs" object to postern_output_<key>{output="NAME"}. Counters get the _total suffix,
 * gauges (a fixed table in prom_text.c) none. Integers, reals and booleans (0/1) are emitted;
 * any other value, and any key that would not make a valid metric name, is skipped.
 *
 * It does not serve HTTP (control/metrics_http.c does) nor gather the stats. Pure: jansson
 * only, no global state; any thread, posternd calls it from its control thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/*
 * Append the exposition of stats to *buf. On entry *buf is NULL (and *len 0) or a malloc'd
 * buffer holding *len bytes; on success it is a malloc'd buffer (never NULL) holding the old
 * bytes then the exposition, *len bytes in all, NUL-terminated past *len; the caller frees it.
 * An empty or non-object stats adds nothing. Returns 0, or -ENOMEM: then *buf is still the
 * caller's to free and *len is unchanged (what was appended is dropped).
 */
int prom_text_format(const json_t *stats, char **buf, size_t *len);

/* Whether s[0..n) is a valid Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*. */
bool prom_text_is_valid_name(const char *s, size_t n);
