/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * postern-dataplane: EAL and port start-up, worker launch, and the main lcore's loop: the
 * control link to posternd, moving transaction records from the workers' rings to it, stats
 * once a second, publishing rule generations and retiring old ones after an RCU grace period
 * and their last pin. Start-up errors exit with a message; after start nothing here exits on
 * bad input.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "bpf/postern_steer.h"
#include "canspam.h"
#include "clock.h"
#include "ctl_link.h"
#include "dp.h"
#include "event_spool.h"
#include "flow_table.h"
#include "ipc.h"
#include "log.h"
#include "pcap_link.h"
#include "port.h"
#include "privdrop.h"
#include "scan.h"
#include "supp_watch.h"
#include "telemetry.h"
#include "suppress_db.h"
#include "worker.h"
#include "xdp_steer.h"

#define MAX_EAL_ARGS 64
#define MAX_RETIRED 16

static volatile sig_atomic_t got_signal;

struct retired_gen {
	struct scan_gen *gen;
	uint64_t token;
};

struct main_state {
	struct dp *dp;
	struct ctl_link *link;
	struct supp_watch *supp_watch;
	struct retired_gen retired[MAX_RETIRED];
	unsigned n_retired;
	struct ipc_hdr *pending;         /* a record (transaction or anomaly) the socket could
					  * not take yet */
	struct event_spool *spool;       /* records until posternd acknowledges them */
	uint64_t conn;                   /* the link's connection they were sent on */
	struct ipc_spool outage;         /* the last outage, to tell posternd */
	bool outage_due;
	bool giving_up;                  /* the end: records no longer wait for room */
	uint32_t exit_idle_ms;
	uint32_t wait_rules_ms;
	uint32_t duration_s;
	uint64_t started_us;             /* when the workers were let receive */
};

struct options {
	const char *config;
	char *vdevs[DP_MAX_PORTS];
	unsigned n_vdevs;
	const char *xdp_ifaces[DP_MAX_PORTS]; /* --xdp: their vdevs get the program later */
	unsigned xdp_vdev[DP_MAX_PORTS];      /* ... at these indexes of vdevs */
	unsigned n_xdp;
	bool offline;
	bool has_link;               /* --pcap: the files' link type, which the vdev does not say */
	enum decode_link link;
	uint32_t exit_idle_ms;
	uint32_t wait_rules_ms;
	uint32_t duration_s;
	int eal_argc;
	char **eal_argv;
};

static void
on_signal(int sig)
{
	got_signal = sig;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: postern-dataplane [-c CONFIG] [--pcap FILE]... [--iface IF]...\n"
		"                         [--exit-idle MS] [--wait-rules MS] [-- EAL-ARGS...]\n"
		"\n"
		"  -c, --config FILE   postern.conf (default /etc/postern/postern.conf)\n"
		"      --pcap FILE     read a capture (pcap vdev); implies --exit-idle 500\n"
		"      --iface IF      inspect a live interface (af_packet vdev)\n"
		"      --xdp IF        a port of the hybrid inline mode: af_xdp on IF with the XDP\n"
		"                      steering program (xdp_program); the kernel bridges the rest\n"
		"      --exit-idle MS  stop once no packet arrived for MS milliseconds\n"
		"      --wait-rules MS wait up to MS for posternd's first rule generation before\n"
		"                      receiving (default: 10000 with --pcap, 0 otherwise)\n"
		"      --duration S    stop after S seconds of receiving (benchmarks)\n"
		"  -h, --help          this text\n"
		"\n"
		"EAL arguments after -- are added to the defaults: --no-pci --no-huge -m 512*N\n"
		"--no-shconf, and -l 0-N for N workers unless -l or --lcores is given.\n");
}

