/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE JSON formatting: turns one checked transaction record (struct ipc_tx, after
 * ipc_tx_check) into NDJSON lines that follow Suricata's EVE conventions, and a stats record
 * into one "stats" line. Per transaction it emits, in this order: one "alert" per rule alert
 * field, one "alert" per accepted recipient whose suppression verdict is grace or violation
 * (reserved sids, with a suppression{} object), and optionally one "smtp" event. Field bytes
 * come from the wire: they are never trusted to be UTF-8 (bad bytes become U+FFFD) and never
 * read past their length. Addresses are printed plain, hashed or redacted as configured.
 * Keys come out in a fixed order so that golden files can be diffed.
 *
 * It does not write anywhere (the caller's emit callback does), does not know rule texts (the
 * caller's lookup does) and keeps no state between calls. The layout of every line is
 * described by schema/eve.schema.json. posternd control thread; pure, no DPDK.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ipc.h"

/* What a rule pack knows about a rule, looked up by posternd when an alert is written. */
struct eve_rule_info {
	const char *msg;       /* signature; NULL prints "" */
	const char *category;  /* classtype description (or name); NULL prints "" */
	int severity;          /* classtype priority, 1 (high) .. 255 */
	const char *metadata;  /* raw Suricata metadata "k v, k2 v2", or NULL */
	bool suppressed;       /* the rule's threshold or detection_filter holds this one back */
};

/*
 * Look up rule (gid, sid) for an alert of record tx. Returns true with *out filled; the
 * strings are borrowed until eve_format_tx() returns; out->suppressed leaves the alert out.
 * False when the rule is unknown (for example a generation that has been replaced): the
 * alert is still written, with empty texts and severity 3, Suricata's default priority.
 */
typedef bool (*eve_rule_lookup_fn)(void *ctx, const struct ipc_tx *tx, uint32_t gid,
				   uint32_t sid, struct eve_rule_info *out);

/*
 * Receives one complete line: NUL-terminated, without the newline, borrowed for the call.
 * event_type is "alert", "smtp" or "stats". Return 0, or a negative errno to stop.
 */
typedef int (*eve_line_fn)(void *ctx, const char *line, size_t len, const char *event_type);

/*
 * address_output applies to smtp.mail_from, smtp.rcpt_to[], email.from, email.to[],
 * email.cc[] and suppression.recipient:
 *   PLAIN   the bytes as seen (sanitized to UTF-8);
 *   HASH    lowercase hex SHA-256 of the normalized addr-spec (for to/cc: of each list
 *           element), the key the suppression set stores for that address; a value that
 *           is no address is hashed as seen;
 *   REDACT  "***@domain", keeping angle brackets, dropping any display name (it names the
 *           person too); "<>" stays "<>", a value without '@' becomes "***".
 * email.to/cc are split on commas outside quoted strings, comments and angle brackets.
 * IPv6 addresses print as eight groups of four hex digits, as Suricata prints them.
 */
struct bday_calendar;

struct eve_options {
	enum config_address_output address_output;
	bool smtp_events;  /* also one "smtp" event per transaction */
	const struct bday_calendar *calendar; /* business days in suppression{}; NULL: default */
};

/* Options from the configuration (address_output, eve_smtp_events). */
void eve_options_from_config(struct eve_options *opt, const struct postern_config *cfg);

struct canspam_result;

/*
 * Format a transaction record that passed ipc_tx_check(): its rule and suppression alerts,
 * and its smtp event when enabled. cs, posternd's CAN-SPAM result for the record, goes in
 * that smtp event; NULL when none was computed. lookup may be NULL (every rule is then
 * unknown). Returns the number of lines emitted, -EINVAL for a NULL argument, -ENOMEM,
 * or the first negative value emit returned (lines before it were emitted).
 */
int eve_format_tx(const struct ipc_tx *tx, const struct eve_options *opt,
		  const struct canspam_result *cs, eve_rule_lookup_fn lookup, void *lookup_ctx,
		  eve_line_fn emit, void *emit_ctx);

struct bypass_finding;
struct anomaly_alert;

/*
 * An alert of posternd's CAN-SPAM checks (control/canspam.h) on the record checked: sid
 * 2100030 for a commercial message, 2100031 for automated mail with broken headers, and
 * canspam{kind, failed[{check, reason}]}. Returns 1 (0 when nothing failed), -EINVAL,
 * -ENOMEM or emit's error.
 */
int eve_format_canspam(const struct ipc_tx *tx, const struct canspam_result *r,
		       const struct eve_options *opt, eve_line_fn emit, void *emit_ctx);

/*
 * An alert of posternd's bypass detection (control/bypass.h) on the record that showed it:
 * the record's flow head, smtp{} and email{}, and bypass{kind, client, server, server_port,
 * first_seen, transactions}. Returns 1, -EINVAL, -ENOMEM or emit's error.
 */
int eve_format_bypass(const struct ipc_tx *tx, const struct bypass_finding *f,
		      const struct eve_options *opt, eve_line_fn emit, void *emit_ctx);

/*
 * An alert of posternd's anomaly models (control/anomaly_model.h). It is about a host or a
 * sender domain over a window, not one flow: timestamp (the window's end), src_ip for a host,
 * alert{} and anomaly{subject, key, metric, value, baseline, floor, multiple, window}; no flow
 * head. Returns 1, -EINVAL, -ENOMEM or emit's error.
 */
int eve_format_anomaly_alert(const struct anomaly_alert *a, eve_line_fn emit, void *emit_ctx);

/*
 * Format a stats record (its header already checked, length sizeof(*st)) as one "stats"
 * line stamped ts_us (microseconds since the epoch; stats records carry no time). Counters
 * beyond what the sender reported (st->n_counters) are left out. Returns 1, -EINVAL, -ENOMEM
 * or emit's error.
 */
int eve_format_stats(const struct ipc_stats *st, uint64_t ts_us, eve_line_fn emit,
		     void *emit_ctx);

/*
 * Format the end of an outage of posternd (an IPC_SPOOL record, length checked) as one
 * "spool" line stamped when it ended: spool{started, ended, seconds, records_delivered_late,
 * records_dropped, bytes_dropped}. What the dataplane had to drop while posternd was away is
 * told here, so that no loss is silent. Returns 1, -EINVAL, -ENOMEM or emit's error.
 */
int eve_format_spool(const struct ipc_spool *sp, eve_line_fn emit, void *emit_ctx);

/*
 * Format a dataplane anomaly (an event record that passed ipc_event_check) as one
 * "anomaly" line in Suricata's layout: anomaly{type, event} plus value, the number the
 * event carries (bytes skipped, the limit hit). Returns 1, -EINVAL, -ENOMEM or emit's error.
 */
int eve_format_event(const struct ipc_event *ev, eve_line_fn emit, void *emit_ctx);

/*
 * Helpers, exposed for tests and for other outputs that print wire bytes.
 *
 * eve_utf8_sanitize: copy src to dst replacing every byte that is not part of a well-formed
 * UTF-8 sequence (RFC 3629: no overlongs, surrogates or code points above U+10FFFF) with
 * U+FFFD. dst needs 3 * len bytes. Returns the bytes written.
 */
size_t eve_utf8_sanitize(const uint8_t *src, size_t len, uint8_t *dst);

/*
 * eve_format_time_us: Suricata's timestamp "2024-01-02T03:04:05.123456+0000", UTC, into buf
 * (at least EVE_TIME_MAX bytes). Returns 0 or -ERANGE.
 */
#define EVE_TIME_MAX 48
int eve_format_time_us(uint64_t ts_us, char *buf, size_t size);
