/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rate anomaly models (see anomaly_model.h): a fixed array of keys (hosts and sender domains)
 * chained from a power-of-two bucket array by index (seeded hash: the keys are the senders'
 * choice) and kept on an LRU list so that a full table evicts the key seen least recently.
 * Each key holds, per metric, its current window's count, the window's start, the EWMA and
 * the time of the last alert; the distinct-recipient metric also holds a 256-byte set (exact
 * list of hashes, then HyperLogLog). Nothing is allocated after create. Control thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "anomaly_model.h"
#include "hash_mix.h"
#include "netset.h"

#define AM_NIL UINT32_MAX
#define US_PER_S UINT64_C(1000000)
#define HLL_BITS 8
#define HLL_REGS (1u << HLL_BITS)

static const char *const metric_names[ANOMALY__COUNT] = {
	[ANOMALY_MESSAGES] = "messages_per_minute",
	[ANOMALY_RCPTS_PER_MSG] = "rcpts_per_message",
	[ANOMALY_DISTINCT_RCPTS] = "distinct_rcpts_per_hour",
	[ANOMALY_AUTH_FAILURES] = "auth_failures_per_10min",
	[ANOMALY_RCPTS_REJECTED] = "rcpts_rejected_per_10min",
	[ANOMALY_SESSIONS] = "sessions_per_minute",
	[ANOMALY_BYTES] = "bytes_per_minute",
};

static const uint32_t metric_window[ANOMALY__COUNT] = {
	[ANOMALY_MESSAGES] = 60,
	[ANOMALY_RCPTS_PER_MSG] = 0,
	[ANOMALY_DISTINCT_RCPTS] = 3600,
	[ANOMALY_AUTH_FAILURES] = 600,
	[ANOMALY_RCPTS_REJECTED] = 600,
	[ANOMALY_SESSIONS] = 60,
	[ANOMALY_BYTES] = 60,
};

struct am_metric {
	uint64_t win_start_us;  /* start of the current window */
	uint64_t count;         /* the current window's value (distinct: see the set) */
	uint64_t last_alert_us; /* window_end_us of the last alert emitted */
	double baseline;
	uint32_t n_windows;     /* windows (or messages) folded; 0: baseline unset */
	uint16_t n_idle;        /* zero windows folded in a row */
	bool alerted;           /* last_alert_us is valid */
};

/* The distinct recipients of the current hour: a list of hashes, or HLL registers. */
union am_set {
	uint64_t hash[ANOMALY_DISTINCT_EXACT];
	uint8_t reg[HLL_REGS];
};

_Static_assert(sizeof(uint64_t) * ANOMALY_DISTINCT_EXACT == HLL_REGS, "set shapes share bytes");

struct am_key {
	uint32_t next;          /* bucket chain */
	uint32_t lru_prev, lru_next;
	bool used;
	uint8_t subject;
	uint16_t key_len;       /* bytes of key (domain), 16 for a host */
	uint64_t hash;
	uint64_t t0_us;         /* first record: windows are aligned on it */
	uint64_t due_us;        /* earliest end of a window with activity; UINT64_MAX: none */
	struct am_metric met[ANOMALY__COUNT];
	bool set_hll;           /* set holds HLL registers */
	uint16_t set_n;         /* hashes in the exact list */
	union am_set set;
	uint8_t ip[16];
	char key[ANOMALY_KEY_MAX + 1]; /* text: the domain, or the host from inet_ntop */
};

struct anomaly_model {
	struct netset_ip_range *internal;
	uint32_t n_internal;
	uint64_t warmup_us;
	uint64_t suppress_us;
	double multiple;
	double alpha;
	uint64_t floor[ANOMALY__COUNT];
	uint64_t seed;
	uint32_t cap;           /* keys */
	uint32_t n_hi;          /* slots handed out so far (0..n_hi-1 have been used) */
	uint32_t free_head;     /* never used: slots are reused only by eviction */
	uint32_t lru_head, lru_tail; /* head: most recently seen */
	uint32_t mask;
	uint32_t *bucket;
	struct am_key *keys;
	struct anomaly_model_stats st;
};

/* Alerts of one call: the caller's array and its bound. */
struct am_out {
	struct anomaly_alert *a;
	unsigned cap, n;
};

