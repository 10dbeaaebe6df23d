/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE JSON lines from transaction and stats records, with jansson. The smtp{} and email{}
 * objects of a transaction are built once and shared (by reference) by every line of it; each
 * line gets its own head (timestamp, flow, addresses) and its own alert{}. Wire bytes pass
 * through eve_utf8_sanitize() before they reach jansson, whose json_stringn() refuses invalid
 * UTF-8: a record never fails to print because of its content. posternd control thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "builtin_sids.h"
#include "addr_list.h"
#include "addr_norm.h"
#include "anomaly_model.h"
#include "business_days.h"
#include "bypass.h"
#include "canspam.h"
#include "eve.h"
#include "gen_format.h"
#include "slice.h"
#include "smtp_ext.h"
#include "suppress_db.h"

#define EVE_DEFAULT_SEVERITY 3  /* Suricata's priority for a rule without classtype */
#define EVE_META_KEY_MAX 64     /* longer metadata keys are skipped */
#define EVE_JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

static const char suppress_category[] = "CAN-SPAM compliance violation";
static const char bypass_category[] = "Mail sent around the compliance relay";
static const char hygiene_category[] = "Automated mail hygiene";
static const char anomaly_category[] = "Mail volume anomaly";

static const char *const anomaly_msgs[ANOMALY__COUNT] = {
	[ANOMALY_MESSAGES] = "POSTERN anomaly: messages a minute far above the baseline",
	[ANOMALY_RCPTS_PER_MSG] = "POSTERN anomaly: recipients in one message far above the "
				  "baseline",
	[ANOMALY_DISTINCT_RCPTS] = "POSTERN anomaly: distinct recipients an hour far above the "
				   "baseline",
	[ANOMALY_AUTH_FAILURES] = "POSTERN anomaly: AUTH failures far above the baseline",
	[ANOMALY_RCPTS_REJECTED] = "POSTERN anomaly: recipients rejected by the server far above "
				   "the baseline (directory harvesting)",
	[ANOMALY_SESSIONS] = "POSTERN anomaly: SMTP sessions a minute far above the baseline",
	[ANOMALY_BYTES] = "POSTERN anomaly: message bytes a minute far above the baseline",
};

void
eve_options_from_config(struct eve_options *opt, const struct postern_config *cfg)
{
	opt->address_output = cfg->address_output;
	opt->smtp_events = cfg->eve_smtp_events;
}

/*
 * Length of the well-formed UTF-8 sequence at p (at most n bytes), 0 if the byte at p does
 * not start one. Ranges from RFC 3629, section 4.
 */
static size_t
utf8_seq_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	uint8_t lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;  /* overlong */
		else if (c == 0xed)
			hi = 0x9f;  /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;  /* overlong */
		else if (c == 0xf4)
			hi = 0x8f;  /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return need;
}

size_t
eve_utf8_sanitize(const uint8_t *src, size_t len, uint8_t *dst)
{
	size_t out = 0;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(src + i, len - i);

		if (n == 0) {
			dst[out++] = 0xef;  /* U+FFFD */
			dst[out++] = 0xbf;
			dst[out++] = 0xbd;
			i++;
			continue;
		}
		memcpy(dst + out, src + i, n);
		out += n;
		i += n;
	}
	return out;
}

/* A JSON string from untrusted bytes. NULL only when out of memory. */
static json_t *
jstr(const void *p, size_t len)
{
	uint8_t small[3 * 256];
	uint8_t *buf = small;
	json_t *s;

	if (len > sizeof(small) / 3) {
		buf = malloc(3 * len);
		if (buf == NULL)
			return NULL;
	}
	s = json_stringn((const char *)buf, eve_utf8_sanitize(p, len, buf));
	if (buf != small)
		free(buf);
	return s;
}

static json_t *
jcstr(const char *s)
{
	return s == NULL ? json_string("") : jstr(s, strlen(s));
}

/* Set key to a new value; false when either allocation failed (the value is released). */
static bool
put(json_t *obj, const char *key, json_t *val)
{
	return val != NULL && json_object_set_new(obj, key, val) == 0;
}

static bool
append(json_t *arr, json_t *val)
{
	return val != NULL && json_array_append_new(arr, val) == 0;
}

static json_t *
juint(uint64_t v)
{
	/* json_int_t is signed: clamp rather than print a negative counter. */
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

int
eve_format_time_us(uint64_t ts_us, char *buf, size_t size)
{
	time_t secs = (time_t)(ts_us / 1000000u);
	unsigned usec = (unsigned)(ts_us % 1000000u);
	struct tm tm;
	char date[32];

	if (gmtime_r(&secs, &tm) == NULL || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S",
						      &tm) == 0)
		return -ERANGE;
	int n = snprintf(buf, size, "%s.%06u+0000", date, usec);
	return n < 0 || (size_t)n >= size ? -ERANGE : 0;
}

