/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for common/privdrop.c. Every privdrop() call runs in a forked child that reports
 * what it became (ids, groups, the capability sets from /proc, what it can still do) through a
 * pipe, so that this process stays root for the next case. The root-only cases skip when the
 * test does not run as root; the name lookups and the capability-name table run anywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>

#include "privdrop.h"
#include "test_tmpdir.h"

#define BIT(c) (UINT64_C(1) << (c))

/* what a child saw after privdrop(); a plain struct, written whole through the pipe */
struct report {
	int rc;
	char err[256];
	char desc[256];
	uid_t uid[3];
	gid_t gid[3];
	uint64_t eff, prm, inh, bnd, amb; /* from /proc/thread-self/status */
	int n_groups;
	gid_t groups[64];
	int setuid0_errno; /* 0 when setuid(0) worked */
	int open_errno;	   /* opening the root-only file */
	int raw_errno;	   /* opening a raw socket */
	int nnp;	   /* PR_GET_NO_NEW_PRIVS */
	int keepcaps;	   /* PR_GET_KEEPCAPS */
	int extra;	   /* case-specific */
	uint64_t extra_eff;
	uid_t extra_uid;
};

struct scenario {
	const char *user;
	const char *group;
	const cap_value_t *keep;
	int n_keep;
	void (*before)(struct report *r, void *arg); /* in the child, before privdrop() */
	void (*after)(struct report *r, void *arg);  /* in the child, after privdrop() */
	void *arg;
};

static char root_dir[64];
static char root_file[128]; /* root:root 0600 in a 0755 directory */

/* a capability mask from /proc/thread-self/status: this thread's own (/proc/self is the leader) */
static uint64_t
status_hex(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	uint64_t v = UINT64_MAX;
	FILE *f = fopen("/proc/thread-self/status", "re");

	if (f == NULL)
		return v;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			v = strtoull(line + klen + 1, NULL, 16);
	fclose(f);
	return v;
}

static void
child_observe(struct report *r)
{
	int fd;

	getresuid(&r->uid[0], &r->uid[1], &r->uid[2]);
	getresgid(&r->gid[0], &r->gid[1], &r->gid[2]);
	r->eff = status_hex("CapEff");
	r->prm = status_hex("CapPrm");
	r->inh = status_hex("CapInh");
	r->bnd = status_hex("CapBnd");
	r->amb = status_hex("CapAmb");
	r->n_groups = getgroups(64, r->groups);
	r->nnp = prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L);
	r->keepcaps = prctl(PR_GET_KEEPCAPS, 0L, 0L, 0L, 0L);
	fd = open(root_file, O_RDONLY | O_CLOEXEC);
	r->open_errno = fd >= 0 ? 0 : errno;
	if (fd >= 0)
		close(fd);
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	r->raw_errno = fd >= 0 ? 0 : errno;
	if (fd >= 0)
		close(fd);
	privdrop_describe(r->desc, sizeof(r->desc));
	/* last: when it works, the child is root again */
	r->setuid0_errno = setuid(0) == 0 ? 0 : errno;
}

/* fork, run the scenario in the child, return what it reported */
static void
run_child(const struct scenario *s, struct report *r)
{
	int p[2], st;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct report c;
		ssize_t n;

		close(p[0]);
		memset(&c, 0, sizeof(c));
		if (s->before != NULL)
			s->before(&c, s->arg);
		c.rc = privdrop(s->user, s->group, s->keep, s->n_keep, c.err, sizeof(c.err));
		if (s->after != NULL)
			s->after(&c, s->arg);
		child_observe(&c);
		n = write(p[1], &c, sizeof(c));
		_exit(n == (ssize_t)sizeof(c) ? 0 : 3);
	}
	close(p[1]);
	memset(r, 0, sizeof(*r));
	assert_int_equal(read(p[0], r, sizeof(*r)), (ssize_t)sizeof(*r));
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	r->err[sizeof(r->err) - 1] = '\0';
	r->desc[sizeof(r->desc) - 1] = '\0';
}

