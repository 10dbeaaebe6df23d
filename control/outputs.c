/* SPDX-License-Identifier: BSD-3-Clause */
/* posternd's syslog and Redis outputs; see outputs.h. Control thread only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "outputs.h"
#include "redis_out.h"
#include "syslog_out.h"

struct outputs {
	struct syslog_out *syslog;
	struct redis_out *redis;
	int n_syslog_fds;        /* of the last outputs_pollfds: the first ones are syslog's */
};

static struct syslog_out *
syslog_from_config(const struct postern_config *cfg, char *err, size_t errlen)
{
	struct syslog_out_config sc = {
		.facility = cfg->syslog_facility, .queue_bytes = cfg->output_queue_size,
	};

	snprintf(sc.target, sizeof(sc.target), "%s", cfg->syslog);
	snprintf(sc.app_name, sizeof(sc.app_name), "posternd");
	return syslog_out_create(&sc, err, errlen);
}

static struct redis_out *
redis_from_config(const struct postern_config *cfg, char *err, size_t errlen)
{
	struct redis_out_config rc = {
		.mode = cfg->redis_mode == CONFIG_REDIS_PUBLISH ? REDIS_OUT_PUBLISH
								 : REDIS_OUT_LIST,
		.queue_bytes = cfg->output_queue_size,
	};

	snprintf(rc.target, sizeof(rc.target), "%s", cfg->redis);
	snprintf(rc.key, sizeof(rc.key), "%s", cfg->redis_key);
	return redis_out_create(&rc, err, errlen);
}

struct outputs *
outputs_create(const struct postern_config *cfg, char *err, size_t errlen)
{
	struct outputs *o = calloc(1, sizeof(*o));
	char why[512] = "";

	if (o == NULL) {
		snprintf(err, errlen, "outputs: out of memory");
		return NULL;
	}
	if (cfg->syslog[0] != '\0' &&
	    (o->syslog = syslog_from_config(cfg, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "syslog = %s: %s", cfg->syslog, why);
		goto fail;
	}
	if (cfg->redis[0] != '\0' &&
	    (o->redis = redis_from_config(cfg, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "redis = %s: %s", cfg->redis, why);
		goto fail;
	}
	return o;
fail:
	outputs_destroy(o);
	return NULL;
}

void
outputs_destroy(struct outputs *o)
{
	if (o == NULL)
		return;
	syslog_out_destroy(o->syslog);
	redis_out_destroy(o->redis);
	free(o);
}

void
outputs_write(struct outputs *o, const char *line, size_t len, const char *event_type,
	      uint64_t ts_us)
{
	if (o->syslog != NULL)
		syslog_out_write(o->syslog, line, len, event_type, ts_us);
	if (o->redis != NULL)
		redis_out_write(o->redis, line, len, event_type);
}

int
outputs_pollfds(struct outputs *o, struct pollfd *fds, int max)
{
	int n = 0;

	if (o->syslog != NULL)
		n += syslog_out_pollfds(o->syslog, fds, max);
	o->n_syslog_fds = n; /* where outputs_handle splits the results */
	if (o->redis != NULL)
		n += redis_out_pollfds(o->redis, fds + n, max - n);
	return n;
}

void
outputs_handle(struct outputs *o, const struct pollfd *fds, int n)
{
	int ns = o->n_syslog_fds < n ? o->n_syslog_fds : n;

	if (o->syslog != NULL)
		syslog_out_handle(o->syslog, fds, ns);
	if (o->redis != NULL)
		redis_out_handle(o->redis, fds + ns, n - ns);
}

void
outputs_tick(struct outputs *o, uint64_t now_ms)
{
	if (o->syslog != NULL)
		syslog_out_tick(o->syslog, now_ms);
	if (o->redis != NULL)
		redis_out_tick(o->redis, now_ms);
}

uint64_t
outputs_queued(const struct outputs *o)
{
	uint64_t n = 0;

	if (o->syslog != NULL) {
		struct syslog_out_stats s;

		syslog_out_get_stats(o->syslog, &s);
		n += s.n_queued;
	}
	if (o->redis != NULL) {
		struct redis_out_stats s;

		redis_out_get_stats(o->redis, &s);
		n += s.n_queued;
	}
	return n;
}

uint64_t
outputs_drain(struct outputs *o, uint64_t timeout_ms)
{
	struct pollfd fds[OUTPUTS_MAX_POLLFDS];
	uint64_t until = clock_mono_ms() + timeout_ms;

	while (outputs_queued(o) > 0 && clock_mono_ms() < until) {
		int n = outputs_pollfds(o, fds, OUTPUTS_MAX_POLLFDS);

		if (poll(fds, (nfds_t)n, 20) < 0 && errno != EINTR)
			break;
		outputs_handle(o, fds, n);
		outputs_tick(o, clock_mono_ms());
	}
	return outputs_queued(o);
}

/* What every output counts, by the same names. */
static json_t *
counters(uint64_t sent, uint64_t dropped, uint64_t errors, uint64_t connects, uint64_t queued)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "sent", (json_int_t)sent, "dropped",
			 (json_int_t)dropped, "errors", (json_int_t)errors, "connects",
			 (json_int_t)connects, "queued", (json_int_t)queued);
}

json_t *
outputs_stats_json(const struct outputs *o)
{
	json_t *j = json_object();

	if (o->syslog != NULL) {
		struct syslog_out_stats s;
		json_t *c;

		syslog_out_get_stats(o->syslog, &s);
		c = counters(s.n_sent, s.n_dropped, s.n_errors, s.n_connects, s.n_queued);
		json_object_set_new(c, "too_long", json_integer((json_int_t)s.n_too_long));
		json_object_set_new(j, "syslog", c);
	}
	if (o->redis != NULL) {
		struct redis_out_stats s;

		redis_out_get_stats(o->redis, &s);
		json_object_set_new(j, "redis", counters(s.n_sent, s.n_dropped, s.n_errors,
							 s.n_connects, s.n_queued));
	}
	return j;
}
