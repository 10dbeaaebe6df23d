/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternctl alerts [--socket PATH] [--count N] [--type TYPE]...
 *
 * Connects to the alert socket (control/alert_server.c) and copies each complete line to
 * stdout, flushed per line so that a pipe into jq shows alerts as they happen. With --type
 * (repeatable), it asks the server for those event types only ("types ..."), so that lines
 * it does not want neither cross the socket nor fill its queue, and prints only lines of
 * those types (and counts them: what went out before the server had the request is
 * filtered here). A line longer than
 * ALERTS_LINE_MAX is skipped whole, and a line the server cut when it ended the stream is
 * not printed: stdout only ever gets complete lines. Exit status (commands.h): 0 when the
 * server closed the stream or --count lines were printed, 1 when reading the stream or
 * writing stdout failed, 2 for a usage error or when the socket cannot be reached.
 * Tool process, single thread.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "commands.h"

#define ALERTS_LINE_MAX (1u << 20)
#define ALERTS_READ_CHUNK 65536

static const char *const event_types[] = { "alert", "smtp", "stats", "anomaly", "spool" };
#define N_EVENT_TYPES (sizeof(event_types) / sizeof(event_types[0]))

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: posternctl alerts [--socket PATH] [--count N] [--type TYPE]...\n"
		"Print posternd's EVE JSON lines as they are produced, one per line.\n"
		"  -s, --socket PATH  alert socket (default: alert_socket from the config)\n"
		"  -n, --count N      stop after N lines (N >= 1)\n"
		"  -t, --type TYPE    only events of this type (repeatable): alert, smtp, stats,\n"
		"                     anomaly or spool\n"
		"  -h, --help         this help\n"
		"Exits 0 when the server closes the stream or N lines were printed.\n");
}

struct alerts_state {
	const char *types[N_EVENT_TYPES]; /* none: every line */
	unsigned n_types;
	unsigned long max;      /* 0: no limit */
	unsigned long printed;
	unsigned long skipped_long;
	char *line;             /* the line being assembled */
	size_t len;
	bool discarding;        /* inside a line over ALERTS_LINE_MAX */
};

static bool
line_matches(const struct alerts_state *st, const char *line, size_t len)
{
	json_t *j, *t;
	bool ok;

	if (st->n_types == 0)
		return true;
	j = json_loadb(line, len, JSON_ALLOW_NUL, NULL);
	if (j == NULL)
		return false;
	t = json_object_get(j, "event_type");
	ok = false;
	for (unsigned i = 0; i < st->n_types && json_is_string(t); i++)
		ok |= strcmp(json_string_value(t), st->types[i]) == 0;
	json_decref(j);
	return ok;
}

/*
 * Print one complete line (flushed with the rest of its read, see cmd_alerts). 1 when
 * --count is reached, 0 to go on, -1 on a stdout error.
 */
static int
emit_line(struct alerts_state *st, const char *line, size_t len)
{
	if (!line_matches(st, line, len))
		return 0;
	if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF ||
	    (st->max != 0 && st->printed + 1 >= st->max && fflush(stdout) != 0)) {
		fprintf(stderr, "posternctl alerts: writing to stdout: %s\n", strerror(errno));
		return -1;
	}
	st->printed++;
	return st->max != 0 && st->printed >= st->max ? 1 : 0;
}

/* Split received bytes into lines. Same return values as emit_line. */
static int
feed(struct alerts_state *st, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl != NULL ? (size_t)(nl - p) : n;
		int rc = 0;

		if (!st->discarding) {
			if (st->len + take > ALERTS_LINE_MAX) {
				st->discarding = true;
				st->len = 0;
			} else {
				memcpy(st->line + st->len, p, take);
				st->len += take;
			}
		}
		if (nl == NULL)
			return 0;
		if (st->discarding) {
			st->skipped_long++;
			fprintf(stderr, "posternctl alerts: skipped a line longer than %u bytes\n",
				ALERTS_LINE_MAX);
		} else {
			rc = emit_line(st, st->line, st->len);
		}
		st->discarding = false;
		st->len = 0;
		if (rc != 0)
			return rc;
		p += take + 1;
		n -= take + 1;
	}
	return 0;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "posternctl alerts: socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "posternctl alerts: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		fprintf(stderr, "posternctl alerts: cannot connect to %s: %s%s\n", path,
			strerror(err),
			err == ENOENT || err == ECONNREFUSED ? " (is posternd running?)" : "");
		close(fd);
		return -1;
	}
	return fd;
}

