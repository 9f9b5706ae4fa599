/* SPDX-License-Identifier: ISC */
/*
 * Whether the daemon may listen at a socket path: proto/path_trust.h's
 * rule, with the daemon's own uid and root as the trusted users.
 */
#ifndef LP_DAEMON_LISTEN_PATH_H
#define LP_DAEMON_LISTEN_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The system socket's directory: the daemon's to make. */
#define LISTEN_SYSTEM_DIR "/run/leasepool"

/*
 * 0 when the daemon may bind at path: nothing is there, or a socket of its
 * own that it may replace, in directories no one else may write to.  The
 * system socket's directory is made when missing and make_dir is set (-t
 * only says it would be).  Else -1, and why says what is wrong.
 */
int listen_path_check(const char *path, bool make_dir, char *why, size_t len);

/*
 * -u: the system socket's directory, made when missing, becomes uid's and
 * gid's, as RuntimeDirectory= with User= would make it; for any other path
 * nothing is done.  -1 when it cannot be, and why says why.
 */
int listen_path_give_dir(const char *path, uid_t uid, gid_t gid, char *why,
    size_t len);

#endif
