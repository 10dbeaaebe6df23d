/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SMTP parser's hooks for the dataplane: scanning, suppression lookups and transaction
 * records; see inspect.h. Every hook is bounded work on borrowed bytes. Worker lcores.
 */
#include <string.h>

#include "buffer_id.h"
#include "inspect.h"
#include "mime_words.h"

/* Record field that carries each buffer's value, 0 for buffers not carried. */
static const uint8_t buffer_field[BUF__COUNT] = {
	[BUF_SMTP_HELO] = IPC_F_HELO,
	[BUF_SMTP_MAIL_FROM] = IPC_F_MAIL_FROM,
	[BUF_EMAIL_FROM] = IPC_F_EMAIL_FROM,
	[BUF_EMAIL_TO] = IPC_F_EMAIL_TO,
	[BUF_EMAIL_CC] = IPC_F_EMAIL_CC,
	[BUF_EMAIL_SUBJECT] = IPC_F_SUBJECT,
	[BUF_EMAIL_MESSAGE_ID] = IPC_F_MESSAGE_ID,
	[BUF_EMAIL_X_MAILER] = IPC_F_X_MAILER,
	[BUF_EMAIL_DATE] = IPC_F_DATE,
};

static void
count(struct inspect_session *s, enum ipc_counter c)
{
	s->env->counters[c]++;
}

static void
scan_value(struct inspect_session *s, enum buffer_id buf, struct slice v)
{
	if (s->gen == NULL)
		return;
	if (scan_block(s->gen, s->env->worker, buf, v.ptr, v.len, &s->matches) < 0)
		count(s, IPC_C_SCAN_ERRORS);
}

static void
record_add(struct inspect_session *s, enum buffer_id buf, struct slice v)
{
	if (s->tx == NULL || buffer_field[buf] == 0)
		return;
	if (ipc_tx_add(s->tx, IPC_TX_MAX, buffer_field[buf], v.ptr, v.len) == NULL ||
	    v.len > IPC_FIELD_MAX)
		count(s, IPC_C_FIELDS_TRUNCATED);
}

/* A buffer value seen inside a transaction: scanned, and carried in the record. */
static void
inspect_value(struct inspect_session *s, enum buffer_id buf, struct slice v)
{
	scan_value(s, buf, v);
	record_add(s, buf, v);
}

static void
on_helo(void *ctx, struct slice name)
{
	struct inspect_session *s = ctx;
	size_t n = name.len < INSPECT_HELO_MAX ? name.len : INSPECT_HELO_MAX;

	memcpy(s->helo, name.ptr, n);
	s->helo_len = (uint16_t)n;
}

static void
tx_release(struct inspect_session *s)
{
	if (s->body != NULL) {
		scan_stream_close(s->gen, s->env->worker, s->body, &s->matches);
		s->body = NULL;
	}
	if (s->gen != NULL) {
		scan_gen_unpin(s->gen);
		s->gen = NULL;
	}
}

static void
on_tx_begin(void *ctx)
{
	struct inspect_session *s = ctx;
	struct inspect_env *env = s->env;

	/* The generation is chosen here and kept to the end: rules switch between messages. */
	s->gen = env->gen;
	if (s->gen != NULL)
		scan_gen_pin(s->gen);
	scan_matches_reset(&s->matches);
	s->n_rcpt_slots = 0;
	s->tx = env->tx_alloc(env->io);
	if (s->tx == NULL)
		count(s, IPC_C_EVENTS_DROPPED);
	else
		ipc_tx_init(s->tx, IPC_TX_MAX);
	inspect_value(s, BUF_SMTP_HELO, slice_make(s->helo, s->helo_len));
}

static void
on_mail_from(void *ctx, struct slice addr)
{
	inspect_value(ctx, BUF_SMTP_MAIL_FROM, addr);
}