const char *
anomaly_metric_name(enum anomaly_metric m)
{
	if ((unsigned)m >= ANOMALY__COUNT)
		return "unknown";
	return metric_names[m];
}

const char *
anomaly_subject_name(enum anomaly_subject s)
{
	return s == ANOMALY_HOST ? "host" : s == ANOMALY_SENDER_DOMAIN ? "sender_domain"
								      : "unknown";
}

uint32_t
anomaly_metric_window(enum anomaly_metric m)
{
	return (unsigned)m < ANOMALY__COUNT ? metric_window[m] : 0;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---------------------------------------------------------------- hashing */

static uint64_t
fnv1a_lower(uint64_t h, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];

		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c + ('a' - 'A'));
		h ^= c;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static uint64_t
key_hash(const struct anomaly_model *m, uint8_t subject, const void *k, size_t len)
{
	uint64_t h = fnv1a_lower(UINT64_C(0xcbf29ce484222325) ^ m->seed ^ subject, k, len);

	return hash_mix64(h);
}

/* ---------------------------------------------------------------- distinct set */

static void
hll_add(uint8_t *reg, uint64_t h)
{
	uint32_t idx = (uint32_t)(h >> (64 - HLL_BITS));
	uint64_t rest = h << HLL_BITS;
	/* rank: position of the first 1 in the remaining 56 bits, 57 when they are all 0 */
	uint8_t rank = rest == 0 ? 64 - HLL_BITS + 1 : (uint8_t)(__builtin_clzll(rest) + 1);

	if (rank > reg[idx])
		reg[idx] = rank;
}

static void
set_add(struct am_key *k, uint64_t h)
{
	uint64_t old[ANOMALY_DISTINCT_EXACT];

	if (k->set_hll) {
		hll_add(k->set.reg, h);
		return;
	}
	for (unsigned i = 0; i < k->set_n; i++)
		if (k->set.hash[i] == h)
			return;
	if (k->set_n < ANOMALY_DISTINCT_EXACT) {
		k->set.hash[k->set_n++] = h;
		return;
	}
	/* the list is full: the same bytes become registers */
	memcpy(old, k->set.hash, sizeof(old));
	memset(k->set.reg, 0, sizeof(k->set.reg));
	for (unsigned i = 0; i < ANOMALY_DISTINCT_EXACT; i++)
		hll_add(k->set.reg, old[i]);
	hll_add(k->set.reg, h);
	k->set_hll = true;
}

/* Natural log of x >= 1 without libm (the control library links none): x = 2^e * y with
 * y in [1, 2), ln y = 2 atanh((y - 1) / (y + 1)), whose series converges fast for t <= 1/3. */
static double
ln_ge1(double x)
{
	double e = 0, t, t2, term, sum = 0;

	while (x >= 2) {
		x /= 2;
		e++;
	}
	t = (x - 1) / (x + 1);
	t2 = t * t;
	term = t;
	for (unsigned n = 1; n < 60; n += 2) {
		sum += term / n;
		term *= t2;
	}
	return e * 0.69314718055994530942 + 2 * sum;
}

static double
set_count(const struct am_key *k)
{
	double sum = 0, m = HLL_REGS, est;
	unsigned zeros = 0;

	if (!k->set_hll)
		return k->set_n;
	for (unsigned i = 0; i < HLL_REGS; i++) {
		sum += 1.0 / (double)(UINT64_C(1) << k->set.reg[i]);
		zeros += k->set.reg[i] == 0;
	}
	est = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
	if (est <= 2.5 * m && zeros > 0)
		est = m * ln_ge1(m / zeros);
	/* never below what the exact list had proven */
	if (est < ANOMALY_DISTINCT_EXACT + 1)
		est = ANOMALY_DISTINCT_EXACT + 1;
	return (double)(uint64_t)(est + 0.5);
}

static void
set_clear(struct am_key *k)
{
	k->set_hll = false;
	k->set_n = 0;
	memset(&k->set, 0, sizeof(k->set));
}

/* ---------------------------------------------------------------- windows */

static double
metric_value(const struct am_key *k, enum anomaly_metric i)
{
	return i == ANOMALY_DISTINCT_RCPTS ? set_count(k) : (double)k->met[i].count;
}

