/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternctl rules test: a rule pack run offline over captures and .eml messages; see
 * rules_test.h. Captures are taken the way a dataplane worker takes packets (worker.c is the
 * model: same decode, fragment reassembly, client-side choice, port-reuse rule, reassembly
 * limits and flow timeouts from the config) so that what fires here is what would fire on
 * the wire; only the flow table is a plain heap one instead of rte_hash. Messages go through
 * a synthetic SMTP session built here. Transactions are collected per input and reported in
 * input order. Control tool, single-threaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "addr_list.h"
#include "addr_norm.h"
#include "decode.h"
#include "flow_key.h"
#include "gen_format.h"
#include "inspect.h"
#include "ip_frag.h"
#include "ipc.h"
#include "mime_words.h"
#include "pcap_link.h"
#include "rules_test.h"
#include "rule_parse.h"
#include "rulegen.h"
#include "scan.h"
#include "tcp_reasm.h"

#define RT_BUCKETS (1u << 16)          /* flow hash buckets (chained) */
#define RT_SIDE_UNKNOWN 2
#define RT_SWEEP_US 1000000u           /* idle flows looked at once a second of capture time */
#define RT_FRAG_DATAGRAMS 4096         /* as a worker's table */
#define RT_FRAG_BYTES (8u << 20)
#define RT_FRAG_TIMEOUT_US 30000000u
#define RT_IFACES_MAX 256              /* pcapng interfaces per section */
#define RT_BLOCK_MAX (16u << 20)       /* a pcapng block larger than this is corrupt */
#define RT_FEED_CHUNK 16384            /* synthetic session: bytes handed over at a time */
#define RT_HEADER_MAX 65536            /* an unfolded header value kept for the envelope */

#define PCAPNG_PB 2u                   /* obsolete packet block */
#define PCAPNG_SPB 3u
#define PCAPNG_EPB 6u

enum rt_flow_state {
	RT_FLOW_NEW = 0,                 /* no payload yet */
	RT_FLOW_ESTABLISHED,
	RT_FLOW_CLOSING,                 /* a FIN seen */
	RT_FLOW__COUNT
};

struct rt_flow {
	struct flow_key key;
	uint32_t hash;
	struct rt_flow *hnext;           /* bucket chain */
	struct rt_flow *older, *newer;   /* by last activity: the stalest is evicted first */
	uint64_t ordinal;                /* 1-based, in order of creation: the record's flow_id */
	uint64_t last_us;
	uint8_t state;                   /* enum rt_flow_state */
	uint8_t client_side;             /* key side of the client, or RT_SIDE_UNKNOWN */
	bool saw_syn;
	bool no_session;                 /* no session could be had: not inspected */
	struct tcp_stream dir[2];        /* by key side */
	struct inspect_session *sess;
};

/* A transaction's outcome, kept until its input is done and sorted. */
struct rt_tx {
	uint64_t flow;
	uint32_t order;                  /* emission order, the last sort key */
	uint16_t seq;
	uint8_t status;
	bool has_mail_from;
	bool has_subject;
	uint16_t marks;                  /* Postern's reserved flowbits the rules set */
	uint16_t mail_from_len;
	uint16_t subject_len;
	uint32_t n_alerts;
	uint8_t *mail_from;
	uint8_t *subject;
	struct rules_test_alert *alerts;
};

struct pcapng_iface {
	int link;                    /* enum decode_link, or -1 */
	uint32_t snaplen;
	bool tsres_pow2;             /* if_tsresol: 2^-n, else 10^-n */
	uint8_t tsres;
	int64_t tsoffset;            /* seconds */
};

struct rules_test {
	struct postern_config cfg;
	struct scan_gen *gen;
	struct tcp_reasm_pool *reasm;
	struct tcp_reasm_limits lim;
	struct ip_frag_table *frags;
	uint64_t timeout_us[RT_FLOW__COUNT];
	/* per input */
	struct rt_flow **buckets;
	struct rt_flow *oldest, *newest;
	uint32_t n_flows;
	uint32_t n_sessions;
	uint64_t next_ordinal;
	uint64_t last_sweep_us;
	struct rt_tx *txs;
	size_t n_txs, cap_txs;
	struct pcapng_iface ifaces[RT_IFACES_MAX]; /* of the current pcapng section */
	struct rules_test_stats stats;
	struct inspect_env env;          /* last: 25 KB of scratch */
};

/* ---- transaction records ---- */

static struct ipc_tx *
rt_tx_alloc(void *io)
{
	(void)io;
	return aligned_alloc(8, IPC_TX_MAX);
}

static uint8_t *
dup_bytes(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len + 1);

	if (d != NULL) {
		memcpy(d, p, len);
		d[len] = 0;
	}
	return d;
}

static void
rt_tx_free(struct rt_tx *t)
{
	free(t->mail_from);
	free(t->subject);
	free(t->alerts);
}

static int
alert_cmp(const void *a, const void *b)
{
	const struct rules_test_alert *x = a, *y = b;

	if (x->gid != y->gid)
		return x->gid < y->gid ? -1 : 1;
	return x->sid < y->sid ? -1 : x->sid > y->sid;
}

/* A record is complete: what the report needs is kept, the record itself freed. */
static void
rt_tx_emit(void *io, struct ipc_tx *rec)
{
	struct rules_test *rt = io;
	const struct ipc_field *f;
	struct rt_tx t = { 0 };
	uint32_t n_alerts = 0;

	if (ipc_tx_check(rec, rec->hdr.len) < 0)
		goto lost;  /* inspect.c builds what ipc_tx_check accepts: a bug, never input */
	for (f = ipc_tx_next(rec, NULL); f != NULL; f = ipc_tx_next(rec, f))
		n_alerts += f->type == IPC_F_ALERT;
	if (rt->n_txs == rt->cap_txs) {
		size_t cap = rt->cap_txs != 0 ? rt->cap_txs * 2 : 64;
		struct rt_tx *n = realloc(rt->txs, cap * sizeof(*n));

		if (n == NULL)
			goto lost;
		rt->txs = n;
		rt->cap_txs = cap;
	}
	t.flow = rec->flow_id;
	t.seq = rec->tx_seq;
	t.order = (uint32_t)rt->n_txs;
	t.status = rec->status;
	t.marks = rec->marks;
	if (n_alerts > 0 && (t.alerts = calloc(n_alerts, sizeof(*t.alerts))) == NULL)
		goto lost;
	for (f = ipc_tx_next(rec, NULL); f != NULL; f = ipc_tx_next(rec, f)) {
		const uint8_t *v = ipc_field_value(f);

		if (f->type == IPC_F_ALERT) {
			struct ipc_alert a;

			memcpy(&a, v, sizeof(a));
			t.alerts[t.n_alerts++] = (struct rules_test_alert){
				.gid = a.gid, .sid = a.sid, .rev = a.rev, .action = a.action,
			};
		} else if (f->type == IPC_F_MAIL_FROM && !t.has_mail_from) {
			t.mail_from = dup_bytes(v, f->len);
			t.mail_from_len = f->len;
			t.has_mail_from = t.mail_from != NULL;
		} else if (f->type == IPC_F_SUBJECT && !t.has_subject) {
			t.subject = dup_bytes(v, f->len);
			t.subject_len = f->len;
			t.has_subject = t.subject != NULL;
		}
	}
	/* by (gid, sid): the record's order is the rule tables', which says nothing */
	if (t.n_alerts > 1)
		qsort(t.alerts, t.n_alerts, sizeof(*t.alerts), alert_cmp);
	rt->txs[rt->n_txs++] = t;
	free(rec);
	return;
lost:
	rt_tx_free(&t);
	rt->stats.n_records_lost++;
	free(rec);
}

