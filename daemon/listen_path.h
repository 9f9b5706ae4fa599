/*
 * Whether the daemon may listen at a socket path: proto/path_trust.h's
 * rule, with the daemon's own uid and root as the trusted users.
 */
#ifndef LP_DAEMON_LISTEN_PATH_H
#define LP_DAEMON_LISTEN_PATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * 0 when the daemon may bind at path: nothing is there, or a socket of its
 * own that it may replace, in directories no one else may write to.  The
 * system socket's directory is made when missing and make_dir is set (-t
 * only says it would be).  Else -1, and why says what is wrong.
 */
int listen_path_check(const char *path, bool make_dir, char *why, size_t len);

#endif