static int
parse_u32(const char *s, uint32_t *out)
{
	char *end;

	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void
number_option(const char *name, const char *arg, uint32_t *out)
{
	if (parse_u32(arg, out) < 0) {
		fprintf(stderr, "postern-dataplane: --%s: '%s' is not a number\n", name, arg);
		exit(2);
	}
}

/* A vdev argument "DRIVER<n>,KEY=ARG[,EXTRA]" for the n-th input. */
static void
add_vdev(struct options *o, const char *driver, const char *key, const char *arg,
	 const char *extra)
{
	char buf[512];

	/* EAL splits vdev arguments at commas and '=': such a path cannot be passed. */
	if (strpbrk(arg, ",=") != NULL) {
		fprintf(stderr, "postern-dataplane: %s: a path with ',' or '=' cannot be given to "
				"DPDK's %s driver; rename or link it\n", arg, driver);
		exit(2);
	}
	if (o->n_vdevs == DP_MAX_PORTS) {
		fprintf(stderr, "postern-dataplane: at most %d inputs\n", DP_MAX_PORTS);
		exit(2);
	}
	snprintf(buf, sizeof(buf), "%s%u,%s=%s%s%s", driver, o->n_vdevs, key, arg,
		 extra[0] != '\0' ? "," : "", extra);
	o->vdevs[o->n_vdevs++] = strdup(buf);
}

/*
 * A capture file says what its frames start with; the pcap vdev does not pass it on, so the
 * decoder is told here. Files of different link types cannot share one port's decoder.
 */
static void
pcap_link_option(struct options *o, const char *path)
{
	enum decode_link link;
	char err[512];

	if (pcap_link_type(path, &link, err, sizeof(err)) < 0) {
		fprintf(stderr, "postern-dataplane: %s\n", err);
		exit(2);
	}
	if (o->has_link && link != o->link) {
		fprintf(stderr, "postern-dataplane: %s: its link type differs from the other "
			"--pcap files'\n", path);
		exit(2);
	}
	o->has_link = true;
	o->link = link;
}

static void
parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "iface", required_argument, NULL, 'i' },
		{ "xdp", required_argument, NULL, 'X' },
		{ "exit-idle", required_argument, NULL, 'x' },
		{ "wait-rules", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool wait_given = false;
	int c;

	o->config = "/etc/postern/postern.conf";
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'p':
			if (access(optarg, R_OK) != 0) {
				fprintf(stderr, "postern-dataplane: %s: %s\n", optarg, strerror(errno));
				exit(2);
			}
			pcap_link_option(o, optarg);
			add_vdev(o, "net_pcap", "rx_pcap", optarg, "");
			o->offline = true;
			if (o->exit_idle_ms == 0)
				o->exit_idle_ms = 500;
			break;
		case 'i':
			add_vdev(o, "net_af_packet", "iface", optarg, "framecnt=8192");
			break;
		case 'X':
			o->xdp_ifaces[o->n_xdp] = optarg;
			o->xdp_vdev[o->n_xdp++] = o->n_vdevs;
			add_vdev(o, "net_af_xdp", "iface", optarg, "start_queue=0,queue_count=1");
			break;
		case 'x':
			number_option("exit-idle", optarg, &o->exit_idle_ms);
			break;
		case 'w':
			number_option("wait-rules", optarg, &o->wait_rules_ms);
			wait_given = true;
			break;
		case 'd':
			number_option("duration", optarg, &o->duration_s);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (!wait_given)
		o->wait_rules_ms = o->offline ? 10000 : 0;
	o->eal_argc = argc - optind;
	o->eal_argv = argv + optind;
}

/*
 * The --xdp ports: their vdevs name the steering program, and a program a killed dataplane
 * left attached is removed first (the af_xdp PMD attaches over none; until now it has kept
 * the mail flowing through the bridge, see xdp_steer.h).
 */
static void
prepare_xdp_ports(struct options *o, const struct postern_config *cfg)
{
	const char *prog = cfg->xdp_program[0] != '\0' ? cfg->xdp_program : POSTERN_XDP_PROGRAM;
	char buf[512], err[256];

	for (unsigned i = 0; i < o->n_xdp; i++) {
		unsigned v = o->xdp_vdev[i];
		int rc = xdp_steer_detach_stale(o->xdp_ifaces[i], err, sizeof(err));

		if (rc < 0) {
			fprintf(stderr, "postern-dataplane: %s\n", err);
			exit(2);
		}
		if (rc > 0)
			log_warn("%s: removed the steering program a previous run left attached",
				 o->xdp_ifaces[i]);
		if (strpbrk(prog, ",=") != NULL || access(prog, R_OK) != 0) {
			fprintf(stderr, "postern-dataplane: xdp_program %s: %s\n", prog,
				strpbrk(prog, ",=") != NULL ? "',' and '=' cannot be passed to DPDK"
							  : strerror(errno));
			exit(2);
		}
		snprintf(buf, sizeof(buf), "%s,xdp_prog=%s", o->vdevs[v], prog);
		free(o->vdevs[v]);
		o->vdevs[v] = strdup(buf);
	}
}

