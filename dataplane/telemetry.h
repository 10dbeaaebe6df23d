/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands for the dataplane's counters, so that dpdk-telemetry.py and
 * whatever else speaks the telemetry socket see what posternctl stats shows:
 *
 *   /postern/stats           the sum over workers, with the main lcore's and the ports' own
 *   /postern/worker,N        worker N's counters
 *   /postern/info            workers, mode, rule generation, whether posternd is connected
 *
 * The telemetry thread never reads a counter while a worker writes it: the main lcore
 * publishes a copy once a second (what it sends posternd) and the commands answer from that
 * copy under a spinlock. Values are at most a second old. One instance per process (the
 * telemetry library has no way to unregister a command, nor a context pointer).
 */
#pragma once

#include <stdbool.h>

#include "ipc.h"

/* Register the commands. Start-up, main lcore; once. 0 or -errno. */
int dp_telemetry_init(unsigned n_workers, bool inline_mode);

/* Main lcore: publish the newest counters (total, and each worker's in workers[0..n)). */
void dp_telemetry_publish(const struct ipc_stats *total, const struct ipc_stats *workers,
			  unsigned n, bool posternd_connected);
