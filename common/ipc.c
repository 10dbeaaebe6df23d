/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building and checking control-link records. Builders fill caller buffers and never
 * allocate (worker lcores use them); checkers never trust a length they have not bounded
 * (posternd runs them on every datagram).
 */
#include <errno.h>
#include <string.h>

#include "ipc.h"

static const char *const counter_names[IPC_C__COUNT] = {
	[IPC_C_RX_PACKETS] = "rx_packets",
	[IPC_C_RX_BYTES] = "rx_bytes",
	[IPC_C_DECODE_ERRORS] = "decode_errors",
	[IPC_C_NOT_INSPECTED] = "not_inspected",
	[IPC_C_FLOWS_CREATED] = "flows_created",
	[IPC_C_FLOWS_ACTIVE] = "flows_active",
	[IPC_C_FLOW_POOL_FULL] = "flow_pool_full",
	[IPC_C_SESSION_POOL_FULL] = "session_pool_full",
	[IPC_C_TCP_OUT_OF_ORDER] = "tcp_out_of_order",
	[IPC_C_TCP_RETRANSMIT] = "tcp_retransmit",
	[IPC_C_SMTP_TRANSACTIONS] = "smtp_transactions",
	[IPC_C_SMTP_PARSE_ERRORS] = "smtp_parse_errors",
	[IPC_C_SMTP_LINE_TOO_LONG] = "smtp_line_too_long",
	[IPC_C_SMTP_STARTTLS] = "smtp_starttls",
	[IPC_C_RULE_MATCHES] = "rule_matches",
	[IPC_C_SUPPRESS_LOOKUPS] = "suppress_lookups",
	[IPC_C_SUPPRESS_HITS] = "suppress_hits",
	[IPC_C_EVENTS_SENT] = "events_sent",
	[IPC_C_EVENTS_DROPPED] = "events_dropped",
	[IPC_C_FIELDS_TRUNCATED] = "fields_truncated",
	[IPC_C_DISPATCH_DROPPED] = "dispatch_dropped",
	[IPC_C_SCAN_ERRORS] = "scan_errors",
	[IPC_C_FLOWS_EVICTED_IDLE] = "flows_evicted_idle",
	[IPC_C_FLOWS_EVICTED_FULL] = "flows_evicted_full",
	[IPC_C_ANOMALIES] = "anomalies",
	[IPC_C_IP_FRAGMENTS] = "ip_fragments",
	[IPC_C_IP_REASSEMBLED] = "ip_reassembled",
	[IPC_C_IP_FRAG_DROPPED] = "ip_frag_dropped",
	[IPC_C_BAD_IP_CHECKSUM] = "bad_ip_checksum",
	[IPC_C_TCP_GAP_BYTES] = "tcp_gap_bytes",
	[IPC_C_TCP_OVERLAP_DIFF] = "tcp_overlap_diff",
	[IPC_C_TCP_REASM_POOL_EXHAUSTED] = "tcp_reasm_pool_exhausted",
	[IPC_C_TCP_DEPTH_REACHED] = "tcp_depth_reached",
	[IPC_C_DECODE_TRUNCATED] = "decode_truncated",
	[IPC_C_DECODE_BAD_L2] = "decode_bad_l2",
	[IPC_C_DECODE_BAD_IPV4] = "decode_bad_ipv4",
	[IPC_C_DECODE_BAD_IPV6] = "decode_bad_ipv6",
	[IPC_C_DECODE_BAD_TCP] = "decode_bad_tcp",
	[IPC_C_MIME_BAD_WORDS] = "mime_bad_words",
	[IPC_C_MIME_PARTS] = "mime_parts",
	[IPC_C_MIME_ANOMALIES] = "mime_anomalies",
	[IPC_C_MIME_DECODE_ERRORS] = "mime_decode_errors",
	[IPC_C_URLS] = "urls",
	[IPC_C_ATTACHMENTS] = "attachments",
	[IPC_C_SMTP_STARTTLS_INJECTION] = "smtp_starttls_injection",
	[IPC_C_SMTP_BDAT_REJECTED] = "smtp_bdat_rejected",
	[IPC_C_SMTP_AUTH_FAILED] = "smtp_auth_failed",
	[IPC_C_SMTP_IMPLICIT_TLS] = "smtp_implicit_tls",
	[IPC_C_PORT_RX_MISSED] = "port_rx_missed",
	[IPC_C_PORT_RX_ERRORS] = "port_rx_errors",
	[IPC_C_PORT_RX_NO_MBUF] = "port_rx_no_mbuf",
	[IPC_C_RULE_PASSES] = "rule_passes",
	[IPC_C_SUPPRESS_EXEMPT] = "suppress_exempt",
	[IPC_C_SUPPRESS_ERRORS] = "suppress_errors",
	[IPC_C_SUPPRESS_REOPENS] = "suppress_reopens",
	[IPC_C_COMMERCIAL] = "commercial",
	[IPC_C_INLINE_FORWARDED] = "inline_forwarded",
	[IPC_C_INLINE_BLOCKED] = "inline_blocked",
	[IPC_C_INLINE_BLOCK_LATE] = "inline_block_late",
	[IPC_C_INLINE_BLOCKED_PACKETS] = "inline_blocked_packets",
	[IPC_C_INLINE_INJECTED] = "inline_injected",
	[IPC_C_INLINE_INJECT_FAILED] = "inline_inject_failed",
	[IPC_C_INLINE_FAIL_OPEN] = "inline_fail_open",
	[IPC_C_INLINE_FAIL_CLOSED] = "inline_fail_closed",
	[IPC_C_TX_DROPPED] = "tx_dropped",
	[IPC_C_INLINE_RCPT_REFUSED] = "inline_rcpt_refused",
	[IPC_C_EVENTS_RESENT] = "events_resent",
	[IPC_C_SPOOL_DROPPED] = "spool_dropped",
	[IPC_C_SPOOL_RECORDS] = "spool_records",
	[IPC_C_SPOOL_BYTES] = "spool_bytes",
};