/* The --xdp ports are up: their programs steer the configured ports, not the defaults. */
static void
steer_configured_ports(const struct options *o, const struct postern_config *cfg)
{
	char err[256];

	_Static_assert(CONFIG_MAX_PORTS <= POSTERN_STEER_MAX_PORTS, "every port fits the map");
	for (unsigned i = 0; i < o->n_xdp; i++) {
		if (xdp_steer_set_ports(o->xdp_ifaces[i], cfg->inspect_ports, cfg->n_inspect_ports,
					err, sizeof(err)) < 0)
			log_warn("%s (the program steers ports 25 and 587 only)", err);
		else
			log_info("%s: XDP steers TCP of the %u inspected ports to the dataplane",
				 o->xdp_ifaces[i], cfg->n_inspect_ports);
	}
}

/* The project's EAL defaults, our inputs, then whatever the user added after --. */
static int
build_eal_args(const struct options *o, unsigned n_workers, char *prog, char **out)
{
	static char lcores[64], mem[16];
	bool has_lcores = false;
	int n = 0;

	/* each worker's tables and its share of the record pool fit in 512 MB with the default
	 * sizes; without hugepages the memory is only mapped, it costs what is touched */
	snprintf(mem, sizeof(mem), "%u", 512 * n_workers);
	out[n++] = prog;
	out[n++] = "--no-pci";
	out[n++] = "--no-huge";
	out[n++] = "-m";
	out[n++] = mem;
	out[n++] = "--no-shconf";
	out[n++] = "--log-level=lib.eal:warning";
	for (unsigned i = 0; i < o->n_vdevs; i++) {
		out[n++] = "--vdev";
		out[n++] = o->vdevs[i];
	}
	for (int i = 0; i < o->eal_argc && n < MAX_EAL_ARGS - 2; i++) {
		const char *a = o->eal_argv[i];

		has_lcores |= strcmp(a, "-l") == 0 || strncmp(a, "--lcores", 8) == 0 ||
			      strncmp(a, "-l", 2) == 0 || strcmp(a, "-c") == 0;
		out[n++] = o->eal_argv[i];
	}
	if (!has_lcores) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		/* More lcores than CPUs (a small machine): let them share the CPUs there are. */
		if (cpus > 0 && (long)n_workers + 1 > cpus)
			snprintf(lcores, sizeof(lcores), "--lcores=(0-%u)@(0-%ld)", n_workers, cpus - 1);
		else
			snprintf(lcores, sizeof(lcores), "-l0-%u", n_workers);
		out[n++] = lcores;
	}
	out[n] = NULL;
	return n;
}

static int
install_rules(void *ctx, const void *blob, size_t len, uint64_t gen_id)
{
	struct main_state *ms = ctx;
	struct dp *dp = ms->dp;
	char err[256];

	if (ms->n_retired == MAX_RETIRED) {
		log_warn("rule generation %llu refused: %u old generations still in use",
			 (unsigned long long)gen_id, MAX_RETIRED);
		return -EBUSY;
	}

	struct scan_gen *g = scan_gen_load(blob, len, dp->n_workers, err, sizeof(err));
	if (g == NULL) {
		log_err("rule generation %llu refused: %s", (unsigned long long)gen_id, err);
		return -EINVAL;
	}

	struct scan_gen *old = atomic_exchange_explicit(&dp->live_gen, g, memory_order_acq_rel);
	if (old != NULL) {
		ms->retired[ms->n_retired].gen = old;
		ms->retired[ms->n_retired].token = rte_rcu_qsbr_start(dp->rcu);
		ms->n_retired++;
	}
	log_info("rule generation %llu live: %u rules", (unsigned long long)gen_id,
		 scan_gen_n_rules(g));
	return 0;
}

/* Free generations no worker can still see (RCU) and no transaction still pins. */
static void
retire_generations(struct main_state *ms)
{
	for (unsigned i = 0; i < ms->n_retired;) {
		struct retired_gen *r = &ms->retired[i];

		if (rte_rcu_qsbr_check(ms->dp->rcu, r->token, false) == 1 &&
		    !scan_gen_is_pinned(r->gen)) {
			log_info("rule generation %llu freed", (unsigned long long)scan_gen_id(r->gen));
			scan_gen_destroy(r->gen);
			ms->retired[i] = ms->retired[--ms->n_retired];
		} else {
			i++;
		}
	}
}

static void
on_ack(void *ctx, uint32_t seq)
{
	struct main_state *ms = ctx;

	event_spool_ack(ms->spool, seq);
}

/*
 * The end of an outage goes to posternd as soon as the socket has room; it is never
 * dropped, and outages that end before it went out are added up.
 */
