/* SPDX-License-Identifier: ISC */
/*
 * Job modules (include/leasepool/job.h): shared objects listed in
 * [daemon] modules, loaded once at start-up, before the fork server, so
 * every worker inherits them; their functions join the job registry as
 * "MODULE.FUNCTION".
 */
#ifndef LP_DAEMON_MODULES_H
#define LP_DAEMON_MODULES_H

#include <stddef.h>

/*
 * Loads every module of list (absolute paths separated by spaces; may be
 * empty) and registers its functions.  A module the daemon cannot use
 * stops everything: returns -1 with a message naming its path and the
 * problem, having unloaded the modules before it.
 */
int modules_load(const char *list, char *err, size_t errlen);

/* Forgets the modules' functions and unloads them (at exit, for a clean leak check). */
void modules_unload(void);

/*
 * In a new worker, before its first job: calls each module's init in load
 * order.  Non-zero when one fails (it is named on stderr, which reaches the
 * daemon's log): the worker must not serve.
 */
int modules_worker_init(void);

/* In a worker that exits normally: each module's fini, in reverse order. */
void modules_worker_fini(void);

#endif
