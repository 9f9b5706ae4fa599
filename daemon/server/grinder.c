/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/backend/backend.h"
#include "daemon/backend/executor.h"
#include "daemon/core/alloc.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/jobs/exec.h"
#include "daemon/server/conn.h"
#include "daemon/server/grinder.h"
#include "daemon/server/server.h"

/* The grinder's own lease never expires in practice: it lets go when idle. */
#define GRINDER_LEASE_SECONDS 1e9

/* One user's connections in one grinder: the turns go round users, then round a user's connections. */
struct guser {
	struct grinder *g;
	struct user *user;
	/* its connections' queues, whether they hold items or not */
	unsigned nqueues;
	/* its connections' turn order, while they have items */
	TAILQ_HEAD(, gqueue) ring;
	bool in_ring;
	/* the grinder's turn order, while it has items */
	TAILQ_ENTRY(guser) ring_link;
	LIST_ENTRY(guser) link; /* the grinder's users */
};

/* One client's items in one grinder. */
struct gqueue {
	struct grinder *g;
	struct guser *u;
	struct conn *conn;
	struct run_queue items;
	bool in_ring;
	/* its user's turn order, while it has items */
	TAILQ_ENTRY(gqueue) ring_link;
	LIST_ENTRY(gqueue) conn_link; /* c->grinds */
};

struct grinder {
	struct pool *pool;
	struct holder holder; /* the grinder's lease, and its wait for one */
	struct lease *lease;
	bool acquiring;
	LIST_HEAD(, guser) users;
	TAILQ_HEAD(, guser) ring;
	unsigned nring;		  /* users with items queued */
	bool turn_due;		  /* a user joined the ring: see grinder_kick */
	TAILQ_HEAD(, run) by_age; /* every queued item, oldest first */
	unsigned queued;
	/* of them, requeued or short of time: no batch wait */
	unsigned hurried;
	unsigned running;
	struct event *timer; /* batch_wait of the oldest item */
	uint64_t batches;
	uint64_t dispatched;
	uint64_t completed;
	uint64_t failed;
};

static void grinder_kick(struct grinder *g);
static void item_ended(struct run *r, bool ok);

/* An item answers its client as a run on a lease does, then frees its place in the batch. */
static const struct run_owner grinder_item_owner = {
	.result = conn_answer_result,
	.error = conn_answer_error,
	.ended = item_ended,
	.charge = user_charge,
	.uncharge = user_uncharge,
};

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	grinder_kick(arg);
}

void
grinder_init(struct lease_table *t)
{
	for (size_t i = 0; i < t->npools; i++) {
		struct grinder *g = calloc(1, sizeof *g);

		if (g == NULL ||
		    (g->timer = evtimer_new(server.base, on_timer, g)) == NULL)
			fatalx("out of memory");
		g->pool = &t->pools[i];
		lease_holder_init(&g->holder, NULL);
		g->holder.grinder = g;
		g->holder.pid = getpid();
		g->holder.uid = getuid();
		g->holder.gid = getgid();
		LIST_INIT(&g->users);
		TAILQ_INIT(&g->ring);
		TAILQ_INIT(&g->by_age);
		t->pools[i].grinder = g;
	}
}

static struct guser *
guser_of(struct grinder *g, struct user *user)
{
	struct guser *u;

	LIST_FOREACH (u, &g->users, link)
		if (u->user == user)
			return u;
	u = xcalloc(1, sizeof *u);
	u->g = g;
	u->user = user;
	TAILQ_INIT(&u->ring);
	LIST_INSERT_HEAD(&g->users, u, link);
	return u;
}

static struct gqueue *
queue_of(struct grinder *g, struct conn *c)
{
	struct gqueue *q;

	LIST_FOREACH (q, &c->grinds, conn_link)
		if (q->g == g)
			return q;
	q = xcalloc(1, sizeof *q);
	q->g = g;
	q->u = guser_of(g, c->user);
	q->u->nqueues++;
	q->conn = c;
	TAILQ_INIT(&q->items);
	LIST_INSERT_HEAD(&c->grinds, q, conn_link);
	return q;
}

/* q's connection is gone, and with its last connection its user. */
static void
queue_free(struct gqueue *q)
{
	struct guser *u = q->u;

	LIST_REMOVE(q, conn_link);
	free(q);
	if (--u->nqueues == 0) {
		LIST_REMOVE(u, link);
		free(u);
	}
}

static void
ring_join(struct gqueue *q)
{
	struct guser *u = q->u;

	if (!q->in_ring) {
		TAILQ_INSERT_TAIL(&u->ring, q, ring_link);
		q->in_ring = true;
	}
	if (!u->in_ring) {
		TAILQ_INSERT_TAIL(&u->g->ring, u, ring_link);
		u->in_ring = true;
		u->g->nring++;
		u->g->turn_due = true;
	}
}

