/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CAN-SPAM checks of a transaction record (see canspam.h). The record's fields are read once
 * into a small table of slices; each check then looks only at that table and the marks.
 * URIs are validated in place or in stack buffers bounded by IPC_FIELD_MAX and ADDR_NORM_CAP;
 * domain lists are short (a company's own domains) and kept as packed strings compared
 * suffix-wise on label boundaries, as the dataplane's commercial decision does.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_list.h"
#include "addr_norm.h"
#include "ascii.h"
#include "canspam.h"
#include "domain_list.h"
#include "config.h"
#include "gen_format.h"
#include "ipc.h"
#include "slice.h"

enum canspam_group {
	GROUP_UNSUBSCRIBE = 1u << 0,
	GROUP_POSTAL = 1u << 1,
	GROUP_SENDER = 1u << 2,
	GROUP_SUBJECT = 1u << 3,
	GROUP_LABEL = 1u << 4,
};

enum canspam_mechanism {
	MECH_LIST_UNSUB = 1u << 0,
	MECH_ONE_CLICK = 1u << 1,
	MECH_BODY_LINK = 1u << 2,
};

struct canspam_policy {
	unsigned groups;          /* enum canspam_group enabled */
	unsigned mechanisms;      /* enum canspam_mechanism accepted */
	bool require_one_click;
	char *from_domains;       /* "a\0b\0\0": normalized domains, one after the other */
	char *automated;
};

#define GROUP_SENDER_BITS                                                                   \
	(CANSPAM_NO_FROM | CANSPAM_BAD_FROM | CANSPAM_FROM_MISALIGNED | CANSPAM_BAD_REPLY_TO | \
	 CANSPAM_NO_MESSAGE_ID | CANSPAM_NO_DATE)
/* what automated mail is held to: a sender that can be identified and a well-formed header */
#define HYGIENE_BITS                                                                        \
	(CANSPAM_NO_FROM | CANSPAM_BAD_FROM | CANSPAM_NO_SUBJECT | CANSPAM_NO_MESSAGE_ID |    \
	 CANSPAM_NO_DATE)

/* ---- configuration ---- */

#define LIST_SEP ", \t"

struct name_bit {
	const char *name;
	unsigned bit;
};

static const struct name_bit check_names[] = {
	{ "unsubscribe", GROUP_UNSUBSCRIBE }, { "postal", GROUP_POSTAL },
	{ "sender", GROUP_SENDER },           { "subject", GROUP_SUBJECT },
	{ "label", GROUP_LABEL },
};

static const struct name_bit mechanism_names[] = {
	{ "list-unsubscribe", MECH_LIST_UNSUB },
	{ "one-click", MECH_ONE_CLICK },
	{ "body-link", MECH_BODY_LINK },
};

/* A list of names, or "none" alone. `expect` is the list shown when a name is unknown. */
static int
name_list(const char *key, const char *text, const struct name_bit *names, size_t n_names,
	  const char *expect, unsigned *out, char *err, size_t errlen)
{
	const char *p = text + strspn(text, LIST_SEP);
	bool none = false;
	char shown[64];

	*out = 0;
	while (*p != '\0') {
		size_t tl = strcspn(p, LIST_SEP);
		struct slice t = slice_make(p, tl);
		size_t i;

		for (i = 0; i < n_names; i++)
			if (strlen(names[i].name) == tl && slice_eq_nocase(t, names[i].name))
				break;
		if (i < n_names) {
			*out |= names[i].bit;
		} else if (slice_eq_nocase(t, "none")) {
			none = true;
		} else {
			snprintf(err, errlen, "%s: '%s' is not one of %s, none", key,
				 ascii_show(shown, sizeof(shown), p, tl), expect);
			return -EINVAL;
		}
		p += tl;
		p += strspn(p, LIST_SEP);
	}
	if (none && *out != 0) {
		snprintf(err, errlen, "%s: 'none' cannot be combined with other names", key);
		return -EINVAL;
	}
	return 0;
}

struct canspam_policy *
canspam_create(const struct postern_config *cfg, char *err, size_t errlen)
{
	struct canspam_policy *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	p->require_one_click = cfg->canspam_require_one_click;
	rc = name_list("canspam_checks", cfg->canspam_checks, check_names,
		       sizeof(check_names) / sizeof(check_names[0]),
		       "unsubscribe, postal, sender, subject, label", &p->groups, err, errlen);
	if (rc == 0)
		rc = name_list("canspam_unsubscribe", cfg->canspam_unsubscribe, mechanism_names,
			       sizeof(mechanism_names) / sizeof(mechanism_names[0]),
			       "list-unsubscribe, one-click, body-link", &p->mechanisms, err,
			       errlen);
	/* with nothing accepted every commercial message would fail: a typo, not a policy */
	if (rc == 0 && (p->groups & GROUP_UNSUBSCRIBE) && p->mechanisms == 0) {
		snprintf(err, errlen, "canspam_unsubscribe: no mechanism accepted while "
				      "canspam_checks has unsubscribe");
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = domain_list_parse("canspam_from_domains", cfg->canspam_from_domains,
				       &p->from_domains, err, errlen);
	if (rc == 0)
		rc = domain_list_parse("automated_senders", cfg->automated_senders,
				       &p->automated, err, errlen);
	if (rc < 0) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		canspam_destroy(p);
		errno = -rc;
		return NULL;
	}
	return p;
}

void
canspam_destroy(struct canspam_policy *p)
{
	if (p == NULL)
		return;
	free(p->from_domains);
	free(p->automated);
	free(p);
}

/* ---- the record's fields ---- */

struct tx_fields {
	struct slice mail_from, from, reply_to, subject, message_id, date, lu, lu_post;
	bool has_mail_from, has_from, has_reply_to, has_subject, has_message_id, has_date;
	bool has_lu, has_lu_post;
	bool unsub_url;           /* an IPC_F_URL that looks like an opt-out link */
};

static bool
contains_nocase(struct slice s, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; i + nl <= s.len; i++)
		if (slice_starts_nocase(slice_make(s.ptr + i, s.len - i), needle))
			return true;
	return false;
}