static int
parse_count(const char *s, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno != 0 || *end != '\0' || *out == 0 ? -1 : 0;
}

/* Ask the server for the chosen event types only (alert_server.h: "types T..."). */
static int
ask_types(int fd, const struct alerts_state *st)
{
	char req[128] = "types";
	size_t n = strlen(req);

	for (unsigned i = 0; i < st->n_types; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, " %s", st->types[i]);
	req[n++] = '\n';
	return send(fd, req, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

int
cmd_alerts(int argc, char **argv, const struct postern_config *cfg)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct alerts_state st = { 0 };
	const char *path = cfg->alert_socket;
	char *buf = NULL;
	int fd = -1, c, rc = 1;

	optind = 0;  /* posternctl may have run getopt on its own options: start afresh */
	while ((c = getopt_long(argc, argv, "+s:n:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'n':
			if (parse_count(optarg, &st.max) < 0) {
				fprintf(stderr,
					"posternctl alerts: --count: '%s' is not a number >= 1\n",
					optarg);
				return 2;
			}
			break;
		case 't': {
			const char *type = NULL;

			for (size_t i = 0; i < N_EVENT_TYPES; i++)
				if (strcmp(optarg, event_types[i]) == 0)
					type = event_types[i];
			if (type == NULL) {
				fprintf(stderr, "posternctl alerts: --type: '%s' is not alert, "
						"smtp, stats, anomaly or spool\n", optarg);
				return 2;
			}
			bool have = false;
			for (unsigned i = 0; i < st.n_types; i++)
				have |= st.types[i] == type;
			if (!have)
				st.types[st.n_types++] = type;
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
	if (optind < argc) {
		fprintf(stderr, "posternctl alerts: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (path == NULL || *path == '\0') {
		fprintf(stderr, "posternctl alerts: no alert socket configured (use --socket)\n");
		return 2;
	}

	st.line = malloc(ALERTS_LINE_MAX);
	buf = malloc(ALERTS_READ_CHUNK);
	if (st.line == NULL || buf == NULL) {
		fprintf(stderr, "posternctl alerts: out of memory\n");
		rc = 2;
		goto out;
	}
	fd = connect_to(path);
	if (fd < 0) {
		rc = 2;
		goto out;
	}
	if (st.n_types > 0 && ask_types(fd, &st) < 0) {
		fprintf(stderr, "posternctl alerts: asking %s for the types: %s\n", path,
			strerror(errno));
		goto out;
	}

	for (;;) {
		ssize_t n = read(fd, buf, ALERTS_READ_CHUNK);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "posternctl alerts: reading %s: %s\n", path,
				strerror(errno));
			goto out;
		}
		if (n == 0) {
			/* The server went away; a cut last line is not an alert. */
			if (st.len > 0 || st.discarding)
				fprintf(stderr, "posternctl alerts: stream ended inside a line "
						"(dropped)\n");
			rc = 0;
			goto out;
		}
		int r = feed(&st, buf, (size_t)n);
		/* every line of one read goes out together: a reader waits no longer than the
		 * sender's own pace, and a busy stream costs one write per read, not per line */
		if (r >= 0 && fflush(stdout) != 0) {
			fprintf(stderr, "posternctl alerts: writing to stdout: %s\n", strerror(errno));
			r = -1;
		}
		if (r < 0)
			goto out;
		if (r > 0) {
			rc = 0;
			goto out;
		}
	}

out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(st.line);
	return rc;
}