static void
ring_leave(struct gqueue *q)
{
	struct guser *u = q->u;

	if (q->in_ring) {
		TAILQ_REMOVE(&u->ring, q, ring_link);
		q->in_ring = false;
	}
	if (u->in_ring && TAILQ_EMPTY(&u->ring)) {
		TAILQ_REMOVE(&u->g->ring, u, ring_link);
		u->in_ring = false;
		u->g->nring--;
	}
}

/* The next turn: q's connection, and its user, go to the end of their lines. */
static void
ring_rotate(struct gqueue *q)
{
	struct guser *u = q->u;

	if (q->in_ring) {
		TAILQ_REMOVE(&u->ring, q, ring_link);
		TAILQ_INSERT_TAIL(&u->ring, q, ring_link);
	}
	if (u->in_ring) {
		TAILQ_REMOVE(&u->g->ring, u, ring_link);
		TAILQ_INSERT_TAIL(&u->g->ring, u, ring_link);
	}
}

/* An item is in the deadline heap exactly while it is queued. */
static void
deadline_set(struct run *r, double when)
{
	if (lease_deadline_set(&server.leases, &r->deadline, when))
		server_schedule_soon();
}

/*
 * A queued item that must not wait for batch_wait: it is due now, until a
 * batch takes it, even when the next one fills before reaching it.
 */
static void
hurry(struct grinder *g, struct run *r)
{
	r->hurried = true;
	g->hurried++;
}

void
grinder_submit(struct conn *c, uint32_t msgid, struct pool *pool,
    const struct lp_submit_params *p, double timeout)
{
	struct grinder *g = pool->grinder;
	struct gqueue *q = queue_of(g, c);
	struct run_job job = {
		.fn = p->fn,
		.args = p->args,
		.kwargs = p->kwargs,
		.timeout = timeout,
		.owner = p->has_owner ? p->owner : (struct lp_str){ "", 0 },
		.as_caller = exec_is(p->fn),
	};
	struct run_caller caller = conn_caller(c);
	struct run *r =
	    run_new(&grinder_item_owner, &caller, msgid, pool, NULL, &job);

	r->grinder = g;
	conn_add_run(c, r);
	deadline_set(r, r->accepted + timeout);
	TAILQ_INSERT_TAIL(&q->items, r, queue_link);
	TAILQ_INSERT_TAIL(&g->by_age, r, age_link);
	g->queued++;
	r->queued = true;
	/* Waiting for batch_wait would use up its whole timeout. */
	if (timeout <= pool->cfg.batch_wait)
		hurry(g, r);
	ring_join(q);
	grinder_kick(g);
}

/* Takes r out of the queue, without answering it. */
static void
unqueue(struct gqueue *q, struct run *r)
{
	TAILQ_REMOVE(&q->items, r, queue_link);
	TAILQ_REMOVE(&q->g->by_age, r, age_link);
	lease_deadline_cancel(&server.leases, &r->deadline);
	q->g->queued--;
	r->queued = false;
	if (r->hurried) {
		r->hurried = false;
		q->g->hurried--;
	}
	if (TAILQ_EMPTY(&q->items))
		ring_leave(q);
}

static bool
batch_due(struct grinder *g, double now)
{
	const struct run *oldest = TAILQ_FIRST(&g->by_age);

	return oldest != NULL &&
	    (g->queued >= g->pool->cfg.batch_size || g->hurried > 0 ||
		now - oldest->accepted >= g->pool->cfg.batch_wait);
}

static void
arm_timer(struct grinder *g, double now)
{
	const struct run *oldest = TAILQ_FIRST(&g->by_age);
	double wait;
	struct timeval tv;

	if (oldest == NULL) {
		evtimer_del(g->timer);
		return;
	}
	wait = oldest->accepted + g->pool->cfg.batch_wait - now;
	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)wait;
	tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
	evtimer_add(g->timer, &tv);
}

static void
acquire_executor(struct grinder *g)
{
	struct acquire a = { .owner = "grinder",
		.owner_len = 7,
		.lease_seconds = GRINDER_LEASE_SECONDS,
		.wait = true };
	struct lease *l;
	struct waiter *w;
	struct lp_error err;

	g->acquiring = true;
	if (lease_acquire(g->pool, &g->holder, &a, clock_now(), &l, &w, &err) !=
	    LP_OK) {
		grinder_acquire_failed(&g->holder, &err);
		return;
	}
	if (l != NULL)
		grinder_granted(&g->holder, l);
}

