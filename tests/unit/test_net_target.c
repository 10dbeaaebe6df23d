/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parser of network targets and listen addresses (common/net_target.h): every form the
 * config documents, every limit (host length, port range, socket path length), and the
 * refusals, each with a reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net_target.h"

static void
test_hostport(void **state)
{
	struct net_hostport hp;
	char err[256];

	(void)state;
	assert_int_equal(net_hostport_parse("127.0.0.1:9477", 0, &hp, err, sizeof(err)), 0);
	assert_string_equal(hp.host, "127.0.0.1");
	assert_int_equal(hp.port, 9477);
	assert_false(hp.ipv6);
	assert_int_equal(net_hostport_parse("[::1]:65535", 0, &hp, err, sizeof(err)), 0);
	assert_string_equal(hp.host, "::1");
	assert_int_equal(hp.port, 65535);
	assert_true(hp.ipv6);
	assert_int_equal(net_hostport_parse("logs.corp.example:1", 0, &hp, err, sizeof(err)), 0);
	assert_string_equal(hp.host, "logs.corp.example");
	/* every address and any free port only where the caller allows them */
	assert_int_equal(net_hostport_parse(":9477", 0, &hp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no host"));
	assert_int_equal(net_hostport_parse(":9477", NET_HP_EMPTY_HOST, &hp, err, sizeof(err)), 0);
	assert_string_equal(hp.host, "");
	assert_int_equal(net_hostport_parse("h:0", 0, &hp, err, sizeof(err)), -EINVAL);
	assert_int_equal(net_hostport_parse("h:0", NET_HP_PORT_ZERO, &hp, err, sizeof(err)), 0);
	assert_int_equal(hp.port, 0);
	/* a listen address is an address, not a name */
	assert_int_equal(net_hostport_parse("10.1.2.3:9477", NET_HP_NUMERIC, &hp, err,
					    sizeof(err)), 0);
	assert_int_equal(net_hostport_parse("[fe80::1]:9477", NET_HP_NUMERIC, &hp, err,
					    sizeof(err)), 0);
	assert_int_equal(net_hostport_parse(":9477", NET_HP_NUMERIC | NET_HP_EMPTY_HOST, &hp, err,
					    sizeof(err)), 0);
	assert_int_equal(net_hostport_parse("localhost:9477", NET_HP_NUMERIC, &hp, err,
					    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an IPv4 address"));
	assert_int_equal(net_hostport_parse("[127.0.0.1]:9477", NET_HP_NUMERIC, &hp, err,
					    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an IPv6 address"));
	assert_int_equal(net_hostport_parse("[fe80::1%eth0]:9477", NET_HP_NUMERIC, &hp, err,
					    sizeof(err)), -EINVAL);
}

static void
test_hostport_refused(void **state)
{
	static const char *const bad[] = {
		"", "host", "host:", "host:65536", "host:-1", "host:+1", "host:1x", "host: 1",
		"host:0x10", "host:1234567", "::1:514", "[::1]", "[::1]514", "[]:514", "[::1:514",
		"a:b:1",
	};
	struct net_hostport hp;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (net_hostport_parse(bad[i], NET_HP_PORT_ZERO, &hp, err, sizeof(err)) != -EINVAL)
			fail_msg("'%s' was taken", bad[i]);
		assert_true(strlen(err) > 0);
	}
}

/* A host of NET_HOST_MAX - 1 bytes fits; one more does not. */
static void
test_host_length(void **state)
{
	char s[NET_HOST_MAX + 16], err[512];
	struct net_hostport hp;

	(void)state;
	memset(s, 'a', NET_HOST_MAX - 1);
	strcpy(s + NET_HOST_MAX - 1, ":25");
	assert_int_equal(net_hostport_parse(s, 0, &hp, err, sizeof(err)), 0);
	assert_int_equal(strlen(hp.host), NET_HOST_MAX - 1);
	memset(s, 'a', NET_HOST_MAX);
	strcpy(s + NET_HOST_MAX, ":25");
	assert_int_equal(net_hostport_parse(s, 0, &hp, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than"));
}

static void
test_targets(void **state)
{
	struct net_target t;
	char err[256];

	(void)state;
	assert_int_equal(net_target_parse("udp:10.0.0.5:514", NET_UDP | NET_TCP, &t, err,
					  sizeof(err)), 0);
	assert_int_equal(t.scheme, NET_UDP);
	assert_string_equal(t.hp.host, "10.0.0.5");
	assert_int_equal(t.hp.port, 514);
	assert_int_equal(net_target_parse("tcp:[fd00::5]:601", NET_TCP, &t, err, sizeof(err)), 0);
	assert_int_equal(t.scheme, NET_TCP);
	assert_string_equal(t.hp.host, "fd00::5");
	assert_int_equal(net_target_parse("unix:/dev/log", NET_UNIX, &t, err, sizeof(err)), 0);
	assert_int_equal(t.scheme, NET_UNIX);
	assert_string_equal(t.path, "/dev/log");
	/* a scheme the caller does not take */
	assert_int_equal(net_target_parse("udp:h:514", NET_TCP | NET_UNIX, &t, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "tcp:HOST:PORT"));
	assert_null(strstr(err, "udp:HOST"));
	/* a target's port is never 0, its host never empty */
	assert_int_equal(net_target_parse("tcp:h:0", NET_TCP, &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(net_target_parse("tcp::6379", NET_TCP, &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(net_target_parse("sctp:h:1", NET_TCP | NET_UDP | NET_UNIX, &t, err,
					  sizeof(err)), -EINVAL);
	assert_int_equal(net_target_parse("UDP:h:1", NET_UDP, &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(net_target_parse("", NET_UDP, &t, err, sizeof(err)), -EINVAL);
}

/* A socket path must fit sun_path with its NUL: 107 bytes do, 108 do not. */
static void
test_unix_path_length(void **state)
{
	char s[8 + NET_PATH_MAX], err[512];
	struct net_target t;

	(void)state;
	assert_int_equal(net_target_parse("unix:", NET_UNIX, &t, err, sizeof(err)), -EINVAL);
	strcpy(s, "unix:/");
	memset(s + 6, 'p', NET_PATH_MAX - 2);
	s[5 + NET_PATH_MAX - 1] = '\0';
	assert_int_equal(net_target_parse(s, NET_UNIX, &t, err, sizeof(err)), 0);
	assert_int_equal(strlen(t.path), NET_PATH_MAX - 1);
	strcpy(s, "unix:/");
	memset(s + 6, 'p', NET_PATH_MAX - 1);
	s[5 + NET_PATH_MAX] = '\0';
	assert_int_equal(net_target_parse(s, NET_UNIX, &t, err, sizeof(err)), -EINVAL);
}

/* A short error buffer gets a cut, terminated message; none is written past it. */
static void
test_short_err(void **state)
{
	char err[8] = "xxxxxxx";
	struct net_target t;

	(void)state;
	assert_int_equal(net_target_parse("bogus", NET_UDP, &t, err, sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_hostport_refused),
		cmocka_unit_test(test_host_length),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_unix_path_length),
		cmocka_unit_test(test_short_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