static void
report_outage(struct main_state *ms)
{
	struct event_spool_outage o;

	if (event_spool_end_outage(ms->spool, &o) && (o.n_kept > 0 || o.n_dropped > 0)) {
		if (!ms->outage_due)
			ms->outage = (struct ipc_spool){ .started_us = o.started_us };
		ms->outage_due = true;
		ms->outage.ended_us = clock_wall_us();
		ms->outage.n_kept += o.n_kept;
		ms->outage.n_dropped += o.n_dropped;
		ms->outage.bytes_dropped += o.bytes_dropped;
	}
	if (!ms->outage_due)
		return;
	ipc_hdr_init(&ms->outage.hdr, IPC_SPOOL, sizeof(ms->outage), 0);
	if (ctl_link_send(ms->link, &ms->outage, sizeof(ms->outage)) == 0)
		ms->outage_due = false;
}

/*
 * Send what waits in the spool, oldest first, as far as the link takes it. When the
 * connection the spool's records went out on is gone, posternd may not have handled them:
 * they are sent again, first, on the next one.
 */
static void
send_spooled(struct main_state *ms)
{
	uint64_t conn = ctl_link_connection(ms->link);
	size_t len;
	void *rec;

	if (conn != ms->conn) {
		if (ms->conn != 0)
			event_spool_link_down(ms->spool, clock_wall_us());
		if (conn != 0)
			event_spool_link_up(ms->spool);
		ms->conn = conn;
	}
	if (conn == 0)
		return;
	while ((rec = event_spool_next_unsent(ms->spool, &len)) != NULL) {
		if (ctl_link_send(ms->link, rec, len) != 0)
			break; /* full: later; gone: seen as a new connection next time */
		event_spool_sent(ms->spool, ((const struct ipc_hdr *)rec)->seq);
	}
	report_outage(ms);
}

/*
 * Move the record taken from a worker's ring into the spool. Live, one the spool has no
 * room for is dropped and counted: the workers must go on. Offline (reading captures) it
 * waits for room instead, which holds the workers back: a replay loses nothing, unless a
 * signal interrupted it (posternd may never come back to make room).
 */
static void
spool_pending(struct main_state *ms)
{
	if (ms->pending == NULL)
		return;
	if (ms->dp->offline && !atomic_load(&ms->dp->interrupted) && !ms->giving_up &&
	    !event_spool_has_room(ms->spool, ms->pending->len))
		return;
	event_spool_push(ms->spool, ms->pending, ms->pending->len);
	rte_mempool_put(ms->dp->tx_pool, ms->pending);
	ms->pending = NULL;
}

/* Move records from the workers' rings into the spool, then send what it holds. Returns how many
 * were moved. */
static unsigned
forward_events(struct main_state *ms)
{
	struct dp *dp = ms->dp;
	unsigned moved = 0;

	spool_pending(ms);
	for (unsigned w = 0; w < dp->n_workers; w++) {
		for (unsigned i = 0; i < 4 * DP_BURST && ms->pending == NULL; i++) {
			void *rec;

			if (rte_ring_sc_dequeue(dp->workers[w]->events, &rec) != 0)
				break;
			ms->pending = rec;
			spool_pending(ms);
			moved++;
		}
	}
	send_spooled(ms);
	return moved;
}

/* One worker's counters as a stats record of its own, for per-worker views. */
static void
worker_stats(const struct dp *dp, const struct worker *w, struct ipc_stats *st)
{
	memset(st, 0, sizeof(*st));
	ipc_hdr_init(&st->hdr, IPC_STATS, sizeof(*st), 0);
	st->n_workers = (uint16_t)dp->n_workers;
	st->n_counters = IPC_C__COUNT;
	st->worker = (uint16_t)w->idx;
	st->gen_id = atomic_load_explicit(&w->gen_id, memory_order_relaxed);
	memcpy(st->counters, w->env.counters, sizeof(st->counters));
}

