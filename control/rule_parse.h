/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule pack parser: reads the Suricata-compatible rule subset that rules/README.md describes
 * into a struct rule_set, which rule_compile turns into a generation blob and posternd keeps
 * to write alerts (msg, classtype, severity, metadata by gid:sid).
 *
 * Loading is all or nothing: one bad rule fails the whole pack (the contract is that on any
 * error the old generation keeps running). The parser reports the first error of each rule,
 * as "FILE:LINE:COL: KEYWORD: message", up to RULE_MAX_ERRORS rules, then stops.
 *
 * Options are dispatched through one keyword table (rule_parse.c), each with its own parse
 * function, so that later keywords (pcre, depth/offset/distance/within, flowbits, threshold)
 * are one row and one function each. It does not match addresses or ports: the header's
 * fields are validated and kept as text.
 *
 * Control thread only. A rule set is immutable once returned and may be read by any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "classification.h"

#define RULE_MAX_ERRORS 20              /* rules reported before giving up */
#define RULE_MAX_FILE_LEN (64u << 20)   /* bytes in a rule file */
#define RULE_MAX_RULE_LEN 65536         /* bytes in one rule, continuation lines joined */
#define RULE_MAX_RULES 1000000          /* rules in one pack */
#define RULE_MAX_CONTENT_LEN 4096       /* bytes in one content, after escapes and |hex| */
#define RULE_MAX_REFERENCES 16          /* reference keywords in one rule */
#define RULE_MAX_LIST_DEPTH 8           /* nesting of [ ] in addresses and ports */

/* Header protocol. */
enum rule_proto {
	RULE_PROTO_SMTP = 0,
	RULE_PROTO_TCP = 1,
};

struct rule_content {
	uint8_t buffer;         /* enum buffer_id: the sticky buffer in force */
	bool nocase;
	bool negated;           /* content:!"..." */
	uint8_t *bytes;         /* len bytes, escapes and |hex| decoded; not NUL-terminated */
	size_t len;             /* 1 .. RULE_MAX_CONTENT_LEN */
	uint32_t line, col;     /* where its content keyword is, for later error messages */
};

struct rule {
	uint8_t action;         /* enum gen_action */
	uint8_t proto;          /* enum rule_proto */
	bool bidir;             /* direction "<>" rather than "->" */
	uint32_t gid, sid, rev; /* gid and rev default to 1 */
	char *msg;
	char *classtype;        /* NULL when not given */
	int priority;           /* 1..255, or 0 when not given */
	int severity;           /* priority, else the classtype's priority, else 3 */
	char *metadata;         /* raw text; several metadata keywords joined by ", "; or NULL */
	char **references;      /* raw text of each reference keyword ("url,example.com") */
	uint32_t n_references;
	struct rule_content *contents;  /* in rule order */
	uint32_t n_contents;    /* 1 .. GEN_MAX_CONTENTS_PER_RULE */
	char *src, *sport, *dst, *dport;  /* header fields as written ("any", "[$A,!1.2.3.4]") */
	uint32_t line, col;     /* where the rule starts */
	uint32_t sid_line, sid_col;  /* where its sid keyword is */
};

struct rule_set {
	struct rule *rules;     /* in file order: a rule's index is its gen_rule index */
	uint32_t n_rules;
	char *path;             /* the name errors use (file path or buffer name) */
	uint32_t rules_cap;     /* private from here on */
	uint32_t *by_id;        /* (gid,sid) open-addressing index: rule index + 1 */
	uint32_t by_id_cap;
};

/*
 * Parse a rule file. cls, when not NULL, is used to reject unknown classtypes and to compute
 * each rule's severity (it is not kept). Returns a set the caller owns (rule_set_destroy), or
 * NULL with errno set (EINVAL: bad rules; ENOMEM; EFBIG; the errno of open/read) and every
 * error in err, one per line, no trailing newline.
 */
struct rule_set *rule_set_load(const char *path, const struct classification *cls, char *err,
			       size_t errlen);

/* Same, over a buffer of len bytes (need not be NUL-terminated); name stands for the file. */
struct rule_set *rule_set_parse_buffer(const char *name, const char *text, size_t len,
				       const struct classification *cls, char *err,
				       size_t errlen);

/* Free a set and everything it holds; NULL is a no-op. */
void rule_set_destroy(struct rule_set *rs);

/* The rule with this gid and sid, borrowed from rs, or NULL. */
const struct rule *rule_set_find(const struct rule_set *rs, uint32_t gid, uint32_t sid);

/* "alert", "pass", "drop", "reject" for an enum gen_action, or NULL. */
const char *rule_action_name(uint8_t action);

/* "smtp", "tcp" for an enum rule_proto, or NULL. */
const char *rule_proto_name(uint8_t proto);