/* Whether a body URL's path or query names an opt-out: the host does not count
 * ("unsubscribe.example/" is a domain, not a link to opt out). */
/* RFC 3986 scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
static bool
scheme_byte(uint8_t c, bool first)
{
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'z')
		return true;
	return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

static bool
url_is_unsubscribe(struct slice u)
{
	size_t i = 0, end = u.len;
	struct slice rest;

	for (size_t k = 0; k < u.len; k++)
		if (u.ptr[k] == '#') {
			end = k;
			break;
		}
	while (i < end && scheme_byte(u.ptr[i], i == 0))
		i++;
	if (i > 0 && i < end && u.ptr[i] == ':') {
		i++;
		if (i + 1 < end && u.ptr[i] == '/' && u.ptr[i + 1] == '/')
			i += 2;
		else
			goto rest; /* no authority: "mailto:optout@shop.example" */
	} else {
		i = 0; /* no scheme: "www.shop.example/optout" */
	}
	while (i < end && u.ptr[i] != '/' && u.ptr[i] != '?')
		i++;
rest:
	rest = slice_make(u.ptr + i, end - i);
	return contains_nocase(rest, "unsubscribe") || contains_nocase(rest, "optout") ||
	       contains_nocase(rest, "opt-out") || contains_nocase(rest, "opt_out");
}

static void
take_first(struct slice *dst, bool *has, const struct ipc_field *f)
{
	if (*has)
		return;
	*dst = slice_make(ipc_field_value(f), f->len);
	*has = true;
}