static void
fold(struct anomaly_model *m, struct am_metric *mt, double value)
{
	if (mt->n_windows == 0)
		mt->baseline = value;
	else
		mt->baseline += m->alpha * (value - mt->baseline);
	if (mt->n_windows < UINT32_MAX)
		mt->n_windows++;
}

static void
emit(struct anomaly_model *m, struct am_out *o, const struct am_key *k, enum anomaly_metric i,
     double value, uint64_t end_us)
{
	struct anomaly_alert *a;

	m->st.alerts++;
	if (o->n >= o->cap) {
		m->st.dropped++;
		return;
	}
	a = &o->a[o->n++];
	memset(a, 0, sizeof(*a));
	a->subject = k->subject;
	a->metric = (uint8_t)i;
	memcpy(a->key, k->key, sizeof(a->key));
	if (k->subject == ANOMALY_HOST)
		memcpy(a->host_ip, k->ip, 16);
	a->value = value;
	a->baseline = k->met[i].baseline;
	a->floor = m->floor[i];
	a->multiple = m->multiple;
	a->window_s = metric_window[i];
	a->window_end_us = end_us;
}

/*
 * Judge value (a closed window ending at end_us whose start is start_us, or a message at
 * start_us == end_us) and fold it unless anomalous. Returns nothing: alerts go to o.
 */
static void
judge(struct anomaly_model *m, struct am_out *o, struct am_key *k, enum anomaly_metric i,
      double value, uint64_t start_us, uint64_t end_us)
{
	struct am_metric *mt = &k->met[i];
	bool judged = start_us >= k->t0_us && start_us - k->t0_us >= m->warmup_us;

	if (judged && mt->n_windows > 0 && value > mt->baseline * m->multiple &&
	    value > (double)m->floor[i]) {
		if (mt->alerted && end_us - mt->last_alert_us < m->suppress_us) {
			m->st.suppressed++;
		} else {
			emit(m, o, k, i, value, end_us);
			mt->alerted = true;
			mt->last_alert_us = end_us;
		}
		return;
	}
	fold(m, mt, value);
}

/* Close the windows of metric i that ended at or before now_us. */
static void
close_metric(struct anomaly_model *m, struct am_out *o, struct am_key *k, enum anomaly_metric i,
	     uint64_t now_us)
{
	struct am_metric *mt = &k->met[i];
	uint64_t w = (uint64_t)metric_window[i] * US_PER_S, missed;
	double value;

	if (w == 0 || now_us < mt->win_start_us + w)
		return;
	value = metric_value(k, i);
	if (value > 0) {
		judge(m, o, k, i, value, mt->win_start_us, mt->win_start_us + w);
		mt->n_idle = 0;
	} else if (mt->n_idle < ANOMALY_IDLE_WINDOWS) {
		fold(m, mt, 0); /* a 0 is never anomalous */
		mt->n_idle++;
	}
	mt->count = 0;
	if (i == ANOMALY_DISTINCT_RCPTS)
		set_clear(k);
	mt->win_start_us += w;
	/* the windows missed since, as zeros, up to the idle cap; the rest skipped */
	missed = (now_us - mt->win_start_us) / w;
	for (uint64_t n = 0; n < missed && mt->n_idle < ANOMALY_IDLE_WINDOWS; n++) {
		fold(m, mt, 0);
		mt->n_idle++;
	}
	mt->win_start_us += missed * w;
}

static void
update_due(struct am_key *k)
{
	k->due_us = UINT64_MAX;
	for (unsigned i = 0; i < ANOMALY__COUNT; i++) {
		uint64_t w = (uint64_t)metric_window[i] * US_PER_S;
		bool busy = i == ANOMALY_DISTINCT_RCPTS ? (k->set_hll || k->set_n > 0)
							: k->met[i].count > 0;

		if (w > 0 && busy && k->met[i].win_start_us + w < k->due_us)
			k->due_us = k->met[i].win_start_us + w;
	}
}

static void
close_key(struct anomaly_model *m, struct am_out *o, struct am_key *k, uint64_t now_us)
{
	for (unsigned i = 0; i < ANOMALY__COUNT; i++)
		close_metric(m, o, k, (enum anomaly_metric)i, now_us);
	update_due(k);
}

/* ---------------------------------------------------------------- key table */

