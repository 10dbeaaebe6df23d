/* SPDX-License-Identifier: BSD-3-Clause */
/* Address list separators; see addr_list.h. Pure, any thread. */
#include <string.h>

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

struct slice
addr_list_mailbox(struct slice a)
{
	bool in_quote = false, escaped = false;
	size_t paren = 0, start = a.len, end = a.len;

	/* name-addr: the first <...> outside quotes and comments */
	for (size_t i = 0; i < a.len; i++) {
		uint8_t c = a.ptr[i];

		if (escaped) {
			escaped = false;
		} else if (c == '\\' && (in_quote || paren > 0)) {
			escaped = true;
		} else if (in_quote) {
			in_quote = c != '"';
		} else if (c == '"' && paren == 0) {
			in_quote = true;
		} else if (c == '(') {
			paren++;
		} else if (c == ')' && paren > 0) {
			paren--;
		} else if (c == '<' && paren == 0) {
			const uint8_t *gt = memchr(a.ptr + i + 1, '>', a.len - i - 1);

			if (gt != NULL)
				return slice_trim(slice_make(a.ptr + i + 1,
							     (size_t)(gt - a.ptr) - i - 1));
		}
	}
	/* addr-spec: the first run outside comments, up to a blank or a comment */
	in_quote = escaped = false;
	paren = 0;
	for (size_t i = 0; i < a.len; i++) {
		uint8_t c = a.ptr[i];
		bool blank = c == ' ' || c == '\t' || c == '\r' || c == '\n';

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
		if (paren > 0) {
			paren -= c == ')';
			paren += c == '(';
			continue;
		}
		if (start == a.len) {
			if (c == '(')
				paren++;
			else if (!blank)
				start = i;
			if (c == '"')
				in_quote = true;
			continue;
		}
		if (blank || c == '(') {
			end = i;
			break;
		}
		if (c == '"')
			in_quote = true;
	}
	if (start == a.len)
		return slice_make(a.ptr, 0);
	return slice_make(a.ptr + start, end - start);
}