static void
read_fields(const struct ipc_tx *tx, struct tx_fields *tf)
{
	memset(tf, 0, sizeof(*tf));
	for (const struct ipc_field *f = ipc_tx_next(tx, NULL); f != NULL; f = ipc_tx_next(tx, f)) {
		switch (f->type) {
		case IPC_F_MAIL_FROM:
			take_first(&tf->mail_from, &tf->has_mail_from, f);
			break;
		case IPC_F_EMAIL_FROM:
			take_first(&tf->from, &tf->has_from, f);
			break;
		case IPC_F_REPLY_TO:
			take_first(&tf->reply_to, &tf->has_reply_to, f);
			break;
		case IPC_F_SUBJECT:
			take_first(&tf->subject, &tf->has_subject, f);
			break;
		case IPC_F_MESSAGE_ID:
			take_first(&tf->message_id, &tf->has_message_id, f);
			break;
		case IPC_F_DATE:
			take_first(&tf->date, &tf->has_date, f);
			break;
		case IPC_F_LIST_UNSUB:
			take_first(&tf->lu, &tf->has_lu, f);
			break;
		case IPC_F_LIST_UNSUB_POST:
			take_first(&tf->lu_post, &tf->has_lu_post, f);
			break;
		case IPC_F_URL:
			if (!tf->unsub_url &&
			    url_is_unsubscribe(slice_make(ipc_field_value(f), f->len)))
				tf->unsub_url = true;
			break;
		default:
			break;
		}
	}
}

/* ---- List-Unsubscribe (RFC 2369, RFC 8058) ---- */

struct lu_uris {
	bool mailto;              /* a valid mailto: URI */
	bool https;               /* a valid https: URI */
	bool cut;                 /* the list ended inside a URI or a comment */
};

/* mailto:addr-spec[?hfields]: the first address before '?' must be one mailbox (RFC 6068;
 * percent-encoding decoded first, "mailto:?to=" forms are not accepted). */
static bool
mailto_is_valid(const uint8_t *u, size_t len)
{
	char addr[ADDR_NORM_CAP], norm[ADDR_NORM_CAP];
	size_t i = 7, n = 0; /* "mailto:" */

	for (; i < len && u[i] != '?' && u[i] != ','; i++) {
		uint8_t c = u[i];

		if (c == '%') {
			int hi = i + 2 < len ? ascii_hex_digit(u[i + 1]) : -1;
			int lo = hi >= 0 ? ascii_hex_digit(u[i + 2]) : -1;

			if (lo < 0)
				return false;
			c = (uint8_t)(hi * 16 + lo);
			i += 2;
			if (c == ',')
				break;
		}
		if (n + 1 >= sizeof(addr))
			return false;
		addr[n++] = (char)c;
	}
	if (n == 0)
		return false;
	/* addr_normalize would also take "<a@b>": a mailto: URI has no brackets */
	if (memchr(addr, '<', n) != NULL || memchr(addr, '>', n) != NULL)
		return false;
	return addr_normalize(slice_make(addr, n), 0, norm, sizeof(norm)) > 0;
}

static bool
host_byte_ok(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '%' || c >= 0x80;
}

/* https://[userinfo@]host[:port][/...]: a host is required, a port is digits. */
static bool
https_is_valid(const uint8_t *u, size_t len)
{
	size_t i = 8, a_end, h_start, h_end; /* "https://" */

	for (a_end = i; a_end < len; a_end++)
		if (u[a_end] == '/' || u[a_end] == '?' || u[a_end] == '#')
			break;
	h_start = i;
	for (size_t k = i; k < a_end; k++)
		if (u[k] == '@')
			h_start = k + 1;
	h_end = a_end;
	if (h_start < a_end && u[h_start] == '[') {
		/* an IPv6 literal: hex digits, ':' and '.' up to ']' */
		size_t k = h_start + 1;

		while (k < a_end && (ascii_hex_digit(u[k]) >= 0 || u[k] == ':' || u[k] == '.'))
			k++;
		if (k >= a_end || u[k] != ']' || k == h_start + 1)
			return false;
		h_end = k + 1;
	} else {
		for (size_t k = h_start; k < a_end; k++)
			if (u[k] == ':') {
				h_end = k;
				break;
			}
		if (h_end == h_start || u[h_start] == '.' || u[h_start] == '-')
			return false;
		for (size_t k = h_start; k < h_end; k++)
			if (!host_byte_ok(u[k]))
				return false;
	}
	if (h_end < a_end) {
		if (u[h_end] != ':')
			return false;
		for (size_t k = h_end + 1; k < a_end; k++)
			if (u[k] < '0' || u[k] > '9')
				return false;
	}
	return true;
}