static void
lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = getpwnam(name);

	assert_non_null(pw);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
}

static bool
has_group(const struct report *r, gid_t g)
{
	for (int i = 0; i < r->n_groups; i++)
		if (r->groups[i] == g)
			return true;
	return false;
}

static void
assert_ids(const struct report *r, uid_t uid, gid_t gid)
{
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r->uid[i], uid);
		assert_int_equal(r->gid[i], gid);
	}
}

static void
skip_unless_root(void)
{
	if (geteuid() != 0)
		skip(); /* changing users needs root */
}

static int
setup(void **state)
{
	int fd;

	(void)state;
	if (geteuid() != 0)
		return 0;
	if (test_tmpdir_make(root_dir, sizeof(root_dir)) < 0 || chmod(root_dir, 0755) < 0)
		return -1;
	snprintf(root_file, sizeof(root_file), "%s/secret", root_dir);
	fd = open(root_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (root_dir[0] != '\0')
		test_tmpdir_remove(root_dir);
	return 0;
}

/* nobody, keeping nothing: no capability anywhere, no way back to root */
static void
test_nobody_keep_nothing(void **state)
{
	(void)state;
	struct scenario s = { .user = "nobody" };
	struct report r;
	uid_t uid;
	gid_t gid;

	skip_unless_root();
	lookup_user("nobody", &uid, &gid);
	run_child(&s, &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.err, "");
	assert_ids(&r, uid, gid);
	assert_true(r.eff == 0 && r.prm == 0 && r.inh == 0 && r.amb == 0);
	assert_int_equal(r.bnd, 0);
	assert_int_equal(r.setuid0_errno, EPERM);
	assert_int_equal(r.open_errno, EACCES);
	assert_int_equal(r.raw_errno, EPERM);
	assert_int_equal(r.nnp, 1);
	assert_int_equal(r.keepcaps, 0);
	assert_false(has_group(&r, 0));
	assert_non_null(strstr(r.desc, "(nobody)"));
	assert_non_null(strstr(r.desc, "caps=none"));
}

/* keeping CAP_NET_RAW: that one in effective and permitted (and bounding), nothing else */
static void
test_nobody_keep_net_raw(void **state)
{
	(void)state;
	static const cap_value_t keep[] = { CAP_NET_RAW };
	struct scenario s = { .user = "nobody", .keep = keep, .n_keep = 1 };
	struct report r;
	uid_t uid;
	gid_t gid;

	skip_unless_root();
	lookup_user("nobody", &uid, &gid);
	run_child(&s, &r);
	assert_int_equal(r.rc, 0);
	assert_ids(&r, uid, gid);
	assert_int_equal(r.eff, BIT(CAP_NET_RAW));
	assert_int_equal(r.prm, BIT(CAP_NET_RAW));
	assert_int_equal(r.bnd, BIT(CAP_NET_RAW));
	assert_int_equal(r.inh, 0);
	assert_int_equal(r.amb, 0);
	assert_false(r.eff & BIT(CAP_NET_ADMIN));
	assert_false(r.eff & BIT(CAP_CHOWN));
	assert_int_equal(r.raw_errno, 0);
	assert_int_equal(r.open_errno, EACCES);
	assert_int_equal(r.setuid0_errno, EPERM);
	assert_int_equal(r.nnp, 1);
	assert_non_null(strstr(r.desc, "cap_net_raw=ep"));
}

static void
after_chown(struct report *r, void *arg)
{
	(void)arg;
	/* CAP_CHOWN is gone: giving away the root-owned directory must fail */
	r->extra = chown(root_dir, 0, 1) == 0 ? 0 : errno;
}

/* two kept, and a capability that was not kept really does not work */
static void
test_keep_two_chown_absent(void **state)
{
	(void)state;
	static const cap_value_t keep[] = { CAP_NET_RAW, CAP_NET_BIND_SERVICE };
	struct scenario s = { .user = "nobody", .keep = keep, .n_keep = 2, .after = after_chown };
	struct report r;

	skip_unless_root();
	run_child(&s, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.eff, BIT(CAP_NET_RAW) | BIT(CAP_NET_BIND_SERVICE));
	assert_int_equal(r.prm, r.eff);
	assert_int_equal(r.extra, EPERM);
}

/* group given: it is the gid, and a supplementary one; the user's own groups otherwise */
static void
test_explicit_group(void **state)
{
	(void)state;
	struct scenario s = { .user = "nobody", .group = "daemon" };
	struct group *gr;
	struct report r;
	uid_t uid;
	gid_t gid;

	skip_unless_root();
	gr = getgrnam("daemon");
	if (gr == NULL)
		skip(); /* no such group on this system */
	lookup_user("nobody", &uid, &gid);
	gid = gr->gr_gid;
	run_child(&s, &r);
	assert_int_equal(r.rc, 0);
	assert_ids(&r, uid, gid);
	assert_true(r.n_groups >= 1);
	assert_false(has_group(&r, 0));
	assert_int_equal(r.eff, 0);
}

/* an empty group means the user's primary group */
static void
test_empty_group_is_primary(void **state)
{
	(void)state;
	struct scenario s = { .user = "nobody", .group = "" };
	struct report r;
	uid_t uid;
	gid_t gid;

	skip_unless_root();
	lookup_user("nobody", &uid, &gid);
	run_child(&s, &r);
	assert_int_equal(r.rc, 0);
	assert_ids(&r, uid, gid);
}

static void
before_many_groups(struct report *r, void *arg)
{
	static const gid_t g[] = { 0, 4, 27, 100 };

	(void)arg;
	r->extra = setgroups(4, g);
}

/* root's supplementary groups (0, adm, ...) are replaced by the user's own */
static void
test_supplementary_replaced(void **state)
{
	(void)state;
	struct scenario s = { .user = "nobody", .before = before_many_groups };
	struct report r;
	uid_t uid;
	gid_t gid;

	skip_unless_root();
	lookup_user("nobody", &uid, &gid);
	run_child(&s, &r);
	assert_int_equal(r.extra, 0);
	assert_int_equal(r.rc, 0);
	assert_true(r.n_groups >= 0);
	assert_false(has_group(&r, 0));
	assert_false(has_group(&r, 4));
	assert_false(has_group(&r, 27));
	for (int i = 0; i < r.n_groups; i++)
		assert_int_equal(r.groups[i], gid); /* nobody belongs to no other group */
}

/* an unknown user fails before anything changes, and says which user */
static void
test_unknown_user(void **state)
{
	(void)state;
	struct scenario s = { .user = "postern-no-such-user" };
	struct report r;

	run_child(&s, &r);
	assert_int_equal(r.rc, -ENOENT);
	assert_non_null(strstr(r.err, "user postern-no-such-user:"));
	assert_non_null(strstr(r.err, "no such user"));
	assert_int_equal(r.uid[0], getuid());
	assert_int_equal(r.nnp, 0); /* nothing was touched */
}

static void
test_unknown_group(void **state)
{
	(void)state;
	struct scenario s = { .user = "nobody", .group = "postern-no-such-group" };
	struct report r;

	run_child(&s, &r);
	assert_int_equal(r.rc, -ENOENT);
	assert_non_null(strstr(r.err, "user nobody:"));
	assert_non_null(strstr(r.err, "postern-no-such-group"));
	assert_int_equal(r.uid[0], getuid());
}

static void
test_bad_arguments(void **state)
{
	(void)state;
	static const cap_value_t bad[] = { 9999 };
	struct scenario none = { .user = "" };
	struct scenario unknown_cap = { .user = "nobody", .keep = bad, .n_keep = 1 };
	struct report r;

	run_child(&none, &r);
	assert_int_equal(r.rc, -EINVAL);
	assert_non_null(strstr(r.err, "no user"));
	run_child(&unknown_cap, &r);
	assert_int_equal(r.rc, -EINVAL);
	assert_non_null(strstr(r.err, "9999"));
	assert_int_equal(r.uid[0], getuid());
}

/* a non-root user holding capabilities (as under systemd's AmbientCapabilities) */
static void
before_nobody_keepcaps(struct report *r, void *arg)
{
	uid_t uid;
	gid_t gid;

	(void)arg;
	lookup_user("nobody", &uid, &gid);
	r->extra = prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) == 0 && setgroups(1, &gid) == 0 &&
			   setresgid(gid, gid, gid) == 0 && setresuid(uid, uid, uid) == 0
		   ? 0
		   : errno;
	prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
}