/* With nothing to do, the grinder lets go of its lease, or of its place in line for one. */
static void
release_if_idle(struct grinder *g)
{
	if (g->queued > 0 || g->running > 0)
		return;
	if (g->acquiring) {
		lease_holder_drop(&g->holder, clock_now());
		g->acquiring = false;
	}
	if (g->lease == NULL)
		return;
	lease_release(g->lease, clock_now());
	g->lease = NULL;
}

static void
grinder_kick(struct grinder *g)
{
	if (g->queued == 0) {
		release_if_idle(g);
		return;
	}
	if (g->lease == NULL) {
		if (!g->acquiring)
			acquire_executor(g);
		return;
	}
	executor_poke(g->lease->executor);
	/* What a user who joined the ring now may take back from another's batches. */
	if (g->turn_due) {
		g->turn_due = false;
		executor_feed_turn(g->lease->executor);
	}
	if (g->queued > 0)
		arm_timer(g, clock_now());
}

/*
 * The leased executor's feed (backend.h): for an idle worker of it
 * leased, a batch when one is due; at most max items, and past the first
 * at most max_bytes of jobs.
 */
static unsigned
take_batch(void *arg, struct run **out, unsigned max, size_t max_bytes)
{
	struct grinder *g = arg;
	struct lease *l = g->lease;
	double now = clock_now();
	unsigned n = 0, want;
	size_t bytes = 0;

	if (!batch_due(g, now))
		return 0;
	want = g->pool->cfg.batch_size;
	/*
	 * A batch runs its items one after the other on one worker: with
	 * several users waiting, it holds one item of each, so that one user's
	 * slow items hold another's for one item's time.  One user alone
	 * fills it, one item from each of its connections in turn; what it
	 * has not started when another user comes is recalled
	 * (recall_due).
	 */
	if (g->nring > 1 && want > g->nring)
		want = g->nring;
	if (want > max)
		want = max;
	while (n < want && !TAILQ_EMPTY(&g->ring)) {
		struct gqueue *q = TAILQ_FIRST(&TAILQ_FIRST(&g->ring)->ring);
		struct run *r = TAILQ_FIRST(&q->items);
		struct lp_error err;

		if (n > 0 && bytes + r->len > max_bytes)
			break;
		/* Past its deadline, whose timer is due: that answers it, then kicks us again. */
		if (r->deadline.when <= now)
			break;
		r->timeout = r->deadline.when - now;
		bytes += r->len;
		unqueue(q, r);
		ring_rotate(q);
		if (lease_run_begin(l, now, &err) != LP_OK)
			fatalx("grinder: its own lease refused a run: %s",
			    err.message);
		r->lease = l;
		g->running++;
		out[n++] = r;
	}
	if (n == 0)
		return 0;
	g->batches++;
	g->dispatched += n;
	return n;
}

/* The n items of a batch that never started, in order: they queue again. */
static void
requeue_items(void *arg, struct run **items, unsigned n)
{
	struct grinder *g = arg;

	/* Last first, each to the head of its queue: they keep their order. */
	while (n-- > 0) {
		struct run *r = items[n];
		struct gqueue *q;

		lease_run_end(r->lease, clock_now());
		r->lease = NULL;
		g->running--;
		if (r->conn == NULL) {
			/* Its client is gone: nobody wants it run any more. */
			run_free(r);
			continue;
		}
		q = queue_of(g, r->conn);
		deadline_set(r, r->deadline.when);
		TAILQ_INSERT_HEAD(&q->items, r, queue_link);
		TAILQ_INSERT_HEAD(&g->by_age, r, age_link);
		g->queued++;
		r->queued = true;
		hurry(g, r);
		ring_join(q);
	}
	grinder_kick(g);
}

/*
 * What is left of a running batch, n items (answered ones are freed): the
 * one running, then those not started.  True when they are one user's and
 * another user has items queued, which they would hold for more than one
 * item's time: the backend recalls those not started, and requeues them.
 */
static bool
recall_due(void *arg, struct run *const *items, unsigned n)
{
	const struct grinder *g = arg;
	const struct user *owner;

	if (n < 2 || items[0]->grinder != g || g->nring == 0)
		return false;
	owner = items[0]->user;
	/* A batch taken while several users waited holds one item of each. */
	if (items[1]->user != owner)
		return false;
	return g->nring > 1 || TAILQ_FIRST(&g->ring)->user != owner;
}

static const struct lp_executor_feed grinder_feed = {
	.take = take_batch,
	.requeue = requeue_items,
	.recall_due = recall_due,
};

