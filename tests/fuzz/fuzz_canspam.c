/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzzer of the CAN-SPAM checks (control/canspam.c): a record built from the input (its
 * commercial decision, marks and header fields: From, Reply-To, Subject, Message-ID, Date,
 * MAIL FROM, List-Unsubscribe, List-Unsubscribe-Post, URLs), judged under three policies.
 * Input: [commercial lo][commercial hi][marks][flags] then fields [type][len][bytes]. Checked:
 * a failure is only ever reported for a check that was evaluated, and nothing is checked
 * for a message that is neither commercial nor automated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "canspam.h"
#include "config.h"
#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t field_types[] = {
	IPC_F_MAIL_FROM, IPC_F_EMAIL_FROM, IPC_F_REPLY_TO, IPC_F_SUBJECT, IPC_F_MESSAGE_ID,
	IPC_F_DATE, IPC_F_LIST_UNSUB, IPC_F_LIST_UNSUB_POST, IPC_F_URL,
};

static struct canspam_policy *policies[3];

static void
init(void)
{
	static const char *const sets[3][2][2] = {
		{ { NULL, NULL }, { NULL, NULL } },
		{ { "canspam_require_one_click", "yes" },
		  { "canspam_from_domains", "news.example, mcsv.net" } },
		{ { "canspam_checks", "sender, label" }, { "automated_senders", "corp.example" } },
	};
	char err[256];

	for (int i = 0; i < 3; i++) {
		struct postern_config cfg;

		config_defaults(&cfg);
		for (int k = 0; k < 2; k++)
			if (sets[i][k][0] != NULL &&
			    config_set(&cfg, sets[i][k][0], sets[i][k][1], err, sizeof(err)) < 0)
				abort();
		policies[i] = canspam_create(&cfg, err, sizeof(err));
		if (policies[i] == NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t rec[IPC_TX_MAX / 8];
	struct ipc_tx *tx = (struct ipc_tx *)rec;

	if (policies[0] == NULL)
		init();
	if (size < 4)
		return 0;
	ipc_tx_init(tx, sizeof(rec));
	tx->commercial = (uint16_t)(data[0] | data[1] << 8);
	tx->marks = data[2];
	tx->flags = data[3] & (IPC_TXF_HAS_DATA | IPC_TXF_TRUNCATED);
	tx->ip_version = 4;
	data += 4;
	size -= 4;
	while (size >= 2) {
		uint16_t type = field_types[data[0] % (sizeof(field_types) / sizeof(field_types[0]))];
		size_t len = data[1] < size - 2 ? data[1] : size - 2;

		ipc_tx_add(tx, sizeof(rec), type, data + 2, len);
		data += 2 + len;
		size -= 2 + len;
	}
	if (ipc_tx_check(tx, tx->hdr.len) != 0)
		abort();
	for (int i = 0; i < 3; i++) {
		struct canspam_result r;

		canspam_check(policies[i], tx, &r);
		if ((r.failed & ~r.checked) != 0 || (r.kind == CANSPAM_NONE && r.checked != 0))
			abort();
		for (uint32_t bit = 1; bit != 0; bit <<= 1)
			if ((r.failed & bit) && (canspam_failure_name((enum canspam_failure)bit) == NULL ||
						 canspam_failure_reason((enum canspam_failure)bit) ==
							 NULL))
				abort();
	}
	return 0;
}
