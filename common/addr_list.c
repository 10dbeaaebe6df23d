/* SPDX-License-Identifier: BSD-3-Clause */
/* Address list separators; see addr_list.h. Pure, any thread. */
#include "addr_list.h"

size_t
addr_list_sep(struct slice v, size_t from)
{
	bool in_quote = false, escaped = false;
	size_t angle = 0, paren = 0;

	for (size_t i = from; i < v.len; i++) {
		uint8_t c = v.ptr[i];

		if (escaped) {
			escaped = false;
			continue;
		}
		if (c == '\\' && (in_quote || paren > 0)) {
			escaped = true;
			continue;
		}
		if (in_quote) {
			in_quote = c != '"';
			continue;
		}
		if (c == '"' && paren == 0)
			in_quote = true;
		else if (c == '(')
			paren++;
		else if (c == ')' && paren > 0)
			paren--;
		else if (c == '<' && paren == 0)
			angle++;
		else if (c == '>' && paren == 0 && angle > 0)
			angle--;
		else if (c == ',' && paren == 0 && angle == 0)
			return i;
	}
	return v.len;
}

bool
addr_list_next(struct slice v, size_t *pos, struct slice *addr)
{
	size_t end;

	if (*pos > v.len)
		return false;
	end = addr_list_sep(v, *pos);
	*addr = slice_trim(slice_make(v.ptr + *pos, end - *pos));
	*pos = end + 1;
	return true;
}

struct slice
addr_list_cut(struct slice v, size_t limit)
{
	size_t keep = 0, end;

	/* a separator's state depends on what came before it: walk from the start */
	for (size_t pos = 0; (end = addr_list_sep(v, pos)) < v.len && end <= limit; pos = end + 1)
		keep = end;
	return slice_make(v.ptr, keep);
}