static void
lru_unlink(struct anomaly_model *m, uint32_t idx)
{
	struct am_key *k = &m->keys[idx];

	if (k->lru_prev != AM_NIL)
		m->keys[k->lru_prev].lru_next = k->lru_next;
	else
		m->lru_head = k->lru_next;
	if (k->lru_next != AM_NIL)
		m->keys[k->lru_next].lru_prev = k->lru_prev;
	else
		m->lru_tail = k->lru_prev;
	k->lru_prev = k->lru_next = AM_NIL;
}

static void
lru_push_head(struct anomaly_model *m, uint32_t idx)
{
	struct am_key *k = &m->keys[idx];

	k->lru_prev = AM_NIL;
	k->lru_next = m->lru_head;
	if (m->lru_head != AM_NIL)
		m->keys[m->lru_head].lru_prev = idx;
	m->lru_head = idx;
	if (m->lru_tail == AM_NIL)
		m->lru_tail = idx;
}

static void
bucket_unlink(struct anomaly_model *m, uint32_t idx)
{
	uint32_t *p = &m->bucket[m->keys[idx].hash & m->mask];

	while (*p != AM_NIL && *p != idx)
		p = &m->keys[*p].next;
	if (*p == idx)
		*p = m->keys[idx].next;
}

static bool
key_equal(const struct am_key *k, uint8_t subject, uint64_t h, const void *key, size_t len)
{
	if (!k->used || k->subject != subject || k->hash != h || k->key_len != len)
		return false;
	if (subject == ANOMALY_HOST)
		return memcmp(k->ip, key, 16) == 0;
	return memcmp(k->key, key, len) == 0;
}

/* Find or make the key (len bytes: 16 for a host, the lowercased domain); it becomes the
 * most recently seen. */
static struct am_key *
key_get(struct anomaly_model *m, uint8_t subject, const void *key, size_t len, uint64_t now_us)
{
	uint64_t h = key_hash(m, subject, key, len);
	uint32_t idx = m->bucket[h & m->mask];
	struct am_key *k;

	while (idx != AM_NIL && !key_equal(&m->keys[idx], subject, h, key, len))
		idx = m->keys[idx].next;
	if (idx != AM_NIL) {
		lru_unlink(m, idx);
		lru_push_head(m, idx);
		return &m->keys[idx];
	}
	if (m->n_hi < m->cap) {
		idx = m->n_hi++;
	} else {
		idx = m->lru_tail;
		lru_unlink(m, idx);
		bucket_unlink(m, idx);
		m->st.evicted++;
		m->st.keys--;
	}
	k = &m->keys[idx];
	memset(k, 0, sizeof(*k));
	k->used = true;
	k->subject = subject;
	k->key_len = (uint16_t)len;
	k->hash = h;
	k->t0_us = now_us;
	k->due_us = UINT64_MAX;
	for (unsigned i = 0; i < ANOMALY__COUNT; i++)
		k->met[i].win_start_us = now_us;
	if (subject == ANOMALY_HOST) {
		const uint8_t *ip = key;
		static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

		memcpy(k->ip, ip, 16);
		if (memcmp(ip, v4mapped, 12) == 0)
			inet_ntop(AF_INET, ip + 12, k->key, sizeof(k->key));
		else
			inet_ntop(AF_INET6, ip, k->key, sizeof(k->key));
	} else {
		memcpy(k->key, key, len);
		k->key[len] = '\0';
	}
	k->next = m->bucket[h & m->mask];
	m->bucket[h & m->mask] = idx;
	lru_push_head(m, idx);
	m->st.keys++;
	return k;
}

/* ---------------------------------------------------------------- records */

/* What one record adds to each of its keys. */
struct am_rec {
	uint64_t ts_us;
	uint64_t messages, sessions, auth_failures, rejected, bytes;
	bool is_msg;
	uint32_t n_rcpt;
	const struct ipc_tx *tx;
};

