/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EVE file output: appends lines to a file (eve.json) for Filebeat, Vector or Wazuh to tail.
 * Opened O_APPEND|O_CREAT with mode 0640; each line and its newline go out in one write, so a
 * reader never sees half a line from us unless the disk fills. eve_file_reopen() is for
 * SIGHUP after logrotate moved the file: it opens the path anew and only then lets the old
 * descriptor go, so a failed reopen keeps logging to the old file.
 *
 * With a size limit (eve_file_set_rotation) it rotates by itself: before a line would take
 * the file past the limit, PATH.N-1 becomes PATH.N ... PATH becomes PATH.1 (the oldest,
 * PATH.KEEP, is replaced) and a new PATH is started, so a line is never split across files.
 * A rename that fails is counted and the line goes to the current file: a line is never
 * lost for rotation. It does not compress or buffer (a line is written when it is given),
 * nor format lines (control/eve.c). posternd control thread only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct eve_file;

struct eve_file_stats {
	uint64_t n_lines;     /* lines written whole */
	uint64_t n_errors;    /* lines lost or cut by a write error */
	uint64_t n_reopens;
	uint64_t n_rotations;
	uint64_t n_rotate_errors; /* renames or opens that failed: the current file goes on */
};

/* Open (creating) path for appending. Returns NULL and sets errno. */
struct eve_file *eve_file_create(const char *path);

/* Close the file. NULL is a no-op. */
void eve_file_destroy(struct eve_file *f);

/*
 * Append line (len bytes, without newline) and a newline. Returns 0 or -errno (ENOSPC,
 * EIO...); the failure is counted. line is borrowed for the call.
 */
int eve_file_write(struct eve_file *f, const char *line, size_t len);

/*
 * Rotate before the file would pass max_bytes (0: never), keeping keep older files (at least
 * 1). A line longer than max_bytes alone still goes whole into a fresh file.
 */
void eve_file_set_rotation(struct eve_file *f, uint64_t max_bytes, unsigned keep);

/* Open the path again (after rotation). Returns 0, or -errno with the old file still in use. */
int eve_file_reopen(struct eve_file *f);

void eve_file_get_stats(const struct eve_file *f, struct eve_file_stats *out);
