/* SPDX-License-Identifier: ISC */
/* -u USER: root starts the daemon, which becomes USER before anything else runs. */
#ifndef LP_DAEMON_RUNAS_H
#define LP_DAEMON_RUNAS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Before the configuration is read: the default socket is the system one,
 * in the directory the daemon gives to USER, as under the unit's
 * RuntimeDirectory=; and USER's files are trusted as the daemon's own,
 * which they will be.
 */
void runas_environment(const char *name);

/*
 * Becomes the user name (uid, primary group, supplementary groups), for
 * good; with make_dir, first gives it the system socket's directory.  Only
 * root may.  -1 with the reason in err: no such user, not root, a socket
 * directory the user could not make the socket in.
 */
int runas_become(const char *name, const char *socket, bool make_dir, char *err,
    size_t len);

#endif