static void
classify_uri(const uint8_t *u, size_t len, struct lu_uris *r)
{
	struct slice s = slice_make(u, len);

	if (slice_starts_nocase(s, "mailto:")) {
		if (mailto_is_valid(u, len))
			r->mailto = true;
	} else if (slice_starts_nocase(s, "https://")) {
		if (https_is_valid(u, len))
			r->https = true;
	}
	/* http:, ftp:, bare text: not a URI a mailbox provider will use */
}

/*
 * Walk a List-Unsubscribe value: "<uri>, <uri>" with optional comments. Whitespace inside the
 * brackets is ignored (RFC 2369 lets a long URI be folded there); text outside brackets that
 * is not a comment is skipped.
 */
static void
lu_parse(struct slice v, struct lu_uris *r)
{
	uint8_t uri[IPC_FIELD_MAX];
	size_t i = 0;

	memset(r, 0, sizeof(*r));
	while (i < v.len) {
		uint8_t c = v.ptr[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
			i++;
		} else if (c == '(') {
			unsigned depth = 0;

			for (; i < v.len; i++) {
				if (v.ptr[i] == '\\') {
					i++;
				} else if (v.ptr[i] == '(') {
					depth++;
				} else if (v.ptr[i] == ')' && --depth == 0) {
					i++;
					break;
				}
			}
			if (depth > 0)
				r->cut = true;
		} else if (c == '<') {
			size_t n = 0;

			for (i++; i < v.len && v.ptr[i] != '>'; i++)
				if (v.ptr[i] != ' ' && v.ptr[i] != '\t' && v.ptr[i] != '\r' &&
				    v.ptr[i] != '\n' && n < sizeof(uri))
					uri[n++] = v.ptr[i];
			if (i >= v.len) {
				r->cut = true;
				break;
			}
			i++;
			classify_uri(uri, n, r);
		} else {
			/* stray text: skip it, a URI or comment after it still counts */
			while (i < v.len && v.ptr[i] != ',' && v.ptr[i] != '<' && v.ptr[i] != '(')
				i++;
		}
	}
}

/* RFC 8058 section 3.1: the POST body a receiver sends, exactly this key and value. */
static bool
lu_post_is_one_click(struct slice v)
{
	return slice_eq_nocase(slice_trim(v), "List-Unsubscribe=One-Click");
}

/* ---- sender ---- */

/* Only SP, HTAB, CR, LF and the Unicode spaces a decoded subject may hold: NBSP, U+2000 to
 * U+200B, U+3000. A subject of nothing else says nothing. */
