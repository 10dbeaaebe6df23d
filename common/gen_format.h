/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rule generation blob: what posternd hands to the dataplane (in a memfd passed over the
 * control link, or a file). It holds everything a worker needs to decide which rules fired
 * for a transaction: each rule's ids, action, addresses and ports, flowbits and evaluation
 * stage; each atom's buffer and polarity (an atom is one Hyperscan expression, see
 * control/rule_expr.h); one serialized Hyperscan database per buffer; and the text of the
 * atoms Hyperscan can only prefilter, which the dataplane confirms with PCRE2. Messages,
 * classtypes, metadata and thresholds stay in posternd, which looks them up by gid:sid.
 *
 * Layout, host byte order, every section 8-byte aligned:
 *   struct gen_hdr, whose sec[] gives each section's offset and element count:
 *   GEN_SEC_RULES       struct gen_rule       by rule index (file order)
 *   GEN_SEC_ATOMS       struct gen_atom       a Hyperscan pattern id is an atom index
 *   GEN_SEC_DBS         struct gen_db         at most one per buffer
 *   GEN_SEC_FLOWBIT_OPS struct gen_flowbit_op each rule's, in rule order
 *   GEN_SEC_SETS        struct gen_set        address and port sets the rules share
 *   GEN_SEC_IP_RANGES   struct netset_ip_range   sorted, disjoint (common/netset.h)
 *   GEN_SEC_PORT_RANGES struct netset_port_range sorted, disjoint
 *   GEN_SEC_TEXT        bytes                 confirmation expressions, NUL-terminated
 *   database bytes, at gen_db.offset from the start of the blob
 *
 * Writer: posternd (control). Reader: dataplane main lcore, which validates every offset and
 * index with gen_blob_check() before any worker sees the generation.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "netset.h"

#define GEN_MAGIC 0x4e454750u /* "PGEN" */
#define GEN_VERSION 2u
#define GEN_MAX_ATOMS_PER_RULE 32
#define GEN_MAX_FLOWBITS 256         /* distinct flowbit names in a pack */
#define GEN_MAX_FLOWBIT_OPS 16       /* flowbits keywords in one rule */
#define GEN_SET_ANY UINT32_MAX       /* a rule's address or port that matches everything */

enum gen_action {
	GEN_ACTION_ALERT = 0,
	GEN_ACTION_PASS = 1,
	GEN_ACTION_DROP = 2,
	GEN_ACTION_REJECT = 3,
};

enum gen_db_mode {
	GEN_DB_BLOCK = 0,
	GEN_DB_STREAM = 1,
};

enum gen_section {
	GEN_SEC_RULES = 0,
	GEN_SEC_ATOMS,
	GEN_SEC_DBS,
	GEN_SEC_FLOWBIT_OPS,
	GEN_SEC_SETS,
	GEN_SEC_IP_RANGES,
	GEN_SEC_PORT_RANGES,
	GEN_SEC_TEXT,
	GEN_SEC__COUNT
};

struct gen_section_desc {
	uint64_t offset;      /* from the start of the blob, 8-byte aligned */
	uint64_t count;       /* elements (bytes for GEN_SEC_TEXT) */
};

struct gen_hdr {
	uint32_t magic;
	uint32_t version;
	uint64_t gen_id;      /* increases with every generation posternd builds */
	uint64_t total_len;   /* bytes in the whole blob */
	uint32_t n_flowbits;  /* distinct flowbit names: bit indexes are below it */
	uint32_t reserved;
	struct gen_section_desc sec[GEN_SEC__COUNT];
};

/*
 * Flowbits with a meaning for Postern itself, always given these bit indexes (their names in
 * gen_flowbit_names): a rule that sets "postern.commercial" marks the message commercial
 * (subject to the suppression set), one that sets "postern.transactional" exempts it (see
 * dataplane/commercial.h); the others are facts the CAN-SPAM checks use (control/canspam.h):
 * a physical postal address in the body, an unsubscribe link in the body, content a rule
 * deems sexually explicit, mail of an automated system. The dataplane reports the ones set
 * at the end of each message in ipc_tx.marks (bit i = flowbit i).
 */
