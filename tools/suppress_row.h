/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One opt-out as every source gives it (a CSV, JSON Lines, XML or plain-text row, or a row of
 * an ODBC query), before it is keyed: the import parser (suppress_import.c) turns each into a
 * keyed entry, so that the rules for what makes a good row live in one place whatever the
 * format. Also the names by which a column is recognized in a CSV header, a JSON object or an
 * SQL result. posternctl only.
 */
#pragma once

#include <stdint.h>

#include "slice.h"

struct suppress_row {
	struct slice addr;     /* "user@domain" or "@domain"; required */
	struct slice optout;   /* opt-out time (suppress_import_parse_time formats); required */
	struct slice consent;  /* a later affirmative consent; empty: none */
	struct slice scope;    /* "", "all", "sender:DOMAIN" or "list:LIST-ID" */
	uint64_t line;         /* file line, or row number of a query, for reports */
};

enum suppress_column {
	SUPPRESS_COL_ADDR = 0,
	SUPPRESS_COL_OPTOUT = 1,
	SUPPRESS_COL_CONSENT = 2,
	SUPPRESS_COL_SCOPE = 3,
	SUPPRESS_COL__COUNT
};
