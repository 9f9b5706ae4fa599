/* SPDX-License-Identifier: ISC */
/*
 * What every backend does with an executor, whatever its workers are:
 * the runs of its lease queue here and go to idle workers, the batches of
 * its feed too; a batch cut short (a timeout, a dead worker, a recall)
 * gives back what never started; a stop answers what is left STOPPING.
 * A backend supplies its workers through struct executor_ops: which one
 * is idle, how many queued runs it takes at once, how a batch reaches it,
 * how it is recalled.
 */
#ifndef LP_DAEMON_EXECUTOR_H
#define LP_DAEMON_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/core/config.h"
#include "daemon/core/lease.h"
#include "daemon/core/run.h"

/* What one worker was handed, in order: batch[done] runs, those after it wait. */
struct exec_slot {
	struct run **batch;
	unsigned nbatch, done, cap;
};

/* The backend's worker whose struct exec_slot, named es, s is. */
#define EXEC_SLOT_OWNER(s, type) \
	((type *)(void *)((char *)(s)-offsetof(type, es)))

struct engine;

struct executor_ops {
	/* Slot i's worker (NULL: none yet). */
	struct exec_slot *(*slot)(struct engine *e, unsigned i);
	/* A worker that takes a batch now, or NULL. */
	struct exec_slot *(*idle_slot)(struct engine *e);
	/* How many queued runs s takes in one batch (idle, or by takes_more), at least 1. */
	unsigned (*share)(struct engine *e, struct exec_slot *s);
	/* The most bytes of jobs past the first in one batch. */
	size_t (*batch_bytes)(void);
	/* Hands s the n runs (the engine added them to its batch already). */
	void (*give)(struct engine *e, struct exec_slot *s, struct run **runs,
	    unsigned n);
	/*
	 * May be NULL.  A busy s takes its next batch of queued runs now, to
	 * start it without waiting; hand_more() sends them.
	 */
	bool (*takes_more)(struct engine *e, struct exec_slot *s);
	void (*hand_more)(struct engine *e, struct exec_slot *s,
	    struct run **runs, unsigned n);
	/* s is to stop after the run it runs; what it never started is requeued. */
	void (*recall)(struct engine *e, struct exec_slot *s);
	/*
	 * May be NULL (a thread cannot be stopped).  The run s runs was
	 * cancelled: stop it, and requeue what s never started.
	 */
	void (*interrupt)(struct engine *e, struct exec_slot *s);
	/* May be NULL.  The stop frees e: what of it is the backend's, besides e itself. */
	void (*release)(struct engine *e);
};

/* The engine's half of an executor; a backend's state starts with it. */
struct engine {
	struct executor *ex;
	const struct executor_ops *ops;
	struct run_queue queue; /* the lease's runs, for a worker */
	unsigned nqueued;
	unsigned nslots;
};

void executor_init(struct engine *e, struct executor *ex,
    const struct executor_ops *ops, unsigned nslots);

/* A run of ex's lease: queued, and handed to a worker when one is idle. */
void executor_submit(struct executor *ex, struct run *r);
/* ex's feed has work (nothing while ex is still starting). */
void executor_poke(struct executor *ex);
/* Another user waits at ex's feed: batches due for a recall (feed_recall_due) get one. */
void executor_feed_turn(struct executor *ex);
/* Gives idle workers what is queued, then what the feed has. */
void executor_pump(struct engine *e);

/* The backend's state of pool p, size bytes, zeroed the first time; the stop frees it. */
void *executor_pool_state(struct pool *p, size_t size);

/* n runs after s's others in its batch. */
void exec_slot_add(struct exec_slot *s, struct run **runs, unsigned n);
/* The run s runs now, taken off its batch; NULL when there is none. */
struct run *exec_slot_next(struct exec_slot *s);
/* Forgets what s ran, so that the batch of a busy stream does not grow. */
void exec_slot_forget_done(struct exec_slot *s);
/*
 * s's batch ends before batch[first], which never started: the feed's
 * items go back to the feed, the lease's runs to the head of the queue,
 * in order, to run on another worker.
 */
void executor_requeue(struct engine *e, struct exec_slot *s, unsigned first);

/*
 * r, a run of ex's lease or an item of its feed taken from the feed's
 * queue, is cancelled: answered CANCELLED, and withdrawn from the queue or
 * its worker, or stopped with its worker when the backend can.  Returns
 * how far it had gone.
 */
enum run_cancel executor_cancel(struct executor *ex, struct run *r);

/*
 * The stop: the executors of t's pools of kind lose their engine state
 * (release(), then freed), and their queued runs join stopped.
 */
void executors_stop(struct lease_table *t, enum backend kind,
    struct run_queue *stopped);
/* What s was handed and did not finish joins stopped. */
void exec_slot_stop(struct exec_slot *s, struct run_queue *stopped);
/* Answers the stopped runs STOPPING, in order. */
void executors_answer_stopped(struct run_queue *stopped);

#endif
