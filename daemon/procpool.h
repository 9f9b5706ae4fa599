/*
 * The process backend: each executor is `workers` worker processes forked
 * by the fork server.  Runs queue on their executor and go to its idle
 * workers one at a time; a worker that dies is answered for
 * (WORKER_CRASHED with its signal) and replaced, with backoff and a
 * crash-loop guard when workers die before they are ready; a job past its
 * timeout has its worker's whole process group killed.
 */
#ifndef LP_DAEMON_PROCPOOL_H
#define LP_DAEMON_PROCPOOL_H

#include "daemon/forkserver.h"
#include "daemon/lease.h"
#include "daemon/run.h"
#include "daemon/worker.h"

struct event_base;

/* What the fork server tells us, for forkserver_start(). */
extern const struct forkserver_events procpool_forkserver_events;

void procpool_init(struct event_base *base);
void procpool_start_executor(struct lp_executor *ex);
void procpool_submit(struct lp_executor *ex, struct run *r);
/* The grinder has work for the executor it leased: let idle workers take it. */
void procpool_poke(struct lp_executor *ex);
/* The pids of the executor's live workers, at most max of them; returns how many. */
unsigned procpool_worker_pids(const struct lp_executor *ex, pid_t *pids, unsigned max);
/* Main's SIGCHLD: a worker that was re-parented to us has exited. */
void procpool_reaped(pid_t pid, int status);
/* Shutdown: answers what is still queued or running, stops every worker, frees all. */
void procpool_stop(void);

#endif
