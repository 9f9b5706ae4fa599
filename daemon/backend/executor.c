/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/backend/backend.h"
#include "daemon/backend/executor.h"
#include "daemon/core/alloc.h"

void
executor_init(struct engine *e, struct executor *ex,
    const struct executor_ops *ops, unsigned nslots)
{
	e->ex = ex;
	e->ops = ops;
	TAILQ_INIT(&e->queue);
	e->nqueued = 0;
	e->nslots = nslots;
}

void
exec_slot_add(struct exec_slot *s, struct run **runs, unsigned n)
{
	if (s->nbatch + n > s->cap) {
		s->cap = s->nbatch + n;
		s->batch = xreallocarray(s->batch, s->cap, sizeof *s->batch);
	}
	memcpy(s->batch + s->nbatch, runs, n * sizeof *runs);
	s->nbatch += n;
}

struct run *
exec_slot_next(struct exec_slot *s)
{
	if (s->done == s->nbatch)
		return NULL;
	return s->batch[s->done++];
}

void
exec_slot_forget_done(struct exec_slot *s)
{
	memmove(s->batch, s->batch + s->done,
	    (s->nbatch - s->done) * sizeof *s->batch);
	s->nbatch -= s->done;
	s->done = 0;
}

/*
 * At most max of the queued runs, off the queue into batch; how many.  A
 * batch past its first run stops short of the backend's byte limit.
 */
static unsigned
take_queued(struct engine *e, struct run **batch, unsigned max)
{
	size_t bytes = 0, limit = e->ops->batch_bytes();
	unsigned i;

	for (i = 0; i < max && e->nqueued > 0; i++) {
		struct run *r = TAILQ_FIRST(&e->queue);

		if (i > 0 && bytes + r->len > limit)
			break;
		bytes += r->len;
		batch[i] = r;
		TAILQ_REMOVE(&e->queue, r, queue_link);
		e->nqueued--;
		r->queued = false;
	}
	return i;
}

static void
give(struct engine *e, struct exec_slot *s, struct run **runs, unsigned n)
{
	s->nbatch = s->done = 0;
	exec_slot_add(s, runs, n);
	e->ops->give(e, s, runs, n);
}

/*
 * Another user's items wait at the feed: a batch that would hold them for
 * more than one item's time gives back what it has not started.  Only at
 * that turn, not at every pump: at every submission, a walk over every
 * worker costs the grinder in proportion to the workers (bench/README.md).
 * Not while a worker is idle: the pump has just given it what waits.
 */
void
executor_feed_turn(struct executor *ex)
{
	struct engine *e = ex->backend;

	if (e == NULL || e->ops->idle_slot(e) != NULL)
		return;
	for (unsigned i = 0; i < e->nslots; i++) {
		struct exec_slot *s = e->ops->slot(e, i);

		if (s != NULL && s->done < s->nbatch &&
		    feed_recall_due(e->ex, s->batch + s->done,
			s->nbatch - s->done))
			e->ops->recall(e, s);
	}
}

void
executor_pump(struct engine *e)
{
	struct run *batch[FEED_BATCH_MAX];
	struct exec_slot *s;
	unsigned n, share;

	while (e->nqueued > 0 && (s = e->ops->idle_slot(e)) != NULL) {
		share = e->ops->share(e, s);
		n = take_queued(e, batch,
		    share < FEED_BATCH_MAX ? share : FEED_BATCH_MAX);
		give(e, s, batch, n);
	}
	for (unsigned i = 0;
	     e->ops->takes_more != NULL && i < e->nslots && e->nqueued > 0;
	     i++) {
		s = e->ops->slot(e, i);
		if (s == NULL || !e->ops->takes_more(e, s))
			continue;
		share = e->ops->share(e, s);
		n = take_queued(e, batch,
		    share < FEED_BATCH_MAX ? share : FEED_BATCH_MAX);
		exec_slot_add(s, batch, n);
		e->ops->hand_more(e, s, batch, n);
	}
	/* An executor with a feed (a grinder leased it) takes a batch per idle worker. */
	while ((s = e->ops->idle_slot(e)) != NULL &&
	    (n = feed_take(e->ex, batch, FEED_BATCH_MAX,
		 e->ops->batch_bytes())) > 0)
		give(e, s, batch, n);
}

void
executor_submit(struct executor *ex, struct run *r)
{
	struct engine *e = ex->backend;

	TAILQ_INSERT_TAIL(&e->queue, r, queue_link);
	e->nqueued++;
	r->queued = true;
	executor_pump(e);
}

void
executor_poke(struct executor *ex)
{
	if (ex->backend != NULL)
		executor_pump(ex->backend);
}

