/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bypass detection: records built with the dataplane's own builder (ipc_tx_init), judged by
 * bypass_observe(), the findings compared field by field. Covers the relay check (sanctioned
 * or not, IPv4 and IPv6, the relay's own outbound mail, ports, the alert interval and its
 * count), the new-host check (learning, one alert per host), external clients, full tables
 * and their evictions, and configuration errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bypass.h"
#include "config.h"
#include "ipc.h"

#define T0 1704164645000000ull /* 2024-01-02T03:04:05Z */
#define S(n) ((uint64_t)(n) * 1000000ull)

struct rec {
	uint64_t buf[IPC_TX_MAX / 8]; /* 8-byte aligned, as received records are */
};

static char err[512];

/* An address as the records hold it: IPv4 as ::ffff:a.b.c.d. */
static void
addr(const char *s, uint8_t out[16])
{
	uint8_t v4[4];

	if (inet_pton(AF_INET, s, v4) == 1) {
		memset(out, 0, 10);
		out[10] = 0xff;
		out[11] = 0xff;
		memcpy(out + 12, v4, 4);
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
}

static const struct ipc_tx *
rec(struct rec *r, const char *src, const char *dst, uint16_t dport, uint64_t ts_us)
{
	struct ipc_tx *tx = (struct ipc_tx *)r->buf;

	ipc_tx_init(tx, sizeof(r->buf));
	tx->ts_us = ts_us;
	tx->flow_id = 42;
	tx->ip_version = strchr(src, ':') != NULL ? 6 : 4;
	addr(src, tx->src_ip);
	addr(dst, tx->dst_ip);
	tx->src_port = 40000;
	tx->dst_port = dport;
	tx->status = IPC_TX_DELIVERED;
	tx->reply_code = 250;
	assert_int_equal(ipc_tx_check(tx, tx->hdr.len), 0);
	return tx;
}

/* Defaults, with the given relays, interval, learning and table size. */
static struct bypass *
make(const char *relays, uint32_t interval, uint32_t learning, uint32_t table)
{
	struct postern_config cfg;
	struct bypass *b;

	config_defaults(&cfg);
	snprintf(cfg.sanctioned_relays, sizeof(cfg.sanctioned_relays), "%s", relays);
	cfg.bypass_alert_interval = interval;
	cfg.new_host_learning = learning;
	cfg.new_host_table = table;
	b = bypass_create(&cfg, err, sizeof(err));
	if (b == NULL)
		fail_msg("bypass_create: %s", err);
	return b;
}

static unsigned
observe(struct bypass *b, const char *src, const char *dst, uint16_t dport, uint64_t ts_us,
	struct bypass_finding out[2])
{
	struct rec r;

	memset(out, 0xa5, 2 * sizeof(*out)); /* findings not written stay recognisable */
	return bypass_observe(b, rec(&r, src, dst, dport, ts_us), out);
}

static void
check_finding(const struct bypass_finding *f, enum bypass_kind kind, const char *client,
	      const char *server, uint16_t port, uint64_t first_seen_us, uint64_t count)
{
	uint8_t c[16], s[16];

	addr(client, c);
	addr(server, s);
	assert_int_equal(f->kind, kind);
	assert_memory_equal(f->client_ip, c, 16);
	assert_memory_equal(f->server_ip, s, 16);
	assert_int_equal(f->server_port, port);
	assert_int_equal(f->first_seen_us, first_seen_us);
	assert_int_equal(f->count, count);
}

/* ---- relay check ---- */

static void
test_relay_skipped_vs_sanctioned(void **state)
{
	struct bypass *b = make("[10.0.0.25, 10.9.0.0/16]", 3600, 0, 64);
	struct bypass_finding f[2];

	(void)state;
	assert_int_equal(observe(b, "10.0.0.5", "10.0.0.25", 25, T0, f), 0);
	assert_int_equal(observe(b, "10.0.0.5", "10.9.3.4", 587, T0, f), 0);
	assert_int_equal(observe(b, "192.168.1.7", "10.9.255.255", 25, T0, f), 0);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.7", 25, T0 + 5, f), 1);
	check_finding(&f[0], BYPASS_RELAY_SKIPPED, "10.0.0.5", "203.0.113.7", 25, T0 + 5, 1);
	/* an internal server that is not a relay is a bypass too */
	assert_int_equal(observe(b, "10.0.0.5", "10.0.0.26", 25, T0 + 6, f), 1);
	check_finding(&f[0], BYPASS_RELAY_SKIPPED, "10.0.0.5", "10.0.0.26", 25, T0 + 6, 1);
	assert_int_equal(bypass_evictions(b), 0);
	bypass_destroy(b);
}

static void
test_ipv6(void **state)
{
	struct bypass *b = make("[10.0.0.25, 2001:db8::25]", 3600, 0, 64);
	struct bypass_finding f[2];

	(void)state;
	/* fd00::/8 is inside the default internal fc00::/7 */
	assert_int_equal(observe(b, "fd00::5", "2001:db8::25", 587, T0, f), 0);
	assert_int_equal(observe(b, "fd00::5", "2001:db8::1", 587, T0 + 1, f), 1);
	check_finding(&f[0], BYPASS_RELAY_SKIPPED, "fd00::5", "2001:db8::1", 587, T0 + 1, 1);
	/* an IPv6 client outside internal_clients does not count */
	assert_int_equal(observe(b, "2001:db8::99", "2001:db8::1", 25, T0 + 2, f), 0);
	/* an IPv4 client to an IPv6 server, and the reverse: still judged by the sets */
	assert_int_equal(observe(b, "10.0.0.5", "2001:db8::1", 25, T0 + 3, f), 1);
	check_finding(&f[0], BYPASS_RELAY_SKIPPED, "10.0.0.5", "2001:db8::1", 25, T0 + 3, 1);
	assert_int_equal(observe(b, "fd00::5", "10.0.0.25", 25, T0 + 4, f), 0);
	bypass_destroy(b);
}

static void
test_relay_outbound_not_flagged(void **state)
{
	struct bypass *b = make("[10.0.0.25, fd00::25]", 0, 0, 64);
	struct bypass_finding f[2];

	(void)state;
	assert_int_equal(observe(b, "10.0.0.25", "198.51.100.1", 25, T0, f), 0);
	assert_int_equal(observe(b, "10.0.0.25", "198.51.100.2", 587, T0 + 1, f), 0);
	assert_int_equal(observe(b, "fd00::25", "2001:db8::1", 25, T0 + 2, f), 0);
	/* its neighbour is not a relay */
	assert_int_equal(observe(b, "10.0.0.24", "198.51.100.1", 25, T0 + 3, f), 1);
	bypass_destroy(b);
}

static void
test_external_client_not_counted(void **state)
{
	struct bypass *b = make("10.0.0.25", 0, 10, 64);
	struct bypass_finding f[2];

	(void)state;
	assert_int_equal(observe(b, "10.0.0.1", "10.0.0.25", 25, T0, f), 0); /* starts learning */
	/* after learning: neither a bypass nor a new host, for any number of records */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(observe(b, "198.51.100.9", "203.0.113.7", 25, T0 + S(20 + i), f),
				 0);
		assert_int_equal(observe(b, "2001:db8::9", "203.0.113.7", 587, T0 + S(30 + i), f),
				 0);
	}
	/* a new internal host at the same time is both */
	assert_int_equal(observe(b, "172.16.0.9", "203.0.113.7", 25, T0 + S(40), f), 2);
	check_finding(&f[0], BYPASS_NEW_SMTP_HOST, "172.16.0.9", "203.0.113.7", 25, T0 + S(40), 1);
	check_finding(&f[1], BYPASS_RELAY_SKIPPED, "172.16.0.9", "203.0.113.7", 25, T0 + S(40), 1);
	bypass_destroy(b);
}

