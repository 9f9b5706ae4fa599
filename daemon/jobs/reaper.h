/* SPDX-License-Identifier: ISC */
/*
 * What a job leaves running.  A worker, the fork server and the daemon are
 * each a child subreaper (PR_SET_CHILD_SUBREAPER): a process whose parent
 * dies is re-parented to the nearest of them above it, not to init.  So
 * whatever a job started, in a session of its own (setsid) or not, stays a
 * descendant of its worker while the worker lives, and becomes a child of
 * the fork server (or of the daemon, once the fork server that forked the
 * worker died) when the worker dies.  Each of them kills the children it
 * does not expect: the worker after every job, the fork server and the
 * daemon when a worker ends uncleanly, and all of them at a stop.
 *
 * Children are found by their parent pid in /proc: the kernel's lists of
 * children (/proc/PID/task/TID/children) are missing on kernels built
 * without CONFIG_PROC_CHILDREN.
 */
#ifndef LP_DAEMON_REAPER_H
#define LP_DAEMON_REAPER_H

#include <stdbool.h>
#include <sys/types.h>

/* At most this many children are killed in one pass. */
#define REAPER_BATCH 64

/* True for a child its parent expects (a worker, the fork server): not a leftover. */
typedef bool reaper_expected_fn(pid_t pid, void *arg);

/*
 * Sends SIGKILL to up to max living children of this process that expected
 * does not claim (NULL: none is expected), and to the process group each
 * one leads; their pids go to killed.  Returns how many.  It reaps none:
 * exited children are the caller's to wait for.
 */
unsigned reaper_kill(reaper_expected_fn *expected, void *arg, pid_t *killed,
    unsigned max);

/*
 * Kills every descendant of this process but the children expected claims
 * (NULL: none) and reaps them, until it has no other child left; returns
 * how many it killed (children that had already exited are reaped, not
 * counted).  For a worker between jobs, and a spawner after a program.
 */
unsigned reaper_kill_all(reaper_expected_fn *expected, void *arg);

/*
 * How many living children of this process expected does not claim (NULL:
 * none is expected), killed or not: a killed one is still there until it
 * is dead, and what it started comes to us then.
 */
unsigned reaper_living(reaper_expected_fn *expected, void *arg);

/*
 * At a stop: reaps children until none is left, killing at once those
 * that expected does not claim, and the expected ones too once bound
 * seconds have passed.  Returns 0, or how many were still alive after
 * twice the bound, killed or not (stuck in the kernel, beyond the reach of
 * SIGKILL), for the caller to log.
 */
unsigned reaper_stop(reaper_expected_fn *expected, void *arg, double bound);

/* An exit status that leaves nothing behind: a worker that ended its own way. */
bool reaper_clean_exit(int status);

#endif
