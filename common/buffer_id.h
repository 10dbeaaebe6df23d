/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inspection buffers: the named places a rule's content can look at (Suricata's sticky
 * buffers). The rule compiler (posternd) and the scanner (dataplane) agree on these ids
 * through the rule generation blob, so their numeric values are part of the IPC contract:
 * append only, never renumber. Pure, any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum buffer_id {
	BUF_SMTP_HELO = 0,
	BUF_SMTP_MAIL_FROM = 1,
	BUF_SMTP_RCPT_TO = 2,
	BUF_EMAIL_FROM = 3,
	BUF_EMAIL_TO = 4,
	BUF_EMAIL_CC = 5,
	BUF_EMAIL_SUBJECT = 6,
	BUF_EMAIL_MESSAGE_ID = 7,
	BUF_EMAIL_X_MAILER = 8,
	BUF_EMAIL_DATE = 9,
	BUF_FILE_DATA = 10,    /* each leaf part of the message, transfer-decoded */
	BUF_EMAIL_URL = 11,    /* each URL of a text or HTML part */
	BUF_FILE_NAME = 12,    /* each attachment's file name */
	BUF_EMAIL_HEADER = 13, /* each header of the message as "Name: value", value decoded */
	BUF_EMAIL_RECEIVED = 14, /* each Received header's value (the relay path) */
	BUF_STREAM_TO_SERVER = 15, /* the raw reassembled stream from the client (pkt_data) */
	BUF_STREAM_TO_CLIENT = 16, /* the raw reassembled stream from the server */
	BUF__COUNT
};

/* Rule keyword of a buffer ("email.subject"), or NULL for an unknown id. */
const char *buffer_id_name(enum buffer_id id);

/* Buffer for a rule keyword; -1 if the keyword names no buffer. */
int buffer_id_from_name(const char *name, size_t len);

/* Buffers scanned in streaming mode (bodies); the others are scanned whole, in block mode. */
static inline bool
buffer_id_is_stream(enum buffer_id id)
{
	return id == BUF_FILE_DATA || id == BUF_STREAM_TO_SERVER || id == BUF_STREAM_TO_CLIENT;
}

/* Buffer that a message header feeds, or -1 when that header is not a buffer of its own. */
int buffer_id_from_header(const char *name, size_t len);
