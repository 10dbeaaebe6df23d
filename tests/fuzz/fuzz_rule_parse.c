/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the rule pack parser (control/rule_parse.c): any bytes as a rule
 * file, with and without a classification table. A pack that parses must satisfy what
 * rule_compile and posternd rely on (every rule has msg, a non-reserved sid, 1..32 atoms on
 * known buffers or a flowbits check, contents of 1..RULE_MAX_CONTENT_LEN bytes, and is found
 * by its gid:sid); one that
 * fails must say why in a NUL-terminated message. Anything else aborts.
 * The same bytes are also cut in two at an offset taken from the input and parsed as two
 * packs (rule_set_parse_sources): the same invariants, plus every rule's source is one of
 * the two and the set's path names both.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffer_id.h"
#include "builtin_sids.h"
#include "classification.h"
#include "gen_format.h"
#include "rule_expr.h"
#include "rule_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char cls_text[] = "config classification: policy-violation,Policy,1\n"
			       "config classification: social-engineering,Social,2\n";

static void
check_rule(const struct rule_set *rs, const struct rule *r)
{
	if (r->msg == NULL || r->sid == 0 || r->n_atoms > GEN_MAX_ATOMS_PER_RULE ||
	    (r->n_atoms == 0 && r->n_flowbits == 0) || r->n_matches > RULE_MAX_MATCHES ||
	    r->action > GEN_ACTION_REJECT || r->src == NULL || r->sport == NULL ||
	    r->dst == NULL || r->dport == NULL || r->severity < 1 || r->severity > 255 ||
	    rule_set_find(rs, r->gid, r->sid) != r)
		abort();
	if (r->sid >= BUILTIN_SID_MIN && r->sid <= BUILTIN_SID_MAX)
		abort();
	for (uint32_t i = 0; i < r->n_matches; i++) {
		const struct rule_match *m = &r->matches[i];

		if (m->buffer >= BUF__COUNT || (m->kind != RULE_MATCH_ISDATAAT && m->bytes == NULL) ||
		    (m->kind == RULE_MATCH_CONTENT && (m->len == 0 || m->len > RULE_MAX_CONTENT_LEN)))
			abort();
	}
	if (r->source >= rs->n_sources || r->line == 0)
		abort();
	for (uint32_t i = 0; i < r->n_atoms; i++) {
		const struct rule_atom *a = &r->atoms[i];

		if (a->buffer >= BUF__COUNT || a->expr == NULL ||
		    (!a->literal && strlen(a->expr) != a->len) ||
		    a->first_match + a->n_matches > r->n_matches)
			abort();
	}
}

/* A set that parsed: each rule checked; a failure: a message. Frees rs. */
static void
check_set(struct rule_set *rs, const char *err, size_t errlen)
{
	if (rs == NULL) {
		if (memchr(err, '\0', errlen) == NULL || err[0] == '\0')
			abort();
		return;
	}
	for (uint32_t i = 0; i < rs->n_rules; i++)
		check_rule(rs, &rs->rules[i]);
	rule_set_destroy(rs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct classification *cls;
	char err[2048];
	struct rule_set *rs;

	if (cls == NULL) {
		cls = classification_parse_buffer("fuzz.config", cls_text, strlen(cls_text), err,
						  sizeof(err));
		if (cls == NULL)
			abort();
	}
	memset(err, 'X', sizeof(err));
	/* the parity of the size picks whether classtypes are checked: both paths get fuzzed */
	rs = rule_set_parse_buffer("fuzz.rules", (const char *)data, size,
				   size % 2 ? cls : NULL, err, sizeof(err));
	check_set(rs, err, sizeof(err));

	/* two packs: the cut is the first two bytes, so any offset can be reached */
	size_t cut = size >= 2 ? ((size_t)data[0] | (size_t)data[1] << 8) % (size + 1) : 0;
	const struct rule_source src[2] = {
		{ "fuzz-a.rules", (const char *)data, cut },
		{ "fuzz-b.rules", (const char *)data + cut, size - cut },
	};

	memset(err, 'X', sizeof(err));
	rs = rule_set_parse_sources(src, 2, size % 2 ? NULL : cls, 0, err, sizeof(err));
	if (rs != NULL && (rs->n_sources != 2 || strcmp(rs->path, "fuzz-a.rules fuzz-b.rules") != 0))
		abort();
	check_set(rs, err, sizeof(err));
	return 0;
}