/* The workers' counters summed, with the main lcore's and the ports'. */
static void
total_stats(const struct dp *dp, const struct event_spool *spool, struct ipc_stats *st)
{
	struct scan_gen *g = atomic_load(&dp->live_gen);
	struct event_spool_stats ss;

	memset(st, 0, sizeof(*st));
	ipc_hdr_init(&st->hdr, IPC_STATS, sizeof(*st), 0);
	st->n_workers = (uint16_t)dp->n_workers;
	st->n_counters = IPC_C__COUNT;
	st->worker = IPC_STATS_ALL;
	st->gen_id = g != NULL ? scan_gen_id(g) : 0;
	for (unsigned w = 0; w < dp->n_workers; w++)
		for (int c = 0; c < IPC_C__COUNT; c++)
			st->counters[c] += dp->workers[w]->env.counters[c];
	event_spool_get_stats(spool, &ss);
	st->counters[IPC_C_EVENTS_DROPPED] += ss.n_dropped;
	st->counters[IPC_C_EVENTS_SENT] = ss.n_sent;
	st->counters[IPC_C_EVENTS_RESENT] = ss.n_resent;
	st->counters[IPC_C_SPOOL_DROPPED] = ss.n_dropped;
	st->counters[IPC_C_SPOOL_RECORDS] = ss.n_records;
	st->counters[IPC_C_SPOOL_BYTES] = ss.bytes;
	/* what the ports lost before any worker saw it: "no packet dropped" is checked here */
	for (unsigned p = 0; p < dp->n_ports; p++) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(dp->ports[p], &es) != 0)
			continue;
		st->counters[IPC_C_PORT_RX_MISSED] += es.imissed;
		st->counters[IPC_C_PORT_RX_ERRORS] += es.ierrors;
		st->counters[IPC_C_PORT_RX_NO_MBUF] += es.rx_nombuf;
	}
}

/* Once a second and at the end: to posternd (each worker, then the sum) and telemetry. */
static void
send_stats(struct main_state *ms)
{
	static struct ipc_stats workers[DP_MAX_WORKERS];
	struct ipc_stats st;

	for (unsigned w = 0; w < ms->dp->n_workers; w++) {
		worker_stats(ms->dp, ms->dp->workers[w], &workers[w]);
		ctl_link_send(ms->link, &workers[w], sizeof(workers[w]));
	}
	total_stats(ms->dp, ms->spool, &st);
	ctl_link_send(ms->link, &st, sizeof(st));
	dp_telemetry_publish(&st, workers, ms->dp->n_workers, ctl_link_is_up(ms->link));
}

static bool
input_idle(struct main_state *ms, uint64_t now)
{
	struct dp *dp = ms->dp;

	if (ms->exit_idle_ms == 0 || !atomic_load(&dp->started))
		return false;
	for (unsigned w = 0; w < dp->n_workers; w++) {
		struct worker *wk = dp->workers[w];

		if (now - atomic_load(&wk->last_rx_us) < (uint64_t)ms->exit_idle_ms * 1000 ||
		    rte_ring_count(wk->dispatch) > 0)
			return false;
	}
	return true;
}

/* One line for operators and scripts/bench: what went through, from start to last packet. */
static void
report_throughput(const struct main_state *ms)
{
	const struct dp *dp = ms->dp;
	uint64_t pkts = 0, bytes = 0, last = ms->started_us;

	for (unsigned w = 0; w < dp->n_workers; w++) {
		pkts += dp->workers[w]->env.counters[IPC_C_RX_PACKETS];
		bytes += dp->workers[w]->env.counters[IPC_C_RX_BYTES];
		if (atomic_load(&dp->workers[w]->last_rx_us) > last)
			last = atomic_load(&dp->workers[w]->last_rx_us);
	}

	double secs = (double)(last - ms->started_us) / 1e6;
	if (secs <= 0 || pkts == 0)
		return;
	log_info("throughput: %llu packets, %llu bytes in %.3f s: %.3f Mpps, %.3f Gbit/s",
		 (unsigned long long)pkts, (unsigned long long)bytes, secs, (double)pkts / secs / 1e6,
		 (double)bytes * 8 / secs / 1e9);
}

static bool
workers_done(const struct dp *dp)
{
	for (unsigned w = 0; w < dp->n_workers; w++)
		if (!atomic_load(&dp->workers[w]->done))
			return false;
	return true;
}

static bool
rings_empty(const struct dp *dp)
{
	for (unsigned w = 0; w < dp->n_workers; w++)
		if (rte_ring_count(dp->workers[w]->events) > 0)
			return false;
	return true;
}

/*
 * The workers have flushed their flows: deliver every last record, and wait for posternd
 * to acknowledge them, for at most LAST_RECORDS_MS, or LINK_GRACE_MS without a link (time
 * to reconnect to a posternd that is restarting). What is still held then is given up,
 * counted as dropped and said.
 */
#define LAST_RECORDS_MS 5000
#define LINK_GRACE_MS 2000

