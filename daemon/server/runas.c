/* SPDX-License-Identifier: ISC */
/*
 * -u USER, for running outside systemd what the unit's User= and
 * RuntimeDirectory= do: root starts leasepoold, which gives the system
 * socket's directory to USER and becomes USER (uid, primary group and
 * supplementary groups) before it loads a module, forks the fork server or
 * makes its socket.  So everything that runs, workers and modules included,
 * runs as USER, and the daemon can later do as USER all it needs: bind and
 * remove its socket, restart the fork server, read the file on a reload.
 */
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/core/config.h"
#include "daemon/core/trust.h"
#include "daemon/server/listen_path.h"
#include "daemon/server/runas.h"
#include "proto/path_trust.h"

void
runas_environment(const char *name)
{
	const struct passwd *pw = getpwnam(name);

	/* Unknown: runas_become() says so. */
	if (pw != NULL)
		trust_daemon_user(pw->pw_uid);
	/* Root's session directory is no place for the socket of another user's daemon. */
	unsetenv("XDG_RUNTIME_DIR");
	setenv("RUNTIME_DIRECTORY", LISTEN_SYSTEM_DIR, 0);
}

/* Once USER, the socket's directory must let USER make and remove the socket there. */
static int
check_socket_dir(const char *name, const char *socket, char *err, size_t len)
{
	char copy[LP_SOCKET_PATH_MAX];
	const char *dir;

	snprintf(copy, sizeof copy, "%s", socket);
	dir = dirname(copy);
	if (access(dir, W_OK | X_OK) == 0)
		return 0;
	snprintf(err, len,
	    "%s cannot make its socket in %s (%s): give it a directory of its "
	    "own with -s, or use the default, %s",
	    name, dir, strerror(errno), LP_SYSTEM_SOCKET);
	return -1;
}

static int
drop_to(const struct passwd *pw, char *err, size_t len)
{
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		snprintf(err, len, "cannot become %s: %s", pw->pw_name,
		    strerror(errno));
		return -1;
	}
	/* Gone for good, or this is no drop at all. */
	if (pw->pw_uid != 0 && setuid(0) != -1) {
		snprintf(err, len, "could become root again after becoming %s",
		    pw->pw_name);
		return -1;
	}
	return 0;
}

int
runas_become(const char *name, const char *socket, bool make_dir, char *err,
    size_t len)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		snprintf(err, len, "no user named %s%s%s", name,
		    errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	if (geteuid() != 0) {
		snprintf(err, len,
		    "only root can become another user, and leasepoold runs as "
		    "uid %u",
		    (unsigned)geteuid());
		return -1;
	}
	if (make_dir &&
	    listen_path_give_dir(socket, pw->pw_uid, pw->pw_gid, err, len) ==
		-1)
		return -1;
	if (drop_to(pw, err, len) == -1)
		return -1;
	/* The system socket's directory is USER's once made (-t only says it would be). */
	if (strcmp(socket, LP_SYSTEM_SOCKET) == 0)
		return 0;
	return check_socket_dir(name, socket, err, len);
}