const char *
ipc_counter_name(enum ipc_counter c)
{
	return (unsigned)c < IPC_C__COUNT ? counter_names[c] : "unknown";
}

bool
ipc_counter_is_global(enum ipc_counter c)
{
	switch (c) {
	case IPC_C_EVENTS_SENT:
	case IPC_C_EVENTS_RESENT:
	case IPC_C_SPOOL_DROPPED:
	case IPC_C_SPOOL_RECORDS:
	case IPC_C_SPOOL_BYTES:
	case IPC_C_PORT_RX_MISSED:
	case IPC_C_PORT_RX_ERRORS:
	case IPC_C_PORT_RX_NO_MBUF:
		return true;
	default:
		return false;
	}
}

static const struct {
	const char *layer;
	const char *name;
} event_names[IPC_EV__MAX] = {
	[IPC_EV_TCP_OVERLAP_DIFF] = { "stream", "TCP_OVERLAP_DIFFERENT_DATA" },
	[IPC_EV_TCP_GAP] = { "stream", "TCP_GAP" },
	[IPC_EV_TCP_OOO_LIMIT] = { "stream", "TCP_OUT_OF_ORDER_LIMIT" },
	[IPC_EV_TCP_POOL_EXHAUSTED] = { "stream", "TCP_REASSEMBLY_POOL_EXHAUSTED" },
	[IPC_EV_TCP_DEPTH] = { "stream", "TCP_INSPECTION_DEPTH_REACHED" },
	[IPC_EV_IP_FRAG_OVERLAP_DIFF] = { "decode", "IP_FRAGMENT_OVERLAP_DIFFERENT_DATA" },
	[IPC_EV_FLOW_POOL_FULL] = { "flow", "FLOW_TABLE_FULL_EVICTED_OLDEST" },
	[IPC_EV_SESSION_POOL_FULL] = { "flow", "SMTP_SESSION_POOL_FULL" },
	[IPC_EV_SMTP_STARTTLS] = { "applayer", "SMTP_STARTTLS_OPAQUE" },
	[IPC_EV_SMTP_IMPLICIT_TLS] = { "applayer", "SMTP_IMPLICIT_TLS" },
	[IPC_EV_SMTP_STARTTLS_INJECTION] = { "applayer", "SMTP_STARTTLS_COMMAND_INJECTION" },
	[IPC_EV_MIME_NAME_MISMATCH] = { "applayer", "MIME_FILENAME_MISMATCH" },
	[IPC_EV_MIME_DEPTH] = { "applayer", "MIME_DEPTH_EXCEEDED" },
	[IPC_EV_MIME_NO_PARTS] = { "applayer", "MIME_MULTIPART_WITHOUT_PARTS" },
};

const char *
ipc_event_layer(enum ipc_event_code e)
{
	return e > 0 && e < IPC_EV__MAX ? event_names[e].layer : "unknown";
}

const char *
ipc_event_name(enum ipc_event_code e)
{
	return e > 0 && e < IPC_EV__MAX ? event_names[e].name : "UNKNOWN";
}

int
ipc_event_check(const void *buf, size_t len)
{
	const struct ipc_event *ev = buf;
	int rc = ipc_hdr_check(buf, len);

	if (rc < 0)
		return rc;
	if (ev->hdr.type != IPC_EVENT || len != sizeof(*ev))
		return -EINVAL;
	if (ev->code == 0 || ev->code >= IPC_EV__MAX || (ev->ip_version != 4 && ev->ip_version != 6))
		return -EINVAL;
	return 0;
}

