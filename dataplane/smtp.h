/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMTP session follower: two resumable parsers (client commands, server replies) fed the
 * reassembled bytes of each direction in whatever pieces TCP delivered them, paired into
 * transactions the way the server saw them (PIPELINING, CHUNKING, STARTTLS, AUTH). It calls
 * the hooks below as the session unfolds and never buffers a message: message bytes go out
 * as they arrive, dot-unstuffed (DATA) or as chunked (BDAT), line endings as sent.
 *
 * It does not parse the message (header block, MIME tree: dataplane/mime.c does, fed from
 * on_message), scan, look anything up or build events: that is the caller's job, done in the
 * hooks (dataplane/inspect.c). Pure C, no DPDK; one session is used by one worker lcore.
 * No allocation: struct smtp_session is embedded in a pool slot by the caller.
 *
 * Every slice and struct passed to a hook is borrowed for the duration of the call only.
 *
 * Order of the hooks. For a transaction N the calls are
 *     on_tx_begin(N), on_mail_from, on_rcpt..., on_data_begin, on_message..., on_data_end,
 *     on_tx_end(N)
 * with on_rcpt_reply(N, ...) anywhere between on_rcpt of that index and on_tx_end(N), and
 * on_anomaly anywhere. A transaction may end at any point (on_tx_end closes an open message
 * without on_data_end: refused, reset, cut). on_tx_begin(N + 1) comes BEFORE on_tx_end(N)
 * only when N's message is complete (on_data_end(N) called) and its final reply has not been
 * seen yet: the PIPELINING case (".\r\nMAIL FROM:..." sent before the reply to the ".", or
 * BDAT LAST and the next MAIL pipelined). N's on_rcpt_reply and on_tx_end (DELIVERED or
 * REJECTED with the reply's code) then come when the replies arrive, interleaved with
 * N + 1's calls; hooks without a tx_seq (on_mail_from, on_rcpt, on_data_begin, on_message,
 * on_data_end) always concern the newest transaction. At most one complete transaction
 * waits for its reply: if another would have to wait, the older ends SMTP_TX_UNKNOWN first.
 * A transaction ended by RSET, QUIT, EHLO/HELO, a new MAIL or the close before its message
 * was complete ends SMTP_TX_ABORTED; replies to its commands that arrive later are consumed.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "slice.h"
#include "smtp_ext.h"

#define SMTP_LINE_MAX 2048        /* command and reply lines kept; longer ones are cut */
#define SMTP_PENDING_MAX 64       /* pipelined commands awaiting a reply */
#define SMTP_AUTH_MECH_MAX 32     /* SASL mechanism name kept (RFC 4422: at most 20) */

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
	SMTP_CMD_BDAT_LAST, /* BDAT n LAST: its reply decides delivery */
};

enum smtp_tx_end {
	SMTP_TX_DELIVERED = 0, /* 2xx to the end of data */
	SMTP_TX_REJECTED,      /* 4xx/5xx to MAIL, DATA, a BDAT chunk or the end of data */
	SMTP_TX_ABORTED,       /* RSET, QUIT, EHLO, new MAIL or close before a complete message */
	SMTP_TX_UNKNOWN,       /* message complete, its reply never seen (close, gap, displaced) */
};

/* Things worth counting that the hooks may also turn into events. Append only. */
enum smtp_anomaly {
	SMTP_AN_LINE_TOO_LONG,
	SMTP_AN_BARE_LF,
	SMTP_AN_UNKNOWN_COMMAND,
	SMTP_AN_BAD_REPLY,
	SMTP_AN_REPLY_WITHOUT_COMMAND,
	SMTP_AN_PIPELINE_OVERFLOW,
	SMTP_AN_GAP,                /* bytes of the stream were lost; the parser resynchronised */
	SMTP_AN_STARTTLS_INJECTION, /* bytes sent after STARTTLS before its reply (CVE-2011-0411) */
	SMTP_AN_BDAT_REJECTED,      /* a 4xx/5xx reply failed a BDAT transaction (RFC 3030) */
	SMTP_AN_BAD_MAIL_PARAM,     /* MAIL FROM with a malformed SIZE, BODY or SMTPUTF8 */
	SMTP_AN_AUTH_FAILED,        /* final 5xx reply to AUTH */
	SMTP_AN_BAD_COMMAND,        /* MAIL/RCPT/BDAT that cannot be followed (arguments, place) */
	SMTP_AN__COUNT
};

enum smtp_body {
	SMTP_BODY_NONE = 0,       /* no BODY= parameter */
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME,
	SMTP_BODY_OTHER,          /* a value RFC 6152/3030 do not define (params->bad is set) */
};

/* The MAIL FROM parameters Postern looks at (RFC 1870, 6152, 3030, 6531); others ignored. */
struct smtp_mail_params {
	uint64_t size;          /* SIZE=n, valid when has_size */
	uint8_t body;           /* enum smtp_body */
	bool has_size;
	bool smtputf8;          /* SMTPUTF8 keyword */
	bool bad;               /* a parameter was malformed (SIZE=abc, BODY=nonsense); the */
				/* rest still read */
};