void *
executor_pool_state(struct pool *p, size_t size)
{
	if (p->backend == NULL)
		p->backend = xcalloc(1, size);
	return p->backend;
}

void
executor_requeue(struct engine *e, struct exec_slot *s, unsigned first)
{
	unsigned n = s->nbatch - first;

	if (first >= s->nbatch)
		return;
	/*
	 * A batch is all runs of the lease, or all items of the feed.  They
	 * leave the batch first: the feed pumps again, and s must not be found
	 * holding them.  Their pointers stay where they are: s is not idle, so
	 * nothing is added to its batch meanwhile.
	 */
	if (s->batch[first]->grinder != NULL) {
		s->nbatch = first;
		feed_requeue(e->ex, s->batch + first, n);
		return;
	}
	while (s->nbatch > first) {
		struct run *r = s->batch[--s->nbatch];

		if (r->cancelled) {
			run_discard(r);
			continue;
		}
		TAILQ_INSERT_HEAD(&e->queue, r, queue_link);
		e->nqueued++;
		r->queued = true;
	}
}

/* The slot whose batch holds r, not answered yet, and where; NULL if none. */
static struct exec_slot *
slot_holding(struct engine *e, const struct run *r, unsigned *at)
{
	for (unsigned i = 0; i < e->nslots; i++) {
		struct exec_slot *s = e->ops->slot(e, i);

		for (unsigned j = s != NULL ? s->done : 0;
		     s != NULL && j < s->nbatch; j++) {
			if (s->batch[j] == r) {
				*at = j;
				return s;
			}
		}
	}
	return NULL;
}

/*
 * Whether stopping r's worker costs no one but r's client: what the batch
 * has not started goes back to the queue, but a feed's batch may hold
 * another client's items, who must not wait for a worker to restart.
 */
static bool
alone_in_batch(const struct exec_slot *s, const struct run *r)
{
	for (unsigned j = s->done + 1; r->grinder != NULL && j < s->nbatch; j++)
		if (s->batch[j]->conn != r->conn && !s->batch[j]->cancelled)
			return false;
	return true;
}

enum run_cancel
executor_cancel(struct executor *ex, struct run *r)
{
	struct engine *e = ex->backend;
	struct exec_slot *s;
	unsigned at;

	if (r->queued) {
		TAILQ_REMOVE(&e->queue, r, queue_link);
		e->nqueued--;
		r->queued = false;
		run_answer_cancelled(r, RUN_WITHDRAWN);
		run_discard(r);
		return RUN_WITHDRAWN;
	}
	/* Its worker died and left its slot: the exit status will answer it. */
	if (e == NULL || (s = slot_holding(e, r, &at)) == NULL) {
		run_answer_cancelled(r, RUN_DISCARDED);
		return RUN_DISCARDED;
	}
	if (at > s->done) {
		/* The worker has it, not started: a recall brings it back, and it goes. */
		run_answer_cancelled(r, RUN_WITHDRAWN);
		e->ops->recall(e, s);
		return RUN_WITHDRAWN;
	}
	if (e->ops->interrupt == NULL || !alone_in_batch(s, r)) {
		run_answer_cancelled(r, RUN_DISCARDED);
		return RUN_DISCARDED;
	}
	run_answer_cancelled(r, RUN_STOPPED);
	e->ops->interrupt(e, s);
	return RUN_STOPPED;
}

void
executors_stop(struct lease_table *t, enum backend kind,
    struct run_queue *stopped)
{
	for (size_t i = 0; i < t->npools; i++) {
		struct pool *p = &t->pools[i];
		struct executor *ex;

		if (p->cfg.backend != kind)
			continue;
		TAILQ_FOREACH (ex, &p->executors, link) {
			struct engine *e = ex->backend;

			if (e == NULL)
				continue;
			TAILQ_CONCAT(stopped, &e->queue, queue_link);
			if (e->ops->release != NULL)
				e->ops->release(e);
			free(e);
			ex->backend = NULL;
		}
		free(p->backend);
		p->backend = NULL;
	}
}

void
exec_slot_stop(struct exec_slot *s, struct run_queue *stopped)
{
	struct run *r;

	while ((r = exec_slot_next(s)) != NULL)
		TAILQ_INSERT_TAIL(stopped, r, queue_link);
}

void
executors_answer_stopped(struct run_queue *stopped)
{
	struct lp_error err = { .code = LP_ERR_STOPPING };
	struct run *r;

	snprintf(err.message, sizeof err.message,
	    "the daemon stopped before the job finished");
	while ((r = TAILQ_FIRST(stopped)) != NULL) {
		TAILQ_REMOVE(stopped, r, queue_link);
		run_answer_error(r, &err);
	}
}
