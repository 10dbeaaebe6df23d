/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for what posternd does with every record a dataplane sends: the header
 * and transaction checks, then EVE formatting of a record that passed them, under every
 * address output mode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eve.h"
#include "ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
discard(void *ctx, const char *line, size_t len, const char *type)
{
	(void)ctx;
	(void)type;
	/* every line must be a complete C string of the length given */
	if (strlen(line) != len)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static _Alignas(8) uint8_t buf[IPC_RECORD_MAX];

	if (size > sizeof(buf))
		return 0;
	memcpy(buf, data, size);
	if (ipc_hdr_check(buf, size) < 0 || ipc_tx_check(buf, size) < 0)
		return 0;
	for (int mode = CONFIG_ADDR_PLAIN; mode <= CONFIG_ADDR_REDACT; mode++) {
		struct eve_options opt = { .address_output = mode, .smtp_events = true };

		eve_format_tx((const struct ipc_tx *)buf, &opt, NULL, NULL, discard, NULL);
	}
	return 0;
}
