/* SPDX-License-Identifier: BSD-3-Clause */
/* stderr logging for everything but worker fast paths. */
#include <stdio.h>

#include "log.h"

static const char *log_prog = "postern";
static enum log_level log_max = LOG_LVL_INFO;

void
log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_max = level;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > log_max)
		return;
	fprintf(stderr, "%s: %s: ", log_prog, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
