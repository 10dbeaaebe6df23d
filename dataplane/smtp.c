/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMTP session follower (see smtp.h for the contract). Client bytes go through two
 * layers, each a resumable state machine whose whole state lives in struct smtp_session:
 *   1. the command line reader (CS_CMD), or in a message the end-of-data/dot-unstuffing
 *      matcher (CS_DATA) or the BDAT chunk counter (CS_BDAT);
 *   2. the message layer (msg_*), fed the unstuffed message bytes: header block with
 *      unfolding, then body pass-through.
 * Server bytes go through the reply line reader, whose final lines pop the FIFO of pending
 * commands and decide what the server accepted. It does not decode MIME, scan or allocate;
 * it keeps only one command line, one reply line and one header. One session belongs to one
 * worker lcore.
 *
 * Choices worth knowing (the unit tests pin each one):
 * - A line ends at LF; a CR before it is dropped from command and reply lines; a bare LF is
 *   accepted everywhere (as Postfix does by default) and counted: per line on commands and
 *   replies, once per message in DATA. In DATA, ".\n" and ".\r\n" both end the message and
 *   every line ending before it, CRLF or bare LF, is message data.
 * - Dot-unstuffing follows RFC 5321 4.5.2: the first "." of any line other than the end line is
 *   removed ("..x" -> ".x", ".x" -> "x"). The CRLF ending the last line before "." belongs to
 *   that line (RFC 5321 4.1.1.4: it is the message's, the terminator is ".CRLF"), so
 *   on_body gets the message byte for byte as the server stores it; in BDAT every byte is
 *   message data.
 * - Header unfolding follows RFC 5322 2.2.3: the CRLF of a fold is removed and the folding
 *   whitespace is kept as it was ("a\r\n\tb" -> "a\tb"). The value is trimmed of leading and
 *   trailing SP/HTAB. A line that cannot be a header (no "name:" at its start, including a
 *   first line starting with whitespace) ends the header block and starts the body, as a
 *   missing blank line would (Python's email and Postfix's cleanup do the same).
 * - EHLO/HELO, RSET and QUIT end an open transaction ABORTED (RFC 5321 4.1.4: EHLO resets
 *   the state), except a transaction whose message is complete: its reply still decides.
 *   A new MAIL, DATA, BDAT or RCPT while a complete message awaits its reply (pipelined after
 *   the ".") ends that transaction UNKNOWN: the hooks carry no transaction id, so its reply
 *   can no longer be reported; replies for a transaction that has ended are not reported.
 * - A 4xx/5xx reply to MAIL ends its transaction REJECTED, as a refused DATA or BDAT chunk
 *   does. RCPT, DATA or BDAT outside a transaction (a capture that missed MAIL) opens one,
 *   so hooks always come between on_tx_begin and on_tx_end, message hooks between
 *   on_data_begin and on_data_end (or on_tx_end). Commands that cannot be followed (MAIL
 *   without "FROM:", BDAT without a valid size, RCPT between BDAT chunks) call no hook and
 *   return SMTP_INVALID; their replies are paired and change nothing.
 * - A DATA refused after its transaction ended (MAIL refused, pipelined) still leaves message
 *   mode; a refusal of the DATA of an older transaction does not touch a newer one.
 */
#include <string.h>

#include "smtp.h"

enum client_state {
	CS_CMD = 0,
	CS_DATA,        /* DATA message: end-of-data matcher, then message layer */
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

enum msg_state {
	MSG_H_BOL = 0,  /* start of a header line: a fold, a new field or the blank line */
	MSG_H_NAME,
	MSG_H_NAME_WSP, /* whitespace after the name (obsolete syntax), only ':' may follow */
	MSG_H_VALUE,
	MSG_H_VALUE_CR,
	MSG_H_EMPTY_CR, /* CR at the start of a header line: the blank line, probably */
	MSG_BODY,
};

static const struct smtp_hooks no_hooks;

#define HOOK(s, name, ...)                                                                    \
	do {                                                                                  \
		if ((s)->hooks->name != NULL)                                                 \
			(s)->hooks->name(__VA_ARGS__);                                        \
	} while (0)

static inline bool
is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

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

/* ---- transactions and pending commands ---- */

static void
tx_end(struct smtp_session *s, enum smtp_tx_end how, uint16_t code)
{
	if (!s->in_tx)
		return;
	s->in_tx = false;
	s->msg_open = false;
	s->message_complete = false;
	s->n_rcpt = 0;
	HOOK(s, on_tx_end, s->ctx, how, code);
}

static void
tx_begin(struct smtp_session *s)
{
	s->in_tx = true;
	s->msg_open = false;
	s->message_complete = false;
	s->n_rcpt = 0;
	/* 0 marks a pending command that belongs to no transaction */
	if (++s->tx_seq == 0)
		s->tx_seq = 1;
	HOOK(s, on_tx_begin, s->ctx);
}

/*
 * Before a command that belongs in a transaction: a complete message pipelined ahead of it
 * ends UNKNOWN (see the file comment); with no transaction, one is opened.
 */
static void
tx_ensure(struct smtp_session *s)
{
	if (s->in_tx && s->message_complete)
		tx_end(s, SMTP_TX_UNKNOWN, 0);
	if (!s->in_tx)
		tx_begin(s);
}

/* RSET, QUIT, EHLO/HELO: abort, unless the message is complete and its reply decides. */
static void
tx_reset(struct smtp_session *s)
{
	if (s->in_tx && !s->message_complete)
		tx_end(s, SMTP_TX_ABORTED, 0);
}

static void
pending_push_tx(struct smtp_session *s, enum smtp_cmd cmd, uint32_t rcpt_idx, uint32_t tx_seq)
{
	unsigned int slot;

	if (s->pending_count == SMTP_PENDING_MAX) {
		/* Pairing is off either way; keep the newest, the current transaction's. */
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

static void
pending_push(struct smtp_session *s, enum smtp_cmd cmd, uint32_t rcpt_idx)
{
	pending_push_tx(s, cmd, rcpt_idx, s->tx_seq);
}

/* ---- message layer: header block, then body ---- */

static void
hdr_emit(struct smtp_session *s)
{
	struct slice name, value;
	const uint8_t *colon;

	if (s->hdr_len == 0)
		return;
	colon = memchr(s->hdr_buf, ':', s->hdr_len);
	if (colon != NULL) {
		name = slice_make(s->hdr_buf, (size_t)(colon - s->hdr_buf));
		value = slice_make(colon + 1, s->hdr_len - name.len - 1);
		while (name.len > 0 && is_wsp(name.ptr[name.len - 1]))
			name.len--;
		while (value.len > 0 && is_wsp(value.ptr[0])) {
			value.ptr++;
			value.len--;
		}
		while (value.len > 0 && is_wsp(value.ptr[value.len - 1]))
			value.len--;
		HOOK(s, on_header, s->ctx, name, value);
	}
	s->hdr_len = 0;
	s->hdr_overflow = false;
}

static void
hdr_append(struct smtp_session *s, const uint8_t *p, size_t n)
{
	size_t room = SMTP_HEADER_MAX - s->hdr_len;

	if (n > room) {
		if (!s->hdr_overflow) {
			s->hdr_overflow = true;
			anomaly(s, SMTP_AN_HEADER_TOO_LONG);
		}
		set_status(s, SMTP_TOO_LONG);
		n = room;
	}
	memcpy(s->hdr_buf + s->hdr_len, p, n);
	s->hdr_len = (uint16_t)(s->hdr_len + n);
}

static void
msg_headers_end(struct smtp_session *s)
{
	s->msg_state = MSG_BODY;
	HOOK(s, on_headers_end, s->ctx);
}

static void
msg_body(struct smtp_session *s, const uint8_t *p, size_t n)
{
	if (n > 0)
		HOOK(s, on_body, s->ctx, slice_make(p, n));
}

/* The line being read as a header name is not one: it starts the body. */
static void
msg_not_header(struct smtp_session *s)
{
	msg_headers_end(s);
	msg_body(s, s->hdr_buf, s->hdr_len);
	s->hdr_len = 0;
	s->hdr_overflow = false;
}

static inline bool
is_name_char(uint8_t c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static void
msg_feed(struct smtp_session *s, const uint8_t *p, size_t n)
{
	size_t i = 0;

	/* The transaction ended under the message (refused, reset): its bytes are dropped. */
	if (!s->msg_open)
		return;

	while (i < n) {
		uint8_t c = p[i];

		switch (s->msg_state) {
		case MSG_BODY:
			msg_body(s, p + i, n - i);
			return;
		case MSG_H_BOL:
			if (is_wsp(c) && s->hdr_len > 0) {
				/* a fold: the CRLF went, the whitespace stays */
				s->msg_state = MSG_H_VALUE;
			} else if (c == '\r') {
				s->msg_state = MSG_H_EMPTY_CR;
				i++;
			} else if (c == '\n') {
				hdr_emit(s);
				msg_headers_end(s);
				i++;
			} else {
				hdr_emit(s);
				s->msg_state = MSG_H_NAME;
			}
			break;
		case MSG_H_NAME:
			if (c == ':' && s->hdr_len > 0) {
				hdr_append(s, &c, 1);
				s->msg_state = MSG_H_VALUE;
				i++;
			} else if (is_name_char(c) && s->hdr_len < SMTP_HEADER_MAX) {
				hdr_append(s, &c, 1);
				i++;
			} else if (is_wsp(c) && s->hdr_len > 0 && s->hdr_len < SMTP_HEADER_MAX) {
				hdr_append(s, &c, 1);
				s->msg_state = MSG_H_NAME_WSP;
				i++;
			} else {
				msg_not_header(s);
			}
			break;
		case MSG_H_NAME_WSP:
			if (c == ':') {
				hdr_append(s, &c, 1);
				s->msg_state = MSG_H_VALUE;
				i++;
			} else if (is_wsp(c) && s->hdr_len < SMTP_HEADER_MAX) {
				hdr_append(s, &c, 1);
				i++;
			} else {
				msg_not_header(s);
			}
			break;
		case MSG_H_VALUE: {
			size_t j = i;

			while (j < n && p[j] != '\r' && p[j] != '\n')
				j++;
			hdr_append(s, p + i, j - i);
			i = j;
			if (i < n) {
				s->msg_state = p[i] == '\r' ? MSG_H_VALUE_CR : MSG_H_BOL;
				i++;
			}
			break;
		}
		case MSG_H_VALUE_CR:
			if (c == '\n') {
				s->msg_state = MSG_H_BOL;
				i++;
			} else {
				/* a lone CR inside the value is kept */
				hdr_append(s, (const uint8_t *)"\r", 1);
				s->msg_state = MSG_H_VALUE;
			}
			break;
		case MSG_H_EMPTY_CR:
			hdr_emit(s);
			msg_headers_end(s);
			if (c == '\n')
				i++;
			else
				msg_body(s, (const uint8_t *)"\r", 1);
			break;
		default:
			/* unreachable: states are only set above; recover rather than loop */
			s->msg_state = MSG_BODY;
			break;
		}
	}
}

static void
msg_begin(struct smtp_session *s)
{
	s->msg_open = true;
	s->msg_state = MSG_H_BOL;
	s->hdr_len = 0;
	s->hdr_overflow = false;
	s->msg_bare_lf = false;
	HOOK(s, on_data_begin, s->ctx);
}

/* The message is complete: whatever the header layer holds is finished. */
static void
msg_end(struct smtp_session *s)
{
	if (!s->msg_open)
		return;
	switch (s->msg_state) {
	case MSG_BODY:
		break;
	case MSG_H_NAME:
	case MSG_H_NAME_WSP:
		msg_not_header(s);
		break;
	case MSG_H_EMPTY_CR:
		hdr_emit(s);
		msg_headers_end(s);
		msg_body(s, (const uint8_t *)"\r", 1);
		break;
	case MSG_H_VALUE_CR:
		hdr_append(s, (const uint8_t *)"\r", 1);
		/* fall through */
	default:
		hdr_emit(s);
		msg_headers_end(s);
		break;
	}
	s->msg_open = false;
	s->message_complete = true;
	HOOK(s, on_data_end, s->ctx);
}

/* ---- DATA: end-of-data matcher and dot-unstuffing ---- */

/* Contiguous output of the matcher, handed to the message layer in as few calls as possible. */
struct run {
	const uint8_t *ptr;
	size_t len;
};

static void
run_flush(struct smtp_session *s, struct run *r)
{
	if (r->len > 0)
		msg_feed(s, r->ptr, r->len);
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
			size_t j = i;

			while (j < n && p[j] != '\r' && p[j] != '\n')
				j++;
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
			/* ".\rX": drop the dot; the CR, last byte read, is now a withheld mid-line CR */
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
	while (a.len > 0 && is_wsp(a.ptr[0])) {
		a.ptr++;
		a.len--;
	}
	return a;
}

/*
 * "FROM:<addr> params" / "TO:<addr> params": the keyword (any case), then optional spaces,
 * ":", optional spaces, the address with or without brackets; parameters dropped.
 */
static bool
parse_path(struct slice args, const char *kw, struct slice *addr)
{
	size_t kwlen = strlen(kw);
	size_t k = 0;

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
			return true;
		}
	}
	while (k < args.len && !is_wsp(args.ptr[k]))
		k++;
	*addr = slice_make(args.ptr, k);
	return true;
}

/* "n" or "n LAST" (any case); n decimal, at most 19 digits so it cannot overflow. */
static bool
parse_bdat(struct slice args, uint64_t *size, bool *last)
{
	uint64_t v = 0;
	size_t k = 0;

	while (k < args.len && args.ptr[k] >= '0' && args.ptr[k] <= '9') {
		if (k == 19)
			return false;
		v = v * 10 + (uint64_t)(args.ptr[k] - '0');
		k++;
	}
	if (k == 0)
		return false;
	args.ptr += k;
	args.len -= k;
	if (args.len > 0 && !is_wsp(args.ptr[0]))
		return false;
	args = slice_trim(args);
	if (args.len == 0)
		*last = false;
	else if (slice_eq_nocase(args, "LAST"))
		*last = true;
	else
		return false;
	*size = v;
	return true;
}

static void
cmd_mail(struct smtp_session *s, struct slice args)
{
	struct slice addr;

	if (!parse_path(args, "FROM", &addr)) {
		/* The server will refuse it; pairing still needs the entry, with no transaction. */
		set_status(s, SMTP_INVALID);
		pending_push_tx(s, SMTP_CMD_MAIL, 0, 0);
		return;
	}
	if (s->in_tx)
		tx_end(s, s->message_complete ? SMTP_TX_UNKNOWN : SMTP_TX_ABORTED, 0);
	tx_begin(s);
	HOOK(s, on_mail_from, s->ctx, addr);
	pending_push(s, SMTP_CMD_MAIL, 0);
}

static void
cmd_rcpt(struct smtp_session *s, struct slice args)
{
	struct slice addr;
	uint32_t idx;

	if (!parse_path(args, "TO", &addr) || s->msg_open) {
		/* bad syntax, or between the chunks of a BDAT message: the server refuses it */
		set_status(s, SMTP_INVALID);
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
	if (s->bdat_last)
		msg_end(s);
}

static void
cmd_bdat(struct smtp_session *s, struct slice args)
{
	uint64_t size;
	bool last;

	if (!parse_bdat(args, &size, &last)) {
		/*
		 * Without a size the chunk cannot be followed: stay on commands. Its refusal
		 * says nothing about the transaction.
		 */
		set_status(s, SMTP_INVALID);
		pending_push_tx(s, SMTP_CMD_BDAT, 0, 0);
		return;
	}
	if (!s->msg_open) {
		tx_ensure(s);
		msg_begin(s);
	}
	pending_push(s, last ? SMTP_CMD_DATA_END : SMTP_CMD_BDAT, 0);
	s->bdat_remaining = size;
	s->bdat_last = last;
	s->client_state = CS_BDAT;
	if (size == 0)
		bdat_chunk_done(s);
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
	struct slice verb = line, args = { line.ptr + line.len, 0 };
	enum smtp_cmd cmd;
	uint64_t size;
	bool last;

	for (size_t k = 0; k < line.len; k++) {
		if (is_wsp(line.ptr[k])) {
			verb.len = k;
			args = skip_wsp(slice_make(line.ptr + k, line.len - k));
			break;
		}
	}
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
	struct slice verb = line, args = { line.ptr + line.len, 0 };
	enum smtp_cmd cmd;

	if (s->auth_cont) {
		/* a SASL response line answering 334, not a command */
		s->auth_cont = false;
		pending_push(s, SMTP_CMD_AUTH, 0);
		return;
	}
	for (size_t k = 0; k < line.len; k++) {
		if (is_wsp(line.ptr[k])) {
			verb.len = k;
			args = skip_wsp(slice_make(line.ptr + k, line.len - k));
			break;
		}
	}
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
reply_final(struct smtp_session *s, uint16_t code)
{
	unsigned int head;
	enum smtp_cmd cmd;
	uint32_t idx, seq;
	bool current;

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
	current = s->in_tx && seq == s->tx_seq;
	s->pending_head = (uint8_t)((head + 1) % SMTP_PENDING_MAX);
	s->pending_count--;

	switch (cmd) {
	case SMTP_CMD_MAIL:
		if (current && code / 100 != 2)
			tx_end(s, SMTP_TX_REJECTED, code);
		break;
	case SMTP_CMD_RCPT:
		if (current)
			HOOK(s, on_rcpt_reply, s->ctx, idx, code);
		break;
	case SMTP_CMD_DATA:
		/*
		 * Leave message mode if this DATA started it, even when its transaction already
		 * ended (MAIL refused); a DATA of an older transaction must not end a newer
		 * transaction's message.
		 */
		if (code == 354 || seq != s->tx_seq)
			break;
		if (s->client_state == CS_DATA) {
			s->client_state = CS_CMD;
			line_reset(&s->cmd);
		}
		if (current)
			tx_end(s, SMTP_TX_REJECTED, code);
		break;
	case SMTP_CMD_BDAT:
		/* RFC 3030: after a refused chunk the transaction has failed */
		if (current && code / 100 != 2)
			tx_end(s, SMTP_TX_REJECTED, code);
		break;
	case SMTP_CMD_DATA_END:
		if (current)
			tx_end(s, code / 100 == 2 ? SMTP_TX_DELIVERED : SMTP_TX_REJECTED, code);
		break;
	case SMTP_CMD_AUTH:
		s->auth_cont = code == 334;
		break;
	case SMTP_CMD_STARTTLS:
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

	if (line.len < 3 || line.ptr[0] < '1' || line.ptr[0] > '5' || line.ptr[1] < '0' ||
	    line.ptr[1] > '9' || line.ptr[2] < '0' || line.ptr[2] > '9' ||
	    (line.len > 3 && line.ptr[3] != ' ' && line.ptr[3] != '-')) {
		anomaly(s, SMTP_AN_BAD_REPLY);
		set_status(s, SMTP_INVALID);
		return;
	}
	if (line.len > 3 && line.ptr[3] == '-')
		return; /* continuation: the final line carries the code that counts */
	code = (uint16_t)((line.ptr[0] - '0') * 100 + (line.ptr[1] - '0') * 10 + (line.ptr[2] - '0'));
	reply_final(s, code);
}

/* ---- API ---- */

void
smtp_session_init(struct smtp_session *s, const struct smtp_hooks *hooks, void *ctx)
{
	/* Only the small fields: the line and header buffers are read only up to their lengths. */
	s->hooks = hooks != NULL ? hooks : &no_hooks;
	s->ctx = ctx;
	s->worst = SMTP_OK;
	s->opaque = false;
	s->closed = false;
	s->hunting = false;
	s->client_state = CS_CMD;
	s->dot_state = DOT_BOL;
	s->dot_eol = EOL_NONE;
	s->msg_state = MSG_H_BOL;
	s->in_tx = false;
	s->msg_open = false;
	s->message_complete = false;
	s->auth_cont = false;
	s->bdat_last = false;
	s->msg_bare_lf = false;
	s->tx_seq = 0;
	s->n_rcpt = 0;
	s->bdat_remaining = 0;
	line_reset(&s->cmd);
	s->hdr_len = 0;
	s->hdr_overflow = false;
	line_reset(&s->reply);
	s->greeted = false;
	s->pending_head = 0;
	s->pending_count = 0;
	memset(s->n_anomalies, 0, sizeof(s->n_anomalies));
}

static void
client_feed(struct smtp_session *s, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && !s->opaque) {
		switch (s->client_state) {
		case CS_DATA:
			i += data_feed(s, p + i, n - i);
			break;
		case CS_BDAT: {
			size_t take = n - i;

			if (s->bdat_remaining < take)
				take = (size_t)s->bdat_remaining;
			msg_feed(s, p + i, take);
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

				line_reset(&s->cmd);
				if (!s->hunting || is_command_line(line)) {
					s->hunting = false;
					cmd_line(s, line);
				}
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
	if (s->in_tx)
		tx_end(s, s->message_complete ? SMTP_TX_UNKNOWN : SMTP_TX_ABORTED, 0);
}

void
smtp_session_gap(struct smtp_session *s, bool to_server, uint64_t len)
{
	if (s->opaque || s->closed || len == 0)
		return;
	anomaly(s, SMTP_AN_GAP);
	if (!to_server) {
		/* The replies in the hole answered the oldest pending commands: which, we cannot
		 * tell, so none is paired any more. What follows the hole is read as it comes: a
		 * cut line is no valid reply and is counted as such. */
		line_reset(&s->reply);
		s->pending_count = 0;
		s->greeted = true;
		return;
	}
	switch (s->client_state) {
	case CS_DATA:
		/* Still inside the message: the end-of-data matcher restarts mid-line. */
		s->dot_state = DOT_MID;
		s->dot_eol = EOL_NONE;
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
	/* The hole may have ended mid-line or at a line's end: wait for a line that is a command. */
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
