/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternd, the control plane: loads postern.conf and the rule pack, compiles and hands rule
 * generations to the dataplane, turns the transaction records it sends back into EVE JSON
 * lines for the alert socket's subscribers and the EVE file, and answers posternctl on the
 * control socket (stats, reload). One thread, one poll loop; nothing in it blocks on a peer.
 * SIGHUP reloads the rules and reopens the EVE file; a bad pack keeps the old one running.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-daemon.h>

#include "alert_server.h"
#include "business_days.h"
#include "canspam.h"
#include "clock.h"
#include "findings.h"
#include "config.h"
#include "dp_link.h"
#include "eve.h"
#include "eve_file.h"
#include "metrics_http.h"
#include "outputs.h"
#include "prom_text.h"
#include "privdrop.h"
#include "ipc.h"
#include "log.h"
#include "peer_cred.h"
#include "rule_builder.h"
#include "rule_parse.h"
#include "rulegen.h"

#define MAX_POLLFDS \
	(3 + 1 + DP_LINK_MAX_PEERS + ALERT_SERVER_MAX_SUBSCRIBERS + 2 + OUTPUTS_MAX_POLLFDS + 1)
#define ERR_MAX 8192
#define RELOAD_WAITERS_MAX 8  /* posternctl reload clients waiting for one build */

/* posternctl reload clients, answered when the build they asked for ends. */
struct reload_waiters {
	int fd[RELOAD_WAITERS_MAX];
	unsigned n;
};

struct posternd {
	struct postern_config cfg;
	const char *config_path;
	struct rulegen *gen;
	uint64_t next_gen_id;
	struct dp_link *link;
	struct alert_server *alerts;
	struct eve_file *eve;
	struct outputs *outputs;          /* syslog, Redis */
	struct metrics_http *metrics;     /* GET /metrics, when metrics_listen is set */
	struct eve_options eve_opt;
	struct bday_calendar *calendar;
	struct findings *findings;        /* bypass and anomaly detection over the records */
	uint64_t next_tick_us;
	bool live_clock;                  /* the last dataplane to connect watches live traffic */
	int cli_fd;
	int sig_fd;
	bool stopping;
	struct ipc_stats dp_stats;        /* latest counters from the dataplane */
	struct ipc_stats dp_worker_stats[IPC_MAX_WORKERS]; /* ... of each of its workers */
	unsigned n_dp_workers;
	bool have_dp_stats;
	uint64_t n_tx;
	uint64_t n_events;
	uint64_t n_spool_reports;         /* outages of ours the dataplane told of */
	uint64_t n_lines;
	uint64_t n_reloads;
	uint64_t n_cli_refused;            /* posternctl requests from another user (SO_PEERCRED) */
	uint64_t n_reload_failures;
	char last_reload_error[ERR_MAX];
	struct rule_builder *builder;     /* reloads compile off the loop */
	bool reload_again;                /* asked for while a build ran: one more after it */
	struct reload_waiters waiting;    /* for the build in progress */
	struct reload_waiters waiting_next; /* for the one after it */
};

static int
emit_line(void *ctx, const char *line, size_t len, const char *event_type)
{
	struct posternd *d = ctx;

	d->n_lines++;
	alert_server_broadcast(d->alerts, line, len, event_type);
	if (d->eve != NULL)
		eve_file_write(d->eve, line, len);
	outputs_write(d->outputs, line, len, event_type, clock_wall_us());
	return 0;
}

static void
on_hello(void *ctx, int peer, const struct ipc_hello *h)
{
	struct posternd *d = ctx;

	log_info("dataplane pid %u connected with %u worker(s)%s; sending rule generation %llu",
		 h->pid, h->n_workers, (h->flags & IPC_HELLO_LIVE) ? " on live traffic" : "",
		 (unsigned long long)d->gen->id);
	/* the dataplane that said hello last decides whose clock the models follow */
	d->live_clock = (h->flags & IPC_HELLO_LIVE) != 0;
	dp_link_send_rules(d->link, peer, d->gen->memfd, d->gen->blob_len, d->gen->id);
}

static void
on_tx(void *ctx, const struct ipc_tx *tx, size_t len)
{
	struct posternd *d = ctx;
	struct canspam_result cs;

	(void)len;
	d->n_tx++;
	/* posternd's own findings first: the smtp event carries their CAN-SPAM result */
	findings_observe(d->findings, tx, &d->eve_opt, &cs, emit_line, d);
	/* Alerts are described by the generation that is live now; a record scanned by an older
	 * one whose rule has gone is still written, with empty texts (eve.h). */
	eve_format_tx(tx, &d->eve_opt, &cs, rulegen_lookup, d->gen, emit_line, d);
}

