/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dropping root after start-up; see privdrop.h. The order of the steps is what makes it safe,
 * and each step says why it sits where it is. Main thread, start-up only.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include "privdrop.h"

/* getpwnam_r/getgrnam_r buffers grow up to this (a group with many members is long) */
#define PRIVDROP_NSS_BUF_MAX (1u << 20)
/* names are printed at most this long in messages */
#define PRIVDROP_NAME_SHOW 64

struct privdrop_target {
	uid_t uid;
	gid_t gid;
	char *name; /* the passwd entry's own spelling, for initgroups */
};

static void __attribute__((format(printf, 4, 5)))
privdrop_msg(char *err, size_t errlen, const char *user, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "user %.*s: ", PRIVDROP_NAME_SHOW, user ? user : "(none)");
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* getpwnam_r and getgrnam_r say "not found" with 0 or with one of these, by NSS module */
static bool
nss_not_found(int rc)
{
	return rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM;
}

static size_t
nss_buf_start(int name)
{
	long n = sysconf(name);

	return n > 0 && n < (long)PRIVDROP_NSS_BUF_MAX ? (size_t)n : 4096;
}

enum nss_db { NSS_PASSWD, NSS_GROUP };

/*
 * getpwnam_r (ent a struct passwd) or getgrnam_r (a struct group), with a buffer grown
 * until the entry fits; *buf is the caller's to free. 0, -ENOENT when there is no such
 * name, another -errno when NSS failed.
 */
static int
nss_lookup(enum nss_db db, const char *name, void *ent, char **buf)
{
	size_t size = nss_buf_start(db == NSS_PASSWD ? _SC_GETPW_R_SIZE_MAX : _SC_GETGR_R_SIZE_MAX);
	struct passwd *pw = NULL;
	struct group *gr = NULL;
	int rc;

	for (;;) {
		char *nbuf = realloc(*buf, size);

		if (nbuf == NULL)
			return -ENOMEM;
		*buf = nbuf;
		rc = db == NSS_PASSWD ? getpwnam_r(name, ent, *buf, size, &pw)
				      : getgrnam_r(name, ent, *buf, size, &gr);
		if (rc != ERANGE || size >= PRIVDROP_NSS_BUF_MAX)
			break;
		size *= 2;
	}
	if (pw == NULL && gr == NULL)
		return nss_not_found(rc) ? -ENOENT : -rc;
	return 0;
}

static int
resolve_user(const char *user, struct privdrop_target *t)
{
	struct passwd pw;
	char *buf = NULL;
	int rc = nss_lookup(NSS_PASSWD, user, &pw, &buf);

	if (rc == 0) {
		t->name = strdup(pw.pw_name);
		rc = t->name != NULL ? 0 : -ENOMEM;
		t->uid = pw.pw_uid;
		t->gid = pw.pw_gid;
	}
	free(buf);
	return rc;
}

static int
resolve_group(const char *group, gid_t *gid)
{
	struct group gr;
	char *buf = NULL;
	int rc = nss_lookup(NSS_GROUP, group, &gr, &buf);

	if (rc == 0)
		*gid = gr.gr_gid;
	free(buf);
	return rc;
}

static bool
cap_is_kept(cap_value_t c, const cap_value_t *keep, int n_keep)
{
	for (int i = 0; i < n_keep; i++)
		if (keep[i] == c)
			return true;
	return false;
}

/* the name for messages; "cap_N" when libcap has none */
static void
cap_name(cap_value_t c, char *buf, size_t len)
{
	char *s = cap_to_name(c);

	snprintf(buf, len, "%s", s ? s : "?");
	cap_free(s);
}

/* 1 when c is in this thread's `flag` set, 0 when not, -errno when it cannot tell */
static int
cap_proc_has(cap_value_t c, cap_flag_t flag)
{
	cap_flag_value_t v = CAP_CLEAR;
	cap_t cur = cap_get_proc();
	int rc;

	if (cur == NULL)
		return -errno;
	rc = cap_get_flag(cur, c, flag, &v) < 0 ? -errno : v == CAP_SET;
	cap_free(cur);
	return rc;
}

