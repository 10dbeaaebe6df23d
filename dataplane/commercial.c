/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The commercial decision (see commercial.h). Domain lists are short (a company's own sending
 * domains), so they are kept as packed strings and compared suffix-wise on label boundaries;
 * client hosts reuse the rule engine's address sets.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commercial.h"
#include "config.h"
#include "domain_list.h"
#include "ipc.h"
#include "netset.h"

static int
signal_list(const char *text, unsigned *out, char *err, size_t errlen)
{
	const char *p = text;

	*out = 0;
	while (*p != '\0') {
		size_t tl = strcspn(p, ", \t");
		struct slice t = slice_make(p, tl);

		if (tl == 0)
			;
		else if (slice_eq_nocase(t, "list-unsubscribe"))
			*out |= COMMERCIAL_SIG_LIST_UNSUB;
		else if (slice_eq_nocase(t, "list-id"))
			*out |= COMMERCIAL_SIG_LIST_ID;
		else if (slice_eq_nocase(t, "precedence"))
			*out |= COMMERCIAL_SIG_PRECEDENCE;
		else if (!slice_eq_nocase(t, "none")) {
			snprintf(err, errlen, "commercial_signals: '%.*s' is not one of "
					      "list-unsubscribe, list-id, precedence, none", (int)tl, p);
			return -EINVAL;
		}
		p += tl;
		p += strspn(p, ", \t");
	}
	return 0;
}

int
commercial_policy_build(struct commercial_policy *p, const struct postern_config *cfg,
			char *err, size_t errlen)
{
	size_t off = 0;
	char why[160];
	int rc;

	memset(p, 0, sizeof(*p));
	p->by_default = cfg->commercial_default;
	rc = signal_list(cfg->commercial_signals, &p->signals, err, errlen);
	if (rc == 0)
		rc = domain_list_parse("commercial_senders", cfg->commercial_senders,
				       &p->commercial, err, errlen);
	if (rc == 0)
		rc = domain_list_parse("transactional_senders", cfg->transactional_senders,
				       &p->transactional, err, errlen);
	if (rc == 0 && cfg->commercial_hosts[0] != '\0') {
		struct netset_vars *vars = netset_vars_defaults();

		rc = vars == NULL ? -ENOMEM
				  : netset_ip_compile(cfg->commercial_hosts,
						      strlen(cfg->commercial_hosts), vars,
						      &p->hosts, &p->n_hosts, &off, why,
						      sizeof(why));
		netset_vars_destroy(vars);
		if (rc == -EINVAL)
			snprintf(err, errlen, "commercial_hosts: column %zu: %s", off + 1, why);
	}
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		commercial_policy_free(p);
	}
	return rc;
}

void
commercial_policy_free(struct commercial_policy *p)
{
	free(p->commercial);
	free(p->transactional);
	free(p->hosts);
	memset(p, 0, sizeof(*p));
}

static bool
sender_listed(const char *list, const struct commercial_facts *f)
{
	return domain_list_has_sent(list, f->envelope_domain) ||
	       domain_list_has_sent(list, f->header_domain);
}

uint16_t
commercial_decide(const struct commercial_policy *p, const struct commercial_facts *f)
{
	unsigned sig = f->signals & p->signals;
	uint16_t r = IPC_COMM_DECIDED;

	if (f->rule_transactional)
		return r | IPC_COMM_EXEMPT_RULE;
	if (f->rule_commercial)
		return r | IPC_COMM_YES | IPC_COMM_RULE;
	if (sender_listed(p->transactional, f))
		return r | IPC_COMM_EXEMPT_SENDER;
	if (sender_listed(p->commercial, f))
		r |= IPC_COMM_YES | IPC_COMM_SENDER;
	if (p->hosts != NULL && f->client_ip != NULL &&
	    netset_ip_contains(p->hosts, p->n_hosts, f->client_ip))
		r |= IPC_COMM_YES | IPC_COMM_HOST;
	if (sig & COMMERCIAL_SIG_LIST_UNSUB)
		r |= IPC_COMM_YES | IPC_COMM_LIST_UNSUB;
	if (sig & COMMERCIAL_SIG_LIST_ID)
		r |= IPC_COMM_YES | IPC_COMM_LIST_ID;
	if (sig & COMMERCIAL_SIG_PRECEDENCE)
		r |= IPC_COMM_YES | IPC_COMM_PRECEDENCE;
	if (!(r & IPC_COMM_YES) && p->by_default)
		r |= IPC_COMM_YES | IPC_COMM_DEFAULT;
	return r;
}

unsigned
commercial_header_signal(struct slice name, struct slice value)
{
	struct slice v = slice_trim(value);

	if (slice_eq_nocase(name, "List-Unsubscribe"))
		return v.len > 0 ? COMMERCIAL_SIG_LIST_UNSUB : 0;
	if (slice_eq_nocase(name, "List-Id"))
		return v.len > 0 ? COMMERCIAL_SIG_LIST_ID : 0;
	if (slice_eq_nocase(name, "Precedence")) {
		/* RFC 3834 2: bulk, list and junk mark mail not written to one person */
		return slice_eq_nocase(v, "bulk") || slice_eq_nocase(v, "list") ||
				       slice_eq_nocase(v, "junk")
			       ? COMMERCIAL_SIG_PRECEDENCE
			       : 0;
	}
	return 0;
}