/* already the user, not root: only the capabilities are trimmed */
static void
test_non_root_trims_only(void **state)
{
	(void)state;
	static const cap_value_t keep[] = { CAP_NET_RAW };
	struct scenario s = {
		.user = "nobody", .keep = keep, .n_keep = 1, .before = before_nobody_keepcaps
	};
	struct report r;
	uid_t uid;
	gid_t gid;

	skip_unless_root();
	lookup_user("nobody", &uid, &gid);
	run_child(&s, &r);
	assert_int_equal(r.extra, 0);
	assert_int_equal(r.rc, 0);
	assert_ids(&r, uid, gid);
	assert_int_equal(r.eff, BIT(CAP_NET_RAW));
	assert_int_equal(r.prm, BIT(CAP_NET_RAW));
	assert_int_equal(r.raw_errno, 0);
	assert_int_equal(r.nnp, 1);
}

static void
before_nobody_plain(struct report *r, void *arg)
{
	uid_t uid;
	gid_t gid;

	(void)arg;
	lookup_user("nobody", &uid, &gid);
	r->extra = setgroups(1, &gid) == 0 && setresgid(gid, gid, gid) == 0 &&
			   setresuid(uid, uid, uid) == 0
		   ? 0
		   : errno;
}

/* a non-root process cannot keep what it does not have, nor become someone else */
static void
test_non_root_refusals(void **state)
{
	(void)state;
	static const cap_value_t keep[] = { CAP_NET_RAW };
	struct scenario want_cap = {
		.user = "nobody", .keep = keep, .n_keep = 1, .before = before_nobody_plain
	};
	struct scenario want_root = { .user = "root", .before = before_nobody_plain };
	struct scenario same = { .user = "nobody", .before = before_nobody_plain };
	struct report r;

	skip_unless_root();
	run_child(&want_cap, &r);
	assert_int_equal(r.extra, 0);
	assert_int_equal(r.rc, -EPERM);
	assert_non_null(strstr(r.err, "user nobody: cap_net_raw"));
	run_child(&want_root, &r);
	assert_int_equal(r.rc, -EPERM);
	assert_non_null(strstr(r.err, "user root:"));
	assert_non_null(strstr(r.err, "not permitted"));
	run_child(&same, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.nnp, 1);
}

