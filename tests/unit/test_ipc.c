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

static void
test_gen_blob_check(void **state)
{
	(void)state;
	_Alignas(8) uint8_t blob[512] = { 0 };
	struct gen_hdr *h = (struct gen_hdr *)blob;
	size_t len = gen_tables_len(1, 1, 1) + 16;

	h->magic = GEN_MAGIC;
	h->version = GEN_VERSION;
	h->n_rules = 1;
	h->n_contents = 1;
	h->n_dbs = 1;
	h->total_len = len;

	struct gen_rule *r = (struct gen_rule *)gen_rules(h);
	struct gen_content *c = (struct gen_content *)gen_contents(h);
	struct gen_db *d = (struct gen_db *)gen_dbs(h);

	r->sid = 1;
	r->n_contents = 1;
	c->buffer = 6;
	d->buffer = 6;
	d->offset = gen_tables_len(1, 1, 1);
	d->len = 16;
	assert_int_equal(gen_blob_check(blob, len), 0);
	assert_int_not_equal(gen_blob_check(blob, len - 1), 0);
	d->len = 17;
	assert_int_not_equal(gen_blob_check(blob, len), 0);
	d->len = 16;
	c->rule = 1;
	assert_int_not_equal(gen_blob_check(blob, len), 0);
	c->rule = 0;
	r->first_content = 1;
	assert_int_not_equal(gen_blob_check(blob, len), 0);
	r->first_content = 0;
	h->n_rules = 1000000;
	assert_int_not_equal(gen_blob_check(blob, len), 0);
	h->n_rules = 1;
	h->version = 2;
	assert_int_equal(gen_blob_check(blob, len), -EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_built_record_checks_and_iterates),
		cmocka_unit_test(test_corruptions_are_refused),
		cmocka_unit_test(test_bounds_truncate_not_overrun),
		cmocka_unit_test(test_gen_blob_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