static void
test_ports(void **state)
{
	struct bypass *b = make("10.0.0.25", 0, 0, 64);
	struct bypass_finding f[2];

	(void)state;
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.7", 25, T0, f), 1);
	assert_int_equal(f[0].server_port, 25);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.8", 587, T0, f), 1);
	assert_int_equal(f[0].server_port, 587);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.9", 2525, T0, f), 0);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.9", 465, T0, f), 0);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.9", 26, T0, f), 0);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.9", 0, T0, f), 0);
	bypass_destroy(b);
}

static void
test_alert_interval(void **state)
{
	struct bypass *b = make("10.0.0.25", 60, 0, 64);
	struct bypass_finding f[2];

	(void)state;
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.7", 25, T0, f), 1);
	check_finding(&f[0], BYPASS_RELAY_SKIPPED, "10.0.0.5", "203.0.113.7", 25, T0, 1);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.7", 25, T0 + S(1), f), 0);
	/* the pair is the two addresses: another port of the same server is the same pair */
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.7", 587, T0 + S(30), f), 0);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.7", 25, T0 + S(60) - 1, f), 0);
	/* a late record stamped before the last alert is counted, never alerted */
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.7", 25, T0 - S(5), f), 0);
	/* other pairs are independent */
	assert_int_equal(observe(b, "10.0.0.6", "203.0.113.7", 25, T0 + S(2), f), 1);
	check_finding(&f[0], BYPASS_RELAY_SKIPPED, "10.0.0.6", "203.0.113.7", 25, T0 + S(2), 1);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.8", 25, T0 + S(3), f), 1);
	/* the interval has passed: again, with the four held back plus this one */
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.7", 587, T0 + S(60), f), 1);
	check_finding(&f[0], BYPASS_RELAY_SKIPPED, "10.0.0.5", "203.0.113.7", 587, T0, 5);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.7", 25, T0 + S(61), f), 0);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.7", 25, T0 + S(200), f), 1);
	check_finding(&f[0], BYPASS_RELAY_SKIPPED, "10.0.0.5", "203.0.113.7", 25, T0, 2);
	bypass_destroy(b);
}

