/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Records on the control link between postern-dataplane and posternd: a SOCK_SEQPACKET Unix
 * socket, one record per datagram, so the kernel keeps the framing. This header is the only
 * one both processes include; every record starts with struct ipc_hdr and is versioned.
 *
 *   dataplane -> posternd  IPC_HELLO      (after connect)
 *   posternd -> dataplane  IPC_RULES      a rule generation: a memfd passed with SCM_RIGHTS
 *   dataplane -> posternd  IPC_RULES_ACK  the generation is live, or why it was refused
 *   dataplane -> posternd  IPC_TX         one SMTP transaction: envelope, headers, verdicts
 *   dataplane -> posternd  IPC_STATS      counters, once a second and at exit
 *   dataplane -> posternd  IPC_BYE        the dataplane has flushed everything and stops
 *   dataplane -> posternd  IPC_EVENT      one anomaly seen on a flow (evasion, gap, a limit hit)
 *   dataplane -> posternd  IPC_SPOOL      an outage of posternd is over: what waited, what was lost
 *   posternd -> dataplane  IPC_ACK        every record up to a seq is written to the outputs
 *
 * A transaction record is a fixed part (struct ipc_tx) followed by fields: struct ipc_field
 * and its value, each padded to 8 bytes. Fields are bounded (IPC_FIELD_MAX) and the whole
 * record is at most IPC_TX_MAX bytes; what does not fit is cut and flagged, never overrun.
 *
 * Builders run on worker lcores (no allocation: they fill a caller's buffer); ipc_tx_check()
 * runs in posternd on every record received, before any field is read.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slice.h"

#define IPC_MAGIC 0x4e525450u /* "PTRN" */
#define IPC_VERSION 4u
#define IPC_TX_MAX 8192u
#define IPC_FIELD_MAX 1024u
#define IPC_RECORD_MAX 65536u

enum ipc_type {
	IPC_HELLO = 1,
	IPC_RULES = 2,
	IPC_RULES_ACK = 3,
	IPC_TX = 4,
	IPC_STATS = 5,
	IPC_BYE = 6,
	IPC_EVENT = 7,
	IPC_SPOOL = 8,
	IPC_ACK = 9,
	IPC_TYPE_LAST = IPC_ACK,
};

struct ipc_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;  /* enum ipc_type */
	uint32_t len;   /* whole record, header included */
	uint32_t seq;   /* per-sender sequence number: gaps are dropped records */
};

/* ipc_hello.flags */
enum {
	/* The dataplane watches live traffic: records are stamped with the wall clock, so
	 * posternd may let time run while none arrive. Without it (captures) record times are
	 * the only clock, and a replay gives the same results however fast it runs. */
	IPC_HELLO_LIVE = 1u << 0,
};

struct ipc_hello {
	struct ipc_hdr hdr;
	uint32_t pid;
	uint16_t n_workers;
	uint16_t flags;     /* IPC_HELLO_*; 0 from a dataplane older than the field */
};

struct ipc_rules {
	struct ipc_hdr hdr;  /* the generation's memfd travels as SCM_RIGHTS */
	uint64_t gen_id;
	uint64_t blob_len;
};

/*
 * posternd has handled (written to its outputs) every record of this connection up to seq:
 * the dataplane frees them from its spool. Cumulative, sent after each batch read and on
 * posternd's tick, so one lost to a full socket is made up by the next.
 */
struct ipc_ack {
	struct ipc_hdr hdr;
	uint32_t seq;
	uint32_t reserved;
};

struct ipc_rules_ack {
	struct ipc_hdr hdr;
	uint64_t gen_id;
	int32_t error;       /* 0, or the negative errno that refused the generation */
	uint32_t reserved;
};

