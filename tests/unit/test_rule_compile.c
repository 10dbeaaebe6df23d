/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the rule compiler (control/rule_compile.c): the blob's tables exactly as
 * gen_format.h lays them out, and each Hyperscan database deserialized and scanned (block
 * mode with hs_scan, stream mode with hs_open_stream/hs_scan_stream) to show that the right
 * content ids match: nocase, case-sensitive, |hex|, negated contents, single match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <hs/hs.h>

#include "buffer_id.h"
#include "gen_format.h"
#include "rule_compile.h"
#include "rule_parse.h"

#define MAX_IDS 64

static char err[8192];

struct hits {
	unsigned n;             /* callbacks */
	unsigned ids[MAX_IDS];
};

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
	 void *ctx)
{
	struct hits *h = ctx;

	(void)from;
	(void)to;
	(void)flags;
	if (h->n < MAX_IDS)
		h->ids[h->n] = id;
	h->n++;
	return 0;
}

static int
cmp_uint(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

/* The ids that matched, sorted, as "0,3" (empty string: none). */
static const char *
hits_str(struct hits *h, char *buf, size_t size)
{
	size_t o = 0;

	assert_true(h->n <= MAX_IDS);
	qsort(h->ids, h->n, sizeof(h->ids[0]), cmp_uint);
	buf[0] = '\0';
	for (unsigned i = 0; i < h->n; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%u", i > 0 ? "," : "", h->ids[i]);
	return buf;
}

static const struct gen_db *
dbs_of(const struct gen_hdr *h)
{
	return gen_section(h, GEN_SEC_DBS);
}

static uint32_t
n_dbs(const void *blob)
{
	return gen_count(blob, GEN_SEC_DBS);
}

static const struct gen_db *
find_db(const struct gen_hdr *h, enum buffer_id buf)
{
	for (uint32_t i = 0; i < n_dbs(h); i++)
		if (dbs_of(h)[i].buffer == buf)
			return &dbs_of(h)[i];
	return NULL;
}

/* Where the databases start: after the last section. */
static uint64_t
tables_end(const struct gen_hdr *h)
{
	const struct gen_section_desc *t = &h->sec[GEN_SEC_TEXT];

	return gen_align8(t->offset + t->count);
}

struct loaded {
	hs_database_t *db[BUF__COUNT];
	hs_scratch_t *scratch;
};

static void
load_dbs(const void *blob, struct loaded *l)
{
	const struct gen_hdr *h = blob;

	memset(l, 0, sizeof(*l));
	for (uint32_t i = 0; i < n_dbs(h); i++) {
		const struct gen_db *d = &dbs_of(h)[i];

		assert_int_equal(hs_deserialize_database((const char *)blob + d->offset, d->len,
							 &l->db[d->buffer]),
				 HS_SUCCESS);
		assert_int_equal(hs_alloc_scratch(l->db[d->buffer], &l->scratch), HS_SUCCESS);
	}
}

static void
unload_dbs(struct loaded *l)
{
	hs_free_scratch(l->scratch);
	for (int b = 0; b < BUF__COUNT; b++)
		hs_free_database(l->db[b]);
}

/* Block scan of one value: the matched ids as a string. */
static const char *
scan(struct loaded *l, enum buffer_id buf, const char *data, size_t len, char *out, size_t size)
{
	struct hits h = { 0 };

	assert_non_null(l->db[buf]);
	assert_int_equal(hs_scan(l->db[buf], data, (unsigned)len, 0, l->scratch, on_match, &h),
			 HS_SUCCESS);
	return hits_str(&h, out, size);
}

static struct rule_set *
parse_str(const char *text)
{
	struct rule_set *rs = rule_set_parse_buffer("t.rules", text, strlen(text), NULL, err,
						    sizeof(err));

	if (rs == NULL)
		fail_msg("%s", err);
	return rs;
}

static const char pack[] =
	/* content 0 */
	"alert smtp any any -> any any (msg:\"subject\"; email.subject; content:\"free money\"; "
	"nocase; sid:1;)\n"
	/* content 1 */
	"drop smtp any any -> any any (msg:\"helo\"; smtp.helo; content:\"evil|00|\"; sid:2; "
	"rev:3;)\n"
	/* contents 2, 3, 4 */
	"alert smtp any any -> any any (msg:\"body\"; file.data; content:\"wire transfer\"; "
	"email.subject; content:\"URGENT\"; content:!\"newsletter\"; nocase; sid:3;)\n"
	/* content 5 */
	"reject smtp any any -> any any (msg:\"from\"; email.from; content:\"@bad.example\"; "
	"nocase; gid:5; sid:4; rev:2;)\n"
	/* content 6 */
	"pass smtp any any -> any any (msg:\"exact\"; email.subject; content:\"Free Money\"; "
	"sid:5;)\n";

static void
test_compile_pack(void **state)
{
	(void)state;
	struct rule_set *rs = parse_str(pack);
	const struct gen_hdr *h;
	const struct gen_rule *r;
	const struct gen_atom *c;
	const struct gen_db *d;
	void *blob = NULL;
	size_t len = 0;
	int rc;

	rc = rule_compile(rs, NULL, 42, &blob, &len, err, sizeof(err));
	if (rc != 0)
		fail_msg("%d: %s", rc, err);
	assert_int_equal(gen_blob_check(blob, len), 0);
	assert_int_equal((uintptr_t)blob % 8, 0);

	h = blob;
	assert_int_equal(h->magic, GEN_MAGIC);
	assert_int_equal(h->version, GEN_VERSION);
	assert_int_equal(h->gen_id, 42);
	assert_int_equal(h->total_len, len);
	assert_int_equal(len % 8, 0);
	assert_int_equal(gen_count(h, GEN_SEC_RULES), 5);
	assert_int_equal(gen_count(h, GEN_SEC_ATOMS), 7);
	assert_int_equal(n_dbs(h), 4);
	assert_int_equal(gen_count(h, GEN_SEC_TEXT), 0);  /* no confirmation */
	assert_int_equal(gen_count(h, GEN_SEC_SETS), 0);  /* every address any */
	assert_int_equal(h->n_flowbits, GEN_FLOWBITS_RESERVED); /* Postern's own marks */
	assert_int_equal(h->reserved, 0);

	r = gen_section(h, GEN_SEC_RULES);
#define ANY .src_set = GEN_SET_ANY, .sport_set = GEN_SET_ANY, .dst_set = GEN_SET_ANY, \
	    .dport_set = GEN_SET_ANY
	static const struct gen_rule want_rules[] = {
		{ .sid = 1, .rev = 1, .gid = 1, .action = GEN_ACTION_ALERT, .n_atoms = 1, .first_atom = 0, ANY },
		{ .sid = 2, .rev = 3, .gid = 1, .action = GEN_ACTION_DROP, .n_atoms = 1, .first_atom = 1, ANY },
		{ .sid = 3, .rev = 1, .gid = 1, .action = GEN_ACTION_ALERT, .n_atoms = 3, .first_atom = 2, ANY },
		{ .sid = 4, .rev = 2, .gid = 5, .action = GEN_ACTION_REJECT, .n_atoms = 1, .first_atom = 5, ANY },
		{ .sid = 5, .rev = 1, .gid = 1, .action = GEN_ACTION_PASS, .n_atoms = 1, .first_atom = 6, ANY },
	};
#undef ANY
	assert_memory_equal(r, want_rules, sizeof(want_rules));

	c = gen_section(h, GEN_SEC_ATOMS);
	static const struct gen_atom want_contents[] = {
		{ .rule = 0, .buffer = BUF_EMAIL_SUBJECT, .negated = 0 },
		{ .rule = 1, .buffer = BUF_SMTP_HELO, .negated = 0 },
		{ .rule = 2, .buffer = BUF_FILE_DATA, .negated = 0 },
		{ .rule = 2, .buffer = BUF_EMAIL_SUBJECT, .negated = 0 },
		{ .rule = 2, .buffer = BUF_EMAIL_SUBJECT, .negated = 1 },
		{ .rule = 3, .buffer = BUF_EMAIL_FROM, .negated = 0 },
		{ .rule = 4, .buffer = BUF_EMAIL_SUBJECT, .negated = 0 },
	};
	assert_memory_equal(c, want_contents, sizeof(want_contents));

	/* one database per buffer used, in buffer order, aligned, inside the blob, in order */
	static const struct {
		enum buffer_id buf;
		uint8_t mode;
		uint32_t n_patterns;
	} want_dbs[] = {
		{ BUF_SMTP_HELO, GEN_DB_BLOCK, 1 },
		{ BUF_EMAIL_FROM, GEN_DB_BLOCK, 1 },
		{ BUF_EMAIL_SUBJECT, GEN_DB_BLOCK, 4 },
		{ BUF_FILE_DATA, GEN_DB_STREAM, 1 },
	};
	uint64_t prev_end = tables_end(h);
	for (uint32_t i = 0; i < n_dbs(h); i++) {
		d = &dbs_of(h)[i];
		assert_int_equal(d->buffer, want_dbs[i].buf);
		assert_int_equal(d->mode, want_dbs[i].mode);
		assert_int_equal(d->n_patterns, want_dbs[i].n_patterns);
		assert_int_equal(d->reserved, 0);
		assert_int_equal(d->offset % 8, 0);
		assert_true(d->offset >= prev_end);
		assert_true(d->offset - prev_end < 8);
		assert_true(d->len > 0);
		prev_end = d->offset + d->len;
	}
	assert_int_equal(gen_align8(prev_end), len);

	/* the databases find the right content ids */
	struct loaded l;
	char out[256];

	load_dbs(blob, &l);
	assert_string_equal(scan(&l, BUF_EMAIL_SUBJECT, "Get FREE MONEY now, URGENT", 26, out,
				 sizeof(out)), "0,3");
	assert_string_equal(scan(&l, BUF_EMAIL_SUBJECT, "Free Money NewsLetter (urgent)", 30, out,
				 sizeof(out)), "0,4,6");
	assert_string_equal(scan(&l, BUF_EMAIL_SUBJECT, "free mone", 9, out, sizeof(out)), "");
	assert_string_equal(scan(&l, BUF_SMTP_HELO, "evil\0host", 9, out, sizeof(out)), "1");
	assert_string_equal(scan(&l, BUF_SMTP_HELO, "evilhost", 8, out, sizeof(out)), "");
	assert_string_equal(scan(&l, BUF_SMTP_HELO, "EVIL\0", 5, out, sizeof(out)), "");
	assert_string_equal(scan(&l, BUF_EMAIL_FROM, "Mallory <m@BAD.Example>", 23, out,
				 sizeof(out)), "5");
	/* single match: one callback however many times the content appears */
	struct hits hh = { 0 };
	assert_int_equal(hs_scan(l.db[BUF_EMAIL_SUBJECT], "free money FREE MONEY free money", 32, 0,
				 l.scratch, on_match, &hh), HS_SUCCESS);
	assert_int_equal(hh.n, 1);
	assert_int_equal(hh.ids[0], 0);

	/* file.data is a stream database: a content split across two writes still matches */
	hs_stream_t *st = NULL;
	struct hits sh = { 0 };
	const char *p1 = "please send the wire tra", *p2 = "nsfer fee, wire transfer again";

	assert_int_equal(hs_scan(l.db[BUF_FILE_DATA], "x", 1, 0, l.scratch, on_match, &sh),
			 HS_DB_MODE_ERROR);
	assert_int_equal(hs_open_stream(l.db[BUF_SMTP_HELO], 0, &st), HS_DB_MODE_ERROR);
	assert_int_equal(hs_open_stream(l.db[BUF_FILE_DATA], 0, &st), HS_SUCCESS);
	assert_int_equal(hs_scan_stream(st, p1, (unsigned)strlen(p1), 0, l.scratch, on_match, &sh),
			 HS_SUCCESS);
	assert_int_equal(sh.n, 0);
	assert_int_equal(hs_scan_stream(st, p2, (unsigned)strlen(p2), 0, l.scratch, on_match, &sh),
			 HS_SUCCESS);
	assert_int_equal(hs_close_stream(st, l.scratch, on_match, &sh), HS_SUCCESS);
	assert_int_equal(sh.n, 1);
	assert_int_equal(sh.ids[0], 2);
	/* case-sensitive there */
	sh.n = 0;
	assert_int_equal(hs_open_stream(l.db[BUF_FILE_DATA], 0, &st), HS_SUCCESS);
	assert_int_equal(hs_scan_stream(st, "WIRE TRANSFER", 13, 0, l.scratch, on_match, &sh),
			 HS_SUCCESS);
	assert_int_equal(hs_close_stream(st, l.scratch, on_match, &sh), HS_SUCCESS);
	assert_int_equal(sh.n, 0);

	unload_dbs(&l);
	free(blob);
	rule_set_destroy(rs);
}

/* Many rules over every block buffer: each content's id is its index in contents[]. */
static void
test_ids_at_scale(void **state)
{
	(void)state;
	const uint32_t n = 400;
	size_t cap = (size_t)n * 200, tl = 0;
	char *text = malloc(cap);
	static const char *const bufs[] = { "smtp.helo", "smtp.mail_from", "smtp.rcpt_to",
					    "email.from", "email.to", "email.cc", "email.subject",
					    "email.message_id", "email.x_mailer", "email.date" };
	struct rule_set *rs;
	void *blob = NULL;
	size_t len = 0;
	struct loaded l;
	char out[64], want[64], val[32];

	assert_non_null(text);
	for (uint32_t i = 0; i < n; i++)
		tl += (size_t)snprintf(text + tl, cap - tl,
				       "alert smtp any any -> any any (msg:\"r%u\"; %s; "
				       "content:\"<a%04u>\"; content:\"<b%04u>\"; nocase; sid:%u;)\n",
				       i, bufs[i % 10], i, i, 100 + i);
	rs = parse_str(text);
	free(text);
	assert_int_equal(rule_compile(rs, NULL, 1, &blob, &len, err, sizeof(err)), 0);
	assert_int_equal(gen_blob_check(blob, len), 0);
	assert_int_equal(n_dbs(blob), 10);
	assert_null(find_db(blob, BUF_FILE_DATA));
	load_dbs(blob, &l);
	for (uint32_t i = 0; i < n; i++) {
		enum buffer_id b = (enum buffer_id)buffer_id_from_name(bufs[i % 10],
								       strlen(bufs[i % 10]));

		snprintf(val, sizeof(val), "x<a%04u><B%04u>", i, i);
		snprintf(want, sizeof(want), "%u,%u", 2 * i, 2 * i + 1);
		assert_string_equal(scan(&l, b, val, strlen(val), out, sizeof(out)), want);
		/* the first content is case-sensitive */
		snprintf(val, sizeof(val), "<A%04u>", i);
		assert_string_equal(scan(&l, b, val, strlen(val), out, sizeof(out)), "");
	}
	unload_dbs(&l);
	free(blob);
	rule_set_destroy(rs);
}

static void
test_empty_set(void **state)
{
	(void)state;
	struct rule_set *rs = parse_str("# no rules\n");
	void *blob = NULL;
	size_t len = 0;

	assert_int_equal(rule_compile(rs, NULL, 7, &blob, &len, err, sizeof(err)), 0);
	assert_int_equal(len, tables_end(blob));
	assert_int_equal(gen_blob_check(blob, len), 0);
	assert_int_equal(n_dbs(blob), 0);
	assert_int_equal(((const struct gen_hdr *)blob)->gen_id, 7);
	free(blob);
	rule_set_destroy(rs);
}

/* Flowbits: stages order setters first; a cycle and too many names are errors. */
static void
test_flowbits_stages_and_limits(void **state)
{
	(void)state;
	static char text[1 << 16];
	struct rule_set *rs;
	void *blob = NULL;
	size_t len = 0, n = 0;

	rs = parse_str("alert smtp any any -> any any (msg:\"c\"; flowbits:isset,b; sid:1;)\n"
		       "alert smtp any any -> any any (msg:\"b\"; flowbits:isset,a; "
		       "flowbits:set,b; sid:2;)\n"
		       "alert smtp any any -> any any (msg:\"a\"; smtp.helo; content:\"x\"; "
		       "flowbits:set,a; sid:3;)\n"
		       "alert smtp any any -> any any (msg:\"self\"; smtp.helo; content:\"y\"; "
		       "flowbits:isnotset,a; flowbits:set,a; sid:4;)\n");
	assert_int_equal(rule_compile(rs, NULL, 1, &blob, &len, err, sizeof(err)), 0);
	const struct gen_rule *r = gen_section(blob, GEN_SEC_RULES);

	assert_int_equal(((const struct gen_hdr *)blob)->n_flowbits, GEN_FLOWBITS_RESERVED + 2);
	assert_int_equal(r[2].stage, 0);  /* sets a */
	assert_int_equal(r[3].stage, 1);  /* reads a after sid 3 sets it; its own set is no cycle */
	assert_int_equal(r[1].stage, 2);  /* reads a, so after both its writers (3 and 4) */
	assert_int_equal(r[0].stage, 3);  /* reads b, after its writer */
	free(blob);
	rule_set_destroy(rs);

	rs = parse_str("alert smtp any any -> any any (msg:\"a\"; flowbits:isset,b; "
		       "flowbits:set,a; sid:1;)\n"
		       "alert smtp any any -> any any (msg:\"b\"; flowbits:isset,a; "
		       "flowbits:set,b; sid:2;)\n");
	assert_int_equal(rule_compile(rs, NULL, 1, &blob, &len, err, sizeof(err)), -EINVAL);
	assert_null(blob);
	assert_non_null(strstr(err, "flowbits: rules set and test each other's bits in a cycle"));
	rule_set_destroy(rs);

	/* GEN_MAX_FLOWBITS names fit in a pack, Postern's own marks included; one more does
	 * not */
	size_t at_limit = 0;
	const int own = GEN_MAX_FLOWBITS - GEN_FLOWBITS_RESERVED;

	for (int i = 0; i <= own; i++) {
		if (i == own)
			at_limit = n;
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "alert smtp any any -> any any (msg:\"m\"; smtp.helo; "
				      "content:\"x\"; flowbits:set,n%d; sid:%d;)\n", i, i + 1);
	}
	rs = parse_str(text);
	assert_int_equal(rule_compile(rs, NULL, 1, &blob, &len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.rules:251:"));
	assert_non_null(strstr(err, "flowbits: more than 256 distinct names in one pack (sid 251)"));
	rule_set_destroy(rs);
	text[at_limit] = '\0';
	rs = parse_str(text);
	assert_int_equal(rs->n_rules, own);
	assert_int_equal(rule_compile(rs, NULL, 1, &blob, &len, err, sizeof(err)), 0);
	assert_int_equal(((const struct gen_hdr *)blob)->n_flowbits, GEN_MAX_FLOWBITS);
	free(blob);
	rule_set_destroy(rs);
}

/* Addresses resolve at compile time; a bad one names the byte of the field at fault. */
static void
test_address_errors(void **state)
{
	(void)state;
	struct rule_set *rs;
	void *blob = NULL;
	size_t len = 0;

	rs = parse_str("alert smtp any any -> any any (msg:\"ok\"; smtp.helo; content:\"x\"; sid:1;)\n"
		       "alert smtp [10.0.0.0/8,$NOPE] any -> any 25 (msg:\"m\"; smtp.helo; "
		       "content:\"x\"; sid:2;)\n");
	assert_int_equal(rule_compile(rs, NULL, 1, &blob, &len, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.rules:2:24: src: unknown variable $NOPE (sid 2)");
	rule_set_destroy(rs);
	rs = parse_str("alert smtp any any -> any [25,!25] (msg:\"m\"; smtp.helo; content:\"x\"; "
		       "sid:3;)\n");
	assert_int_equal(rule_compile(rs, NULL, 1, &blob, &len, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.rules:1:27: dport: "));
	rule_set_destroy(rs);
}

/* The shipped demo pack and classification compile. */
static void
test_demo_pack(void **state)
{
	(void)state;
	const char *root = getenv("POSTERN_SOURCE_ROOT");
	char root_buf[2048], here[4096], cls_path[4096];
	struct classification *cls;
	struct rule_set *rs;
	void *blob = NULL;
	size_t len = 0;

	if (root == NULL) {
		snprintf(here, sizeof(here), "%s", __FILE__);
		snprintf(root_buf, sizeof(root_buf), "%.2000s/../..", dirname(here));
		root = root_buf;
	}
	snprintf(cls_path, sizeof(cls_path), "%.2000s/rules/classification.config", root);
	snprintf(here, sizeof(here), "%.2000s/rules/demo.rules", root);
	cls = classification_load(cls_path, err, sizeof(err));
	if (cls == NULL)
		fail_msg("%s", err);
	rs = rule_set_load(here, cls, err, sizeof(err));
	if (rs == NULL)
		fail_msg("%s", err);
	assert_true(rs->n_rules > 0);
	assert_int_equal(rule_compile(rs, NULL, 1, &blob, &len, err, sizeof(err)), 0);
	assert_int_equal(gen_blob_check(blob, len), 0);
	assert_int_equal(gen_count(blob, GEN_SEC_RULES), rs->n_rules);
	free(blob);
	rule_set_destroy(rs);
	classification_destroy(cls);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_pack),
		cmocka_unit_test(test_ids_at_scale),
		cmocka_unit_test(test_empty_set),
		cmocka_unit_test(test_flowbits_stages_and_limits),
		cmocka_unit_test(test_address_errors),
		cmocka_unit_test(test_demo_pack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
