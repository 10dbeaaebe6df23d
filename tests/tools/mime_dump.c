/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mime_dump: runs one message file through the MIME parser (dataplane/mime.h) and prints what
 * the parser saw as one JSON object, so that tests/mime/compare_email.py can hold it against
 * an independent parser (Python's email package):
 *   {"headers":[[name, decoded value], ...],   the message's own headers (depth 0), in order,
 *                                              RFC 2047 words decoded by mime_words_decode
 *    "parts":[{index, depth, type, charset, cte, multipart, message, attachment, name,
 *              size, sha256}, ...],            one per entity, in on_part_begin order; size and
 *                                              sha256 cover the bytes on_part_data gave it
 *    "urls":[...], "anomalies":{name: count}}
 * The file is fed in pieces of --split N bytes (default: whole); the output must not depend
 * on N. The tool also checks the parser's own bookkeeping (hook order, part->size, the
 * anomaly counters) and exits 1 when it is inconsistent. A test tool: it allocates freely
 * and is not part of the dataplane. Single-threaded.
 */
/* SHA256_Init & co. are deprecated in OpenSSL 3.0; the brief's API, as in common/addr_norm.c. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "mime.h"
#include "mime_decode.h"
#include "mime_words.h"
#include "slice.h"

#define DUMP_FILE_MAX (64u << 20) /* a test message; anything larger is a mistake */

struct dump_open {
	bool used;
	uint16_t index;
	uint64_t size;
	SHA256_CTX sha;
	json_t *obj; /* borrowed from the parts array */
};

struct dump {
	struct mime_words *words;
	json_t *headers;
	json_t *parts;
	json_t *urls;
	struct dump_open open[MIME_DEPTH_MAX + 1];
	uint64_t n_anomalies[MIME_AN__COUNT];
	unsigned n_errors; /* hook-order or bookkeeping inconsistencies of the parser */
};

static void __attribute__((format(printf, 2, 3)))
dump_error(struct dump *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mime_dump: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	d->n_errors++;
}