static bool
is_blank(struct slice s)
{
	for (size_t i = 0; i < s.len;) {
		const uint8_t *p = s.ptr + i;
		size_t left = s.len - i;

		if (p[0] == ' ' || p[0] == '\t' || p[0] == '\r' || p[0] == '\n')
			i++;
		else if (left >= 2 && p[0] == 0xc2 && p[1] == 0xa0)
			i += 2;
		else if (left >= 3 && p[0] == 0xe2 && p[1] == 0x80 && p[2] <= 0x8b)
			i += 3;
		else if (left >= 3 && p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
			i += 3;
		else
			return false;
	}
	return true;
}

/* The normalized mailbox of a list entry into out (ADDR_NORM_CAP); its length or < 0. */
static int
entry_mailbox(struct slice entry, char *out)
{
	struct slice mb = addr_list_mailbox(entry);

	if (mb.len == 0)
		return -EINVAL;
	return addr_normalize(mb, 0, out, ADDR_NORM_CAP);
}

static const char *
norm_domain(const char *norm, int len)
{
	for (int i = len; i > 0; i--)
		if (norm[i - 1] == '@')
			return norm + i;
	return norm + len;
}

/* ---- the checks ---- */

static bool
mark(const struct ipc_tx *tx, unsigned bit)
{
	return (tx->marks >> bit) & 1u;
}

/*
 * Commercial by evidence: a rule, a sender, a host or a signal said so. A message that is
 * commercial only by commercial_default is subject to the suppression set, but its content is
 * not checked: on that default every personal mail would fail "no unsubscribe". A record
 * never judged (a cut transaction) errs towards checking.
 */
static bool
is_commercial(const struct ipc_tx *tx)
{
	if (!(tx->commercial & IPC_COMM_DECIDED))
		return true;
	return (tx->commercial & IPC_COMM_YES) &&
	       (tx->commercial & (IPC_COMM_RULE | IPC_COMM_SENDER | IPC_COMM_HOST |
				  IPC_COMM_LIST_UNSUB | IPC_COMM_LIST_ID | IPC_COMM_PRECEDENCE));
}

struct judge {
	uint32_t checked, failed;
};

static void
verdict(struct judge *j, uint32_t bit, bool fails)
{
	j->checked |= bit;
	if (fails)
		j->failed |= bit;
}

static void
check_unsubscribe(const struct canspam_policy *p, const struct ipc_tx *tx,
		  const struct tx_fields *tf, bool cut, struct judge *j)
{
	struct lu_uris lu = { 0 };
	bool one_click, ok = false;

	if (tf->has_lu)
		lu_parse(tf->lu, &lu);
	one_click = lu.https && tf->has_lu_post && lu_post_is_one_click(tf->lu_post);
	if ((p->mechanisms & MECH_LIST_UNSUB) && (lu.mailto || lu.https))
		ok = true;
	if ((p->mechanisms & MECH_ONE_CLICK) && one_click)
		ok = true;
	if ((p->mechanisms & MECH_BODY_LINK) &&
	    (mark(tx, GEN_FLOWBIT_UNSUBSCRIBE_LINK) || tf->unsub_url))
		ok = true;
	/* a cut record may have lost the URL or header that satisfied it */
	if (ok || !cut)
		verdict(j, CANSPAM_NO_UNSUBSCRIBE, !ok);
	if (tf->has_lu &&
	    ((p->mechanisms & (MECH_LIST_UNSUB | MECH_ONE_CLICK)) || p->require_one_click)) {
		bool bad = !lu.mailto && !lu.https;

		/* a value cut at IPC_FIELD_MAX may have lost its only good URI */
		if (!bad || !(cut && (lu.cut || tf->lu.len >= IPC_FIELD_MAX)))
			verdict(j, CANSPAM_BAD_UNSUBSCRIBE, bad);
	}
	if (p->require_one_click && (one_click || !cut))
		verdict(j, CANSPAM_NO_ONE_CLICK, !one_click);
}

/* From present and one parseable mailbox; its normalized form into from_norm. */
static int
check_from(const struct tx_fields *tf, bool cut, struct judge *j, char *from_norm)
{
	struct slice first;
	size_t pos = 0;
	int rc = -EINVAL;

	if (!tf->has_from || is_blank(tf->from)) {
		if (tf->has_from || !cut)
			verdict(j, CANSPAM_NO_FROM, true);
		return -ENOENT;
	}
	verdict(j, CANSPAM_NO_FROM, false);
	if (addr_list_next(tf->from, &pos, &first))
		rc = entry_mailbox(first, from_norm);
	verdict(j, CANSPAM_BAD_FROM, rc <= 0);
	return rc;
}

static void
check_alignment(const struct canspam_policy *p, const struct tx_fields *tf, bool cut,
		const char *from_norm, int from_len, struct judge *j)
{
	char env[ADDR_NORM_CAP];
	const char *fd = norm_domain(from_norm, from_len), *ed;
	size_t fl = strlen(fd), el;
	int rc;

	if (domain_list_has(p->from_domains, fd)) {
		verdict(j, CANSPAM_FROM_MISALIGNED, false);
		return;
	}
	if (!tf->has_mail_from) {
		if (!cut)
			verdict(j, CANSPAM_FROM_MISALIGNED, true);
		return;
	}
	/* a null reverse-path ("<>") or an unparseable one aligns with nothing */
	rc = addr_normalize(tf->mail_from, 0, env, sizeof(env));
	if (rc <= 0) {
		verdict(j, CANSPAM_FROM_MISALIGNED, true);
		return;
	}
	ed = norm_domain(env, rc);
	el = strlen(ed);
	verdict(j, CANSPAM_FROM_MISALIGNED,
		!domain_is_under(fd, fl, ed, el) && !domain_is_under(ed, el, fd, fl));
}

static void
check_reply_to(const struct tx_fields *tf, struct judge *j)
{
	struct slice entry;
	size_t pos = 0, n = 0;
	bool bad = false;

	if (!tf->has_reply_to)
		return;
	while (!bad && addr_list_next(tf->reply_to, &pos, &entry)) {
		char norm[ADDR_NORM_CAP];

		if (entry.len == 0)
			continue;
		n++;
		bad = entry_mailbox(entry, norm) <= 0;
	}
	verdict(j, CANSPAM_BAD_REPLY_TO, bad || n == 0);
}

static void
check_present(uint32_t bit, bool has, struct slice v, bool cut, struct judge *j)
{
	if (has && !is_blank(v))
		verdict(j, bit, false);
	else if (has || !cut)
		verdict(j, bit, true);
}

static bool
is_automated(const struct canspam_policy *p, const struct ipc_tx *tx, const struct tx_fields *tf)
{
	char norm[ADDR_NORM_CAP];
	struct slice first;
	size_t pos = 0;
	int rc;

	if (mark(tx, GEN_FLOWBIT_AUTOMATED))
		return true;
	if (p->automated == NULL || p->automated[0] == '\0')
		return false;
	if (tf->has_mail_from) {
		rc = addr_normalize(tf->mail_from, 0, norm, sizeof(norm));
		if (rc > 0 && domain_list_has(p->automated, norm_domain(norm, rc)))
			return true;
	}
	if (tf->has_from && addr_list_next(tf->from, &pos, &first)) {
		rc = entry_mailbox(first, norm);
		if (rc > 0 && domain_list_has(p->automated, norm_domain(norm, rc)))
			return true;
	}
	return false;
}

void
canspam_check(const struct canspam_policy *p, const struct ipc_tx *tx,
	      struct canspam_result *out)
{
	char from_norm[ADDR_NORM_CAP];
	struct tx_fields tf;
	struct judge j = { 0 };
	bool automated, cut = (tx->flags & IPC_TXF_TRUNCATED) != 0;
	uint32_t allowed = 0;
	int from_len;

	memset(out, 0, sizeof(*out));
	if (!(tx->flags & IPC_TXF_HAS_DATA))
		return;
	read_fields(tx, &tf);
	automated = is_automated(p, tx, &tf);
	if (!automated && !is_commercial(tx))
		return;
	out->kind = automated ? CANSPAM_AUTOMATED : CANSPAM_COMMERCIAL;

	if (p->groups & GROUP_UNSUBSCRIBE)
		allowed |= CANSPAM_NO_UNSUBSCRIBE | CANSPAM_BAD_UNSUBSCRIBE | CANSPAM_NO_ONE_CLICK;
	if (p->groups & GROUP_POSTAL)
		allowed |= CANSPAM_NO_POSTAL_ADDRESS;
	if (p->groups & GROUP_SENDER)
		allowed |= GROUP_SENDER_BITS;
	if (p->groups & GROUP_SUBJECT)
		allowed |= CANSPAM_NO_SUBJECT;
	if (p->groups & GROUP_LABEL)
		allowed |= CANSPAM_NO_EXPLICIT_LABEL;
	if (automated)
		allowed &= HYGIENE_BITS;

	if (allowed & CANSPAM_NO_UNSUBSCRIBE)
		check_unsubscribe(p, tx, &tf, cut, &j);
	if (allowed & CANSPAM_NO_POSTAL_ADDRESS)
		verdict(&j, CANSPAM_NO_POSTAL_ADDRESS, !mark(tx, GEN_FLOWBIT_POSTAL_ADDRESS));
	if (allowed & CANSPAM_NO_FROM) {
		from_len = check_from(&tf, cut, &j, from_norm);
		if ((allowed & CANSPAM_FROM_MISALIGNED) && from_len > 0)
			check_alignment(p, &tf, cut, from_norm, from_len, &j);
	}
	if (allowed & CANSPAM_BAD_REPLY_TO)
		check_reply_to(&tf, &j);
	if (allowed & CANSPAM_NO_MESSAGE_ID)
		check_present(CANSPAM_NO_MESSAGE_ID, tf.has_message_id, tf.message_id, cut, &j);
	if (allowed & CANSPAM_NO_DATE)
		check_present(CANSPAM_NO_DATE, tf.has_date, tf.date, cut, &j);
	if (allowed & CANSPAM_NO_SUBJECT)
		check_present(CANSPAM_NO_SUBJECT, tf.has_subject, tf.subject, cut, &j);
	if (allowed & CANSPAM_NO_EXPLICIT_LABEL) {
		/* 16 CFR 316.4(a)(1): the phrase, as written, at the start of the subject;
		 * only blanks left by unfolding may precede it */
		struct slice s = tf.subject;
		bool labelled;

		while (s.len > 0 && ascii_is_wsp(s.ptr[0])) {
			s.ptr++;
			s.len--;
		}
		labelled = tf.has_subject && s.len >= 18 &&
			   memcmp(s.ptr, "SEXUALLY-EXPLICIT:", 18) == 0;
		/* without the subject a cut record lost, an explicit message cannot be judged */
		if (tf.has_subject || !cut || !mark(tx, GEN_FLOWBIT_SEXUALLY_EXPLICIT))
			verdict(&j, CANSPAM_NO_EXPLICIT_LABEL,
				mark(tx, GEN_FLOWBIT_SEXUALLY_EXPLICIT) && !labelled);
	}
	out->checked = j.checked;
	out->failed = j.failed & j.checked;
}

/* ---- names ---- */

static const char *const failure_names[CANSPAM_N_FAILURES] = {
	"no_unsubscribe",    "bad_unsubscribe", "no_one_click", "no_postal_address",
	"no_from",           "bad_from",        "from_misaligned", "bad_reply_to",
	"no_message_id",     "no_date",         "no_subject",   "no_explicit_label",
};

static const char *const failure_reasons[CANSPAM_N_FAILURES] = {
	"no List-Unsubscribe with a mailto: or https: URI, no one-click, no unsubscribe link "
	"in the body",
	"List-Unsubscribe has no valid mailto: or https: URI (http: is not accepted)",
	"no RFC 8058 one-click unsubscribe (List-Unsubscribe-Post: List-Unsubscribe=One-Click "
	"and an https: URI)",
	"no physical postal address in the body",
	"no From header",
	"the From header is not a parseable mailbox",
	"the From domain is not aligned with the MAIL FROM domain nor an accepted From domain",
	"the Reply-To header is not a parseable list of mailboxes",
	"no Message-ID header",
	"no Date header",
	"no Subject, or a Subject of only blanks",
	"sexually explicit content without \"SEXUALLY-EXPLICIT:\" at the start of the Subject",
};

static int
failure_index(enum canspam_failure f)
{
	unsigned v = (unsigned)f;

	if (v == 0 || (v & (v - 1)) != 0 || v > (1u << (CANSPAM_N_FAILURES - 1)))
		return -1;
	return __builtin_ctz(v);
}

const char *
canspam_failure_name(enum canspam_failure f)
{
	int i = failure_index(f);

	return i < 0 ? "unknown" : failure_names[i];
}

const char *
canspam_failure_reason(enum canspam_failure f)
{
	int i = failure_index(f);

	return i < 0 ? "unknown failure" : failure_reasons[i];
}
