/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternctl sub-commands. Each takes argv from its own name on (argv[0] is "suppress",
 * "alerts", ...), the loaded configuration, and returns the process exit status:
 * 0 success, 1 the operation failed (bad input rejected, nothing changed), 2 usage or
 * environment error.
 */
#pragma once

#include "config.h"

int cmd_suppress(int argc, char **argv, const struct postern_config *cfg);
/* `suppress` sub-commands in files of their own (argv[0] is "sync", "export", "stats"). */
int cmd_suppress_sync(int argc, char **argv, const struct postern_config *cfg);
int cmd_suppress_export(int argc, char **argv, const struct postern_config *cfg);
int cmd_suppress_stats(int argc, char **argv, const struct postern_config *cfg);
int cmd_alerts(int argc, char **argv, const struct postern_config *cfg);
int cmd_stats(int argc, char **argv, const struct postern_config *cfg);
int cmd_reload(int argc, char **argv, const struct postern_config *cfg);
int cmd_rules(int argc, char **argv, const struct postern_config *cfg);
