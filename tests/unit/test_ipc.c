/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for common/ipc.c and common/gen_format.c: records built by the worker-side
 * builders pass the checks; every corruption a peer could send is refused; bounds hold.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buffer_id.h"
#include "gen_format.h"
#include "ipc.h"

static _Alignas(8) uint8_t buf[IPC_TX_MAX];

static struct ipc_tx *
sample_tx(void)
{
	struct ipc_tx *tx = (struct ipc_tx *)buf;
	struct ipc_rcpt r = { .reply_code = 250, .verdict = IPC_SUPPRESS_VIOLATION };
	struct ipc_alert a = { .sid = 1000001, .rev = 2, .gid = 1 };

	ipc_tx_init(tx, sizeof(buf));
	tx->ip_version = 4;
	assert_non_null(ipc_tx_add(tx, sizeof(buf), IPC_F_HELO, "client.example", 14));
	assert_non_null(ipc_tx_add(tx, sizeof(buf), IPC_F_MAIL_FROM, "a@b.example", 11));
	assert_non_null(ipc_tx_add2(tx, sizeof(buf), IPC_F_RCPT, &r, sizeof(r), "c@d", 3));
	assert_non_null(ipc_tx_add(tx, sizeof(buf), IPC_F_ALERT, &a, sizeof(a)));
	return tx;
}

static void
test_built_record_checks_and_iterates(void **state)
{
	(void)state;
	struct ipc_tx *tx = sample_tx();
	const struct ipc_field *f;
	int n = 0;

	assert_int_equal(tx->n_fields, 4);
	assert_int_equal(tx->hdr.len % 8, 0);
	assert_int_equal(ipc_tx_check(tx, tx->hdr.len), 0);
	for (f = ipc_tx_next(tx, NULL); f != NULL; f = ipc_tx_next(tx, f)) {
		assert_int_equal(((uintptr_t)ipc_field_value(f)) % 8, 0);
		if (f->type == IPC_F_RCPT) {
			struct ipc_rcpt r;

			memcpy(&r, ipc_field_value(f), sizeof(r));
			assert_int_equal(r.reply_code, 250);
			assert_int_equal(f->len, sizeof(r) + 3);
			assert_memory_equal(ipc_field_value(f) + sizeof(r), "c@d", 3);
		}
		n++;
	}
	assert_int_equal(n, 4);
}

static void
test_corruptions_are_refused(void **state)
{
	(void)state;
	struct ipc_tx *tx = sample_tx();
	uint32_t len = tx->hdr.len;
	struct ipc_field *first = (struct ipc_field *)(buf + sizeof(*tx));

	/* every truncation */
	for (uint32_t cut = 0; cut < len; cut++)
		assert_int_not_equal(ipc_tx_check(tx, cut), 0);

	tx->hdr.magic ^= 1;
	assert_int_equal(ipc_tx_check(tx, len), -EINVAL);
	tx->hdr.magic ^= 1;
	tx->hdr.version = 99;
	assert_int_equal(ipc_tx_check(tx, len), -EPROTO);
	tx->hdr.version = IPC_VERSION;
	tx->n_fields = 5;
	assert_int_equal(ipc_tx_check(tx, len), -EINVAL);
	tx->n_fields = 4;
	first->len = 2000; /* past IPC_FIELD_MAX and the record */
	assert_int_equal(ipc_tx_check(tx, len), -EINVAL);
	first->len = 14;
	first->type = 99;
	assert_int_equal(ipc_tx_check(tx, len), -EINVAL);
	first->type = IPC_F_HELO;
	tx->status = 9;
	assert_int_equal(ipc_tx_check(tx, len), -EINVAL);
	tx->status = 0;
	tx->ip_version = 5;
	assert_int_equal(ipc_tx_check(tx, len), -EINVAL);
	tx->ip_version = 4;
	assert_int_equal(ipc_tx_check(tx, len), 0);
}

static void
test_bounds_truncate_not_overrun(void **state)
{
	(void)state;
	struct ipc_tx *tx = (struct ipc_tx *)buf;
	uint8_t big[3000];
	size_t cap = 2048;
	int added = 0;

	memset(big, 'x', sizeof(big));
	memset(buf, 0xaa, sizeof(buf));
	ipc_tx_init(tx, cap);
	tx->ip_version = 6;
	/* a field over IPC_FIELD_MAX is cut to it and flagged */
	uint8_t *v = ipc_tx_add(tx, cap, IPC_F_SUBJECT, big, sizeof(big));
	assert_non_null(v);
	assert_true(tx->flags & IPC_TXF_TRUNCATED);
	/* then the record fills up: NULL, never a write past cap */
	while (ipc_tx_add(tx, cap, IPC_F_EMAIL_TO, big, 200) != NULL)
		added++;
	assert_true(tx->hdr.len <= cap);
	assert_int_equal(buf[cap], 0xaa);
	assert_int_equal(ipc_tx_check(tx, tx->hdr.len), 0);
	assert_int_equal(tx->n_fields, 1 + added);
}

