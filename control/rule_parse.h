/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule pack parser: reads the Suricata-compatible rule subset that rules/README.md describes
 * into a struct rule_set, which rule_compile turns into a generation blob and posternd keeps
 * to write alerts (msg, classtype, severity, metadata by gid:sid).
 *
 * Loading is all or nothing: one bad rule fails the whole pack (the contract is that on any
 * error the old generation keeps running). The parser reports the first error of each rule,
 * as "FILE:LINE:COL: KEYWORD: message", up to RULE_MAX_ERRORS rules, then stops. Several
 * packs can be parsed into one set (rule_set_parse_sources), each named in its own errors.
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
#define RULE_MAX_FILE_LEN (64u << 20)   /* bytes in a rule file (each, when several) */
#define RULE_MAX_RULE_LEN 65536         /* bytes in one rule, continuation lines joined */
#define RULE_MAX_RULES 1000000          /* rules in one set, all its packs together */
#define RULE_MAX_SOURCES 64             /* packs parsed into one set */
#define RULE_MAX_CONTENT_LEN 4096       /* bytes in one content, after escapes and |hex| */
#define RULE_MAX_REFERENCES 16          /* reference keywords in one rule */
#define RULE_MAX_LIST_DEPTH 8           /* nesting of [ ] in addresses and ports */
#define RULE_MAX_MATCHES 64             /* content, pcre and isdataat keywords in one rule */
#define RULE_MAX_POSITION 65535         /* depth, offset, distance, within, isdataat */
#define RULE_MAX_FLOWBIT_NAME 64        /* bytes in a flowbit's name */

/* Header protocol. */
enum rule_proto {
	RULE_PROTO_SMTP = 0,
	RULE_PROTO_TCP = 1,
};

/* What a detection keyword is: each becomes part of one Hyperscan expression (rule_expr.h). */
enum rule_match_kind {
	RULE_MATCH_CONTENT = 0,
	RULE_MATCH_PCRE = 1,
	RULE_MATCH_ISDATAAT = 2,
};

/* pcre:"/.../FLAGS": the flags Postern honours (any other is an error naming the flag). */
#define RULE_PCRE_CASELESS (1u << 0)       /* i */
#define RULE_PCRE_DOTALL (1u << 1)         /* s */
#define RULE_PCRE_MULTILINE (1u << 2)      /* m */
#define RULE_PCRE_EXTENDED (1u << 3)       /* x */
#define RULE_PCRE_ANCHORED (1u << 4)       /* A: at the start of the buffer, or right after
					    * the previous match with R */
#define RULE_PCRE_UNGREEDY (1u << 5)       /* G: does not change whether it matches */

/*
 * One detection keyword (content, pcre, isdataat) with its modifiers, in rule order. Values
 * are as written; rule_expr.h turns a rule's matches into Hyperscan expressions and checks
 * that the modifiers make sense together.
 */
struct rule_match {
	uint8_t kind;           /* enum rule_match_kind */
	uint8_t buffer;         /* enum buffer_id: the sticky buffer in force */
	bool negated;           /* content:!"..", pcre:!"..", isdataat:!N */
	bool nocase;            /* content */
	bool relative;          /* distance or within, pcre R, isdataat ",relative": after the
				 * previous match of the same buffer */
	bool startswith, endswith;
	bool fast_pattern;      /* accepted; Hyperscan picks its own literal factors */
	bool has_offset, has_depth, has_distance, has_within;
	uint32_t offset, depth, within;
	int32_t distance;
	uint32_t isdataat;      /* isdataat's N */
	uint32_t pcre_flags;    /* RULE_PCRE_* */
	uint8_t *bytes;         /* content: len bytes, escapes and |hex| decoded; pcre: the
				 * expression between the slashes, len bytes, NUL-terminated */
	size_t len;             /* content 1 .. RULE_MAX_CONTENT_LEN; pcre >= 1; isdataat 0 */
	uint32_t line, col;     /* where its keyword is */
};

/* flow: the direction and state a rule applies to. */
#define RULE_FLOW_TO_SERVER (1u << 0)   /* to_server, from_client (the default) */
#define RULE_FLOW_TO_CLIENT (1u << 1)   /* to_client, from_server */
#define RULE_FLOW_ESTABLISHED (1u << 2) /* always true of what Postern inspects */

enum rule_flowbit_op {
	RULE_FB_SET = 0,
	RULE_FB_UNSET,
	RULE_FB_TOGGLE,
	RULE_FB_ISSET,
	RULE_FB_ISNOTSET,
};

struct rule_flowbit {
	uint8_t op;             /* enum rule_flowbit_op */
	char *name;
	uint32_t line, col;
};