static void
deliver_last_records(struct main_state *ms)
{
	uint64_t start = clock_wall_us(), down_since = 0;

	for (;;) {
		uint64_t now = clock_wall_us();

		ctl_link_poll(ms->link);
		forward_events(ms);
		if (ms->pending == NULL && rings_empty(ms->dp) && event_spool_empty(ms->spool))
			return;
		if (ctl_link_is_up(ms->link))
			down_since = 0;
		else if (down_since == 0)
			down_since = now;
		if (now - start >= LAST_RECORDS_MS * 1000ull ||
		    (down_since != 0 && now - down_since >= LINK_GRACE_MS * 1000ull))
			break;
		usleep(1000);
	}
	ms->giving_up = true; /* an offline spool no longer waits for room */
	while (ms->pending != NULL || !rings_empty(ms->dp))
		forward_events(ms);

	struct event_spool_stats ss;

	event_spool_get_stats(ms->spool, &ss);
	uint64_t unsent = ss.n_unsent, held = event_spool_abandon(ms->spool);
	log_err("%llu record(s) given up: posternd did not acknowledge them in time (%llu never "
		"sent, the rest sent but perhaps not handled)", (unsigned long long)held,
		(unsigned long long)unsent);
}

static void
main_loop(struct main_state *ms)
{
	struct dp *dp = ms->dp;
	uint64_t start = clock_wall_us();
	uint64_t next_stats = start + 1000000;

	while (!workers_done(dp)) {
		uint64_t now = clock_wall_us();

		atomic_store_explicit(&dp->wall_us, now, memory_order_relaxed);
		ctl_link_poll(ms->link);
		if (!atomic_load(&dp->started) &&
		    (atomic_load(&dp->live_gen) != NULL ||
		     now - start >= (uint64_t)ms->wait_rules_ms * 1000)) {
			if (atomic_load(&dp->live_gen) == NULL && ms->wait_rules_ms > 0)
				log_warn("no rule generation from posternd after %u ms; inspecting "
					 "without rules", ms->wait_rules_ms);
			for (unsigned w = 0; w < dp->n_workers; w++)
				atomic_store(&dp->workers[w]->last_rx_us, now);
			ms->started_us = now;
			atomic_store_explicit(&dp->started, true, memory_order_release);
			log_info("ready: %u worker(s), %u port(s)%s", dp->n_workers, dp->n_ports,
				 dp->rss ? ", RSS" : ", software dispatch");
			/* systemd (Type=notify): units ordered after this one start now */
			sd_notifyf(0, "READY=1\nSTATUS=dataplane: inspecting, %u worker(s), %u "
				   "port(s)", dp->n_workers, dp->n_ports);
		}
		unsigned moved = forward_events(ms);
		retire_generations(ms);
		supp_watch_poll(ms->supp_watch, now);
		if (now >= next_stats) {
			send_stats(ms);
			next_stats = now + 1000000;
		}
		bool expired = ms->duration_s > 0 && atomic_load(&dp->started) &&
			       now - ms->started_us >= (uint64_t)ms->duration_s * 1000000;
		if (!atomic_load(&dp->stopping) &&
		    (got_signal != 0 || expired || input_idle(ms, now))) {
			if (got_signal != 0) {
				log_info("signal %d: stopping", (int)got_signal);
				atomic_store(&dp->interrupted, true);
			}
			else
				log_info(expired ? "duration reached: stopping" : "input idle: stopping");
			sd_notify(0, "STOPPING=1\nSTATUS=dataplane: delivering the last records");
			atomic_store_explicit(&dp->stopping, true, memory_order_release);
		}
		if (moved == 0)
			usleep(200);
	}
	deliver_last_records(ms);
	send_stats(ms);
	report_throughput(ms);

	struct ipc_hdr bye;
	ipc_hdr_init(&bye, IPC_BYE, sizeof(bye), 0);
	ctl_link_send(ms->link, &bye, sizeof(bye));
}

/*
 * The capabilities the ports still need once open, by driver: af_packet and af_xdp sockets
 * stay open, but closing them (promiscuous mode off, the XDP program detached) at the end
 * takes CAP_NET_ADMIN, and af_xdp's maps CAP_BPF. A pcap or null port needs none.
 */