/* A blob of one rule, one atom, one database of 16 bytes, one flowbit op, one port set. */
static size_t
small_blob(uint8_t *blob)
{
	uint64_t counts[GEN_SEC__COUNT] = {
		[GEN_SEC_RULES] = 1, [GEN_SEC_ATOMS] = 1, [GEN_SEC_DBS] = 1,
		[GEN_SEC_FLOWBIT_OPS] = 1, [GEN_SEC_SETS] = 1, [GEN_SEC_PORT_RANGES] = 1,
		[GEN_SEC_TEXT] = 8,
	};
	struct gen_hdr *h = (struct gen_hdr *)blob;
	size_t off;

	memset(blob, 0, 1024);
	h->magic = GEN_MAGIC;
	h->version = GEN_VERSION;
	h->n_flowbits = 1;
	off = gen_layout(h, counts);
	h->total_len = off + 16;

	struct gen_rule *r = (struct gen_rule *)gen_section(h, GEN_SEC_RULES);
	struct gen_atom *a = (struct gen_atom *)gen_section(h, GEN_SEC_ATOMS);
	struct gen_db *d = (struct gen_db *)gen_section(h, GEN_SEC_DBS);
	struct gen_set *set = (struct gen_set *)gen_section(h, GEN_SEC_SETS);
	char *text = (char *)gen_section(h, GEN_SEC_TEXT);

	r->sid = 1;
	r->n_atoms = 1;
	r->n_flowbit_ops = 1;
	r->src_set = r->dst_set = r->sport_set = GEN_SET_ANY;
	r->dport_set = 0;
	set->kind = GEN_SET_PORT;
	set->n = 1;
	a->buffer = 6;
	a->confirm_offset = 1;
	memcpy(text, "\0a(b)\\1", 8);
	d->buffer = 6;
	d->offset = off;
	d->len = 16;
	return h->total_len;
}

/* Spoil one field of a valid blob; each must be refused. */
static void
spoil(struct gen_hdr *h, int what)
{
	struct gen_rule *r = (struct gen_rule *)gen_section(h, GEN_SEC_RULES);
	struct gen_atom *a = (struct gen_atom *)gen_section(h, GEN_SEC_ATOMS);
	struct gen_db *d = (struct gen_db *)gen_section(h, GEN_SEC_DBS);
	struct gen_flowbit_op *o = (struct gen_flowbit_op *)gen_section(h, GEN_SEC_FLOWBIT_OPS);
	struct gen_set *set = (struct gen_set *)gen_section(h, GEN_SEC_SETS);
	char *text = (char *)gen_section(h, GEN_SEC_TEXT);

	switch (what) {
	case 0: d->len = 17; break;                            /* database past the end */
	case 1: a->rule = 1; break;                            /* atom of no rule */
	case 2: r->first_atom = 1; break;                      /* rule's atoms past the table */
	case 3: h->sec[GEN_SEC_RULES].count = 1000000; break;  /* section past the end */
	case 4: h->sec[GEN_SEC_ATOMS].offset += 4; break;      /* misaligned section */
	case 5: o->bit = 1; break;                             /* flowbit past n_flowbits */
	case 6: o->op = 9; break;                              /* unknown flowbit op */
	case 7: r->dport_set = 1; break;                       /* no such set */
	case 8: r->src_set = 0; break;                         /* a port set as addresses */
	case 9: set->n = 2; break;                             /* set past its ranges */
	case 10: text[7] = 'x'; break;                         /* confirmation unterminated */
	case 11: a->confirm_offset = 8; break;                 /* confirmation past the text */
	case 12: h->n_flowbits = GEN_MAX_FLOWBITS + 1; break;
	case 13: r->n_atoms = GEN_MAX_ATOMS_PER_RULE + 1; break;
	case 14: a->buffer = BUF__COUNT; break;
	case 15: h->sec[GEN_SEC_DBS].count = BUF__COUNT + 1; break;
	}
}

/* Every record type either way passes the header check, and nothing past the last one. */
static void
test_every_type_passes_the_header_check(void **state)
{
	struct ipc_ack ack;
	struct ipc_spool sp;

	(void)state;
	ipc_hdr_init(&ack.hdr, IPC_ACK, sizeof(ack), 1);
	assert_int_equal(ipc_hdr_check(&ack, sizeof(ack)), 0);
	ipc_hdr_init(&sp.hdr, IPC_SPOOL, sizeof(sp), 2);
	assert_int_equal(ipc_hdr_check(&sp, sizeof(sp)), 0);
	for (unsigned t = IPC_HELLO; t <= IPC_TYPE_LAST; t++) {
		ipc_hdr_init(&ack.hdr, t, sizeof(ack), 3);
		assert_int_equal(ipc_hdr_check(&ack, sizeof(ack)), 0);
	}
	ipc_hdr_init(&ack.hdr, IPC_TYPE_LAST + 1, sizeof(ack), 4);
	assert_int_equal(ipc_hdr_check(&ack, sizeof(ack)), -EINVAL);
}

static void
test_gen_blob_check(void **state)
{
	(void)state;
	_Alignas(8) uint8_t blob[1024];
	size_t len = small_blob(blob);

	assert_int_equal(gen_blob_check(blob, len), 0);
	assert_int_not_equal(gen_blob_check(blob, len - 1), 0);
	for (int what = 0; what <= 15; what++) {
		len = small_blob(blob);
		spoil((struct gen_hdr *)blob, what);
		if (gen_blob_check(blob, len) == 0)
			fail_msg("spoiled blob %d accepted", what);
	}
	len = small_blob(blob);
	((struct gen_hdr *)blob)->version = GEN_VERSION + 1;
	assert_int_equal(gen_blob_check(blob, len), -EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_built_record_checks_and_iterates),
		cmocka_unit_test(test_corruptions_are_refused),
		cmocka_unit_test(test_bounds_truncate_not_overrun),
		cmocka_unit_test(test_every_type_passes_the_header_check),
		cmocka_unit_test(test_gen_blob_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