static void
on_event(void *ctx, const struct ipc_event *ev)
{
	struct posternd *d = ctx;

	d->n_events++;
	eve_format_event(ev, emit_line, d);
}

static void
on_stats(void *ctx, const struct ipc_stats *st)
{
	struct posternd *d = ctx;

	if (st->worker == IPC_STATS_ALL) {
		d->dp_stats = *st;
		d->have_dp_stats = true;
		d->n_dp_workers = st->n_workers < IPC_MAX_WORKERS ? st->n_workers : IPC_MAX_WORKERS;
	} else if (st->worker < IPC_MAX_WORKERS) {
		d->dp_worker_stats[st->worker] = *st;
	}
}

static void
on_spool(void *ctx, const struct ipc_spool *sp)
{
	struct posternd *d = ctx;

	log_warn("dataplane was cut off from posternd for %.1f s: %llu record(s) delivered late, "
		 "%llu dropped", (double)(sp->ended_us - sp->started_us) / 1e6,
		 (unsigned long long)sp->n_kept, (unsigned long long)sp->n_dropped);
	d->n_spool_reports++;
	if (eve_format_spool(sp, emit_line, d) < 0)
		log_err("spool report of the dataplane could not be formatted");
}

static void
on_rules_ack(void *ctx, const struct ipc_rules_ack *ack)
{
	(void)ctx;
	if (ack->error != 0)
		log_err("dataplane refused rule generation %llu: %s",
			(unsigned long long)ack->gen_id, strerror(-ack->error));
	else
		log_info("dataplane runs rule generation %llu", (unsigned long long)ack->gen_id);
}

static void
on_bye(void *ctx, int peer)
{
	struct posternd *d = ctx;

	(void)peer;
	log_info("dataplane stopped after sending %llu transaction(s)",
		 (unsigned long long)d->n_tx);
	if (d->have_dp_stats)
		eve_format_stats(&d->dp_stats, clock_wall_us(), emit_line, d);
}

static const struct dp_link_ops link_ops = {
	.on_hello = on_hello,
	.on_tx = on_tx,
	.on_stats = on_stats,
	.on_event = on_event,
	.on_rules_ack = on_rules_ack,
	.on_bye = on_bye,
	.on_spool = on_spool,
};