static int
port_capabilities(const struct dp *dp, cap_value_t *keep, int max)
{
	static const cap_value_t packet[] = { CAP_NET_RAW, CAP_NET_ADMIN };
	static const cap_value_t xdp[] = { CAP_NET_RAW, CAP_NET_ADMIN, CAP_BPF };
	int n = 0;

	for (unsigned p = 0; p < dp->n_ports; p++) {
		struct rte_eth_dev_info info;
		const cap_value_t *caps = NULL;
		int n_caps = 0;

		if (rte_eth_dev_info_get(dp->ports[p], &info) != 0 || info.driver_name == NULL)
			continue;
		if (strcmp(info.driver_name, "net_af_packet") == 0) {
			caps = packet;
			n_caps = RTE_DIM(packet);
		} else if (strcmp(info.driver_name, "net_af_xdp") == 0) {
			caps = xdp;
			n_caps = RTE_DIM(xdp);
		}
		for (int i = 0; i < n_caps; i++) {
			bool have = false;

			for (int k = 0; k < n; k++)
				have |= keep[k] == caps[i];
			if (!have && n < max)
				keep[n++] = caps[i];
		}
	}
	return n;
}

/* Become the configured user once everything that needs root is open; exits on failure. */
static void
drop_privileges(const struct dp *dp)
{
	cap_value_t keep[8];
	char err[512], who[512];

	if (dp->cfg.user[0] == '\0')
		return;
	int n = port_capabilities(dp, keep, RTE_DIM(keep));
	if (privdrop(dp->cfg.user, dp->cfg.group, keep, n, err, sizeof(err)) < 0)
		rte_exit(EXIT_FAILURE, "%s\n", err);
	privdrop_describe(who, sizeof(who));
	log_info("running as %s", who);
}

static void
setup_workers(struct dp *dp)
{
	unsigned lcore, idx = 0;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (idx == dp->n_workers)
			break;
		dp->workers[idx] = worker_create(dp, idx, lcore);
		if (dp->workers[idx] == NULL)
			rte_exit(EXIT_FAILURE,
				 "worker %u: cannot allocate its tables (flows_per_worker, "
				 "sessions_per_worker, event_ring_size too large for EAL -m?)\n",
				 idx);
		idx++;
	}
	/* Queue q of every port goes to worker q; without RSS worker 0 polls and dispatches. */
	for (unsigned p = 0; p < dp->n_ports; p++) {
		unsigned n_queues = dp->rss ? dp->n_workers : 1;

		for (unsigned q = 0; q < n_queues; q++) {
			struct worker *w = dp->workers[q];

			w->rxq[w->n_rxq].port = dp->ports[p];
			w->rxq[w->n_rxq].queue = (uint16_t)q;
			w->n_rxq++;
		}
	}
}

