/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The address and port fields of a rule header (`$HOME_NET`, `[10.0.0.0/8,!10.1.2.3]`,
 * `[25,587]`, `!$SMTP_PORTS`) compiled into sets the dataplane tests with one binary search,
 * and the variables file that defines `$HOME_NET` and the like. Compiling, loading and
 * destroying run on control threads (posternd, posternctl); netset_ip_contains() and
 * netset_port_contains() only read a compiled array and may run on any thread, workers
 * included. This module does not decide which side of a flow is the source, and knows
 * nothing of rules beyond these fields.
 *
 * Syntax (Suricata's): an element is `any`, `$NAME`, an address (IPv4, IPv6, `IP/prefix`,
 * `IPv4/dotted-netmask`, `IP-IP`) or a port (`N`, `N:M`, `N:`, `:M`, 0..65535), or a list
 * `[element, ...]`; `!` before an element or a list negates it. A whole field is a list body
 * (`a, b` is read as `[a, b]`). Blanks (space, tab) may surround elements and follow `!`.
 * `any` is case-insensitive; variable names are not.
 *
 * Meaning: a list is the union of its positive elements (everything, when it has none)
 * minus the union of its negated ones; a variable and a bracketed list are each a set of
 * their own. `[1.2.3.0/24, !1.2.3.4]` is the /24 but one host, `[!$HOME_NET]` and
 * `!$HOME_NET` are every address outside HOME_NET, `![a, !b]` is everything outside a plus b
 * (b within a).
 * An empty result (`[1.2.3.4, !1.2.3.4]`, `!any`) is an error, and so, for addresses, is a
 * negation that removes nothing from its list (`[10.0.0.0/8, !192.168.1.1]`), as in Suricata.
 * Where Suricata differs, deliberately:
 *   - the universe of a negation is every address, IPv4 and IPv6: `!$HOME_NET` with an
 *     IPv4-only HOME_NET also holds every IPv6 address (Suricata fills in only the families
 *     the negations name, so there IPv6 traffic is never "external");
 *   - a list nested without `!` and a variable are sets of their own: `[$EXTERNAL_NET,
 *     10.1.1.1]` adds the host to EXTERNAL_NET (Suricata splices the text in place, so its
 *     negations would remove 10.1.1.1 again and leave the list empty);
 *   - a negated port list is its own set too (`![80, !81]` is every port but 80; Suricata
 *     reads it as every port but 80 and 81).
 *
 * Representation: an IPv4 address a.b.c.d is the IPv6 address ::ffff:a.b.c.d, as the
 * dataplane stores both in 16 bytes, network order. An IPv6 element never covers that
 * IPv4-mapped block unless it lies wholly inside it: `::/0` is every IPv6 address (not the
 * IPv4 ones), `::ffff:1.2.3.4` is 1.2.3.4, `0.0.0.0/0` every IPv4 address, `any` both.
 * A compiled set is a sorted array of disjoint, non-adjacent inclusive ranges.
 *
 * Variables file: one `NAME = value` per line; `#` starts a comment (anywhere: it is no part
 * of any address or port), blank lines are skipped, CRLF is accepted. NAME is 1..64 of
 * [A-Za-z0-9_], case-sensitive, written without `$`; the value is an address or a port spec
 * as above, optionally in double quotes (as copied from suricata.yaml's address-groups and
 * port-groups), and may refer to other variables in any order (`EXTERNAL_NET = !$HOME_NET`).
 * Addresses and ports share one namespace; a value is checked where a rule uses it, as
 * addresses or as ports, and an error there names the variable and where it is defined.
 * The defaults are loaded first and a file overrides them one name at a time; defining a
 * name twice in one file is an error. Errors are "FILE:LINE:COL: message".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NETSET_MAX_NESTING 8        /* [ ] nested in one text (a rule field or a value) */
#define NETSET_MAX_RANGES 4096      /* ranges in any set, final or intermediate */
#define NETSET_MAX_VAR_DEPTH 16     /* $A whose value uses $B whose value uses ... */
#define NETSET_MAX_EXPANSION (1u << 20) /* bytes of variable values read by one compile */
#define NETSET_TEXT_MAX 16384       /* bytes of a field, and of a variable's value */
#define NETSET_NAME_MAX 64          /* bytes of a variable name */
#define NETSET_VARS_MAX 1024        /* variables, defaults included */
#define NETSET_VARS_FILE_MAX (1u << 20) /* bytes of a variables file */

