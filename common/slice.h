/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Byte slices: how bytes from the wire travel through Postern. A slice borrows its bytes;
 * whoever hands one out says how long it stays valid. Wire bytes are never NUL-terminated.
 * Used by every thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdbool.h>

struct slice {
	const uint8_t *ptr;
	size_t len;
};

#define SLICE_LIT(s) ((struct slice){ (const uint8_t *)(s), sizeof(s) - 1 })

static inline struct slice
slice_make(const void *p, size_t len)
{
	return (struct slice){ (const uint8_t *)p, len };
}

static inline struct slice
slice_from_cstr(const char *s)
{
	return slice_make(s, strlen(s));
}

/* ASCII case-insensitive equality with a C string literal or name. */
bool slice_eq_nocase(struct slice s, const char *name);

/* ASCII case-insensitive prefix test. */
bool slice_starts_nocase(struct slice s, const char *prefix);

/* Drop leading and trailing SP/HTAB/CR/LF. */
struct slice slice_trim(struct slice s);
