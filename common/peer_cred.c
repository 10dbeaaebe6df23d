/* SPDX-License-Identifier: BSD-3-Clause */
/* SO_PEERCRED checks of control connections; see peer_cred.h. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer_cred.h"

int
peer_cred_check(int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*uid = cred.uid;
	return cred.uid == 0 || cred.uid == geteuid() ? 0 : -EACCES;
}
