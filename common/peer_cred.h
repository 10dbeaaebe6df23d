/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Who is on the other end of an accepted Unix socket (SO_PEERCRED). posternd's control
 * sockets (the dataplane link and posternctl's) take commands and rule generations, so a
 * connection is served only from root or from posternd's own user; the socket files' modes
 * (0600) say the same, and this check holds even if a mode or a directory is too open.
 * Any thread; no allocation.
 */
#pragma once

#include <sys/types.h>

/*
 * 0 when the peer of fd runs as root or as this process's effective user; -EACCES when it
 * runs as someone else (its uid in *uid); another negative errno when the kernel cannot
 * tell (not a Unix socket).
 */
int peer_cred_check(int fd, uid_t *uid);
