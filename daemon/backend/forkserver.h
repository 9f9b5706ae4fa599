/* SPDX-License-Identifier: ISC */
/*
 * The fork server: a small single-threaded process forked at start-up,
 * before any thread exists, that forks every worker process.  Forking from
 * a process that runs threads is unsafe (a lock held by another thread
 * stays held in the child), so the daemon itself never forks a worker.
 *
 * The daemon asks for workers over a SOCK_SEQPACKET channel; the fork
 * server answers with the worker's pid and the daemon's ends of its
 * channel and log pipes (SCM_RIGHTS), and reports every worker's exit status,
 * and the processes it killed that a worker's jobs left (reaper.h).  At a
 * stop it reaps every worker before it exits, and the daemon waits for it.
 * If the fork server dies the daemon starts a new one and asks again for
 * what was not answered; running workers are unaffected (the daemon is
 * their subreaper).  By then the daemon may run threads, so that one is not a
 * mere fork of the daemon: the child execs the daemon's program in its
 * fork-server mode (FORKSERVER_ARG), which loads the job modules again.
 */
#ifndef LP_DAEMON_FORKSERVER_H
#define LP_DAEMON_FORKSERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/backend/worker.h"

struct event_base;

/* argv[1] of the fork-server mode: leasepoold --fork-server FD DAEMON_PID MODULES */
#define FORKSERVER_ARG "--fork-server"

struct forkserver_events {
	/* to, from: the worker's channel (pipes); logfd: its stdout and stderr. */
	void (*spawned)(uint32_t token, pid_t pid, int to, int from, int logfd);
	/* where: "the daemon" or "the fork server", the process the error happened in. */
	void (*spawn_failed)(uint32_t token, int error, const char *where);
	void (*exited)(pid_t pid, int status);
	/* It killed count processes left running by worker pid (0: by workers that ended). */
	void (*leftovers)(pid_t pid, unsigned count);
	/* The fork server died: its workers, and what they leave, are the daemon's children now. */
	void (*died)(void);
	/* The fork server was restarted: every unanswered request is lost; ask again. */
	void (*restarted)(void);
	/* No fork server could be started (error): the workers waiting for one fail to start. */
	void (*unavailable)(int error);
};

/* modules: the list the daemon loaded, for a restarted fork server to load. */
void forkserver_start(struct event_base *base,
    const struct forkserver_events *events, const char *modules);
/* Asks for one worker; the answer comes through spawned or spawn_failed. */
void forkserver_spawn(uint32_t token, const struct worker_limits *limits);
/* The running fork server's pid (the last one's while a restart waits). */
pid_t forkserver_pid(void);
/* pid is the fork server's: a reaper_expected_fn (reaper.h). */
bool forkserver_is(pid_t pid, void *arg);
/* Main's SIGCHLD handler found the fork server dead. */
void forkserver_died(int status);
/* True once a fork server died: the one running now was started without the daemon's privileges. */
bool forkserver_has_died(void);
/*
 * Closes the channel: the fork server reaps its workers and exits.  Waits
 * for that, and for the daemon's own children (workers of a fork server
 * that died, and what they left), killing them past a bound.
 */
void forkserver_stop(void);

/* main() with argv[1] == FORKSERVER_ARG, before anything else: it never returns. */
void forkserver_main(int argc, char **argv) __attribute__((noreturn));

#endif