/* Counters the dataplane reports; summed over workers by the main lcore. Append only. */
enum ipc_counter {
	IPC_C_RX_PACKETS,
	IPC_C_RX_BYTES,
	IPC_C_DECODE_ERRORS,
	IPC_C_NOT_INSPECTED,
	IPC_C_FLOWS_CREATED,
	IPC_C_FLOWS_ACTIVE,
	IPC_C_FLOW_POOL_FULL,
	IPC_C_SESSION_POOL_FULL,
	IPC_C_TCP_OUT_OF_ORDER,
	IPC_C_TCP_RETRANSMIT,
	IPC_C_SMTP_TRANSACTIONS,
	IPC_C_SMTP_PARSE_ERRORS,
	IPC_C_SMTP_LINE_TOO_LONG,
	IPC_C_SMTP_STARTTLS,
	IPC_C_RULE_MATCHES,
	IPC_C_SUPPRESS_LOOKUPS,
	IPC_C_SUPPRESS_HITS,
	IPC_C_EVENTS_SENT,
	IPC_C_EVENTS_DROPPED,
	IPC_C_FIELDS_TRUNCATED,
	IPC_C_DISPATCH_DROPPED,
	IPC_C_SCAN_ERRORS,
	IPC_C_FLOWS_EVICTED_IDLE,
	IPC_C_FLOWS_EVICTED_FULL,
	IPC_C_ANOMALIES,
	IPC_C_IP_FRAGMENTS,
	IPC_C_IP_REASSEMBLED,
	IPC_C_IP_FRAG_DROPPED,
	IPC_C_BAD_IP_CHECKSUM,
	IPC_C_TCP_GAP_BYTES,
	IPC_C_TCP_OVERLAP_DIFF,
	IPC_C_TCP_REASM_POOL_EXHAUSTED,
	IPC_C_TCP_DEPTH_REACHED,
	/* decode_errors by reason */
	IPC_C_DECODE_TRUNCATED,
	IPC_C_DECODE_BAD_L2,
	IPC_C_DECODE_BAD_IPV4,
	IPC_C_DECODE_BAD_IPV6,
	IPC_C_DECODE_BAD_TCP,
	IPC_C_MIME_BAD_WORDS,
	IPC_C_MIME_PARTS,
	IPC_C_MIME_ANOMALIES,
	IPC_C_MIME_DECODE_ERRORS,
	IPC_C_URLS,
	IPC_C_ATTACHMENTS,
	IPC_C_SMTP_STARTTLS_INJECTION,
	IPC_C_SMTP_BDAT_REJECTED,
	IPC_C_SMTP_AUTH_FAILED,
	IPC_C_SMTP_IMPLICIT_TLS,
	/* the capture ports' own counters (rte_eth_stats), summed over ports */
	IPC_C_PORT_RX_MISSED,         /* packets the NIC dropped: no room in an rx queue */
	IPC_C_PORT_RX_ERRORS,         /* erroneous packets the port received */
	IPC_C_PORT_RX_NO_MBUF,        /* packets lost for want of an mbuf */
	IPC_C_RULE_PASSES,            /* transactions a pass rule let through unreported */
	IPC_C_SUPPRESS_EXEMPT,        /* listed recipients of messages that are not commercial */
	IPC_C_SUPPRESS_ERRORS,        /* lookups the set could not answer (LMDB error) */
	IPC_C_SUPPRESS_REOPENS,       /* a rebuilt set swapped in and reopened */
	IPC_C_COMMERCIAL,             /* transactions judged commercial */
	/* inline mode */
	IPC_C_INLINE_FORWARDED,       /* packets sent on to the paired port */
	IPC_C_INLINE_BLOCKED,         /* transactions stopped before their end reached the server */
	IPC_C_INLINE_BLOCK_LATE,      /* judged to block once the server had the end already */
	IPC_C_INLINE_BLOCKED_PACKETS, /* packets of blocked sessions not sent on */
	IPC_C_INLINE_INJECTED,        /* replies and resets sent in a peer's name */
	IPC_C_INLINE_INJECT_FAILED,   /* ... that could not be (no mbuf, no room to send) */
	IPC_C_INLINE_FAIL_OPEN,       /* packets sent on uninspected: overload, fail-open */
	IPC_C_INLINE_FAIL_CLOSED,     /* packets dropped uninspected: overload, fail-closed */
	IPC_C_TX_DROPPED,             /* packets a port's queue had no room for */
	IPC_C_INLINE_RCPT_REFUSED,    /* RCPT commands made refusable (rcpt_reject_suppressed) */
	/* records held until posternd acknowledges them (dataplane/event_spool.h); main lcore */
	IPC_C_EVENTS_RESENT,          /* sendings again: posternd went away before acknowledging
				       * (events_sent counts each record once) */
	IPC_C_SPOOL_DROPPED,          /* refused for the spool's bound, or given up at the end
				       * (also in events_dropped) */
	IPC_C_SPOOL_RECORDS,          /* held now, unsent or unacknowledged (a gauge) */
	IPC_C_SPOOL_BYTES,            /* held now (a gauge) */
	IPC_C__COUNT
};