static int
rt_tx_cmp(const void *a, const void *b)
{
	const struct rt_tx *x = a, *y = b;

	if (x->flow != y->flow)
		return x->flow < y->flow ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The input is done: its transactions go out in input order, then are forgotten. */
static void
rt_report(struct rules_test *rt, const char *name, rules_test_tx_fn fn, void *ctx)
{
	if (rt->n_txs > 1)
		qsort(rt->txs, rt->n_txs, sizeof(*rt->txs), rt_tx_cmp);
	for (size_t i = 0; i < rt->n_txs; i++) {
		struct rt_tx *t = &rt->txs[i];
		struct rules_test_tx out = {
			.n = (unsigned)i + 1,
			.flow = t->flow,
			.status = t->status,
			.has_mail_from = t->has_mail_from,
			.has_subject = t->has_subject,
			.mail_from = slice_make(t->mail_from, t->mail_from_len),
			.subject = slice_make(t->subject, t->subject_len),
			.n_alerts = t->n_alerts,
			.alerts = t->alerts,
			.marks = t->marks,
		};

		rt->stats.n_transactions++;
		rt->stats.n_alerts += t->n_alerts;
		rt->stats.n_fired_tx += t->n_alerts > 0;
		if (fn != NULL)
			fn(ctx, name, &out);
		rt_tx_free(t);
	}
	rt->n_txs = 0;
}

/* ---- flows ---- */

struct rt_stream_ctx {
	struct rules_test *rt;
	struct rt_flow *f;
	bool to_server;
};

static void
rt_flow_meta(const struct rt_flow *f, struct inspect_flow_meta *meta)
{
	unsigned c = f->client_side == RT_SIDE_UNKNOWN ? 0 : f->client_side;

	inspect_flow_meta_from_key(meta, &f->key, c, f->ordinal, !f->saw_syn);
}

static void
rt_session_start(struct rules_test *rt, struct rt_flow *f)
{
	struct inspect_flow_meta meta;

	if (rt->n_sessions >= RULES_TEST_SESSIONS_MAX ||
	    (f->sess = malloc(sizeof(*f->sess))) == NULL) {
		rt->stats.n_sessions_full++;
		f->no_session = true;
		return;
	}
	rt->n_sessions++;
	rt_flow_meta(f, &meta);
	inspect_session_init(f->sess, &rt->env, &meta);
}

static void
rt_deliver(void *ctx, const uint8_t *data, uint32_t len)
{
	struct rt_stream_ctx *c = ctx;

	if (c->f->client_side == RT_SIDE_UNKNOWN || c->f->no_session)
		return;
	if (c->f->sess == NULL)
		rt_session_start(c->rt, c->f);
	if (c->f->sess != NULL)
		inspect_session_data(c->f->sess, c->to_server, data, len);
}

static void
rt_gap(void *ctx, uint32_t len)
{
	struct rt_stream_ctx *c = ctx;

	if (c->f->sess != NULL)
		inspect_session_gap(c->f->sess, c->to_server, len);
}

static const struct tcp_reasm_ops rt_stream_ops = {
	.deliver = rt_deliver,
	.gap = rt_gap,
};

static void
lru_unlink(struct rules_test *rt, struct rt_flow *f)
{
	if (f->older != NULL)
		f->older->newer = f->newer;
	else
		rt->oldest = f->newer;
	if (f->newer != NULL)
		f->newer->older = f->older;
	else
		rt->newest = f->older;
	f->older = f->newer = NULL;
}

static void
lru_append(struct rules_test *rt, struct rt_flow *f)
{
	f->older = rt->newest;
	f->newer = NULL;
	if (rt->newest != NULL)
		rt->newest->newer = f;
	else
		rt->oldest = f;
	rt->newest = f;
}

/* The flow ends: what its streams still queue reaches the session, which then closes. */
static void
rt_flow_remove(struct rules_test *rt, struct rt_flow *f)
{
	struct rt_flow **pp = &rt->buckets[f->hash & (RT_BUCKETS - 1)];

	for (unsigned side = 0; side < 2; side++) {
		struct rt_stream_ctx c = { rt, f, side == f->client_side };

		tcp_stream_flush(&f->dir[side], rt->reasm, &rt->lim, &rt_stream_ops, &c);
		tcp_stream_release(&f->dir[side], rt->reasm);
	}
	if (f->sess != NULL) {
		inspect_session_close(f->sess);
		free(f->sess);
		f->sess = NULL;
		rt->n_sessions--;
	}
	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	lru_unlink(rt, f);
	rt->n_flows--;
	free(f);
}

static struct rt_flow *
rt_flow_lookup(struct rules_test *rt, const struct flow_key *key, uint32_t hash, bool create,
	       bool *created)
{
	struct rt_flow *f;

	*created = false;
	for (f = rt->buckets[hash & (RT_BUCKETS - 1)]; f != NULL; f = f->hnext)
		if (f->hash == hash && memcmp(&f->key, key, sizeof(*key)) == 0)
			return f;
	if (!create)
		return NULL;
	if (rt->n_flows >= RULES_TEST_FLOWS_MAX && rt->oldest != NULL) {
		rt_flow_remove(rt, rt->oldest);
		rt->stats.n_flows_evicted++;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->key = *key;
	f->hash = hash;
	f->ordinal = ++rt->next_ordinal;
	f->client_side = RT_SIDE_UNKNOWN;
	tcp_stream_init(&f->dir[0]);
	tcp_stream_init(&f->dir[1]);
	f->hnext = rt->buckets[hash & (RT_BUCKETS - 1)];
	rt->buckets[hash & (RT_BUCKETS - 1)] = f;
	lru_append(rt, f);
	rt->n_flows++;
	rt->stats.n_flows++;
	*created = true;
	return f;
}

/* Idle flows leave as a worker's timing wheel would make them: by capture time. */
static void
rt_sweep(struct rules_test *rt)
{
	uint64_t now = rt->env.now_us;
	uint64_t min = rt->timeout_us[0];
	struct rt_flow *f, *next;

	if (now >= rt->last_sweep_us && now - rt->last_sweep_us < RT_SWEEP_US)
		return;
	rt->last_sweep_us = now;
	for (unsigned i = 1; i < RT_FLOW__COUNT; i++)
		min = rt->timeout_us[i] < min ? rt->timeout_us[i] : min;
	/* oldest activity first: past the first flow too young for any timeout, none is due */
	for (f = rt->oldest; f != NULL && f->last_us + min <= now; f = next) {
		next = f->newer;
		if (f->last_us + rt->timeout_us[f->state] <= now)
			rt_flow_remove(rt, f);
	}
	ip_frag_sweep(rt->frags, now, 64);
}

static void
rt_flush_flows(struct rules_test *rt)
{
	while (rt->oldest != NULL)
		rt_flow_remove(rt, rt->oldest);
}

/* Which side of the key is the client: the SYN's sender, else whoever talks to our port. */
static void
learn_client_side(const struct rules_test *rt, struct rt_flow *f, const struct pkt_info *p,
		  unsigned side)
{
	if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
		f->client_side = (uint8_t)side;
	else if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		f->client_side = (uint8_t)(side ^ 1);
	else if (f->client_side == RT_SIDE_UNKNOWN)
		f->client_side = config_is_inspected_port(&rt->cfg, p->dport) ? (uint8_t)side
									  : (uint8_t)(side ^ 1);
}

static void
rt_segment(struct rules_test *rt, const struct pkt_info *p)
{
	struct flow_key key;
	unsigned side = flow_key_from_pkt(&key, p);
	uint32_t hash = flow_key_hash(&key);
	bool create = (p->tcp_flags & TCP_RST) == 0 &&
		      ((p->tcp_flags & TCP_SYN) || p->payload_len > 0);
	bool created;
	struct rt_flow *f = rt_flow_lookup(rt, &key, hash, create, &created);

	/* A fresh SYN on a flow that carried data or began closing is a new connection on the
	 * same 4-tuple (worker.c: handle_decoded). */
	if (f != NULL && !created && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
	    f->state != RT_FLOW_NEW) {
		rt_flow_remove(rt, f);
		f = rt_flow_lookup(rt, &key, hash, true, &created);
	}
	if (f == NULL)
		return;
	f->last_us = rt->env.now_us;
	lru_unlink(rt, f);
	lru_append(rt, f);
	f->saw_syn |= (p->tcp_flags & TCP_SYN) != 0;
	learn_client_side(rt, f, p, side);
	if (p->payload_len > 0 && f->state == RT_FLOW_NEW)
		f->state = RT_FLOW_ESTABLISHED;
	if (p->tcp_flags & TCP_FIN)
		f->state = RT_FLOW_CLOSING;

	struct rt_stream_ctx c = { rt, f, side == f->client_side };

	tcp_stream_segment(&f->dir[side], rt->reasm, &rt->lim, p->seq, p->tcp_flags, p->payload,
			   p->payload_len, &rt_stream_ops, &c);
	if (p->tcp_flags & TCP_ACK) {
		struct rt_stream_ctx back = { rt, f, !c.to_server };

		tcp_stream_ack(&f->dir[side ^ 1], rt->reasm, &rt->lim, p->ack, &rt_stream_ops,
			       &back);
	}
	if ((tcp_stream_is_closed(&f->dir[0]) && tcp_stream_is_closed(&f->dir[1])) ||
	    tcp_stream_rst_seen(&f->dir[side]))
		rt_flow_remove(rt, f);
}

/* A fragment joins its datagram; the whole datagram is decoded once complete. */
static enum decode_result
rt_reassemble(struct rules_test *rt, const uint8_t *frame, size_t len, struct pkt_info *p)
{
	struct pkt_info whole;
	const uint8_t *ip;
	size_t ip_len;

	if (ip_frag_add(rt->frags, frame, len, p, rt->env.now_us, &ip, &ip_len, NULL) !=
	    IP_FRAG_COMPLETE)
		return DECODE_FRAGMENT;

	enum decode_result r = decode_ip(ip, ip_len, &whole);

	if (r == DECODE_FRAGMENT)
		return DECODE_FRAGMENT; /* a fragment inside a fragment: never fed back */
	whole.n_vlans = p->n_vlans;
	memcpy(whole.vlan, p->vlan, sizeof(whole.vlan));
	*p = whole;
	return r;
}

static void
rt_frame(struct rules_test *rt, enum decode_link link, const uint8_t *frame, size_t len,
	 uint64_t ts_us)
{
	struct pkt_info p;
	enum decode_result r;

	rt->stats.n_frames++;
	rt->env.now_us = ts_us;
	/* Time passed before this frame came: flows idle past their timeout are gone by now,
	 * as they would be on a live port (a worker replaying a file sweeps after each burst,
	 * which can keep a flow its next packet arrives for). */
	rt_sweep(rt);
	if (len > UINT16_MAX)
		len = UINT16_MAX; /* as a worker reads an mbuf chain */
	r = decode_frame(link, frame, len, &p);
	if (r == DECODE_FRAGMENT)
		r = rt_reassemble(rt, frame, len, &p);
	if (r == DECODE_OK) {
		if (config_is_inspected_port(&rt->cfg, p.dport) ||
		    config_is_inspected_port(&rt->cfg, p.sport))
			rt_segment(rt, &p);
	} else if (r != DECODE_FRAGMENT && r != DECODE_NOT_IP && r != DECODE_NOT_TCP) {
		rt->stats.n_decode_errors++;
	}
}

/* ---- captures ---- */

static int
run_pcap(struct rules_test *rt, const char *name, const uint8_t *buf, size_t len, char *err,
	 size_t errlen)
{
	uint32_t magic = pcap_rd32(buf, false);
	bool swap = magic == __builtin_bswap32(PCAP_MAGIC_US) ||
		    magic == __builtin_bswap32(PCAP_MAGIC_NS);
	bool ns = magic == PCAP_MAGIC_NS || magic == __builtin_bswap32(PCAP_MAGIC_NS);
	unsigned dlt;
	int link;
	size_t off = 24;

	if (len < 24) {
		snprintf(err, errlen, "%s: pcap file header cut short (%zu bytes)", name, len);
		return -EINVAL;
	}
	dlt = pcap_rd32(buf + 20, swap) & 0x03ffffffu; /* the upper bits carry FCS information */
	link = pcap_link_from_dlt(dlt);
	if (link < 0) {
		snprintf(err, errlen, "%s: link type %u is not one the decoder follows", name, dlt);
		return -ENOTSUP;
	}
	while (off < len) {
		if (len - off < 16) {
			snprintf(err, errlen, "%s: capture ends inside a record header at byte %zu",
				 name, off);
			rt->stats.n_truncated_inputs++;
			return 0;
		}
		uint64_t sec = pcap_rd32(buf + off, swap), frac = pcap_rd32(buf + off + 4, swap);
		uint32_t incl = pcap_rd32(buf + off + 8, swap);

		off += 16;
		if (incl > RULES_TEST_FRAME_MAX || incl > len - off) {
			snprintf(err, errlen, "%s: %s record at byte %zu (%u bytes)", name,
				 incl > RULES_TEST_FRAME_MAX ? "corrupt" : "truncated", off - 16,
				 incl);
			rt->stats.n_truncated_inputs++;
			return 0;
		}
		rt_frame(rt, (enum decode_link)link, buf + off, incl,
			 sec * 1000000 + (ns ? frac / 1000 : frac));
		off += incl;
	}
	return 0;
}

static uint64_t
pcapng_ts_us(const struct pcapng_iface *ifc, uint64_t ts)
{
	uint64_t us;

	if (ifc->tsres_pow2) {
		unsigned n = ifc->tsres > 63 ? 63 : ifc->tsres;

		us = (ts >> n) * 1000000 + (((ts & ((UINT64_C(1) << n) - 1)) * 1000000) >> n);
	} else if (ifc->tsres >= 6) {
		uint64_t div = 1;

		for (unsigned i = 6; i < ifc->tsres && i < 25; i++)
			div *= 10;
		us = ifc->tsres >= 25 ? 0 : ts / div;
	} else {
		us = ts;
		for (unsigned i = ifc->tsres; i < 6; i++)
			us *= 10;
	}
	return us + (uint64_t)ifc->tsoffset * 1000000;
}

/* Interface description: link type, snap length and the timestamp options. */
static void
pcapng_idb(struct pcapng_iface *ifc, const uint8_t *body, size_t len, bool swap)
{
	*ifc = (struct pcapng_iface){ .link = -1, .tsres = 6 };
	if (len < 8)
		return;
	ifc->link = pcap_link_from_dlt(pcap_rd16(body, swap));
	ifc->snaplen = pcap_rd32(body + 4, swap);
	for (size_t off = 8; off + 4 <= len;) {
		uint16_t code = pcap_rd16(body + off, swap), olen = pcap_rd16(body + off + 2, swap);

		off += 4;
		if (code == 0 || olen > len - off)
			break;
		if (code == 9 && olen >= 1) {
			ifc->tsres_pow2 = (body[off] & 0x80) != 0;
			ifc->tsres = body[off] & 0x7f;
		} else if (code == 14 && olen >= 8) {
			uint64_t v;

			memcpy(&v, body + off, 8);
			ifc->tsoffset = (int64_t)(swap ? __builtin_bswap64(v) : v);
		}
		off += (olen + 3u) & ~3u;
	}
}

static int
run_pcapng(struct rules_test *rt, const char *name, const uint8_t *buf, size_t len, char *err,
	   size_t errlen)
{
	struct pcapng_iface *ifaces = rt->ifaces;
	unsigned n_ifaces = 0;
	bool swap = false, linked = false;
	size_t off = 0;

	while (off < len) {
		if (len - off < 12) {
			snprintf(err, errlen, "%s: capture ends inside a block at byte %zu", name,
				 off);
			rt->stats.n_truncated_inputs++;
			return 0;
		}
		uint32_t type = pcap_rd32(buf + off, swap);

		if (type == PCAPNG_SHB) {
			/* a new section: its own byte order and interfaces */
			uint32_t bom = pcap_rd32(buf + off + 8, false);

			if (bom != PCAPNG_BYTE_ORDER &&
			    bom != __builtin_bswap32(PCAPNG_BYTE_ORDER)) {
				snprintf(err, errlen,
					 "%s: pcapng section at byte %zu has no byte-order magic",
					 name, off);
				if (off == 0)
					return -EINVAL;
				rt->stats.n_truncated_inputs++;
				return 0;
			}
			swap = bom != PCAPNG_BYTE_ORDER;
			n_ifaces = 0;
		}

		uint32_t blen = pcap_rd32(buf + off + 4, swap);

		if (blen < 12 || (blen & 3) != 0 || blen > RT_BLOCK_MAX || blen > len - off) {
			snprintf(err, errlen, "%s: %s block at byte %zu (%u bytes)", name,
				 blen > len - off && blen <= RT_BLOCK_MAX ? "truncated" : "corrupt",
				 off, blen);
			rt->stats.n_truncated_inputs++;
			return 0;
		}

		const uint8_t *body = buf + off + 8;
		size_t body_len = blen - 12;
		const struct pcapng_iface *ifc = NULL;
		uint64_t ts = 0;
		uint32_t cap = 0;
		const uint8_t *data = NULL;

		switch (type) {
		case PCAPNG_IDB:
			if (n_ifaces < RT_IFACES_MAX) {
				pcapng_idb(&ifaces[n_ifaces], body, body_len, swap);
				linked |= ifaces[n_ifaces].link >= 0;
			}
			n_ifaces++;
			break;
		case PCAPNG_EPB:
		case PCAPNG_PB: {
			if (body_len < 20)
				break;
			uint32_t id = type == PCAPNG_EPB ? pcap_rd32(body, swap) : pcap_rd16(body, swap);

			ifc = id < n_ifaces && id < RT_IFACES_MAX ? &ifaces[id] : NULL;
			ts = (uint64_t)pcap_rd32(body + 4, swap) << 32 | pcap_rd32(body + 8, swap);
			cap = pcap_rd32(body + 12, swap);
			data = body + 20;
			if (cap > body_len - 20)
				ifc = NULL; /* a packet longer than its block: skipped */
			break;
		}
		case PCAPNG_SPB:
			if (body_len < 4)
				break;
			ifc = n_ifaces > 0 ? &ifaces[0] : NULL;
			cap = pcap_rd32(body, swap);
			if (ifc != NULL && ifc->snaplen != 0 && cap > ifc->snaplen)
				cap = ifc->snaplen;
			if (cap > body_len - 4)
				cap = (uint32_t)(body_len - 4);
			data = body + 4;
			break;
		default:
			break; /* name resolution, statistics, custom blocks */
		}
		if (data != NULL && (ifc == NULL || ifc->link < 0))
			rt->stats.n_frames_skipped++;
		else if (data != NULL) /* a simple packet block has no time: the last one's */
			rt_frame(rt, (enum decode_link)ifc->link, data, cap,
				 type == PCAPNG_SPB ? rt->env.now_us : pcapng_ts_us(ifc, ts));
		off += blen;
	}
	if (!linked && n_ifaces > 0) {
		snprintf(err, errlen, "%s: no interface of a link type the decoder follows", name);
		return -ENOTSUP;
	}
	return 0;
}

/* ---- messages: a synthetic SMTP session ---- */

/* Bytes of one direction, gathered and handed to the session in chunks. */
struct rt_feed {
	struct inspect_session *s;
	bool to_server;
	size_t len;
	uint8_t buf[RT_FEED_CHUNK];
};

static void
feed_flush(struct rt_feed *o)
{
	if (o->len > 0)
		inspect_session_data(o->s, o->to_server, o->buf, o->len);
	o->len = 0;
}

static void
feed_put(struct rt_feed *o, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		size_t k = sizeof(o->buf) - o->len < n ? sizeof(o->buf) - o->len : n;

		memcpy(o->buf + o->len, b, k);
		o->len += k;
		b += k;
		n -= k;
		if (o->len == sizeof(o->buf))
			feed_flush(o);
	}
}

static void
feed_str(struct rt_feed *o, const char *s)
{
	feed_put(o, s, strlen(s));
}

/* One side says something: a whole command or reply, as its own segment. */
static void
say(struct rt_feed *o, bool to_server, const char *s)
{
	o->to_server = to_server;
	feed_str(o, s);
	feed_flush(o);
}

struct eml_envelope {
	uint8_t mail_from[ADDR_NORM_MAX + 1];
	size_t mail_from_len;
	bool has_mail_from;
	uint32_t n_rcpt;
	uint16_t rcpt_len[RULES_TEST_RCPT_MAX];
	uint8_t rcpt[RULES_TEST_RCPT_MAX][ADDR_NORM_MAX + 1];
	uint8_t value[RT_HEADER_MAX]; /* one unfolded header value */
};

/* The header block of a message: one field at a time, name and raw (folded) value. */
static bool
eml_next_header(const uint8_t *msg, size_t len, size_t *pos, struct slice *name,
		struct slice *value)
{
	size_t p = *pos, eol, colon;

	if (p >= len || msg[p] == '\n' || (msg[p] == '\r' && p + 1 < len && msg[p + 1] == '\n'))
		return false; /* the blank line: end of the header block */
	const uint8_t *nl = memchr(msg + p, '\n', len - p);

	eol = nl != NULL ? (size_t)(nl - msg) : len;
	const uint8_t *c = memchr(msg + p, ':', eol - p);

	if (c == NULL)
		return false; /* not a field: the header block is over for our purpose */
	colon = (size_t)(c - msg);
	/* the value runs on over continuation lines (starting with WSP) */
	while (eol < len && eol + 1 < len && (msg[eol + 1] == ' ' || msg[eol + 1] == '\t')) {
		nl = memchr(msg + eol + 1, '\n', len - eol - 1);
		eol = nl != NULL ? (size_t)(nl - msg) : len;
	}
	*name = slice_trim(slice_make(msg + p, colon - p));
	*value = slice_make(msg + colon + 1, eol - colon - 1);
	*pos = eol < len ? eol + 1 : len;
	return true;
}

/* Unfold (drop CR and LF, keep the WSP that follows) into the envelope's scratch value. */
static struct slice
eml_unfold(struct eml_envelope *e, struct slice v)
{
	size_t n = 0;

	for (size_t i = 0; i < v.len && n < sizeof(e->value); i++)
		if (v.ptr[i] != '\r' && v.ptr[i] != '\n')
			e->value[n++] = v.ptr[i];
	return slice_trim(slice_make(e->value, n));
}

/*
 * The addr-spec of one element of an address list: what is inside <...> when there is one,
 * else the element without comments, white space and group syntax ("team: a@b;"). Copied
 * into out (ADDR_NORM_MAX + 1 bytes); 0 when the element holds no address.
 */
static size_t
addr_spec(struct slice item, uint8_t *out)
{
	size_t n = 0, open = SIZE_MAX, close = SIZE_MAX;
	unsigned depth = 0;
	bool quoted = false;

	for (size_t i = 0; i < item.len; i++) {
		uint8_t ch = item.ptr[i];

		if (quoted) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				quoted = false;
		} else if (depth > 0) {
			if (ch == '\\')
				i++;
			else if (ch == '(')
				depth++;
			else if (ch == ')')
				depth--;
		} else if (ch == '"') {
			quoted = true;
		} else if (ch == '(') {
			depth++;
		} else if (ch == '<' && open == SIZE_MAX) {
			open = i;
		} else if (ch == '>' && open != SIZE_MAX && close == SIZE_MAX) {
			close = i;
		}
	}
	if (open != SIZE_MAX) {
		size_t end = close != SIZE_MAX ? close : item.len;
		struct slice in = slice_trim(slice_make(item.ptr + open + 1, end - open - 1));

		if (in.len > ADDR_NORM_MAX || memchr(in.ptr, '@', in.len) == NULL)
			return 0;
		memcpy(out, in.ptr, in.len);
		return in.len;
	}
	/* no angle brackets: drop comments and blanks; a group's "name:" and ";" go too */
	depth = 0;
	quoted = false;
	for (size_t i = 0; i < item.len; i++) {
		uint8_t ch = item.ptr[i];

		if (!quoted && depth == 0 && ch == '(') {
			depth++;
			continue;
		}
		if (depth > 0) {
			if (ch == '\\')
				i++;
			else if (ch == '(')
				depth++;
			else if (ch == ')')
				depth--;
			continue;
		}
		if (ch == '"')
			quoted = !quoted;
		if (!quoted && (ch == ' ' || ch == '\t' || ch == ';'))
			continue;
		if (!quoted && ch == ':') {
			n = 0; /* "group-name:" */
			continue;
		}
		if (n == ADDR_NORM_MAX)
			return 0;
		out[n++] = ch;
	}
	return memchr(out, '@', n) != NULL ? n : 0;
}

