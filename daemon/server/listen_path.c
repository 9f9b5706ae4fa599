/* SPDX-License-Identifier: ISC */
/*
 * The system socket's directory is the daemon's to make, as systemd's
 * RuntimeDirectory= would make it, so that root can start leasepoold by
 * hand on a machine where the service never ran.  Any other directory is
 * the user's choice and must already be there.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/core/trust.h"
#include "daemon/server/listen_path.h"

#define SYSTEM_SOCKET_DIR_MODE 0755

static int
make_system_dir(char *why, size_t len)
{
	if (mkdir(LISTEN_SYSTEM_DIR, SYSTEM_SOCKET_DIR_MODE) == -1 &&
	    errno != EEXIST) {
		snprintf(why, len, "cannot make %s: %s", LISTEN_SYSTEM_DIR,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
listen_path_check(const char *path, bool make_dir, char *why, size_t len)
{
	const struct lp_trusted_uids self = trust_daemon_uids();
	enum lp_path_state state =
	    lp_path_check(path, S_IFSOCK, &self, why, len);

	if (state == LP_PATH_NO_DIR && strcmp(path, LP_SYSTEM_SOCKET) == 0) {
		if (!make_dir) {
			snprintf(why, len, "%s will be made",
			    LISTEN_SYSTEM_DIR);
			return 0;
		}
		if (make_system_dir(why, len) == -1)
			return -1;
		state = lp_path_check(path, S_IFSOCK, &self, why, len);
	}
	switch (state) {
	case LP_PATH_TRUSTED:
	case LP_PATH_ABSENT:
		why[0] = '\0';
		return 0;
	case LP_PATH_WRONG_TYPE:
		snprintf(why + strlen(why), len - strlen(why),
		    ": leasepoold replaces only a socket");
		return -1;
	case LP_PATH_NO_DIR:
	case LP_PATH_UNTRUSTED:
		break;
	}
	return -1;
}

int
listen_path_give_dir(const char *path, uid_t uid, gid_t gid, char *why,
    size_t len)
{
	struct stat st;

	if (strcmp(path, LP_SYSTEM_SOCKET) != 0)
		return 0;
	if (make_system_dir(why, len) == -1)
		return -1;
	if (lstat(LISTEN_SYSTEM_DIR, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s is not a directory", LISTEN_SYSTEM_DIR);
		return -1;
	}
	if (chown(LISTEN_SYSTEM_DIR, uid, gid) == -1) {
		snprintf(why, len, "cannot give %s to uid %u: %s",
		    LISTEN_SYSTEM_DIR, (unsigned)uid, strerror(errno));
		return -1;
	}
	return 0;
}