static void
on_rcpt(void *ctx, uint32_t idx, struct slice addr)
{
	struct inspect_session *s = ctx;
	struct ipc_rcpt head = { 0 };
	struct suppress_verdict v;

	(void)idx;
	scan_value(s, BUF_SMTP_RCPT_TO, addr);
	if (s->env->supp != NULL) {
		count(s, IPC_C_SUPPRESS_LOOKUPS);
		if (suppress_lookup(s->env->supp, addr, (int64_t)(s->env->now_us / 1000000), &v) == 0 &&
		    v.verdict != IPC_SUPPRESS_NONE) {
			count(s, IPC_C_SUPPRESS_HITS);
			head.verdict = v.verdict;
			head.scope = v.scope;
			head.optout_time = v.optout_time;
			head.grace_end = v.grace_end;
		}
	}
	if (s->tx == NULL)
		return;
	s->tx->n_rcpt++;

	struct ipc_rcpt *slot = ipc_tx_add2(s->tx, IPC_TX_MAX, IPC_F_RCPT, &head, sizeof(head),
					    addr.ptr, addr.len);
	if (slot == NULL) {
		count(s, IPC_C_FIELDS_TRUNCATED);
		return;
	}
	/* Keep the slot so the server's reply can be written into it later. */
	if (idx < INSPECT_RCPT_MAX) {
		s->rcpt[idx] = slot;
		if (idx + 1 > s->n_rcpt_slots)
			s->n_rcpt_slots = idx + 1;
	}
}

static void
on_rcpt_reply(void *ctx, uint32_t idx, uint16_t code)
{
	struct inspect_session *s = ctx;

	if (s->tx != NULL && idx < s->n_rcpt_slots && s->rcpt[idx] != NULL)
		s->rcpt[idx]->reply_code = code;
}

static void
on_data_begin(void *ctx)
{
	struct inspect_session *s = ctx;

	if (s->tx != NULL)
		s->tx->flags |= IPC_TXF_HAS_DATA;
}

static void
on_header(void *ctx, struct slice name, struct slice value)
{
	struct inspect_session *s = ctx;
	int buf = buffer_id_from_header((const char *)name.ptr, name.len);
	unsigned n_bad = 0;
	bool truncated = false;

	if (buf < 0)
		return;
	/* Rules and alerts see what a mail reader shows: encoded words decoded to UTF-8
	 * ("=?utf-8?B?RlJFRSBNT05FWQ==?=" is "FREE MONEY"); malformed ones stay as sent. */
	if (s->env->words != NULL && memmem(value.ptr, value.len, "=?", 2) != NULL) {
		size_t n = mime_words_decode(s->env->words, value.ptr, value.len, s->env->decoded,
					     sizeof(s->env->decoded), &n_bad, &truncated);

		if (n_bad > 0)
			count(s, IPC_C_MIME_BAD_WORDS);
		if (truncated)
			count(s, IPC_C_FIELDS_TRUNCATED);
		value = slice_make(s->env->decoded, n);
	}
	inspect_value(s, (enum buffer_id)buf, value);
}

static void
on_headers_end(void *ctx)
{
	struct inspect_session *s = ctx;

	if (s->gen == NULL || s->body != NULL || !scan_gen_has_buffer(s->gen, BUF_FILE_DATA))
		return;
	s->body = scan_stream_open(s->gen, BUF_FILE_DATA);
	if (s->body == NULL)
		count(s, IPC_C_SCAN_ERRORS); /* no stream state to be had: body not scanned */
}

static void
on_body(void *ctx, struct slice chunk)
{
	struct inspect_session *s = ctx;

	if (s->tx != NULL)
		s->tx->body_bytes += chunk.len;
	if (s->body != NULL &&
	    scan_stream_write(s->gen, s->env->worker, s->body, chunk.ptr, chunk.len, &s->matches) < 0)
		count(s, IPC_C_SCAN_ERRORS);
}

static void
on_data_end(void *ctx)
{
	struct inspect_session *s = ctx;

	if (s->body != NULL) {
		if (scan_stream_close(s->gen, s->env->worker, s->body, &s->matches) < 0)
			count(s, IPC_C_SCAN_ERRORS);
		s->body = NULL;
	}
}

static void
on_fired(void *ctx, const struct gen_rule *r)
{
	struct inspect_session *s = ctx;
	struct ipc_alert a = {
		.sid = r->sid,
		.rev = r->rev,
		.gid = r->gid,
		.action = r->action,
	};

	count(s, IPC_C_RULE_MATCHES);
	if (ipc_tx_add(s->tx, IPC_TX_MAX, IPC_F_ALERT, &a, sizeof(a)) == NULL)
		count(s, IPC_C_FIELDS_TRUNCATED);
}

