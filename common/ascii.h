/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ASCII byte classes every wire parser needs, locale-free (ctype's answer depends on the
 * locale and on whether char is signed). Pure, any thread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

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