static void
account(struct anomaly_model *m, struct am_out *o, struct am_key *k, const struct am_rec *r)
{
	static const uint8_t empty[1];
	const struct ipc_field *f = NULL;

	close_key(m, o, k, r->ts_us);
	k->met[ANOMALY_MESSAGES].count += r->messages;
	k->met[ANOMALY_SESSIONS].count += r->sessions;
	k->met[ANOMALY_AUTH_FAILURES].count += r->auth_failures;
	k->met[ANOMALY_RCPTS_REJECTED].count += r->rejected;
	k->met[ANOMALY_BYTES].count += r->bytes;
	while ((f = ipc_tx_next(r->tx, f)) != NULL) {
		const uint8_t *v = ipc_field_value(f);

		if (f->type != IPC_F_RCPT || f->len < sizeof(struct ipc_rcpt))
			continue;
		v += sizeof(struct ipc_rcpt);
		set_add(k, hash_mix64(fnv1a_lower(UINT64_C(0xcbf29ce484222325),
						  f->len > sizeof(struct ipc_rcpt) ? v : empty,
						  f->len - sizeof(struct ipc_rcpt))));
	}
	if (r->is_msg)
		judge(m, o, k, ANOMALY_RCPTS_PER_MSG, r->n_rcpt, r->ts_us, r->ts_us);
	update_due(k);
}

/* The sender domain of a MAIL FROM value into out (lowercased); its length. */
static size_t
sender_domain(const uint8_t *v, size_t len, char out[ANOMALY_KEY_MAX + 1])
{
	size_t at, n = 0;

	if (len > 0 && v[0] == '<') {
		v++;
		len--;
	}
	if (len > 0 && v[len - 1] == '>')
		len--;
	if (len == 0) {
		memcpy(out, "<>", 3);
		return 2;
	}
	for (at = len; at > 0 && v[at - 1] != '@'; at--)
		;
	/* no '@': the whole address; "user@": nothing after it, taken as the null sender */
	if (at == len && at > 0) {
		memcpy(out, "<>", 3);
		return 2;
	}
	for (size_t i = at; i < len && n < ANOMALY_KEY_MAX; i++) {
		char c = (char)v[i];

		out[n++] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
	}
	out[n] = '\0';
	return n;
}

unsigned
anomaly_model_observe(struct anomaly_model *m, const struct ipc_tx *tx,
		      struct anomaly_alert *out, unsigned cap)
{
	struct am_out o = { .a = out, .cap = out == NULL ? 0 : cap };
	struct am_rec r = { .ts_us = tx->ts_us, .tx = tx };
	const struct ipc_field *f = NULL;
	char domain[ANOMALY_KEY_MAX + 1];
	size_t domain_len = 0;
	bool has_domain = false;
	struct am_key *k;

	if (m->internal == NULL ||
	    !netset_ip_contains(m->internal, m->n_internal, tx->src_ip)) {
		m->st.external++;
		return 0;
	}
	m->st.records++;
	r.is_msg = (tx->flags & IPC_TXF_HAS_DATA) != 0;
	r.messages = r.is_msg;
	r.bytes = tx->body_bytes;
	r.n_rcpt = tx->n_rcpt;
	if (tx->tx_seq == 0) {
		r.sessions = 1;
		r.auth_failures = tx->auth_code >= 500 && tx->auth_code <= 599;
	}
	while ((f = ipc_tx_next(tx, f)) != NULL) {
		const uint8_t *v = ipc_field_value(f);

		if (f->type == IPC_F_MAIL_FROM && !has_domain) {
			domain_len = sender_domain(v, f->len, domain);
			has_domain = true;
		} else if (f->type == IPC_F_RCPT && f->len >= sizeof(struct ipc_rcpt)) {
			struct ipc_rcpt head;

			memcpy(&head, v, sizeof(head));
			r.rejected += head.reply_code >= 500 && head.reply_code <= 599;
		}
	}
	k = key_get(m, ANOMALY_HOST, tx->src_ip, 16, r.ts_us);
	account(m, &o, k, &r);
	if (has_domain) {
		k = key_get(m, ANOMALY_SENDER_DOMAIN, domain, domain_len, r.ts_us);
		account(m, &o, k, &r);
	}
	return o.n;
}

unsigned
anomaly_model_tick(struct anomaly_model *m, uint64_t now_us, struct anomaly_alert *out,
		   unsigned cap)
{
	struct am_out o = { .a = out, .cap = out == NULL ? 0 : cap };

	for (uint32_t i = 0; i < m->n_hi; i++) {
		struct am_key *k = &m->keys[i];

		if (k->used && k->due_us <= now_us)
			close_key(m, &o, k, now_us);
	}
	return o.n;
}

