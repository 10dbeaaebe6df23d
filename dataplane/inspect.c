/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SMTP parser's hooks for the dataplane: scanning, suppression lookups and transaction
 * records; see inspect.h. Every hook is bounded work on borrowed bytes. Worker lcores.
 */
#include <errno.h>
#include <string.h>

#include "addr_list.h"
#include "buffer_id.h"
#include "canspam.h"
#include "commercial.h"
#include "flow_key.h"
#include "inspect.h"
#include "mime_words.h"

/* Record field that carries each buffer's value, 0 for buffers not carried. */
_Static_assert(BUF__COUNT <= 32, "struct inspect_tx.seen_fields is a 32-bit mask");

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
record_add(struct inspect_session *s, enum buffer_id buf, struct slice v, bool cut)
{
	struct ipc_tx *tx = s->cur.rec;
	bool list = buf == BUF_EMAIL_TO || buf == BUF_EMAIL_CC;
	size_t cap = buf == BUF_SMTP_HELO || buf == BUF_SMTP_MAIL_FROM ? IPC_TX_MAX
		     : list ? INSPECT_LIST_HEADER_CAP
			    : INSPECT_HEADER_CAP;

	if (tx == NULL || buffer_field[buf] == 0)
		return;
	/*
	 * A header that names one thing (Subject, Date, ...) is reported as its first
	 * occurrence, as readers show it; every occurrence is scanned. Six hundred To headers
	 * (zeek's smtp-many-addresses) must not crowd the Subject out.
	 */
	if (!list && buf != BUF_SMTP_HELO && buf != BUF_SMTP_MAIL_FROM &&
	    (s->cur.seen_fields & (1u << buf)))
		return;
	s->cur.seen_fields |= 1u << buf;
	if (list && (cut || v.len > IPC_FIELD_MAX)) {
		/* whole addresses only: a fragment would be reported, or hashed, as an address */
		v = addr_list_cut(v, IPC_FIELD_MAX);
		tx->flags |= IPC_TXF_TRUNCATED;
		count(s, IPC_C_FIELDS_TRUNCATED);
		if (v.len == 0)
			return;
	}
	/* once a To or Cc value did not fit, later ones stay out: the list stays a prefix */
	if ((s->cur.full_fields & (1u << buf)) ||
	    ipc_tx_add(tx, cap, buffer_field[buf], v.ptr, v.len) == NULL) {
		s->cur.full_fields |= 1u << buf;
		count(s, IPC_C_FIELDS_TRUNCATED);
	} else if (v.len > IPC_FIELD_MAX) {
		count(s, IPC_C_FIELDS_TRUNCATED);
	}
}

/* A buffer value seen inside a transaction: scanned, and carried in the record. */
static void
inspect_value(struct inspect_session *s, enum buffer_id buf, struct slice v)
{
	scan_value(s, buf, v);
	record_add(s, buf, v, false);
}

/* ---- suppression and the commercial decision ---- */

/* Keep the domain of a mailbox as sent (after its last '@'), for the commercial decision
 * and the sender scope; nothing when there is none or it is too long. */
static void
keep_domain(struct slice addr, uint8_t out[ADDR_DOMAIN_MAX], uint8_t *len)
{
	struct slice m = addr_list_mailbox(addr);
	const uint8_t *at = memrchr(m.ptr, '@', m.len);
	size_t n;

	*len = 0;
	if (at == NULL)
		return;
	n = m.len - (size_t)(at + 1 - m.ptr);
	if (n == 0 || n > ADDR_DOMAIN_MAX)
		return;
	memcpy(out, at + 1, n);
	*len = (uint8_t)n;
}

static void
add_scope(struct inspect_session *s, enum suppress_scope kind, enum suppress_scope_origin origin,
	  struct slice value)
{
	if (s->env->supp != NULL && value.len > 0)
		suppress_scopes_add(s->env->supp, &s->scopes, kind, origin, value);
}

/* Look addr up with the transaction's scopes into *head: 1 listed, 0 not, -1 no answer. */
static int
lookup(struct inspect_session *s, struct slice addr, struct ipc_rcpt *head)
{
	struct suppress_verdict v;
	int rc;

	if (s->env->supp == NULL)
		return -1;
	count(s, IPC_C_SUPPRESS_LOOKUPS);
	rc = suppress_lookup_scoped(s->env->supp, addr_list_mailbox(addr), &s->scopes,
				    (int64_t)(s->env->now_us / 1000000), &v);
	if (rc < 0) {
		if (rc != -EINVAL) /* not an address: nothing to look up, not a fault */
			count(s, IPC_C_SUPPRESS_ERRORS);
		return -1;
	}
	if (v.verdict == IPC_SUPPRESS_NONE)
		return 0;
	head->verdict = v.verdict;
	head->scope = v.scope;
	head->origin = v.origin;
	head->domain_wide = v.domain_wide;
	head->optout_time = v.optout_time;
	head->grace_end = v.grace_end;
	return 1;
}

/* A To, Cc or Bcc address of the message: on the list, it goes into the record. */
static void
header_recipient(struct inspect_session *s, struct slice m)
{
	struct ipc_rcpt head = { 0 };

	if (lookup(s, m, &head) <= 0)
		return;
	count(s, IPC_C_SUPPRESS_HITS);
	if (s->cur.rec == NULL)
		return;
	if (ipc_tx_add2(s->cur.rec, INSPECT_LIST_CAP, IPC_F_HDR_RCPT, &head, sizeof(head), m.ptr,
			m.len) == NULL) {
		s->cur.rec->flags |= IPC_TXF_TRUNCATED;
		count(s, IPC_C_FIELDS_TRUNCATED);
	}
}

