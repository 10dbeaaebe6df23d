/* SPDX-License-Identifier: BSD-3-Clause */
/* Address list separators; see addr_list.h. Pure, any thread. */
#include <string.h>

#include "addr_list.h"

/* What a byte of an address list is: plain text, part of a quoted string, or part of a
 * comment (their delimiters and escapes included). RFC 5322 3.2.2-3.2.4. */
enum lex_class { LEX_PLAIN, LEX_QUOTED, LEX_COMMENT };

struct addr_lex {
	bool in_quote;
	bool escaped;
	size_t paren;
};

static enum lex_class
lex(struct addr_lex *x, uint8_t c)
{
	if (x->escaped) {
		x->escaped = false;
		return x->paren > 0 ? LEX_COMMENT : LEX_QUOTED;
	}
	if (c == '\\' && (x->in_quote || x->paren > 0)) {
		x->escaped = true;
		return x->paren > 0 ? LEX_COMMENT : LEX_QUOTED;
	}
	if (x->in_quote) {
		x->in_quote = c != '"';
		return LEX_QUOTED;
	}
	if (c == '"' && x->paren == 0) {
		x->in_quote = true;
		return LEX_QUOTED;
	}
	if (c == '(') {
		x->paren++;
		return LEX_COMMENT;
	}
	if (c == ')' && x->paren > 0) {
		x->paren--;
		return LEX_COMMENT;
	}
	return x->paren > 0 ? LEX_COMMENT : LEX_PLAIN;
}

size_t
addr_list_sep(struct slice v, size_t from)
{
	struct addr_lex x = { 0 };
	size_t angle = 0;

	for (size_t i = from; i < v.len; i++) {
		uint8_t c = v.ptr[i];

		if (lex(&x, c) != LEX_PLAIN)
			continue;
		if (c == '<')
			angle++;
		else if (c == '>' && angle > 0)
			angle--;
		else if (c == ',' && angle == 0)
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
	struct addr_lex x = { 0 };
	size_t start = a.len, end = a.len;

	/* name-addr: the first <...> outside quotes and comments */
	for (size_t i = 0; i < a.len; i++) {
		if (lex(&x, a.ptr[i]) == LEX_PLAIN && a.ptr[i] == '<') {
			const uint8_t *gt = memchr(a.ptr + i + 1, '>', a.len - i - 1);

			if (gt != NULL)
				return slice_trim(slice_make(a.ptr + i + 1,
							     (size_t)(gt - a.ptr) - i - 1));
		}
	}
	/* addr-spec: the first run of text and quoted strings, up to a blank or a comment */
	x = (struct addr_lex){ 0 };
	for (size_t i = 0; i < a.len; i++) {
		uint8_t c = a.ptr[i];
		enum lex_class k = lex(&x, c);
		bool part = k == LEX_QUOTED ||
			    (k == LEX_PLAIN && c != ' ' && c != '\t' && c != '\r' && c != '\n');

		if (start == a.len && part) {
			start = i;
		} else if (start != a.len && !part) {
			end = i;
			break;
		}
	}
	return slice_make(a.ptr + start, start == a.len ? 0 : end - start);
}
