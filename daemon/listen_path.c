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

#include "daemon/listen_path.h"
#include "daemon/trust.h"

#define SYSTEM_SOCKET_DIR "/run/leasepool"
#define SYSTEM_SOCKET_DIR_MODE 0755

int
listen_path_check(const char *path, bool make_dir, char *why, size_t len)
{
	const struct lp_trusted_uids self = trust_daemon_uids();
	enum lp_path_state state = lp_path_check(path, S_IFSOCK, &self, why, len);

	if (state == LP_PATH_NO_DIR && strcmp(path, LP_SYSTEM_SOCKET) == 0) {
		if (!make_dir) {
			snprintf(why, len, "%s will be made", SYSTEM_SOCKET_DIR);
			return 0;
		}
		if (mkdir(SYSTEM_SOCKET_DIR, SYSTEM_SOCKET_DIR_MODE) == -1 && errno != EEXIST) {
			snprintf(why, len, "cannot make %s: %s", SYSTEM_SOCKET_DIR, strerror(errno));
			return -1;
		}
		state = lp_path_check(path, S_IFSOCK, &self, why, len);
	}
	switch (state) {
	case LP_PATH_TRUSTED:
	case LP_PATH_ABSENT:
		why[0] = '\0';
		return 0;
	case LP_PATH_WRONG_TYPE:
		snprintf(why + strlen(why), len - strlen(why), ": leasepoold replaces only a socket");
		return -1;
	case LP_PATH_NO_DIR:
	case LP_PATH_UNTRUSTED:
		break;
	}
	return -1;
}
