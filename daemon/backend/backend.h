/* SPDX-License-Identifier: ISC */
/*
 * What the rest of the daemon asks of an executor's backend, whichever it
 * is: processes forked by the fork server (procpool.c) or threads of the
 * daemon (threadpool.c).  The lease state machine decides; the backend
 * brings workers up and down and runs jobs on them.
 */
#ifndef LP_DAEMON_BACKEND_H
#define LP_DAEMON_BACKEND_H

#include <msgpack.h>

#include "daemon/core/lease.h"
#include "daemon/core/run.h"

struct backend_ops {
	/* Bring the executor's workers up, then call lease_executor_ready(). */
	void (*start_executor)(struct lp_executor *ex);
	/* The executor is free, or still starting, and no longer wanted: let its workers go. */
	void (*stop_executor)(struct lp_executor *ex);
	/* Run r on one of the executor's workers, when one is idle. */
	void (*submit)(struct lp_executor *ex, struct run *r);
	/* The grinder has work for the executor it leased. */
	void (*poke)(struct lp_executor *ex);
	/* Identities of the executor's workers for stats (pids, thread numbers). */
	unsigned (*worker_ids)(const struct lp_executor *ex, int64_t *ids, unsigned max);
	/* Workers busy with a job that was already answered JOB_TIMEOUT (threads cannot be killed). */
	unsigned (*stuck_workers)(const struct lp_pool *p);
	/* Shutdown: answer what is queued or running with STOPPING, stop every worker, free. */
	void (*stop)(void);
};

const struct backend_ops *backend_of(const struct lp_pool *p);

/* Every backend's stop(), at shutdown. */
void backends_stop(void);

#endif
