/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMTP session follower: two resumable parsers (client commands, server replies) fed the
 * reassembled bytes of each direction in whatever pieces TCP delivered them, paired into
 * transactions. It calls the hooks below as the session unfolds and never buffers a
 * message: message bytes go out as they arrive, dot-unstuffed, headers unfolded.
 *
 * It does not scan, look anything up or build events: that is the caller's job, done in the
 * hooks (dataplane/inspect.c). Pure C, no DPDK; one session is used by one worker lcore.
 * No allocation: struct smtp_session is embedded in a pool slot by the caller.
 *
 * Every slice passed to a hook is borrowed for the duration of the call only.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "slice.h"

#define SMTP_LINE_MAX 2048        /* command and reply lines kept; longer ones are cut */
#define SMTP_HEADER_MAX 4096      /* an unfolded header kept; longer ones are cut */
#define SMTP_PENDING_MAX 64       /* pipelined commands awaiting a reply */

enum smtp_status {
	SMTP_OK = 0,
	SMTP_AGAIN,       /* (internal) need more bytes */
	SMTP_INVALID,     /* the bytes were not SMTP; skipped to the next line */
	SMTP_TOO_LONG,    /* a line over its bound; cut, rest discarded to the next LF */
};

enum smtp_cmd {
	SMTP_CMD_NONE = 0,
	SMTP_CMD_HELO,
	SMTP_CMD_EHLO,
	SMTP_CMD_AUTH,
	SMTP_CMD_MAIL,
	SMTP_CMD_RCPT,
	SMTP_CMD_DATA,
	SMTP_CMD_BDAT,
	SMTP_CMD_RSET,
	SMTP_CMD_NOOP,
	SMTP_CMD_VRFY,
	SMTP_CMD_EXPN,
	SMTP_CMD_HELP,
	SMTP_CMD_QUIT,
	SMTP_CMD_STARTTLS,
	SMTP_CMD_UNKNOWN,
	SMTP_CMD_DATA_END,  /* the "." that ends a message; its reply decides delivery */
};

enum smtp_tx_end {
	SMTP_TX_DELIVERED = 0, /* 2xx to the end of data */
	SMTP_TX_REJECTED,      /* 4xx/5xx to the end of data, or DATA itself refused */
	SMTP_TX_ABORTED,       /* RSET, QUIT, new MAIL or close before a complete message */
	SMTP_TX_UNKNOWN,       /* message complete, its reply not seen (session closed) */
};

/* Things worth counting that the hooks may also turn into events. */
enum smtp_anomaly {
	SMTP_AN_LINE_TOO_LONG,
	SMTP_AN_BARE_LF,
	SMTP_AN_UNKNOWN_COMMAND,
	SMTP_AN_BAD_REPLY,
	SMTP_AN_REPLY_WITHOUT_COMMAND,
	SMTP_AN_PIPELINE_OVERFLOW,
	SMTP_AN_HEADER_TOO_LONG,
	SMTP_AN_GAP,              /* bytes of the stream were lost; the parser resynchronised */
	SMTP_AN__COUNT
};

struct smtp_hooks {
	void (*on_helo)(void *ctx, struct slice name);
	void (*on_tx_begin)(void *ctx);                         /* MAIL FROM seen */
	void (*on_mail_from)(void *ctx, struct slice addr);      /* without <>, params dropped */
	void (*on_rcpt)(void *ctx, uint32_t idx, struct slice addr);
	void (*on_rcpt_reply)(void *ctx, uint32_t idx, uint16_t code);
	void (*on_data_begin)(void *ctx);                        /* message bytes follow */
	void (*on_header)(void *ctx, struct slice name, struct slice value); /* unfolded */
	void (*on_headers_end)(void *ctx);
	void (*on_body)(void *ctx, struct slice chunk);          /* dot-unstuffed, CRLFs kept */
	void (*on_data_end)(void *ctx);                          /* "." seen */
	void (*on_tx_end)(void *ctx, enum smtp_tx_end how, uint16_t code);
	void (*on_starttls)(void *ctx);                          /* 220 to STARTTLS: now opaque */
	void (*on_anomaly)(void *ctx, enum smtp_anomaly what);
};

