/* SPDX-License-Identifier: BSD-3-Clause */
/* The dataplane's telemetry commands; see telemetry.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_spinlock.h>
#include <rte_telemetry.h>

#include "telemetry.h"

static struct {
	rte_spinlock_t lock;
	unsigned n_workers;
	bool inline_mode;
	bool published;
	bool connected;
	struct ipc_stats total;
	struct ipc_stats workers[IPC_MAX_WORKERS];
} tel = { .lock = RTE_SPINLOCK_INITIALIZER };

static void
add_counters(struct rte_tel_data *d, const struct ipc_stats *st)
{
	rte_tel_data_add_dict_u64(d, "rule_generation", st->gen_id);
	for (unsigned c = 0; c < IPC_C__COUNT; c++)
		rte_tel_data_add_dict_u64(d, ipc_counter_name((enum ipc_counter)c),
					  st->counters[c]);
}

static int
cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_spinlock_lock(&tel.lock);
	add_counters(d, &tel.total);
	rte_spinlock_unlock(&tel.lock);
	return 0;
}

static int
cmd_worker(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char *end;
	unsigned long w;

	(void)cmd;
	if (params == NULL || *params == '\0')
		return -EINVAL;
	errno = 0;
	w = strtoul(params, &end, 10);
	if (errno != 0 || *end != '\0' || w >= tel.n_workers)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	rte_spinlock_lock(&tel.lock);
	rte_tel_data_add_dict_u64(d, "worker", w);
	add_counters(d, &tel.workers[w]);
	rte_spinlock_unlock(&tel.lock);
	return 0;
}

static int
cmd_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	rte_spinlock_lock(&tel.lock);
	rte_tel_data_add_dict_u64(d, "workers", tel.n_workers);
	rte_tel_data_add_dict_string(d, "mode", tel.inline_mode ? "inline" : "passive");
	rte_tel_data_add_dict_u64(d, "rule_generation", tel.total.gen_id);
	rte_tel_data_add_dict_int(d, "posternd_connected", tel.connected);
	rte_tel_data_add_dict_int(d, "counters_published", tel.published);
	rte_spinlock_unlock(&tel.lock);
	return 0;
}

int
dp_telemetry_init(unsigned n_workers, bool inline_mode)
{
	if (n_workers > IPC_MAX_WORKERS)
		return -EINVAL;
	tel.n_workers = n_workers;
	tel.inline_mode = inline_mode;
	if (rte_telemetry_register_cmd("/postern/stats", cmd_stats,
				       "Postern dataplane counters, all workers. No parameters") ||
	    rte_telemetry_register_cmd("/postern/worker", cmd_worker,
				       "Postern counters of one worker. Parameter: worker index") ||
	    rte_telemetry_register_cmd("/postern/info", cmd_info,
				       "Postern dataplane: workers, mode, rule generation. No "
				       "parameters"))
		return -EEXIST;
	return 0;
}

void
dp_telemetry_publish(const struct ipc_stats *total, const struct ipc_stats *workers, unsigned n,
		     bool posternd_connected)
{
	if (n > tel.n_workers)
		n = tel.n_workers;
	rte_spinlock_lock(&tel.lock);
	tel.total = *total;
	memcpy(tel.workers, workers, n * sizeof(workers[0]));
	tel.connected = posternd_connected;
	tel.published = true;
	rte_spinlock_unlock(&tel.lock);
}