static bool
has_8bit(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] & 0x80)
			return true;
	return false;
}

static void
eml_add_rcpt(struct eml_envelope *e, const uint8_t *a, size_t n)
{
	for (uint32_t i = 0; i < e->n_rcpt; i++)
		if (e->rcpt_len[i] == n &&
		    strncasecmp((const char *)e->rcpt[i], (const char *)a, n) == 0)
			return;
	if (e->n_rcpt == RULES_TEST_RCPT_MAX)
		return;
	memcpy(e->rcpt[e->n_rcpt], a, n);
	e->rcpt_len[e->n_rcpt++] = (uint16_t)n;
}

/* MAIL FROM: Return-Path, else the first From address; RCPT TO: every To and Cc address. */
static void
eml_envelope(struct eml_envelope *e, const uint8_t *msg, size_t len)
{
	struct slice name, raw, v, item;
	size_t pos = 0, lp;
	bool from_return_path = false;
	uint8_t a[ADDR_NORM_MAX + 1];

	e->has_mail_from = false;
	e->n_rcpt = 0;
	while (eml_next_header(msg, len, &pos, &name, &raw)) {
		bool rp = slice_eq_nocase(name, "Return-Path");

		if (rp || slice_eq_nocase(name, "From")) {
			if (from_return_path || (e->has_mail_from && !rp))
				continue;
			v = eml_unfold(e, raw);
			lp = 0;
			if (rp && v.len >= 2 && memmem(v.ptr, v.len, "<>", 2) != NULL) {
				e->mail_from_len = 0; /* the null sender */
			} else if (addr_list_next(v, &lp, &item) &&
				   (e->mail_from_len = addr_spec(item, a)) > 0) {
				memcpy(e->mail_from, a, e->mail_from_len);
			} else {
				continue;
			}
			e->has_mail_from = true;
			from_return_path = rp;
		} else if (slice_eq_nocase(name, "To") || slice_eq_nocase(name, "Cc")) {
			size_t n;

			v = eml_unfold(e, raw);
			lp = 0;
			while (addr_list_next(v, &lp, &item))
				if ((n = addr_spec(item, a)) > 0)
					eml_add_rcpt(e, a, n);
		}
	}
	if (!e->has_mail_from) {
		e->mail_from_len = strlen("sender@example.com");
		memcpy(e->mail_from, "sender@example.com", e->mail_from_len);
		e->has_mail_from = true;
	}
	if (e->n_rcpt == 0)
		eml_add_rcpt(e, (const uint8_t *)"rcpt@example.net", strlen("rcpt@example.net"));
}