/*
 * The header block is over: the scopes it names (From, List-Id) are all known, so the
 * addresses of To, Cc and Bcc, held until now, are looked up with them.
 */
static void
header_recipients_flush(struct inspect_session *s)
{
	for (size_t off = 0; off < s->hdr_rcpt_len;) {
		size_t n = strlen((const char *)s->hdr_rcpt + off);

		header_recipient(s, slice_make(s->hdr_rcpt + off, n));
		off += n + 1;
	}
	s->hdr_rcpt_len = 0;
}

/* A To, Cc or Bcc header: its mailboxes wait for the end of the header block; one that does
 * not fit the session's room is looked up at once, with the scopes known so far. */
static void
header_recipients(struct inspect_session *s, struct slice list)
{
	struct slice a;
	size_t pos = 0;

	while (addr_list_next(list, &pos, &a)) {
		struct slice m = addr_list_mailbox(a);

		if (m.len == 0 || memchr(m.ptr, '\0', m.len) != NULL)
			continue;
		if (s->env->supp == NULL)
			return;
		if (m.len + 1 > sizeof(s->hdr_rcpt) - s->hdr_rcpt_len) {
			header_recipient(s, m);
			continue;
		}
		memcpy(s->hdr_rcpt + s->hdr_rcpt_len, m.ptr, m.len);
		s->hdr_rcpt[s->hdr_rcpt_len + m.len] = '\0';
		s->hdr_rcpt_len += (uint16_t)(m.len + 1);
	}
}

/* True the first time a field type is asked about in the transaction (types below 32). */
static bool
first_field_of(struct inspect_session *s, unsigned type)
{
	bool first = !(s->cur.seen_types & (1u << type));

	s->cur.seen_types |= 1u << type;
	return first;
}

/* The first header of its kind goes into the record (the CAN-SPAM checks read it): true
 * when this one was the first. */
static bool
record_first(struct inspect_session *s, unsigned type, struct slice value)
{
	if (!first_field_of(s, type))
		return false;
	if (s->cur.rec != NULL &&
	    ipc_tx_add(s->cur.rec, INSPECT_HEADER_CAP, (uint16_t)type, value.ptr,
		       value.len > IPC_FIELD_MAX ? IPC_FIELD_MAX : value.len) == NULL)
		count(s, IPC_C_FIELDS_TRUNCATED);
	return true;
}

/* A header of the message itself, for the suppression set and the commercial decision. */
static void
header_facts(struct inspect_session *s, struct slice name, struct slice value)
{
	s->comm_signals |= (uint8_t)commercial_header_signal(name, value);
	if (slice_eq_nocase(name, "List-Id")) {
		/* the first one counts, as for a reader, and it is the one recorded */
		if (record_first(s, IPC_F_LIST_ID, value))
			add_scope(s, SUPPRESS_SCOPE_LIST, SUPPRESS_ORIGIN_LIST_ID, value);
	} else if (slice_eq_nocase(name, "Reply-To")) {
		record_first(s, IPC_F_REPLY_TO, value);
	} else if (slice_eq_nocase(name, "List-Unsubscribe")) {
		record_first(s, IPC_F_LIST_UNSUB, value);
	} else if (slice_eq_nocase(name, "List-Unsubscribe-Post")) {
		record_first(s, IPC_F_LIST_UNSUB_POST, value);
	} else if (slice_eq_nocase(name, "From") && !s->hdr_from_seen) {
		struct slice first;
		size_t pos = 0;

		s->hdr_from_seen = true;
		if (addr_list_next(value, &pos, &first))
			keep_domain(first, s->hdr_domain, &s->hdr_domain_len);
		add_scope(s, SUPPRESS_SCOPE_SENDER, SUPPRESS_ORIGIN_HEADER,
			  slice_make(s->hdr_domain, s->hdr_domain_len));
	} else if (slice_eq_nocase(name, "To") || slice_eq_nocase(name, "Cc") ||
		   slice_eq_nocase(name, "Bcc")) {
		header_recipients(s, value);
	}
}

/*
 * Scopes learnt from the headers (From, List-Id) came after the envelope's recipients were
 * looked up: look those recorded again, so that an entry for one sender or list applies.
 */
static void
relookup_recipients(struct inspect_session *s)
{
	struct inspect_tx *t = &s->cur;

	if (s->scopes.n <= s->scopes_at_rcpt || !suppress_reader_has_scoped(s->env->supp))
		return;
	for (uint32_t i = 0; i < t->n_rcpt_slots; i++) {
		struct ipc_rcpt *slot = t->rcpt[i], head = { 0 };
		const struct ipc_field *f;

		if (slot == NULL)
			continue;
		f = (const struct ipc_field *)((const uint8_t *)slot - sizeof(*f));
		if (lookup(s, slice_make((const uint8_t *)(slot + 1), f->len - sizeof(*slot)),
			   &head) > 0 &&
		    head.verdict > slot->verdict) {
			if (slot->verdict == IPC_SUPPRESS_NONE)
				count(s, IPC_C_SUPPRESS_HITS);
			head.reply_code = slot->reply_code;
			*slot = head;
		}
	}
}

static uint16_t
commercial_of(struct inspect_session *s)
{
	struct commercial_facts f = {
		.envelope_domain = slice_make(s->env_domain, s->env_domain_len),
		.header_domain = slice_make(s->hdr_domain, s->hdr_domain_len),
		.client_ip = s->meta.client_ip,
		.signals = s->comm_signals,
	};

	if (s->env->commercial == NULL)
		return IPC_COMM_DECIDED | IPC_COMM_YES | IPC_COMM_DEFAULT;
	f.rule_commercial = s->cur.rec->marks & (1u << GEN_FLOWBIT_COMMERCIAL);
	f.rule_transactional = s->cur.rec->marks & (1u << GEN_FLOWBIT_TRANSACTIONAL);
	return commercial_decide(s->env->commercial, &f);
}