/* Write one JSON reply to a posternctl client and hang up (takes the reference). */
static void
send_reply(int fd, json_t *reply)
{
	char *s = reply != NULL ? json_dumps(reply, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;

	if (s != NULL) {
		size_t len = strlen(s);

		if (write(fd, s, len) != (ssize_t)len)
			log_warn("control socket: short reply");
		free(s);
	}
	json_decref(reply);
	close(fd);
}

static void
reply_cli(int fd, bool ok, const char *message, uint64_t gen_id)
{
	send_reply(fd, json_pack("{s:b, s:s, s:I}", "ok", ok, "message", message,
				 "rule_generation", (json_int_t)gen_id));
}

static void
answer_waiters(struct posternd *d, struct reload_waiters *w, bool ok)
{
	for (unsigned i = 0; i < w->n; i++)
		reply_cli(w->fd[i], ok, ok ? "rule generation built and sent" : d->last_reload_error,
			  d->gen->id);
	w->n = 0;
}

static void
reload_failed(struct posternd *d)
{
	d->n_reload_failures++;
	log_err("reload refused, rule generation %llu stays live:\n%s",
		(unsigned long long)d->gen->id, d->last_reload_error);
	answer_waiters(d, &d->waiting, false);
}

/*
 * Start building a new generation beside the live one, on the builder's thread: the loop
 * keeps reading records meanwhile. The configuration is read again now (only the rule
 * settings are used; outputs and sockets keep their start-up values).
 */
static void
reload_start(struct posternd *d)
{
	struct postern_config cfg;
	int rc;

	config_defaults(&cfg);
	if (config_load(&cfg, d->config_path, d->last_reload_error, ERR_MAX) < 0) {
		reload_failed(d);
		return;
	}
	/* the id is used only once the build succeeds: live generations are numbered in turn */
	rc = rule_builder_start(d->builder, &cfg, d->next_gen_id);
	if (rc < 0) {
		snprintf(d->last_reload_error, ERR_MAX, "cannot start the rule build: %s",
			 strerror(-rc));
		reload_failed(d);
	}
}

/* SIGHUP or posternctl reload (cli_fd, answered when its build ends; -1 for none). */
static void
reload_request(struct posternd *d, int cli_fd)
{
	bool busy = rule_builder_busy(d->builder);
	struct reload_waiters *w = busy ? &d->waiting_next : &d->waiting;

	if (cli_fd >= 0) {
		if (w->n == RELOAD_WAITERS_MAX)
			reply_cli(cli_fd, false, "too many reloads waiting", d->gen->id);
		else
			w->fd[w->n++] = cli_fd;
	}
	if (busy) {
		d->reload_again = true; /* the pack may have changed after that build read it */
		return;
	}
	reload_start(d);
}

/* The build ended: swap only when it is complete, then start the one asked for meanwhile. */
static void
reload_finish(struct posternd *d)
{
	struct rulegen *g = rule_builder_finish(d->builder, d->last_reload_error, ERR_MAX);

	if (g == NULL) {
		reload_failed(d);
	} else {
		rulegen_destroy(d->gen);
		d->gen = g;
		d->next_gen_id++;
		/* what is live, for what posternd shows: the reload read the config again, and
		 * its rules may name other packs now. rs->path is the packs' names joined by one
		 * space, itself a rules list no longer than the one it was read from. */
		snprintf(d->cfg.rules, sizeof(d->cfg.rules), "%s", g->rules->path);
		d->n_reloads++;
		d->last_reload_error[0] = '\0';
		log_info("rule generation %llu built: %u rules in %.0f ms%s",
			 (unsigned long long)g->id, g->rules->n_rules, g->build_ms,
			 g->from_cache ? " (databases from the cache)" : "");
		dp_link_send_rules(d->link, -1, g->memfd, g->blob_len, g->id);
		answer_waiters(d, &d->waiting, true);
	}
	d->waiting = d->waiting_next;
	d->waiting_next.n = 0;
	if (d->reload_again) {
		d->reload_again = false;
		reload_start(d);
	}
}

static int
listen_stream(const char *path, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, mode) < 0 ||
	    listen(fd, 8) < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* A stats record's counters, after `label`: value (the worker count, or the worker's index)
 * and its rule generation; a worker's lacks the counters it does not keep. */
static json_t *
dp_counters_json(const struct ipc_stats *st, const char *label, unsigned value)
{
	json_t *o = json_object();

	json_object_set_new(o, label, json_integer(value));
	json_object_set_new(o, "rule_generation", json_integer((json_int_t)st->gen_id));
	for (unsigned c = 0; c < st->n_counters && c < IPC_C__COUNT; c++)
		if (st->worker == IPC_STATS_ALL || !ipc_counter_is_global(c))
			json_object_set_new(o, ipc_counter_name(c),
					    json_integer((json_int_t)st->counters[c]));
	return o;
}

