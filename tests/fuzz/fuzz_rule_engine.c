/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the rule engine end to end: the input is a small rule pack, a NUL
 * byte, then a value. The pack is parsed (control/rule_parse.c), compiled
 * (control/rule_compile.c), loaded as the dataplane would (dataplane/scan.c), and the value is
 * scanned in every buffer the pack uses, whole and streamed, before the rules are evaluated.
 * The contract checked: a pack that compiles always loads (posternd never hands the dataplane
 * a generation it refuses), a pack that does not says why, and nothing crashes or leaks.
 * Packs are cut to a few rules because Hyperscan compiles take milliseconds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buffer_id.h"
#include "gen_format.h"
#include "rule_compile.h"
#include "rule_parse.h"
#include "scan.h"

#define MAX_RULES 4
#define MAX_PACK 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fired(void *ctx, const struct gen_rule *r)
{
	(void)r;
	(*(unsigned *)ctx)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t pack_len = nul != NULL ? (size_t)(nul - data) : size;
	const uint8_t *value = nul != NULL ? nul + 1 : data + size;
	size_t value_len = nul != NULL ? size - pack_len - 1 : 0;
	static const uint8_t ip[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 };
	struct scan_flow f = { .client_ip = ip, .server_ip = ip, .client_port = 40000,
			       .server_port = 25 };
	char err[4096];
	struct rule_set *rs;
	struct scan_gen *g;
	struct scan_matches m;
	void *blob = NULL;
	size_t blob_len = 0;
	unsigned n = 0;

	if (pack_len > MAX_PACK)
		return 0;
	rs = rule_set_parse_buffer("fuzz.rules", (const char *)data, pack_len, NULL, err,
				   sizeof(err));
	if (rs == NULL || rs->n_rules > MAX_RULES) {
		rule_set_destroy(rs);
		return 0;
	}
	err[0] = '\0';
	if (rule_compile(rs, NULL, 1, &blob, &blob_len, err, sizeof(err)) < 0) {
		if (err[0] == '\0' || blob != NULL)
			abort(); /* a refusal always says why, and leaves nothing */
		rule_set_destroy(rs);
		return 0;
	}
	g = scan_gen_load(blob, blob_len, 1, err, sizeof(err));
	if (g == NULL)
		abort(); /* compiled but refused by the dataplane */
	scan_matches_reset(&m);
	for (int b = 0; b < BUF__COUNT; b++) {
		if (!scan_gen_has_buffer(g, (enum buffer_id)b))
			continue;
		if (buffer_id_is_stream((enum buffer_id)b)) {
			struct hs_stream *st = scan_stream_open(g, (enum buffer_id)b);
			size_t half = value_len / 2;

			if (st == NULL)
				abort();
			if (scan_stream_write(g, 0, st, value, half, &m) < 0 ||
			    scan_stream_write(g, 0, st, value + half, value_len - half, &m) < 0 ||
			    scan_stream_close(g, 0, st, &m) < 0)
				abort();
		} else if (scan_block(g, 0, (enum buffer_id)b, value, value_len, &m) < 0) {
			abort();
		}
	}
	if (scan_eval(g, 0, &m, &f, fired, &n, NULL) < n)
		abort(); /* noalert rules match without firing: never more fired than matched */
	scan_gen_destroy(g);
	free(blob);
	rule_set_destroy(rs);
	return 0;
}
