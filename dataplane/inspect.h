/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inspection of one SMTP session: follows it with the SMTP parser (smtp.h) and, in the
 * parser's hooks, scans every field and the body with the live rule generation (scan.h)
 * (and, when the generation has raw-stream rules, each direction's bytes as they come),
 * looks every recipient up in the suppression set (suppress_db.h), and builds one
 * transaction record (ipc.h) that it hands to the worker's event output when the
 * transaction ends.
 *
 * Pure C, no DPDK: the worker adapter supplies records and takes them through the three
 * functions of struct inspect_env, so tests and fuzzers drive whole sessions without EAL.
 * A session and its env belong to one worker lcore. No allocation except Hyperscan's stream
 * state (see scan.h).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "addr_norm.h"
#include "ipc.h"
#include "mime.h"
#include "scan.h"
#include "smtp.h"
#include "suppress_db.h"

#define INSPECT_RCPT_MAX 64     /* recipients whose verdicts a record carries */
#define INSPECT_TX_SEQ_NONE 0   /* no transaction: the SMTP parser numbers them from 1 */
#define INSPECT_HELO_MAX 255
#define INSPECT_AUTH_MECH_MAX 32 /* SASL mechanism names are at most 20 (RFC 4422 3.1) */
#define INSPECT_URL_MAX 32      /* distinct URLs a record carries */
#define INSPECT_HDR_RCPT_BUF 1024 /* To/Cc/Bcc addresses held per session until the end of
				   * the header block; past it they are looked up at once */
#define INSPECT_PART_BUF 1024   /* decoded body bytes gathered per Hyperscan stream call */
#define INSPECT_STREAMS_PER_SESSION 3 /* Hyperscan streams open at once: the current body
				       * part, the raw stream of each direction */
/*
 * How a record's IPC_TX_MAX bytes are shared, so that a flood of one kind (600 RCPTs, a 4 KB
 * To header, hundreds of URLs) cannot push out the others: fields arrive in this order and
 * each kind fills the record only up to its mark, leaving the rest to the kinds after it.
 * What does not fit is counted and the record flagged truncated.
 */
#define INSPECT_ALERT_RESERVE 1536                          /* alerts: 64 at least */
#define INSPECT_LIST_CAP (IPC_TX_MAX - INSPECT_ALERT_RESERVE) /* URLs, file names, and
							       * recipients on the list */
#define INSPECT_HEADER_CAP (INSPECT_LIST_CAP - 1024)        /* message headers */
#define INSPECT_LIST_HEADER_CAP (INSPECT_HEADER_CAP - 1024) /* To and Cc, which repeat */
#define INSPECT_RCPT_CAP (INSPECT_HEADER_CAP - 2560)        /* other recipients */

struct inspect_flow_meta {
	uint64_t flow_id;
	uint8_t client_ip[16];
	uint8_t server_ip[16];
	uint16_t client_port;
	uint16_t server_port;
	uint8_t ip_version;
	bool midstream;                   /* no handshake seen: the session is picked up late */
};

#define INSPECT_DECODED_MAX (3 * MIME_HEADER_MAX) /* a header decoded to UTF-8 (CJK grows) */

struct mime_words;
struct commercial_policy;
struct canspam_policy;

struct inspect_env {
	struct scan_gen *gen;             /* live generation, read once per burst; may be NULL */
	struct mime_words *words;         /* RFC 2047 decoder; NULL: header values kept raw */
	uint8_t decoded[INSPECT_DECODED_MAX]; /* scratch for one decoded header value */
	uint8_t header_line[INSPECT_DECODED_MAX + 256]; /* "Name: value" for email.header */
	struct suppress_reader *supp;     /* NULL: no suppression set */
	const struct commercial_policy *commercial; /* NULL: every message is commercial */
	unsigned worker;
	uint64_t now_us;                  /* time of the packet being inspected */
	/* record output: alloc may return NULL (counted); emit takes ownership */
	struct ipc_tx *(*tx_alloc)(void *io);
	void (*tx_emit)(void *io, struct ipc_tx *tx);
	/* an anomaly on the session's flow (enum ipc_event_code); may be NULL */
	void (*event)(void *io, const struct inspect_flow_meta *meta, uint16_t code, uint64_t value);
	/*
	 * Inline only (NULL when passive): the message whose end the client's bytes being
	 * inspected just completed must not reach the server. Called from inside the segment
	 * that carries its end, with the IPC_TXF_BLOCKED_* reasons. True when the caller
	 * withholds that segment and answers the client with a block_code reply: the
	 * transaction ends there (its record goes out at once, status IPC_TX_BLOCKED). False
	 * when it cannot (the end reached the server another way): nothing is marked.
	 */
	bool (*block)(void *io, const struct inspect_flow_meta *meta, uint32_t reasons);
	uint16_t block_code;              /* the reply code of block_reply */
	bool block_suppressed;            /* a recipient in violation blocks (block_suppressed) */
	/*
	 * Inline with rcpt_reject_suppressed (NULL otherwise): the RCPT command for addr, whose
	 * line the client's bytes being inspected just completed, names a recipient in
	 * violation of a sender configured as commercial (commercial_senders or _hosts). True
	 * when the caller made the server refuse it.
	 */
	bool (*rcpt_refuse)(void *io, const struct inspect_flow_meta *meta, struct slice addr);
	/* a commercial message failing one of its checks blocks (block_canspam); NULL: none */
	const struct canspam_policy *canspam;
	void *io;
	uint64_t counters[IPC_C__COUNT];
};


/* A transaction's record while it is built or waits for its final reply. */
struct inspect_tx {
	struct ipc_tx *rec;               /* NULL: none, or no record could be had (counted) */
	uint32_t seq;                     /* the SMTP parser's tx_seq */
	uint32_t n_rcpt_slots;
	uint16_t n_urls;
	uint32_t seen_fields;             /* buffers already recorded (1 << enum buffer_id) */
	uint32_t full_fields;             /* buffers a value of which did not fit */
	uint32_t seen_types;              /* record field types added once (1 << IPC_F_*) */
	bool rcpt_full;                   /* a recipient did not fit: the rest are left out too,
					   * so the record's list is a prefix of the envelope's */
	uint32_t block;                   /* IPC_TXF_BLOCKED_* reasons found when judged */
	struct ipc_rcpt *rcpt[INSPECT_RCPT_MAX]; /* where each RCPT's reply is written */
	const uint8_t *url[INSPECT_URL_MAX];    /* the URLs recorded, in the record itself */
	uint16_t url_len[INSPECT_URL_MAX];
};

struct inspect_session {
	struct smtp_session smtp;
	struct mime_parser mime;          /* the message of the open transaction */
	struct inspect_env *env;
	struct inspect_flow_meta meta;
	struct scan_gen *gen;             /* pinned for the open transaction */
	struct inspect_tx cur;            /* the newest transaction */
	struct inspect_tx waiting;        /* complete, pipelined past: waits for its reply */
	bool in_tx;
	bool msg_open;                    /* the MIME parser is reading a message */
	bool ehlo;
	bool client_spoke;                /* the client sent a byte: its first says TLS or not */
	bool tls;                         /* TLS from the first byte: opaque, reported */
	struct hs_stream *part;           /* file.data stream of the current leaf part */
	uint16_t part_buf_len;
	uint8_t part_buf[INSPECT_PART_BUF]; /* decoded bytes not yet handed to the stream */
	struct hs_stream *raw[2];         /* raw stream to server, to client (pkt_data) */
	bool raw_failed[2];               /* no stream state could be had: not retried */
	struct scan_gen *raw_gen;         /* pinned while a raw stream is open */
	uint16_t tx_seq;                  /* records numbered in order of MAIL FROM */
	uint16_t helo_len;
	uint16_t auth_code;
	uint8_t auth_mech_len;
	uint32_t smtp_ext;
	uint8_t helo[INSPECT_HELO_MAX];
	uint8_t auth_mech[INSPECT_AUTH_MECH_MAX];
	struct scan_matches matches;
	struct scan_matches raw_matches;  /* raw-stream matches the next judgement takes */
	/* the open transaction's facts for the suppression set and the commercial decision */
	struct suppress_scopes scopes;    /* sender domains and List-Id, for scoped entries */
	uint8_t scopes_at_rcpt;           /* scopes known when the last RCPT was looked up */
	uint8_t comm_signals;             /* enum commercial_signal seen in its headers */
	uint8_t env_domain_len;
	uint8_t hdr_domain_len;
	bool hdr_from_seen;
	uint16_t hdr_rcpt_len;
	uint8_t hdr_rcpt[INSPECT_HDR_RCPT_BUF]; /* To/Cc/Bcc mailboxes, NUL-separated, until the
						 * header block ends and every scope is known */
	uint8_t env_domain[ADDR_DOMAIN_MAX]; /* MAIL FROM's domain, as sent */
	uint8_t hdr_domain[ADDR_DOMAIN_MAX]; /* the first From mailbox's domain, as sent */
};

struct flow_key;

/* A flow as records describe it: key->addr[client]/port[client] is the client (0 or 1). */
void inspect_flow_meta_from_key(struct inspect_flow_meta *meta, const struct flow_key *key,
				unsigned client, uint64_t flow_id, bool midstream);

void inspect_session_init(struct inspect_session *s, struct inspect_env *env,
			  const struct inspect_flow_meta *meta);

/* Reassembled bytes of one direction (to_server: from the client). */
void inspect_session_data(struct inspect_session *s, bool to_server, const uint8_t *data,
			  size_t len);

/* `len` bytes of one direction were lost (the reassembler skipped a hole). */
void inspect_session_gap(struct inspect_session *s, bool to_server, uint64_t len);

/* The connection is gone: ends any open transaction and releases what it holds. */
void inspect_session_close(struct inspect_session *s);

bool inspect_session_is_opaque(const struct inspect_session *s);