static json_t *
stats_json(struct posternd *d)
{
	struct alert_server_stats as;
	struct dp_link_stats ls;
	struct findings_stats fs;
	json_t *o = json_object();
	json_t *pd = json_object();

	alert_server_get_stats(d->alerts, &as);
	dp_link_get_stats(d->link, &ls);
	json_object_set_new(pd, "rule_generation", json_integer((json_int_t)d->gen->id));
	json_object_set_new(pd, "rules", json_integer(d->gen->rules->n_rules));
	json_object_set_new(pd, "reloads", json_integer((json_int_t)d->n_reloads));
	json_object_set_new(pd, "reload_failures", json_integer((json_int_t)d->n_reload_failures));
	json_object_set_new(pd, "reload_in_progress", json_boolean(rule_builder_busy(d->builder)));
	json_object_set_new(pd, "dataplanes_connected", json_integer(dp_link_n_peers(d->link)));
	/* connections of another user, refused (SO_PEERCRED) */
	json_object_set_new(pd, "dataplanes_refused", json_integer((json_int_t)ls.n_refused));
	json_object_set_new(pd, "cli_refused", json_integer((json_int_t)d->n_cli_refused));
	json_object_set_new(pd, "records", json_integer((json_int_t)ls.n_records));
	json_object_set_new(pd, "records_invalid", json_integer((json_int_t)ls.n_invalid));
	json_object_set_new(pd, "records_lost", json_integer((json_int_t)ls.n_seq_gaps));
	json_object_set_new(pd, "transactions", json_integer((json_int_t)d->n_tx));
	json_object_set_new(pd, "anomalies", json_integer((json_int_t)d->n_events));
	json_object_set_new(pd, "eve_lines", json_integer((json_int_t)d->n_lines));
	if (d->eve != NULL) {
		struct eve_file_stats es;

		eve_file_get_stats(d->eve, &es);
		json_object_set_new(pd, "eve_file_errors", json_integer((json_int_t)es.n_errors));
		json_object_set_new(pd, "eve_file_rotations",
				    json_integer((json_int_t)es.n_rotations));
		json_object_set_new(pd, "eve_file_rotate_errors",
				    json_integer((json_int_t)es.n_rotate_errors));
	}
	json_object_set_new(pd, "subscribers", json_integer((json_int_t)as.n_subscribers));
	json_object_set_new(pd, "subscribers_dropped",
			    json_integer((json_int_t)as.n_dropped_subscribers));
	findings_get_stats(d->findings, &fs);
	json_object_set_new(pd, "canspam_alerts", json_integer((json_int_t)fs.canspam_alerts));
	json_object_set_new(pd, "bypass_alerts", json_integer((json_int_t)fs.bypass_alerts));
	json_object_set_new(pd, "bypass_evictions", json_integer((json_int_t)fs.bypass_evictions));
	json_object_set_new(pd, "anomaly_alerts", json_integer((json_int_t)fs.anomaly_alerts));
	json_object_set_new(pd, "anomaly_alerts_dropped",
			    json_integer((json_int_t)fs.anomaly_dropped));
	json_object_set_new(o, "posternd", pd);
	json_object_set_new(o, "outputs", outputs_stats_json(d->outputs));
	json_object_set_new(pd, "dataplane_outages", json_integer((json_int_t)d->n_spool_reports));
	if (d->metrics != NULL) {
		uint64_t req, bad;

		metrics_http_get_stats(d->metrics, &req, &bad);
		json_object_set_new(pd, "metrics_requests", json_integer((json_int_t)req));
		json_object_set_new(pd, "metrics_errors", json_integer((json_int_t)bad));
	}
	if (d->have_dp_stats) {
		json_t *workers = json_array();

		json_object_set_new(o, "dataplane", dp_counters_json(&d->dp_stats, "workers",
								       d->dp_stats.n_workers));
		for (unsigned w = 0; w < d->n_dp_workers; w++)
			json_array_append_new(workers, dp_counters_json(&d->dp_worker_stats[w],
									"worker", w));
		json_object_set_new(o, "workers", workers);
	}
	return o;
}

/* The Prometheus exposition of what posternctl stats shows (metrics_http's render). */
static int
render_metrics(void *ctx, char **buf, size_t *len)
{
	json_t *stats = stats_json(ctx);
	int rc;

	if (stats == NULL)
		return -ENOMEM;
	rc = prom_text_format(stats, buf, len);
	json_decref(stats);
	return rc;
}

/*
 * One posternctl request: a line, a JSON reply, close. posternctl writes its line at once;
 * a client that does not is cut off after 200 ms rather than holding the loop longer.
 */
static void
serve_cli(struct posternd *d)
{
	int fd = accept4(d->cli_fd, NULL, NULL, SOCK_CLOEXEC);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	char req[64] = { 0 };
	json_t *reply;

	if (fd < 0)
		return;
	uid_t uid = 0;

	if (peer_cred_check(fd, &uid) < 0) {
		log_warn("%s: refused a request from uid %u (neither root nor posternd's user)",
			 d->cfg.cli_socket, (unsigned)uid);
		d->n_cli_refused++;
		close(fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ssize_t n = read(fd, req, sizeof(req) - 1);
	if (n <= 0) {
		close(fd);
		return;
	}
	if (strncmp(req, "stats", 5) == 0) {
		reply = stats_json(d);
	} else if (strncmp(req, "reload", 6) == 0) {
		reload_request(d, fd); /* answered when the build ends */
		return;
	} else {
		reply = json_pack("{s:b, s:s}", "ok", 0, "message", "unknown request");
	}
	send_reply(fd, reply);
}

static void
handle_signal(struct posternd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading rules, reopening the EVE file");
			if (d->eve != NULL && eve_file_reopen(d->eve) < 0)
				log_err("reopening %s: %s", d->cfg.eve_file, strerror(errno));
			reload_request(d, -1);
		} else {
			log_info("signal %u: stopping", si.ssi_signo);
			sd_notify(0, "STOPPING=1");
			d->stopping = true;
		}
	}
}