struct smtp_session; /* defined in smtp.c's companion section below */

/* Prepare a session; hooks and ctx are borrowed for the session's life. */
void smtp_session_init(struct smtp_session *s, const struct smtp_hooks *hooks, void *ctx);

/*
 * Feed bytes of one direction (to_server: the client's commands and message; otherwise the
 * server's replies). Any split is allowed; the result for a byte stream never depends on
 * how it was cut. Returns the worst status met in these bytes (SMTP_OK if none).
 */
enum smtp_status smtp_session_feed(struct smtp_session *s, bool to_server, const uint8_t *data,
				   size_t len);

/*
 * The connection ended (FIN/RST/eviction/end of capture): ends an open transaction with the
 * right smtp_tx_end (UNKNOWN if the message was complete but not answered, ABORTED
 * otherwise). The session may be re-initialised afterwards.
 */
void smtp_session_close(struct smtp_session *s);

/*
 * `len` bytes of one direction were lost (a hole the reassembler gave up on). The parser
 * drops what it was in the middle of and resynchronises: client lines are skipped until one
 * is plainly a command, server replies are read from the next line; a DATA message keeps its transaction and looks for its end (its content has a hole,
 * reported as SMTP_AN_GAP); a BDAT chunk counts the lost bytes against its size. Server
 * replies lost with the hole cannot be paired any more: the commands awaiting them are
 * forgotten, and their transactions end UNKNOWN unless a later reply decides.
 */
void smtp_session_gap(struct smtp_session *s, bool to_server, uint64_t len);

/*
 * The session is being picked up mid-stream (no handshake seen): client lines are skipped
 * until one is plainly a command (verb and arguments of its shape), server replies are not paired until a command
 * awaits one, and no greeting is expected.
 */
void smtp_session_midstream(struct smtp_session *s);

/* True once STARTTLS was accepted: further bytes are ignored. */
bool smtp_session_is_opaque(const struct smtp_session *s);

/* The session state is public so callers can embed it; only smtp.c touches its fields. */
struct smtp_line {
	uint16_t len;
	bool overflow;      /* the current line passed SMTP_LINE_MAX: discarding to LF */
	bool cr;            /* the last byte seen (kept or discarded) was CR */
	uint8_t buf[SMTP_LINE_MAX];
};

struct smtp_session {
	const struct smtp_hooks *hooks;
	void *ctx;
	uint8_t worst;          /* enum smtp_status: worst met in the current feed */
	bool opaque;
	bool closed;
	/* client side */
	uint8_t client_state;   /* smtp.c's enum: command line, DATA message, BDAT chunk */
	uint8_t dot_state;      /* end-of-data and dot-stuffing matcher across segments */
	uint8_t dot_eol;        /* line ending withheld by the matcher (none, LF, CRLF) */
	uint8_t msg_state;      /* message layer: header name/value/fold, body */
	bool in_tx;
	bool hunting;           /* picked up mid-stream: waiting for a line that is a command */
	bool msg_open;          /* on_data_begin called, on_data_end not yet */
	bool message_complete;  /* "." or BDAT LAST seen; the reply decides delivery */
	bool auth_cont;         /* a 334 asked the client for an AUTH continuation line */
	bool bdat_last;
	bool msg_bare_lf;       /* SMTP_AN_BARE_LF already counted for this message */
	uint32_t tx_seq;        /* bumped at each on_tx_begin; pending replies carry it */
	uint32_t n_rcpt;
	uint64_t bdat_remaining;
	struct smtp_line cmd;
	uint16_t hdr_len;
	bool hdr_overflow;
	uint8_t hdr_buf[SMTP_HEADER_MAX];
	/* server side */
	struct smtp_line reply;
	bool greeted;           /* the first reply (the greeting) was seen */
	/* commands awaiting a reply, in order (PIPELINING) */
	uint8_t pending_head;
	uint8_t pending_count;
	struct {
		uint8_t cmd;        /* enum smtp_cmd */
		uint32_t rcpt_idx;
		uint32_t tx_seq;    /* the transaction the command belonged to */
	} pending[SMTP_PENDING_MAX];
	uint64_t n_anomalies[SMTP_AN__COUNT];
};
