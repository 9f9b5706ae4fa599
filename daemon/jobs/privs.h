/* SPDX-License-Identifier: ISC */
/*
 * Who may change uid.  An exec runs as the user who asked (spawner.h), so
 * the processes that start programs keep CAP_SETUID, CAP_SETGID and
 * CAP_KILL (to kill what a program of another uid left): the fork server
 * and the spawners it gives to workers of exec pools.  The daemon's main
 * process and every worker, which read what clients and jobs send, give
 * them up once they no longer need them.
 */
#ifndef LP_DAEMON_PRIVS_H
#define LP_DAEMON_PRIVS_H

#include <stdbool.h>

/* This process may start programs as any user: CAP_SETUID, CAP_SETGID and CAP_KILL are effective. */
bool privs_can_switch(void);

/*
 * Gives up every capability for good.  As uid 0, which would get them
 * back from the next exec, it also locks the securebits that stop that
 * (SECBIT_NOROOT) and empties the bounding set; uid 0 still owns root's
 * files, which is why the service runs as its own user.
 */
void privs_drop(void);

/* What privs_can_switch() said before privs_drop(): for the daemon, whether exec may run as others. */
bool privs_exec_any_user(void);

#endif
