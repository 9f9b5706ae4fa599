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

#include "daemon/core/config.h"
#include "daemon/core/lease.h"
#include "daemon/core/run.h"

/* The most items a feed hands out at once: the largest batch_size (config.c). */
#define FEED_BATCH_MAX 4096

struct event_base;

/* What the daemon gives every backend at start. */
struct backend_env {
	struct event_base *base;
	/* The running configuration: a reload changes it in place. */
	const struct config *cfg;
	/* Its pools' executors are the backends'; it says when the daemon stops. */
	struct lease_table *leases;
	/* Workers' output was read at now: the loop polls while input comes often. */
	void (*input)(double now);
};

/*
 * Where an executor's batches come from besides the runs of its lease:
 * whoever leases it sets ex->feed (the grinder does); arg is ex->feed_arg.
 * Its items are runs whose grinder is set.
 */
struct lp_executor_feed {
	/*
	 * For an idle worker: a batch to run, when one is due; at most max
	 * items, and past the first at most max_bytes of jobs.
	 */
	unsigned (
	    *take)(void *arg, struct run **out, unsigned max, size_t max_bytes);
	/*
	 * The n items of a batch that never started (their worker was killed,
	 * or they were recalled), in order: queue them again.
	 */
	void (*requeue)(void *arg, struct run **items, unsigned n);
	/*
	 * What is left of a running batch, n items: the one running, then
	 * those not started.  True when those not started are to be recalled
	 * and requeued.  Asked when the feed says another user waits
	 * (executor_feed_turn).
	 */
	bool (*recall_due)(void *arg, struct run *const *items, unsigned n);
};

/* The executor's feed, for its backend; an executor without one has no batches. */
static inline unsigned
feed_take(struct executor *ex, struct run **out, unsigned max, size_t max_bytes)
{
	return ex->feed != NULL ?
	    ex->feed->take(ex->feed_arg, out, max, max_bytes) :
	    0;
}

/* Only items it handed out: the executor has its feed until they are answered. */
static inline void
feed_requeue(struct executor *ex, struct run **items, unsigned n)
{
	ex->feed->requeue(ex->feed_arg, items, n);
}

static inline bool
feed_recall_due(const struct executor *ex, struct run *const *items, unsigned n)
{
	return ex->feed != NULL && ex->feed->recall_due(ex->feed_arg, items, n);
}

struct backend_ops {
	/* Once, before anything else. */
	void (*init)(const struct backend_env *env);
	/* Bring the executor's workers up, then call lease_executor_ready(). */
	void (*start_executor)(struct executor *ex);
	/* The executor is free, or still starting, and no longer wanted: let its workers go. */
	void (*stop_executor)(struct executor *ex);
	/* Identities of the executor's workers for stats (pids, thread numbers). */
	unsigned (
	    *worker_ids)(const struct executor *ex, int64_t *ids, unsigned max);
	/* May be NULL (none ever are).  Workers busy with a job already answered JOB_TIMEOUT. */
	unsigned (*stuck_workers)(const struct pool *p);
	/* Shutdown: answer what is queued or running with STOPPING, stop every worker, free. */
	void (*stop)(void);
};

/* Whoever starts the daemon names the backend of each kind, before backends_init(). */
void backend_register(enum backend kind, const struct backend_ops *ops);

const struct backend_ops *backend_of(const struct pool *p);

/* Every backend's init(). */
void backends_init(const struct backend_env *env);

/* Every backend's stop(), at shutdown. */
void backends_stop(void);

#endif
