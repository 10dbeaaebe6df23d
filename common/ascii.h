/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ASCII byte classes every wire parser needs, locale-free (ctype's answer depends on the
 * locale and on whether char is signed), and the quoting of user bytes in error messages.
 * Pure, any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static inline uint8_t
ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* The value of a hexadecimal digit, either case; -1 for any other byte. */
static inline int
ascii_hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 5234 WSP: space or horizontal tab. */
static inline bool
ascii_is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/*
 * User text quoted in an error message: printable ASCII as is, any other byte as \xHH, cut
 * with "..." to fit size (at least 12). Returns buf.
 */
static inline const char *
ascii_show(char *buf, size_t size, const char *p, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (o + 8 >= size) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ch >= 0x20 && ch < 0x7f)
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
	}
	buf[o] = '\0';
	return buf;
}