/*
 * At RCPT time, before any header: is the sender one the configuration names commercial
 * (commercial_senders, commercial_hosts), and not exempt? Only then may a recipient be
 * refused there (rcpt_reject_suppressed); everything else waits for the whole message.
 */
static bool
sender_is_commercial(struct inspect_session *s)
{
	if (s->env->rcpt_refuse == NULL || s->env->commercial == NULL)
		return false;
	struct commercial_facts f = {
		.envelope_domain = slice_make(s->env_domain, s->env_domain_len),
		.client_ip = s->meta.client_ip,
	};
	uint16_t c = commercial_decide(s->env->commercial, &f);

	return (c & IPC_COMM_YES) && (c & (IPC_COMM_SENDER | IPC_COMM_HOST));
}

/* The transaction's verdicts are final: is it commercial, and which scopes apply. */
static void
judge_suppression(struct inspect_session *s, bool judged)
{
	struct ipc_tx *tx = s->cur.rec;

	header_recipients_flush(s); /* a message cut inside its header block */
	if (s->env->supp != NULL)
		relookup_recipients(s);
	if (judged) /* the rules' marks of this message, Postern's reserved flowbits */
		for (unsigned b = 0; b < GEN_FLOWBITS_RESERVED; b++)
			if (scan_last_flowbit(s->gen, s->env->worker, b))
				tx->marks |= (uint16_t)(1u << b);
	tx->commercial = commercial_of(s);
	if (tx->commercial & IPC_COMM_YES) {
		count(s, IPC_C_COMMERCIAL);
		/* only the envelope's recipients receive the message, and of those only the ones
		 * the server took (refused at RCPT time, or by the server, they get nothing) */
		for (uint32_t i = 0; s->env->block_suppressed && i < s->cur.n_rcpt_slots; i++) {
			const struct ipc_rcpt *r = s->cur.rcpt[i];

			if (r != NULL && r->verdict == IPC_SUPPRESS_VIOLATION &&
			    !(r->flags & IPC_RCPTF_REFUSED) &&
			    (r->reply_code == 0 || r->reply_code / 100 == 2))
				s->cur.block |= IPC_TXF_BLOCKED_SUPPRESSED;
		}
		return;
	}
	for (uint32_t i = 0; i < s->cur.n_rcpt_slots; i++)
		if (s->cur.rcpt[i] != NULL && s->cur.rcpt[i]->verdict != IPC_SUPPRESS_NONE)
			count(s, IPC_C_SUPPRESS_EXEMPT);
}

/* ---- transactions ---- */

/* The file.data stream of the current part ends: its last matches are collected. */
static void
part_stream_flush(struct inspect_session *s)
{
	if (s->part_buf_len > 0 && scan_stream_write(s->gen, s->env->worker, s->part, s->part_buf,
						     s->part_buf_len, &s->matches) < 0)
		count(s, IPC_C_SCAN_ERRORS);
	s->part_buf_len = 0;
}

static void
part_stream_close(struct inspect_session *s)
{
	if (s->part == NULL)
		return;
	part_stream_flush(s);
	if (scan_stream_close(s->gen, s->env->worker, s->part, &s->matches) < 0)
		count(s, IPC_C_SCAN_ERRORS);
	s->part = NULL;
}

static void
part_stream_open(struct inspect_session *s)
{
	part_stream_close(s);
	if (s->gen == NULL || !scan_gen_has_buffer(s->gen, BUF_FILE_DATA))
		return;
	s->part = scan_stream_open(s->gen, BUF_FILE_DATA);
	if (s->part == NULL)
		count(s, IPC_C_SCAN_ERRORS); /* no stream state to be had: part not scanned */
}

/*
 * Decoded bodies come a line at a time (often a bare CRLF): each Hyperscan stream call has a
 * fixed cost, so short pieces are gathered and scanned together. The stream sees the same
 * bytes in the same order; only the number of calls changes (1.7x the raw scan rate on the
 * bench capture).
 */
static void
part_stream_write(struct inspect_session *s, struct slice data)
{
	if (s->part == NULL)
		return;
	if (s->part_buf_len + data.len > INSPECT_PART_BUF)
		part_stream_flush(s);
	if (data.len >= INSPECT_PART_BUF) {
		if (scan_stream_write(s->gen, s->env->worker, s->part, data.ptr, data.len,
				      &s->matches) < 0)
			count(s, IPC_C_SCAN_ERRORS);
		return;
	}
	memcpy(s->part_buf + s->part_buf_len, data.ptr, data.len);
	s->part_buf_len += (uint16_t)data.len;
}

/* ---- the raw stream (pkt_data) ---- */

/*
 * Raw-stream rules see every byte of a direction, across transactions, so the stream is
 * scanned with one generation for as long as it stays open: the session pins it (raw_gen)
 * and each transaction uses it too, so that raw and message matches share atom ids. It is
 * only opened when the generation has raw-stream patterns, and changes to the live one
 * after a transaction is judged: rules still switch at message boundaries. Between
 * transactions it changes at once (what the old one matched is judged first), so that an
 * idle session never holds an old generation: the dataplane keeps only so many.
 */
static void raw_judge_pending(struct inspect_session *s);
static void raw_close(struct inspect_session *s);

