/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the inspection layer (dataplane/inspect.c) with a rule generation
 * that uses every kind of buffer: envelope and headers in block mode, bodies and the raw
 * stream of both directions in stream mode, flowbits, a pass rule and a PCRE2-confirmed
 * expression. Input, as fuzz_smtp's: records [dir][len lo][len hi][bytes], dir bit 0 the
 * direction; dir 0xfe/0xff a hole of len bytes; dir 0xfd turns inline blocking on (len bit 0;
 * bit 1: suppressed recipients block too; bit 2: failed CAN-SPAM checks too; bit 3: the block
 * comes too late to withhold) or off; dir 0xfc switches the live generation (the
 * two are the same pack compiled twice), as a reload would between packets.
 *
 * A suppression set (a global, a domain-wide, a sender-scoped and a list-scoped entry, in
 * an LMDB directory made at start and removed at exit) and a commercial policy are in place,
 * so that RCPT and To/Cc/Bcc lookups, the scopes of From and List-Id, the end-of-message
 * re-lookup and the commercial decision all run. Checked, fed whole and a byte at a time: every record handed out passes ipc_tx_check()
 * and carries one of the two generations' ids, and when the session is closed neither
 * generation is pinned any more, so the dataplane could free them. Anything else aborts.
 * (The two feeds may differ in records: raw-stream matches count for the transaction judged
 * next as the bytes arrive, so a segment across the end of a message gives them to it.)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canspam.h"
#include "commercial.h"
#include "config.h"
#include "inspect.h"
#include "suppress_db.h"
#include "suppress_writer.h"
#include "test_tmpdir.h"
#include "mime_words.h"
#include "rule_compile.h"
#include "rule_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char pack[] =
	"alert smtp any any -> any any (msg:\"s\"; email.subject; content:\"free\"; nocase; "
	"flowbits:set,promo; sid:1;)\n"
	"drop smtp any any -> any any (msg:\"d\"; email.subject; content:\"blockme\"; sid:20;)\n"
	"alert smtp any any -> any any (msg:\"b\"; file.data; content:\"wire\"; "
	"content:\"fee\"; distance:0; within:20; flowbits:isset,promo; sid:2;)\n"
	"alert smtp any any -> any any (msg:\"h\"; email.header; pcre:\"/^(x-\\w+): \\1/i\"; "
	"sid:3;)\n"
	"alert tcp any any -> any any (msg:\"raw\"; content:\"XCLIENT\"; sid:4;)\n"
	"alert tcp any any -> any any (msg:\"raw tc\"; flow:to_client; content:\"220 \"; "
	"startswith; sid:5;)\n"
	"pass smtp any any -> any any (msg:\"p\"; smtp.mail_from; content:\"trusted@\"; "
	"sid:6;)\n"
	"alert smtp any any -> any any (msg:\"u\"; email.url; pcre:\"/https?:\\/\\/[^\\/]+\\.zip/\"; "
	"sid:7;)\n"
	"alert smtp any any -> any any (msg:\"c\"; email.subject; content:\"offer\"; "
	"flowbits:set,postern.commercial; flowbits:noalert; sid:8;)\n"
	"alert smtp any any -> any any (msg:\"t\"; email.subject; content:\"receipt\"; "
	"flowbits:set,postern.transactional; flowbits:noalert; sid:9;)\n";

static struct inspect_env env;
static char supp_dir[64];
static struct suppress_db *supp_db;
static struct commercial_policy policy;
static struct canspam_policy *canspam; /* inline blocking on the CAN-SPAM checks */

static void
supp_put(struct suppress_db *db, const char *entry, const char *scope)
{
	struct suppress_rec rec = {
		.version = SUPPRESS_REC_VERSION,
		.optout_time = 1704153600, /* 2024-01-02 */
		.grace_end = 1705449600,
	};
	uint8_t key[SUPPRESS_SCOPED_KEY_LEN], kind = SUPPRESS_SCOPE_ALL;
	struct addr_hasher h;
	enum suppress_table t;

	if (addr_hasher_init(&h) < 0 || suppress_db_key(db, slice_from_cstr(entry), &t, key, NULL,
							0) < 0 ||
	    suppress_scope_parse(&h, slice_from_cstr(scope), &kind, key + SUPPRESS_KEY_LEN) < 0)
		abort();
	addr_hasher_fini(&h);
	rec.scope = kind;
	if (kind != SUPPRESS_SCOPE_ALL) {
		rec.flags = t == SUPPRESS_TABLE_DOMAIN ? SUPPRESS_REC_DOMAIN : 0;
		t = SUPPRESS_TABLE_SCOPED;
	}
	if (suppress_write_put(db, t, key, &rec) < 0)
		abort();
}

static void
supp_remove(void)
{
	suppress_reader_destroy(env.supp);
	suppress_db_close(supp_db);
	test_tmpdir_remove(supp_dir);
}