/* Length of the well-formed UTF-8 sequence at p (Unicode table 3-7), or 0. */
static size_t
utf8_seq_len(const uint8_t *p, size_t len)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f; /* no UTF-16 surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f; /* nothing above U+10FFFF */
	if (len < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * A JSON string for bytes that should be UTF-8 but may not be: jansson refuses invalid UTF-8
 * in json_string, so every byte that does not start a well-formed sequence (Unicode table 3-7),
 * and every backslash, is written as the four characters "\xNN" (lower-case hex); the rest is
 * copied. The result is valid UTF-8 by construction and goes to json_stringn_nocheck. Escaping
 * the backslash too makes the mapping invertible: compare_email.py turns every "\xNN" back
 * into its byte and compares bytes.
 */
static json_t *
json_bytes(const uint8_t *p, size_t len)
{
	char *buf = malloc(len * 4 + 1);
	size_t o = 0;
	json_t *s;

	if (buf == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(p + i, len - i);

		if (n == 0 || p[i] == '\\') {
			o += (size_t)sprintf(buf + o, "\\x%02x", p[i]);
			i++;
			continue;
		}
		memcpy(buf + o, p + i, n);
		o += n;
		i += n;
	}
	s = json_stringn_nocheck(buf, o);
	free(buf);
	return s;
}

static void
obj_set(json_t *obj, const char *key, json_t *val)
{
	if (val == NULL || json_object_set_new(obj, key, val) != 0) {
		fprintf(stderr, "mime_dump: out of memory\n");
		exit(1);
	}
}

static void
arr_add(json_t *arr, json_t *val)
{
	if (val == NULL || json_array_append_new(arr, val) != 0) {
		fprintf(stderr, "mime_dump: out of memory\n");
		exit(1);
	}
}

static void
on_header(void *ctx, const struct mime_part *part, struct slice name, struct slice value)
{
	struct dump *d = ctx;
	size_t cap = value.len * 4 + 64; /* a UTF-16 word grows at most 3x; a margin for raw */
	uint8_t *out;
	size_t n;
	bool truncated = false;
	json_t *pair;

	if (part->depth != 0)
		return;
	out = malloc(cap);
	if (out == NULL) {
		fprintf(stderr, "mime_dump: out of memory\n");
		exit(1);
	}
	n = mime_words_decode(d->words, value.ptr, value.len, out, cap, NULL, &truncated);
	if (truncated)
		dump_error(d, "decoded header value over %zu bytes (input %zu)", cap, value.len);
	pair = json_array();
	arr_add(d->headers, pair);
	arr_add(pair, json_bytes(name.ptr, name.len));
	arr_add(pair, json_bytes(out, n));
	free(out);
}

static void
on_part_begin(void *ctx, const struct mime_part *part)
{
	struct dump *d = ctx;
	struct dump_open *o;
	json_t *obj;

	if (part->depth > MIME_DEPTH_MAX) {
		dump_error(d, "part %u at depth %u", part->index, part->depth);
		return;
	}
	o = &d->open[part->depth];
	if (o->used)
		dump_error(d, "part %u begins while part %u is open at its depth", part->index,
			   o->index);
	if (part->depth > 0 && !d->open[part->depth - 1].used)
		dump_error(d, "part %u at depth %u has no open parent", part->index, part->depth);
	if (json_array_size(d->parts) != part->index)
		dump_error(d, "part index %u, expected %zu", part->index,
			   json_array_size(d->parts));

	obj = json_object();
	arr_add(d->parts, obj);
	obj_set(obj, "index", json_integer(part->index));
	obj_set(obj, "depth", json_integer(part->depth));
	obj_set(obj, "type", json_bytes((const uint8_t *)part->type, part->type_len));
	obj_set(obj, "charset", json_bytes((const uint8_t *)part->charset, part->charset_len));
	obj_set(obj, "cte", json_string(mime_cte_name((enum mime_cte)part->cte)));
	obj_set(obj, "multipart", json_boolean(part->multipart));
	obj_set(obj, "message", json_boolean(part->message));
	obj_set(obj, "attachment", json_boolean(part->attachment));
	obj_set(obj, "name", json_bytes(part->name, part->name_len));

	o->used = true;
	o->index = part->index;
	o->size = 0;
	o->obj = obj;
	SHA256_Init(&o->sha);
}

static struct dump_open *
open_of(struct dump *d, const struct mime_part *part, const char *what)
{
	struct dump_open *o;

	if (part->depth > MIME_DEPTH_MAX)
		return NULL;
	o = &d->open[part->depth];
	if (!o->used || o->index != part->index) {
		fprintf(stderr, "mime_dump: %s: ", what);
		dump_error(d, "part %u at depth %u is not open", part->index, part->depth);
		return NULL;
	}
	/* every deeper entity must have ended before its parent gets data or ends */
	if (part->depth < MIME_DEPTH_MAX && d->open[part->depth + 1].used)
		dump_error(d, "part %u still has part %u open inside it", part->index,
			   d->open[part->depth + 1].index);
	return o;
}

static void
on_part_data(void *ctx, const struct mime_part *part, struct slice data)
{
	struct dump *d = ctx;
	struct dump_open *o = open_of(d, part, "data");

	if (o == NULL)
		return;
	if (part->multipart)
		dump_error(d, "multipart %u given %zu data bytes", part->index, data.len);
	SHA256_Update(&o->sha, data.ptr, data.len);
	o->size += data.len;
}

static void
on_part_end(void *ctx, const struct mime_part *part)
{
	struct dump *d = ctx;
	struct dump_open *o = open_of(d, part, "end");
	uint8_t md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];

	if (o == NULL)
		return;
	SHA256_Final(md, &o->sha);
	for (size_t i = 0; i < sizeof(md); i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	if (part->size != o->size)
		dump_error(d, "part %u: part->size %" PRIu64 ", data bytes %" PRIu64,
			   part->index, part->size, o->size);
	obj_set(o->obj, "size", json_integer((json_int_t)o->size));
	obj_set(o->obj, "sha256", json_string(hex));
	o->used = false;
}

static void
on_url(void *ctx, const struct mime_part *part, struct slice url, bool truncated)
{
	struct dump *d = ctx;

	(void)part;
	(void)truncated;
	arr_add(d->urls, json_bytes(url.ptr, url.len));
}

static void
on_anomaly(void *ctx, enum mime_anomaly what)
{
	struct dump *d = ctx;

	if ((unsigned)what >= MIME_AN__COUNT) {
		dump_error(d, "anomaly %u out of range (%u)", what, MIME_AN__COUNT);
		return;
	}
	d->n_anomalies[what]++;
}

static const struct mime_hooks dump_hooks = {
	.on_header = on_header,
	.on_part_begin = on_part_begin,
	.on_part_data = on_part_data,
	.on_part_end = on_part_end,
	.on_url = on_url,
	.on_anomaly = on_anomaly,
};

/* The whole of path ("-": standard input), which may be a pipe. */
static int
read_input(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	uint8_t *p = NULL;
	int rc = 0;

	if (f == NULL)
		return -errno;
	for (;;) {
		uint8_t *q;
		size_t got;

		if (n == cap || p == NULL) {
			if (p != NULL)
				cap *= 2;
			if (cap > DUMP_FILE_MAX) {
				rc = -EFBIG;
				goto out;
			}
			q = realloc(p, cap);
			if (q == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			p = q;
		}
		got = fread(p + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = -EIO;
			break;
		}
	}
out:
	if (f != stdin)
		fclose(f);
	if (rc != 0) {
		free(p);
		return rc;
	}
	*buf = p;
	*len = n;
	return 0;
}

static void
usage(FILE *to)
{
	fprintf(to, "usage: mime_dump [--split N] FILE|-\n"
		    "  Parse one RFC 5322 message with Postern's MIME parser and print one JSON\n"
		    "  object: top-level headers (RFC 2047 decoded), parts, URLs, anomalies.\n"
		    "  --split N  feed the parser N bytes at a time (default: all at once)\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "split", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct mime_parser parser; /* large; one per run */
	struct dump d = { 0 };
	size_t split = 0, len = 0;
	uint8_t *buf = NULL;
	json_t *root, *an;
	int c, rc, status = 1;

	while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': {
			char *end;

			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || v == 0 ||
			    v > DUMP_FILE_MAX) {
				fprintf(stderr, "mime_dump: --split wants 1..%u, not '%s'\n",
					DUMP_FILE_MAX, optarg);
				return 2;
			}
			split = v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	rc = read_input(argv[optind], &buf, &len);
	if (rc != 0) {
		fprintf(stderr, "mime_dump: %s: %s\n", argv[optind], strerror(-rc));
		return 1;
	}
	d.words = mime_words_create();
	if (d.words == NULL) {
		fprintf(stderr, "mime_dump: mime_words_create: %s\n", strerror(errno));
		goto free_buf;
	}
	root = json_object();
	d.headers = json_array();
	d.parts = json_array();
	d.urls = json_array();
	an = json_object();
	if (root == NULL || d.headers == NULL || d.parts == NULL || d.urls == NULL || an == NULL) {
		fprintf(stderr, "mime_dump: out of memory\n");
		json_decref(root);
		json_decref(d.headers);
		json_decref(d.parts);
		json_decref(d.urls);
		json_decref(an);
		goto free_buf;
	}
	obj_set(root, "headers", d.headers);
	obj_set(root, "parts", d.parts);
	obj_set(root, "urls", d.urls);
	obj_set(root, "anomalies", an);

	mime_parser_init(&parser, &dump_hooks, &d, d.words);
	if (split == 0)
		split = len == 0 ? 1 : len;
	for (size_t off = 0; off < len; off += split)
		mime_parser_feed(&parser, buf + off, len - off < split ? len - off : split);
	mime_parser_finish(&parser);

	for (unsigned i = 0; i <= MIME_DEPTH_MAX; i++)
		if (d.open[i].used)
			dump_error(&d, "part %u never ended (depth %u)", d.open[i].index, i);
	for (unsigned i = 0; i < MIME_AN__COUNT; i++) {
		if (d.n_anomalies[i] != parser.n_anomalies[i])
			dump_error(&d, "anomaly %s: hooks %" PRIu64 ", parser %" PRIu64,
				   mime_anomaly_name((enum mime_anomaly)i), d.n_anomalies[i],
				   parser.n_anomalies[i]);
		if (d.n_anomalies[i] != 0)
			obj_set(an, mime_anomaly_name((enum mime_anomaly)i),
				json_integer((json_int_t)d.n_anomalies[i]));
	}
	if (json_dumpf(root, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 ||
	    fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "mime_dump: writing the output failed\n");
		d.n_errors++;
	}
	json_decref(root);
	status = d.n_errors == 0 ? 0 : 1;
free_buf:
	mime_words_destroy(d.words);
	free(buf);
	return status;
}