/* not root (the root run covers this through nobody): trimming oneself works, gaining fails */
static void
test_self_unprivileged(void **state)
{
	(void)state;
	static const cap_value_t keep[] = { CAP_NET_RAW };
	struct passwd *pw = getpwuid(geteuid());
	struct scenario self = { .user = pw ? pw->pw_name : NULL };
	struct scenario gain = { .user = self.user, .keep = keep, .n_keep = 1 };
	struct report r;

	if (geteuid() == 0)
		skip(); /* test_non_root_refusals does this as nobody */
	assert_non_null(pw);
	if (status_hex("CapPrm") & BIT(CAP_NET_RAW))
		skip(); /* this user may keep it: nothing to refuse */
	run_child(&self, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.uid[1], geteuid());
	assert_int_equal(r.eff, 0);
	assert_int_equal(r.nnp, 1);
	run_child(&gain, &r);
	assert_int_equal(r.rc, -EPERM);
	assert_non_null(strstr(r.err, "cap_net_raw is not in the permitted set"));
}

static int unix_ready[2];
static char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static int
unix_listen(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", unix_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
		return -1;
	return fd;
}

static void
before_bind(struct report *r, void *arg)
{
	(void)r;
	*(int *)arg = unix_listen(); /* as root, in a root-only directory, like /run/postern */
}