void
ipc_hdr_init(struct ipc_hdr *h, enum ipc_type type, uint32_t len, uint32_t seq)
{
	h->magic = IPC_MAGIC;
	h->version = IPC_VERSION;
	h->type = (uint16_t)type;
	h->len = len;
	h->seq = seq;
}

int
ipc_hdr_check(const void *buf, size_t len)
{
	const struct ipc_hdr *h = buf;

	if (len < sizeof(*h) || len > IPC_RECORD_MAX)
		return -EINVAL;
	if (h->magic != IPC_MAGIC)
		return -EINVAL;
	if (h->version != IPC_VERSION)
		return -EPROTO;
	if (h->len != len || h->type < IPC_HELLO || h->type > IPC_TYPE_LAST)
		return -EINVAL;
	return 0;
}

static size_t
pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

void
ipc_tx_init(struct ipc_tx *tx, size_t cap)
{
	(void)cap;
	memset(tx, 0, sizeof(*tx));
	ipc_hdr_init(&tx->hdr, IPC_TX, sizeof(*tx), 0);
}

void *
ipc_tx_add2(struct ipc_tx *tx, size_t cap, enum ipc_field_type type, const void *head,
	    size_t head_len, const void *tail, size_t tail_len)
{
	if (cap > IPC_TX_MAX)
		cap = IPC_TX_MAX;
	if (head_len + tail_len > IPC_FIELD_MAX) {
		tx->flags |= IPC_TXF_TRUNCATED;
		tail_len = head_len < IPC_FIELD_MAX ? IPC_FIELD_MAX - head_len : 0;
	}

	size_t used = tx->hdr.len;
	size_t need = sizeof(struct ipc_field) + pad8(head_len + tail_len);

	if (used > cap || need > cap - used) {
		tx->flags |= IPC_TXF_TRUNCATED;
		return NULL;
	}

	uint8_t *p = (uint8_t *)tx + used;
	struct ipc_field *f = (struct ipc_field *)p;
	uint8_t *val = p + sizeof(*f);

	f->type = (uint16_t)type;
	f->len = (uint16_t)(head_len + tail_len);
	f->reserved = 0;
	if (head_len > 0)
		memcpy(val, head, head_len);
	if (tail_len > 0)
		memcpy(val + head_len, tail, tail_len);
	memset(val + head_len + tail_len, 0, pad8(head_len + tail_len) - (head_len + tail_len));
	tx->hdr.len = (uint32_t)(used + need);
	tx->n_fields++;
	return val;
}

void *
ipc_tx_add(struct ipc_tx *tx, size_t cap, enum ipc_field_type type, const void *val, size_t len)
{
	return ipc_tx_add2(tx, cap, type, NULL, 0, val, len);
}

/* Fixed size a field's value must start with, 0 for plain byte strings. */
static size_t
field_fixed_len(uint16_t type)
{
	switch (type) {
	case IPC_F_RCPT:
	case IPC_F_HDR_RCPT:
		return sizeof(struct ipc_rcpt);
	case IPC_F_ALERT:
		return sizeof(struct ipc_alert);
	default:
		return 0;
	}
}

int
ipc_tx_check(const void *buf, size_t len)
{
	const struct ipc_tx *tx = buf;
	int rc = ipc_hdr_check(buf, len);

	if (rc < 0)
		return rc;
	if (tx->hdr.type != IPC_TX || len < sizeof(*tx) || len > IPC_TX_MAX)
		return -EINVAL;
	if (tx->status > IPC_TX_BLOCKED || (tx->ip_version != 4 && tx->ip_version != 6))
		return -EINVAL;

	size_t off = sizeof(*tx);
	uint16_t n = 0;

	while (off < len) {
		const struct ipc_field *f = (const void *)((const uint8_t *)buf + off);

		if (len - off < sizeof(*f))
			return -EINVAL;
		if (f->type < IPC_F_HELO || f->type > IPC_F__LAST || f->len > IPC_FIELD_MAX)
			return -EINVAL;
		if (pad8(f->len) > len - off - sizeof(*f))
			return -EINVAL;
		size_t fixed = field_fixed_len(f->type);
		if (fixed > 0 && (f->len < fixed || (f->type == IPC_F_ALERT && f->len != fixed)))
			return -EINVAL;
		off += sizeof(*f) + pad8(f->len);
		n++;
	}
	return n == tx->n_fields ? 0 : -EINVAL;
}

const struct ipc_field *
ipc_tx_next(const struct ipc_tx *tx, const struct ipc_field *prev)
{
	const uint8_t *base = (const uint8_t *)tx;
	size_t off = prev == NULL ? sizeof(*tx)
				  : (size_t)((const uint8_t *)prev - base) + sizeof(*prev) + pad8(prev->len);

	if (off + sizeof(struct ipc_field) > tx->hdr.len)
		return NULL;
	return (const struct ipc_field *)(base + off);
}