/* Name of a counter as posternctl stats and the EVE stats event print it. */
const char *ipc_counter_name(enum ipc_counter c);

/* True for counters the main lcore or the ports keep: a worker's record has none of them. */
bool ipc_counter_is_global(enum ipc_counter c);

#define IPC_STATS_ALL 0xffffu
#define IPC_MAX_WORKERS 64u  /* workers a stats record may number (config: workers) */

struct ipc_stats {
	struct ipc_hdr hdr;
	uint64_t gen_id;
	uint16_t n_workers;
	uint16_t n_counters;  /* IPC_C__COUNT of the sender */
	uint16_t worker;      /* the worker counted, or IPC_STATS_ALL: the sum, with the main
			       * lcore's and the ports' own counters */
	uint16_t reserved;
	uint64_t counters[IPC_C__COUNT];
};

enum ipc_tx_status {
	IPC_TX_DELIVERED = 0,  /* the server accepted the message (2xx after end of data) */
	IPC_TX_REJECTED = 1,   /* the server refused it */
	IPC_TX_ABORTED = 2,    /* RSET, QUIT or close before the message was complete */
	IPC_TX_UNKNOWN = 3,    /* message complete, the server's answer was not seen */
	IPC_TX_BLOCKED = 4,    /* inline: withheld from the server, the client got block_reply
				* (reply_code is its code) */
};

enum ipc_tx_flag {
	IPC_TXF_TRUNCATED = 1u << 0,   /* a field or the record was cut at its bound */
	IPC_TXF_STARTTLS = 1u << 1,    /* the session went opaque after this transaction */
	IPC_TXF_HAS_DATA = 1u << 2,    /* a message (DATA/BDAT) was seen */
	/* inline: the dataplane withheld the end of the message from the server and answered
	 * the client with block_reply, because of */
	IPC_TXF_BLOCKED_RULE = 1u << 3,       /* a drop or reject rule that matched */
	IPC_TXF_BLOCKED_SUPPRESSED = 1u << 4, /* a recipient in violation (block_suppressed) */
	IPC_TXF_BLOCKED_CANSPAM = 1u << 5,    /* a commercial message failing a CAN-SPAM check
					       * (block_canspam) */
};
#define IPC_TXF_BLOCKED \
	(IPC_TXF_BLOCKED_RULE | IPC_TXF_BLOCKED_SUPPRESSED | IPC_TXF_BLOCKED_CANSPAM)

