/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suricata's classification.config: `config classification: shortname,description,priority`
 * lines, `#` comments and blank lines. It maps a rule's classtype to the category and
 * severity that alerts carry. It does not read reference.config or threshold.config.
 * Loading is all or nothing: any bad line (reported as file:line:column, up to
 * CLASSIFICATION_MAX_ERRORS of them) fails the load, so a reload keeps the old table.
 * Control thread only; a loaded table is read-only and may be shared by readers.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CLASSIFICATION_MAX 1024          /* entries in one file */
#define CLASSIFICATION_NAME_MAX 64       /* bytes in a shortname */
#define CLASSIFICATION_DESC_MAX 256      /* bytes in a description */
#define CLASSIFICATION_MAX_ERRORS 20     /* reported before giving up */
#define CLASSIFICATION_FILE_MAX (1u << 20)
#define CLASSIFICATION_DEFAULT_PRIORITY 3 /* severity of a rule with neither priority nor class */

struct classification_entry {
	char *name;        /* shortname, the rules' classtype: "policy-violation" */
	char *desc;        /* EVE alert.category: "Potential Corporate Privacy Violation" */
	int priority;      /* 1 (highest) .. 255 */
	uint32_t line;
};

struct classification {
	struct classification_entry *entries;
	uint32_t n_entries;
};

/*
 * Parse a classification file. Returns a table the caller owns (classification_destroy), or
 * NULL with errno set (EINVAL: bad content, ENOMEM, or the errno of open/read) and every
 * error in err, one "FILE:LINE:COL: message" per line, no trailing newline.
 */
struct classification *classification_load(const char *path, char *err, size_t errlen);

/* Same, over a buffer; name stands for the file name in messages. */
struct classification *classification_parse_buffer(const char *name, const char *text, size_t len,
						   char *err, size_t errlen);

/* Free a table; NULL is a no-op. */
void classification_destroy(struct classification *c);

/* Entry for a shortname (exact match), or NULL. The entry is borrowed from c. */
const struct classification_entry *classification_find(const struct classification *c,
							const char *name);

/*
 * A rule's severity: its priority when it has one (> 0), else its classtype's priority, else
 * CLASSIFICATION_DEFAULT_PRIORITY. c and classtype may be NULL.
 */
int classification_severity(const struct classification *c, const char *classtype, int priority);