static void
after_accept(struct report *r, void *arg)
{
	int lfd = *(int *)arg, fd;
	char c = 0;

	r->extra = -1;
	/* always answer, so that the parent never waits for a child that failed */
	if (write(unix_ready[1], lfd < 0 ? "f" : "r", 1) != 1 || lfd < 0)
		return;
	fd = accept(lfd, NULL, NULL);
	if (fd < 0) {
		r->extra = -errno;
		return;
	}
	if (read(fd, &c, 1) == 1 && c == 'q' && write(fd, "a", 1) == 1)
		r->extra = 1;
	close(fd);
	close(lfd);
}

/* posternd's way: bind the control socket as root, drop, keep serving on it */
static void
test_socket_bound_before_drop(void **state)
{
	(void)state;
	int lfd = -1, fd, st, p[2];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct scenario s = {
		.user = "nobody", .before = before_bind, .after = after_accept, .arg = &lfd
	};
	struct report r;
	pid_t pid;
	char c;

	skip_unless_root();
	snprintf(unix_path, sizeof(unix_path), "%s/ctl.sock", root_dir);
	assert_int_equal(pipe(unix_ready), 0);
	assert_int_equal(pipe(p), 0);
	/* the child runs the scenario; this process connects once it has dropped */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		close(unix_ready[0]);
		run_child(&s, &r);
		_exit(write(p[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 3);
	}
	close(p[1]);
	close(unix_ready[1]);
	assert_int_equal(read(unix_ready[0], &c, 1), 1);
	assert_int_equal(c, 'r');
	close(unix_ready[0]);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", unix_path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, "q", 1), 1);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 'a');
	close(fd);
	assert_int_equal(read(p[0], &r, sizeof(r)), (ssize_t)sizeof(r));
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.extra, 1);
	assert_int_not_equal(r.uid[0], 0);
	unlink(unix_path);
}

static int thread_go[2], thread_done[2];

static void *
thread_main(void *arg)
{
	struct report *r = arg;
	char c;

	if (read(thread_go[0], &c, 1) != 1)
		return NULL;
	r->extra_eff = status_hex("CapEff") | status_hex("CapPrm");
	r->extra_uid = geteuid();
	if (write(thread_done[1], "d", 1) != 1)
		return NULL;
	return NULL;
}

static void
before_thread(struct report *r, void *arg)
{
	pthread_t *t = arg;

	r->extra = pipe(thread_go) == 0 && pipe(thread_done) == 0 &&
		   pthread_create(t, NULL, thread_main, r) == 0;
}

static void
after_thread(struct report *r, void *arg)
{
	pthread_t *t = arg;
	char c;

	if (!r->extra)
		return;
	r->extra = write(thread_go[1], "g", 1) == 1 && read(thread_done[0], &c, 1) == 1 &&
		   pthread_join(*t, NULL) == 0;
}

/* a thread started before the drop ends as the user too, with no capabilities at all */
static void
test_other_thread(void **state)
{
	(void)state;
	static const cap_value_t keep[] = { CAP_NET_RAW };
	pthread_t t;
	struct scenario s = { .user = "nobody",
			      .keep = keep,
			      .n_keep = 1,
			      .before = before_thread,
			      .after = after_thread,
			      .arg = &t };
	struct report r;
	uid_t uid;
	gid_t gid;

	skip_unless_root();
	lookup_user("nobody", &uid, &gid);
	run_child(&s, &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.extra, 1);
	assert_int_equal(r.extra_uid, uid);
	assert_int_equal(r.extra_eff, 0);
	assert_int_equal(r.eff, BIT(CAP_NET_RAW));
}