static void
supp_init(void)
{
	struct postern_config cfg;
	char err[256];
	struct suppress_db *w;

	if (test_tmpdir_make(supp_dir, sizeof(supp_dir)) < 0)
		abort();
	w = suppress_writer_open(supp_dir, 1 << 22, 0);
	if (w == NULL || suppress_write_begin(w) < 0)
		abort();
	supp_put(w, "a@x.example", "");
	supp_put(w, "@d.example", "");
	supp_put(w, "s@x.example", "sender:news.example");
	supp_put(w, "l@x.example", "list:weekly.example");
	if (suppress_write_commit(w) < 0)
		abort();
	suppress_db_close(w);
	supp_db = suppress_db_open(supp_dir, true);
	env.supp = supp_db != NULL ? suppress_reader_create(supp_db) : NULL;
	if (env.supp == NULL)
		abort();
	atexit(supp_remove);

	config_defaults(&cfg);
	if (config_set(&cfg, "commercial_default", "no", err, sizeof(err)) < 0 ||
	    config_set(&cfg, "commercial_senders", "news.example", err, sizeof(err)) < 0 ||
	    config_set(&cfg, "transactional_senders", "billing.example", err, sizeof(err)) < 0 ||
	    config_set(&cfg, "commercial_hosts", "10.0.0.1/32", err, sizeof(err)) < 0 ||
	    commercial_policy_build(&policy, &cfg, err, sizeof(err)) < 0)
		abort();
	env.commercial = &policy;
	canspam = canspam_create(&cfg, err, sizeof(err));
	if (canspam == NULL)
		abort();
}

#define MAX_RECORDS 64

static struct scan_gen *gens[2];
static _Alignas(8) uint8_t records[MAX_RECORDS][IPC_TX_MAX];
static unsigned n_given;

static struct ipc_tx *
fz_alloc(void *io)
{
	(void)io;
	if (n_given == MAX_RECORDS)
		return NULL; /* counted as dropped by inspect */
	return (struct ipc_tx *)records[n_given++];
}

/* Inline: a block names known reasons only, and its record (if any) carries them. */
static bool fz_withheld; /* what fz_block answers */

static bool
fz_block(void *io, const struct inspect_flow_meta *meta, uint32_t reasons)
{
	(void)io;
	if (meta->flow_id != 1 || reasons == 0 || (reasons & ~(uint32_t)IPC_TXF_BLOCKED) != 0)
		abort();
	return fz_withheld;
}

static void
fz_emit(void *io, struct ipc_tx *tx)
{
	(void)io;
	if (ipc_tx_check(tx, tx->hdr.len) < 0)
		abort();
	if (tx->gen_id != 1 && tx->gen_id != 2)
		abort();
}

static void
init(void)
{
	char err[4096];

	for (int k = 0; k < 2; k++) {
		struct rule_set *rs = rule_set_parse_buffer("fuzz.rules", pack, sizeof(pack) - 1,
							    NULL, err, sizeof(err));
		void *blob = NULL;
		size_t len = 0;

		if (rs == NULL || rule_compile(rs, NULL, (uint64_t)k + 1, &blob, &len, err,
					       sizeof(err)) < 0)
			abort();
		gens[k] = scan_gen_load(blob, len, 1, err, sizeof(err));
		if (gens[k] == NULL)
			abort();
		free(blob);
		rule_set_destroy(rs);
	}
	env.words = mime_words_create();
	env.tx_alloc = fz_alloc;
	env.tx_emit = fz_emit;
	env.now_us = UINT64_C(1717408800000000);
	supp_init();
}

/* One pass over the conversation; piece 0 feeds each record whole. */
static void
run(const uint8_t *data, size_t size, size_t piece)
{
	static struct inspect_session s;
	struct inspect_flow_meta meta = { .flow_id = 1, .client_port = 40000, .server_port = 25,
					  .ip_version = 4, .client_ip = { [10] = 0xff, [11] = 0xff,
									[12] = 10, [15] = 1 },
					  .server_ip = { [10] = 0xff, [11] = 0xff, [12] = 10,
							 [15] = 2 } };
	size_t i = 0;

	n_given = 0;
	env.gen = gens[0];
	env.block = NULL;
	env.block_suppressed = false;
	env.canspam = NULL;
	suppress_reader_release(env.supp); /* a new burst */
	inspect_session_init(&s, &env, &meta);
	while (i + 3 <= size) {
		uint8_t dir = data[i];
		size_t len = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;

		i += 3;
		if (dir == 0xfc) {
			env.gen = env.gen == gens[0] ? gens[1] : gens[0];
			continue;
		}
		if (dir == 0xfd) { /* inline on (blocking, suppressed too) or off */
			env.block = len & 1 ? fz_block : NULL;
			env.block_suppressed = (len & 2) != 0;
			env.canspam = len & 4 ? canspam : NULL;
			fz_withheld = (len & 8) == 0;
			continue;
		}
		if (dir >= 0xfe) {
			inspect_session_gap(&s, dir & 1, len);
			continue;
		}
		if (len > size - i)
			len = size - i;
		for (size_t off = 0; off < len;) {
			size_t n = piece == 0 || len - off < piece ? len - off : piece;

			inspect_session_data(&s, dir & 1, data + i + off, n);
			off += n;
		}
		i += len;
	}
	inspect_session_close(&s);
	if (scan_gen_is_pinned(gens[0]) || scan_gen_is_pinned(gens[1]))
		abort(); /* a closed session holds no generation */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (gens[0] == NULL)
		init();
	run(data, size, 0);
	run(data, size, 1);
	return 0;
}
