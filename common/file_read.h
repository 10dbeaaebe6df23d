/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading a whole configuration-sized file (rule packs, classification tables) into memory,
 * with a size bound, for parsers that work on buffers. Control threads and tools only.
 */
#pragma once

#include <stddef.h>

/*
 * Read the regular file at path, at most max bytes, into a new buffer (NUL-terminated one
 * past *len, for convenience; the caller frees it). 0, or a negative errno: -EFBIG when
 * larger than max, -EINVAL when not a regular file, or the errno of open/read.
 */
int file_read_all(const char *path, size_t max, char **buf, size_t *len);