static void
raw_write(struct inspect_session *s, bool to_server, const uint8_t *data, size_t len)
{
	enum buffer_id buf = to_server ? BUF_STREAM_TO_SERVER : BUF_STREAM_TO_CLIENT;
	int dir = to_server ? 0 : 1;

	if (s->raw_gen != NULL && s->raw_gen != s->env->gen && !s->in_tx &&
	    s->waiting.rec == NULL) {
		raw_judge_pending(s);
		raw_close(s);
	}

	struct scan_gen *g = s->raw_gen != NULL ? s->raw_gen : s->env->gen;

	if (s->raw[dir] == NULL) {
		if (g == NULL || !scan_gen_has_buffer(g, buf) || s->raw_failed[dir])
			return;
		s->raw[dir] = scan_stream_open(g, buf);
		if (s->raw[dir] == NULL) {
			s->raw_failed[dir] = true; /* counted once, not once a packet */
			count(s, IPC_C_SCAN_ERRORS);
			return;
		}
		if (s->raw_gen == NULL) {
			s->raw_gen = g;
			scan_gen_pin(g);
		}
	}
	if (scan_stream_write(g, s->env->worker, s->raw[dir], data, len, &s->raw_matches) < 0)
		count(s, IPC_C_SCAN_ERRORS);
}

/*
 * End both raw streams. Their end-anchored matches join `into` when the connection really
 * ended; at a change of generation (into NULL) the stream did not end and they are dropped.
 */
static void
raw_streams_end(struct inspect_session *s, struct scan_matches *into)
{
	struct scan_matches discard;

	scan_matches_reset(&discard);
	for (int dir = 0; dir < 2; dir++) {
		if (s->raw[dir] != NULL &&
		    scan_stream_close(s->raw_gen, s->env->worker, s->raw[dir],
				      into != NULL ? into : &discard) < 0)
			count(s, IPC_C_SCAN_ERRORS);
		s->raw[dir] = NULL;
		s->raw_failed[dir] = false;
	}
}

static void
raw_close(struct inspect_session *s)
{
	raw_streams_end(s, NULL);
	if (s->raw_gen != NULL) {
		scan_gen_unpin(s->raw_gen);
		s->raw_gen = NULL;
	}
}

