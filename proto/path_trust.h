/* SPDX-License-Identifier: ISC */
/*
 * Whether a path can be trusted not to belong to someone else: the one
 * rule the client applies before it talks to a default socket, and the
 * daemon before it binds or replaces its socket, reads its configuration
 * file or loads a job module.
 *
 * A path is trusted when every directory from its parent up to / belongs to
 * a trusted user and is writable by no one else, or has the sticky bit (so
 * that only an entry's owner may remove or rename it, as in /tmp); and what
 * is there, when there is something, is of the expected type and belongs to
 * a trusted user.  A regular file must also be writable by no one else: the
 * sticky bit keeps a file from being replaced, not from being rewritten.
 * A socket must be there itself (a link is refused, for the daemon removes
 * and binds the path); a file may be reached through a link of a trusted
 * user in trusted directories, and is then checked where the link leads.
 * Trusted users are the caller's choice: the client's own uid, root and the
 * daemon's user; the daemon's own uid and root.  "No one else" allows a
 * group write bit when the group is its owner's private group (named
 * after a user other than root, their primary group, no one else in it),
 * as umask 002 under user private groups leaves files and directories.
 */
#ifndef LP_PROTO_PATH_TRUST_H
#define LP_PROTO_PATH_TRUST_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The system service's socket (leasepoold.socket's), which clients try first. */
#define LP_SYSTEM_SOCKET "/run/leasepool/leasepool.sock"

enum lp_path_state {
	/* what is there is a trusted user's, in trusted directories */
	LP_PATH_TRUSTED,
	LP_PATH_ABSENT, /* nothing there, in trusted directories */
	LP_PATH_NO_DIR, /* its directory does not exist */
	/* something else is there: a file where a socket should be... */
	LP_PATH_WRONG_TYPE,
	/* a stranger's, or others may write it or its directory */
	LP_PATH_UNTRUSTED,
};

struct lp_trusted_uids {
	uid_t uid[3];
	size_t n;
};

/*
 * Checks what is at path, which should be of type (S_IFSOCK or S_IFREG),
 * then its directories; why says what is wrong, naming the path (and the
 * mode, when that is what is wrong).
 */
enum lp_path_state lp_path_check(const char *path, mode_t type,
    const struct lp_trusted_uids *t, char *why, size_t len);

#endif
