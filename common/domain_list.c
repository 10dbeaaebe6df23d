/* SPDX-License-Identifier: BSD-3-Clause */
/* Configured domain lists; see domain_list.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_norm.h"
#include "ascii.h"
#include "domain_list.h"

#define LIST_SEP ", \t"

int
domain_list_parse(const char *key, const char *text, char **out, char *err, size_t errlen)
{
	size_t n_tokens = 0, n = 0;
	const char *p = text;
	char *v;

	/* normalized, a domain can be longer than written (IDNA): room for the longest each */
	for (const char *q = text; *q != '\0'; n_tokens++) {
		q += strspn(q, LIST_SEP);
		if (*q == '\0')
			break;
		q += strcspn(q, LIST_SEP);
	}
	*out = NULL;
	v = malloc(n_tokens * (ADDR_DOMAIN_MAX + 1) + 1);
	if (v == NULL)
		return -ENOMEM;
	while (*p != '\0') {
		size_t tl = strcspn(p, LIST_SEP);
		char d[ADDR_DOMAIN_MAX + 1];

		if (tl > 0) {
			int rc = addr_domain(slice_make(p, tl), d, sizeof(d));

			if (rc < 0) {
				char shown[64];

				snprintf(err, errlen, "%s: '%s' is not a domain", key,
					 ascii_show(shown, sizeof(shown), p, tl));
				free(v);
				return rc == -ENOMEM ? -ENOMEM : -EINVAL;
			}
			memcpy(v + n, d, (size_t)rc + 1);
			n += (size_t)rc + 1;
		}
		p += tl;
		p += strspn(p, LIST_SEP);
	}
	v[n] = '\0';
	*out = v;
	return 0;
}

bool
domain_is_under(const char *d, size_t dl, const char *e, size_t el)
{
	if (dl < el || memcmp(d + dl - el, e, el) != 0)
		return false;
	return dl == el || d[dl - el - 1] == '.';
}

bool
domain_list_has(const char *list, const char *d)
{
	size_t dl = d != NULL ? strlen(d) : 0;

	if (list == NULL || dl == 0)
		return false;
	for (const char *e = list; *e != '\0'; e += strlen(e) + 1)
		if (domain_is_under(d, dl, e, strlen(e)))
			return true;
	return false;
}

bool
domain_list_has_sent(const char *list, struct slice sent)
{
	char d[ADDR_DOMAIN_MAX + 1];

	if (list == NULL || *list == '\0' || sent.len == 0)
		return false;
	return addr_domain(sent, d, sizeof(d)) >= 0 && domain_list_has(list, d);
}
