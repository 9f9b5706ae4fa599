/* SPDX-License-Identifier: ISC */
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

#include "daemon/backend/backend.h"
#include "daemon/backend/forkserver.h"
#include "daemon/backend/worker.h"
#include "daemon/core/lease.h"
#include "daemon/core/run.h"

/* The process backend's operations (backend.h). */
extern const struct backend_ops procpool_ops;

/* What the fork server tells us, for forkserver_start(). */
extern const struct forkserver_events procpool_forkserver_events;

/*
 * Main's SIGCHLD, for a child other than the fork server: a worker whose
 * fork server died (the daemon is its subreaper) has exited, or something
 * one left running; what such a worker left is killed (reaper.h).
 */
void procpool_child_exited(pid_t pid, int status);
/* A reload: workers forked with other limits are replaced, idle ones at once. */
void procpool_reload(void);

#endif
