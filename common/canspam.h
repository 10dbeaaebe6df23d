/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CAN-SPAM checks of one transaction record (15 U.S.C. 7704, 16 CFR 316): does a commercial
 * message offer a working opt-out (List-Unsubscribe with a mailto: or https: URI, RFC 8058
 * one-click, or an unsubscribe link in the body), carry a postal address, say truthfully who
 * sends it (From present, parseable and aligned with the envelope sender; Reply-To parseable;
 * Message-ID and Date present), have a subject, and label sexually explicit content. Automated
 * system mail (cron, backup, monitoring) gets only the header hygiene checks. What the body
 * contains (a postal address, an unsubscribe link, explicit content) is decided by rules that
 * set Postern's reserved flowbits; this module only reads those marks and the header fields.
 *
 * It does not judge whether a subject is deceptive, whether the opt-out works when used, or
 * whether a message is commercial (the dataplane decided that: ipc_tx.commercial). http: URIs
 * in List-Unsubscribe count as invalid, as the Gmail and Yahoo bulk-sender rules treat them.
 * A record cut at its bound (IPC_TXF_TRUNCATED) may lack fields it had: failures that rest
 * only on a field being absent are then left unchecked rather than reported.
 *
 * The policy is built from the config at start-up or reload (allocates); canspam_check is pure
 * and allocates nothing of its own (addr_norm's libidn2 may, for a non-ASCII domain only).
 * posternd's control thread alerts on the result; an inline dataplane's workers may block on
 * it (block_canspam), sharing one read-only policy.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct postern_config;
struct ipc_tx;
struct canspam_policy;

enum canspam_failure {                    /* bits of canspam_result.failed */
	CANSPAM_NO_UNSUBSCRIBE = 1u << 0,    /* none of the accepted mechanisms */
	CANSPAM_BAD_UNSUBSCRIBE = 1u << 1,   /* a List-Unsubscribe header without a valid
					      * mailto/https URI */
	CANSPAM_NO_ONE_CLICK = 1u << 2,      /* required and missing */
	CANSPAM_NO_POSTAL_ADDRESS = 1u << 3,
	CANSPAM_NO_FROM = 1u << 4,
	CANSPAM_BAD_FROM = 1u << 5,          /* not parseable as a mailbox */
	CANSPAM_FROM_MISALIGNED = 1u << 6,   /* From's domain is neither the MAIL FROM domain
					      * (or a parent/child of it) nor in
					      * canspam_from_domains */
	CANSPAM_BAD_REPLY_TO = 1u << 7,
	CANSPAM_NO_MESSAGE_ID = 1u << 8,
	CANSPAM_NO_DATE = 1u << 9,
	CANSPAM_NO_SUBJECT = 1u << 10,       /* absent or only blanks */
	CANSPAM_NO_EXPLICIT_LABEL = 1u << 11, /* mark SEXUALLY_EXPLICIT and the subject does not
					       * start with "SEXUALLY-EXPLICIT:" (16 CFR 316.4) */
};
#define CANSPAM_N_FAILURES 12
#define CANSPAM_ALL_FAILURES ((1u << CANSPAM_N_FAILURES) - 1)

enum canspam_kind {
	CANSPAM_NONE = 0,       /* not checked: not commercial, not automated, or no message */
	CANSPAM_COMMERCIAL = 1, /* the checks canspam_checks enables */
	CANSPAM_AUTOMATED = 2,  /* header hygiene only */
};

struct canspam_result {
	uint8_t kind;           /* enum canspam_kind: which rules applied */
	uint32_t checked;       /* failure bits that were evaluated */
	uint32_t failed;        /* failure bits that failed; always within checked */
};

/*
 * Build the policy from canspam_checks, canspam_unsubscribe, canspam_require_one_click,
 * canspam_from_domains and automated_senders. Returns it (caller owns; canspam_destroy), or
 * NULL with errno set and, for a bad value (EINVAL), "KEY: reason" in err. Control thread.
 *
 * canspam_checks: any of unsubscribe, postal, sender, subject, label, or "none" alone.
 *   unsubscribe: NO_UNSUBSCRIBE, BAD_UNSUBSCRIBE (when list-unsubscribe or one-click is
 *                accepted or one-click required), NO_ONE_CLICK (when required);
 *   postal:      NO_POSTAL_ADDRESS;
 *   sender:      NO_FROM, BAD_FROM, FROM_MISALIGNED, BAD_REPLY_TO, NO_MESSAGE_ID, NO_DATE;
 *   subject:     NO_SUBJECT;
 *   label:       NO_EXPLICIT_LABEL.
 * canspam_unsubscribe: any of list-unsubscribe, one-click, body-link ("none" only when the
 *   unsubscribe check is off).
 * Domain lists: a listed domain also covers its subdomains.
 */
struct canspam_policy *canspam_create(const struct postern_config *cfg, char *err,
				      size_t errlen);

/* Free a policy; NULL is a no-op. Control thread. */
void canspam_destroy(struct canspam_policy *p);

/*
 * Judge one checked record (ipc_tx_check passed). Automated mail (mark AUTOMATED, or the
 * MAIL FROM or From domain in automated_senders) gets only the header hygiene checks (From
 * present and parseable, Subject, Message-ID, Date, each as far as canspam_checks enables its
 * group) and kind AUTOMATED, even when it is not commercial. A commercial message (IPC_COMM_YES,
 * or not yet decided) that is not automated gets the enabled checks, kind COMMERCIAL. Anything
 * else, and any transaction that carried no message: kind NONE, nothing checked.
 * Pure; the policy and the record are only read.
 */
void canspam_check(const struct canspam_policy *p, const struct ipc_tx *tx,
		   struct canspam_result *out);

/*
 * Stable short name of one failure bit for EVE ("no_unsubscribe", ...) and a one-line reason
 * for people. Static strings; "unknown" for a value that is not exactly one failure bit.
 */
const char *canspam_failure_name(enum canspam_failure f);
const char *canspam_failure_reason(enum canspam_failure f);