/* threshold and detection_filter: posternd applies them to the alerts it writes. */
enum rule_threshold_type {
	RULE_THRESHOLD_NONE = 0,
	RULE_THRESHOLD_LIMIT,            /* at most count alerts per seconds */
	RULE_THRESHOLD_THRESHOLD,        /* one alert for every count-th match in seconds */
	RULE_THRESHOLD_BOTH,             /* one alert per seconds, once count matches are seen */
	RULE_THRESHOLD_DETECTION_FILTER, /* every match after the count-th in seconds */
};

enum rule_track {
	RULE_TRACK_BY_SRC = 0,
	RULE_TRACK_BY_DST,
	RULE_TRACK_BY_RULE,
	RULE_TRACK_BY_BOTH,
};

struct rule_threshold {
	uint8_t type;           /* enum rule_threshold_type */
	uint8_t track;          /* enum rule_track */
	uint32_t count;
	uint32_t seconds;
};

struct rule_atom;

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
	struct rule_match *matches;  /* in rule order */
	uint32_t n_matches;     /* 0 .. GEN_MAX_ATOMS_PER_RULE */
	struct rule_atom *atoms; /* the matches as Hyperscan expressions (rule_expr.h) */
	uint32_t n_atoms;       /* 1 .. GEN_MAX_ATOMS_PER_RULE; 0 only with flowbits checks */
	uint8_t flow;           /* RULE_FLOW_* */
	bool noalert;           /* noalert or flowbits:noalert: effects only, no alert */
	struct rule_flowbit *flowbits;  /* in rule order */
	uint32_t n_flowbits;
	struct rule_threshold threshold;        /* threshold keyword */
	struct rule_threshold detection_filter; /* detection_filter keyword */
	char *src, *sport, *dst, *dport;  /* header fields as written ("any", "[$A,!1.2.3.4]") */
	uint32_t field_line[4], field_col[4]; /* where src, sport, dst, dport are */
	uint32_t line, col;     /* where the rule starts, in its source */
	uint32_t sid_line, sid_col;  /* where its sid keyword is */
	uint32_t source;        /* index in rule_set.sources of the pack it came from */
};

struct rule_set {
	struct rule *rules;     /* in file order: a rule's index is its gen_rule index */
	uint32_t n_rules;
	char *path;             /* the name logs use: the source's name, or every source's
				 * name joined by one space when there are several */
	char **sources;         /* each source's name, in parse order */
	uint32_t n_sources;
	uint32_t n_skipped;     /* rules left out (RULE_PARSE_SKIP_UNSUPPORTED) */
	char *warnings;         /* one line per rule left out (the first RULE_MAX_WARNINGS), or
				 * NULL */
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

/*
 * Flags for the _flags variants. RULE_PARSE_SKIP_UNSUPPORTED: a rule using a Suricata
 * keyword Postern does not support is left out with a warning (rs->warnings) instead of
 * failing the pack, as Suricata itself skips rules it cannot load.
 */
#define RULE_PARSE_SKIP_UNSUPPORTED (1u << 0)
#define RULE_MAX_WARNINGS 100

struct rule_set *rule_set_load_flags(const char *path, const struct classification *cls,
				     unsigned flags, char *err, size_t errlen);
struct rule_set *rule_set_parse_buffer_flags(const char *name, const char *text, size_t len,
					     const struct classification *cls, unsigned flags,
					     char *err, size_t errlen);

/* One pack among several parsed into one set: name stands for the file in every error. */
struct rule_source {
	const char *name;
	const char *text;       /* len bytes, need not be NUL-terminated */
	size_t len;
};

/*
 * Parse n (1..RULE_MAX_SOURCES) packs into one set, in order, as if they were one pack with
 * one namespace of gid:sid and of flowbits (as Suricata loads several rule files), except
 * that each keeps its own name and line numbers in errors, and that a line continuation
 * never joins the end of one source to the next. RULE_MAX_FILE_LEN applies to each source,
 * RULE_MAX_RULES and RULE_MAX_ERRORS to the whole set. The sources are borrowed for the call
 * only. Returns and fails as rule_set_parse_buffer_flags (which is the case n == 1).
 */
struct rule_set *rule_set_parse_sources(const struct rule_source *src, unsigned n,
					const struct classification *cls, unsigned flags,
					char *err, size_t errlen);

/* The name of the source rule r came from (borrowed from rs): for errors about a rule. */
const char *rule_set_source_name(const struct rule_set *rs, const struct rule *r);

/* Free a set and everything it holds; NULL is a no-op. */
void rule_set_destroy(struct rule_set *rs);

/* The rule with this gid and sid, borrowed from rs, or NULL. */
const struct rule *rule_set_find(const struct rule_set *rs, uint32_t gid, uint32_t sid);

/* "alert", "pass", "drop", "reject" for an enum gen_action, or NULL. */
const char *rule_action_name(uint8_t action);

/* "content", "pcre", "isdataat" for an enum rule_match_kind ("rule" for any other). */
const char *rule_match_keyword(uint8_t kind);

/* "smtp", "tcp" for an enum rule_proto, or NULL. */
const char *rule_proto_name(uint8_t proto);
