/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_inspect: how many bytes a second one core takes through the SMTP follower and the MIME
 * parser (transfer decoding, URL extraction, header decoding), first with no rules loaded, so
 * the figure is the protocol layers' own cost. It reads a classic pcap of complete, in-order
 * sessions (tools/mkpcap.py --scenario bench writes one), decodes each frame with the
 * dataplane's decoder and feeds the TCP payloads to one inspect session per connection, over
 * and over for the given time. Used by scripts/bench; prints one line of figures.
 *
 * With --rules PACK it then compiles the pack as posternd does (rule_set_load, rule_compile
 * with the default variables), loads the generation as a worker would (scan_gen_load), runs
 * the same pipeline with it, and puts next to that figure what Hyperscan alone does with the
 * same databases over the same bytes: during one pass every buffer the pipeline scans is
 * recorded (the link wraps scan_block and scan_stream_*, see below), then the recording is
 * scanned over and over with a match callback that does nothing, first with the pipeline's
 * own stream writes, then with each stream's writes joined into one. A few more lines of
 * figures: how much of the pack fires, the rates and their ratio, where the time goes. It
 * does not measure the stream engine (decode, flow table, TCP reassembly) nor DPDK:
 * scripts/bench does, with the dataplane itself. --dump-buffers prints what one pass scans
 * (buffer, block or stream write, the bytes) instead of measuring anything.
 *
 *   bench_inspect FILE.pcap [SECONDS] [--rules PACK [--dump-buffers]]
 *
 * Must be linked with
 *   -Wl,--wrap=scan_block,--wrap=scan_stream_open,--wrap=scan_stream_write,--wrap=scan_stream_close
 * so that inspect.c's calls reach the __wrap_ functions here, which record (only while the
 * recording pass runs) and call the real ones: no test hook in the dataplane's code. All
 * times are CPU time of the process (one thread).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hs/hs.h>

#include "decode.h"
#include "file_read.h"
#include "gen_format.h"
#include "inspect.h"
#include "mime_words.h"
#include "pcap_link.h"
#include "rule_compile.h"
#include "rule_parse.h"
#include "scan.h"

#define FLOW_SLOTS 256 /* bench sessions follow each other; a few overlap at most */
#define RECORD_RING 8  /* records in flight: a transaction waiting for its reply, the next */
#define REC_OPEN_MAX 256      /* streams open at once during the recording pass */
#define RAW_DBS_PER_BUF 4     /* databases of one buffer the raw scan runs (one today) */
#define DUMP_VALUE_MAX 160    /* bytes of a value --dump-buffers shows */

struct slot {
	bool used;
	uint8_t client[16];
	uint16_t client_port;
	struct inspect_session s;
};

static struct slot slots[FLOW_SLOTS];
static uint8_t records[RECORD_RING][IPC_TX_MAX] __attribute__((aligned(8)));
static unsigned next_record;
static uint64_t n_records;

/* Alerts seen while counting (the recording pass): how much of the pack fires. */
static struct {
	bool on;
	uint64_t n_messages, n_alerts;
	uint32_t *sids;       /* open-addressing set of sids fired, 0 = empty */
	uint32_t sids_cap;    /* a power of two */
	uint32_t n_distinct;
} fired;

static struct ipc_tx *
bench_alloc(void *io)
{
	(void)io;
	next_record = (next_record + 1) % RECORD_RING;
	return (struct ipc_tx *)records[next_record];
}

static void
fired_add(uint32_t sid)
{
	uint32_t i = sid * 2654435761u & (fired.sids_cap - 1);

	while (fired.sids[i] != 0 && fired.sids[i] != sid)
		i = (i + 1) & (fired.sids_cap - 1);
	if (fired.sids[i] == 0 && fired.n_distinct + 1 < fired.sids_cap) {
		fired.sids[i] = sid;
		fired.n_distinct++;
	}
}