static void
run(struct posternd *d)
{
	struct pollfd fds[MAX_POLLFDS];

	while (!d->stopping) {
		int n = 0;

		fds[n++] = (struct pollfd){ .fd = d->sig_fd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = d->cli_fd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = rule_builder_fd(d->builder), .events = POLLIN };
		int link_first = n;
		n += dp_link_pollfds(d->link, fds + n, MAX_POLLFDS - n);
		int alerts_first = n;
		n += alert_server_pollfds(d->alerts, fds + n, MAX_POLLFDS - n);
		int outputs_first = n;
		n += outputs_pollfds(d->outputs, fds + n, MAX_POLLFDS - n);
		int metrics_first = n;
		int timeout = 1000;
		if (d->metrics != NULL) {
			uint64_t t = metrics_http_timeout_ms(d->metrics);

			n += metrics_http_pollfds(d->metrics, fds + n, MAX_POLLFDS - n);
			timeout = t < (uint64_t)timeout ? (int)t : timeout;
		}

		if (poll(fds, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			return;
		}
		if (fds[0].revents)
			handle_signal(d);
		if (fds[1].revents)
			serve_cli(d);
		if (fds[2].revents)
			reload_finish(d);
		dp_link_handle(d->link, fds + link_first, alerts_first - link_first);
		alert_server_handle(d->alerts, fds + alerts_first, outputs_first - alerts_first);
		outputs_handle(d->outputs, fds + outputs_first, metrics_first - outputs_first);
		if (d->metrics != NULL)
			metrics_http_handle(d->metrics, fds + metrics_first, n - metrics_first);
		if (clock_wall_us() >= d->next_tick_us) {
			findings_tick(d->findings, d->live_clock ? clock_wall_us() : 0, emit_line,
				      d);
			dp_link_tick(d->link);
			outputs_tick(d->outputs, clock_mono_ms());
			d->next_tick_us = clock_wall_us() + 1000000;
		}
	}
}

/*
 * The sockets were made by root: they go to the configured user (control and cli, 0600, so
 * that a dataplane running as that user can still connect after a restart of ours) and the
 * alert socket to alert_socket_group (0660: a SOC's reader account in that group may
 * subscribe). Then posternd becomes the user, with no capability left: it needs none to run.
 * 0, or -1 after logging why (posternd must not go on as root when told otherwise).
 */
static int
drop_privileges(const struct posternd *d)
{
	const struct postern_config *c = &d->cfg;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1, alert_gid;
	char err[512], who[512];

	if (c->user[0] != '\0' &&
	    privdrop_ids(c->user, c->group, &uid, &gid, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	alert_gid = gid;
	if (c->alert_socket_group[0] != '\0' &&
	    privdrop_group_id(c->alert_socket_group, &alert_gid, err, sizeof(err)) < 0) {
		log_err("alert_socket_group: %s", err);
		return -1;
	}
	if (chown(c->control_socket, uid, gid) < 0 || chown(c->cli_socket, uid, gid) < 0 ||
	    chown(c->alert_socket, uid, alert_gid) < 0) {
		log_err("giving the sockets to %s: %s", c->user[0] ? c->user : "their group",
			strerror(errno));
		return -1;
	}
	if (c->user[0] == '\0')
		return 0;
	if (privdrop(c->user, c->group, NULL, 0, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	privdrop_describe(who, sizeof(who));
	log_info("running as %s", who);
	return 0;
}

#define OUTPUTS_DRAIN_MS 2000

/*
 * A clean stop: what the network outputs still hold gets OUTPUTS_DRAIN_MS to go out (the
 * dataplane freed those records once we acknowledged them). What is left is logged by the
 * output; a crash loses it all (the EVE file and the dataplane's spool are the durable
 * copies).
 */
static void
drain_outputs(struct posternd *d)
{
	uint64_t left = outputs_drain(d->outputs, OUTPUTS_DRAIN_MS);

	if (left > 0)
		log_warn("outputs: %llu line(s) not delivered in %u ms at exit",
			 (unsigned long long)left, OUTPUTS_DRAIN_MS);
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: posternd [-c CONFIG] [--check]\n\n"
		     "  -c, --config FILE  postern.conf (default /etc/postern/postern.conf)\n"
		     "      --check        load the config and compile the rule pack, then exit\n"
		     "  -h, --help         this text\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct posternd d = { .next_gen_id = 1, .cli_fd = -1, .sig_fd = -1 };
	static char err[ERR_MAX];
	bool check_only = false;
	int c, rc = 1;

	log_init("posternd", LOG_LVL_INFO);
	d.config_path = "/etc/postern/postern.conf";
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'k':
			check_only = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	config_defaults(&d.cfg);
	if (config_load(&d.cfg, d.config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "posternd: %s\n", err);
		return 2;
	}
	d.gen = rulegen_build(&d.cfg, d.next_gen_id++, err, sizeof(err));
	if (d.gen == NULL) {
		fprintf(stderr, "posternd: rule pack refused:\n%s\n", err);
		return 1;
	}
	if (check_only) {
		printf("%s: %u rules compiled\n", d.cfg.rules, d.gen->rules->n_rules);
		rulegen_destroy(d.gen);
		return 0;
	}
	eve_options_from_config(&d.eve_opt, &d.cfg);
	/* Business days of the alerts' suppression{}: the calendar posternctl keyed grace
	 * periods with. Loaded before any thread starts (it sets TZ for a moment). */
	if (bday_calendar_load(&d.calendar, d.cfg.suppress_calendar_tz, d.cfg.suppress_holidays,
			       err, sizeof(err)) < 0) {
		fprintf(stderr, "posternd: %s\n", err);
		rulegen_destroy(d.gen);
		return 2;
	}
	d.eve_opt.calendar = d.calendar;
	d.findings = findings_create(&d.cfg, err, sizeof(err));
	if (d.findings == NULL) {
		fprintf(stderr, "posternd: %s\n", err);
		bday_calendar_free(d.calendar);
		rulegen_destroy(d.gen);
		return 2;
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

	d.alerts = alert_server_create(d.cfg.alert_socket, 0);
	if (d.alerts == NULL) {
		log_err("alert socket %s: %s", d.cfg.alert_socket, strerror(errno));
		goto out;
	}
	if (d.cfg.eve_file[0] != '\0') {
		d.eve = eve_file_create(d.cfg.eve_file);
		if (d.eve == NULL) {
			log_err("EVE file %s: %s", d.cfg.eve_file, strerror(errno));
			goto out;
		}
		eve_file_set_rotation(d.eve, d.cfg.eve_file_max_size, d.cfg.eve_file_keep);
	}
	d.outputs = outputs_create(&d.cfg, err, sizeof(err));
	if (d.outputs == NULL) {
		log_err("%s", err);
		goto out;
	}
	if (d.cfg.metrics_listen[0] != '\0') {
		d.metrics = metrics_http_create(d.cfg.metrics_listen, render_metrics, &d, err,
						sizeof(err));
		if (d.metrics == NULL) {
			log_err("metrics_listen = %s: %s", d.cfg.metrics_listen, err);
			goto out;
		}
	}
	d.cli_fd = listen_stream(d.cfg.cli_socket, 0600);
	if (d.cli_fd < 0) {
		log_err("control socket %s: %s", d.cfg.cli_socket, strerror(errno));
		goto out;
	}
	d.builder = rule_builder_create();
	if (d.builder == NULL) {
		log_err("rule builder: %s", strerror(errno));
		goto out;
	}
	d.link = dp_link_create(d.cfg.control_socket, &link_ops, &d);
	if (d.link == NULL) {
		log_err("dataplane socket %s: %s", d.cfg.control_socket, strerror(errno));
		goto out;
	}
	if (drop_privileges(&d) < 0)
		goto out;
	log_info("ready: %u rules, alerts on %s", d.gen->rules->n_rules, d.cfg.alert_socket);
	sd_notifyf(0, "READY=1\nSTATUS=posternd: %u rules, generation %llu", d.gen->rules->n_rules,
		   (unsigned long long)d.gen->id);
	run(&d);
	drain_outputs(&d);
	rc = 0;
out:
	rule_builder_destroy(d.builder);
	answer_waiters(&d, &d.waiting, false);
	answer_waiters(&d, &d.waiting_next, false);
	dp_link_destroy(d.link);
	if (d.cli_fd >= 0) {
		close(d.cli_fd);
		unlink(d.cfg.cli_socket);
	}
	eve_file_destroy(d.eve);
	outputs_destroy(d.outputs);
	metrics_http_destroy(d.metrics);
	alert_server_destroy(d.alerts);
	rulegen_destroy(d.gen);
	findings_destroy(d.findings);
	bday_calendar_free(d.calendar);
	if (d.sig_fd >= 0)
		close(d.sig_fd);
	return rc;
}
