/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lists of domains from the configuration ("news.example.com, deals.example.com"): which
 * senders are commercial, transactional or automated, which From domains are accepted.
 * Entries are normalized as domain-wide suppression entries are (addr_domain: lowercase,
 * IDNA A-labels), packed one after the other ("a\0b\0\0"), and match a domain and its
 * subdomains on a label boundary. Building allocates (start-up); matching does not, except
 * that a non-ASCII domain as sent goes through libidn2 (addr_norm.h). Any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "slice.h"

/*
 * Parse text (entries separated by commas, spaces or tabs) into *out, to free(). 0, -ENOMEM,
 * or -EINVAL with "KEY: 'ENTRY' is not a domain" in err. An empty text gives an empty list.
 */
int domain_list_parse(const char *key, const char *text, char **out, char *err,
		      size_t errlen);

/* Whether d (dl bytes) is e (el bytes) or one of its subdomains. */
bool domain_is_under(const char *d, size_t dl, const char *e, size_t el);

/* Whether the normalized domain d is on the list (NULL or empty: never). */
bool domain_list_has(const char *list, const char *d);

/* The same for a domain as a message carries it, normalized first (false when it is not a
 * domain). */
bool domain_list_has_sent(const char *list, struct slice sent);
