/* SPDX-License-Identifier: BSD-3-Clause */
/* Names of the SMTP service extensions; see smtp_ext.h. Pure, any thread. */
#include <string.h>
#include <strings.h>

#include "smtp_ext.h"

static const char *const ext_names[SMTP_EXT__COUNT] = {
	[SMTP_EXT_PIPELINING] = "PIPELINING",
	[SMTP_EXT_SIZE] = "SIZE",
	[SMTP_EXT_8BITMIME] = "8BITMIME",
	[SMTP_EXT_CHUNKING] = "CHUNKING",
	[SMTP_EXT_BINARYMIME] = "BINARYMIME",
	[SMTP_EXT_STARTTLS] = "STARTTLS",
	[SMTP_EXT_AUTH] = "AUTH",
	[SMTP_EXT_SMTPUTF8] = "SMTPUTF8",
	[SMTP_EXT_DSN] = "DSN",
	[SMTP_EXT_ENHANCEDSTATUSCODES] = "ENHANCEDSTATUSCODES",
	[SMTP_EXT_ETRN] = "ETRN",
	[SMTP_EXT_VRFY] = "VRFY",
	[SMTP_EXT_HELP] = "HELP",
	[SMTP_EXT_DELIVERBY] = "DELIVERBY",
	[SMTP_EXT_REQUIRETLS] = "REQUIRETLS",
	[SMTP_EXT_OTHER] = "other",
};

const char *
smtp_ext_name(enum smtp_ext ext)
{
	return (unsigned)ext < SMTP_EXT__COUNT ? ext_names[ext] : NULL;
}

enum smtp_ext
smtp_ext_from_keyword(const uint8_t *kw, size_t len)
{
	/* "AUTH=LOGIN PLAIN" is how old Microsoft servers spelled AUTH */
	for (size_t i = 0; i < len; i++) {
		if (kw[i] == '=' || kw[i] == ' ') {
			len = i;
			break;
		}
	}
	for (int e = 0; e < SMTP_EXT_OTHER; e++)
		if (strlen(ext_names[e]) == len && strncasecmp(ext_names[e], (const char *)kw, len) == 0)
			return (enum smtp_ext)e;
	return SMTP_EXT_OTHER;
}