static void
test_interval_zero_every_transaction(void **state)
{
	struct bypass *b = make("10.0.0.25", 0, 0, 64);
	struct bypass_finding f[2];

	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(observe(b, "10.0.0.5", "203.0.113.7", 25, T0 + (uint64_t)i, f),
				 1);
		check_finding(&f[0], BYPASS_RELAY_SKIPPED, "10.0.0.5", "203.0.113.7", 25, T0, 1);
	}
	bypass_destroy(b);
}

/* ---- new-host check ---- */

static void
test_learning_then_new_host_once(void **state)
{
	struct bypass *b = make("", 3600, 100, 64);
	struct bypass_finding f[2];

	(void)state;
	/* learning starts at the first record seen, even an external client's */
	assert_int_equal(observe(b, "198.51.100.1", "10.0.0.25", 25, T0, f), 0);
	assert_int_equal(observe(b, "10.0.0.1", "10.0.0.25", 25, T0 + S(1), f), 0);
	assert_int_equal(observe(b, "10.0.0.2", "203.0.113.7", 2525, T0 + S(99), f), 0);
	assert_int_equal(observe(b, "10.0.0.3", "10.0.0.25", 25, T0 + S(100) - 1, f), 0);
	/* learning is over */
	assert_int_equal(observe(b, "10.0.0.4", "10.0.0.25", 2525, T0 + S(100), f), 1);
	check_finding(&f[0], BYPASS_NEW_SMTP_HOST, "10.0.0.4", "10.0.0.25", 2525, T0 + S(100), 1);
	/* once per host, to whatever server */
	assert_int_equal(observe(b, "10.0.0.4", "10.0.0.25", 25, T0 + S(101), f), 0);
	assert_int_equal(observe(b, "10.0.0.4", "203.0.113.9", 587, T0 + S(500), f), 0);
	/* learned hosts stay quiet */
	assert_int_equal(observe(b, "10.0.0.1", "203.0.113.9", 25, T0 + S(200), f), 0);
	assert_int_equal(observe(b, "10.0.0.2", "10.0.0.25", 25, T0 + S(200), f), 0);
	/* a late record stamped inside learning is learned, not alerted */
	assert_int_equal(observe(b, "10.0.0.5", "10.0.0.25", 25, T0 + S(50), f), 0);
	assert_int_equal(observe(b, "10.0.0.5", "10.0.0.25", 25, T0 + S(300), f), 0);
	/* IPv6 */
	assert_int_equal(observe(b, "fd12::7", "2001:db8::25", 25, T0 + S(301), f), 1);
	check_finding(&f[0], BYPASS_NEW_SMTP_HOST, "fd12::7", "2001:db8::25", 25, T0 + S(301), 1);
	assert_int_equal(bypass_evictions(b), 0);
	bypass_destroy(b);
}

