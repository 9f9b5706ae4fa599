/* SPDX-License-Identifier: ISC */
/*
 * Whom the daemon trusts with what it reads and where it listens: its own
 * uid and root (proto/path_trust.h's rule).  Anyone else who may write its
 * configuration file or a job module chooses the code it runs, as sshd's
 * StrictModes says of a user's keys.
 */
#ifndef LP_DAEMON_TRUST_H
#define LP_DAEMON_TRUST_H

#include <stddef.h>
#include <sys/types.h>

#include "proto/path_trust.h"

/* The daemon's uid and root, and the user -u names, whose files those are too. */
struct lp_trusted_uids trust_daemon_uids(void);
/* -u USER: read as root before the switch, USER's own files are the daemon's. */
void trust_daemon_user(uid_t uid);

/*
 * 0 when path is a regular file that only the daemon's uid and root may
 * change, in directories only they may change (or nothing is there, for
 * the caller's open to report).  Else -1, and why names the path and what
 * is wrong, with the mode when the mode is what is wrong.  Called before
 * the file is opened: dlopen() runs a module's constructors.
 */
int trust_file(const char *path, char *why, size_t len);

#endif
