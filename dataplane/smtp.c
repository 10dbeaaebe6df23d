/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMTP session follower (see smtp.h for the contract). Client bytes go through the command
 * line reader (CS_CMD), or in a message the end-of-data/dot-unstuffing matcher (CS_DATA) or
 * the BDAT chunk counter (CS_BDAT); message bytes leave through on_message untouched
 * otherwise. Server bytes go through the reply line reader, whose final lines pop the FIFO of
 * pending commands and decide what the server accepted. Each reader is a resumable state
 * machine whose whole state lives in struct smtp_session. It does not parse the message,
 * scan or allocate; it keeps one command line, one reply line and one SASL mechanism name.
 * One session belongs to one worker lcore.
 *
 * Choices worth knowing (the unit tests pin each one):
 * - A line ends at LF; a CR before it is dropped from command and reply lines; a bare LF is
 *   accepted everywhere (as Postfix does by default) and counted: per line on commands and
 *   replies, once per message in DATA. In DATA, ".\n" and ".\r\n" both end the message and
 *   every line ending before it, CRLF or bare LF, is message data.
 * - Dot-unstuffing follows RFC 5321 4.5.2: the first "." of any line other than the end line is
 *   removed ("..x" -> ".x", ".x" -> "x"). The CRLF ending the last line before "." belongs to
 *   that line (RFC 5321 4.1.1.4: it is the message's, the terminator is ".CRLF"), so
 *   on_message gets the message byte for byte as the server stores it; in BDAT every byte is
 *   message data.
 * - EHLO/HELO, RSET and QUIT end an open transaction ABORTED (RFC 5321 4.1.4: EHLO resets
 *   the state), except a transaction whose message is complete: its reply still decides.
 *   A new MAIL, DATA, BDAT or RCPT while a complete message awaits its reply (pipelined after
 *   the "." or BDAT LAST) parks that transaction in wait_seq: pending replies carry their
 *   transaction's number, so its reply is still paired. One parked transaction at a time:
 *   a second one displaces the first, which ends UNKNOWN (see smtp.h).
 * - A 4xx/5xx reply to MAIL ends its transaction REJECTED, as a refused DATA or BDAT chunk
 *   does. RCPT, DATA or BDAT outside a transaction (a capture that missed MAIL) opens one,
 *   so hooks always come between on_tx_begin and on_tx_end, message hooks between
 *   on_data_begin and on_data_end (or on_tx_end). Commands that cannot be followed (MAIL
 *   without "FROM:", BDAT without a valid size, RCPT between BDAT chunks) call no hook but
 *   on_anomaly and return SMTP_INVALID; their replies are paired and change nothing.
 * - A DATA refused after its transaction ended (MAIL refused, pipelined) still leaves message
 *   mode; a refusal of the DATA of an older transaction does not touch a newer one.
 * - BDAT chunk bytes are always consumed as counted, whatever the server replies: the reply
 *   comes after the chunk on the wire, and the client has sent it in full (RFC 3030 2). After
 *   a refused chunk the transaction has failed; the chunks the client had already pipelined
 *   behind it are consumed with no hook up to BDAT LAST (RFC 3030 3: the server discards
 *   them), unless MAIL, RSET, EHLO/HELO, QUIT or DATA comes first.
 * - AUTH: only the mechanism (the first argument) is kept, for on_auth. The initial response
 *   and the SASL lines that answer 334 are never handed to a hook, and each client line is
 *   wiped from the line buffer once read, so no credential outlives its line.
 * - STARTTLS: any client byte read after the STARTTLS line and before its reply is the command
 *   injection of CVE-2011-0411 (a client must wait for 220 to start TLS); it is reported once
 *   per session, and the bytes are still read as commands (if the server refuses STARTTLS they
 *   are commands; if it accepts, the session turns opaque at the 220 anyway).
 */
#include <string.h>

#include "ascii.h"
#include "smtp.h"

_Static_assert(SMTP_EXT__COUNT <= 32, "the EHLO extension mask is a uint32_t");

enum client_state {
	CS_CMD = 0,
	CS_DATA,        /* DATA message: end-of-data matcher */
	CS_BDAT,        /* inside a BDAT chunk: bdat_remaining raw bytes */
};

/*
 * The end-of-data matcher withholds the last bytes it read until it knows what they are: a CR
 * mid-line, the line ending at the start of a line (always data, even before the end line, but
 * released with what follows), then the dot, then the CR after it. Withheld bytes are always
 * the last bytes consumed, so when they turn out to be data they are passed from the input if
 * this feed holds them, else rebuilt.
 */
enum dot_state {
	DOT_BOL = 0,    /* at the start of a line; dot_eol withheld */
	DOT_MID,        /* inside a line, nothing withheld */
	DOT_CR,         /* CR inside a line withheld */
	DOT_DOT,        /* dot_eol + "." withheld */
	DOT_DOT_CR,     /* dot_eol + ".\r" withheld */
};

enum dot_eol {
	EOL_NONE = 0,   /* start of the message: no line ending before the first line */
	EOL_LF,
	EOL_CRLF,
};

static const struct smtp_hooks no_hooks;

#define HOOK(s, name, ...)                                                                    \
	do {                                                                                  \
		if ((s)->hooks->name != NULL)                                                 \
			(s)->hooks->name(__VA_ARGS__);                                        \
	} while (0)

static void
set_status(struct smtp_session *s, enum smtp_status st)
{
	if (st > s->worst)
		s->worst = (uint8_t)st;
}

static void
anomaly(struct smtp_session *s, enum smtp_anomaly what)
{
	s->n_anomalies[what]++;
	HOOK(s, on_anomaly, s->ctx, what);
}

/* A command that cannot be followed: counted, and the line is skipped. */
static void
bad_command(struct smtp_session *s)
{
	set_status(s, SMTP_INVALID);
	anomaly(s, SMTP_AN_BAD_COMMAND);
}

/* ---- transactions and pending commands ---- */

/* Ends the current transaction (the newest, tx_seq), if open. */
static void
tx_end(struct smtp_session *s, enum smtp_tx_end how, uint16_t code)
{
	if (!s->in_tx)
		return;
	s->in_tx = false;
	s->msg_open = false;
	s->message_complete = false;
	s->n_rcpt = 0;
	HOOK(s, on_tx_end, s->ctx, s->tx_seq, how, code);
}

/* Ends the parked transaction, if any. */
static void
tx_end_waiting(struct smtp_session *s, enum smtp_tx_end how, uint16_t code)
{
	uint32_t seq = s->wait_seq;

	if (seq == 0)
		return;
	s->wait_seq = 0;
	HOOK(s, on_tx_end, s->ctx, seq, how, code);
}

/* Is transaction seq still open (current or parked), so that its replies are reported? */
static bool
tx_is_live(const struct smtp_session *s, uint32_t seq)
{
	return seq != 0 && (seq == s->wait_seq || (s->in_tx && seq == s->tx_seq));
}

/* Ends transaction seq, current or parked; a transaction already ended is left alone. */
static void
tx_end_seq(struct smtp_session *s, uint32_t seq, enum smtp_tx_end how, uint16_t code)
{
	if (seq == 0)
		return;
	if (seq == s->wait_seq)
		tx_end_waiting(s, how, code);
	else if (s->in_tx && seq == s->tx_seq)
		tx_end(s, how, code);
}

/*
 * A new transaction starts. The current one ends ABORTED, or, if its message is complete
 * (pipelined after "." or BDAT LAST), is parked to wait for its reply; the one parked before
 * it can wait no longer and ends UNKNOWN.
 */
static void
tx_begin(struct smtp_session *s)
{
	if (s->in_tx && s->message_complete) {
		tx_end_waiting(s, SMTP_TX_UNKNOWN, 0);
		s->wait_seq = s->tx_seq;
		s->in_tx = false;
	} else {
		tx_end(s, SMTP_TX_ABORTED, 0);
	}
	s->in_tx = true;
	s->msg_open = false;
	s->message_complete = false;
	s->bdat_discard = false;
	s->n_rcpt = 0;
	/* 0 marks a pending command that belongs to no transaction */
	if (++s->tx_seq == 0)
		s->tx_seq = 1;
	HOOK(s, on_tx_begin, s->ctx, s->tx_seq);
}

/* Before a command that belongs in a transaction: open one unless one is open for it. */
static void
tx_ensure(struct smtp_session *s)
{
	if (!s->in_tx || s->message_complete)
		tx_begin(s);
}

/* RSET, QUIT, EHLO/HELO: abort, unless the message is complete and its reply decides. */
static void
tx_reset(struct smtp_session *s)
{
	s->bdat_discard = false;
	if (s->in_tx && !s->message_complete)
		tx_end(s, SMTP_TX_ABORTED, 0);
}

static void
pending_push_tx(struct smtp_session *s, enum smtp_cmd cmd, uint32_t rcpt_idx, uint32_t tx_seq)
{
	unsigned int slot;

	if (s->pending_count == SMTP_PENDING_MAX) {
		/* Pairing is off either way; keep the newest, the current transaction's. */
		if (s->pending[s->pending_head].cmd == SMTP_CMD_STARTTLS)
			s->starttls_wait = false;
		s->pending_head = (uint8_t)((s->pending_head + 1) % SMTP_PENDING_MAX);
		s->pending_count--;
		anomaly(s, SMTP_AN_PIPELINE_OVERFLOW);
	}
	slot = (s->pending_head + s->pending_count) % SMTP_PENDING_MAX;
	s->pending[slot].cmd = (uint8_t)cmd;
	s->pending[slot].rcpt_idx = rcpt_idx;
	s->pending[slot].tx_seq = tx_seq;
	s->pending_count++;
}

/* A command of the current transaction, if one is open. */
static void
pending_push(struct smtp_session *s, enum smtp_cmd cmd, uint32_t rcpt_idx)
{
	pending_push_tx(s, cmd, rcpt_idx, s->in_tx ? s->tx_seq : 0);
}

/* ---- the message ---- */

static void
msg_out(struct smtp_session *s, const uint8_t *p, size_t n)
{
	/* The transaction ended under the message (refused, reset): its bytes are dropped. */
	if (s->msg_open && n > 0)
		HOOK(s, on_message, s->ctx, slice_make(p, n));
}

static void
msg_begin(struct smtp_session *s)
{
	s->msg_open = true;
	s->msg_bare_lf = false;
	HOOK(s, on_data_begin, s->ctx);
}

static void
msg_end(struct smtp_session *s)
{
	if (!s->msg_open)
		return;
	s->msg_open = false;
	s->message_complete = true;
	HOOK(s, on_data_end, s->ctx);
}

/* ---- DATA: end-of-data matcher and dot-unstuffing ---- */

/* Contiguous output of the matcher, handed out in as few calls as possible. */
struct run {
	const uint8_t *ptr;
	size_t len;
};

static void
run_flush(struct smtp_session *s, struct run *r)
{
	if (r->len > 0)
		msg_out(s, r->ptr, r->len);
	r->len = 0;
}

static void
run_add(struct smtp_session *s, struct run *r, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (r->len > 0 && r->ptr + r->len == p) {
		r->len += n;
		return;
	}
	run_flush(s, r);
	r->ptr = p;
	r->len = n;
}

/*
 * Release withheld bytes as data: the k bytes that end `back` bytes before p[i] in the stream;
 * from the input when this feed holds them, else from `lit` (the same bytes).
 */
static void
run_withheld(struct smtp_session *s, struct run *r, const uint8_t *p, size_t i, size_t back,
	     const char *lit, size_t k)
{
	if (i >= back + k)
		run_add(s, r, p + i - back - k, k);
	else
		run_add(s, r, (const uint8_t *)lit, k);
}

static void
run_eol(struct smtp_session *s, struct run *r, const uint8_t *p, size_t i, size_t back)
{
	if (s->dot_eol == EOL_CRLF)
		run_withheld(s, r, p, i, back, "\r\n", 2);
	else if (s->dot_eol == EOL_LF)
		run_withheld(s, r, p, i, back, "\n", 1);
}

static void
data_bare_lf(struct smtp_session *s, struct run *r)
{
	if (!s->msg_bare_lf) {
		/* message bytes before it go out first, whatever the segment boundaries */
		run_flush(s, r);
		s->msg_bare_lf = true;
		anomaly(s, SMTP_AN_BARE_LF);
	}
}

static void
data_end(struct smtp_session *s, struct run *r)
{
	run_flush(s, r);
	s->client_state = CS_CMD;
	pending_push(s, SMTP_CMD_DATA_END, 0);
	msg_end(s);
}

/*
 * The message stops here (cut by the close or a hole): the withheld bytes that are data
 * whatever would have followed go out (a line ending, a CR), not a dot that might have been
 * the start of the end line or a stuffing dot.
 */
static void
data_release(struct smtp_session *s)
{
	struct run r = { NULL, 0 };

	/* bytes held back before the session turned opaque are not released after it */
	if (s->client_state != CS_DATA || s->opaque)
		return;
	if (s->dot_state == DOT_CR)
		run_add(s, &r, (const uint8_t *)"\r", 1);
	else if (s->dot_state != DOT_MID)
		run_eol(s, &r, NULL, 0, 0);
	run_flush(s, &r);
	s->dot_state = DOT_MID;
	s->dot_eol = EOL_NONE;
}

/* Returns how many bytes were consumed: all of them, or up to the end-of-data line. */
static size_t
data_feed(struct smtp_session *s, const uint8_t *p, size_t n)
{
	struct run r = { NULL, 0 };
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];

		switch (s->dot_state) {
		case DOT_MID: {
			/* the line's end: the first CR or LF, found with memchr (SIMD) */
			const uint8_t *lf = memchr(p + i, '\n', n - i);
			size_t lim = lf != NULL ? (size_t)(lf - p) : n;
			const uint8_t *cr = memchr(p + i, '\r', lim - i);
			size_t j = cr != NULL ? (size_t)(cr - p) : lim;

			run_add(s, &r, p + i, j - i);
			i = j;
			if (i < n) {
				if (p[i] == '\r') {
					s->dot_state = DOT_CR;
				} else {
					data_bare_lf(s, &r);
					s->dot_eol = EOL_LF;
					s->dot_state = DOT_BOL;
				}
				i++;
			}
			break;
		}
		case DOT_CR:
			if (c == '\n') {
				s->dot_eol = EOL_CRLF;
				s->dot_state = DOT_BOL;
				i++;
			} else {
				run_withheld(s, &r, p, i, 0, "\r", 1);
				s->dot_state = DOT_MID;
			}
			break;
		case DOT_BOL:
			if (c == '.') {
				s->dot_state = DOT_DOT;
				i++;
			} else {
				run_eol(s, &r, p, i, 0);
				s->dot_state = DOT_MID;
			}
			break;
		case DOT_DOT:
			if (c == '\r') {
				s->dot_state = DOT_DOT_CR;
				i++;
			} else if (c == '\n') {
				/* the last line's ending comes before this LF in the stream */
				run_eol(s, &r, p, i, 1);
				data_bare_lf(s, &r);
				data_end(s, &r);
				return i + 1;
			} else {
				/* not the end: the line's first dot is dropped */
				run_eol(s, &r, p, i, 1);
				s->dot_state = DOT_MID;
			}
			break;
		case DOT_DOT_CR:
			if (c == '\n') {
				run_eol(s, &r, p, i, 2);
				data_end(s, &r);
				return i + 1;
			}
			/* ".\rX": the dot goes; the CR, read last, is now a withheld mid-line CR */
			run_eol(s, &r, p, i, 2);
			s->dot_state = DOT_CR;
			break;
		default:
			s->dot_state = DOT_MID;
			break;
		}
	}
	run_flush(s, &r);
	return n;
}

