/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rate anomaly models of posternd over transaction records (struct ipc_tx), per internal host
 * and per sender domain: messages, recipients per message, distinct recipients, AUTH
 * failures, rejected recipients (directory harvesting), sessions and message bytes, each
 * against its own EWMA baseline. It turns records into struct anomaly_alert; it does not
 * format EVE, read the socket, or look at packets. Time is the records' own (ts_us) and the
 * time posternd passes to tick(), never the wall clock, so a pcap replay gives the same alerts
 * every time. Control thread only: the model is not locked.
 *
 * What is counted, per record of a client inside internal_clients (others are ignored and
 * counted): a message is a record with IPC_TXF_HAS_DATA, whatever the server answered; bytes
 * are body_bytes; a session is a record with tx_seq 0; an AUTH failure is a tx_seq 0 record
 * whose auth_code is 5xx (once per session); a rejected recipient is an IPC_F_RCPT field with
 * reply_code 5xx; distinct recipients are the IPC_F_RCPT addresses (every one the client gave,
 * rejected or not), lowercased. Recipients per message is n_rcpt of each message (cut
 * recipients included). The host key is src_ip; the sender-domain key is the IPC_F_MAIL_FROM
 * value without surrounding angle brackets, after its last '@', ASCII-lowercased, cut at 255
 * bytes; an empty sender (`<>`, nothing, or nothing after the '@') is the domain "<>", and a
 * sender without '@' is keyed by the whole lowercased address. A record without
 * IPC_F_MAIL_FROM feeds the host key only. Both subjects have the same seven metrics (a
 * domain's sessions and AUTH failures are those of sessions whose first transaction names it).
 *
 * Windows: each key's windows are aligned on its first record (t0): window k of a metric of
 * length W is [t0 + kW, t0 + (k+1)W). A record is counted in the key's current window; one
 * older than the window start (records of different workers interleave) still counts there.
 * A window closes when a record of the same key, or tick(), reaches its end (lazily per key;
 * tick() looks at every key whose current window has activity, so a quiet key's last busy
 * window is judged on time).
 *
 * Baseline: baseline += alpha * (value - baseline), alpha = anomaly_alpha_pct / 100, once per
 * closed window; a metric's first closed window sets it to its value (and is never judged).
 * Windows whose value is 0 (an idle gap, or a metric quiet while the key is busy) are folded
 * as 0, at most ANOMALY_IDLE_WINDOWS of them in a row (so a night off decays a baseline by at
 * most (1 - alpha)^ANOMALY_IDLE_WINDOWS rather than to nothing); the ones after that are
 * skipped until a window with a value.
 *
 * Judgement of a closed window: only when its start is at least anomaly_warmup seconds after
 * t0 (warm-up: until then every window is folded and none alerts). It is anomalous when
 * value > baseline * anomaly_multiple_pct / 100 AND value > the metric's anomaly_floor_*.
 * An anomalous window is NOT folded into the baseline, whether it alerted or was suppressed,
 * so a flood never becomes the new normal (an operator who accepts a new level raises the
 * floor). An alert is emitted unless one of the same (key, metric) was emitted less than
 * anomaly_suppress seconds before (by window_end_us); suppressed ones are counted.
 * ANOMALY_RCPTS_PER_MSG is judged per message, the same way, against an EWMA over messages
 * (window_s 0, window_end_us the record's ts_us).
 *
 * Distinct recipients per hour: a 64-bit hash (FNV-1a then fmix64, unkeyed so replays are
 * deterministic) of the lowercased address; exact up to ANOMALY_DISTINCT_EXACT distinct
 * hashes (collisions aside: ~n^2/2^65), then a HyperLogLog of 2^8 one-byte registers in the
 * same 256 bytes (standard error 1.04/sqrt(256) = 6.5%, linear counting below 640). Someone
 * choosing addresses that collide in the HLL can make the count read low.
 *
 * Memory: anomaly_keys entries (hosts and domains together, ~900 bytes each) and a bucket
 * array, all allocated at create. When the table is full the key seen least recently is
 * evicted (its open windows are lost, counted in n_evicted).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ipc.h"

#define ANOMALY_IDLE_WINDOWS 10     /* missed windows folded as 0 in a row, at most */
#define ANOMALY_DISTINCT_EXACT 32   /* distinct recipients counted exactly per key and hour */
#define ANOMALY_KEY_MAX 255         /* bytes of a domain key */

enum anomaly_metric {
	ANOMALY_MESSAGES = 0,        /* messages per minute */
	ANOMALY_RCPTS_PER_MSG = 1,   /* recipients in one message (judged per message) */
	ANOMALY_DISTINCT_RCPTS = 2,  /* distinct recipients per hour */
	ANOMALY_AUTH_FAILURES = 3,   /* per 10 minutes */
	ANOMALY_RCPTS_REJECTED = 4,  /* per 10 minutes */
	ANOMALY_SESSIONS = 5,        /* per minute */
	ANOMALY_BYTES = 6,           /* message bytes per minute */
	ANOMALY__COUNT
};

enum anomaly_subject { ANOMALY_HOST = 0, ANOMALY_SENDER_DOMAIN = 1 };

struct anomaly_alert {
	uint8_t subject;             /* enum anomaly_subject */
	uint8_t metric;              /* enum anomaly_metric */
	char key[256];               /* the host as text (inet_ntop, IPv4 plain) or the domain */
	uint8_t host_ip[16];         /* ANOMALY_HOST: the host; else zero */
	double value;                /* the window's value (or the message's for RCPTS_PER_MSG) */
	double baseline;             /* EWMA before this window */
	uint64_t floor;
	double multiple;             /* anomaly_multiple_pct / 100 */
	uint32_t window_s;           /* the metric's window, 0 for RCPTS_PER_MSG */
	uint64_t window_end_us;      /* ts of the window's end (or the message) */
};

/* Stable names for EVE: "messages_per_minute", "rcpts_per_message", ...; "unknown" past
 * the end. Pure, any thread. */
const char *anomaly_metric_name(enum anomaly_metric m);

/* "host" or "sender_domain". Pure, any thread. */
const char *anomaly_subject_name(enum anomaly_subject s);

/* The metric's window in seconds (0 for ANOMALY_RCPTS_PER_MSG). Pure, any thread. */
uint32_t anomaly_metric_window(enum anomaly_metric m);

struct anomaly_model;

/*
 * A model configured from cfg's anomaly_* options and internal_clients (an address set in
 * rule syntax, compiled with netset_vars_defaults(); an empty text models nothing). cfg is
 * only read here. Returns NULL with errno EINVAL and "KEY: reason" in err (e.g.
 * "internal_clients: invalid address '10.0.0.300'", "anomaly_alpha_pct: must be 1..100, not
 * 0"), or errno ENOMEM. Control thread; the caller owns the model.
 */
struct anomaly_model *anomaly_model_create(const struct postern_config *cfg, char *err,
					   size_t errlen);

/* Free the model; NULL is a no-op. */
void anomaly_model_destroy(struct anomaly_model *m);

/*
 * Account one record (one ipc_tx_check() accepted: its fields are read with ipc_tx_next()),
 * first closing the windows of its keys that tx->ts_us has passed. Writes at most cap alerts
 * to out and returns how many; alerts beyond cap are counted (anomaly_model_dropped()).
 * Never allocates. Control thread; tx is borrowed for the call.
 */
unsigned anomaly_model_observe(struct anomaly_model *m, const struct ipc_tx *tx,
			       struct anomaly_alert *out, unsigned cap);

/*
 * Close every window of every key that ended at or before now_us (the latest record time
 * posternd has seen, not wall time; about once a second) and return its alerts, as observe.
 * Cost: one comparison per key in use, plus the windows closed. Control thread.
 */
unsigned anomaly_model_tick(struct anomaly_model *m, uint64_t now_us, struct anomaly_alert *out,
			    unsigned cap);

/* Alerts lost because the caller's array was full. */
uint64_t anomaly_model_dropped(const struct anomaly_model *m);

struct anomaly_model_stats {
	uint64_t records;        /* records observed from internal clients */
	uint64_t external;       /* records ignored: client not internal (or model off) */
	uint64_t keys;           /* keys in the table now */
	uint64_t evicted;        /* keys evicted because the table was full */
	uint64_t alerts;         /* alerts emitted (dropped ones included) */
	uint64_t suppressed;     /* anomalous windows not alerted: inside anomaly_suppress */
	uint64_t dropped;        /* as anomaly_model_dropped() */
};

/* Counters since create. Control thread. */
void anomaly_model_stats(const struct anomaly_model *m, struct anomaly_model_stats *out);
