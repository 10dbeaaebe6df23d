/* SPDX-License-Identifier: BSD-3-Clause */
/* Names of the inspection buffers and the headers that feed them. Pure, any thread. */
#include <string.h>
#include <strings.h>

#include "buffer_id.h"

static const char *const buffer_names[BUF__COUNT] = {
	[BUF_SMTP_HELO] = "smtp.helo",
	[BUF_SMTP_MAIL_FROM] = "smtp.mail_from",
	[BUF_SMTP_RCPT_TO] = "smtp.rcpt_to",
	[BUF_EMAIL_FROM] = "email.from",
	[BUF_EMAIL_TO] = "email.to",
	[BUF_EMAIL_CC] = "email.cc",
	[BUF_EMAIL_SUBJECT] = "email.subject",
	[BUF_EMAIL_MESSAGE_ID] = "email.message_id",
	[BUF_EMAIL_X_MAILER] = "email.x_mailer",
	[BUF_EMAIL_DATE] = "email.date",
	[BUF_FILE_DATA] = "file.data",
	[BUF_EMAIL_URL] = "email.url",
	[BUF_FILE_NAME] = "file.name",
	[BUF_EMAIL_HEADER] = "email.header",
	[BUF_EMAIL_RECEIVED] = "email.received",
	/* Suricata's keyword for the raw payload; the other direction has no keyword of its
	 * own (flow:to_client selects it), and a name with a blank can never be one */
	[BUF_STREAM_TO_SERVER] = "pkt_data",
	[BUF_STREAM_TO_CLIENT] = "pkt_data to_client",
};

/* The header whose unfolded value is each email.* buffer. */
static const struct {
	const char *header;
	enum buffer_id id;
} header_buffers[] = {
	{ "from", BUF_EMAIL_FROM },
	{ "to", BUF_EMAIL_TO },
	{ "cc", BUF_EMAIL_CC },
	{ "subject", BUF_EMAIL_SUBJECT },
	{ "message-id", BUF_EMAIL_MESSAGE_ID },
	{ "x-mailer", BUF_EMAIL_X_MAILER },
	{ "date", BUF_EMAIL_DATE },
	{ "received", BUF_EMAIL_RECEIVED },
};

const char *
buffer_id_name(enum buffer_id id)
{
	return (unsigned)id < BUF__COUNT ? buffer_names[id] : NULL;
}

int
buffer_id_from_name(const char *name, size_t len)
{
	for (int i = 0; i < BUF__COUNT; i++)
		if (strlen(buffer_names[i]) == len && strncmp(buffer_names[i], name, len) == 0)
			return i;
	return -1;
}

int
buffer_id_from_header(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(header_buffers) / sizeof(header_buffers[0]); i++)
		if (strlen(header_buffers[i].header) == len &&
		    strncasecmp(header_buffers[i].header, name, len) == 0)
			return (int)header_buffers[i].id;
	return -1;
}
