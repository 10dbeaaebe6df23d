/* SPDX-License-Identifier: BSD-3-Clause */
/* Network targets and listen addresses as the config writes them; see net_target.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net_target.h"

static int
parse_port(const char *s, bool zero_ok, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; s[n] >= '0' && s[n] <= '9' && n < 6; n++)
		v = v * 10 + (unsigned long)(s[n] - '0');
	if (n == 0 || s[n] != '\0' || v > 65535 || (v == 0 && !zero_ok))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int
net_hostport_parse(const char *s, unsigned flags, struct net_hostport *out, char *err,
		   size_t errlen)
{
	const char *host = s, *colon;
	size_t hlen;

	memset(out, 0, sizeof(*out));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':' || close == s + 1) {
			snprintf(err, errlen, "'%s': expected [IPV6]:PORT", s);
			return -EINVAL;
		}
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
		out->ipv6 = true;
	} else {
		colon = strchr(s, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL) {
			snprintf(err, errlen, "'%s': expected HOST:PORT (an IPv6 address in "
				 "brackets)", s);
			return -EINVAL;
		}
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 && !(flags & NET_HP_EMPTY_HOST)) {
		snprintf(err, errlen, "'%s': no host", s);
		return -EINVAL;
	}
	if (hlen >= sizeof(out->host)) {
		snprintf(err, errlen, "'%.40s...': host longer than %zu bytes", s,
			 sizeof(out->host) - 1);
		return -EINVAL;
	}
	if (parse_port(colon + 1, flags & NET_HP_PORT_ZERO, &out->port) < 0) {
		snprintf(err, errlen, "'%s': the port must be %s to 65535", s,
			 (flags & NET_HP_PORT_ZERO) ? "0" : "1");
		return -EINVAL;
	}
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	if ((flags & NET_HP_NUMERIC) && hlen > 0) {
		unsigned char addr[16];

		if (inet_pton(out->ipv6 ? AF_INET6 : AF_INET, out->host, addr) != 1) {
			snprintf(err, errlen, "'%s': %s is not an %s address", s, out->host,
				 out->ipv6 ? "IPv6" : "IPv4");
			return -EINVAL;
		}
	}
	return 0;
}

static const struct {
	const char *prefix;
	enum net_scheme scheme;
} schemes_known[] = {
	{ "unix:", NET_UNIX },
	{ "udp:", NET_UDP },
	{ "tcp:", NET_TCP },
};

int
net_target_parse(const char *s, unsigned schemes, struct net_target *out, char *err,
		 size_t errlen)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sizeof(schemes_known) / sizeof(schemes_known[0]); i++) {
		size_t plen = strlen(schemes_known[i].prefix);
		const char *rest = s + plen;

		if (!(schemes & schemes_known[i].scheme) ||
		    strncmp(s, schemes_known[i].prefix, plen) != 0)
			continue;
		out->scheme = schemes_known[i].scheme;
		if (out->scheme == NET_UNIX) {
			if (rest[0] == '\0' || strlen(rest) >= sizeof(out->path)) {
				snprintf(err, errlen, "'%s': the socket path is empty or longer "
					 "than %zu bytes", s, sizeof(out->path) - 1);
				return -EINVAL;
			}
			strcpy(out->path, rest);
			return 0;
		}
		return net_hostport_parse(rest, 0, &out->hp, err, errlen);
	}
	snprintf(err, errlen, "'%s': expected %s%s%s", s,
		 (schemes & NET_UDP) ? "udp:HOST:PORT, " : "",
		 (schemes & NET_TCP) ? "tcp:HOST:PORT, " : "",
		 (schemes & NET_UNIX) ? "unix:PATH" : "");
	return -EINVAL;
}
