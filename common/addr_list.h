/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RFC 5322 address lists (To, Cc): where one address ends and the next begins. Commas inside
 * quoted strings, comments and angle brackets do not separate addresses ("Doe, John"
 * <j@x>). The dataplane cuts an over-long list between two addresses with it; posternd
 * splits lists into EVE arrays with it, so that both see the same addresses. Pure, any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "slice.h"

/* Offset of the first separating comma at or after `from`, or v.len when there is none. */
size_t addr_list_sep(struct slice v, size_t from);

/*
 * The next address of the list from *pos (start at 0), trimmed (it may be empty: "a,,b");
 * false once the list is exhausted.
 */
bool addr_list_next(struct slice v, size_t *pos, struct slice *addr);

/* The longest prefix of v, at most limit bytes, that ends just before a separating comma:
 * whole addresses only. Empty when the first address is longer than limit. */
struct slice addr_list_cut(struct slice v, size_t limit);

/*
 * The mailbox of one list entry: what is inside its <...> ("Shop <news@shop.example>"),
 * else its addr-spec without the comments around it ("news@shop.example (Shop)"). Empty
 * when there is none (a group's "undisclosed-recipients:;" yields its text as written).
 */
struct slice addr_list_mailbox(struct slice entry);
