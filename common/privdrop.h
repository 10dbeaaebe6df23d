/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dropping root after start-up: posternd and postern-dataplane open what needs root (hugepages,
 * NICs, sockets under /run, the raw socket) and then become the configured user, keeping only the
 * capabilities they still need at run time. Pure libc + libcap, no DPDK. It does not open or
 * chown anything for the caller, and it does not exec. Main thread only, at start-up, before
 * workers are started if possible: glibc moves every thread to the new uid, but capabilities,
 * keep-caps, the bounding set and no_new_privs are per thread, so threads that already exist
 * end with the new uid and no capabilities at all (privdrop() checks every thread's uid).
 */
#pragma once

#include <stddef.h>
#include <sys/capability.h>
#include <sys/types.h>

/*
 * Become `user` (and `group`, or the user's primary group when group is NULL or empty; the
 * supplementary groups become the user's own via initgroups), keeping in the permitted and
 * effective sets exactly the capabilities keep[0..n_keep) and no others (inheritable and ambient
 * empty); the bounding set is cleared of everything else when this process may (CAP_SETPCAP),
 * and PR_SET_NO_NEW_PRIVS is set. Called as root; as a non-root user with user == the current
 * user it only trims the capabilities. On return 0 the result has been verified (every uid,
 * gid and thread's uid is the target, setuid(0) fails, the capability sets are exactly keep[]).
 * Returns 0 or -errno with a message "user NAME: ..." in err (always NUL-terminated when
 * errlen > 0). A failure may leave the process half-way: the caller must exit, never continue.
 * Main thread, start-up only. Borrows all arguments.
 */
int privdrop(const char *user, const char *group, const cap_value_t *keep, int n_keep, char *err,
	     size_t errlen);

/*
 * The uid and gid privdrop(user, group, ...) would take (group, else the user's primary
 * group): for giving files and sockets to that user before the drop. 0 or -errno with a
 * message in err. Start-up only.
 */
int privdrop_ids(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
		 size_t errlen);

/* A group's id. 0 or -errno (-ENOENT: no such group) with a message in err. Start-up only. */
int privdrop_group_id(const char *group, gid_t *gid, char *err, size_t errlen);

/*
 * Capability name as capsh writes it ("cap_net_raw", case-insensitive) -> its value in *out.
 * Numbers, names without "cap_" and names this kernel does not know are -EINVAL. Any thread.
 */
int privdrop_cap_from_name(const char *name, cap_value_t *out);

/*
 * The current process as one line for the log ("running as ..."): uid, gid, supplementary
 * groups and the effective/permitted capabilities as text, e.g.
 * "uid=65534(nobody) gid=65534(nogroup) groups=65534 caps=cap_net_raw=ep". Always
 * NUL-terminated when len > 0, truncated to fit. Any thread (reports that thread's caps).
 */
void privdrop_describe(char *buf, size_t len);
