/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMTP service extensions a server offers in its EHLO reply (RFC 5321 4.1.1.1), as bits of a
 * mask: the dataplane's parser sets them, the transaction record carries the mask, and
 * posternd names them in EVE smtp.extensions[]. Bit numbers are part of the IPC contract:
 * append only. Pure, any thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum smtp_ext {
	SMTP_EXT_PIPELINING = 0,
	SMTP_EXT_SIZE,
	SMTP_EXT_8BITMIME,
	SMTP_EXT_CHUNKING,
	SMTP_EXT_BINARYMIME,
	SMTP_EXT_STARTTLS,
	SMTP_EXT_AUTH,
	SMTP_EXT_SMTPUTF8,
	SMTP_EXT_DSN,
	SMTP_EXT_ENHANCEDSTATUSCODES,
	SMTP_EXT_ETRN,
	SMTP_EXT_VRFY,
	SMTP_EXT_HELP,
	SMTP_EXT_DELIVERBY,
	SMTP_EXT_REQUIRETLS,
	SMTP_EXT_OTHER,            /* any keyword not listed above */
	SMTP_EXT__COUNT
};

/* Keyword of an extension ("PIPELINING"), or NULL for an unknown bit. */
const char *smtp_ext_name(enum smtp_ext ext);

/*
 * Extension named by the keyword of an EHLO reply line (the text after "250-"/"250 " up to the
 * first space; case-insensitive, "AUTH=LOGIN" counts as AUTH): SMTP_EXT_OTHER if unlisted.
 */
enum smtp_ext smtp_ext_from_keyword(const uint8_t *kw, size_t len);