static void
bench_emit(void *io, struct ipc_tx *tx)
{
	(void)io;
	n_records++;
	if (!fired.on)
		return;
	if (tx->flags & IPC_TXF_HAS_DATA)
		fired.n_messages++;
	for (const struct ipc_field *f = ipc_tx_next(tx, NULL); f != NULL; f = ipc_tx_next(tx, f)) {
		struct ipc_alert a;

		if (f->type != IPC_F_ALERT || f->len != sizeof(a))
			continue;
		memcpy(&a, ipc_field_value(f), sizeof(a));
		fired.n_alerts++;
		fired_add(a.sid);
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The session of a packet's connection: client side is the one not on port 25/587. Its
 * endpoints are those of the flow, as the worker gives them: rules match on them.
 */
static struct inspect_session *
session_for(struct inspect_env *env, const struct pkt_info *pi, bool *to_server)
{
	*to_server = pi->dport == 25 || pi->dport == 587;
	const uint8_t *client = *to_server ? pi->src : pi->dst;
	const uint8_t *server = *to_server ? pi->dst : pi->src;
	uint16_t cport = *to_server ? pi->sport : pi->dport;
	uint16_t sport = *to_server ? pi->dport : pi->sport;
	struct slot *sl = &slots[(cport ^ client[15] ^ client[14] << 3) % FLOW_SLOTS];

	if (sl->used && (sl->client_port != cport || memcmp(sl->client, client, 16) != 0)) {
		inspect_session_close(&sl->s);
		sl->used = false;
	}
	if (!sl->used) {
		struct inspect_flow_meta meta = {
			.client_port = cport, .server_port = sport, .ip_version = pi->ip_version,
		};

		memcpy(meta.client_ip, client, 16);
		memcpy(meta.server_ip, server, 16);
		memcpy(sl->client, client, 16);
		sl->client_port = cport;
		sl->used = true;
		inspect_session_init(&sl->s, env, &meta);
	}
	return &sl->s;
}

/* Close every session, so that a run starts from none and leaves no stream open. */
static void
sessions_close_all(void)
{
	for (unsigned i = 0; i < FLOW_SLOTS; i++) {
		if (slots[i].used)
			inspect_session_close(&slots[i].s);
		slots[i].used = false;
	}
}

/* One pass over the capture; returns the TCP payload bytes fed to the pipeline. */
static uint64_t
capture_pass(struct inspect_env *env, const uint8_t *cap, size_t cap_len)
{
	uint64_t bytes = 0;

	for (size_t off = 24; off + 16 <= cap_len;) {
		uint32_t incl;
		struct pkt_info pi;
		bool to_server;

		memcpy(&incl, cap + off + 8, sizeof(incl));
		off += 16;
		if (incl > cap_len - off)
			break;
		if (decode_packet(cap + off, incl, &pi) == DECODE_OK && pi.payload_len > 0) {
			struct inspect_session *s = session_for(env, &pi, &to_server);

			inspect_session_data(s, to_server, pi.payload, pi.payload_len);
			bytes += pi.payload_len;
		}
		off += incl;
	}
	return bytes;
}

/* Whole passes until `seconds` of CPU time are spent; the CPU time it took. */
static double
capture_run(struct inspect_env *env, const uint8_t *cap, size_t cap_len, double seconds,
	    uint64_t *bytes, uint64_t *passes)
{
	double t0 = now_s(), t;

	*bytes = *passes = 0;
	do {
		*bytes += capture_pass(env, cap, cap_len);
		(*passes)++;
		t = now_s() - t0;
	} while (t < seconds);
	sessions_close_all();
	return t;
}

/* ---- recording what the pipeline scans (link-time wraps of scan.h) ---- */

enum rec_kind {
	REC_BLOCK = 0,  /* a whole value: hs_scan */
	REC_OPEN,       /* a stream opens in slot `stream` */
	REC_WRITE,      /* bytes written to the stream in slot `stream` */
	REC_CLOSE,
};

struct rec_op {
	uint8_t kind;           /* enum rec_kind */
	uint8_t buf;            /* enum buffer_id */
	uint16_t stream;        /* slot of the stream, 0 .. REC_OPEN_MAX - 1 */
	uint32_t len;
	size_t off;             /* of the bytes in rec.bytes */
};

static struct {
	bool on;
	int error;              /* -ENOMEM, or -EMFILE: more than REC_OPEN_MAX streams open */
	struct rec_op *ops;
	size_t n_ops, ops_cap;
	uint8_t *bytes;
	size_t n_bytes, bytes_cap;
	const struct hs_stream *open[REC_OPEN_MAX]; /* the pipeline's stream in each slot */
	uint8_t open_buf[REC_OPEN_MAX];
	uint64_t n_blocks, n_streams, n_writes;
} rec;

int __real_scan_block(const struct scan_gen *g, unsigned worker, enum buffer_id buf,
		      const uint8_t *data, size_t len, struct scan_matches *m);
int __wrap_scan_block(const struct scan_gen *g, unsigned worker, enum buffer_id buf,
		      const uint8_t *data, size_t len, struct scan_matches *m);
struct hs_stream *__real_scan_stream_open(const struct scan_gen *g, enum buffer_id buf);
struct hs_stream *__wrap_scan_stream_open(const struct scan_gen *g, enum buffer_id buf);
int __real_scan_stream_write(const struct scan_gen *g, unsigned worker, struct hs_stream *st,
			     const uint8_t *data, size_t len, struct scan_matches *m);
int __wrap_scan_stream_write(const struct scan_gen *g, unsigned worker, struct hs_stream *st,
			     const uint8_t *data, size_t len, struct scan_matches *m);
int __real_scan_stream_close(const struct scan_gen *g, unsigned worker, struct hs_stream *st,
			     struct scan_matches *m);
int __wrap_scan_stream_close(const struct scan_gen *g, unsigned worker, struct hs_stream *st,
			     struct scan_matches *m);

static void
rec_op(enum rec_kind kind, enum buffer_id buf, unsigned stream, const uint8_t *data, size_t len)
{
	if (rec.error < 0)
		return;
	if (len > UINT32_MAX)
		len = UINT32_MAX; /* as scan.c does */
	if (rec.n_ops == rec.ops_cap) {
		size_t cap = rec.ops_cap ? rec.ops_cap * 2 : 4096;
		struct rec_op *ops = realloc(rec.ops, cap * sizeof(*ops));

		if (ops == NULL)
			goto nomem;
		rec.ops = ops;
		rec.ops_cap = cap;
	}
	if (len > rec.bytes_cap - rec.n_bytes) {
		size_t cap = rec.bytes_cap ? rec.bytes_cap : 1u << 20;
		uint8_t *b;

		while (len > cap - rec.n_bytes)
			cap *= 2;
		b = realloc(rec.bytes, cap);
		if (b == NULL)
			goto nomem;
		rec.bytes = b;
		rec.bytes_cap = cap;
	}
	if (len > 0)
		memcpy(rec.bytes + rec.n_bytes, data, len);
	rec.ops[rec.n_ops++] = (struct rec_op){
		.kind = (uint8_t)kind, .buf = (uint8_t)buf, .stream = (uint16_t)stream,
		.len = (uint32_t)len, .off = rec.n_bytes,
	};
	rec.n_bytes += len;
	return;
nomem:
	rec.error = -ENOMEM;
}

static int
rec_stream_slot(const struct hs_stream *st)
{
	for (int i = 0; i < REC_OPEN_MAX; i++)
		if (rec.open[i] == st)
			return i;
	return -1;
}

int
__wrap_scan_block(const struct scan_gen *g, unsigned worker, enum buffer_id buf,
		  const uint8_t *data, size_t len, struct scan_matches *m)
{
	/* what scan_block skips (no database, empty value) Hyperscan alone would skip too */
	if (rec.on && len > 0 && scan_gen_has_buffer(g, buf)) {
		rec_op(REC_BLOCK, buf, 0, data, len);
		rec.n_blocks++;
	}
	return __real_scan_block(g, worker, buf, data, len, m);
}

struct hs_stream *
__wrap_scan_stream_open(const struct scan_gen *g, enum buffer_id buf)
{
	struct hs_stream *st = __real_scan_stream_open(g, buf);
	int i;

	if (!rec.on || st == NULL)
		return st;
	i = rec_stream_slot(NULL);
	if (i < 0) {
		rec.error = -EMFILE;
		return st;
	}
	rec.open[i] = st;
	rec.open_buf[i] = (uint8_t)buf;
	rec.n_streams++;
	rec_op(REC_OPEN, buf, (unsigned)i, NULL, 0);
	return st;
}

int
__wrap_scan_stream_write(const struct scan_gen *g, unsigned worker, struct hs_stream *st,
			 const uint8_t *data, size_t len, struct scan_matches *m)
{
	int i = rec.on && st != NULL && len > 0 ? rec_stream_slot(st) : -1;

	if (i >= 0) {
		rec_op(REC_WRITE, rec.open_buf[i], (unsigned)i, data, len);
		rec.n_writes++;
	}
	return __real_scan_stream_write(g, worker, st, data, len, m);
}

int
__wrap_scan_stream_close(const struct scan_gen *g, unsigned worker, struct hs_stream *st,
			 struct scan_matches *m)
{
	int i = rec.on && st != NULL ? rec_stream_slot(st) : -1;

	if (i >= 0) {
		rec_op(REC_CLOSE, rec.open_buf[i], (unsigned)i, NULL, 0);
		rec.open[i] = NULL;
	}
	return __real_scan_stream_close(g, worker, st, m);
}

/* ---- Hyperscan alone over the recording ---- */

struct raw {
	hs_database_t *block[BUF__COUNT][RAW_DBS_PER_BUF];
	hs_database_t *stream[BUF__COUNT][RAW_DBS_PER_BUF];
	unsigned n_block[BUF__COUNT], n_stream[BUF__COUNT];
	size_t stream_state;    /* bytes of stream state of the biggest stream database */
	hs_scratch_t *scratch;  /* one, grown to fit every database */
	hs_stream_t *open[REC_OPEN_MAX][RAW_DBS_PER_BUF];
};

static int
noop_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	   void *ctx)
{
	(void)id;
	(void)from;
	(void)to;
	(void)flags;
	(void)ctx;
	return 0;
}

static void
raw_fini(struct raw *r)
{
	hs_free_scratch(r->scratch);
	for (int b = 0; b < BUF__COUNT; b++) {
		for (unsigned i = 0; i < r->n_block[b]; i++)
			hs_free_database(r->block[b][i]);
		for (unsigned i = 0; i < r->n_stream[b]; i++)
			hs_free_database(r->stream[b][i]);
	}
	memset(r, 0, sizeof(*r));
}

/* Deserialize the blob's databases ourselves (gen_format.h), one scratch for all. */
static int
raw_init(struct raw *r, const void *blob, size_t len, char *err, size_t errlen)
{
	const struct gen_hdr *h = blob;
	const struct gen_db *dbs;
	uint32_t n_dbs;
	int rc = gen_blob_check(blob, len);

	memset(r, 0, sizeof(*r));
	if (rc < 0) {
		snprintf(err, errlen, "blob: %s", strerror(-rc));
		return rc;
	}
	dbs = gen_section(h, GEN_SEC_DBS);
	n_dbs = gen_count(h, GEN_SEC_DBS);
	for (uint32_t i = 0; i < n_dbs; i++) {
		const struct gen_db *d = &dbs[i];
		bool stream = d->mode == GEN_DB_STREAM;
		unsigned *n = stream ? &r->n_stream[d->buffer] : &r->n_block[d->buffer];
		hs_database_t **slot;
		hs_error_t hrc;

		if (*n == RAW_DBS_PER_BUF) {
			snprintf(err, errlen, "more than %d databases for buffer %s",
				 RAW_DBS_PER_BUF, buffer_id_name(d->buffer));
			goto fail;
		}
		slot = stream ? &r->stream[d->buffer][*n] : &r->block[d->buffer][*n];
		hrc = hs_deserialize_database((const char *)blob + d->offset, d->len, slot);
		if (hrc != HS_SUCCESS) {
			snprintf(err, errlen, "hs_deserialize_database: error %d", (int)hrc);
			goto fail;
		}
		(*n)++;
		if (stream) {
			size_t st = 0;

			if (hs_stream_size(*slot, &st) == HS_SUCCESS && st > r->stream_state)
				r->stream_state = st;
		}
		hrc = hs_alloc_scratch(*slot, &r->scratch);
		if (hrc != HS_SUCCESS) {
			snprintf(err, errlen, "hs_alloc_scratch: error %d", (int)hrc);
			goto fail;
		}
	}
	return 0;
fail:
	raw_fini(r);
	return -EIO;
}

/* One pass over the recording, as the pipeline scanned it. Returns 0 or -EIO. */
static int
raw_pass(struct raw *r)
{
	hs_error_t rc = HS_SUCCESS;

	for (size_t k = 0; k < rec.n_ops && rc == HS_SUCCESS; k++) {
		const struct rec_op *op = &rec.ops[k];
		const char *data = (const char *)rec.bytes + op->off;
		hs_stream_t **open = r->open[op->stream];

		switch (op->kind) {
		case REC_BLOCK:
			for (unsigned i = 0; i < r->n_block[op->buf] && rc == HS_SUCCESS; i++)
				rc = hs_scan(r->block[op->buf][i], data, op->len, 0, r->scratch,
					     noop_match, NULL);
			break;
		case REC_OPEN:
			for (unsigned i = 0; i < r->n_stream[op->buf] && rc == HS_SUCCESS; i++)
				rc = hs_open_stream(r->stream[op->buf][i], 0, &open[i]);
			break;
		case REC_WRITE:
			for (unsigned i = 0; i < r->n_stream[op->buf] && rc == HS_SUCCESS; i++)
				rc = hs_scan_stream(open[i], data, op->len, 0, r->scratch,
						    noop_match, NULL);
			break;
		case REC_CLOSE:
			for (unsigned i = 0; i < r->n_stream[op->buf] && rc == HS_SUCCESS; i++) {
				rc = hs_close_stream(open[i], r->scratch, noop_match, NULL);
				open[i] = NULL;
			}
			break;
		}
	}
	return rc == HS_SUCCESS ? 0 : -EIO;
}

/* Whole raw passes until `seconds` of CPU time are spent: passes a second, or -1. */
static double
raw_run(struct raw *r, double seconds)
{
	uint64_t passes = 0;
	double t0 = now_s(), t;

	do {
		if (raw_pass(r) < 0)
			return -1;
		passes++;
		t = now_s() - t0;
	} while (t < seconds);
	return (double)passes / t;
}

/*
 * Rewrite the recording with one write per stream (its writes joined, in order), blocks as
 * they were: what Hyperscan alone costs when a body is not handed over line by line.
 * Returns 0, -ENOMEM or -E2BIG (a stream over 4 GiB).
 */
static int
rec_coalesce(void)
{
	uint64_t *total = calloc(rec.n_streams + 1, sizeof(*total));
	uint64_t *fill = calloc(rec.n_streams + 1, sizeof(*fill));
	uint8_t *bytes = malloc(rec.n_bytes + 1);
	struct rec_op *ops = malloc((rec.n_ops + 1) * sizeof(*ops));
	uint64_t serial_of[REC_OPEN_MAX] = { 0 }, n_serial = 0, cursor = 0;
	size_t n_ops = 0;
	int rc = -ENOMEM;

	if (total == NULL || fill == NULL || bytes == NULL || ops == NULL)
		goto out;
	/* each stream's size, streams numbered in the order they opened */
	for (size_t k = 0; k < rec.n_ops; k++) {
		const struct rec_op *op = &rec.ops[k];

		if (op->kind == REC_OPEN)
			serial_of[op->stream] = n_serial++;
		else if (op->kind == REC_WRITE)
			total[serial_of[op->stream]] += op->len;
	}
	rc = -E2BIG;
	n_serial = 0;
	for (size_t k = 0; k < rec.n_ops; k++) {
		struct rec_op op = rec.ops[k];
		uint64_t sn = serial_of[op.stream];

		switch (op.kind) {
		case REC_BLOCK:
			memcpy(bytes + cursor, rec.bytes + op.off, op.len);
			op.off = cursor;
			cursor += op.len;
			ops[n_ops++] = op;
			break;
		case REC_OPEN:
			sn = serial_of[op.stream] = n_serial++;
			if (total[sn] > UINT32_MAX)
				goto out;
			ops[n_ops++] = op;
			/* the stream's bytes go to [cursor, cursor + total) as its writes come */
			fill[sn] = cursor;
			op.kind = REC_WRITE;
			op.off = cursor;
			op.len = (uint32_t)total[sn];
			cursor += total[sn];
			if (op.len > 0)
				ops[n_ops++] = op;
			break;
		case REC_WRITE:
			memcpy(bytes + fill[sn], rec.bytes + op.off, op.len);
			fill[sn] += op.len;
			break;
		case REC_CLOSE:
			ops[n_ops++] = op;
			break;
		}
	}
	free(rec.ops);
	free(rec.bytes);
	rec.ops = ops;
	rec.n_ops = rec.ops_cap = n_ops;
	rec.bytes = bytes;
	rec.bytes_cap = rec.n_bytes;
	ops = NULL;
	bytes = NULL;
	rc = 0;
out:
	free(total);
	free(fill);
	free(bytes);
	free(ops);
	return rc;
}

static void
dump_buffers(void)
{
	for (size_t k = 0; k < rec.n_ops; k++) {
		const struct rec_op *op = &rec.ops[k];
		static const char *const kind[] = { "block", "open", "write", "close" };

		printf("%s %s", buffer_id_name(op->buf), kind[op->kind]);
		if (op->kind == REC_OPEN || op->kind == REC_CLOSE) {
			printf(" stream %u\n", op->stream);
			continue;
		}
		printf(" %u: ", op->len);
		for (uint32_t i = 0; i < op->len && i < DUMP_VALUE_MAX; i++) {
			uint8_t c = rec.bytes[op->off + i];

			if (c >= 0x20 && c < 0x7f && c != '\\')
				putchar(c);
			else
				printf("\\x%02x", c);
		}
		printf("%s\n", op->len > DUMP_VALUE_MAX ? "..." : "");
	}
}

/* ---- the rules run ---- */

/* no_rules_rate: capture bytes a second with no rules (0: not measured). */
static int
bench_rules(struct inspect_env *env, const uint8_t *cap, size_t cap_len, const char *pack,
	    double seconds, bool dump, double no_rules_rate)
{
	static char err[16384];
	struct rule_set *rs;
	struct scan_gen *gen = NULL;
	struct raw raw;
	void *blob = NULL;
	size_t blob_len = 0;
	uint64_t bytes, passes, pass_bytes;
	double t_compile, t_pipe, raw_pass_rate, joined_pass_rate;
	int rc;
	int ret = 1;

	t_compile = wall_s();
	rs = rule_set_load(pack, NULL, err, sizeof(err));
	if (rs == NULL) {
		fprintf(stderr, "bench_inspect: %s\n", err);
		return 1;
	}
	/* the default variables (HOME_NET 10.0.0.0/8 ...), as posternd with no vars file */
	if (rule_compile(rs, NULL, 1, &blob, &blob_len, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_inspect: %s\n", err);
		goto out_rs;
	}
	t_compile = wall_s() - t_compile;
	gen = scan_gen_load(blob, blob_len, 1, err, sizeof(err));
	if (gen == NULL) {
		fprintf(stderr, "bench_inspect: %s: %s\n", pack, err);
		goto out_blob;
	}
	if (raw_init(&raw, blob, blob_len, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_inspect: %s: %s\n", pack, err);
		goto out_gen;
	}
	env->gen = gen;
	env->worker = 0;

	/* One pass recorded (and its alerts counted), sessions closed so every stream closes. */
	fired.sids_cap = 1;
	while (fired.sids_cap < 2 * rs->n_rules + 2)
		fired.sids_cap *= 2;
	fired.sids = calloc(fired.sids_cap, sizeof(*fired.sids));
	if (fired.sids == NULL) {
		fprintf(stderr, "bench_inspect: out of memory\n");
		goto out_raw;
	}
	rec.on = fired.on = true;
	pass_bytes = capture_pass(env, cap, cap_len);
	sessions_close_all();
	rec.on = fired.on = false;
	if (rec.error < 0) {
		fprintf(stderr, "bench_inspect: recording the scanned buffers: %s\n",
			strerror(-rec.error));
		goto out_fired;
	}
	if (pass_bytes == 0) {
		fprintf(stderr, "bench_inspect: the capture holds no TCP payload\n");
		goto out_fired;
	}
	if (dump) {
		dump_buffers();
		ret = 0;
		goto out_fired;
	}
	printf("bench_inspect rules: %s: %u rules, %u Hyperscan databases (%zu bytes of blob, "
	       "%zu bytes of stream state), parsed and compiled in %.2f s; one pass fires %llu "
	       "alerts over %llu messages (%.1f per message, %.1f%% of the rules), %u distinct "
	       "rules\n",
	       pack, rs->n_rules, gen_count(blob, GEN_SEC_DBS), blob_len,
	       raw.stream_state, t_compile, (unsigned long long)fired.n_alerts,
	       (unsigned long long)fired.n_messages,
	       fired.n_messages ? (double)fired.n_alerts / (double)fired.n_messages : 0.0,
	       fired.n_messages && rs->n_rules ? 100.0 * (double)fired.n_alerts /
						 (double)fired.n_messages / rs->n_rules
					       : 0.0,
	       fired.n_distinct);

	t_pipe = capture_run(env, cap, cap_len, seconds, &bytes, &passes);

	raw_pass_rate = raw_run(&raw, seconds);
	if (raw_pass_rate < 0) {
		fprintf(stderr, "bench_inspect: Hyperscan failed over the recording\n");
		goto out_fired;
	}

	/*
	 * Units. "Capture bytes" are the TCP payload bytes of the capture, as in the no-rules
	 * line: one pass is pass_bytes of them, and rec.n_bytes decoded bytes (every value and
	 * stream write the pipeline handed to Hyperscan: header values, addresses, URLs,
	 * transfer-decoded parts). Hyperscan alone scans rec.n_bytes per raw pass, so the
	 * capture it could keep up with is pass_bytes per raw pass:
	 *   raw_cap = raw decoded rate * pass_bytes / rec.n_bytes.
	 * The ratio is the pipeline's capture rate over that: the share of Hyperscan's own
	 * speed the whole pipeline (SMTP, MIME, decoding, scanning, rule evaluation, records)
	 * keeps. It equals pipeline passes per second over raw passes per second.
	 */
	double pipe_rate = (double)bytes / t_pipe;
	double raw_dec_rate = (double)rec.n_bytes * raw_pass_rate;
	double raw_cap_rate = (double)pass_bytes * raw_pass_rate;

	printf("bench_inspect rules: %u rules, pipeline %.1f MB/s (capture bytes), raw Hyperscan "
	       "%.1f MB/s over %.2f MB decoded per pass (%.1f MB/s in capture-byte terms), "
	       "ratio %.1f%%\n",
	       rs->n_rules, pipe_rate / 1e6, raw_dec_rate / 1e6, (double)rec.n_bytes / 1e6,
	       raw_cap_rate / 1e6, 100.0 * pipe_rate / raw_cap_rate);
	if (no_rules_rate > 0) {
		/*
		 * Where the time goes, per capture byte: the protocol layers (the no-rules run),
		 * Hyperscan's own scanning, and the rest (match bookkeeping, PCRE2 confirmation,
		 * rule evaluation, alerts). The ratio cannot exceed the ceiling, Hyperscan's
		 * share of (protocol layers + Hyperscan), however cheap the rest becomes.
		 */
		double ns_pipe = 1e9 / pipe_rate, ns_proto = 1e9 / no_rules_rate;
		double ns_hs = 1e9 / raw_cap_rate;

		printf("bench_inspect rules: per capture byte: pipeline %.2f ns = SMTP+MIME "
		       "%.2f ns + Hyperscan %.2f ns + rest %.2f ns; ratio ceiling with SMTP+MIME "
		       "as they are %.1f%%\n",
		       ns_pipe, ns_proto, ns_hs, ns_pipe - ns_proto - ns_hs,
		       100.0 * ns_hs / (ns_proto + ns_hs));
	}
	printf("bench_inspect rules: per pass %.2f MB of capture, %llu block scans, %llu streams "
	       "(%llu writes); pipeline %llu passes in %.2f s CPU, raw %.1f passes a second\n",
	       (double)pass_bytes / 1e6, (unsigned long long)rec.n_blocks,
	       (unsigned long long)rec.n_streams, (unsigned long long)rec.n_writes,
	       (unsigned long long)passes, t_pipe, raw_pass_rate);
	fflush(stdout);

	/* The same bytes with each stream in one write: what the line-by-line writes cost. */
	rc = rec_coalesce();
	if (rc < 0) {
		fprintf(stderr, "bench_inspect: joining the streams' writes: %s\n", strerror(-rc));
		goto out_fired;
	}
	joined_pass_rate = raw_run(&raw, seconds);
	if (joined_pass_rate < 0) {
		fprintf(stderr, "bench_inspect: Hyperscan failed over the joined recording\n");
		goto out_fired;
	}
	printf("bench_inspect rules: raw Hyperscan with one write per stream (%zu calls a pass "
	       "instead of %llu): %.1f MB/s decoded (%.1f MB/s in capture-byte terms)\n",
	       rec.n_ops - 2 * rec.n_streams,
	       (unsigned long long)(rec.n_blocks + rec.n_writes),
	       (double)rec.n_bytes * joined_pass_rate / 1e6,
	       (double)pass_bytes * joined_pass_rate / 1e6);
	ret = 0;
out_fired:
	free(fired.sids);
	fired.sids = NULL;
out_raw:
	env->gen = NULL;
	raw_fini(&raw);
out_gen:
	scan_gen_destroy(gen);
out_blob:
	free(blob);
out_rs:
	rule_set_destroy(rs);
	free(rec.ops);
	free(rec.bytes);
	return ret;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_inspect FILE.pcap [SECONDS] [--rules PACK [--dump-buffers]]\n"
		   "  SECONDS       CPU time of each measurement (default 5)\n"
		   "  --rules PACK  then the pipeline with PACK, and Hyperscan alone over the\n"
		   "                same decoded bytes\n"
		   "  --dump-buffers  with --rules: print every buffer one pass scans, and stop\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rules", required_argument, NULL, 'r' },
		{ "dump-buffers", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct inspect_env env = { .tx_alloc = bench_alloc, .tx_emit = bench_emit };
	const char *pack = NULL;
	bool dump = false;
	double seconds = 5.0, t, no_rules_rate = 0;
	uint64_t bytes, passes;
	char *buf, *end;
	const uint8_t *cap;
	size_t cap_len;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			pack = optarg;
			break;
		case 'd':
			dump = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || argc - optind > 2 || (dump && pack == NULL)) {
		usage(stderr);
		return 2;
	}
	if (argc - optind == 2) {
		seconds = strtod(argv[optind + 1], &end);
		if (*end != '\0' || !(seconds > 0 && seconds <= 3600)) {
			fprintf(stderr, "bench_inspect: SECONDS must be in (0, 3600]\n");
			return 2;
		}
	}
	int rc = file_read_all(argv[optind], 1u << 30, &buf, &cap_len);

	if (rc < 0) {
		fprintf(stderr, "bench_inspect: %s: %s\n", argv[optind], strerror(-rc));
		return 1;
	}
	cap = (const uint8_t *)buf;
	uint32_t magic = 0;

	if (cap_len >= sizeof(magic))
		memcpy(&magic, cap, sizeof(magic));
	if (cap_len < 24 || (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS)) {
		fprintf(stderr, "bench_inspect: %s: not a little-endian classic pcap\n",
			argv[optind]);
		free(buf);
		return 1;
	}
	env.words = mime_words_create();
	if (env.words == NULL) {
		fprintf(stderr, "bench_inspect: no iconv\n");
		free(buf);
		return 1;
	}
	if (!dump) {
		t = capture_run(&env, cap, cap_len, seconds, &bytes, &passes);
		no_rules_rate = (double)bytes / t;
		printf("SMTP+MIME, 1 core, no rules: %.1f MB/s (%.2f Gbit/s), %llu bytes in %.2f s "
		       "CPU, %llu transactions, %llu MIME parts, %llu URLs\n",
		       (double)bytes / t / 1e6, (double)bytes * 8 / t / 1e9,
		       (unsigned long long)bytes, t, (unsigned long long)n_records,
		       (unsigned long long)env.counters[IPC_C_MIME_PARTS],
		       (unsigned long long)env.counters[IPC_C_URLS]);
		fflush(stdout);
	}
	if (pack != NULL)
		ret = bench_rules(&env, cap, cap_len, pack, seconds, dump, no_rules_rate);
	free(buf);
	mime_words_destroy(env.words);
	return ret;
}