static void
test_learning_zero_never_alerts(void **state)
{
	struct bypass *b = make("", 0, 0, 64);
	struct bypass_finding f[2];

	(void)state;
	assert_int_equal(observe(b, "10.0.0.1", "10.0.0.25", 25, T0, f), 0);
	assert_int_equal(observe(b, "10.0.0.2", "10.0.0.25", 25, T0 + S(86400 * 400), f), 0);
	bypass_destroy(b);
}

static void
test_empty_relays_check_off(void **state)
{
	struct bypass *b = make("", 0, 1, 64);
	struct bypass_finding f[2];

	(void)state;
	assert_int_equal(observe(b, "10.0.0.1", "203.0.113.7", 25, T0, f), 0);
	assert_int_equal(observe(b, "10.0.0.1", "203.0.113.7", 587, T0 + S(5), f), 0);
	/* the new-host check still runs: one finding, never a relay one */
	assert_int_equal(observe(b, "10.0.0.2", "203.0.113.7", 25, T0 + S(5), f), 1);
	assert_int_equal(f[0].kind, BYPASS_NEW_SMTP_HOST);
	bypass_destroy(b);
}

/* ---- full tables ---- */

static void
test_host_table_eviction(void **state)
{
	struct bypass *b = make("", 0, 1, 2);
	struct bypass_finding f[2];

	(void)state;
	assert_int_equal(observe(b, "10.0.0.1", "10.0.0.25", 25, T0, f), 0);
	assert_int_equal(observe(b, "10.0.0.2", "10.0.0.25", 25, T0, f), 0);
	assert_int_equal(bypass_evictions(b), 0);
	/* .1 seen again: .2 is now the least recently seen, and makes room for .3 */
	assert_int_equal(observe(b, "10.0.0.1", "10.0.0.25", 25, T0 + S(2), f), 0);
	assert_int_equal(observe(b, "10.0.0.3", "10.0.0.25", 25, T0 + S(3), f), 1);
	check_finding(&f[0], BYPASS_NEW_SMTP_HOST, "10.0.0.3", "10.0.0.25", 25, T0 + S(3), 1);
	assert_int_equal(bypass_evictions(b), 1);
	assert_int_equal(observe(b, "10.0.0.1", "10.0.0.25", 25, T0 + S(4), f), 0);
	/* evicted, so new again (documented): it evicts .3, the least recently seen */
	assert_int_equal(observe(b, "10.0.0.2", "10.0.0.25", 25, T0 + S(5), f), 1);
	check_finding(&f[0], BYPASS_NEW_SMTP_HOST, "10.0.0.2", "10.0.0.25", 25, T0 + S(5), 1);
	assert_int_equal(bypass_evictions(b), 2);
	assert_int_equal(observe(b, "10.0.0.1", "10.0.0.25", 25, T0 + S(6), f), 0);
	assert_int_equal(observe(b, "10.0.0.3", "10.0.0.25", 25, T0 + S(7), f), 1);
	assert_int_equal(bypass_evictions(b), 3);
	bypass_destroy(b);
}

static void
test_pair_table_eviction(void **state)
{
	struct bypass *b = make("10.0.0.25", 3600, 0, 2);
	struct bypass_finding f[2];

	(void)state;
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.1", 25, T0, f), 1);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.1", 25, T0 + S(1), f), 0);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.2", 25, T0 + S(2), f), 1);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.3", 25, T0 + S(3), f), 1);
	assert_int_equal(bypass_evictions(b), 1);
	/* .2 is still held: quiet; .1 was evicted: alerts at once, count and first restarted */
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.2", 25, T0 + S(4), f), 0);
	assert_int_equal(observe(b, "10.0.0.5", "203.0.113.1", 25, T0 + S(5), f), 1);
	check_finding(&f[0], BYPASS_RELAY_SKIPPED, "10.0.0.5", "203.0.113.1", 25, T0 + S(5), 1);
	assert_int_equal(bypass_evictions(b), 2);
	bypass_destroy(b);
}

/*
 * Many more hosts than the table holds, spread over the index so that probe chains wrap and
 * entries are deleted from their middle: every few hosts the last CAP inserted are looked up,
 * oldest first (which keeps their LRU order), and must all be known, and every host is new
 * when it first comes. This checks the index's deletion as much as the LRU order.
 */