/* DATA: bare LFs become CRLF (as a submitting client sends them), leading dots doubled. */
static void
feed_message(struct rt_feed *o, const uint8_t *msg, size_t len)
{
	bool bol = true;

	o->to_server = true;
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = msg[i];

		if (bol && ch == '.')
			feed_put(o, ".", 1);
		if (ch == '\n' && (i == 0 || msg[i - 1] != '\r'))
			feed_put(o, "\r", 1);
		feed_put(o, &ch, 1);
		bol = ch == '\n';
	}
	feed_str(o, bol ? ".\r\n" : "\r\n.\r\n");
	feed_flush(o);
}

static int
run_eml(struct rules_test *rt, const char *name, const uint8_t *msg, size_t len, char *err,
	size_t errlen)
{
	static const uint8_t client[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 };
	static const uint8_t server[16] = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 2 };
	struct inspect_flow_meta meta = {
		.flow_id = 1, .client_port = 40000, .server_port = 25, .ip_version = 4,
	};
	struct eml_envelope *e = NULL;
	struct rt_feed *o = NULL;
	struct inspect_session *s = NULL;
	int rc = -ENOMEM;

	if (len > RULES_TEST_EML_MAX) {
		snprintf(err, errlen, "%s: message larger than %u bytes", name, RULES_TEST_EML_MAX);
		return -EFBIG;
	}
	e = malloc(sizeof(*e));
	o = malloc(sizeof(*o));
	s = malloc(sizeof(*s));
	if (e == NULL || o == NULL || s == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto out;
	}
	/* an mbox "From " separator line is not part of the message */
	if (len >= 5 && memcmp(msg, "From ", 5) == 0) {
		const uint8_t *nl = memchr(msg, '\n', len);
		size_t skip = nl != NULL ? (size_t)(nl - msg) + 1 : len;

		msg += skip;
		len -= skip;
	}
	eml_envelope(e, msg, len);
	memcpy(meta.client_ip, client, 16);
	memcpy(meta.server_ip, server, 16);
	rt->env.now_us = 0;
	inspect_session_init(s, &rt->env, &meta);
	o->s = s;
	o->len = 0;

	bool utf8 = has_8bit(e->mail_from, e->mail_from_len);

	for (uint32_t i = 0; i < e->n_rcpt; i++)
		utf8 |= has_8bit(e->rcpt[i], e->rcpt_len[i]);
	say(o, false, "220 mx.example.net ESMTP postern rules test\r\n");
	say(o, true, "EHLO client.example\r\n");
	say(o, false, "250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 67108864\r\n"
		      "250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n");
	o->to_server = true;
	feed_str(o, "MAIL FROM:<");
	feed_put(o, e->mail_from, e->mail_from_len);
	feed_str(o, ">");
	if (has_8bit(msg, len))
		feed_str(o, " BODY=8BITMIME");
	if (utf8)
		feed_str(o, " SMTPUTF8");
	feed_str(o, "\r\n");
	feed_flush(o);
	say(o, false, "250 2.1.0 Ok\r\n");
	for (uint32_t i = 0; i < e->n_rcpt; i++) {
		o->to_server = true;
		feed_str(o, "RCPT TO:<");
		feed_put(o, e->rcpt[i], e->rcpt_len[i]);
		feed_str(o, ">\r\n");
		feed_flush(o);
		say(o, false, "250 2.1.5 Ok\r\n");
	}
	say(o, true, "DATA\r\n");
	say(o, false, "354 End data with <CR><LF>.<CR><LF>\r\n");
	feed_message(o, msg, len);
	say(o, false, "250 2.0.0 Ok: queued\r\n");
	say(o, true, "QUIT\r\n");
	say(o, false, "221 2.0.0 Bye\r\n");
	inspect_session_close(s);
	rc = 0;