static const uint8_t tx_status[] = {
	[SMTP_TX_DELIVERED] = IPC_TX_DELIVERED,
	[SMTP_TX_REJECTED] = IPC_TX_REJECTED,
	[SMTP_TX_ABORTED] = IPC_TX_ABORTED,
	[SMTP_TX_UNKNOWN] = IPC_TX_UNKNOWN,
};

static void
on_tx_end(void *ctx, enum smtp_tx_end how, uint16_t code)
{
	struct inspect_session *s = ctx;
	struct ipc_tx *tx = s->tx;

	on_data_end(s);
	count(s, IPC_C_SMTP_TRANSACTIONS);
	if (tx != NULL) {
		if (s->gen != NULL)
			scan_eval(s->gen, &s->matches, on_fired, s);
		tx->ts_us = s->env->now_us;
		tx->flow_id = s->meta.flow_id;
		tx->gen_id = s->gen != NULL ? scan_gen_id(s->gen) : 0;
		memcpy(tx->src_ip, s->meta.client_ip, 16);
		memcpy(tx->dst_ip, s->meta.server_ip, 16);
		tx->src_port = s->meta.client_port;
		tx->dst_port = s->meta.server_port;
		tx->ip_version = s->meta.ip_version;
		tx->status = (unsigned)how < sizeof(tx_status) ? tx_status[how] : IPC_TX_UNKNOWN;
		tx->worker = (uint16_t)s->env->worker;
		tx->tx_seq = s->tx_seq;
		tx->reply_code = code;
		if (tx->flags & IPC_TXF_TRUNCATED)
			count(s, IPC_C_FIELDS_TRUNCATED);
		s->tx = NULL;
		s->env->tx_emit(s->env->io, tx);
	}
	s->tx_seq++;
	s->n_rcpt_slots = 0;
	tx_release(s);
}

static void
on_starttls(void *ctx)
{
	struct inspect_session *s = ctx;

	count(s, IPC_C_SMTP_STARTTLS);
	if (s->env->event != NULL)
		s->env->event(s->env->io, &s->meta, IPC_EV_SMTP_STARTTLS, 0);
}

static void
on_anomaly(void *ctx, enum smtp_anomaly what)
{
	/* Gaps are the reassembler's to count; the parser only resynchronises after them. */
	if (what == SMTP_AN_GAP)
		return;
	count(ctx, what == SMTP_AN_LINE_TOO_LONG ? IPC_C_SMTP_LINE_TOO_LONG
						 : IPC_C_SMTP_PARSE_ERRORS);
}

static const struct smtp_hooks inspect_hooks = {
	.on_helo = on_helo,
	.on_tx_begin = on_tx_begin,
	.on_mail_from = on_mail_from,
	.on_rcpt = on_rcpt,
	.on_rcpt_reply = on_rcpt_reply,
	.on_data_begin = on_data_begin,
	.on_header = on_header,
	.on_headers_end = on_headers_end,
	.on_body = on_body,
	.on_data_end = on_data_end,
	.on_tx_end = on_tx_end,
	.on_starttls = on_starttls,
	.on_anomaly = on_anomaly,
};

void
inspect_session_init(struct inspect_session *s, struct inspect_env *env,
		     const struct inspect_flow_meta *meta)
{
	s->env = env;
	s->meta = *meta;
	s->gen = NULL;
	s->tx = NULL;
	s->body = NULL;
	s->n_rcpt_slots = 0;
	s->tx_seq = 0;
	s->helo_len = 0;
	scan_matches_reset(&s->matches);
	smtp_session_init(&s->smtp, &inspect_hooks, s);
	if (meta->midstream)
		smtp_session_midstream(&s->smtp);
}

void
inspect_session_gap(struct inspect_session *s, bool to_server, uint64_t len)
{
	smtp_session_gap(&s->smtp, to_server, len);
}

void
inspect_session_data(struct inspect_session *s, bool to_server, const uint8_t *data, size_t len)
{
	smtp_session_feed(&s->smtp, to_server, data, len);
}

void
inspect_session_close(struct inspect_session *s)
{
	smtp_session_close(&s->smtp);
	/* The parser ended any transaction; this only guards against a record left behind. */
	if (s->tx != NULL)
		on_tx_end(s, SMTP_TX_ABORTED, 0);
	tx_release(s);
}

bool
inspect_session_is_opaque(const struct inspect_session *s)
{
	return smtp_session_is_opaque(&s->smtp);
}
