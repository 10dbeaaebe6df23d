/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which messages are commercial, and so subject to the suppression set (CAN-SPAM governs
 * commercial mail; a receipt or a password reset may go to anyone). The decision, strongest
 * first:
 *   1. a rule set flowbit postern.transactional: exempt; one set postern.commercial: commercial;
 *   2. the sender (MAIL FROM domain or From header domain, or a parent of either) is one of
 *      transactional_senders: exempt; one of commercial_senders: commercial;
 *   3. the client is in commercial_hosts (an address set in rule syntax): commercial;
 *   4. a signal enabled in commercial_signals: List-Unsubscribe, List-Id, or
 *      Precedence: bulk/list/junk: commercial;
 *   5. otherwise commercial_default.
 * The policy is built from the config at start-up (allocates); deciding is pure and
 * allocation-free, any worker lcore.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slice.h"

struct postern_config;
struct netset_ip_range;

enum commercial_signal {
	COMMERCIAL_SIG_LIST_UNSUB = 1u << 0,
	COMMERCIAL_SIG_LIST_ID = 1u << 1,
	COMMERCIAL_SIG_PRECEDENCE = 1u << 2,
};

struct commercial_policy {
	char *commercial;             /* domains, each NUL-terminated, one after the other */
	char *transactional;
	struct netset_ip_range *hosts; /* NULL: none configured */
	uint32_t n_hosts;
	unsigned signals;             /* enum commercial_signal: those that count */
	bool by_default;
};

/* What a transaction showed, gathered while it was read. */
struct commercial_facts {
	bool rule_commercial;         /* flowbit postern.commercial set */
	bool rule_transactional;      /* flowbit postern.transactional set */
	struct slice envelope_domain; /* MAIL FROM's domain, may be empty */
	struct slice header_domain;   /* the From header's domain, may be empty */
	const uint8_t *client_ip;     /* 16 bytes, IPv4 mapped */
	unsigned signals;             /* enum commercial_signal seen in the headers */
};

/* 0, or -EINVAL with "KEY: reason" in err. */
int commercial_policy_build(struct commercial_policy *p, const struct postern_config *cfg,
			    char *err, size_t errlen);
void commercial_policy_free(struct commercial_policy *p);

/* enum ipc_commercial bits, IPC_COMM_DECIDED always among them. */
uint16_t commercial_decide(const struct commercial_policy *p, const struct commercial_facts *f);

/* The signal a top-level header is (enum commercial_signal), 0 for any other. */
unsigned commercial_header_signal(struct slice name, struct slice value);
