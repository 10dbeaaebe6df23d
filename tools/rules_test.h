/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternctl rules test: run a rule pack over captures and RFC 5322 messages offline, with no
 * posternd and no DPDK, and report which rules fired for every SMTP transaction. A capture
 * (classic pcap in either byte order and timestamp unit, or pcapng) goes through the
 * dataplane's own layers as a worker would take it: decode_frame(), IP fragment reassembly,
 * a table of TCP flows, tcp_reasm per direction, one inspect session per flow. A message
 * (.eml, recognised by its content) is sent through a synthetic SMTP session (EHLO, MAIL
 * FROM, RCPT TO, DATA with dot-stuffing, QUIT, and the server's replies), so it meets exactly
 * the SMTP and MIME path a message on the wire does.
 *
 * It does not look recipients up in a suppression set (the built-in sids 2100001/2100002 never
 * fire here), does not evaluate posternd-side logic (thresholds, EVE formatting) and does not
 * write EVE. Control tool, single-threaded; it allocates freely (flows, sessions, records)
 * within the bounds below.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "slice.h"

#define RULES_TEST_FLOWS_MAX (1u << 18)  /* flows followed at once; the stalest makes room */
#define RULES_TEST_SESSIONS_MAX 8192     /* inspect sessions at once (about 24 KB each) */
#define RULES_TEST_FRAME_MAX 262144u     /* a capture record larger than this is corrupt */
#define RULES_TEST_EML_MAX (64u << 20)   /* largest message file */
#define RULES_TEST_RCPT_MAX 100          /* RCPT TOs the synthetic session sends */

/* What an input is, by its first bytes. */
enum rules_test_kind {
	RULES_TEST_UNKNOWN = 0,
	RULES_TEST_PCAP,
	RULES_TEST_PCAPNG,
	RULES_TEST_EML,
};

struct rules_test_alert {
	uint32_t gid;
	uint32_t sid;
	uint32_t rev;
	uint8_t action;      /* enum gen_action */
};

/* One transaction as reported; every pointer is borrowed for the callback only. */
struct rules_test_tx {
	unsigned n;                       /* 1-based within its input, in input order */
	uint64_t flow;                    /* 1-based flow number within its input */
	uint8_t status;                   /* enum ipc_tx_status */
	bool has_mail_from;
	bool has_subject;
	struct slice mail_from;           /* as the client sent it, without the angle brackets */
	struct slice subject;             /* the message's first Subject, decoded to UTF-8 */
	unsigned n_alerts;
	const struct rules_test_alert *alerts;
	uint16_t marks;                   /* Postern's reserved flowbits set (gen_flowbit_names) */
};

/*
 * Write the packs (n >= 1 paths) as a rules list into list (size bytes), as the config's
 * rules key holds one: posternctl's own packs are built exactly as posternd builds the
 * configured ones. Returns 0, or -EINVAL with the reason in err (a path that is empty, holds
 * a blank or comma, is CONFIG_PATH_MAX bytes or more, too many packs, list too long).
 */
int rules_test_pack_list(char *list, size_t size, char *const *packs, unsigned n, char *err,
			 size_t errlen);

typedef void (*rules_test_tx_fn)(void *ctx, const char *input, const struct rules_test_tx *tx);

/* What was met on the way: summed over every input a runner read. */
struct rules_test_stats {
	uint64_t n_inputs;
	uint64_t n_bad_inputs;            /* unreadable, unrecognised or of an unfollowed link */
	uint64_t n_transactions;
	uint64_t n_fired_tx;              /* transactions with at least one alert */
	uint64_t n_alerts;
	uint64_t n_frames;
	uint64_t n_decode_errors;         /* frames the decoder refused (truncated, bad headers) */
	uint64_t n_frames_skipped;        /* frames of a link type the decoder does not follow */
	uint64_t n_truncated_inputs;      /* captures that ended inside a record, or corrupt */
	uint64_t n_flows;
	uint64_t n_flows_evicted;         /* flows dropped because the table was full */
	uint64_t n_sessions_full;         /* flows not inspected: no session to be had */
	uint64_t n_records_lost;          /* transactions whose record could not be allocated */
	uint64_t n_scan_errors;
};

struct rules_test;

/* The first bytes of an input say what it is (the whole buffer may be passed). */
enum rules_test_kind rules_test_detect(const uint8_t *buf, size_t len);

/*
 * A runner over a compiled generation blob (copied; see scan_gen_load) with the config's
 * inspected ports, flow timeouts and reassembly limits. NULL with a message in err.
 */
struct rules_test *rules_test_create(const struct postern_config *cfg, const void *blob,
				     size_t blob_len, char *err, size_t errlen);
void rules_test_destroy(struct rules_test *rt);

/*
 * Run one input held in memory; `name` is how it is reported. fn() is called once per
 * transaction, in input order (flows in the order their first packet came, transactions of
 * a flow in the order their MAIL FROM came). Returns 0, or -EINVAL (not a capture or a
 * message) / -ENOTSUP (a capture link type the decoder does not follow) / -EFBIG with a
 * message in err that names the input. A capture that ends inside a record is run up to
 * there, counted in stats and reported in err with 0 returned (err is "" otherwise).
 */
int rules_test_buffer(struct rules_test *rt, const char *name, const uint8_t *buf, size_t len,
		      rules_test_tx_fn fn, void *ctx, char *err, size_t errlen);

/* rules_test_buffer() over a file (mapped read-only); also the errno of opening it. */
int rules_test_file(struct rules_test *rt, const char *path, rules_test_tx_fn fn, void *ctx,
		    char *err, size_t errlen);

const struct rules_test_stats *rules_test_get_stats(const struct rules_test *rt);

/*
 * posternctl rules test [--json] PACK INPUT...: argv[0] is "test". PACK is built with
 * rulegen_build() on a copy of cfg whose rules are PACK. Prints one line (or JSON object)
 * per transaction on stdout and a summary on stderr. Returns the process exit status: 0,
 * 1 when the pack does not build, 2 on a usage error or an input that cannot be read or
 * recognised (the other inputs are still run).
 */
int rules_test_main(int argc, char **argv, const struct postern_config *cfg);
