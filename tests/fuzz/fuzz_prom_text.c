/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the Prometheus text formatter (control/prom_text.c). The input is
 * parsed as JSON (any value); whatever it is, prom_text_format() must not crash, and every
 * line it writes must be a comment (# HELP or # TYPE with a valid name) or a sample
 * `name{label="value",...} number` whose name is that of the family last typed, so that a
 * scraper reads it whole. The exposition is appended after a prefix to exercise appending.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "prom_text.h"

#define PREFIX "# prefix\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

static size_t
name_len(const char *s, const char *end)
{
	size_t n = 0;

	while (s + n < end && name_char(s[n], n == 0))
		n++;
	return n;
}

static void
check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

/* One sample line [p, eol) of the family named fam (famlen bytes). */
static void
check_sample(const char *p, const char *eol, const char *fam, size_t famlen)
{
	size_t n = name_len(p, eol);
	char *end;

	check(n > 0 && n == famlen && memcmp(p, fam, n) == 0);
	p += n;
	if (p < eol && *p == '{') {
		p++;
		for (;;) {
			n = name_len(p, eol);
			check(n > 0);
			p += n;
			check(eol - p >= 2 && p[0] == '=' && p[1] == '"');
			p += 2;
			while (p < eol && *p != '"') {
				if (*p == '\\') {
					check(p + 1 < eol &&
					      (p[1] == '\\' || p[1] == '"' || p[1] == 'n'));
					p++;
				}
				p++;
			}
			check(p < eol);
			p++;
			check(p < eol);
			if (*p == '}')
				break;
			check(*p == ',');
			p++;
		}
		p++;
	}
	check(p < eol && *p == ' ');
	p++;
	check(p < eol && *p != ' ');
	strtod(p, &end);
	check(end == eol);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	char *buf = strdup(PREFIX);
	size_t len = strlen(PREFIX);
	const char *fam = NULL;
	size_t famlen = 0;

	if (buf == NULL) {
		json_decref(j);
		return 0;
	}
	if (prom_text_format(j, &buf, &len) == 0) {
		const char *line = buf, *end = buf + len;

		check(memcmp(buf, PREFIX, strlen(PREFIX)) == 0 && buf[len] == '\0');
		check(len == strlen(buf)); /* no NUL inside */
		while (line < end) {
			const char *eol = memchr(line, '\n', (size_t)(end - line));
			size_t n;

			check(eol != NULL);
			if (eol - line >= 7 && (memcmp(line, "# HELP ", 7) == 0 ||
						memcmp(line, "# TYPE ", 7) == 0)) {
				n = name_len(line + 7, eol);
				check(n > 0 && line + 7 + n < eol && line[7 + n] == ' ');
				if (line[2] == 'T') {
					fam = line + 7;
					famlen = n;
				}
			} else if (line[0] != '#') {
				check(fam != NULL);
				check_sample(line, eol, fam, famlen);
			}
			line = eol + 1;
		}
	}
	free(buf);
	json_decref(j);
	return 0;
}