out:
	free(s);
	free(o);
	free(e);
	return rc;
}

/* ---- API ---- */

/* A line of RFC 5322 header: a field name (printable, no colon or space) and a colon. */
static bool
looks_like_header(const uint8_t *p, size_t len)
{
	size_t i = 0;

	while (i < len && i < 998 && p[i] > 32 && p[i] < 127 && p[i] != ':')
		i++;
	return i > 0 && i < len && p[i] == ':';
}

enum rules_test_kind
rules_test_detect(const uint8_t *buf, size_t len)
{
	if (len >= 4) {
		uint32_t m = pcap_rd32(buf, false);

		if (m == PCAP_MAGIC_US || m == PCAP_MAGIC_NS ||
		    m == __builtin_bswap32(PCAP_MAGIC_US) || m == __builtin_bswap32(PCAP_MAGIC_NS))
			return RULES_TEST_PCAP;
		if (m == PCAPNG_SHB && len >= 12 &&
		    (pcap_rd32(buf + 8, false) == PCAPNG_BYTE_ORDER ||
		     pcap_rd32(buf + 8, true) == PCAPNG_BYTE_ORDER))
			return RULES_TEST_PCAPNG;
	}
	/* an mbox "From " line may come first; the message starts with a header field */
	if (len >= 5 && memcmp(buf, "From ", 5) == 0) {
		const uint8_t *nl = memchr(buf, '\n', len);

		if (nl == NULL)
			return RULES_TEST_UNKNOWN;
		len -= (size_t)(nl - buf) + 1;
		buf = nl + 1;
	}
	return looks_like_header(buf, len) ? RULES_TEST_EML : RULES_TEST_UNKNOWN;
}

