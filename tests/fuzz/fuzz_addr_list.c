/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzzer of the address-list helpers (common/addr_list.c): splitting a To/Cc value, cutting
 * it between addresses, and taking each entry's mailbox. Invariants: every slice lies inside
 * the input, entries and separators tile the list, a cut ends where a separator is.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "addr_list.h"

static void
inside(struct slice outer, struct slice s)
{
	assert(s.len == 0 || (s.ptr >= outer.ptr && s.ptr + s.len <= outer.ptr + outer.len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slice v = slice_make(data, size), a;
	size_t pos = 0, n = 0;

	while (addr_list_next(v, &pos, &a)) {
		inside(v, a);
		inside(a, addr_list_mailbox(a));
		assert(++n <= size + 1);
	}
	for (size_t limit = 0; limit <= size; limit += 1 + size / 8) {
		struct slice c = addr_list_cut(v, limit);

		assert(c.len <= limit && c.ptr == v.ptr);
		assert(c.len == 0 || addr_list_sep(v, c.len) == c.len);
	}
	inside(v, addr_list_mailbox(v));
	return 0;
}