/* ISO-8601 UTC for suppression times; NULL (key left out) for 0 or an absurd value. */
static json_t *
iso_time(int64_t t)
{
	time_t secs = (time_t)t;
	struct tm tm;
	char buf[32];

	if (t <= 0 || gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return NULL;
	if (strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	return json_string(buf);
}

/*
 * Client and server addresses. IPv4 travels as ::ffff:a.b.c.d; IPv6 is printed the way
 * Suricata prints it (eight groups of four hex digits, no "::" compression) so that the same
 * flow looks the same in Postern's and Suricata's logs.
 */
static void
format_ip(const uint8_t ip[16], uint8_t version, char *buf, size_t size)
{
	if (version == 4) {
		snprintf(buf, size, "%u.%u.%u.%u", ip[12], ip[13], ip[14], ip[15]);
		return;
	}
	size_t n = 0;

	for (int g = 0; g < 8 && n < size; g++)
		n += (size_t)snprintf(buf + n, size - n, "%s%02x%02x", g ? ":" : "", ip[2 * g],
				      ip[2 * g + 1]);
}

/* The addr-spec of "Name <local@domain>" (what is inside the last <...>), else the whole. */
static struct slice
addr_spec(struct slice t, bool *bracketed)
{
	*bracketed = false;
	for (size_t i = t.len; i > 0; i--) {
		if (t.ptr[i - 1] == '<') {
			const uint8_t *start = t.ptr + i;
			const uint8_t *end = memchr(start, '>', t.len - i);

			*bracketed = true;
			return slice_make(start, end != NULL ? (size_t)(end - start) : t.len - i);
		}
	}
	return t;
}

/*
 * Lowercase hex SHA-256 of the normalized address: the very key the suppression set stores,
 * so a SOC can match hashed alerts against an exported set without holding addresses.
 * A value that is no address is hashed as it is.
 */
static json_t *
addr_hash(const uint8_t *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct addr_hasher h;
	uint8_t key[ADDR_KEY_LEN];
	char norm[ADDR_NORM_CAP];
	char out[2 * ADDR_KEY_LEN + 1];
	bool bracketed;
	struct slice a = addr_spec(slice_trim(slice_make(p, len)), &bracketed);
	int n = addr_normalize(a, 0, norm, sizeof(norm));
	int rc;

	addr_hasher_init(&h);
	rc = n >= 0 ? addr_hasher_key(&h, norm, (size_t)n, key)
		    : addr_hasher_key(&h, (const char *)p, len, key);
	addr_hasher_fini(&h);
	if (rc < 0)
		return NULL;
	for (unsigned i = 0; i < ADDR_KEY_LEN; i++) {
		out[2 * i] = hex[key[i] >> 4];
		out[2 * i + 1] = hex[key[i] & 0xf];
	}
	out[2 * ADDR_KEY_LEN] = '\0';
	return json_string(out);
}

/*
 * "Name <local@domain>" -> "<***@domain>", "local@domain" -> "***@domain". The display name
 * goes too: it names the person as surely as the local part does. The last '@' separates the
 * domain because a quoted local part may itself hold one.
 */
static json_t *
addr_redact(const uint8_t *p, size_t len)
{
	bool bracketed;
	struct slice a = addr_spec(slice_trim(slice_make(p, len)), &bracketed);
	uint8_t buf[IPC_FIELD_MAX + 8];
	size_t n = 0;

	const uint8_t *at = NULL;
	for (size_t i = a.len; i > 0; i--) {
		if (a.ptr[i - 1] == '@') {
			at = a.ptr + i - 1;
			break;
		}
	}

	size_t domain_len = at != NULL ? a.len - (size_t)(at - a.ptr) - 1 : 0;

	/* Bound the domain so that the worst case still fits buf. */
	if (domain_len > IPC_FIELD_MAX)
		domain_len = IPC_FIELD_MAX;
	if (bracketed)
		buf[n++] = '<';
	if (a.len > 0) {
		memcpy(buf + n, "***", 3);
		n += 3;
	}
	if (at != NULL) {
		buf[n++] = '@';
		memcpy(buf + n, at + 1, domain_len);
		n += domain_len;
	}
	if (bracketed)
		buf[n++] = '>';
	return jstr(buf, n);
}

static json_t *
addr_json(const struct eve_options *opt, const uint8_t *p, size_t len)
{
	switch (opt->address_output) {
	case CONFIG_ADDR_HASH:
		return addr_hash(p, len);
	case CONFIG_ADDR_REDACT:
		return addr_redact(p, len);
	case CONFIG_ADDR_PLAIN:
	default:
		return jstr(p, len);
	}
}

/* Append each address of a To/Cc header value (see addr_list.h), empty elements skipped. */
static bool
append_addr_list(json_t *arr, const struct eve_options *opt, const uint8_t *p, size_t len)
{
	struct slice list = slice_make(p, len), el;
	size_t pos = 0;

	while (addr_list_next(list, &pos, &el))
		if (el.len > 0 && !append(arr, addr_json(opt, el.ptr, el.len)))
			return false;
	return true;
}

/*
 * Suricata's metadata: "k v, k2 v2" becomes {"k":["v"],"k2":["v2"]}; a key seen twice
 * collects both values. Entries without a value are skipped (Suricata refuses such a rule,
 * so it cannot reach here from a pack it would load). Returns NULL with *ok true when there
 * is nothing to print.
 */
static json_t *
metadata_json(const char *raw, bool *ok)
{
	json_t *obj;
	struct slice s;

	*ok = true;
	if (raw == NULL || *raw == '\0')
		return NULL;
	obj = json_object();
	if (obj == NULL)
		goto nomem;
	s = slice_from_cstr(raw);
	while (s.len > 0) {
		const uint8_t *comma = memchr(s.ptr, ',', s.len);
		size_t n = comma != NULL ? (size_t)(comma - s.ptr) : s.len;
		struct slice kv = slice_trim(slice_make(s.ptr, n));

		s = comma != NULL ? slice_make(comma + 1, s.len - n - 1) : slice_make(NULL, 0);

		const uint8_t *sp = memchr(kv.ptr, ' ', kv.len);
		if (sp == NULL)
			continue;
		size_t klen = (size_t)(sp - kv.ptr);
		struct slice val = slice_trim(slice_make(sp, kv.len - klen));
		uint8_t key[3 * EVE_META_KEY_MAX + 1];

		if (val.len == 0 || klen > EVE_META_KEY_MAX)
			continue;
		/* Keys become object keys, which jansson also wants in UTF-8. */
		key[eve_utf8_sanitize(kv.ptr, klen, key)] = '\0';

		json_t *arr = json_object_get(obj, (const char *)key);
		if (arr == NULL) {
			arr = json_array();
			if (!put(obj, (const char *)key, arr))
				goto nomem;
		}
		if (!append(arr, jstr(val.ptr, val.len)))
			goto nomem;
	}
	if (json_object_size(obj) == 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
nomem:
	json_decref(obj);
	*ok = false;
	return NULL;
}

static const char *
tx_status_name(uint8_t status)
{
	switch (status) {
	case IPC_TX_DELIVERED:
		return "delivered";
	case IPC_TX_REJECTED:
		return "rejected";
	case IPC_TX_ABORTED:
		return "aborted";
	case IPC_TX_BLOCKED:
		return "blocked";
	default:
		return "unknown";
	}
}

/*
 * What happened to the message, as Suricata prints what happened to the packet: a drop or
 * reject rule blocks only where the dataplane sits inline and withheld the message (the
 * record says so); watching a copy, it is reported and let through, like an alert.
 */
static const char *
action_name(const struct ipc_tx *tx, uint8_t action)
{
	return (action == GEN_ACTION_DROP || action == GEN_ACTION_REJECT) &&
			       (tx->flags & IPC_TXF_BLOCKED_RULE)
		       ? "blocked"
		       : "allowed";
}

/* Everything a transaction's lines share, built once. */
struct tx_view {
	const struct ipc_tx *tx;
	const struct eve_options *opt;
	json_t *smtp;
	json_t *email;
	char ts[EVE_TIME_MAX];
	char src[48];
	char dst[48];
};

/* The first field of a type, or NULL. */
static const struct ipc_field *
first_field(const struct ipc_tx *tx, uint16_t type)
{
	for (const struct ipc_field *f = ipc_tx_next(tx, NULL); f != NULL; f = ipc_tx_next(tx, f))
		if (f->type == type)
			return f;
	return NULL;
}

static bool
put_field_str(json_t *obj, const char *key, const struct ipc_tx *tx, uint16_t type)
{
	const struct ipc_field *f = first_field(tx, type);

	return f == NULL || put(obj, key, jstr(ipc_field_value(f), f->len));
}

static bool
put_field_addr(json_t *obj, const char *key, const struct tx_view *v, uint16_t type)
{
	const struct ipc_field *f = first_field(v->tx, type);

	return f == NULL || put(obj, key, addr_json(v->opt, ipc_field_value(f), f->len));
}

/* Set obj[key] to the array, or drop it when empty: absent fields are left out. */
static bool
put_nonempty(json_t *obj, const char *key, json_t *arr)
{
	if (json_array_size(arr) == 0) {
		json_decref(arr);
		return true;
	}
	return put(obj, key, arr);
}

/* Address lists (rcpt_to, to, cc) from every field of a type; left out when empty. */
static bool
put_addr_array(json_t *obj, const char *key, const struct tx_view *v, uint16_t type)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return false;
	for (const struct ipc_field *f = ipc_tx_next(v->tx, NULL); f != NULL;
	     f = ipc_tx_next(v->tx, f)) {
		if (f->type != type)
			continue;
		const uint8_t *val = ipc_field_value(f);
		bool ok;

		if (type == IPC_F_RCPT)
			ok = append(arr, addr_json(v->opt, val + sizeof(struct ipc_rcpt),
						   f->len - sizeof(struct ipc_rcpt)));
		else
			ok = append_addr_list(arr, v->opt, val, f->len);
		if (!ok) {
			json_decref(arr);
			return false;
		}
	}
	return put_nonempty(obj, key, arr);
}

/* Plain string lists (email.attachment, email.url) from every field of a type. */
static bool
put_str_array(json_t *obj, const char *key, const struct ipc_tx *tx, uint16_t type)
{
	json_t *arr = json_array();

	if (arr == NULL)
		return false;
	for (const struct ipc_field *f = ipc_tx_next(tx, NULL); f != NULL; f = ipc_tx_next(tx, f)) {
		if (f->type == type && !append(arr, jstr(ipc_field_value(f), f->len))) {
			json_decref(arr);
			return false;
		}
	}
	return put_nonempty(obj, key, arr);
}

/* smtp.extensions: what the server's EHLO reply offered. */
static bool
put_extensions(json_t *smtp, const struct ipc_tx *tx)
{
	json_t *arr;

	if (tx->smtp_ext == 0)
		return true;
	arr = json_array();
	if (arr == NULL)
		return false;
	for (int e = 0; e < SMTP_EXT__COUNT; e++) {
		if ((tx->smtp_ext & (1u << e)) && !append(arr, json_string(smtp_ext_name(e)))) {
			json_decref(arr);
			return false;
		}
	}
	return put(smtp, "extensions", arr);
}

/* smtp.auth: the mechanism and how the server answered; never any credential. */
static bool
put_auth(json_t *smtp, const struct ipc_tx *tx)
{
	const struct ipc_field *mech = first_field(tx, IPC_F_AUTH_MECH);
	json_t *auth;

	if (mech == NULL && tx->auth_code == 0)
		return true;
	auth = json_object();
	if (auth == NULL || !put(smtp, "auth", auth))
		return false;
	return (mech == NULL || put(auth, "mechanism", jstr(ipc_field_value(mech), mech->len))) &&
	       put(auth, "result", json_string(tx->auth_code / 100 == 2   ? "success"
					       : tx->auth_code == 0       ? "unknown"
									  : "failure")) &&
	       (tx->auth_code == 0 || put(auth, "reply_code", json_integer(tx->auth_code)));
}

/* smtp.mail_params: the MAIL FROM parameters that say what the message is. */
static bool
put_mail_params(json_t *smtp, const struct ipc_tx *tx)
{
	static const char *const body_names[] = {
		[IPC_BODY_7BIT] = "7BIT",
		[IPC_BODY_8BITMIME] = "8BITMIME",
		[IPC_BODY_BINARYMIME] = "BINARYMIME",
		[IPC_BODY_OTHER] = "other",
	};
	json_t *p;

	if (tx->mail_body == IPC_BODY_NONE &&
	    !(tx->mail_flags & (IPC_MAILF_SIZE | IPC_MAILF_SMTPUTF8 | IPC_MAILF_BAD_PARAM)))
		return true;
	p = json_object();
	if (p == NULL || !put(smtp, "mail_params", p))
		return false;
	return (!(tx->mail_flags & IPC_MAILF_SIZE) ||
		put(p, "size", json_integer((json_int_t)tx->mail_size))) &&
	       (tx->mail_body == IPC_BODY_NONE || tx->mail_body > IPC_BODY_OTHER ||
		put(p, "body", json_string(body_names[tx->mail_body]))) &&
	       (!(tx->mail_flags & IPC_MAILF_SMTPUTF8) || put(p, "smtputf8", json_true())) &&
	       (!(tx->mail_flags & IPC_MAILF_BAD_PARAM) || put(p, "malformed", json_true()));
}

static int
tx_view_init(struct tx_view *v, const struct ipc_tx *tx, const struct eve_options *opt)
{
	bool ok = true;

	memset(v, 0, sizeof(*v));
	v->tx = tx;
	v->opt = opt;
	if (eve_format_time_us(tx->ts_us, v->ts, sizeof(v->ts)) < 0)
		snprintf(v->ts, sizeof(v->ts), "1970-01-01T00:00:00.000000+0000");
	format_ip(tx->src_ip, tx->ip_version, v->src, sizeof(v->src));
	format_ip(tx->dst_ip, tx->ip_version, v->dst, sizeof(v->dst));

	v->smtp = json_object();
	v->email = json_object();
	if (v->smtp == NULL || v->email == NULL)
		return -ENOMEM;
	ok = ok && put_field_str(v->smtp, "helo", tx, IPC_F_HELO);
	ok = ok && put_field_addr(v->smtp, "mail_from", v, IPC_F_MAIL_FROM);
	ok = ok && put_addr_array(v->smtp, "rcpt_to", v, IPC_F_RCPT);
	/* a record cut at its bounds says so: the SOC must not read a list as complete */
	if (tx->flags & IPC_TXF_TRUNCATED) {
		json_t *rcpt = json_object_get(v->smtp, "rcpt_to");

		if (tx->n_rcpt > (rcpt != NULL ? json_array_size(rcpt) : 0))
			ok = ok && put(v->smtp, "rcpt_count", json_integer(tx->n_rcpt));
	}
	ok = ok && put_extensions(v->smtp, tx);
	ok = ok && put_auth(v->smtp, tx);
	ok = ok && put_mail_params(v->smtp, tx);

	ok = ok && put_field_addr(v->email, "from", v, IPC_F_EMAIL_FROM);
	ok = ok && put_addr_array(v->email, "to", v, IPC_F_EMAIL_TO);
	ok = ok && put_addr_array(v->email, "cc", v, IPC_F_EMAIL_CC);
	ok = ok && put_field_str(v->email, "subject", tx, IPC_F_SUBJECT);
	ok = ok && put_field_str(v->email, "message_id", tx, IPC_F_MESSAGE_ID);
	ok = ok && put_field_str(v->email, "date", tx, IPC_F_DATE);
	ok = ok && put_field_str(v->email, "x_mailer", tx, IPC_F_X_MAILER);
	ok = ok && put_str_array(v->email, "attachment", tx, IPC_F_ATTACHMENT);
	ok = ok && put_str_array(v->email, "url", tx, IPC_F_URL);
	if (tx->flags & IPC_TXF_TRUNCATED)
		ok = ok && put(v->email, "truncated", json_true());
	ok = ok && put(v->email, "status", json_string(tx_status_name(tx->status)));
	return ok ? 0 : -ENOMEM;
}

static void
tx_view_fini(struct tx_view *v)
{
	json_decref(v->smtp);
	json_decref(v->email);
	v->smtp = NULL;
	v->email = NULL;
}

/* A line's common head, up to tx_id; the caller adds its own objects after it. */
static json_t *
line_head(const struct tx_view *v, const char *event_type)
{
	const struct ipc_tx *tx = v->tx;
	json_t *o = json_object();
	bool ok;

	if (o == NULL)
		return NULL;
	/* flow_id: a JSON integer is signed 64-bit in jansson, keep it non-negative. */
	ok = put(o, "timestamp", json_string(v->ts)) &&
	     put(o, "flow_id", json_integer((json_int_t)(tx->flow_id & INT64_MAX))) &&
	     put(o, "event_type", json_string(event_type)) &&
	     put(o, "src_ip", json_string(v->src)) &&
	     put(o, "src_port", json_integer(tx->src_port)) &&
	     put(o, "dest_ip", json_string(v->dst)) &&
	     put(o, "dest_port", json_integer(tx->dst_port)) &&
	     put(o, "proto", json_string("TCP")) &&
	     put(o, "app_proto", json_string("smtp")) &&
	     put(o, "tx_id", json_integer(tx->tx_seq));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Add the shared smtp{} and email{}, print the line and hand it to emit. Takes line. */
static int
finish_line(const struct tx_view *v, json_t *line, const char *event_type, eve_line_fn emit,
	    void *emit_ctx)
{
	int rc = -ENOMEM;

	if (json_object_set(line, "smtp", v->smtp) == 0 &&
	    json_object_set(line, "email", v->email) == 0) {
		char *s = json_dumps(line, EVE_JSON_FLAGS);

		if (s != NULL) {
			rc = emit(emit_ctx, s, strlen(s), event_type);
			free(s);
		}
	}
	json_decref(line);
	return rc < 0 ? rc : 0;
}

static json_t *
alert_obj(const char *action, uint32_t gid, uint32_t sid, uint32_t rev,
	  const struct eve_rule_info *info)
{
	json_t *a = json_object();
	json_t *meta;
	bool ok;
	int sev = info->severity >= 1 && info->severity <= 255 ? info->severity
							       : EVE_DEFAULT_SEVERITY;

	if (a == NULL)
		return NULL;
	ok = put(a, "action", json_string(action)) && put(a, "gid", json_integer(gid)) &&
	     put(a, "signature_id", json_integer(sid)) && put(a, "rev", json_integer(rev)) &&
	     put(a, "signature", jcstr(info->msg)) && put(a, "category", jcstr(info->category)) &&
	     put(a, "severity", json_integer(sev));
	if (ok) {
		meta = metadata_json(info->metadata, &ok);
		if (meta != NULL)
			ok = put(a, "metadata", meta);
	}
	if (!ok) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* Postern's own signatures (common/builtin_sids.h): what each alert says, for posternd's
 * alerts and for a lookup that misses them. */
static const struct {
	uint32_t sid;
	const char *msg;
	const char *category;
	int severity;
} builtins[] = {
	{ SID_SUPPRESS_GRACE, "POSTERN suppression: recipient opted out, inside the grace period",
	  suppress_category, 3 },
	{ SID_SUPPRESS_VIOLATION, "POSTERN suppression: mail to a recipient who opted out",
	  suppress_category, 1 },
	{ SID_CANSPAM, "POSTERN CAN-SPAM: a commercial message fails a requirement",
	  suppress_category, 2 },
	{ SID_HYGIENE, "POSTERN hygiene: automated mail with missing or broken headers",
	  hygiene_category, 3 },
	{ SID_BYPASS_RELAY, "POSTERN bypass: an internal client mailed around the sanctioned relays",
	  bypass_category, 2 },
	{ SID_BYPASS_NEW_HOST, "POSTERN bypass: a host spoke SMTP for the first time",
	  bypass_category, 3 },
};

static bool
builtin_info(uint32_t gid, uint32_t sid, struct eve_rule_info *out)
{
	if (gid != BUILTIN_GID)
		return false;
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		if (builtins[i].sid == sid) {
			*out = (struct eve_rule_info){ .msg = builtins[i].msg,
						       .category = builtins[i].category,
						       .severity = builtins[i].severity };
			return true;
		}
	}
	if (sid >= SID_ANOMALY_BASE && sid < SID_ANOMALY_BASE + ANOMALY__COUNT) {
		*out = (struct eve_rule_info){ .msg = anomaly_msgs[sid - SID_ANOMALY_BASE],
					       .category = anomaly_category,
					       .severity = 2 };
		return true;
	}
	return false;
}

static int
emit_rule_alert(const struct tx_view *v, const struct ipc_field *f, eve_rule_lookup_fn lookup,
		void *lookup_ctx, eve_line_fn emit, void *emit_ctx)
{
	struct ipc_alert al;
	struct eve_rule_info info = { .severity = EVE_DEFAULT_SEVERITY };

	memcpy(&al, ipc_field_value(f), sizeof(al));
	if ((lookup == NULL || !lookup(lookup_ctx, v->tx, al.gid, al.sid, &info)) &&
	    !builtin_info(al.gid, al.sid, &info))
		info = (struct eve_rule_info){ .severity = EVE_DEFAULT_SEVERITY };
	if (info.suppressed)
		return 1; /* not a line */

	json_t *line = line_head(v, "alert");
	if (line == NULL || !put(line, "alert", alert_obj(action_name(v->tx, al.action), al.gid, al.sid,
							  al.rev, &info))) {
		json_decref(line);
		return -ENOMEM;
	}
	return finish_line(v, line, "alert", emit, emit_ctx);
}

/* A recipient counts when the server accepted it, or when its answer was not seen. */
static bool
rcpt_is_accepted(uint16_t reply_code)
{
	return reply_code == 0 || (reply_code >= 200 && reply_code <= 299);
}

static const char *
scope_name(uint8_t scope)
{
	switch (scope) {
	case SUPPRESS_SCOPE_ALL:
		return "all";
	case SUPPRESS_SCOPE_SENDER:
		return "sender";
	case SUPPRESS_SCOPE_LIST:
		return "list";
	default:
		return "unknown";
	}
}

/* What the entry was scoped to, as the message showed it: the sender domain or List-Id. */
static json_t *
scope_value(const struct tx_view *v, uint8_t origin)
{
	char id[SUPPRESS_LIST_ID_MAX + 1];
	const struct ipc_field *f;
	struct slice val, a;
	size_t pos = 0;
	const uint8_t *at;
	int n;

	switch (origin) {
	case SUPPRESS_ORIGIN_ENVELOPE:
	case SUPPRESS_ORIGIN_HEADER:
		f = first_field(v->tx, origin == SUPPRESS_ORIGIN_ENVELOPE ? IPC_F_MAIL_FROM
									    : IPC_F_EMAIL_FROM);
		if (f == NULL)
			return NULL;
		val = slice_make(ipc_field_value(f), f->len);
		if (!addr_list_next(val, &pos, &a))
			return NULL;
		a = addr_list_mailbox(a);
		if ((at = memrchr(a.ptr, '@', a.len)) == NULL)
			return NULL;
		val = slice_make(at + 1, a.len - (size_t)(at + 1 - a.ptr));
		return json_stringn((const char *)val.ptr, val.len);
	case SUPPRESS_ORIGIN_LIST_ID:
		f = first_field(v->tx, IPC_F_LIST_ID);
		if (f == NULL)
			return NULL;
		n = suppress_list_id(slice_make(ipc_field_value(f), f->len), id, sizeof(id));
		return n > 0 ? json_stringn(id, (size_t)n) : NULL;
	default:
		return NULL;
	}
}

static const struct {
	uint16_t bit;
	const char *name;
} commercial_names[] = {
	{ IPC_COMM_RULE, "rule" },
	{ IPC_COMM_SENDER, "sender" },
	{ IPC_COMM_HOST, "host" },
	{ IPC_COMM_LIST_UNSUB, "list-unsubscribe" },
	{ IPC_COMM_LIST_ID, "list-id" },
	{ IPC_COMM_PRECEDENCE, "precedence" },
	{ IPC_COMM_DEFAULT, "default" },
};

/* Why the message counts as commercial, e.g. ["list-unsubscribe", "precedence"]. */
static json_t *
commercial_reasons(uint16_t c)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < sizeof(commercial_names) / sizeof(commercial_names[0]);
	     i++)
		if ((c & commercial_names[i].bit) && !append(a, json_string(commercial_names[i].name))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
suppression_obj(const struct tx_view *v, const struct ipc_rcpt *r, const uint8_t *addr,
		size_t addr_len, bool in_header)
{
	const struct bday_calendar *cal =
		v->opt->calendar != NULL ? v->opt->calendar : bday_calendar_default();
	int64_t elapsed = bday_elapsed(cal, r->optout_time, (int64_t)(v->tx->ts_us / 1000000));
	json_t *s = json_object();
	json_t *t;
	bool ok;

	if (s == NULL)
		return NULL;
	ok = put(s, "recipient", addr_json(v->opt, addr, addr_len)) &&
	     put(s, "recipient_in", json_string(in_header ? "header" : "envelope")) &&
	     put(s, "verdict",
		 json_string(r->verdict == IPC_SUPPRESS_GRACE ? "grace" : "violation")) &&
	     put(s, "scope", json_string(scope_name(r->scope))) &&
	     put(s, "domain_wide", json_boolean(r->domain_wide));
	if (ok && r->scope != SUPPRESS_SCOPE_ALL && (t = scope_value(v, r->origin)) != NULL)
		ok = put(s, "scope_value", t);
	if (ok && (t = iso_time(r->optout_time)) != NULL)
		ok = put(s, "optout_time", t);
	if (ok && (t = iso_time(r->grace_end)) != NULL)
		ok = put(s, "grace_end", t);
	if (ok && r->optout_time > 0 && elapsed >= 0)
		ok = put(s, "business_days_elapsed", json_integer(elapsed)) &&
		     put(s, "grace_business_days", json_integer(SUPPRESS_GRACE_BUSINESS_DAYS)) &&
		     put(s, "calendar_tz", json_string(bday_calendar_tz(cal)));
	if (ok && (v->tx->commercial & IPC_COMM_YES))
		ok = put(s, "commercial", commercial_reasons(v->tx->commercial));
	if (ok && !in_header && (r->flags & IPC_RCPTF_REFUSED))
		ok = put(s, "refused_at_rcpt", json_true());
	if (!ok) {
		json_decref(s);
		return NULL;
	}
	return s;
}

/* A header address that is also an envelope recipient of the record: alerted once, there. */
static bool
in_envelope(const struct ipc_tx *tx, const uint8_t *addr, size_t len)
{
	char a[ADDR_NORM_CAP], b[ADDR_NORM_CAP];

	if (addr_normalize(slice_make(addr, len), 0, a, sizeof(a)) < 0)
		return false;
	for (const struct ipc_field *f = ipc_tx_next(tx, NULL); f != NULL; f = ipc_tx_next(tx, f)) {
		if (f->type != IPC_F_RCPT || f->len < sizeof(struct ipc_rcpt))
			continue;
		if (addr_normalize(slice_make(ipc_field_value(f) + sizeof(struct ipc_rcpt),
					      f->len - sizeof(struct ipc_rcpt)),
				   0, b, sizeof(b)) >= 0 &&
		    strcasecmp(a, b) == 0)
			return true;
	}
	return false;
}

/* Returns 1 when a line was emitted, 0 when the recipient needs none, or a negative errno. */
static int
emit_suppress_alert(const struct tx_view *v, const struct ipc_field *f, eve_line_fn emit,
		    void *emit_ctx)
{
	struct ipc_rcpt r;
	struct eve_rule_info info;
	uint32_t sid;

	memcpy(&r, ipc_field_value(f), sizeof(r));
	/* Only commercial mail is subject to an opt-out (a record judged before this field
	 * existed, or cut before its judgement, counts as commercial). */
	if ((v->tx->commercial & IPC_COMM_DECIDED) && !(v->tx->commercial & IPC_COMM_YES))
		return 0;
	if (f->type == IPC_F_HDR_RCPT &&
	    in_envelope(v->tx, ipc_field_value(f) + sizeof(r), f->len - sizeof(r)))
		return 0;
	if (r.verdict == IPC_SUPPRESS_GRACE)
		sid = SID_SUPPRESS_GRACE;
	else if (r.verdict == IPC_SUPPRESS_VIOLATION)
		sid = SID_SUPPRESS_VIOLATION;
	else
		return 0;
	/* refused by the inline dataplane at RCPT time: reported, whatever the server said */
	bool refused = f->type == IPC_F_RCPT && (r.flags & IPC_RCPTF_REFUSED);

	if (!rcpt_is_accepted(r.reply_code) && !refused)
		return 0;
	builtin_info(BUILTIN_GID, sid, &info);
	/* an envelope recipient in violation is what blocks with block_suppressed */
	bool blocked = refused || ((v->tx->flags & IPC_TXF_BLOCKED_SUPPRESSED) &&
				   f->type == IPC_F_RCPT && r.verdict == IPC_SUPPRESS_VIOLATION);

	json_t *line = line_head(v, "alert");
	bool ok = line != NULL &&
		  put(line, "alert", alert_obj(blocked ? "blocked" : "allowed", BUILTIN_GID, sid, 1,
					       &info)) &&
		  put(line, "suppression",
		      suppression_obj(v, &r, ipc_field_value(f) + sizeof(r),
				      f->len - sizeof(r), f->type == IPC_F_HDR_RCPT));
	if (!ok) {
		json_decref(line);
		return -ENOMEM;
	}
	int rc = finish_line(v, line, "alert", emit, emit_ctx);
	return rc < 0 ? rc : 1;
}

static json_t *canspam_obj(const struct canspam_result *r);

/*
 * The head of a transaction's smtp event, with what posternd concluded about the message:
 * why it is commercial, and every CAN-SPAM check's outcome, also when all passed (a SOC
 * looking for compliant campaigns needs those as much as the failures).
 */
static json_t *
smtp_line(const struct tx_view *v, const struct canspam_result *cs)
{
	json_t *line = line_head(v, "smtp");
	bool ok = line != NULL;

	if (ok && (v->tx->commercial & IPC_COMM_YES))
		ok = put(line, "commercial", commercial_reasons(v->tx->commercial));
	if (ok && cs != NULL && cs->kind != CANSPAM_NONE)
		ok = put(line, "canspam", canspam_obj(cs));
	if (!ok) {
		json_decref(line);
		return NULL;
	}
	return line;
}

int
eve_format_tx(const struct ipc_tx *tx, const struct eve_options *opt,
	      const struct canspam_result *cs, eve_rule_lookup_fn lookup, void *lookup_ctx,
	      eve_line_fn emit, void *emit_ctx)
{
	struct tx_view v;
	int n = 0;
	int rc;

	if (tx == NULL || opt == NULL || emit == NULL)
		return -EINVAL;
	rc = tx_view_init(&v, tx, opt);
	if (rc < 0)
		goto out;

	for (const struct ipc_field *f = ipc_tx_next(tx, NULL); f != NULL; f = ipc_tx_next(tx, f)) {
		if (f->type != IPC_F_ALERT)
			continue;
		rc = emit_rule_alert(&v, f, lookup, lookup_ctx, emit, emit_ctx);
		if (rc < 0)
			goto out;
		if (rc == 0)
			n++;
	}
	for (const struct ipc_field *f = ipc_tx_next(tx, NULL); f != NULL; f = ipc_tx_next(tx, f)) {
		if (f->type != IPC_F_RCPT && f->type != IPC_F_HDR_RCPT)
			continue;
		rc = emit_suppress_alert(&v, f, emit, emit_ctx);
		if (rc < 0)
			goto out;
		n += rc;
	}
	if (opt->smtp_events) {
		json_t *line = smtp_line(&v, cs);

		if (line == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		rc = finish_line(&v, line, "smtp", emit, emit_ctx);
		if (rc < 0)
			goto out;
		n++;
	}
	rc = n;
out:
	tx_view_fini(&v);
	return rc;
}

int
eve_format_stats(const struct ipc_stats *st, uint64_t ts_us, eve_line_fn emit, void *emit_ctx)
{
	char ts[EVE_TIME_MAX];
	json_t *line, *stats, *counters;
	unsigned n;
	bool ok;
	int rc = -ENOMEM;

	if (st == NULL || emit == NULL)
		return -EINVAL;
	if (eve_format_time_us(ts_us, ts, sizeof(ts)) < 0)
		return -ERANGE;
	line = json_object();
	stats = json_object();
	counters = json_object();
	ok = line != NULL && stats != NULL && counters != NULL;
	/* An older sender knows fewer counters; a newer one's extra ones do not fit our struct. */
	n = st->n_counters < IPC_C__COUNT ? st->n_counters : IPC_C__COUNT;
	for (unsigned i = 0; ok && i < n; i++)
		ok = put(counters, ipc_counter_name((enum ipc_counter)i), juint(st->counters[i]));
	ok = ok && put(line, "timestamp", json_string(ts)) &&
	     put(line, "event_type", json_string("stats")) &&
	     put(stats, "gen_id", juint(st->gen_id)) &&
	     put(stats, "workers", json_integer(st->n_workers));
	if (ok) {
		ok = json_object_set_new(stats, "counters", counters) == 0;
		counters = NULL;
	}
	if (ok) {
		ok = json_object_set_new(line, "stats", stats) == 0;
		stats = NULL;
	}
	if (ok) {
		char *s = json_dumps(line, EVE_JSON_FLAGS);

		if (s != NULL) {
			rc = emit(emit_ctx, s, strlen(s), "stats");
			free(s);
			if (rc >= 0)
				rc = 1;
		}
	}
	json_decref(counters);
	json_decref(stats);
	json_decref(line);
	return rc;
}

int
eve_format_event(const struct ipc_event *ev, eve_line_fn emit, void *emit_ctx)
{
	char ts[EVE_TIME_MAX], src[64], dst[64];
	json_t *line, *anomaly;
	bool ok;
	int rc = -ENOMEM;

	if (ev == NULL || emit == NULL)
		return -EINVAL;
	if (eve_format_time_us(ev->ts_us, ts, sizeof(ts)) < 0)
		return -ERANGE;
	format_ip(ev->src_ip, ev->ip_version, src, sizeof(src));
	format_ip(ev->dst_ip, ev->ip_version, dst, sizeof(dst));
	line = json_object();
	anomaly = json_object();
	ok = line != NULL && anomaly != NULL &&
	     put(line, "timestamp", json_string(ts)) &&
	     put(line, "flow_id", json_integer((json_int_t)(ev->flow_id & INT64_MAX))) &&
	     put(line, "event_type", json_string("anomaly")) &&
	     put(line, "src_ip", json_string(src)) &&
	     put(line, "src_port", json_integer(ev->src_port)) &&
	     put(line, "dest_ip", json_string(dst)) &&
	     put(line, "dest_port", json_integer(ev->dst_port)) &&
	     put(line, "proto", json_string("TCP")) &&
	     put(anomaly, "type", json_string(ipc_event_layer(ev->code))) &&
	     put(anomaly, "event", json_string(ipc_event_name(ev->code))) &&
	     put(anomaly, "value", juint(ev->value));
	if (ok) {
		ok = json_object_set_new(line, "anomaly", anomaly) == 0;
		anomaly = NULL;
	}
	if (ok) {
		char *s = json_dumps(line, EVE_JSON_FLAGS);

		if (s != NULL) {
			rc = emit(emit_ctx, s, strlen(s), "anomaly");
			free(s);
			if (rc >= 0)
				rc = 1;
		}
	}
	json_decref(anomaly);
	json_decref(line);
	return rc;
}

/* Microseconds since the epoch as ISO-8601 UTC; NULL for 0. */
static json_t *
iso_time_us(uint64_t us)
{
	return us == 0 ? NULL : iso_time((int64_t)(us / 1000000));
}

static uint8_t
ip_version(const uint8_t ip[16])
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

	return memcmp(ip, v4_mapped, sizeof(v4_mapped)) == 0 ? 4 : 6;
}

static json_t *
ip_json(const uint8_t ip[16])
{
	char buf[48];

	format_ip(ip, ip_version(ip), buf, sizeof(buf));
	return json_string(buf);
}

/*
 * One of posternd's own alerts on a transaction: the record's flow head, smtp{} and email{},
 * the alert object of built-in sid with action, and obj under key (taken; NULL when building
 * it failed). Returns 1, -ENOMEM or emit's error.
 */
static int
builtin_tx_alert(const struct ipc_tx *tx, const struct eve_options *opt, uint32_t sid,
		 const char *action, const char *key, json_t *obj, eve_line_fn emit,
		 void *emit_ctx)
{
	struct eve_rule_info info;
	struct tx_view v;
	json_t *line;
	int rc = tx_view_init(&v, tx, opt);

	if (rc < 0) {
		json_decref(obj);
		return rc;
	}
	builtin_info(BUILTIN_GID, sid, &info);
	line = line_head(&v, "alert");
	/* alert{} first, as on every alert line; put() releases what it could not set */
	bool ok = put(line, "alert", alert_obj(action, BUILTIN_GID, sid, 1, &info));

	if (ok)
		ok = put(line, key, obj);
	else
		json_decref(obj);
	if (!ok) {
		json_decref(line);
		tx_view_fini(&v);
		return -ENOMEM;
	}
	rc = finish_line(&v, line, "alert", emit, emit_ctx);
	tx_view_fini(&v);
	return rc < 0 ? rc : 1;
}

int
eve_format_bypass(const struct ipc_tx *tx, const struct bypass_finding *f,
		  const struct eve_options *opt, eve_line_fn emit, void *emit_ctx)
{
	uint32_t sid = f->kind == BYPASS_RELAY_SKIPPED ? SID_BYPASS_RELAY : SID_BYPASS_NEW_HOST;
	json_t *b, *t;

	if (tx == NULL || f == NULL || opt == NULL || emit == NULL)
		return -EINVAL;
	b = json_object();
	bool ok = b != NULL &&
		  put(b, "kind", json_string(f->kind == BYPASS_RELAY_SKIPPED ? "relay_skipped"
									       : "new_smtp_host")) &&
		  put(b, "client", ip_json(f->client_ip));
	if (ok && f->kind == BYPASS_RELAY_SKIPPED)
		ok = put(b, "server", ip_json(f->server_ip)) &&
		     put(b, "server_port", json_integer(f->server_port)) &&
		     put(b, "transactions", juint(f->count));
	if (ok && (t = iso_time_us(f->first_seen_us)) != NULL)
		ok = put(b, "first_seen", t);
	if (!ok) {
		json_decref(b);
		b = NULL;
	}
	return builtin_tx_alert(tx, opt, sid, "allowed", "bypass", b, emit, emit_ctx);
}

int
eve_format_anomaly_alert(const struct anomaly_alert *a, eve_line_fn emit, void *emit_ctx)
{
	char ts[EVE_TIME_MAX];
	struct eve_rule_info info;
	uint32_t sid;
	json_t *line, *an;
	char *s;
	int rc = -ENOMEM;

	if (a == NULL || emit == NULL || a->metric >= ANOMALY__COUNT)
		return -EINVAL;
	sid = SID_ANOMALY_BASE + a->metric;
	builtin_info(BUILTIN_GID, sid, &info);
	if (eve_format_time_us(a->window_end_us, ts, sizeof(ts)) < 0)
		return -EINVAL;
	line = json_object();
	an = json_object();
	bool ok = line != NULL && an != NULL && put(line, "timestamp", json_string(ts)) &&
		  put(line, "event_type", json_string("alert"));
	if (ok && a->subject == ANOMALY_HOST)
		ok = put(line, "src_ip", ip_json(a->host_ip));
	ok = ok && put(line, "alert", alert_obj("allowed", BUILTIN_GID, sid, 1, &info)) &&
	     put(an, "subject", json_string(anomaly_subject_name(a->subject))) &&
	     put(an, "key", jcstr(a->key)) &&
	     put(an, "metric", json_string(anomaly_metric_name(a->metric))) &&
	     put(an, "value", json_real(a->value)) &&
	     put(an, "baseline", json_real(a->baseline)) && put(an, "floor", juint(a->floor)) &&
	     put(an, "multiple", json_real(a->multiple)) &&
	     put(an, "window", json_integer(a->window_s)) &&
	     json_object_set(line, "anomaly", an) == 0;
	json_decref(an);
	if (ok && (s = json_dumps(line, EVE_JSON_FLAGS)) != NULL) {
		rc = emit(emit_ctx, s, strlen(s), "alert");
		free(s);
	}
	json_decref(line);
	return rc < 0 ? rc : 1;
}

int
eve_format_spool(const struct ipc_spool *sp, eve_line_fn emit, void *emit_ctx)
{
	char started[EVE_TIME_MAX], ended[EVE_TIME_MAX];
	json_t *line, *o;
	char *s;
	int rc = -ENOMEM;

	if (sp == NULL || emit == NULL || sp->ended_us < sp->started_us ||
	    eve_format_time_us(sp->started_us, started, sizeof(started)) < 0 ||
	    eve_format_time_us(sp->ended_us, ended, sizeof(ended)) < 0)
		return -EINVAL;
	line = json_object();
	o = json_object();
	bool ok = line != NULL && o != NULL && put(line, "timestamp", json_string(ended)) &&
		  put(line, "event_type", json_string("spool")) &&
		  put(o, "started", json_string(started)) && put(o, "ended", json_string(ended)) &&
		  put(o, "seconds", json_real((double)(sp->ended_us - sp->started_us) / 1e6)) &&
		  put(o, "records_delivered_late", juint(sp->n_kept)) &&
		  put(o, "records_dropped", juint(sp->n_dropped)) &&
		  put(o, "bytes_dropped", juint(sp->bytes_dropped)) &&
		  json_object_set(line, "spool", o) == 0;
	json_decref(o);
	if (ok && (s = json_dumps(line, EVE_JSON_FLAGS)) != NULL) {
		rc = emit(emit_ctx, s, strlen(s), "spool");
		free(s);
	}
	json_decref(line);
	return rc < 0 ? rc : 1;
}

static json_t *
canspam_obj(const struct canspam_result *r)
{
	json_t *o = json_object(), *failed = json_array();
	bool ok = o != NULL && failed != NULL &&
		  put(o, "kind", json_string(r->kind == CANSPAM_AUTOMATED ? "automated"
									   : "commercial"));

	for (uint32_t bit = 1; ok && bit != 0; bit <<= 1) {
		json_t *f;

		if (!(r->failed & bit))
			continue;
		f = json_object();
		ok = f != NULL &&
		     put(f, "check", json_string(canspam_failure_name((enum canspam_failure)bit))) &&
		     put(f, "reason",
			 json_string(canspam_failure_reason((enum canspam_failure)bit))) &&
		     append(failed, f);
	}
	if (ok && json_object_set(o, "failed", failed) == 0) {
		json_decref(failed);
		return o;
	}
	json_decref(failed);
	json_decref(o);
	return NULL;
}

int
eve_format_canspam(const struct ipc_tx *tx, const struct canspam_result *r,
		   const struct eve_options *opt, eve_line_fn emit, void *emit_ctx)
{
	uint32_t sid = r != NULL && r->kind == CANSPAM_AUTOMATED ? SID_HYGIENE : SID_CANSPAM;

	if (tx == NULL || r == NULL || opt == NULL || emit == NULL)
		return -EINVAL;
	if (r->kind == CANSPAM_NONE || r->failed == 0)
		return 0;
	/* inline with block_canspam, the dataplane ran the same checks and withheld it */
	bool blocked = (tx->flags & IPC_TXF_BLOCKED_CANSPAM) && r->kind == CANSPAM_COMMERCIAL;

	return builtin_tx_alert(tx, opt, sid, blocked ? "blocked" : "allowed", "canspam",
				canspam_obj(r), emit, emit_ctx);
}
