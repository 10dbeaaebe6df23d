/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for EVE formatting (control/eve.c). The input is either a raw record,
 * formatted only when ipc_tx_check() accepts it (as posternd does), or, more usefully, a
 * recipe that builds a valid record with the dataplane's builders so that every run reaches
 * the formatter: header fields, then (type, length, bytes) fields, with the rule metadata the
 * lookup returns taken from the input too. Every line produced must parse as JSON.
 *
 * Input layout:
 *   byte 0      bit 0: raw record mode; bits 1-2: address output; bit 3: smtp events
 *   byte 1      metadata length m (0..63), then m bytes of metadata
 *   recipe:     32 bytes of fixed fields, then repeated [type][len lo][len hi][bytes...]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "canspam.h"
#include "eve.h"
#include "ipc.h"

struct fuzz_ctx {
	char metadata[64];
};

static bool
fuzz_lookup(void *ctx, const struct ipc_tx *tx, uint32_t gid, uint32_t sid,
	    struct eve_rule_info *out)
{
	struct fuzz_ctx *fc = ctx;

	(void)gid;
	(void)tx;
	if (sid % 3 == 0)
		return false;
	*out = (struct eve_rule_info){
		.msg = fc->metadata,  /* invalid UTF-8 in a message too */
		.category = sid % 2 ? "cat" : NULL,
		.severity = (int)(sid % 300) - 10,
		.metadata = fc->metadata,
		.suppressed = sid % 7 == 0, /* a threshold holding the alert back */
	};
	return true;
}

static int
fuzz_emit(void *ctx, const char *line, size_t len, const char *type)
{
	json_t *j;

	(void)ctx;
	if (strlen(line) != len || memchr(line, '\n', len) != NULL)
		abort();
	j = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	if (j == NULL || strcmp(json_string_value(json_object_get(j, "event_type")), type) != 0)
		abort();
	json_decref(j);
	return 0;
}

static uint64_t
rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t rec[IPC_TX_MAX / 8];
	struct ipc_tx *tx = (struct ipc_tx *)rec;
	struct fuzz_ctx fc = { { 0 } };
	struct eve_options opt = { .calendar = NULL }; /* NULL: the default calendar */

	if (size < 2)
		return 0;
	opt.address_output = (enum config_address_output)((data[0] >> 1) % 3);
	opt.smtp_events = (data[0] & 8) != 0;
	/* the smtp event's CAN-SPAM result: kind from two bits, every failure from the length */
	struct canspam_result cs = {
		.kind = (uint8_t)((data[0] >> 4) % 3),
		.checked = CANSPAM_ALL_FAILURES,
		.failed = (uint32_t)(size * 2654435761u) & CANSPAM_ALL_FAILURES,
	};
	bool with_cs = (data[0] & 64) != 0;
	size_t m = data[1] % sizeof(fc.metadata);
	if (size < 2 + m)
		return 0;
	memcpy(fc.metadata, data + 2, m);
	fc.metadata[m] = '\0';  /* a NUL inside just ends the string early, as in C */
	bool raw = data[0] & 1;
	data += 2 + m;
	size -= 2 + m;

	if (raw) {
		if (size > sizeof(rec))
			return 0;
		memcpy(rec, data, size);
		if (ipc_tx_check(rec, size) != 0)
			return 0;
	} else {
		if (size < 32)
			return 0;
		ipc_tx_init(tx, sizeof(rec));
		tx->ts_us = rd64(data);
		tx->flow_id = rd64(data + 8);
		memcpy(tx->src_ip + 8, data + 16, 8);
		memcpy(tx->dst_ip + 8, data + 20, 8);
		tx->ip_version = data[28] & 1 ? 6 : 4;
		tx->status = data[29] % 4;
		tx->tx_seq = data[30];
		tx->src_port = data[31];
		/* the commercial decision: undecided, decided either way, any reasons */
		tx->commercial = (uint16_t)(data[27] | (data[26] & 0x83) << 8);
		data += 32;
		size -= 32;
		while (size >= 3) {
			enum ipc_field_type type = (enum ipc_field_type)(data[0] % IPC_F__LAST + 1);
			size_t len = (size_t)(data[1] | data[2] << 8) % (IPC_FIELD_MAX + 64);

			data += 3;
			size -= 3;
			if (len > size)
				len = size;
			/* Fixed parts must have their size: what the input has, zero-padded. */
			if (type == IPC_F_ALERT) {
				struct ipc_alert a = { 0 };

				memcpy(&a, data, len < sizeof(a) ? len : sizeof(a));
				ipc_tx_add(tx, sizeof(rec), type, &a, sizeof(a));
			} else if (type == IPC_F_RCPT || type == IPC_F_HDR_RCPT) {
				struct ipc_rcpt r = { 0 };
				size_t h = len < sizeof(r) ? len : sizeof(r);

				memcpy(&r, data, h);
				ipc_tx_add2(tx, sizeof(rec), type, &r, sizeof(r), data + h,
					    len - h);
			} else {
				ipc_tx_add(tx, sizeof(rec), type, data, len);
			}
			data += len;
			size -= len;
		}
		if (ipc_tx_check(tx, tx->hdr.len) != 0)
			abort();  /* the builders must always make a valid record */
	}
	if (eve_format_tx(tx, &opt, with_cs ? &cs : NULL, fuzz_lookup, &fc, fuzz_emit, NULL) < 0)
		abort();
	return 0;
}