static void
churn_ip(unsigned i, char *ip, size_t size)
{
	unsigned h = (i * 7919u) % 60000u; /* distinct for i < 60000 */

	snprintf(ip, size, "10.1.%u.%u", h >> 8, h & 0xff);
}

static void
test_table_churn(void **state)
{
	enum { CAP = 64, HOSTS = 5000 };
	struct bypass *b = make("", 0, 1, CAP);
	struct bypass_finding f[2];
	struct rec r;
	char ip[32];

	(void)state;
	assert_int_equal(observe(b, "10.0.0.1", "10.0.0.25", 25, T0, f), 0);
	for (unsigned i = 0; i < HOSTS; i++) {
		churn_ip(i, ip, sizeof(ip));
		assert_int_equal(bypass_observe(b, rec(&r, ip, "10.0.0.25", 25, T0 + S(10)), f),
				 1);
		if (i % 97 != 0 || i < CAP - 1)
			continue;
		for (unsigned k = i - (CAP - 1); k <= i; k++) {
			churn_ip(k, ip, sizeof(ip));
			assert_int_equal(bypass_observe(b, rec(&r, ip, "10.0.0.25", 25, T0 + S(10)),
							f),
					 0);
		}
	}
	/* the first host was evicted long ago: new again */
	assert_int_equal(observe(b, "10.0.0.1", "10.0.0.25", 25, T0 + S(11), f), 1);
	assert_int_equal(bypass_evictions(b), HOSTS + 2 - CAP);
	bypass_destroy(b);
}

/* ---- configuration ---- */

static void
expect_error(const char *key, const char *value, const char *want)
{
	struct postern_config cfg;
	struct bypass *b;

	config_defaults(&cfg);
	if (strcmp(key, "sanctioned_relays") == 0)
		snprintf(cfg.sanctioned_relays, sizeof(cfg.sanctioned_relays), "%s", value);
	else
		snprintf(cfg.internal_clients, sizeof(cfg.internal_clients), "%s", value);
	errno = 0;
	b = bypass_create(&cfg, err, sizeof(err));
	assert_null(b);
	assert_int_equal(errno, EINVAL);
	if (strcmp(err, want) != 0)
		fail_msg("got '%s', want '%s'", err, want);
}

static void
test_config_errors(void **state)
{
	struct postern_config cfg;
	struct bypass *b;

	(void)state;
	expect_error("sanctioned_relays", "$NOPE", "sanctioned_relays: unknown variable $NOPE "
						   "(column 1)");
	expect_error("sanctioned_relays", "[10.0.0.25, 10.0.0.300]",
		     "sanctioned_relays: invalid address '10.0.0.300' (column 13)");
	expect_error("internal_clients", "[10.0.0.0/8, $LAN]",
		     "internal_clients: unknown variable $LAN (column 14)");
	expect_error("internal_clients", "10.0.0.0/33",
		     "internal_clients: prefix length in '10.0.0.0/33' is over 32 (column 1)");
	expect_error("internal_clients", "", "internal_clients: empty (no client would be judged)");

	config_defaults(&cfg);
	cfg.new_host_table = 0;
	errno = 0;
	assert_null(bypass_create(&cfg, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "new_host_table: must be 1..16777216, not 0");

	/* variables of the defaults are known */
	config_defaults(&cfg);
	snprintf(cfg.internal_clients, sizeof(cfg.internal_clients), "$HOME_NET");
	snprintf(cfg.sanctioned_relays, sizeof(cfg.sanctioned_relays), "[10.0.0.25, fd00::25]");
	b = bypass_create(&cfg, err, sizeof(err));
	assert_non_null(b);
	bypass_destroy(b);
	bypass_destroy(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_skipped_vs_sanctioned),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_relay_outbound_not_flagged),
		cmocka_unit_test(test_external_client_not_counted),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_alert_interval),
		cmocka_unit_test(test_interval_zero_every_transaction),
		cmocka_unit_test(test_learning_then_new_host_once),
		cmocka_unit_test(test_learning_zero_never_alerts),
		cmocka_unit_test(test_empty_relays_check_off),
		cmocka_unit_test(test_host_table_eviction),
		cmocka_unit_test(test_pair_table_eviction),
		cmocka_unit_test(test_table_churn),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
