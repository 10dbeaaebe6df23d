/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What `posternctl suppress` shares between its two files: cmd_suppress.c (dispatch, import,
 * edits, check) and cmd_suppress_report.c (export, stats, and the helpers below). The
 * sub-commands themselves are declared in commands.h. posternctl's main thread only.
 */
#pragma once

#include <stddef.h>

#include "config.h"

struct bday_calendar;

/* posternctl's exit codes (commands.h). */
enum { SUPPRESS_EXIT_OK = 0, SUPPRESS_EXIT_REFUSED = 1, SUPPRESS_EXIT_ERROR = 2 };

/*
 * The business-day calendar of the configuration (suppress_calendar_tz, suppress_holidays).
 * 0 and *cal (the caller frees it with bday_calendar_free), or a negative errno after printing
 * "suppress CMD: calendar: reason" on stderr.
 */
int suppress_cli_calendar(const struct postern_config *cfg, const char *cmd,
			  struct bday_calendar **cal);

/* The normalization flags a new set gets from the configuration (enum addr_norm_flag). */
unsigned suppress_cli_config_flags(const struct postern_config *cfg);

/* The flags as their option names ("lowercase-local strip-tag fold-dots"), or "default"
 * for none; out gets at most cap - 1 bytes and a NUL. Returns out. */
char *suppress_cli_flags_str(unsigned flags, char *out, size_t cap);

/* getopt_long over a sub-command's own argv (argv[0] its name), from the start. */
void suppress_cli_getopt_reset(void);