int
main(int argc, char **argv)
{
	static struct dp dp;
	struct options o = { 0 };
	struct main_state ms = { .dp = &dp };
	char *eal_argv[MAX_EAL_ARGS + 1];
	char err[512];

	log_init("postern-dataplane", LOG_LVL_INFO);
	parse_options(argc, argv, &o);
	config_defaults(&dp.cfg);
	if (config_load(&dp.cfg, o.config, err, sizeof(err)) < 0) {
		fprintf(stderr, "postern-dataplane: %s\n", err);
		return 2;
	}
	if (o.has_link)
		dp.cfg.link_type = (enum config_link_type)o.link; /* the files know better */
	if (o.n_vdevs == 0 && o.eal_argc == 0) {
		fprintf(stderr, "postern-dataplane: no input: give --pcap, --iface or EAL --vdev\n");
		return 2;
	}
	dp.n_workers = dp.cfg.workers;
	dp.offline = o.offline;
	dp.inline_mode = dp.cfg.mode == CONFIG_MODE_INLINE;
	prepare_xdp_ports(&o, &dp.cfg);
	ms.exit_idle_ms = o.exit_idle_ms;
	ms.wait_rules_ms = o.wait_rules_ms;
	ms.duration_s = o.duration_s;

	int eal_argc = build_eal_args(&o, dp.n_workers, argv[0], eal_argv);
	if (rte_eal_init(eal_argc, eal_argv) < 0)
		rte_exit(EXIT_FAILURE, "EAL start-up failed: %s\n", rte_strerror(rte_errno));
	if (rte_lcore_count() < dp.n_workers + 1)
		rte_exit(EXIT_FAILURE, "%u worker(s) need %u lcores, EAL has %u\n", dp.n_workers,
			 dp.n_workers + 1, rte_lcore_count());
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* nothing to reload here (rules come from posternd, the suppression set is watched):
	 * a SIGHUP sent to every Postern process must not end this one */
	signal(SIGHUP, SIG_IGN);

	if (port_setup_all(&dp) < 0)
		rte_exit(EXIT_FAILURE, "port set-up failed\n");
	steer_configured_ports(&o, &dp.cfg);

	size_t rcu_size = rte_rcu_qsbr_get_memsize(dp.n_workers);
	dp.rcu = rte_zmalloc("rcu", rcu_size, RTE_CACHE_LINE_SIZE);
	if (dp.rcu == NULL || rte_rcu_qsbr_init(dp.rcu, dp.n_workers) != 0)
		rte_exit(EXIT_FAILURE, "RCU state: %s\n", rte_strerror(rte_errno));
	/* Every queued record and every open transaction (one per session) holds a buffer. */
	unsigned n_records = dp.n_workers * (dp.cfg.event_ring_size + dp.cfg.sessions_per_worker);
	dp.tx_pool = rte_mempool_create("tx_records", n_records, IPC_TX_MAX, 64, 0, NULL, NULL, NULL,
					NULL, SOCKET_ID_ANY, 0);
	if (dp.tx_pool == NULL)
		rte_exit(EXIT_FAILURE, "record pool of %u x %u bytes: %s\n", n_records, IPC_TX_MAX,
			 rte_strerror(rte_errno));

	char why[256];

	if (commercial_policy_build(&dp.commercial, &dp.cfg, why, sizeof(why)) < 0)
		rte_exit(EXIT_FAILURE, "%s\n", why);
	if (dp.inline_mode && dp.cfg.block_canspam) {
		dp.canspam = canspam_create(&dp.cfg, why, sizeof(why));
		if (dp.canspam == NULL)
			rte_exit(EXIT_FAILURE, "%s\n", errno == EINVAL ? why : strerror(errno));
	}
	dp.supp = suppress_db_open(dp.cfg.suppress_db, true);
	if (dp.supp == NULL)
		log_warn("suppression set %s not available (%s): recipients are not checked until "
			 "it appears", dp.cfg.suppress_db, strerror(errno));
	setup_workers(&dp);
	drop_privileges(&dp);
	ms.supp_watch = supp_watch_create(&dp);
	if (ms.supp_watch == NULL)
		rte_exit(EXIT_FAILURE, "suppression set watcher: out of memory\n");

	/* records carry the wall clock unless the ports stamp packets (captures, looped too) */
	ms.spool = event_spool_create(dp.cfg.event_spool);
	if (ms.spool == NULL)
		rte_exit(EXIT_FAILURE, "event spool: out of memory\n");
	/* the link starts down: what waits for posternd's first connection is an outage too */
	event_spool_link_down(ms.spool, clock_wall_us());
	ms.link = ctl_link_create(dp.cfg.control_socket, (uint16_t)dp.n_workers,
				  dp.offline || dp.ts_offset >= 0 ? 0 : IPC_HELLO_LIVE, install_rules,
				  on_ack, &ms);
	if (ms.link == NULL)
		rte_exit(EXIT_FAILURE, "control socket path %s: %s\n", dp.cfg.control_socket,
			 strerror(errno));

	if (dp_telemetry_init(dp.n_workers, dp.inline_mode) < 0)
		log_warn("telemetry commands /postern/* could not be registered");
	for (unsigned w = 0; w < dp.n_workers; w++)
		rte_eal_remote_launch(worker_run, dp.workers[w], dp.workers[w]->lcore);
	main_loop(&ms);
	rte_eal_mp_wait_lcore();

	port_stop_all(&dp);
	supp_watch_destroy(ms.supp_watch);
	for (unsigned w = 0; w < dp.n_workers; w++)
		worker_destroy(dp.workers[w]);
	scan_gen_destroy(atomic_load(&dp.live_gen));
	for (unsigned i = 0; i < ms.n_retired; i++)
		scan_gen_destroy(ms.retired[i].gen);
	ctl_link_destroy(ms.link);
	suppress_db_close(dp.supp);
	commercial_policy_free(&dp.commercial);
	canspam_destroy(dp.canspam);
	rte_mempool_free(dp.tx_pool);
	rte_free(dp.rcu);
	struct event_spool_stats ss;

	event_spool_get_stats(ms.spool, &ss);
	log_info("stopped: %llu records sent (and %llu sent again after a reconnect), %llu "
		 "dropped or given up", (unsigned long long)ss.n_sent,
		 (unsigned long long)ss.n_resent, (unsigned long long)ss.n_dropped);
	event_spool_destroy(ms.spool);
	for (unsigned i = 0; i < o.n_vdevs; i++)
		free(o.vdevs[i]);
	rte_eal_cleanup();
	return 0;
}