struct ipc_tx {
	struct ipc_hdr hdr;
	uint64_t ts_us;        /* time of the transaction's end, microseconds since the epoch */
	uint64_t flow_id;      /* stable per flow: EVE flow_id */
	uint64_t gen_id;       /* rule generation that scanned the message */
	uint8_t src_ip[16];    /* client; IPv4 as ::ffff:a.b.c.d */
	uint8_t dst_ip[16];    /* server */
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t ip_version;    /* 4 or 6 */
	uint8_t status;        /* enum ipc_tx_status */
	uint16_t flags;        /* enum ipc_tx_flag */
	uint16_t worker;
	uint16_t tx_seq;       /* transaction number within the session, from 0 */
	uint16_t reply_code;   /* server's reply to the end of data, 0 if unseen */
	uint16_t n_fields;
	uint32_t n_rcpt;       /* recipients seen, including those cut from the record */
	uint64_t body_bytes;   /* message bytes after dot-unstuffing */
	uint64_t mail_size;    /* MAIL FROM SIZE=, valid with IPC_MAILF_SIZE */
	uint32_t smtp_ext;     /* extensions the EHLO reply offered: bits of enum smtp_ext */
	uint16_t auth_code;    /* final reply to AUTH, 0 if the session did not authenticate */
	uint8_t mail_body;     /* MAIL FROM BODY=: enum smtp_body of the dataplane's parser */
	uint8_t mail_flags;    /* enum ipc_mail_flag */
	uint16_t commercial;   /* enum ipc_commercial bits: why the message is (not) commercial */
	uint16_t marks;        /* Postern's reserved flowbits set when the message ended: bit i
				* = GEN_FLOWBIT_i (gen_format.h) */
	uint32_t reserved32;
};

/*
 * Why a message is commercial or not (ipc_tx.commercial): IPC_COMM_YES when it is, with the
 * signal that decided, or without it and an exemption's bit. Only commercial messages are
 * subject to the suppression set.
 */
enum ipc_commercial {
	IPC_COMM_YES = 1u << 0,
	IPC_COMM_RULE = 1u << 1,          /* a rule set postern.commercial */
	IPC_COMM_SENDER = 1u << 2,        /* a configured commercial sender domain */
	IPC_COMM_HOST = 1u << 3,          /* a configured commercial client host */
	IPC_COMM_LIST_UNSUB = 1u << 4,    /* a List-Unsubscribe header */
	IPC_COMM_LIST_ID = 1u << 5,       /* a List-Id header */
	IPC_COMM_PRECEDENCE = 1u << 6,    /* Precedence: bulk, list or junk */
	IPC_COMM_DEFAULT = 1u << 7,       /* nothing decided: commercial_default = yes */
	IPC_COMM_EXEMPT_RULE = 1u << 8,   /* a rule set postern.transactional */
	IPC_COMM_EXEMPT_SENDER = 1u << 9, /* a configured transactional sender domain */
	IPC_COMM_DECIDED = 1u << 15,      /* judged (a record of a cut transaction may not be) */
};

enum ipc_mail_flag {
	IPC_MAILF_SIZE = 1u << 0,      /* SIZE= given */
	IPC_MAILF_SMTPUTF8 = 1u << 1,  /* SMTPUTF8 given */
	IPC_MAILF_BAD_PARAM = 1u << 2, /* a MAIL FROM parameter was malformed */
	IPC_MAILF_EHLO = 1u << 3,      /* the client greeted with EHLO (else HELO or none) */
};

/* MAIL FROM BODY= values in ipc_tx.mail_body, as the dataplane's parser numbers them. */
enum ipc_mail_body {
	IPC_BODY_NONE = 0,
	IPC_BODY_7BIT,
	IPC_BODY_8BITMIME,
	IPC_BODY_BINARYMIME,
	IPC_BODY_OTHER,
};

enum ipc_field_type {
	IPC_F_HELO = 1,
	IPC_F_MAIL_FROM = 2,
	IPC_F_RCPT = 3,        /* struct ipc_rcpt, then the address */
	IPC_F_EMAIL_FROM = 4,
	IPC_F_EMAIL_TO = 5,
	IPC_F_EMAIL_CC = 6,
	IPC_F_SUBJECT = 7,
	IPC_F_MESSAGE_ID = 8,
	IPC_F_DATE = 9,
	IPC_F_X_MAILER = 10,
	IPC_F_ALERT = 11,      /* struct ipc_alert */
	IPC_F_ATTACHMENT = 12, /* a part's file name (UTF-8) */
	IPC_F_URL = 13,        /* a URL from a text or HTML part, once per transaction */
	IPC_F_AUTH_MECH = 14,  /* the SASL mechanism the client chose (never credentials) */
	IPC_F_HDR_RCPT = 15,   /* struct ipc_rcpt, then the address: a To/Cc/Bcc address of
				* the message on the suppression list (reply_code 0) */
	IPC_F_LIST_ID = 16,    /* the message's List-Id header (first one), as sent */
	IPC_F_REPLY_TO = 17,   /* Reply-To (first one), as sent */
	IPC_F_LIST_UNSUB = 18, /* List-Unsubscribe (first one), as sent */
	IPC_F_LIST_UNSUB_POST = 19, /* List-Unsubscribe-Post (RFC 8058; first one), as sent */
	IPC_F__LAST = IPC_F_LIST_UNSUB_POST,
};