/* the process state we want at the end: exactly keep[] in permitted and effective */
static cap_t
cap_wanted(const cap_value_t *keep, int n_keep)
{
	cap_t want = cap_init(); /* all three sets empty */

	if (want == NULL)
		return NULL;
	if (n_keep > 0 && (cap_set_flag(want, CAP_PERMITTED, n_keep, keep, CAP_SET) < 0 ||
			   cap_set_flag(want, CAP_EFFECTIVE, n_keep, keep, CAP_SET) < 0)) {
		int e = errno;

		cap_free(want);
		errno = e;
		return NULL;
	}
	return want;
}

/*
 * Every thread of the process (glibc changes the uid of all of them, capabilities are per
 * thread): all four uids are `uid` and no thread holds a capability outside keep_mask. The
 * threads that existed before privdrop() had no keep-caps, so they lost everything at setresuid.
 */
static int
verify_threads(uid_t uid, uint64_t keep_mask, char *what, size_t whatlen)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *de;
	int rc = 0;

	if (dir == NULL)
		return errno == ENOENT ? 0 : -errno; /* no /proc: getresuid already checked us */
	while (rc == 0 && (de = readdir(dir)) != NULL) {
		char path[64], line[256];
		unsigned long u[4];
		uint64_t eff = 0, prm = 0;
		int n_seen = 0;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/status", de->d_name);
		f = fopen(path, "re");
		if (f == NULL)
			continue; /* the thread ended meanwhile */
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "Uid: %lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) == 4) {
				n_seen++;
				for (int i = 0; i < 4 && rc == 0; i++) {
					if (u[i] == (unsigned long)uid)
						continue;
					snprintf(what, whatlen, "thread %.20s still has uid %lu",
						 de->d_name, u[i]);
					rc = -EPERM;
				}
			} else if (sscanf(line, "CapEff: %" SCNx64, &eff) == 1 ||
				   sscanf(line, "CapPrm: %" SCNx64, &prm) == 1) {
				n_seen++;
			}
		}
		fclose(f);
		if (rc == 0 && n_seen != 3) {
			snprintf(what, whatlen, "cannot read %s", path);
			rc = -EIO;
		} else if (rc == 0 && ((eff | prm) & ~keep_mask) != 0) {
			snprintf(what, whatlen, "thread %.20s still has capabilities %#" PRIx64,
				 de->d_name, (eff | prm) & ~keep_mask);
			rc = -EPERM;
		}
	}
	closedir(dir);
	return rc;
}