struct rules_test *
rules_test_create(const struct postern_config *cfg, const void *blob, size_t blob_len, char *err,
		  size_t errlen)
{
	struct rules_test *rt = calloc(1, sizeof(*rt));

	if (rt == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rt->cfg = *cfg;
	rt->gen = scan_gen_load(blob, blob_len, 1, err, errlen);
	if (rt->gen == NULL)
		goto fail;
	rt->reasm = tcp_reasm_pool_create(cfg->reasm_chunks);
	rt->frags = ip_frag_table_create(RT_FRAG_DATAGRAMS, RT_FRAG_BYTES);
	rt->buckets = calloc(RT_BUCKETS, sizeof(*rt->buckets));
	rt->env.words = mime_words_create();
	if (rt->reasm == NULL || rt->frags == NULL || rt->buckets == NULL ||
	    rt->env.words == NULL) {
		snprintf(err, errlen, "cannot set up the inspection layers: %s", strerror(errno));
		goto fail;
	}
	ip_frag_table_set_limits(rt->frags, RT_FRAG_TIMEOUT_US, IP_FRAG_MAX_FRAGS_CAP);
	rt->lim.max_queued_bytes = cfg->reasm_window;
	rt->lim.max_stream_bytes = cfg->inspect_depth;
	rt->timeout_us[RT_FLOW_NEW] = (uint64_t)cfg->flow_timeout_new * 1000000;
	rt->timeout_us[RT_FLOW_ESTABLISHED] = (uint64_t)cfg->flow_idle_timeout * 1000000;
	rt->timeout_us[RT_FLOW_CLOSING] = (uint64_t)cfg->flow_timeout_closing * 1000000;
	/* Hyperscan stream state comes from malloc: no pool is bound on this thread */
	rt->env.gen = rt->gen;
	rt->env.worker = 0;
	rt->env.tx_alloc = rt_tx_alloc;
	rt->env.tx_emit = rt_tx_emit;
	rt->env.io = rt;
	return rt;
fail:
	rules_test_destroy(rt);
	return NULL;
}

void
rules_test_destroy(struct rules_test *rt)
{
	if (rt == NULL)
		return;
	if (rt->buckets != NULL)
		rt_flush_flows(rt);
	for (size_t i = 0; i < rt->n_txs; i++)
		rt_tx_free(&rt->txs[i]);
	free(rt->txs);
	free(rt->buckets);
	mime_words_destroy(rt->env.words);
	ip_frag_table_destroy(rt->frags);
	tcp_reasm_pool_destroy(rt->reasm);
	scan_gen_destroy(rt->gen);
	free(rt);
}

const struct rules_test_stats *
rules_test_get_stats(const struct rules_test *rt)
{
	return &rt->stats;
}

int
rules_test_buffer(struct rules_test *rt, const char *name, const uint8_t *buf, size_t len,
		  rules_test_tx_fn fn, void *ctx, char *err, size_t errlen)
{
	int rc;

	err[0] = 0;
	rt->stats.n_inputs++;
	rt->next_ordinal = 0;
	rt->last_sweep_us = 0;
	switch (rules_test_detect(buf, len)) {
	case RULES_TEST_PCAP:
		rc = run_pcap(rt, name, buf, len, err, errlen);
		break;
	case RULES_TEST_PCAPNG:
		rc = run_pcapng(rt, name, buf, len, err, errlen);
		break;
	case RULES_TEST_EML:
		rc = run_eml(rt, name, buf, len, err, errlen);
		break;
	default:
		snprintf(err, errlen, "%s: %s", name,
			 len == 0 ? "empty, not a capture nor a message"
				  : "not a pcap or pcapng capture nor an RFC 5322 message");
		rc = -EINVAL;
		break;
	}
	if (rc < 0)
		rt->stats.n_bad_inputs++;
	/* end of the input: every flow ends and reports what it saw; fragments held for a
	 * datagram that never completed are dropped, so no input sees another's */
	rt_flush_flows(rt);
	ip_frag_sweep(rt->frags, UINT64_MAX, RT_FRAG_DATAGRAMS);
	rt->stats.n_scan_errors += rt->env.counters[IPC_C_SCAN_ERRORS];
	rt->env.counters[IPC_C_SCAN_ERRORS] = 0;
	rt->stats.n_records_lost += rt->env.counters[IPC_C_EVENTS_DROPPED];
	rt->env.counters[IPC_C_EVENTS_DROPPED] = 0;
	rt_report(rt, name, fn, ctx);
	return rc;
}

int
rules_test_file(struct rules_test *rt, const char *path, rules_test_tx_fn fn, void *ctx,
		char *err, size_t errlen)
{
	struct stat st;
	void *map = NULL;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		goto refused;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		rc = -EINVAL;
		goto refused;
	}
	len = (size_t)st.st_size;
	if (len > 0) {
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			rc = -errno;
			map = NULL;
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
			goto refused;
		}
	}
	rc = rules_test_buffer(rt, path, map != NULL ? map : (const void *)"", len, fn, ctx, err,
			       errlen);
	goto out;