struct ipc_field {
	uint16_t type;         /* enum ipc_field_type */
	uint16_t len;          /* value bytes, without padding */
	uint32_t reserved;     /* keeps values 8-byte aligned, as struct ipc_rcpt needs */
};

enum ipc_suppress_verdict {
	IPC_SUPPRESS_NONE = 0,       /* not on the list, or consent given after the opt-out */
	IPC_SUPPRESS_GRACE = 1,      /* opted out, still inside the 10 business day window */
	IPC_SUPPRESS_VIOLATION = 2,  /* opted out and the window has passed */
};

/* ipc_rcpt.flags */
enum {
	/* inline, rcpt_reject_suppressed: the dataplane turned this RCPT command into one the
	 * server refuses (a 5xx reply_code), so the recipient never gets the message */
	IPC_RCPTF_REFUSED = 1u << 0,
};

struct ipc_rcpt {
	uint16_t reply_code;   /* server's reply to this RCPT, 0 if unseen */
	uint8_t verdict;       /* enum ipc_suppress_verdict */
	uint8_t scope;         /* enum suppress_scope of the matching entry */
	uint8_t origin;        /* enum suppress_scope_origin: which scope of the message */
	uint8_t domain_wide;   /* matched a whole-domain entry */
	uint16_t flags;        /* IPC_RCPTF_*; 0 from a sender older than the field */
	int64_t optout_time;   /* seconds since the epoch, 0 if not suppressed */
	int64_t grace_end;     /* seconds since the epoch, 0 if not suppressed */
};

struct ipc_alert {
	uint32_t sid;
	uint32_t rev;
	uint32_t gid;
	uint8_t action;        /* enum gen_action */
	uint8_t reserved[3];
};

/*
 * Anomalies the dataplane reports per flow, as EVE "anomaly" events (Suricata's layout:
 * anomaly{type, event}). Append only: posternd names them by value.
 */
enum ipc_event_code {
	IPC_EV_TCP_OVERLAP_DIFF = 1,   /* retransmission with different data: evasion attempt */
	IPC_EV_TCP_GAP = 2,            /* bytes never seen (capture loss): parser resynchronised */
	IPC_EV_TCP_OOO_LIMIT = 3,      /* out-of-order queue bound hit: hole skipped */
	IPC_EV_TCP_POOL_EXHAUSTED = 4, /* worker's reassembly pool empty: hole skipped */
	IPC_EV_TCP_DEPTH = 5,          /* inspection depth reached: rest of the flow only counted */
	IPC_EV_IP_FRAG_OVERLAP_DIFF = 6, /* IP fragments overlapping with different data */
	/* the three resource events are sent at most once a second per worker, value = how
	 * many occurred since the last one sent */
	IPC_EV_FLOW_POOL_FULL = 7,     /* flow table full: oldest idle flow evicted for this one */
	IPC_EV_SESSION_POOL_FULL = 8,  /* no SMTP session free: flow not inspected */
	IPC_EV_SMTP_STARTTLS = 9,      /* session went opaque after STARTTLS */
	IPC_EV_SMTP_IMPLICIT_TLS = 10, /* TLS on the SMTPS port: not inspectable */
	IPC_EV_SMTP_STARTTLS_INJECTION = 11, /* commands sent after STARTTLS before its reply */
	IPC_EV_MIME_NAME_MISMATCH = 12, /* filename= and filename*= name different files */
	IPC_EV_MIME_DEPTH = 13,        /* multiparts nested past the depth limit: kept as a leaf */
	IPC_EV_MIME_NO_PARTS = 14,     /* a multipart whose boundary never came: body in preamble */
	IPC_EV__MAX
};