/* An inclusive range of addresses: 16 bytes each, network order, IPv4 as ::ffff:a.b.c.d. */
struct netset_ip_range {
	uint8_t lo[16], hi[16];
};

/* An inclusive range of ports, host order. */
struct netset_port_range {
	uint16_t lo, hi;
};

/* Variable name -> value text, with where each was defined. */
struct netset_vars;

/*
 * A new table holding only the defaults:
 *   HOME_NET      [192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]
 *   EXTERNAL_NET  !$HOME_NET
 *   SMTP_SERVERS  $HOME_NET
 *   SMTP_PORTS    [25,465,587]
 * NULL with errno ENOMEM. The caller frees it with netset_vars_destroy(). Control threads.
 */
struct netset_vars *netset_vars_defaults(void);

/*
 * The defaults overridden by the variables file at path (at most NETSET_VARS_FILE_MAX
 * bytes). NULL on failure with errno set (EINVAL: bad content, or the errno of reading the
 * file) and a NUL-terminated message in err: "FILE:LINE:COL: message", or "FILE: reason"
 * when the file cannot be read. Control threads.
 */
struct netset_vars *netset_vars_load(const char *path, char *err, size_t errlen);

/*
 * As netset_vars_load() on len bytes of text (need not be NUL-terminated); name is the
 * file name used in messages. Control threads.
 */
struct netset_vars *netset_vars_parse_buffer(const char *name, const char *text, size_t len,
					     char *err, size_t errlen);

/*
 * Check that every variable's value is valid as addresses or as ports (an unused one is
 * otherwise never checked), for `posternctl rules check` and the like. 0 (also for NULL), or
 * -EINVAL with "FILE:LINE:COL: $NAME: message" in err for the first that is neither (the
 * place is that of the fault, which may be in a variable NAME uses: "v.conf:4:6: $A -> $B:
 * variable cycle through $A"), or -ENOMEM. Control threads.
 */
int netset_vars_check(const struct netset_vars *v, char *err, size_t errlen);

/* Free the table; NULL is a no-op. Compiled sets do not refer to it. */
void netset_vars_destroy(struct netset_vars *v);

/*
 * Compile len bytes of an address field (not NUL-terminated) with the variables of vars
 * (NULL: none; every $NAME is then unknown). On success 0, *out a new array the caller frees
 * with free(), *n its length, 1..NETSET_MAX_RANGES; `any` is one range covering everything.
 * On failure -EINVAL (bad spec, or a limit above) or -ENOMEM, *out NULL, *n 0, *err_off the
 * byte of spec at fault (the `$` of the variable when the fault is inside its value), and a
 * NUL-terminated message in err without location, e.g. "invalid address '10.0.0.300'",
 * "unknown variable $FOO", "$EXTERNAL_NET -> $HOME_NET: invalid address '10.0.0.300'
 * (vars.conf:2:12)". Control threads.
 */
int netset_ip_compile(const char *spec, size_t len, const struct netset_vars *vars,
		      struct netset_ip_range **out, uint32_t *n, size_t *err_off, char *err,
		      size_t errlen);

/* As netset_ip_compile() for a port field. Control threads. */
int netset_port_compile(const char *spec, size_t len, const struct netset_vars *vars,
			struct netset_port_range **out, uint32_t *n, size_t *err_off, char *err,
			size_t errlen);

/* Whether ip (16 bytes, network order) is in the n ranges of r. No allocation; any thread. */
bool netset_ip_contains(const struct netset_ip_range *r, uint32_t n, const uint8_t ip[16]);

/* Whether port (host order) is in the n ranges of r. No allocation; any thread. */
bool netset_port_contains(const struct netset_port_range *r, uint32_t n, uint16_t port);

/* An IPv4 address (4 bytes, network order) as the 16 bytes the sets hold. Any thread. */
static inline void
netset_ip_from_v4(const uint8_t v4[4], uint8_t out[16])
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}