/* The ids a drop would take, for chowning before it: the lookups the drop itself makes. */
static void
test_ids_before_the_drop(void **state)
{
	(void)state;
	uid_t uid, want_uid;
	gid_t gid, want_gid, g;
	char err[256];
	struct group *gr = getgrnam("nogroup");

	lookup_user("nobody", &want_uid, &want_gid);
	assert_int_equal(privdrop_ids("nobody", NULL, &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(uid, want_uid);
	assert_int_equal(gid, want_gid);
	assert_non_null(gr);
	assert_int_equal(privdrop_ids("nobody", "nogroup", &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(gid, gr->gr_gid);
	assert_int_equal(privdrop_group_id("nogroup", &g, err, sizeof(err)), 0);
	assert_int_equal(g, gr->gr_gid);
	assert_int_equal(privdrop_ids("no-such-user-xyz", NULL, &uid, &gid, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "no such user"));
	assert_int_equal(privdrop_ids("nobody", "no-such-group-xyz", &uid, &gid, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "no-such-group-xyz"));
	assert_int_equal(privdrop_group_id("no-such-group-xyz", &g, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no such group"));
}

static void
test_cap_names(void **state)
{
	(void)state;
	static const char *const junk[] = {
		"", "cap_", "net_raw", "12", "cap_12", "cap_net_raw ", " cap_net_raw",
		"cap_nonsense", "cap_net_raw,cap_chown", "all", "=ep", "cap_net_raw=ep",
	};
	cap_value_t v = 77, n = cap_max_bits();
	int n_ok = 0;

	for (cap_value_t c = 0; c < n; c++) {
		char *name;

		if (!CAP_IS_SUPPORTED(c))
			continue;
		name = cap_to_name(c);
		assert_non_null(name);
		if (strncmp(name, "cap_", 4) == 0) { /* libcap knows this one by name */
			assert_int_equal(privdrop_cap_from_name(name, &v), 0);
			assert_int_equal(v, c);
			n_ok++;
		}
		cap_free(name);
	}
	assert_true(n_ok > CAP_SETFCAP); /* at least the classic ones */
	assert_int_equal(privdrop_cap_from_name("cap_net_raw", &v), 0);
	assert_int_equal(v, CAP_NET_RAW);
	assert_int_equal(privdrop_cap_from_name("CAP_NET_ADMIN", &v), 0);
	assert_int_equal(v, CAP_NET_ADMIN);
	assert_int_equal(privdrop_cap_from_name("cap_ipc_lock", &v), 0);
	assert_int_equal(v, CAP_IPC_LOCK);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		v = 77;
		assert_int_equal(privdrop_cap_from_name(junk[i], &v), -EINVAL);
		assert_int_equal(v, 77); /* untouched on error */
	}
	assert_int_equal(privdrop_cap_from_name(NULL, &v), -EINVAL);
}

static void
test_describe(void **state)
{
	(void)state;
	char buf[512], small[16];
	char want[32];

	privdrop_describe(buf, sizeof(buf));
	snprintf(want, sizeof(want), "uid=%u(", (unsigned)geteuid());
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, " gid="));
	assert_non_null(strstr(buf, " caps="));
	memset(small, 'x', sizeof(small));
	privdrop_describe(small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, buf, sizeof(small) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nobody_keep_nothing),
		cmocka_unit_test(test_nobody_keep_net_raw),
		cmocka_unit_test(test_keep_two_chown_absent),
		cmocka_unit_test(test_explicit_group),
		cmocka_unit_test(test_empty_group_is_primary),
		cmocka_unit_test(test_supplementary_replaced),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_unknown_group),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_non_root_trims_only),
		cmocka_unit_test(test_non_root_refusals),
		cmocka_unit_test(test_self_unprivileged),
		cmocka_unit_test(test_socket_bound_before_drop),
		cmocka_unit_test(test_other_thread),
		cmocka_unit_test(test_ids_before_the_drop),
		cmocka_unit_test(test_cap_names),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