struct smtp_hooks {
	void (*on_helo)(void *ctx, struct slice name); /* HELO or EHLO argument */
	/* final reply to EHLO/HELO; extensions = mask of (1u << enum smtp_ext) offered by a 2xx
	 * EHLO reply (0 for HELO or refusal) */
	void (*on_ehlo_reply)(void *ctx, uint16_t code, uint32_t extensions);
	/* final (non-334) reply to AUTH; mechanism as the client sent it (the verb's first
	 * argument), never the initial response or any SASL line */
	void (*on_auth)(void *ctx, struct slice mechanism, uint16_t code);
	void (*on_tx_begin)(void *ctx, uint32_t tx_seq);
	void (*on_mail_from)(void *ctx, struct slice addr, const struct smtp_mail_params *params);
	void (*on_rcpt)(void *ctx, uint32_t idx, struct slice addr);
	void (*on_rcpt_reply)(void *ctx, uint32_t tx_seq, uint32_t idx, uint16_t code);
	void (*on_data_begin)(void *ctx);
	/* message bytes: dot-unstuffed (DATA) or chunk bytes (BDAT), line endings as sent */
	void (*on_message)(void *ctx, struct slice chunk);
	/* message complete: "." or the LAST chunk's bytes */
	void (*on_data_end)(void *ctx);
	void (*on_tx_end)(void *ctx, uint32_t tx_seq, enum smtp_tx_end how, uint16_t code);
	void (*on_starttls)(void *ctx); /* 220 to STARTTLS: the session is opaque from now on */
	void (*on_anomaly)(void *ctx, enum smtp_anomaly what);
};

struct smtp_session; /* defined at the end of this header */

/* Prepare a session; hooks and ctx are borrowed for the session's life. Transactions are
 * numbered from 1 in each session. */
void smtp_session_init(struct smtp_session *s, const struct smtp_hooks *hooks, void *ctx);

/*
 * Feed bytes of one direction (to_server: the client's commands and message; otherwise the
 * server's replies). Any split is allowed; the result for a byte stream never depends on
 * how it was cut. Returns the worst status met in these bytes (SMTP_OK if none).
 */
enum smtp_status smtp_session_feed(struct smtp_session *s, bool to_server, const uint8_t *data,
				   size_t len);

/*
 * The connection ended (FIN/RST/eviction/end of capture): ends the transactions still open,
 * the waiting one first (UNKNOWN if the message was complete but not answered, ABORTED
 * otherwise). The session may be re-initialised afterwards.
 */
void smtp_session_close(struct smtp_session *s);

/*
 * `len` bytes of one direction were lost (a hole the reassembler gave up on). The parser
 * drops what it was in the middle of and resynchronises: client lines are skipped until one
 * is plainly a command, server replies are read from the next line; a DATA message keeps its
 * transaction and looks for its end (its content has a hole, reported as SMTP_AN_GAP); a
 * BDAT chunk counts the lost bytes against its size. Server replies lost with the hole cannot
 * be paired any more: the commands awaiting them are forgotten, a complete message whose
 * reply was among them ends UNKNOWN at once, and other transactions end as later replies
 * decide.
 */
void smtp_session_gap(struct smtp_session *s, bool to_server, uint64_t len);

/*
 * The session is being picked up mid-stream (no handshake seen): client lines are skipped
 * until one is plainly a command (verb and arguments of its shape), server replies are not
 * paired until a command awaits one, and no greeting is expected.
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
	bool in_tx;             /* transaction tx_seq is open */
	bool hunting;           /* picked up mid-stream: waiting for a line that is a command */
	bool msg_open;          /* on_data_begin called, on_data_end not yet */
	bool message_complete;  /* "." or BDAT LAST seen; the reply decides delivery */
	bool auth_cont;         /* a 334 asked the client for an AUTH continuation line */
	bool bdat_last;
	bool bdat_discard;      /* chunks of a failed BDAT transaction: consumed, not reported */
	bool msg_bare_lf;       /* SMTP_AN_BARE_LF already counted for this message */
	bool starttls_wait;     /* STARTTLS sent, its reply not seen */
	bool starttls_injected; /* SMTP_AN_STARTTLS_INJECTION reported */
	uint8_t auth_mech_len;
	uint8_t auth_mech[SMTP_AUTH_MECH_MAX]; /* mechanism of the last AUTH, for its reply */
	uint32_t tx_seq;        /* the newest transaction (open when in_tx) */
	uint32_t wait_seq;      /* a complete transaction awaiting its reply, 0 if none */
	uint32_t n_rcpt;
	uint64_t bdat_remaining;
	struct smtp_line cmd;
	/* server side */
	struct smtp_line reply;
	bool greeted;           /* the first reply (the greeting) was seen */
	uint16_t reply_lines;   /* lines of the current multi-line reply read so far */
	uint32_t ehlo_mask;     /* extensions named by the current reply's lines */
	/* commands awaiting a reply, in order (PIPELINING) */
	uint8_t pending_head;
	uint8_t pending_count;
	struct {
		uint8_t cmd;        /* enum smtp_cmd */
		uint32_t rcpt_idx;
		uint32_t tx_seq;    /* the transaction the command belonged to, 0 for none */
	} pending[SMTP_PENDING_MAX];
	uint64_t n_anomalies[SMTP_AN__COUNT];
};