refused:
	rt->stats.n_inputs++;
	rt->stats.n_bad_inputs++;
out:
	if (map != NULL)
		munmap(map, len);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* ---- posternctl rules test ---- */

struct rt_print {
	bool json;
	bool failed;           /* stdout could not be written */
	uint64_t n_this_input;
};

static const char *
action_name(uint8_t a)
{
	switch (a) {
	case GEN_ACTION_ALERT:
		return "alert";
	case GEN_ACTION_PASS:
		return "pass";
	case GEN_ACTION_DROP:
		return "drop";
	case GEN_ACTION_REJECT:
		return "reject";
	default:
		return "unknown";
	}
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when the byte does not start one. */
static size_t
utf8_seq(const uint8_t *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* A JSON string of wire bytes: bytes that are not UTF-8 become U+FFFD. */
static json_t *
json_bytes(struct slice s)
{
	json_t *j = json_stringn((const char *)s.ptr, s.len);
	uint8_t *tmp;
	size_t n = 0;

	if (j != NULL || (tmp = malloc(s.len * 3 + 1)) == NULL)
		return j;
	for (size_t i = 0; i < s.len;) {
		size_t k = utf8_seq(s.ptr + i, s.len - i);

		if (k == 0) {
			memcpy(tmp + n, "\xef\xbf\xbd", 3);
			n += 3;
			i++;
		} else {
			memcpy(tmp + n, s.ptr + i, k);
			n += k;
			i += k;
		}
	}
	j = json_stringn((const char *)tmp, n);
	free(tmp);
	return j;
}

static void
print_json(struct rt_print *pr, const char *input, const struct rules_test_tx *tx)
{
	json_t *o = json_object(), *fired = json_array();
	char *line;

	if (o == NULL || fired == NULL)
		goto fail;
	json_object_set_new(o, "input", json_bytes(slice_from_cstr(input)));
	json_object_set_new(o, "tx", json_integer(tx->n));
	if (tx->has_mail_from)
		json_object_set_new(o, "mail_from", json_bytes(tx->mail_from));
	if (tx->has_subject)
		json_object_set_new(o, "subject", json_bytes(tx->subject));
	for (unsigned i = 0; i < tx->n_alerts; i++) {
		const struct rules_test_alert *a = &tx->alerts[i];

		json_array_append_new(fired, json_pack("{s:I,s:I,s:I,s:s}",
						       "gid", (json_int_t)a->gid,
						       "sid", (json_int_t)a->sid,
						       "rev", (json_int_t)a->rev,
						       "action", action_name(a->action)));
	}
	json_object_set(o, "fired", fired);
	/* what noalert fact rules concluded, which "fired" cannot show */
	json_t *marks = json_array();
	for (unsigned b = 0; marks != NULL && b < GEN_FLOWBITS_RESERVED; b++)
		if (tx->marks & (1u << b))
			json_array_append_new(marks, json_string(gen_flowbit_names[b]));
	json_object_set_new(o, "marks", marks);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line == NULL)
		goto fail;
	if (printf("%s\n", line) < 0)
		pr->failed = true;
	free(line);
	json_decref(fired);
	json_decref(o);
	return;
fail:
	pr->failed = true;
	json_decref(fired);
	json_decref(o);
}

static void
print_tx(void *ctx, const char *input, const struct rules_test_tx *tx)
{
	struct rt_print *pr = ctx;

	pr->n_this_input++;
	if (pr->json) {
		print_json(pr, input, tx);
		return;
	}
	if (printf("%s#%u:", input, tx->n) < 0)
		pr->failed = true;
	for (unsigned i = 0; i < tx->n_alerts; i++)
		printf(" %u:%u:%u", tx->alerts[i].gid, tx->alerts[i].sid, tx->alerts[i].rev);
	if (printf("%s\n", tx->n_alerts == 0 ? " -" : "") < 0)
		pr->failed = true;
}

int
rules_test_pack_list(char *list, size_t size, char *const *packs, unsigned n, char *err,
		     size_t errlen)
{
	size_t at = 0;

	if (n == 0 || n > CONFIG_RULES_PACKS_MAX) {
		snprintf(err, errlen, "%u packs: 1 to %d can be loaded together", n,
			 CONFIG_RULES_PACKS_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < n; i++) {
		size_t l = strlen(packs[i]);

		if (l == 0 || strpbrk(packs[i], " \t,") != NULL) {
			snprintf(err, errlen, "'%s': a pack path cannot be empty or hold a blank or "
				 "comma (it would split the list)", packs[i]);
			return -EINVAL;
		}
		if (l >= CONFIG_PATH_MAX) {
			snprintf(err, errlen, "%s: path too long", packs[i]);
			return -EINVAL;
		}
		if (at + (i > 0) + l >= size) {
			snprintf(err, errlen, "the packs' paths together are longer than %zu bytes",
				 size - 1);
			return -EINVAL;
		}
		if (i > 0)
			list[at++] = ' ';
		memcpy(list + at, packs[i], l);
		at += l;
	}
	list[at] = '\0';
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: posternctl rules test [--json] PACK INPUT...\n"
		   "       posternctl rules test [--json] --pack PACK [--pack PACK]... INPUT...\n"
		   "  run the rule pack over captures (pcap, pcapng) and messages (.eml), with no\n"
		   "  posternd, and print the rules that fired for each SMTP transaction:\n"
		   "    INPUT#N: gid:sid:rev ...   (\"-\" when none fired)\n"
		   "  --json  one JSON object per transaction instead, with the reserved marks\n"
		   "          (postern.commercial, ...) the pack's noalert fact rules set\n"
		   "  --pack  a pack to load, repeated to load several together (as a rules list\n"
		   "          in postern.conf); every argument is then an INPUT\n"
		   "  exit 0; 1 when the pack does not build; 2 when an input cannot be\n"
		   "  read or is neither a capture nor a message\n");
}

/* The compiled blob out of the generation's sealed memfd. */
static void *
read_blob(const struct rulegen *g, char *err, size_t errlen)
{
	uint8_t *blob = malloc(g->blob_len != 0 ? g->blob_len : 1);
	size_t off = 0;

	if (blob == NULL) {
		snprintf(err, errlen, "out of memory for a %zu-byte generation", g->blob_len);
		return NULL;
	}
	while (off < g->blob_len) {
		ssize_t n = pread(g->memfd, blob + off, g->blob_len - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "reading the compiled generation: %s",
				 n < 0 ? strerror(errno) : "short read");
			free(blob);
			return NULL;
		}
		off += (size_t)n;
	}
	return blob;
}