/* An item was answered. */
static void
item_ended(struct run *r, bool ok)
{
	struct grinder *g = r->grinder;

	g->running--;
	/* A cancelled item was counted so when it was answered. */
	if (!r->cancelled && ok)
		g->completed++;
	else if (!r->cancelled)
		g->failed++;
	release_if_idle(g);
}

void
grinder_granted(struct holder *h, struct lease *l)
{
	struct grinder *g = h->grinder;

	g->acquiring = false;
	g->lease = l;
	/* Its backend takes batches from us; the feed goes when the lease does. */
	l->executor->feed = &grinder_feed;
	l->executor->feed_arg = g;
	log_debug("grinder of pool %s holds lease %llu", g->pool->cfg.name,
	    (unsigned long long)l->id);
	if (g->queued == 0)
		release_if_idle(g);
	else
		grinder_kick(g);
}

/* A queued item is answered err, unrun. */
static void
fail_item(struct grinder *g, struct run *r, const struct lp_error *err)
{
	unqueue(queue_of(g, r->conn), r);
	g->running++; /* run_answer_error() ends it through item_ended() */
	run_answer_error(r, err);
}

/* Every queued item gets err. */
static void
fail_queued(struct grinder *g, const struct lp_error *err)
{
	struct run *r;

	while ((r = TAILQ_FIRST(&g->by_age)) != NULL)
		fail_item(g, r, err);
	evtimer_del(g->timer);
}

void
grinder_deadline(struct deadline *d)
{
	struct run *r = container_of(d, struct run, deadline);
	struct grinder *g = r->grinder;
	struct lp_error err;

	lp_error_set(&err, LP_ERR_TIMEOUT,
	    "no worker of pool '%s' took the submission within its timeout of %.3f s",
	    g->pool->cfg.name, d->when - r->accepted);
	fail_item(g, r, &err);
	grinder_kick(g);
}

enum run_cancel
grinder_cancel(struct run *r)
{
	struct grinder *g = r->grinder;

	if (!r->queued)
		return executor_cancel(r->lease->executor, r);
	unqueue(queue_of(g, r->conn), r);
	g->running++; /* run_discard() ends it through item_ended() */
	run_answer_cancelled(r, RUN_WITHDRAWN);
	run_discard(r);
	grinder_kick(g);
	return RUN_WITHDRAWN;
}

void
grinder_acquire_failed(struct holder *h, const struct lp_error *err)
{
	struct grinder *g = h->grinder;

	g->acquiring = false;
	log_warn("grinder of pool %s: %s", g->pool->cfg.name, err->message);
	fail_queued(g, err);
}

void
grinder_drop_conn(struct conn *c)
{
	struct gqueue *q;
	struct run *r;

	while ((q = LIST_FIRST(&c->grinds)) != NULL) {
		struct grinder *g = q->g;

		while ((r = TAILQ_FIRST(&q->items)) != NULL) {
			unqueue(q, r);
			conn_remove_run(c, r);
			run_free(r);
		}
		ring_leave(q);
		queue_free(q);
		if (g->queued == 0)
			evtimer_del(g->timer);
		release_if_idle(g);
	}
}

void
grinder_stop(struct lease_table *t)
{
	struct lp_error err = { .code = LP_ERR_STOPPING };

	snprintf(err.message, sizeof err.message, "the daemon is stopping");
	for (size_t i = 0; i < t->npools; i++)
		fail_queued(t->pools[i].grinder, &err);
}

void
grinder_free(struct lease_table *t)
{
	grinder_stop(t);
	for (size_t i = 0; i < t->npools; i++) {
		struct grinder *g = t->pools[i].grinder;

		event_free(g->timer);
		free(g);
		t->pools[i].grinder = NULL;
	}
}

void
grinder_pack_stats(msgpack_packer *pk, const struct pool *p, double now)
{
	const struct grinder *g = p->grinder;
	const struct run *oldest = TAILQ_FIRST(&g->by_age);

	msgpack_pack_map(pk, 9);
	lp_pack_kv_u64(pk, "queue", g->queued);
	lp_pack_kv_u64(pk, "running", g->running);
	lp_pack_kv_u64(pk, "batches", g->batches);
	lp_pack_kv_double(pk, "mean_batch",
	    g->batches ? (double)g->dispatched / (double)g->batches : 0);
	lp_pack_kv_u64(pk, "completed", g->completed);
	lp_pack_kv_u64(pk, "failed", g->failed);
	/* With them, how far the queue is from a batch. */
	lp_pack_kv_u64(pk, "batch_size", p->cfg.batch_size);
	lp_pack_kv_double(pk, "batch_wait", p->cfg.batch_wait);
	lp_pack_kv_double(pk, "oldest_wait",
	    oldest != NULL ? now - oldest->accepted : 0);
}
