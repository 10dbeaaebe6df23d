/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for common/net_target.c: arbitrary text as a target and as a listen
 * address. Whatever it is, the parser must not crash, must say why when it refuses, and what
 * it accepts must hold: a port in range (not 0 for a target), a host without a colon unless
 * bracketed, a Unix path that fits sun_path, and text that gives the same result again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[1024], err[512];
	struct net_target t, again;
	struct net_hostport hp;

	if (size >= sizeof(s))
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (net_target_parse(s, NET_UDP | NET_TCP | NET_UNIX, &t, err, sizeof(err)) == 0) {
		if (t.scheme == NET_UNIX) {
			if (t.path[0] == '\0' || strlen(t.path) >= NET_PATH_MAX)
				abort();
		} else if (t.hp.port == 0 || t.hp.host[0] == '\0' ||
			   (!t.hp.ipv6 && strchr(t.hp.host, ':') != NULL)) {
			abort();
		}
		unsigned all = NET_UDP | NET_TCP | NET_UNIX;

		if (net_target_parse(s, all, &again, err, sizeof(err)) != 0 ||
		    memcmp(&t, &again, sizeof(t)) != 0)
			abort();
	} else if (err[0] == '\0') {
		abort();
	}
	err[0] = '\0';
	if (net_hostport_parse(s, NET_HP_EMPTY_HOST | NET_HP_PORT_ZERO, &hp, err, sizeof(err)) == 0) {
		if (strlen(hp.host) >= NET_HOST_MAX || (!hp.ipv6 && strchr(hp.host, ':') != NULL))
			abort();
	} else if (err[0] == '\0') {
		abort();
	}
	return 0;
}