uint64_t
anomaly_model_dropped(const struct anomaly_model *m)
{
	return m->st.dropped;
}

void
anomaly_model_stats(const struct anomaly_model *m, struct anomaly_model_stats *out)
{
	*out = m->st;
}

/* ---------------------------------------------------------------- create */

static int
check_range(char *err, size_t errlen, const char *key, uint32_t v, uint32_t lo, uint32_t hi)
{
	if (v < lo || v > hi)
		return fail(err, errlen, "%s: must be %u..%u, not %u", key, lo, hi, v);
	return 0;
}

struct anomaly_model *
anomaly_model_create(const struct postern_config *cfg, char *err, size_t errlen)
{
	struct anomaly_model *m = NULL;
	struct netset_vars *vars = NULL;
	size_t err_off = 0, nb = 1;
	char msg[256];
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	rc = check_range(err, errlen, "anomaly_multiple_pct", cfg->anomaly_multiple_pct, 101,
			 100000);
	if (rc == 0)
		rc = check_range(err, errlen, "anomaly_alpha_pct", cfg->anomaly_alpha_pct, 1, 100);
	if (rc == 0)
		rc = check_range(err, errlen, "anomaly_keys", cfg->anomaly_keys, 16, 1u << 22);
	if (rc != 0) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		goto fail_nomem;
	m->warmup_us = (uint64_t)cfg->anomaly_warmup * US_PER_S;
	m->suppress_us = (uint64_t)cfg->anomaly_suppress * US_PER_S;
	m->multiple = cfg->anomaly_multiple_pct / 100.0;
	m->alpha = cfg->anomaly_alpha_pct / 100.0;
	m->floor[ANOMALY_MESSAGES] = cfg->anomaly_floor_messages;
	m->floor[ANOMALY_RCPTS_PER_MSG] = cfg->anomaly_floor_rcpts_per_msg;
	m->floor[ANOMALY_DISTINCT_RCPTS] = cfg->anomaly_floor_distinct_rcpts;
	m->floor[ANOMALY_AUTH_FAILURES] = cfg->anomaly_floor_auth_failures;
	m->floor[ANOMALY_RCPTS_REJECTED] = cfg->anomaly_floor_rcpts_rejected;
	m->floor[ANOMALY_SESSIONS] = cfg->anomaly_floor_sessions;
	m->floor[ANOMALY_BYTES] = cfg->anomaly_floor_bytes;
	m->cap = cfg->anomaly_keys;
	m->lru_head = m->lru_tail = AM_NIL;
	while (nb < m->cap)
		nb <<= 1;
	m->mask = (uint32_t)(nb - 1);
	m->bucket = malloc(nb * sizeof(*m->bucket));
	m->keys = calloc(m->cap, sizeof(*m->keys));
	if (m->bucket == NULL || m->keys == NULL)
		goto fail_nomem;
	memset(m->bucket, 0xff, nb * sizeof(*m->bucket));
	/* The seed only spreads buckets against chosen domains; a fixed one still works. */
	if (getrandom(&m->seed, sizeof(m->seed), GRND_NONBLOCK) != sizeof(m->seed))
		m->seed = hash_mix64((uint64_t)(uintptr_t)m);

	if (cfg->internal_clients[0] != '\0') {
		vars = netset_vars_defaults();
		if (vars == NULL)
			goto fail_nomem;
		rc = netset_ip_compile(cfg->internal_clients,
				       strnlen(cfg->internal_clients, sizeof(cfg->internal_clients)),
				       vars, &m->internal, &m->n_internal, &err_off, msg,
				       sizeof(msg));
		netset_vars_destroy(vars);
		if (rc == -ENOMEM)
			goto fail_nomem;
		if (rc != 0) {
			fail(err, errlen, "internal_clients: %s", msg);
			anomaly_model_destroy(m);
			errno = EINVAL;
			return NULL;
		}
	}
	return m;

fail_nomem:
	anomaly_model_destroy(m);
	fail(err, errlen, "anomaly_keys: out of memory for %u keys", cfg->anomaly_keys);
	errno = ENOMEM;
	return NULL;
}

void
anomaly_model_destroy(struct anomaly_model *m)
{
	if (m == NULL)
		return;
	free(m->internal);
	free(m->keys);
	free(m->bucket);
	free(m);
}