/* ---- commands ---- */

static const struct {
	const char *verb;
	enum smtp_cmd cmd;
} verbs[] = {
	{ "HELO", SMTP_CMD_HELO },   { "EHLO", SMTP_CMD_EHLO },         { "MAIL", SMTP_CMD_MAIL },
	{ "RCPT", SMTP_CMD_RCPT },   { "DATA", SMTP_CMD_DATA },         { "BDAT", SMTP_CMD_BDAT },
	{ "RSET", SMTP_CMD_RSET },   { "NOOP", SMTP_CMD_NOOP },         { "QUIT", SMTP_CMD_QUIT },
	{ "AUTH", SMTP_CMD_AUTH },   { "STARTTLS", SMTP_CMD_STARTTLS }, { "VRFY", SMTP_CMD_VRFY },
	{ "EXPN", SMTP_CMD_EXPN },   { "HELP", SMTP_CMD_HELP },
	/* extensions real MTAs use: followed for pairing, not counted as unknown */
	{ "XCLIENT", SMTP_CMD_UNKNOWN }, { "XFORWARD", SMTP_CMD_UNKNOWN },
	{ "ETRN", SMTP_CMD_UNKNOWN },    { "ATRN", SMTP_CMD_UNKNOWN },
	{ "TURN", SMTP_CMD_UNKNOWN },    { "BURL", SMTP_CMD_UNKNOWN },
};

