/*
 * Whether a socket path can be trusted not to belong to someone else: the
 * one rule the client applies before it talks to a default socket and the
 * daemon applies before it binds or replaces one.
 *
 * A path is trusted when every directory from its parent up to / belongs to
 * a trusted user and is writable by no one else, or has the sticky bit (so
 * that only a file's owner may remove or rename it, as in /tmp); and the
 * socket, when there is one, is a socket (not a link) of a trusted user.
 * Trusted users are the caller's choice: the client's own uid, root and the
 * daemon's user; the daemon's own uid and root.
 */
#ifndef LP_PROTO_SOCKET_TRUST_H
#define LP_PROTO_SOCKET_TRUST_H

#include <stddef.h>
#include <sys/types.h>

/* The system service's socket (leasepoold.socket's), which clients try first. */
#define LP_SYSTEM_SOCKET "/run/leasepool/leasepool.sock"

enum lp_socket_state {
	LP_SOCKET_TRUSTED,	/* a socket of a trusted user in trusted directories */
	LP_SOCKET_ABSENT,	/* nothing there, in trusted directories */
	LP_SOCKET_NO_DIR,	/* its directory does not exist */
	LP_SOCKET_NOT_SOCKET,	/* something else is there: a file, a link... */
	LP_SOCKET_UNTRUSTED,	/* a stranger's socket or directory */
};

struct lp_trusted_uids {
	uid_t uid[3];
	size_t n;
};

/* Checks what is at path, then its directories; why says what is wrong, naming the path. */
enum lp_socket_state lp_socket_check(const char *path, const struct lp_trusted_uids *t,
    char *why, size_t len);

#endif
