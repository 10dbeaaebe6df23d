/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parser of classification.config (see classification.h). The grammar follows Suricata's
 * own regex: `config classification: NAME,DESC,PRIO` where DESC runs from the first comma to
 * the last one, so a description may itself hold commas. Unlike Suricata, a malformed line or
 * a duplicate name is an error rather than a warning: a shipped table should be exact.
 * Control thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classification.h"
#include "file_read.h"

struct cls_ctx {
	const char *name;
	char *err;
	size_t errlen;
	size_t err_used;
	uint32_t n_errors;
	const char *line;       /* start of the current line: columns count from here */
	uint32_t lineno;
};

static void cls_error(struct cls_ctx *cx, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
cls_error(struct cls_ctx *cx, const char *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	cx->n_errors++;
	if (cx->err == NULL || cx->errlen == 0 || cx->err_used + 1 >= cx->errlen)
		return;
	if (at != NULL)
		n = snprintf(cx->err + cx->err_used, cx->errlen - cx->err_used, "%s%s:%u:%u: ",
			     cx->err_used > 0 ? "\n" : "", cx->name, cx->lineno,
			     (unsigned)(at - cx->line) + 1);
	else
		n = snprintf(cx->err + cx->err_used, cx->errlen - cx->err_used, "%s%s: ",
			     cx->err_used > 0 ? "\n" : "", cx->name);
	if (n < 0 || (size_t)n >= cx->errlen - cx->err_used) {
		cx->err_used = cx->errlen - 1;
		return;
	}
	cx->err_used += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(cx->err + cx->err_used, cx->errlen - cx->err_used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cx->errlen - cx->err_used)
		cx->err_used = cx->errlen - 1;
	else
		cx->err_used += (size_t)n;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *
skip_blank(const char *p, const char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

static const char *
trim_end(const char *p, const char *end)
{
	while (end > p && is_blank(end[-1]))
		end--;
	return end;
}

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Match a word at p, returning the byte after it, or NULL. */
static const char *
eat_word(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - p) < n || memcmp(p, word, n) != 0)
		return NULL;
	return p + n;
}

static char *
dup_range(const char *p, const char *end)
{
	char *s = malloc((size_t)(end - p) + 1);

	if (s != NULL) {
		memcpy(s, p, (size_t)(end - p));
		s[end - p] = '\0';
	}
	return s;
}

void
classification_destroy(struct classification *c)
{
	if (c == NULL)
		return;
	for (uint32_t i = 0; i < c->n_entries; i++) {
		free(c->entries[i].name);
		free(c->entries[i].desc);
	}
	free(c->entries);
	free(c);
}

static const struct classification_entry *
find_range(const struct classification *c, const char *name, size_t len)
{
	for (uint32_t i = 0; i < c->n_entries; i++)
		if (strlen(c->entries[i].name) == len && memcmp(c->entries[i].name, name, len) == 0)
			return &c->entries[i];
	return NULL;
}

const struct classification_entry *
classification_find(const struct classification *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	return find_range(c, name, strlen(name));
}

int
classification_severity(const struct classification *c, const char *classtype, int priority)
{
	const struct classification_entry *e;

	if (priority > 0)
		return priority;
	e = classification_find(c, classtype);
	return e != NULL ? e->priority : CLASSIFICATION_DEFAULT_PRIORITY;
}

/* One non-comment line, [p, end). Returns 0, -EINVAL (reported) or -ENOMEM. */
static int
parse_line(struct cls_ctx *cx, struct classification *c, const char *p, const char *end)
{
	const char *q, *name, *name_end, *desc, *desc_end, *prio, *first_comma, *last_comma;
	unsigned long v = 0;

	q = eat_word(p, end, "config");
	if (q != NULL)
		q = eat_word(skip_blank(q, end), end, "classification");
	if (q != NULL) {
		q = skip_blank(q, end);
		q = q < end && *q == ':' ? q + 1 : NULL;
	}
	if (q == NULL) {
		cls_error(cx, p, "expected 'config classification: name,description,priority'");
		return -EINVAL;
	}
	name = skip_blank(q, end);
	first_comma = name < end ? memchr(name, ',', (size_t)(end - name)) : NULL;
	last_comma = NULL;
	for (const char *s = end; s > name; s--)
		if (s[-1] == ',') {
			last_comma = s - 1;
			break;
		}
	if (first_comma == NULL || first_comma == last_comma) {
		cls_error(cx, name, "expected 'name,description,priority'");
		return -EINVAL;
	}

	name_end = trim_end(name, first_comma);
	if (name_end == name || (size_t)(name_end - name) > CLASSIFICATION_NAME_MAX) {
		cls_error(cx, name, "name must be 1 to %d characters", CLASSIFICATION_NAME_MAX);
		return -EINVAL;
	}
	for (q = name; q < name_end; q++)
		if (!is_name_char(*q)) {
			cls_error(cx, q, "name may hold only letters, digits, '-' and '_'");
			return -EINVAL;
		}

	desc = skip_blank(first_comma + 1, last_comma);
	desc_end = trim_end(desc, last_comma);
	if (desc_end == desc || (size_t)(desc_end - desc) > CLASSIFICATION_DESC_MAX) {
		cls_error(cx, desc, "description must be 1 to %d characters",
			  CLASSIFICATION_DESC_MAX);
		return -EINVAL;
	}
	for (q = desc; q < desc_end; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f) {
			cls_error(cx, q, "control character 0x%02x in description",
				  (unsigned char)*q);
			return -EINVAL;
		}

	prio = skip_blank(last_comma + 1, end);
	q = prio;
	while (q < end && *q >= '0' && *q <= '9' && v <= 255)
		v = v * 10 + (unsigned long)(*q++ - '0');
	if (q == prio || skip_blank(q, end) != end || v < 1 || v > 255) {
		cls_error(cx, prio, "priority must be a number in 1..255");
		return -EINVAL;
	}

	const struct classification_entry *dup = find_range(c, name, (size_t)(name_end - name));
	if (dup != NULL) {
		cls_error(cx, name, "duplicate classtype '%s' (first at line %u)", dup->name,
			  dup->line);
		return -EINVAL;
	}
	if (c->n_entries == CLASSIFICATION_MAX) {
		cls_error(cx, p, "more than %d classtypes", CLASSIFICATION_MAX);
		return -EINVAL;
	}

	struct classification_entry *e = &c->entries[c->n_entries];

	e->name = dup_range(name, name_end);
	e->desc = dup_range(desc, desc_end);
	if (e->name == NULL || e->desc == NULL) {
		free(e->name);
		free(e->desc);
		e->name = e->desc = NULL;
		return -ENOMEM;
	}
	e->priority = (int)v;
	e->line = cx->lineno;
	c->n_entries++;
	return 0;
}

struct classification *
classification_parse_buffer(const char *name, const char *text, size_t len, char *err,
			    size_t errlen)
{
	struct cls_ctx cx = { .name = name, .err = err, .errlen = errlen };
	struct classification *c;
	const char *p = text, *end = text + len;
	int rc = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto nomem;
	c->entries = calloc(CLASSIFICATION_MAX, sizeof(*c->entries));
	if (c->entries == NULL)
		goto nomem;

	while (p < end && cx.n_errors < CLASSIFICATION_MAX_ERRORS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl != NULL ? nl : end;
		const char *s;

		cx.lineno++;
		cx.line = p;
		if (line_end > p && line_end[-1] == '\r')
			line_end--;
		s = skip_blank(p, line_end);
		line_end = trim_end(s, line_end);
		if (s < line_end && *s != '#') {
			rc = parse_line(&cx, c, s, line_end);
			if (rc == -ENOMEM)
				goto nomem;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	if (cx.n_errors > 0) {
		if (cx.n_errors >= CLASSIFICATION_MAX_ERRORS && p < end)
			cls_error(&cx, NULL, "too many errors, stopped after %d",
				  CLASSIFICATION_MAX_ERRORS);
		classification_destroy(c);
		errno = EINVAL;
		return NULL;
	}
	return c;

nomem:
	classification_destroy(c);
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: out of memory", name);
	errno = ENOMEM;
	return NULL;
}

struct classification *
classification_load(const char *path, char *err, size_t errlen)
{
	struct classification *c;
	char *buf;
	size_t len;
	int rc = file_read_all(path, CLASSIFICATION_FILE_MAX, &buf, &len);

	if (rc < 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		errno = -rc;
		return NULL;
	}
	c = classification_parse_buffer(path, buf, len, err, errlen);
	rc = errno;
	free(buf);
	errno = rc;
	return c;
}