int
rules_test_main(int argc, char **argv, const struct postern_config *cfg)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pack", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char err[1 << 16];
	struct postern_config c = *cfg;
	struct rt_print pr = { 0 };
	struct rulegen *g;
	struct rules_test *rt;
	void *blob;
	size_t blob_len;
	char *packs[CONFIG_RULES_PACKS_MAX];
	unsigned n_packs = 0;
	int opt, status = 0;

	optind = 0; /* glibc: start afresh on the sub-command's argv */
	while ((opt = getopt_long(argc, argv, "jp:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			pr.json = true;
			break;
		case 'p':
			if (n_packs == CONFIG_RULES_PACKS_MAX) {
				fprintf(stderr, "posternctl: more than %d packs\n",
					CONFIG_RULES_PACKS_MAX);
				return 2;
			}
			packs[n_packs++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* without --pack, the first positional is the pack */
	if (n_packs == 0 && argc - optind >= 1)
		packs[n_packs++] = argv[optind++];
	if (n_packs == 0 || argc - optind < 1) {
		usage(stderr);
		return 2;
	}
	if (rules_test_pack_list(c.rules, sizeof(c.rules), packs, n_packs, err, sizeof(err)) < 0) {
		fprintf(stderr, "posternctl: %s\n", err);
		return 2;
	}
	g = rulegen_build(&c, 1, err, sizeof(err));
	if (g == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (g->rules->warnings != NULL) /* rules left out (rules_skip_unsupported) never fire */
		fprintf(stderr, "%s\n", g->rules->warnings);
	blob = read_blob(g, err, sizeof(err));
	blob_len = g->blob_len;
	rulegen_destroy(g);
	if (blob == NULL) {
		fprintf(stderr, "posternctl: %s: %s\n", c.rules, err);
		return 2;
	}
	rt = rules_test_create(&c, blob, blob_len, err, sizeof(err));
	free(blob);
	if (rt == NULL) {
		fprintf(stderr, "posternctl: %s: %s\n", c.rules, err);
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		pr.n_this_input = 0;
		int rc = rules_test_file(rt, argv[i], print_tx, &pr, err, sizeof(err));

		fflush(stdout); /* results and messages in the order they happened */
		if (rc < 0) {
			fprintf(stderr, "posternctl: %s\n", err);
			status = 2;
			continue;
		}
		if (err[0] != 0)
			fprintf(stderr, "posternctl: warning: %s\n", err);
		if (pr.n_this_input == 0)
			fprintf(stderr, "posternctl: %s: no SMTP transaction found\n", argv[i]);
	}

	const struct rules_test_stats *st = rules_test_get_stats(rt);

	fflush(stdout);

	fprintf(stderr, "%s: %llu inputs", c.rules, (unsigned long long)st->n_inputs);
	if (st->n_bad_inputs > 0)
		fprintf(stderr, " (%llu not read)", (unsigned long long)st->n_bad_inputs);
	fprintf(stderr, ", %llu transactions, %llu with alerts (%llu alerts)",
		(unsigned long long)st->n_transactions, (unsigned long long)st->n_fired_tx,
		(unsigned long long)st->n_alerts);
	if (st->n_frames > 0)
		fprintf(stderr, "; %llu frames, %llu flows", (unsigned long long)st->n_frames,
			(unsigned long long)st->n_flows);
	if (st->n_decode_errors > 0)
		fprintf(stderr, ", %llu frames not decoded",
			(unsigned long long)st->n_decode_errors);
	if (st->n_frames_skipped > 0)
		fprintf(stderr, ", %llu frames of unsupported link types",
			(unsigned long long)st->n_frames_skipped);
	if (st->n_flows_evicted > 0)
		fprintf(stderr, ", %llu flows evicted (table full)",
			(unsigned long long)st->n_flows_evicted);
	if (st->n_sessions_full > 0)
		fprintf(stderr, ", %llu flows not inspected (sessions full)",
			(unsigned long long)st->n_sessions_full);
	if (st->n_records_lost > 0)
		fprintf(stderr, ", %llu transactions lost (no memory)",
			(unsigned long long)st->n_records_lost);
	if (st->n_scan_errors > 0)
		fprintf(stderr, ", %llu scan errors", (unsigned long long)st->n_scan_errors);
	fprintf(stderr, "\n");
	rules_test_destroy(rt);
	if (fflush(stdout) != 0 || pr.failed) {
		fprintf(stderr, "posternctl: writing the results: %s\n", strerror(errno));
		return 2;
	}
	return status;
}