/* The target of a drop: user (and group, else the user's primary group). 0 or -errno, err. */
static int
lookup_target(const char *user, const char *group, struct privdrop_target *t, char *err,
	      size_t errlen)
{
	int rc = resolve_user(user, t);

	if (rc == -ENOENT) {
		privdrop_msg(err, errlen, user, "no such user");
		return rc;
	} else if (rc < 0) {
		privdrop_msg(err, errlen, user, "cannot look up the user: %s", strerror(-rc));
		return rc;
	}
	if (group != NULL && group[0] != '\0') {
		rc = resolve_group(group, &t->gid);
		if (rc == -ENOENT) {
			privdrop_msg(err, errlen, user, "no such group %.*s", PRIVDROP_NAME_SHOW,
				     group);
			return rc;
		} else if (rc < 0) {
			privdrop_msg(err, errlen, user, "cannot look up group %.*s: %s",
				     PRIVDROP_NAME_SHOW, group, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int
privdrop_ids(const char *user, const char *group, uid_t *uid, gid_t *gid, char *err,
	     size_t errlen)
{
	struct privdrop_target t = { .name = NULL };
	int rc = lookup_target(user, group, &t, err, errlen);

	free(t.name);
	if (rc == 0) {
		*uid = t.uid;
		*gid = t.gid;
	}
	return rc;
}

int
privdrop_group_id(const char *group, gid_t *gid, char *err, size_t errlen)
{
	int rc = resolve_group(group, gid);

	if (rc == -ENOENT)
		snprintf(err, errlen, "group %.*s: no such group", PRIVDROP_NAME_SHOW, group);
	else if (rc < 0)
		snprintf(err, errlen, "group %.*s: cannot look it up: %s", PRIVDROP_NAME_SHOW,
			 group, strerror(-rc));
	return rc;
}

int
privdrop(const char *user, const char *group, const cap_value_t *keep, int n_keep, char *err,
	 size_t errlen)
{
	struct privdrop_target t = { .name = NULL };
	cap_value_t n_bits = cap_max_bits();
	uint64_t keep_mask = 0;
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	bool change_ids;
	cap_t want = NULL, cur = NULL;
	char cname[48], what[96];
	int rc, has;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (user == NULL || user[0] == '\0') {
		privdrop_msg(err, errlen, user, "no user given");
		return -EINVAL;
	}
	if (n_keep < 0 || (n_keep > 0 && keep == NULL)) {
		privdrop_msg(err, errlen, user, "bad capability list");
		return -EINVAL;
	}

	/*
	 * 1. Resolve names first, while nothing has changed yet: NSS may need files or a daemon
	 *    the new user cannot reach, and an unknown name must fail before any state is touched.
	 */
	rc = lookup_target(user, group, &t, err, errlen);
	if (rc < 0)
		goto out;

	/* every kept capability must exist here and be permitted now: it can never be gained */
	for (int i = 0; i < n_keep; i++) {
		/* 64: the per-thread check below reads the masks as one 64-bit word */
		if (keep[i] < 0 || keep[i] >= n_bits || keep[i] >= 64 ||
		    !CAP_IS_SUPPORTED(keep[i])) {
			privdrop_msg(err, errlen, user, "capability %d is not known to this kernel",
				     (int)keep[i]);
			rc = -EINVAL;
			goto out;
		}
		has = cap_proc_has(keep[i], CAP_PERMITTED);
		if (has <= 0) {
			cap_name(keep[i], cname, sizeof(cname));
			privdrop_msg(err, errlen, user, "%s is not in the permitted set", cname);
			rc = has < 0 ? has : -EPERM;
			goto out;
		}
		keep_mask |= UINT64_C(1) << keep[i];
	}
	want = cap_wanted(keep, n_keep);
	if (want == NULL) {
		rc = -errno;
		privdrop_msg(err, errlen, user, "cap_init: %s", strerror(-rc));
		goto out;
	}

	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0) {
		rc = -errno;
		privdrop_msg(err, errlen, user, "getresuid: %s", strerror(-rc));
		goto out;
	}
	/* a non-root process that already is the user only trims its capabilities */
	change_ids = euid == 0 || ruid != t.uid || euid != t.uid || suid != t.uid ||
		     rgid != t.gid || egid != t.gid || sgid != t.gid;

	/*
	 * 2. Keep the permitted set across the uid change: without keep-caps the kernel empties
	 *    permitted and effective when the last uid 0 goes, and kept capabilities would be lost
	 *    for good. Effective is emptied anyway; step 6 raises the kept ones again.
	 */
	if (change_ids && prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) < 0) {
		rc = -errno;
		privdrop_msg(err, errlen, user, "PR_SET_KEEPCAPS: %s", strerror(-rc));
		goto out;
	}

	/*
	 * 3. The bounding set, while CAP_SETPCAP is still effective: PR_CAPBSET_DROP needs it,
	 *    and the uid change below empties the effective set. Dropping from the bounding set
	 *    does not touch the effective set, so CAP_SETUID/CAP_SETGID still work for step 4-5.
	 *    Without CAP_SETPCAP (a non-root caller) this is not permitted and is skipped;
	 *    no_new_privs still stops an exec from gaining anything.
	 */
	has = cap_proc_has(CAP_SETPCAP, CAP_EFFECTIVE);
	if (has < 0) {
		rc = has;
		privdrop_msg(err, errlen, user, "cap_get_proc: %s", strerror(-rc));
		goto out;
	}
	for (cap_value_t c = 0; has == 1 && c < n_bits; c++) {
		if (cap_is_kept(c, keep, n_keep) || cap_get_bound(c) != 1)
			continue;
		if (cap_drop_bound(c) < 0) {
			rc = -errno;
			cap_name(c, cname, sizeof(cname));
			privdrop_msg(err, errlen, user, "PR_CAPBSET_DROP %s: %s", cname,
				     strerror(-rc));
			goto out;
		}
	}

	if (change_ids) {
		/*
		 * 4. Groups before uid: setgroups and setresgid need CAP_SETGID, which the uid
		 *    change takes away. Supplementary groups first, so root's group 0 is never
		 *    carried over into the new identity.
		 */
		if (initgroups(t.name, t.gid) < 0) {
			rc = -errno;
			privdrop_msg(err, errlen, user, "initgroups: %s", strerror(-rc));
			goto out;
		}
		if (setresgid(t.gid, t.gid, t.gid) < 0) {
			rc = -errno;
			privdrop_msg(err, errlen, user, "setresgid %u: %s", (unsigned)t.gid,
				     strerror(-rc));
			goto out;
		}
		/*
		 * 5. The uid last, all three at once: a saved uid of 0 would let the process
		 *    become root again later.
		 */
		if (setresuid(t.uid, t.uid, t.uid) < 0) {
			rc = -errno;
			privdrop_msg(err, errlen, user, "setresuid %u: %s", (unsigned)t.uid,
				     strerror(-rc));
			goto out;
		}
	}

	/*
	 * 6. Now exactly keep[] in permitted and effective (inheritable empty). Permitted can only
	 *    shrink, so this is the moment the rest goes for good; keep-caps is switched off again
	 *    as nothing more should survive an identity change.
	 */
	if (cap_set_proc(want) < 0) {
		rc = -errno;
		privdrop_msg(err, errlen, user, "cap_set_proc: %s", strerror(-rc));
		goto out;
	}
	if (change_ids && prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) < 0) {
		rc = -errno;
		privdrop_msg(err, errlen, user, "PR_SET_KEEPCAPS off: %s", strerror(-rc));
		goto out;
	}
	/*
	 * 7. Ambient capabilities only matter across exec, which the daemons never do: empty it.
	 *    EINVAL is a kernel without ambient capabilities (before 4.3), nothing to clear.
	 */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) < 0 && errno != EINVAL) {
		rc = -errno;
		privdrop_msg(err, errlen, user, "clearing ambient capabilities: %s",
			     strerror(-rc));
		goto out;
	}
	/* 8. No exec (setuid binary, file capabilities) can give anything back. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0) {
		rc = -errno;
		privdrop_msg(err, errlen, user, "PR_SET_NO_NEW_PRIVS: %s", strerror(-rc));
		goto out;
	}

	/* 9. Trust nothing above: check what the kernel says we are now. */
	if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0) {
		rc = -errno;
		privdrop_msg(err, errlen, user, "getresuid: %s", strerror(-rc));
		goto out;
	}
	if (ruid != t.uid || euid != t.uid || suid != t.uid || rgid != t.gid || egid != t.gid ||
	    sgid != t.gid) {
		privdrop_msg(err, errlen, user,
			     "still uid %u/%u/%u gid %u/%u/%u after the change to %u:%u",
			     (unsigned)ruid, (unsigned)euid, (unsigned)suid, (unsigned)rgid,
			     (unsigned)egid, (unsigned)sgid, (unsigned)t.uid, (unsigned)t.gid);
		rc = -EPERM;
		goto out;
	}
	/* keeping CAP_SETUID means the caller asked for the power to do exactly this */
	if (t.uid != 0 && !cap_is_kept(CAP_SETUID, keep, n_keep) && setuid(0) == 0) {
		privdrop_msg(err, errlen, user, "can still become root (setuid(0) succeeded)");
		rc = -EPERM;
		goto out;
	}
	cur = cap_get_proc();
	if (cur == NULL) {
		rc = -errno;
		privdrop_msg(err, errlen, user, "cap_get_proc: %s", strerror(-rc));
		goto out;
	}
	if (cap_compare(cur, want) != 0) {
		char *txt = cap_to_text(cur, NULL);

		privdrop_msg(err, errlen, user, "capabilities are %s, not the ones kept",
			     txt ? txt : "?");
		cap_free(txt);
		rc = -EPERM;
		goto out;
	}
	what[0] = '\0';
	rc = verify_threads(t.uid, keep_mask, what, sizeof(what));
	if (rc < 0) {
		privdrop_msg(err, errlen, user, "%s", what[0] ? what : strerror(-rc));
		goto out;
	}
	rc = 0;
