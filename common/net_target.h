/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Where an output sends or a listener listens, as the config writes it: "HOST:PORT" with an
 * IPv6 literal in brackets ("[::1]:514"), and the outputs' "udp:HOST:PORT", "tcp:HOST:PORT"
 * or "unix:PATH". One parser for posternd's syslog and Redis outputs, its metrics endpoint
 * and the config check that refuses a bad value as file:line before anything starts. It only
 * splits and checks the text: names are resolved by the caller. No allocation; any thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_HOST_MAX 256   /* a DNS name's 253 characters, or an address */
#define NET_PATH_MAX 108   /* sun_path */

/* net_hostport_parse flags */
enum {
	NET_HP_EMPTY_HOST = 1u << 0,  /* ":PORT" (every address) is allowed */
	NET_HP_PORT_ZERO = 1u << 1,   /* port 0 (any free port) is allowed */
	NET_HP_NUMERIC = 1u << 2,     /* the host is an address, IPv4 or [IPv6], not a name
				       * (a listen address: nothing is resolved) */
};

struct net_hostport {
	char host[NET_HOST_MAX];  /* brackets removed; may be empty with NET_HP_EMPTY_HOST */
	uint16_t port;
	bool ipv6;                /* it was written in brackets */
};

/* The schemes of net_target_parse, as a mask of what the caller allows. */
enum net_scheme {
	NET_UNIX = 1u << 0,
	NET_UDP = 1u << 1,
	NET_TCP = 1u << 2,
};

struct net_target {
	enum net_scheme scheme;
	struct net_hostport hp;   /* NET_UDP, NET_TCP */
	char path[NET_PATH_MAX];  /* NET_UNIX: non-empty, fits sun_path */
};

/*
 * "HOST:PORT" or "[IPV6]:PORT" into *out. A host with a colon outside brackets is refused
 * (an IPv6 literal must be bracketed: "::1:514" could be read two ways). 0, or -EINVAL with
 * the reason in err ("bad port", "host too long"...).
 */
int net_hostport_parse(const char *s, unsigned flags, struct net_hostport *out, char *err,
		       size_t errlen);

/*
 * "unix:PATH", "udp:HOST:PORT" or "tcp:HOST:PORT", for the schemes in the mask `schemes`
 * (ports 1-65535, a host required). 0, or -EINVAL with the reason in err, naming s.
 */
int net_target_parse(const char *s, unsigned schemes, struct net_target *out, char *err,
		     size_t errlen);