static bool
parse_verb(struct slice verb, enum smtp_cmd *cmd)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (slice_eq_nocase(verb, verbs[i].verb)) {
			*cmd = verbs[i].cmd;
			return true;
		}
	}
	return false;
}

static struct slice
skip_wsp(struct slice a)
{
	while (a.len > 0 && ascii_is_wsp(a.ptr[0])) {
		a.ptr++;
		a.len--;
	}
	return a;
}

/* The first word of a (up to whitespace); *rest is what follows it. */
static struct slice
first_word(struct slice a, struct slice *rest)
{
	size_t k = 0;

	while (k < a.len && !ascii_is_wsp(a.ptr[k]))
		k++;
	*rest = slice_make(a.ptr + k, a.len - k);
	return slice_make(a.ptr, k);
}

/* Split a command line into its verb and its arguments (leading whitespace skipped). */
static struct slice
split_verb(struct slice line, struct slice *args)
{
	struct slice verb = first_word(line, args);

	*args = skip_wsp(*args);
	return verb;
}

/*
 * "FROM:<addr> params" / "TO:<addr> params": the keyword (any case), then optional spaces,
 * ":", optional spaces, the address with or without brackets; *rest holds the parameters.
 */
static bool
parse_path(struct slice args, const char *kw, struct slice *addr, struct slice *rest)
{
	size_t kwlen = strlen(kw);

	if (!slice_starts_nocase(args, kw))
		return false;
	args.ptr += kwlen;
	args.len -= kwlen;
	args = skip_wsp(args);
	if (args.len == 0 || args.ptr[0] != ':')
		return false;
	args.ptr++;
	args.len--;
	args = skip_wsp(args);
	if (args.len > 0 && args.ptr[0] == '<') {
		const uint8_t *close = memchr(args.ptr, '>', args.len);

		args.ptr++;
		args.len--;
		if (close != NULL) {
			*addr = slice_make(args.ptr, (size_t)(close - args.ptr));
			*rest = slice_make(close + 1, args.len - addr->len - 1);
			return true;
		}
		/* unclosed: read as an address without brackets */
	}
	*addr = first_word(args, rest);
	return true;
}