out:
	cap_free(cur);
	cap_free(want);
	free(t.name);
	return rc;
}

int
privdrop_cap_from_name(const char *name, cap_value_t *out)
{
	cap_value_t v;
	char *back;
	bool same;

	/* libcap also takes numbers and other spellings; config names capabilities as capsh does */
	if (name == NULL || strncasecmp(name, "cap_", 4) != 0 || name[4] == '\0')
		return -EINVAL;
	if (cap_from_name(name, &v) < 0 || v < 0 || v >= cap_max_bits() || !CAP_IS_SUPPORTED(v))
		return -EINVAL;
	back = cap_to_name(v);
	same = back != NULL && strcasecmp(back, name) == 0;
	cap_free(back);
	if (!same)
		return -EINVAL;
	*out = v;
	return 0;
}

/* appends to buf[*off..len); stops quietly when full (the line is then truncated) */
static void __attribute__((format(printf, 4, 5)))
describe_add(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*off = *off + (size_t)n < len ? *off + (size_t)n : len;
}

void
privdrop_describe(char *buf, size_t len)
{
	char nss[4096];
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;
	gid_t groups[64];
	uid_t uid = getuid(), euid = geteuid();
	gid_t gid = getgid(), egid = getegid();
	size_t off = 0;
	int n_groups;
	cap_t cur;

	if (buf == NULL || len == 0)
		return;
	buf[0] = '\0';
	getpwuid_r(euid, &pw, nss, sizeof(nss), &pwr);
	describe_add(buf, len, &off, "uid=%u(%s)", (unsigned)euid, pwr ? pw.pw_name : "?");
	if (uid != euid)
		describe_add(buf, len, &off, " ruid=%u", (unsigned)uid);
	getgrgid_r(egid, &gr, nss, sizeof(nss), &grr);
	describe_add(buf, len, &off, " gid=%u(%s)", (unsigned)egid, grr ? gr.gr_name : "?");
	if (gid != egid)
		describe_add(buf, len, &off, " rgid=%u", (unsigned)gid);
	n_groups = getgroups((int)(sizeof(groups) / sizeof(groups[0])), groups);
	if (n_groups < 0) {
		describe_add(buf, len, &off, " groups=(more than %zu)",
			     sizeof(groups) / sizeof(groups[0]));
	} else {
		describe_add(buf, len, &off, " groups=");
		for (int i = 0; i < n_groups; i++)
			describe_add(buf, len, &off, "%s%u", i ? "," : "", (unsigned)groups[i]);
		if (n_groups == 0)
			describe_add(buf, len, &off, "none");
	}
	cur = cap_get_proc();
	if (cur != NULL) {
		char *txt = cap_to_text(cur, NULL);

		/* libcap writes an empty state as "=" */
		describe_add(buf, len, &off, " caps=%s",
			     txt == NULL ? "?" : strcmp(txt, "=") == 0 ? "none" : txt);
		cap_free(txt);
		cap_free(cur);
	} else {
		describe_add(buf, len, &off, " caps=?");
	}
}
