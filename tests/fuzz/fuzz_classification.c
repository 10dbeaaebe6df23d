/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the classification.config parser (control/classification.c): any
 * bytes as the file. A table that parses must hold only valid entries that find() returns;
 * a failure must come with a NUL-terminated message. Anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classification.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	struct classification *c;

	memset(err, 'X', sizeof(err));
	c = classification_parse_buffer("fuzz.config", (const char *)data, size, err, sizeof(err));
	if (c == NULL) {
		if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		return 0;
	}
	if (c->n_entries > CLASSIFICATION_MAX)
		abort();
	for (uint32_t i = 0; i < c->n_entries; i++) {
		const struct classification_entry *e = &c->entries[i];

		if (e->priority < 1 || e->priority > 255 || e->name[0] == '\0' ||
		    e->desc[0] == '\0' || strlen(e->name) > CLASSIFICATION_NAME_MAX ||
		    strlen(e->desc) > CLASSIFICATION_DESC_MAX ||
		    classification_find(c, e->name) != e ||
		    classification_severity(c, e->name, 0) != e->priority)
			abort();
	}
	classification_destroy(c);
	return 0;
}