#define GEN_FLOWBIT_COMMERCIAL 0
#define GEN_FLOWBIT_TRANSACTIONAL 1
#define GEN_FLOWBIT_POSTAL_ADDRESS 2
#define GEN_FLOWBIT_UNSUBSCRIBE_LINK 3
#define GEN_FLOWBIT_SEXUALLY_EXPLICIT 4
#define GEN_FLOWBIT_AUTOMATED 5
#define GEN_FLOWBIT_COMMERCIAL_NAME "postern.commercial"
#define GEN_FLOWBIT_TRANSACTIONAL_NAME "postern.transactional"
#define GEN_FLOWBITS_RESERVED 6

/* "postern.commercial", "postern.transactional", "postern.postal_address",
 * "postern.unsubscribe_link", "postern.sexually_explicit", "postern.automated" */
extern const char *const gen_flowbit_names[GEN_FLOWBITS_RESERVED];

#define GEN_RULE_NOALERT (1u << 0)   /* effects (flowbits) only, no alert */
#define GEN_RULE_BIDIR (1u << 1)     /* "<>": addresses and ports either way round */
#define GEN_RULE_TO_CLIENT (1u << 2) /* flow:to_client: src is the server */

struct gen_rule {
	uint32_t sid;
	uint32_t rev;
	uint32_t gid;
	uint8_t action;       /* enum gen_action */
	uint8_t n_atoms;      /* atoms[first_atom .. first_atom + n_atoms) */
	uint8_t flags;        /* GEN_RULE_* */
	uint8_t n_flowbit_ops;
	uint32_t first_atom;
	uint32_t first_flowbit_op;
	uint32_t stage;       /* evaluated after every rule of a lower stage (flowbits setters
			       * before the rules that test them) */
	uint32_t src_set, sport_set, dst_set, dport_set; /* sets[] index, or GEN_SET_ANY */
	uint32_t reserved;
};

struct gen_atom {
	uint32_t rule;        /* index into rules[] */
	uint8_t buffer;       /* enum buffer_id */
	uint8_t negated;      /* 1: the rule needs this atom absent */
	uint16_t reserved;
	uint32_t confirm_offset; /* in GEN_SEC_TEXT: expression PCRE2 must confirm, or 0 */
	uint32_t confirm_options; /* PCRE2 compile options for it */
};

enum gen_flowbit_opcode {
	GEN_FB_SET = 0,
	GEN_FB_UNSET,
	GEN_FB_TOGGLE,
	GEN_FB_ISSET,
	GEN_FB_ISNOTSET,
};

struct gen_flowbit_op {
	uint16_t op;          /* enum gen_flowbit_opcode */
	uint16_t bit;         /* < gen_hdr.n_flowbits */
};

enum gen_set_kind {
	GEN_SET_IP = 0,
	GEN_SET_PORT = 1,
};

struct gen_set {
	uint32_t kind;        /* enum gen_set_kind */
	uint32_t first;       /* in IP_RANGES or PORT_RANGES */
	uint32_t n;
	uint32_t reserved;
};

struct gen_db {
	uint8_t buffer;       /* enum buffer_id */
	uint8_t mode;         /* enum gen_db_mode */
	uint16_t reserved;
	uint32_t n_patterns;
	uint64_t offset;      /* from the start of the blob */
	uint64_t len;
};

/* Bytes of one element of each section. */
extern const size_t gen_section_elem_size[GEN_SEC__COUNT];

static inline size_t
gen_align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* A section's first element (only after gen_blob_check, or while writing). */
static inline const void *
gen_section(const struct gen_hdr *h, enum gen_section s)
{
	return (const uint8_t *)h + h->sec[s].offset;
}

static inline uint32_t
gen_count(const struct gen_hdr *h, enum gen_section s)
{
	return (uint32_t)h->sec[s].count;
}

/*
 * Lay the sections out after the header for these counts: fills h->sec[] and returns the
 * offset where the databases start. Writer side.
 */
size_t gen_layout(struct gen_hdr *h, const uint64_t counts[GEN_SEC__COUNT]);

/*
 * Validate a blob's header, sections and tables against its length: every count, index and
 * offset in range, every confirmation expression NUL-terminated. Returns 0 or -EINVAL/-EPROTO
 * (bad magic or version). Pure, any thread; the Hyperscan databases themselves are checked
 * when deserialized.
 */
int gen_blob_check(const void *blob, size_t len);
