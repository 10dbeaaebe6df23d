/* SPDX-License-Identifier: BSD-3-Clause */
/* Slice helpers shared by the parsers of both processes. Pure, any thread. */
#include "ascii.h"
#include "slice.h"

bool
slice_starts_nocase(struct slice s, const char *prefix)
{
	size_t n = strlen(prefix);

	if (s.len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(s.ptr[i]) != ascii_lower((uint8_t)prefix[i]))
			return false;
	return true;
}

bool
slice_eq_nocase(struct slice s, const char *name)
{
	return s.len == strlen(name) && slice_starts_nocase(s, name);
}

static inline bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct slice
slice_trim(struct slice s)
{
	while (s.len > 0 && is_space(s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && is_space(s.ptr[s.len - 1]))
		s.len--;
	return s;
}
