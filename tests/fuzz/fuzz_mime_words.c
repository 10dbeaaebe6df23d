/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for dataplane/mime_words.c: any bytes as a header value, decoded with a cap
 * taken from the first two bytes into a heap buffer of exactly that size (ASan sees overruns).
 * Invariants: output <= cap, the same input decodes to the same bytes twice, and a capped result
 * is a prefix of the uncapped one. Seeds: tests/fuzz/corpus/mime_words/ (encoded words in each
 * charset family, runs, malformed words).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime_words.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mime_words *m;
	size_t cap, full_cap, n1, n2, nf;
	unsigned bad1, bad2, badf;
	bool t1, t2, tf;
	uint8_t *o1, *o2, *of;

	if (m == NULL && (m = mime_words_create()) == NULL)
		abort();
	if (size < 2)
		return 0;
	cap = ((size_t)data[0] << 8 | data[1]) % 4096;
	data += 2;
	size -= 2;
	full_cap = size * 4 + 16; /* enough: UTF-8 from any word is < 4x its encoded text */
	o1 = malloc(cap ? cap : 1);
	o2 = malloc(cap ? cap : 1);
	of = malloc(full_cap);
	if (o1 == NULL || o2 == NULL || of == NULL)
		abort();
	n1 = mime_words_decode(m, data, size, o1, cap, &bad1, &t1);
	n2 = mime_words_decode(m, data, size, o2, cap, &bad2, &t2);
	nf = mime_words_decode(m, data, size, of, full_cap, &badf, &tf);
	if (n1 > cap || n1 != n2 || memcmp(o1, o2, n1) != 0 || bad1 != bad2 || t1 != t2)
		abort();
	if (tf || n1 > nf || memcmp(o1, of, n1) != 0 || t1 != (nf > cap))
		abort();
	if (!t1 && (n1 != nf || bad1 != badf))
		abort();
	free(o1);
	free(o2);
	free(of);
	return 0;
}