/* "stream", "decode", "flow" or "applayer", and the event's name ("TCP_OVERLAP_DIFF"). */
const char *ipc_event_layer(enum ipc_event_code e);
const char *ipc_event_name(enum ipc_event_code e);

/* The link to posternd is back and the spool drained: one outage, in wall-clock time. */
struct ipc_spool {
	struct ipc_hdr hdr;
	uint64_t started_us;     /* the first record that could not be sent */
	uint64_t ended_us;       /* the spool emptied */
	uint64_t n_kept;         /* records delivered late, in order */
	uint64_t n_dropped;      /* records lost: the spool's bound (event_spool) */
	uint64_t bytes_dropped;
};

struct ipc_event {
	struct ipc_hdr hdr;
	uint64_t ts_us;
	uint64_t flow_id;
	uint8_t src_ip[16];    /* the flow's client when known, else the packet's source */
	uint8_t dst_ip[16];
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t ip_version;
	uint8_t reserved;
	uint16_t code;         /* enum ipc_event_code */
	uint64_t value;        /* bytes skipped, the limit hit, ...: meaning per code */
};

/* Check a received event record (size, code). 0 or -EINVAL. posternd; pure. */
int ipc_event_check(const void *buf, size_t len);

/* Fill the header of a record of `type` and length `len`. Any thread. */
void ipc_hdr_init(struct ipc_hdr *h, enum ipc_type type, uint32_t len, uint32_t seq);

/* Check magic, version, type and that hdr->len equals the datagram's length. */
int ipc_hdr_check(const void *buf, size_t len);

/*
 * Start a transaction record in buf (cap bytes, at least sizeof(struct ipc_tx)). The caller
 * fills the fixed fields; hdr.len tracks the bytes used. Worker lcore; no allocation.
 */
void ipc_tx_init(struct ipc_tx *tx, size_t cap);

/*
 * Append a field. A value longer than IPC_FIELD_MAX is cut and the record flagged truncated.
 * Returns the value's place in the record (valid while the record is) so that fixed parts
 * such as struct ipc_rcpt can be updated later, or NULL when the record is full (flagged).
 */
void *ipc_tx_add(struct ipc_tx *tx, size_t cap, enum ipc_field_type type, const void *val,
		 size_t len);

/* Append a field whose value is a fixed struct followed by bytes (IPC_F_RCPT). */
void *ipc_tx_add2(struct ipc_tx *tx, size_t cap, enum ipc_field_type type, const void *head,
		  size_t head_len, const void *tail, size_t tail_len);

/*
 * Validate a received transaction record: header, every field inside the record and within
 * its bound, n_fields exact, fixed-size fields of the right size. Returns 0 or -EINVAL.
 * posternd; pure.
 */
int ipc_tx_check(const void *buf, size_t len);

/* Iterate the fields of a checked record: pass NULL to get the first; NULL at the end. */
const struct ipc_field *ipc_tx_next(const struct ipc_tx *tx, const struct ipc_field *prev);

static inline const uint8_t *
ipc_field_value(const struct ipc_field *f)
{
	/* Computed from the byte address: the value is not part of struct ipc_field, and
	 * compilers check accesses through `f + 1` against the struct's size. */
	uintptr_t p = (uintptr_t)f + sizeof(struct ipc_field);

	return (const uint8_t *)p;
}

_Static_assert(sizeof(struct ipc_tx) % 8 == 0, "fields must start 8-byte aligned");
_Static_assert(sizeof(struct ipc_field) == 8, "field header is 8 bytes");
_Static_assert(sizeof(struct ipc_rcpt) % 8 == 0, "rcpt head keeps the address aligned");