/* Decimal digits only (no sign, no space), and a value that fits in 64 bits. */
static bool
parse_u64(struct slice a, uint64_t *v)
{
	uint64_t x = 0;

	if (a.len == 0)
		return false;
	for (size_t k = 0; k < a.len; k++) {
		uint64_t d = (uint64_t)(a.ptr[k] - '0');

		if (a.ptr[k] < '0' || a.ptr[k] > '9' || x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

/* "n" or "n LAST" (any case). */
static bool
parse_bdat(struct slice args, uint64_t *size, bool *last)
{
	struct slice rest, n = first_word(args, &rest);

	if (!parse_u64(n, size))
		return false;
	rest = slice_trim(rest);
	if (rest.len == 0)
		*last = false;
	else if (slice_eq_nocase(rest, "LAST"))
		*last = true;
	else
		return false;
	return true;
}

/*
 * MAIL FROM parameters (RFC 5321 4.1.2 esmtp-param: keyword["="value], separated by spaces):
 * SIZE (RFC 1870), BODY (RFC 6152, 3030), SMTPUTF8 (RFC 6531, no value); others are skipped.
 */
static void
parse_mail_params(struct slice rest, struct smtp_mail_params *mp)
{
	for (;;) {
		struct slice param, key, value = { NULL, 0 };
		const uint8_t *eq;

		rest = skip_wsp(rest);
		if (rest.len == 0)
			break;
		param = first_word(rest, &rest);
		key = param;
		eq = memchr(param.ptr, '=', param.len);
		if (eq != NULL) {
			key.len = (size_t)(eq - param.ptr);
			value = slice_make(eq + 1, param.len - key.len - 1);
		}
		if (slice_eq_nocase(key, "SIZE")) {
			mp->has_size = eq != NULL && parse_u64(value, &mp->size);
			if (!mp->has_size) {
				mp->size = 0;
				mp->bad = true;
			}
		} else if (slice_eq_nocase(key, "BODY")) {
			if (eq != NULL && slice_eq_nocase(value, "7BIT")) {
				mp->body = SMTP_BODY_7BIT;
			} else if (eq != NULL && slice_eq_nocase(value, "8BITMIME")) {
				mp->body = SMTP_BODY_8BITMIME;
			} else if (eq != NULL && slice_eq_nocase(value, "BINARYMIME")) {
				mp->body = SMTP_BODY_BINARYMIME;
			} else {
				mp->body = SMTP_BODY_OTHER;
				mp->bad = true;
			}
		} else if (slice_eq_nocase(key, "SMTPUTF8")) {
			/* claimed either way; a value is a syntax error the server will refuse */
			mp->smtputf8 = true;
			if (eq != NULL)
				mp->bad = true;
		}
	}
}

static void
cmd_mail(struct smtp_session *s, struct slice args)
{
	struct smtp_mail_params mp = { 0 };
	struct slice addr, rest;

	if (!parse_path(args, "FROM", &addr, &rest)) {
		/* The server will refuse it; pairing still needs the entry, with no transaction. */
		bad_command(s);
		pending_push_tx(s, SMTP_CMD_MAIL, 0, 0);
		return;
	}
	parse_mail_params(rest, &mp);
	tx_begin(s);
	HOOK(s, on_mail_from, s->ctx, addr, &mp);
	if (mp.bad)
		anomaly(s, SMTP_AN_BAD_MAIL_PARAM);
	pending_push(s, SMTP_CMD_MAIL, 0);
}

static void
cmd_rcpt(struct smtp_session *s, struct slice args)
{
	struct slice addr, rest;
	uint32_t idx;

	if (!parse_path(args, "TO", &addr, &rest) || s->msg_open || s->bdat_discard) {
		/* bad syntax, or between the chunks of a BDAT message: the server refuses it */
		bad_command(s);
		pending_push_tx(s, SMTP_CMD_RCPT, 0, 0);
		return;
	}
	tx_ensure(s);
	idx = s->n_rcpt++;
	HOOK(s, on_rcpt, s->ctx, idx, addr);
	pending_push(s, SMTP_CMD_RCPT, idx);
}

static void
bdat_chunk_done(struct smtp_session *s)
{
	s->client_state = CS_CMD;
	if (s->bdat_last) {
		s->bdat_discard = false;
		msg_end(s);
	}
}

static void
cmd_bdat(struct smtp_session *s, struct slice args)
{
	uint64_t size;
	bool last;

	if (!parse_bdat(args, &size, &last)) {
		/*
		 * Without a size the chunk cannot be followed: stay on commands (the server
		 * does too: RFC 3030 leaves it no other choice). Its refusal says nothing about
		 * the transaction.
		 */
		bad_command(s);
		pending_push_tx(s, SMTP_CMD_BDAT, 0, 0);
		return;
	}
	if (s->bdat_discard) {
		/* a chunk of a failed transaction, pipelined before the refusal: discarded */
		pending_push_tx(s, last ? SMTP_CMD_BDAT_LAST : SMTP_CMD_BDAT, 0, 0);
	} else {
		if (!s->msg_open) {
			tx_ensure(s);
			msg_begin(s);
		}
		pending_push(s, last ? SMTP_CMD_BDAT_LAST : SMTP_CMD_BDAT, 0);
	}
	s->bdat_remaining = size;
	s->bdat_last = last;
	s->client_state = CS_BDAT;
	if (size == 0)
		bdat_chunk_done(s);
}

static void
cmd_auth(struct smtp_session *s, struct slice args)
{
	struct slice rest, mech = first_word(args, &rest);

	/* only the mechanism is kept: what follows it is the initial response, a credential */
	if (mech.len > SMTP_AUTH_MECH_MAX)
		mech.len = SMTP_AUTH_MECH_MAX;
	memcpy(s->auth_mech, mech.ptr, mech.len);
	s->auth_mech_len = (uint8_t)mech.len;
	pending_push(s, SMTP_CMD_AUTH, 0);
}

/*
 * Is this line a command, strictly (what a pickup mid-stream, or after a hole, waits for)?
 * Message text can start with any word ("Data lines", "Help me"), so a verb alone is not
 * enough: its arguments must have the command's shape, and verbs that start nothing a
 * transaction needs (HELP, VRFY, EXPN, AUTH) are not trusted.
 */
static bool
is_command_line(struct slice line)
{
	struct slice args, verb = split_verb(line, &args);
	enum smtp_cmd cmd;
	uint64_t size;
	bool last;

	if (!parse_verb(verb, &cmd))
		return false;
	switch (cmd) {
	case SMTP_CMD_DATA:
	case SMTP_CMD_RSET:
	case SMTP_CMD_QUIT:
	case SMTP_CMD_NOOP:
	case SMTP_CMD_STARTTLS:
		return args.len == 0;
	case SMTP_CMD_MAIL:
		return slice_starts_nocase(args, "FROM:");
	case SMTP_CMD_RCPT:
		return slice_starts_nocase(args, "TO:");
	case SMTP_CMD_HELO:
	case SMTP_CMD_EHLO:
		return args.len > 0 && memchr(args.ptr, ' ', args.len) == NULL;
	case SMTP_CMD_BDAT:
		return parse_bdat(args, &size, &last);
	default:
		return false;
	}
}

static void
cmd_line(struct smtp_session *s, struct slice line)
{
	struct slice args, verb;
	enum smtp_cmd cmd;

	if (s->auth_cont) {
		/* a SASL response line answering 334, not a command: a credential, never shown */
		s->auth_cont = false;
		pending_push(s, SMTP_CMD_AUTH, 0);
		return;
	}
	verb = split_verb(line, &args);
	if (!parse_verb(verb, &cmd)) {
		anomaly(s, SMTP_AN_UNKNOWN_COMMAND);
		set_status(s, SMTP_INVALID);
		pending_push(s, SMTP_CMD_UNKNOWN, 0);
		return;
	}
	switch (cmd) {
	case SMTP_CMD_HELO:
	case SMTP_CMD_EHLO:
		tx_reset(s);
		HOOK(s, on_helo, s->ctx, slice_trim(args));
		pending_push(s, cmd, 0);
		break;
	case SMTP_CMD_MAIL:
		cmd_mail(s, args);
		break;
	case SMTP_CMD_RCPT:
		cmd_rcpt(s, args);
		break;
	case SMTP_CMD_DATA:
		/*
		 * Message mode at once, as Suricata does: a client may send the message only
		 * after 354, so nothing else comes before the reply; a refusal undoes it.
		 */
		s->bdat_discard = false;
		if (!s->msg_open) {
			tx_ensure(s);
			msg_begin(s);
		}
		pending_push(s, SMTP_CMD_DATA, 0);
		s->client_state = CS_DATA;
		s->dot_state = DOT_BOL;
		s->dot_eol = EOL_NONE;
		break;
	case SMTP_CMD_BDAT:
		cmd_bdat(s, args);
		break;
	case SMTP_CMD_AUTH:
		cmd_auth(s, args);
		break;
	case SMTP_CMD_STARTTLS:
		s->starttls_wait = true;
		pending_push(s, cmd, 0);
		break;
	case SMTP_CMD_RSET:
	case SMTP_CMD_QUIT:
		tx_reset(s);
		pending_push(s, cmd, 0);
		break;
	default:
		pending_push(s, cmd, 0);
		break;
	}
}

/*
 * Read one line into l. Returns the bytes consumed; *done when the LF was reached, with the
 * kept bytes (CR dropped) in l->buf. An over-long line is cut and the rest skipped to the LF.
 */
static size_t
line_take(struct smtp_session *s, struct smtp_line *l, const uint8_t *p, size_t n, bool *done)
{
	const uint8_t *lf = memchr(p, '\n', n);
	size_t take = lf != NULL ? (size_t)(lf - p) : n;
	size_t keep = take;

	*done = false;
	if (take > 0) {
		l->cr = p[take - 1] == '\r';
		if (keep > (size_t)(SMTP_LINE_MAX - l->len)) {
			keep = SMTP_LINE_MAX - l->len;
			if (!l->overflow) {
				l->overflow = true;
				anomaly(s, SMTP_AN_LINE_TOO_LONG);
			}
			set_status(s, SMTP_TOO_LONG);
		}
		memcpy(l->buf + l->len, p, keep);
		l->len = (uint16_t)(l->len + keep);
	}
	if (lf == NULL)
		return n;
	if (l->cr) {
		/* CRLF: drop the CR if it was kept (an over-long line lost it with the excess) */
		if (l->len > 0 && l->buf[l->len - 1] == '\r')
			l->len--;
	} else {
		anomaly(s, SMTP_AN_BARE_LF);
	}
	*done = true;
	return take + 1;
}

static void
line_reset(struct smtp_line *l)
{
	l->len = 0;
	l->overflow = false;
	l->cr = false;
}

/* ---- replies ---- */

static void
reply_final(struct smtp_session *s, uint16_t code, uint32_t extensions)
{
	unsigned int head;
	enum smtp_cmd cmd;
	uint32_t idx, seq;
	bool ok = code / 100 == 2;

	if (!s->greeted) {
		s->greeted = true;
		/* The greeting answers no command, even when an early talker sent one. */
		if (s->pending_count == 0 ||
		    (code == 220 && s->pending[s->pending_head].cmd != SMTP_CMD_STARTTLS))
			return;
	}
	if (s->pending_count == 0) {
		anomaly(s, SMTP_AN_REPLY_WITHOUT_COMMAND);
		return;
	}
	head = s->pending_head;
	cmd = s->pending[head].cmd;
	idx = s->pending[head].rcpt_idx;
	seq = s->pending[head].tx_seq;
	s->pending_head = (uint8_t)((head + 1) % SMTP_PENDING_MAX);
	s->pending_count--;

	switch (cmd) {
	case SMTP_CMD_HELO:
	case SMTP_CMD_EHLO:
		HOOK(s, on_ehlo_reply, s->ctx, code, cmd == SMTP_CMD_EHLO && ok ? extensions : 0);
		break;
	case SMTP_CMD_MAIL:
		if (!ok)
			tx_end_seq(s, seq, SMTP_TX_REJECTED, code);
		break;
	case SMTP_CMD_RCPT:
		if (tx_is_live(s, seq))
			HOOK(s, on_rcpt_reply, s->ctx, seq, idx, code);
		break;
	case SMTP_CMD_DATA:
		if (code == 354)
			break;
		/*
		 * Leave message mode if this DATA started it, even when its transaction already
		 * ended (MAIL refused); a DATA of an older transaction must not end a newer
		 * transaction's message.
		 */
		if (seq == s->tx_seq && s->client_state == CS_DATA) {
			s->client_state = CS_CMD;
			line_reset(&s->cmd);
		}
		tx_end_seq(s, seq, SMTP_TX_REJECTED, code);
		break;
	case SMTP_CMD_BDAT:
	case SMTP_CMD_BDAT_LAST:
		if (!tx_is_live(s, seq))
			break;
		if (ok) {
			if (cmd == SMTP_CMD_BDAT_LAST)
				tx_end_seq(s, seq, SMTP_TX_DELIVERED, code);
			break;
		}
		/* RFC 3030 2: after a refused chunk the transaction has failed */
		if (s->in_tx && seq == s->tx_seq && s->msg_open)
			s->bdat_discard = true;
		anomaly(s, SMTP_AN_BDAT_REJECTED);
		tx_end_seq(s, seq, SMTP_TX_REJECTED, code);
		break;
	case SMTP_CMD_DATA_END:
		tx_end_seq(s, seq, ok ? SMTP_TX_DELIVERED : SMTP_TX_REJECTED, code);
		break;
	case SMTP_CMD_AUTH:
		if (code == 334) {
			s->auth_cont = true;
			break;
		}
		HOOK(s, on_auth, s->ctx, slice_make(s->auth_mech, s->auth_mech_len), code);
		if (code / 100 == 5)
			anomaly(s, SMTP_AN_AUTH_FAILED);
		break;
	case SMTP_CMD_STARTTLS:
		s->starttls_wait = false;
		if (code == 220) {
			s->opaque = true;
			HOOK(s, on_starttls, s->ctx);
		}
		break;
	default:
		break;
	}
}

static void
reply_line(struct smtp_session *s, struct slice line)
{
	uint16_t code;
	uint32_t extensions;

	if (line.len < 3 || line.ptr[0] < '1' || line.ptr[0] > '5' || line.ptr[1] < '0' ||
	    line.ptr[1] > '9' || line.ptr[2] < '0' || line.ptr[2] > '9' ||
	    (line.len > 3 && line.ptr[3] != ' ' && line.ptr[3] != '-')) {
		anomaly(s, SMTP_AN_BAD_REPLY);
		set_status(s, SMTP_INVALID);
		return;
	}
	/*
	 * Every line but the first names an EHLO extension (RFC 5321 4.1.1.1: the first is the
	 * server's domain). Collected for any reply; only a 2xx reply to EHLO reports them.
	 */
	if (s->reply_lines > 0 && line.len > 4) {
		struct slice rest, kw = first_word(skip_wsp(slice_make(line.ptr + 4, line.len - 4)),
						   &rest);

		if (kw.len > 0)
			s->ehlo_mask |= 1u << smtp_ext_from_keyword(kw.ptr, kw.len);
	}
	if (line.len > 3 && line.ptr[3] == '-') {
		/* continuation: the final line carries the code that counts */
		if (s->reply_lines < UINT16_MAX)
			s->reply_lines++;
		return;
	}
	code = (uint16_t)((line.ptr[0] - '0') * 100 + (line.ptr[1] - '0') * 10 +
			  (line.ptr[2] - '0'));
	extensions = s->ehlo_mask;
	s->reply_lines = 0;
	s->ehlo_mask = 0;
	reply_final(s, code, extensions);
}

/* ---- API ---- */

void
smtp_session_init(struct smtp_session *s, const struct smtp_hooks *hooks, void *ctx)
{
	/* Only the small fields: the line buffers are read only up to their lengths. */
	s->hooks = hooks != NULL ? hooks : &no_hooks;
	s->ctx = ctx;
	s->worst = SMTP_OK;
	s->opaque = false;
	s->closed = false;
	s->client_state = CS_CMD;
	s->dot_state = DOT_BOL;
	s->dot_eol = EOL_NONE;
	s->in_tx = false;
	s->hunting = false;
	s->msg_open = false;
	s->message_complete = false;
	s->auth_cont = false;
	s->bdat_last = false;
	s->bdat_discard = false;
	s->msg_bare_lf = false;
	s->starttls_wait = false;
	s->starttls_injected = false;
	s->auth_mech_len = 0;
	s->tx_seq = 0;
	s->wait_seq = 0;
	s->n_rcpt = 0;
	s->bdat_remaining = 0;
	line_reset(&s->cmd);
	line_reset(&s->reply);
	s->greeted = false;
	s->reply_lines = 0;
	s->ehlo_mask = 0;
	s->pending_head = 0;
	s->pending_count = 0;
	memset(s->n_anomalies, 0, sizeof(s->n_anomalies));
}

static void
client_feed(struct smtp_session *s, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && !s->opaque) {
		if (s->starttls_wait && !s->starttls_injected) {
			s->starttls_injected = true;
			anomaly(s, SMTP_AN_STARTTLS_INJECTION);
		}
		switch (s->client_state) {
		case CS_DATA:
			i += data_feed(s, p + i, n - i);
			break;
		case CS_BDAT: {
			size_t take = n - i;

			if (s->bdat_remaining < take)
				take = (size_t)s->bdat_remaining;
			msg_out(s, p + i, take);
			s->bdat_remaining -= take;
			i += take;
			if (s->bdat_remaining == 0)
				bdat_chunk_done(s);
			break;
		}
		default: {
			bool done;

			i += line_take(s, &s->cmd, p + i, n - i, &done);
			if (done) {
				struct slice line = slice_make(s->cmd.buf, s->cmd.len);

				if (!s->hunting || is_command_line(line)) {
					s->hunting = false;
					cmd_line(s, line);
				}
				/* AUTH lines and SASL responses hold credentials: wiped */
				memset(s->cmd.buf, 0, line.len);
				line_reset(&s->cmd);
			}
			break;
		}
		}
	}
}

static void
server_feed(struct smtp_session *s, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && !s->opaque) {
		bool done;

		i += line_take(s, &s->reply, p + i, n - i, &done);
		if (done) {
			struct slice line = slice_make(s->reply.buf, s->reply.len);

			line_reset(&s->reply);
			/* Picked up mid-stream, replies answer commands we never saw. */
			if (!(s->hunting && s->pending_count == 0))
				reply_line(s, line);
		}
	}
}

enum smtp_status
smtp_session_feed(struct smtp_session *s, bool to_server, const uint8_t *data, size_t len)
{
	if (s->opaque || s->closed || data == NULL || len == 0)
		return SMTP_OK;
	s->worst = SMTP_OK;
	if (to_server)
		client_feed(s, data, len);
	else
		server_feed(s, data, len);
	return (enum smtp_status)s->worst;
}

void
smtp_session_close(struct smtp_session *s)
{
	if (s->closed)
		return;
	s->closed = true;
	data_release(s);
	tx_end_waiting(s, SMTP_TX_UNKNOWN, 0);
	if (s->in_tx)
		tx_end(s, s->message_complete ? SMTP_TX_UNKNOWN : SMTP_TX_ABORTED, 0);
}

void
smtp_session_gap(struct smtp_session *s, bool to_server, uint64_t len)
{
	if (s->opaque || s->closed || len == 0)
		return;
	if (to_server)
		data_release(s); /* the message bytes before the hole come before its report */
	anomaly(s, SMTP_AN_GAP);
	if (!to_server) {
		/*
		 * The replies in the hole answered the oldest pending commands: which, we cannot
		 * tell, so none is paired any more, and a complete message whose reply was
		 * awaited can never be decided. What follows the hole is read as it comes: a cut
		 * line is no valid reply and is counted as such.
		 */
		line_reset(&s->reply);
		s->reply_lines = 0;
		s->ehlo_mask = 0;
		s->pending_count = 0;
		s->greeted = true;
		s->starttls_wait = false;
		tx_end_waiting(s, SMTP_TX_UNKNOWN, 0);
		if (s->in_tx && s->message_complete)
			tx_end(s, SMTP_TX_UNKNOWN, 0);
		return;
	}
	/* a SASL response the hole may have held is over: what follows is a command or nothing */
	s->auth_cont = false;
	switch (s->client_state) {
	case CS_DATA:
		/* Still inside the message: the end-of-data matcher restarts mid-line (above). */
		return;
	case CS_BDAT: {
		uint64_t in_chunk = len < s->bdat_remaining ? len : s->bdat_remaining;

		s->bdat_remaining -= in_chunk;
		if (s->bdat_remaining > 0)
			return;
		bdat_chunk_done(s);
		if (len == in_chunk)
			return; /* the hole ended with the chunk: the next byte starts a command */
		break;
	}
	default:
		break;
	}
	/* The hole may have ended mid-line or at a line's end: wait for a line that is a command */
	memset(s->cmd.buf, 0, s->cmd.len);
	line_reset(&s->cmd);
	s->hunting = true;
}

void
smtp_session_midstream(struct smtp_session *s)
{
	s->hunting = true;
	s->greeted = true;
}

bool
smtp_session_is_opaque(const struct smtp_session *s)
{
	return s->opaque;
}