static void
tx_release(struct inspect_session *s)
{
	part_stream_close(s);
	if (s->gen != NULL) {
		scan_gen_unpin(s->gen);
		s->gen = NULL;
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
	if (r->action == GEN_ACTION_DROP || r->action == GEN_ACTION_REJECT)
		s->cur.block |= IPC_TXF_BLOCKED_RULE;
	if (ipc_tx_add(s->cur.rec, IPC_TX_MAX, IPC_F_ALERT, &a, sizeof(a)) == NULL)
		count(s, IPC_C_FIELDS_TRUNCATED);
}

static void
judge_rules(struct inspect_session *s, struct scan_gen *g, const struct scan_matches *m,
	    const struct scan_flow *f)
{
	bool passed = false;

	scan_eval(g, s->env->worker, m, f, on_fired, s, &passed);
	if (passed)
		count(s, IPC_C_RULE_PASSES);
}

static void
session_flow(const struct inspect_session *s, struct scan_flow *f)
{
	f->client_ip = s->meta.client_ip;
	f->server_ip = s->meta.server_ip;
	f->client_port = s->meta.client_port;
	f->server_port = s->meta.server_port;
}

/* Everything the transaction will ever be scanned with is in: rules decide, the generation
 * is let go, and the record only waits for the outcome. */
static void
tx_judge(struct inspect_session *s)
{
	struct scan_flow f;

	if (s->msg_open) {
		/* the message was cut (refused, reset, connection gone): judge what came */
		mime_parser_finish(&s->mime);
		s->msg_open = false;
	}
	part_stream_close(s);
	/* raw-stream matches since the last judgement belong to this transaction */
	if (s->gen != NULL && s->gen == s->raw_gen)
		scan_matches_merge(&s->matches, &s->raw_matches);
	scan_matches_reset(&s->raw_matches);
	if (s->cur.rec != NULL) {
		session_flow(s, &f);
		if (s->gen != NULL)
			judge_rules(s, s->gen, &s->matches, &f);
		s->cur.rec->gen_id = s->gen != NULL ? scan_gen_id(s->gen) : 0;
		judge_suppression(s, s->gen != NULL);
	}
	tx_release(s);
	if (s->raw_gen != NULL && s->raw_gen != s->env->gen)
		raw_close(s); /* a new generation is live: the raw stream starts over with it */
}

static const uint8_t tx_status[] = {
	[SMTP_TX_DELIVERED] = IPC_TX_DELIVERED,
	[SMTP_TX_REJECTED] = IPC_TX_REJECTED,
	[SMTP_TX_ABORTED] = IPC_TX_ABORTED,
	[SMTP_TX_UNKNOWN] = IPC_TX_UNKNOWN,
};

static void tx_emit_status(struct inspect_session *s, struct inspect_tx *t, uint8_t status,
			   uint16_t code);

/* The outcome is known: complete the record and hand it out. */
static void
tx_emit(struct inspect_session *s, struct inspect_tx *t, enum smtp_tx_end how, uint16_t code)
{
	tx_emit_status(s, t, (unsigned)how < sizeof(tx_status) ? tx_status[how] : IPC_TX_UNKNOWN,
		       code);
}

static void
tx_emit_status(struct inspect_session *s, struct inspect_tx *t, uint8_t status, uint16_t code)
{
	struct ipc_tx *tx = t->rec;

	count(s, IPC_C_SMTP_TRANSACTIONS);
	t->rec = NULL;
	t->n_rcpt_slots = 0;
	if (tx == NULL)
		return;
	tx->ts_us = s->env->now_us;
	tx->flow_id = s->meta.flow_id;
	memcpy(tx->src_ip, s->meta.client_ip, 16);
	memcpy(tx->dst_ip, s->meta.server_ip, 16);
	tx->src_port = s->meta.client_port;
	tx->dst_port = s->meta.server_port;
	tx->ip_version = s->meta.ip_version;
	tx->status = status;
	tx->worker = (uint16_t)s->env->worker;
	tx->reply_code = code;
	if (tx->flags & IPC_TXF_TRUNCATED)
		count(s, IPC_C_FIELDS_TRUNCATED);
	s->env->tx_emit(s->env->io, tx);
}

static struct inspect_tx *
tx_by_seq(struct inspect_session *s, uint32_t seq)
{
	if (s->in_tx && s->cur.seq == seq)
		return &s->cur;
	if (s->waiting.rec != NULL && s->waiting.seq == seq)
		return &s->waiting;
	return NULL;
}

/* ---- SMTP hooks ---- */

static void
on_helo(void *ctx, struct slice name)
{
	struct inspect_session *s = ctx;
	size_t n = name.len < INSPECT_HELO_MAX ? name.len : INSPECT_HELO_MAX;

	memcpy(s->helo, name.ptr, n);
	s->helo_len = (uint16_t)n;
}

static void
on_ehlo_reply(void *ctx, uint16_t code, uint32_t extensions)
{
	struct inspect_session *s = ctx;

	s->smtp_ext = extensions;
	/* a HELO reply carries no extensions; only an accepted EHLO says the client spoke ESMTP */
	s->ehlo = code / 100 == 2 && extensions != 0;
}

static void
on_auth(void *ctx, struct slice mechanism, uint16_t code)
{
	struct inspect_session *s = ctx;
	size_t n = mechanism.len < INSPECT_AUTH_MECH_MAX ? mechanism.len : INSPECT_AUTH_MECH_MAX;

	memcpy(s->auth_mech, mechanism.ptr, n);
	s->auth_mech_len = (uint8_t)n;
	s->auth_code = code;
	if (code / 100 == 5)
		count(s, IPC_C_SMTP_AUTH_FAILED);
}

static void
on_tx_begin(void *ctx, uint32_t seq)
{
	struct inspect_session *s = ctx;
	struct inspect_env *env = s->env;
	struct ipc_tx *tx;

	/* The parser ends a transaction before the next begins unless its message is complete,
	 * in which case it was judged at on_data_end and moved to waiting. */
	if (s->in_tx)
		tx_judge(s);
	if (s->cur.rec != NULL)
		tx_emit(s, &s->cur, SMTP_TX_UNKNOWN, 0);
	s->in_tx = true;
	s->cur.seq = seq;
	s->cur.n_rcpt_slots = 0;
	s->cur.n_urls = 0;
	s->cur.seen_fields = 0;
	s->cur.rcpt_full = false;
	s->cur.block = 0;
	s->cur.full_fields = 0;
	s->cur.seen_types = 0;
	s->scopes.n = 0;
	s->scopes_at_rcpt = 0;
	s->comm_signals = 0;
	s->env_domain_len = 0;
	s->hdr_domain_len = 0;
	s->hdr_from_seen = false;
	s->hdr_rcpt_len = 0;
	/* The generation is chosen here and kept to the end: rules switch between messages. */
	s->gen = s->raw_gen != NULL ? s->raw_gen : env->gen;
	if (s->gen != NULL)
		scan_gen_pin(s->gen);
	scan_matches_reset(&s->matches);
	tx = s->cur.rec = env->tx_alloc(env->io);
	if (tx == NULL) {
		count(s, IPC_C_EVENTS_DROPPED);
	} else {
		ipc_tx_init(tx, IPC_TX_MAX);
		tx->tx_seq = s->tx_seq;
		tx->smtp_ext = s->smtp_ext;
		tx->auth_code = s->auth_code;
		if (s->ehlo)
			tx->mail_flags |= IPC_MAILF_EHLO;
		if (s->auth_mech_len > 0 &&
		    ipc_tx_add(tx, IPC_TX_MAX, IPC_F_AUTH_MECH, s->auth_mech, s->auth_mech_len) == NULL)
			count(s, IPC_C_FIELDS_TRUNCATED);
	}
	s->tx_seq++;
	inspect_value(s, BUF_SMTP_HELO, slice_make(s->helo, s->helo_len));
}

static void
on_mail_from(void *ctx, struct slice addr, const struct smtp_mail_params *p)
{
	struct inspect_session *s = ctx;
	struct ipc_tx *tx = s->cur.rec;

	inspect_value(s, BUF_SMTP_MAIL_FROM, addr);
	keep_domain(addr, s->env_domain, &s->env_domain_len);
	add_scope(s, SUPPRESS_SCOPE_SENDER, SUPPRESS_ORIGIN_ENVELOPE,
		  slice_make(s->env_domain, s->env_domain_len));
	if (tx == NULL)
		return;
	tx->mail_size = p->has_size ? p->size : 0;
	tx->mail_body = p->body;
	tx->mail_flags |= (p->has_size ? IPC_MAILF_SIZE : 0) |
			  (p->smtputf8 ? IPC_MAILF_SMTPUTF8 : 0) | (p->bad ? IPC_MAILF_BAD_PARAM : 0);
}

static void
on_rcpt(void *ctx, uint32_t idx, struct slice addr)
{
	struct inspect_session *s = ctx;
	struct ipc_rcpt head = { 0 };
	struct ipc_tx *tx = s->cur.rec;

	scan_value(s, BUF_SMTP_RCPT_TO, addr);
	if (lookup(s, addr, &head) > 0)
		count(s, IPC_C_SUPPRESS_HITS);
	if (head.verdict == IPC_SUPPRESS_VIOLATION && sender_is_commercial(s) &&
	    s->env->rcpt_refuse(s->env->io, &s->meta, addr)) {
		head.flags |= IPC_RCPTF_REFUSED;
		count(s, IPC_C_INLINE_RCPT_REFUSED);
	}
	s->scopes_at_rcpt = (uint8_t)s->scopes.n;
	if (tx == NULL)
		return;
	tx->n_rcpt++;

	/* a recipient on the suppression list matters more than any header: more room */
	bool listed = head.verdict != IPC_SUPPRESS_NONE;
	size_t cap = listed ? INSPECT_LIST_CAP : INSPECT_RCPT_CAP;
	struct ipc_rcpt *slot = NULL;

	if (listed || !s->cur.rcpt_full)
		slot = ipc_tx_add2(tx, cap, IPC_F_RCPT, &head, sizeof(head), addr.ptr, addr.len);
	if (slot == NULL) {
		s->cur.rcpt_full |= !listed;
		tx->flags |= IPC_TXF_TRUNCATED;
		count(s, IPC_C_FIELDS_TRUNCATED);
		return;
	}
	/* Keep the slot so the server's reply can be written into it later. */
	if (idx < INSPECT_RCPT_MAX) {
		s->cur.rcpt[idx] = slot;
		if (idx + 1 > s->cur.n_rcpt_slots)
			s->cur.n_rcpt_slots = idx + 1;
	}
}

static void
on_rcpt_reply(void *ctx, uint32_t seq, uint32_t idx, uint16_t code)
{
	struct inspect_tx *t = tx_by_seq(ctx, seq);

	if (t != NULL && t->rec != NULL && idx < t->n_rcpt_slots && t->rcpt[idx] != NULL)
		t->rcpt[idx]->reply_code = code;
}

static const struct mime_hooks inspect_mime_hooks;

static void
on_data_begin(void *ctx)
{
	struct inspect_session *s = ctx;

	if (s->cur.rec != NULL)
		s->cur.rec->flags |= IPC_TXF_HAS_DATA;
	mime_parser_init(&s->mime, &inspect_mime_hooks, s, s->env->words);
	s->msg_open = true;
}

static void
on_message(void *ctx, struct slice chunk)
{
	struct inspect_session *s = ctx;

	if (s->cur.rec != NULL)
		s->cur.rec->body_bytes += chunk.len;
	if (s->msg_open)
		mime_parser_feed(&s->mime, chunk.ptr, chunk.len);
}

static void
on_data_end(void *ctx)
{
	struct inspect_session *s = ctx;

	/* Complete: judged now, so a pipelined next transaction can start at once. */
	tx_judge(s);
	if (s->env->block != NULL && s->env->canspam != NULL && s->cur.rec != NULL) {
		struct canspam_result r;

		/* the same checks posternd alerts on, over the same record */
		canspam_check(s->env->canspam, s->cur.rec, &r);
		if (r.kind == CANSPAM_COMMERCIAL && r.failed != 0)
			s->cur.block |= IPC_TXF_BLOCKED_CANSPAM;
	}
	bool blocked = s->cur.block != 0 && s->env->block != NULL &&
		       s->env->block(s->env->io, &s->meta, s->cur.block);

	if (blocked && s->cur.rec != NULL)
		s->cur.rec->flags |= s->cur.block;
	if (s->waiting.rec != NULL) /* the parser ends it first; guard all the same */
		tx_emit(s, &s->waiting, SMTP_TX_UNKNOWN, 0);
	s->waiting = s->cur;
	s->cur.rec = NULL;
	s->cur.n_rcpt_slots = 0;
	s->in_tx = false;
	if (s->waiting.rec == NULL)
		s->waiting.seq = s->cur.seq; /* no record, but its end still counts */
	if (blocked) {
		/* Withheld: the server never has the message, the client has its answer. The
		 * transaction is over now, and nothing the parser says of it later matches. */
		s->waiting.seq = INSPECT_TX_SEQ_NONE;
		tx_emit_status(s, &s->waiting, IPC_TX_BLOCKED, s->env->block_code);
	}
}

static void
on_tx_end(void *ctx, uint32_t seq, enum smtp_tx_end how, uint16_t code)
{
	struct inspect_session *s = ctx;

	if (s->in_tx && s->cur.seq == seq) {
		tx_judge(s);
		s->in_tx = false;
		tx_emit(s, &s->cur, how, code);
		return;
	}
	if (s->waiting.seq == seq)
		tx_emit(s, &s->waiting, how, code);
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
	struct inspect_session *s = ctx;

	switch (what) {
	case SMTP_AN_GAP:
		/* Gaps are the reassembler's to count; the parser only resynchronises after them. */
		return;
	case SMTP_AN_LINE_TOO_LONG:
		count(s, IPC_C_SMTP_LINE_TOO_LONG);
		return;
	case SMTP_AN_STARTTLS_INJECTION:
		count(s, IPC_C_SMTP_STARTTLS_INJECTION);
		if (s->env->event != NULL)
			s->env->event(s->env->io, &s->meta, IPC_EV_SMTP_STARTTLS_INJECTION, 0);
		return;
	case SMTP_AN_BDAT_REJECTED:
		count(s, IPC_C_SMTP_BDAT_REJECTED);
		return;
	case SMTP_AN_AUTH_FAILED:
		return; /* counted by on_auth */
	default:
		count(s, IPC_C_SMTP_PARSE_ERRORS);
		return;
	}
}

static const struct smtp_hooks inspect_hooks = {
	.on_helo = on_helo,
	.on_ehlo_reply = on_ehlo_reply,
	.on_auth = on_auth,
	.on_tx_begin = on_tx_begin,
	.on_mail_from = on_mail_from,
	.on_rcpt = on_rcpt,
	.on_rcpt_reply = on_rcpt_reply,
	.on_data_begin = on_data_begin,
	.on_message = on_message,
	.on_data_end = on_data_end,
	.on_tx_end = on_tx_end,
	.on_starttls = on_starttls,
	.on_anomaly = on_anomaly,
};

/* ---- MIME hooks: the message of the current transaction ---- */

/*
 * email.header: any header of the message, as "Name: value" with the value as a reader shows
 * it, so rules can match headers that have no buffer of their own (X-PHP-Originating-Script,
 * List-Unsubscribe, Received) and anchor on the name.
 */
static void
header_line_scan(struct inspect_session *s, struct slice name, struct slice value)
{
	uint8_t *out = s->env->header_line;
	size_t n = name.len < 254 ? name.len : 254;

	if (s->gen == NULL || !scan_gen_has_buffer(s->gen, BUF_EMAIL_HEADER))
		return;
	memcpy(out, name.ptr, n);
	out[n++] = ':';
	out[n++] = ' ';
	if (value.len > sizeof(s->env->header_line) - n)
		value.len = sizeof(s->env->header_line) - n;
	memcpy(out + n, value.ptr, value.len);
	scan_value(s, BUF_EMAIL_HEADER, slice_make(out, n + value.len));
}

static void
mime_on_header(void *ctx, const struct mime_part *part, struct slice name, struct slice value)
{
	struct inspect_session *s = ctx;
	int buf;
	unsigned n_bad = 0;
	bool truncated = false;

	/* email.* are the message's own headers, not those of its parts or enclosed messages */
	if (part->depth != 0)
		return;
	header_facts(s, name, value);
	buf = buffer_id_from_header((const char *)name.ptr, name.len);
	if (buf < 0 && !(s->gen != NULL && scan_gen_has_buffer(s->gen, BUF_EMAIL_HEADER)))
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
	header_line_scan(s, name, value);
	if (buf < 0)
		return;
	scan_value(s, (enum buffer_id)buf, value);
	record_add(s, (enum buffer_id)buf, value, truncated || mime_parser_header_cut(&s->mime));
}

static void
mime_on_part_begin(void *ctx, const struct mime_part *part)
{
	struct inspect_session *s = ctx;

	if (part->depth == 0)
		header_recipients_flush(s);
	count(s, IPC_C_MIME_PARTS);
	part_stream_close(s); /* a preamble before this part */
	if (part->multipart || part->message)
		return;
	if (part->name_len > 0) {
		struct slice name = slice_make(part->name, part->name_len);

		count(s, IPC_C_ATTACHMENTS);
		scan_value(s, BUF_FILE_NAME, name);
		if (s->cur.rec != NULL &&
		    ipc_tx_add(s->cur.rec, INSPECT_LIST_CAP, IPC_F_ATTACHMENT, name.ptr, name.len) == NULL)
			count(s, IPC_C_FIELDS_TRUNCATED);
	}
	part_stream_open(s);
}

static void
mime_on_part_data(void *ctx, const struct mime_part *part, struct slice data)
{
	(void)part;
	part_stream_write(ctx, data);
}

/* A multipart's text outside its parts: scanned too, as a stream of its own (see mime.h). */
static void
mime_on_preamble(void *ctx, const struct mime_part *part, struct slice data)
{
	struct inspect_session *s = ctx;

	(void)part;
	if (s->part == NULL)
		part_stream_open(s);
	part_stream_write(s, data);
}

static void
mime_on_part_end(void *ctx, const struct mime_part *part)
{
	struct inspect_session *s = ctx;

	if (part->n_garbage > 0)
		count(s, IPC_C_MIME_DECODE_ERRORS);
	part_stream_close(s);
}

/* Is this URL already in the record? Messages repeat the same link many times. */
static bool
url_recorded(const struct inspect_tx *t, struct slice url)
{
	for (unsigned i = 0; i < t->n_urls; i++)
		if (t->url_len[i] == url.len && memcmp(t->url[i], url.ptr, url.len) == 0)
			return true;
	return false;
}

static void
mime_on_url(void *ctx, const struct mime_part *part, struct slice url, bool truncated)
{
	struct inspect_session *s = ctx;
	struct ipc_tx *tx = s->cur.rec;

	(void)part;
	(void)truncated;
	count(s, IPC_C_URLS);
	const uint8_t *val;

	if (tx != NULL && url_recorded(&s->cur, url))
		return;
	scan_value(s, BUF_EMAIL_URL, url);
	if (tx == NULL)
		return;
	if (s->cur.n_urls >= INSPECT_URL_MAX ||
	    (val = ipc_tx_add(tx, INSPECT_LIST_CAP, IPC_F_URL, url.ptr, url.len)) == NULL) {
		tx->flags |= IPC_TXF_TRUNCATED;
		return;
	}
	s->cur.url[s->cur.n_urls] = val;
	s->cur.url_len[s->cur.n_urls++] = (uint16_t)(url.len < IPC_FIELD_MAX ? url.len
									       : IPC_FIELD_MAX);
}

static void
mime_on_anomaly(void *ctx, enum mime_anomaly what)
{
	struct inspect_session *s = ctx;

	/* the anomalies that look like hiding something from a sensor are events too */
	static const uint16_t events[MIME_AN__COUNT] = {
		[MIME_AN_NAME_MISMATCH] = IPC_EV_MIME_NAME_MISMATCH,
		[MIME_AN_DEPTH] = IPC_EV_MIME_DEPTH,
		[MIME_AN_NO_PARTS] = IPC_EV_MIME_NO_PARTS,
	};

	count(s, IPC_C_MIME_ANOMALIES);
	if ((unsigned)what < MIME_AN__COUNT && events[what] != 0 && s->env->event != NULL)
		s->env->event(s->env->io, &s->meta, events[what], 0);
}

static const struct mime_hooks inspect_mime_hooks = {
	.on_header = mime_on_header,
	.on_part_begin = mime_on_part_begin,
	.on_part_data = mime_on_part_data,
	.on_part_end = mime_on_part_end,
	.on_preamble = mime_on_preamble,
	.on_url = mime_on_url,
	.on_anomaly = mime_on_anomaly,
};

/* ---- API ---- */

void
inspect_flow_meta_from_key(struct inspect_flow_meta *meta, const struct flow_key *key,
			   unsigned client, uint64_t flow_id, bool midstream)
{
	*meta = (struct inspect_flow_meta){
		.flow_id = flow_id,
		.ip_version = key->ip_version,
		.midstream = midstream,
		.client_port = key->port[client],
		.server_port = key->port[client ^ 1],
	};
	memcpy(meta->client_ip, key->addr[client], 16);
	memcpy(meta->server_ip, key->addr[client ^ 1], 16);
}

void
inspect_session_init(struct inspect_session *s, struct inspect_env *env,
		     const struct inspect_flow_meta *meta)
{
	s->env = env;
	s->meta = *meta;
	s->gen = NULL;
	s->cur.rec = NULL;
	s->cur.n_rcpt_slots = 0;
	s->waiting.rec = NULL;
	s->waiting.n_rcpt_slots = 0;
	s->in_tx = false;
	s->msg_open = false;
	s->ehlo = false;
	s->client_spoke = false;
	s->tls = false;
	s->part = NULL;
	s->part_buf_len = 0;
	s->raw[0] = s->raw[1] = NULL;
	s->raw_failed[0] = s->raw_failed[1] = false;
	s->raw_gen = NULL;
	scan_matches_reset(&s->raw_matches);
	s->tx_seq = 0;
	s->helo_len = 0;
	s->auth_code = 0;
	s->auth_mech_len = 0;
	s->smtp_ext = 0;
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

/*
 * A client whose first byte opens a TLS record (content type 20-23: handshake, alert, ...)
 * speaks TLS from the start: implicit TLS (RFC 8314, port 465), or TLS on a port expected to
 * be cleartext. No SMTP command starts with such a control byte, so one byte decides.
 */
static bool
implicit_tls(struct inspect_session *s, bool to_server, const uint8_t *data, size_t len)
{
	if (!to_server || s->client_spoke || len == 0)
		return false;
	s->client_spoke = true;
	if (data[0] < 0x14 || data[0] > 0x17)
		return false;
	s->tls = true;
	count(s, IPC_C_SMTP_IMPLICIT_TLS);
	if (s->env->event != NULL)
		s->env->event(s->env->io, &s->meta, IPC_EV_SMTP_IMPLICIT_TLS, 0);
	return true;
}

void
inspect_session_data(struct inspect_session *s, bool to_server, const uint8_t *data, size_t len)
{
	raw_write(s, to_server, data, len);
	if (s->tls || implicit_tls(s, to_server, data, len))
		return;
	smtp_session_feed(&s->smtp, to_server, data, len);
}

static void
count_fired(void *ctx, const struct gen_rule *r)
{
	(void)r;
	(*(unsigned *)ctx)++;
}

/*
 * Raw-stream matches no transaction took (a session that never sent MAIL, bytes after the
 * last message, before a change of generation): when they make a rule fire, the session
 * gets a record of its own.
 */
static void
raw_judge_pending(struct inspect_session *s)
{
	struct scan_gen *g = s->raw_gen;
	struct scan_flow f;
	unsigned n_alerts = 0;

	if (g == NULL || s->raw_matches.n == 0) {
		scan_matches_reset(&s->raw_matches);
		return;
	}
	session_flow(s, &f);
	scan_eval(g, s->env->worker, &s->raw_matches, &f, count_fired, &n_alerts, NULL);
	if (n_alerts > 0) {
		s->cur.rec = s->env->tx_alloc(s->env->io);
		if (s->cur.rec == NULL) {
			count(s, IPC_C_EVENTS_DROPPED);
		} else {
			ipc_tx_init(s->cur.rec, IPC_TX_MAX);
			s->cur.rec->tx_seq = s->tx_seq;
			s->cur.rec->gen_id = scan_gen_id(g);
			judge_rules(s, g, &s->raw_matches, &f);
			tx_emit(s, &s->cur, SMTP_TX_UNKNOWN, 0);
		}
	}
	scan_matches_reset(&s->raw_matches);
}

/* The connection ended: its raw streams' last matches are judged. */
static void
raw_leftovers(struct inspect_session *s)
{
	raw_streams_end(s, &s->raw_matches);
	raw_judge_pending(s);
	raw_close(s);
}

void
inspect_session_close(struct inspect_session *s)
{
	smtp_session_close(&s->smtp);
	/* The parser ended every transaction; this only guards against records left behind. */
	if (s->in_tx) {
		tx_judge(s);
		s->in_tx = false;
		tx_emit(s, &s->cur, SMTP_TX_ABORTED, 0);
	}
	if (s->waiting.rec != NULL)
		tx_emit(s, &s->waiting, SMTP_TX_UNKNOWN, 0);
	tx_release(s);
	raw_leftovers(s);
}

bool
inspect_session_is_opaque(const struct inspect_session *s)
{
	return s->tls || smtp_session_is_opaque(&s->smtp);
}
