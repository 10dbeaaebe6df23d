/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * posternctl stats and reload: one request line to posternd's control socket, one JSON
 * object back. stats prints it as a table (or as JSON with --json); reload prints the
 * outcome, with the rule errors (file:line) when the new pack was refused.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "commands.h"

#define REPLY_MAX (1 << 20)

/* Send `request` and read the whole reply (posternd closes after it). NULL on error. */
static json_t *
cli_request(const struct postern_config *cfg, const char *request)
{
	static char reply[REPLY_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t got = 0;
	json_error_t jerr;
	int fd;

	if (strlen(cfg->cli_socket) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "posternctl: control socket path too long\n");
		return NULL;
	}
	strcpy(sa.sun_path, cfg->cli_socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "posternctl: cannot reach posternd at %s: %s\n", cfg->cli_socket,
			strerror(errno));
		goto fail;
	}
	if (write(fd, request, strlen(request)) != (ssize_t)strlen(request)) {
		fprintf(stderr, "posternctl: sending to posternd: %s\n", strerror(errno));
		goto fail;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		ssize_t n = read(fd, reply + got, sizeof(reply) - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "posternctl: reading from posternd: %s\n", strerror(errno));
			goto fail;
		}
		if (n == 0 || got + (size_t)n == sizeof(reply) - 1)
			break;
		got += (size_t)n;
	}
	close(fd);
	reply[got] = '\0';

	json_t *j = json_loads(reply, 0, &jerr);
	if (j == NULL)
		fprintf(stderr, "posternctl: posternd's reply is not JSON: %s\n", jerr.text);
	return j;
fail:
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void
print_counters(const char *section, json_t *obj)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return;
	printf("%s\n", section);
	json_object_foreach(obj, key, v) {
		if (json_is_integer(v))
			printf("  %-28s %lld\n", key, (long long)json_integer_value(v));
		else if (json_is_string(v))
			printf("  %-28s %s\n", key, json_string_value(v));
	}
}

/* Each network output's counters (syslog, redis), under its own heading. */
static void
print_outputs(json_t *outputs)
{
	const char *name;
	json_t *o;
	char title[64];

	if (!json_is_object(outputs))
		return;
	json_object_foreach(outputs, name, o) {
		snprintf(title, sizeof(title), "output %s", name);
		print_counters(title, o);
	}
}

/*
 * The dataplane's counters, one line each: the total, then each worker's value when there
 * is more than one worker (a counter that only the main lcore or the ports keep shows
 * "-" for the workers).
 */
static void
print_dataplane(json_t *total, json_t *workers)
{
	size_t n_workers = json_is_array(workers) ? json_array_size(workers) : 0;
	const char *key;
	json_t *v;

	if (!json_is_object(total))
		return;
	if (n_workers < 2) {
		print_counters("dataplane", total);
		return;
	}
	printf("dataplane %19s %14s", "", "total");
	for (size_t w = 0; w < n_workers; w++)
		printf(" %13s%zu", "worker ", w);
	printf("\n");
	json_object_foreach(total, key, v) {
		if (!json_is_integer(v))
			continue;
		printf("  %-28s %14lld", key, (long long)json_integer_value(v));
		for (size_t w = 0; w < n_workers; w++) {
			json_t *wv = json_object_get(json_array_get(workers, w), key);

			if (json_is_integer(wv))
				printf(" %14lld", (long long)json_integer_value(wv));
			else
				printf(" %14s", "-");
		}
		printf("\n");
	}
}

int
cmd_stats(int argc, char **argv, const struct postern_config *cfg)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool as_json = false;
	int c;

	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		if (c == 'j') {
			as_json = true;
		} else {
			fprintf(c == 'h' ? stdout : stderr, "usage: posternctl stats [--json]\n");
			return c == 'h' ? 0 : 2;
		}
	}

	json_t *j = cli_request(cfg, "stats\n");
	if (j == NULL)
		return 2;
	if (as_json) {
		char *s = json_dumps(j, JSON_PRESERVE_ORDER | JSON_INDENT(2));
		puts(s);
		free(s);
	} else {
		print_counters("posternd", json_object_get(j, "posternd"));
		print_outputs(json_object_get(j, "outputs"));
		print_dataplane(json_object_get(j, "dataplane"), json_object_get(j, "workers"));
	}
	json_decref(j);
	return 0;
}

int
cmd_reload(int argc, char **argv, const struct postern_config *cfg)
{
	if (argc > 1) {
		bool help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
		fprintf(help ? stdout : stderr, "usage: posternctl reload\n");
		return help ? 0 : 2;
	}

	json_t *j = cli_request(cfg, "reload\n");
	if (j == NULL)
		return 2;

	json_t *ok = json_object_get(j, "ok");
	const char *msg = json_string_value(json_object_get(j, "message"));
	int rc = json_is_true(ok) ? 0 : 1;

	printf("%s%s%s\n", rc == 0 ? "reloaded" : "reload refused, old rules kept",
	       msg != NULL ? ": " : "", msg != NULL ? msg : "");
	json_decref(j);
	return rc;
}
