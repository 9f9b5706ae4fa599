/* SPDX-License-Identifier: ISC */
/*
 * The lease state machine, driven with a simulated clock: granting,
 * first-come-first-served waiting, acquire timeouts, soft and hard expiry,
 * draining, holders that go away, growth up to executors_max, failing
 * pools, stopping, and a long pseudo-random run.  After every step the
 * pool's counts are checked against its lists (so a count that wrapped
 * below zero shows), and every live deadline against the heap.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon/core/config.h"
#include "daemon/core/lease.h"
#include "tests/suites.h"

/* One executor: a second acquirer waits. */
#define ONE_EXECUTOR \
	"[pool cpu]\nexecutors_min = 1\nexecutors_max = 1\nworkers = 1\n" \
	"lease_seconds = 10\ngrace_seconds = 5\n"
/* Two executors, one started at once. */
#define ONE_TO_TWO \
	"[pool cpu]\nexecutors_min = 1\nexecutors_max = 2\nworkers = 1\n" \
	"lease_seconds = 10\ngrace_seconds = 5\n"
/* Nothing started until somebody waits. */
#define ZERO_TO_THREE \
	"[pool cpu]\nexecutors_min = 0\nexecutors_max = 3\nworkers = 1\n" \
	"lease_seconds = 10\ngrace_seconds = 5\n"
/* Two pools. */
#define TWO_POOLS \
	ONE_EXECUTOR \
	"[pool io]\nexecutors_min = 1\nexecutors_max = 1\nworkers = 1\n"

#define RECORDS_MAX 4096

struct grant_record {
	uint32_t tag;
	struct holder *holder;
	struct lease *lease; /* valid until released and drained */
	uint64_t lease_id;
};

struct failure_record {
	uint32_t tag;
	struct holder *holder;
	enum lp_err code;
	char message[LP_ERROR_MESSAGE_MAX];
};

/* What the state machine told us, in order. */
struct recorder {
	struct grant_record grants[RECORDS_MAX];
	size_t ngrants;
	struct failure_record failures[RECORDS_MAX];
	size_t nfailures;
	uint64_t expired_ids[RECORDS_MAX];
	size_t nexpired;
	struct executor *started[RECORDS_MAX];
	size_t nstarted;
	size_t nready; /* started[0 .. nready) are up */
	/* retired by adaptive sizing, or withdrawn by a stop */
	size_t nstopped;
	struct deadline *mine[RECORDS_MAX]; /* the test's own deadlines */
	size_t nmine;
	struct deadline *passed[RECORDS_MAX]; /* of them, those handed back */
	size_t npassed;
	size_t nchanged; /* deadlines_changed */
};

static struct fixture {
	struct config cfg;
	struct lease_table table;
	struct pool *pool; /* the first pool, "cpu" */
	struct holder alice, bob, carol;
	struct recorder rec;
	bool running;
} fx;

static void check_table(void);

/*
 * What is wrong with an executor in its state, or NULL.  (Plain tests here
 * and ck_abort_msg() on failure: every Check assertion costs a write, and
 * this runs after every step.)
 */
static const char *
executor_problem(const struct executor *ex, const struct pool *p)
{
	const struct lease *l = ex->lease;

	if (ex->pool != p)
		return "in the wrong pool";
	switch (ex->state) {
	case EXECUTOR_STARTING:
	case EXECUTOR_FREE:
		return l != NULL ? "holds a lease while starting or free" :
				   NULL;
	case EXECUTOR_LEASED:
		if (l == NULL || l->executor != ex)
			return "leased without its lease";
		if (l->state != LEASE_ACTIVE || l->holder == NULL)
			return "leased to a lease that ended";
		if (!heap_contains(&l->deadline) ||
		    l->deadline.when != l->hard_expiry)
			return "its lease has no deadline at its hard expiry";
		if (l->soft_expiry > l->hard_expiry)
			return "its lease's soft expiry is after its hard expiry";
		return NULL;
	case EXECUTOR_DRAINING:
		if (l == NULL || l->executor != ex)
			return "draining without its lease";
		if (l->state == LEASE_ACTIVE || l->runs == 0)
			return "draining a lease that is active or has no run";
		if (heap_contains(&l->deadline))
			return "draining a lease that still has a deadline";
		return NULL;
	}
	return "in no known state";
}

/* Counts are what the lists say; lists are what the states say. */
static void
check_pool(const struct pool *p)
{
	const struct executor *ex;
	const struct waiter *w;
	const char *problem;
	unsigned total = 0, starting = 0, idle = 0, leased = 0, active = 0;
	unsigned listed_free = 0, waiting = 0;

	TAILQ_FOREACH (ex, &p->executors, link) {
		if ((problem = executor_problem(ex, p)) != NULL)
			ck_abort_msg("executor %u (state %d) %s", ex->id,
			    (int)ex->state, problem);
		if (ex->reserved != NULL && ex->reserved->reserved != ex)
			ck_abort_msg(
			    "executor %u reserved for a waiter that is not",
			    ex->id);
		total++;
		starting += ex->state == EXECUTOR_STARTING;
		idle += ex->state == EXECUTOR_FREE;
		leased += ex->state == EXECUTOR_LEASED ||
		    ex->state == EXECUTOR_DRAINING;
		active += ex->state == EXECUTOR_LEASED;
	}
	TAILQ_FOREACH (ex, &p->free, free_link) {
		if (ex->state != EXECUTOR_FREE)
			ck_abort_msg("executor %u on the free list in state %d",
			    ex->id, (int)ex->state);
		listed_free++;
	}
	TAILQ_FOREACH (w, &p->waiters, pool_link) {
		if (w->pool != p)
			ck_abort_msg("waiter %u in the wrong pool",
			    (unsigned)w->tag);
		if (w->reserved != NULL &&
		    (w->reserved->reserved != w ||
			w->reserved->state != EXECUTOR_STARTING))
			ck_abort_msg(
			    "waiter %u reserved an executor not starting for it",
			    (unsigned)w->tag);
		waiting++;
	}
	if (p->nexecutors != total || p->nstarting != starting ||
	    p->nfree != idle || p->nfree != listed_free ||
	    lease_pool_leased(p) != leased || p->nwaiters != waiting)
		ck_abort_msg(
		    "pool '%s' counts: nexecutors %u (counted %u), nstarting %u (%u), "
		    "nfree %u (%u, %u listed), leased %u (%u), nwaiters %u (%u)",
		    p->cfg.name, p->nexecutors, total, p->nstarting, starting,
		    p->nfree, idle, listed_free, lease_pool_leased(p), leased,
		    p->nwaiters, waiting);
	if (p->nfree + lease_pool_leased(p) + p->nstarting != p->nexecutors ||
	    p->nexecutors > p->cfg.executors_max)
		ck_abort_msg(
		    "pool '%s': %u free + %u leased + %u starting of %u, at most %u",
		    p->cfg.name, p->nfree, lease_pool_leased(p), p->nstarting,
		    p->nexecutors, p->cfg.executors_max);
	/* Nobody waits while an executor is free. */
	if (p->nfree > 0 && p->nwaiters > 0)
		ck_abort_msg("pool '%s': %u waiting while %u free", p->cfg.name,
		    p->nwaiters, p->nfree);
	/* Every lease granted has ended once, or is still active. */
	if (p->counters.granted !=
	    p->counters.released + p->counters.expired + active)
		ck_abort_msg(
		    "pool '%s': granted %llu != released %llu + expired %llu + active %u",
		    p->cfg.name, (unsigned long long)p->counters.granted,
		    (unsigned long long)p->counters.released,
		    (unsigned long long)p->counters.expired, active);
}

/*
 * Every pool is consistent, and the heap holds exactly the active leases'
 * hard expiries and the waiters' timeouts, its top the earliest of them.
 */
static void
check_table(void)
{
	const struct lease_table *t = &fx.table;
	size_t deadlines = 0;
	double earliest = 0;

	for (size_t i = 0; i < t->npools; i++) {
		const struct pool *p = &t->pools[i];
		const struct executor *ex;
		const struct waiter *w;

		check_pool(p);
		TAILQ_FOREACH (ex, &p->executors, link) {
			if (ex->state == EXECUTOR_LEASED) {
				if (deadlines++ == 0 ||
				    ex->lease->hard_expiry < earliest)
					earliest = ex->lease->hard_expiry;
			}
			/* Only a free executor waits to be retired. */
			if (heap_contains(&ex->idle)) {
				ck_assert_int_eq(ex->state, EXECUTOR_FREE);
				if (deadlines++ == 0 ||
				    ex->idle.when < earliest)
					earliest = ex->idle.when;
			}
		}
		TAILQ_FOREACH (w, &p->waiters, pool_link)
			if (heap_contains(&w->deadline)) {
				if (deadlines++ == 0 ||
				    w->deadline.when < earliest)
					earliest = w->deadline.when;
			}
	}
	for (size_t i = 0; i < fx.rec.nmine; i++)
		if (heap_contains(fx.rec.mine[i])) {
			if (deadlines++ == 0 || fx.rec.mine[i]->when < earliest)
				earliest = fx.rec.mine[i]->when;
		}
	if (t->deadlines.len != deadlines)
		ck_abort_msg("%zu deadlines in the heap, %zu live",
		    t->deadlines.len, deadlines);
	if (deadlines > 0 && heap_top(&t->deadlines)->when != earliest)
		ck_abort_msg("earliest deadline %g, heap top %g", earliest,
		    heap_top(&t->deadlines)->when);
}

static void
on_granted(struct waiter *w, struct lease *l, void *arg)
{
	struct recorder *r = arg;
	struct grant_record *g;

	ck_assert_uint_lt(r->ngrants, RECORDS_MAX);
	ck_assert_ptr_eq(l->holder, w->holder);
	ck_assert_ptr_eq(l->pool, w->pool);
	ck_assert_int_eq(l->state, LEASE_ACTIVE);
	ck_assert_str_eq(l->owner, w->owner);
	/* The waiter is freed after this call: keep copies. */
	g = &r->grants[r->ngrants++];
	g->tag = w->tag;
	g->holder = w->holder;
	g->lease = l;
	g->lease_id = l->id;
	check_table();
}

static void
on_waiter_failed(struct waiter *w, const struct lp_error *err, void *arg)
{
	struct recorder *r = arg;
	struct failure_record *f;

	ck_assert_uint_lt(r->nfailures, RECORDS_MAX);
	ck_assert_int_ne(err->code, LP_OK);
	f = &r->failures[r->nfailures++];
	f->tag = w->tag;
	f->holder = w->holder;
	f->code = err->code;
	snprintf(f->message, sizeof f->message, "%s", err->message);
	check_table();
}

static void
on_expired(struct lease *l, void *arg)
{
	struct recorder *r = arg;

	ck_assert_uint_lt(r->nexpired, RECORDS_MAX);
	ck_assert_int_eq(l->state, LEASE_EXPIRED);
	ck_assert(!heap_contains(&l->deadline));
	for (size_t i = 0; i < r->nexpired; i++)
		ck_assert_uint_ne(r->expired_ids[i], l->id);
	r->expired_ids[r->nexpired++] = l->id;
}

static void
on_start_executor(struct executor *ex, void *arg)
{
	struct recorder *r = arg;

	ck_assert_uint_lt(r->nstarted, RECORDS_MAX);
	ck_assert_int_eq(ex->state, EXECUTOR_STARTING);
	ck_assert_ptr_null(ex->lease);
	r->started[r->nstarted++] = ex;
	check_table();
}

static void
on_stop_executor(struct executor *ex, void *arg)
{
	struct recorder *r = arg;

	/* Free above the target, or still starting when the table stops. */
	ck_assert(ex->state == EXECUTOR_FREE ||
	    (ex->state == EXECUTOR_STARTING && ex->pool->table->stopping));
	ck_assert_ptr_null(ex->lease);
	r->nstopped++;
}

static void
on_deadline(struct deadline *d, void *arg)
{
	struct recorder *r = arg;

	ck_assert_uint_lt(r->npassed, RECORDS_MAX);
	ck_assert(!heap_contains(d));
	r->passed[r->npassed++] = d;
}

static void
on_deadlines_changed(void *arg)
{
	struct recorder *r = arg;

	r->nchanged++;
}

static const struct lease_events recording_events = {
	.granted = on_granted,
	.waiter_failed = on_waiter_failed,
	.expired = on_expired,
	.start_executor = on_start_executor,
	.stop_executor = on_stop_executor,
	.deadline = on_deadline,
	.deadlines_changed = on_deadlines_changed,
};

/* The backend brings up the next executor it was asked for. */
static void
bring_up_one(double now)
{
	ck_assert_uint_lt(fx.rec.nready, fx.rec.nstarted);
	lease_executor_ready(fx.rec.started[fx.rec.nready++], now);
	check_table();
}

static void
bring_up_all(double now)
{
	while (fx.rec.nready < fx.rec.nstarted)
		bring_up_one(now);
}

/* A table on the configuration text, warmed: its first executors are still starting. */
static void
start_table_cold(const char *ini)
{
	char err[512];

	ck_assert_msg(
	    config_load_string(&fx.cfg, ini, "test.conf", err, sizeof err) == 0,
	    "%s", err);
	memset(&fx.rec, 0, sizeof fx.rec);
	lease_table_init(&fx.table, &fx.cfg, &recording_events, &fx.rec);
	fx.running = true;
	fx.pool = &fx.table.pools[0];
	lease_holder_init(&fx.alice, &fx.alice);
	lease_holder_init(&fx.bob, &fx.bob);
	lease_holder_init(&fx.carol, &fx.carol);
	lease_table_warm(&fx.table, 0);
	check_table();
}

/* The same, with the first executors up (at time 0). */
static void
start_table(const char *ini)
{
	start_table_cold(ini);
	bring_up_all(0);
}

/* Holders go first, as connections do, so nothing is left behind. */
static void
teardown(void)
{
	if (!fx.running)
		return;
	lease_holder_drop(&fx.alice, 1e9);
	lease_holder_drop(&fx.bob, 1e9);
	lease_holder_drop(&fx.carol, 1e9);
	lease_table_free(&fx.table);
	fx.running = false;
}

/* lease_acquire, holding it to its contract: one result, or an error and none. */
static enum lp_err
acquire_with(struct holder *h, const struct acquire *req, double now,
    struct lease **lease, struct lp_error *err)
{
	struct waiter *waiter = (void *)1;
	enum lp_err rc;

	*lease = (void *)1;
	rc = lease_acquire(fx.pool, h, req, now, lease, &waiter, err);
	if (rc == LP_OK) {
		ck_assert_msg((*lease == NULL) != (waiter == NULL),
		    "granted or queued: one of the two");
	} else {
		ck_assert_ptr_null(*lease);
		ck_assert_ptr_null(waiter);
		ck_assert_int_eq(err->code, rc);
	}
	check_table();
	return rc;
}

/* Granted at once, for lease_seconds (0: the pool's). */
static struct lease *
acquire_now(struct holder *h, double lease_seconds, double now)
{
	struct acquire req = { .wait = false, .lease_seconds = lease_seconds };
	struct lease *l;
	struct lp_error err;

	ck_assert_int_eq(acquire_with(h, &req, now, &l, &err), LP_OK);
	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_eq(lease_find(h, l->id), l);
	return l;
}

/* Queued; the answer comes through the recorder under tag. */
static void
acquire_queued(struct holder *h, uint32_t tag, double timeout, double now)
{
	struct acquire req = { .wait = true, .timeout = timeout, .tag = tag };
	size_t ngrants = fx.rec.ngrants;
	struct lease *l;
	struct lp_error err;

	ck_assert_int_eq(acquire_with(h, &req, now, &l, &err), LP_OK);
	ck_assert_ptr_null(l);
	ck_assert_uint_eq(fx.rec.ngrants, ngrants);
}

/* Refused at once with code; the message goes to err.  The timeout checks
 * that a refused acquire leaves no deadline behind. */
static void
acquire_refused(struct holder *h, bool wait, double now, enum lp_err code,
    struct lp_error *err)
{
	struct acquire req = { .wait = wait, .timeout = 5 };
	struct lease *l;

	ck_assert_int_eq(acquire_with(h, &req, now, &l, err), code);
}

static void
release(struct lease *l, double now)
{
	struct holder *h = l->holder;
	uint64_t id = l->id;

	lease_release(l, now);
	ck_assert_ptr_null(lease_find(h, id));
	check_table();
}

static void
run_accepted(struct lease *l, double now)
{
	struct lp_error err;

	ck_assert_int_eq(lease_run_begin(l, now, &err), LP_OK);
	check_table();
}

static void
run_refused(struct lease *l, double now)
{
	struct lp_error err;

	ck_assert_int_eq(lease_run_begin(l, now, &err), LP_ERR_LEASE_EXPIRED);
	ck_assert_int_eq(err.code, LP_ERR_LEASE_EXPIRED);
	ck_assert_int_eq(l->state, LEASE_EXPIRED);
	check_table();
}

static void
run_end(struct lease *l, double now)
{
	lease_run_end(l, now);
	check_table();
}

static double
advance(double now)
{
	double next = lease_table_advance(&fx.table, now);

	check_table();
	ck_assert_msg(next == 0 || next > now,
	    "next deadline %g is not after %g", next, now);
	return next;
}

static void
assert_counters(const struct pool *p, struct pool_counters want)
{
	ck_assert_uint_eq(p->counters.granted, want.granted);
	ck_assert_uint_eq(p->counters.released, want.released);
	ck_assert_uint_eq(p->counters.expired, want.expired);
	ck_assert_uint_eq(p->counters.acquire_timeouts, want.acquire_timeouts);
	ck_assert_uint_eq(p->counters.unavailable, want.unavailable);
}

static void
assert_mentions(const char *text, const char *part)
{
	ck_assert_msg(strstr(text, part) != NULL, "'%s' does not mention '%s'",
	    text, part);
}

static const struct grant_record *
last_grant(void)
{
	ck_assert_uint_gt(fx.rec.ngrants, 0);
	return &fx.rec.grants[fx.rec.ngrants - 1];
}

START_TEST(test_warm_starts_executors_min)
{
	start_table_cold("[pool cpu]\nexecutors_min = 2\nexecutors_max = 3\n");
	ck_assert_uint_eq(fx.rec.nstarted, 2);
	ck_assert_uint_eq(fx.pool->nexecutors, 2);
	ck_assert_uint_eq(fx.pool->nstarting, 2);
	ck_assert_uint_ne(fx.rec.started[0]->id, fx.rec.started[1]->id);
	ck_assert_ptr_eq(fx.rec.started[0]->pool, fx.pool);

	bring_up_all(1);
	ck_assert_uint_eq(fx.pool->nfree, 2);
	ck_assert_uint_eq(fx.pool->nstarting, 0);
	ck_assert_int_eq(fx.rec.started[0]->state, EXECUTOR_FREE);

	lease_table_warm(&fx.table, 0); /* already warm: nothing more */
	ck_assert_uint_eq(fx.rec.nstarted, 2);
}
END_TEST

/*
 * An executor coming up may be granted to a waiter (a lease expiry) or set
 * an idle deadline: the table says so, and the backend need not.
 */
START_TEST(test_executor_ready_changes_deadlines)
{
	start_table_cold("[pool cpu]\nexecutors_min = 1\n");
	acquire_queued(&fx.alice, 1, 0, 0); /* it waits for the executor */
	ck_assert_uint_eq(fx.rec.nchanged, 0);
	bring_up_one(1);
	ck_assert_uint_eq(fx.rec.ngrants, 1);
	ck_assert_uint_eq(fx.rec.nchanged, 1);
}
END_TEST

START_TEST(test_acquire_granted_at_once)
{
	struct acquire req = { .owner = "nightly-build", .owner_len = 13 };
	struct lease *l;
	struct lp_error err;

	start_table(ONE_TO_TWO);
	ck_assert_int_eq(acquire_with(&fx.alice, &req, 3, &l, &err), LP_OK);
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_ne(l->id, 0);
	ck_assert_int_eq(l->state, LEASE_ACTIVE);
	ck_assert_ptr_eq(l->holder, &fx.alice);
	ck_assert_ptr_eq(l->pool, fx.pool);
	ck_assert_ptr_eq(l->executor, fx.rec.started[0]);
	ck_assert_int_eq(l->executor->state, EXECUTOR_LEASED);
	ck_assert_ptr_eq(l->executor->lease, l);
	ck_assert_str_eq(l->owner, "nightly-build");
	ck_assert(l->acquired == 3);
	ck_assert(l->soft_expiry == 13); /* the pool's 10 s */
	ck_assert(l->hard_expiry == 18); /* and 5 s of grace */
	ck_assert_uint_eq(l->runs, 0);
	ck_assert_ptr_eq(TAILQ_FIRST(&fx.alice.leases), l);
	ck_assert_uint_eq(lease_pool_leased(fx.pool), 1);
	assert_counters(fx.pool, (struct pool_counters){ .granted = 1 });
}
END_TEST

START_TEST(test_acquire_own_lease_seconds)
{
	struct lease *l;

	start_table(ONE_TO_TWO);
	l = acquire_now(&fx.alice, 2.5, 100);
	ck_assert(l->soft_expiry == 102.5);
	ck_assert(l->hard_expiry == 107.5);
}
END_TEST

START_TEST(test_owner_copied_and_bounded)
{
	char longname[LP_OWNER_MAX + 50];
	struct acquire req = { .owner = "batch-7 and more", .owner_len = 7 };
	struct lease *l;
	struct lp_error err;

	start_table("[pool cpu]\nexecutors_min = 3\nexecutors_max = 3\n");
	ck_assert_int_eq(acquire_with(&fx.alice, &req, 0, &l, &err), LP_OK);
	ck_assert_str_eq(l->owner,
	    "batch-7"); /* owner_len bytes, not up to NUL */

	memset(longname, 'o', sizeof longname);
	req.owner = longname;
	req.owner_len = sizeof longname;
	ck_assert_int_eq(acquire_with(&fx.alice, &req, 0, &l, &err), LP_OK);
	ck_assert_uint_eq(strlen(l->owner), LP_OWNER_MAX);

	req.owner = NULL;
	req.owner_len = 0;
	ck_assert_int_eq(acquire_with(&fx.alice, &req, 0, &l, &err), LP_OK);
	ck_assert_str_eq(l->owner, "");
}
END_TEST

START_TEST(test_pool_lookup)
{
	start_table(TWO_POOLS);
	ck_assert_ptr_eq(lease_table_pool(&fx.table, "cpu", 3),
	    &fx.table.pools[0]);
	ck_assert_ptr_eq(lease_table_pool(&fx.table, "io", 2),
	    &fx.table.pools[1]);
	ck_assert_ptr_eq(lease_table_pool(&fx.table, "cpus", 3),
	    &fx.table.pools[0]);
	ck_assert_ptr_null(lease_table_pool(&fx.table, "cpus", 4));
	ck_assert_ptr_null(lease_table_pool(&fx.table, "cp", 2));
	ck_assert_ptr_null(lease_table_pool(&fx.table, "", 0));
	ck_assert_str_eq(fx.table.pools[1].cfg.name, "io");
}
END_TEST

START_TEST(test_unavailable_without_wait)
{
	struct lp_error err;

	start_table(ONE_EXECUTOR);
	acquire_now(&fx.alice, 0, 0);
	acquire_refused(&fx.bob, false, 1, LP_ERR_UNAVAILABLE, &err);
	assert_mentions(err.message, "'cpu'");
	acquire_refused(&fx.alice, false, 1, LP_ERR_UNAVAILABLE, &err);
	ck_assert_ptr_null(TAILQ_FIRST(&fx.bob.leases));
	ck_assert_ptr_null(TAILQ_FIRST(&fx.bob.waiters));
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = 1, .unavailable = 2 });
}
END_TEST

START_TEST(test_waiter_granted_on_release)
{
	struct lease *l;
	const struct grant_record *g;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	acquire_queued(&fx.bob, 7, 0, 1);
	ck_assert_uint_eq(fx.pool->nwaiters, 1);
	advance(2.5);
	ck_assert_uint_eq(fx.rec.ngrants, 0);

	release(l, 3);
	ck_assert_uint_eq(fx.rec.ngrants, 1);
	g = last_grant();
	ck_assert_uint_eq(g->tag, 7);
	ck_assert_ptr_eq(g->holder, &fx.bob);
	ck_assert_ptr_eq(lease_find(&fx.bob, g->lease_id), g->lease);
	ck_assert_ptr_null(lease_find(&fx.alice, g->lease_id));
	/* The term starts when the lease is granted, not when it was asked for. */
	ck_assert(g->lease->acquired == 3);
	ck_assert(g->lease->soft_expiry == 13);
	ck_assert(g->lease->hard_expiry == 18);
	ck_assert_uint_eq(fx.pool->nwaiters, 0);
	ck_assert_uint_eq(fx.pool->nfree, 0);
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = 2, .released = 1 });
}
END_TEST

/* Every grant is one sample of the wait: 0 for a free executor, else since the acquire. */
START_TEST(test_acquire_wait_recorded_at_grant)
{
	const struct histogram *h;
	struct lease *l;

	start_table(ONE_EXECUTOR);
	h = &fx.pool->counters.acquire_wait;
	l = acquire_now(&fx.alice, 0, 0.5);
	acquire_queued(&fx.bob, 7, 0, 1);
	ck_assert_uint_eq(histogram_count(h), 1);
	release(l, 3.5);
	ck_assert_uint_eq(histogram_count(h), fx.pool->counters.granted);
	ck_assert_uint_eq(h->counts[0], 1); /* alice, at once */
	ck_assert(histogram_bounds[5] < 2.5 && 2.5 <= histogram_bounds[6]);
	ck_assert_uint_eq(h->counts[6], 1); /* bob, 2.5 s */
	ck_assert(h->sum == 2.5);
}
END_TEST

/* A waiter's own lease_seconds and owner carry over to its lease. */
START_TEST(test_waiter_terms_used_at_grant)
{
	struct acquire req = { .wait = true,
		.lease_seconds = 3,
		.owner = "bob",
		.owner_len = 3,
		.tag = 1 };
	struct lease *held, *l;
	struct lp_error err;

	start_table(ONE_EXECUTOR);
	held = acquire_now(&fx.alice, 0, 0);
	ck_assert_int_eq(acquire_with(&fx.bob, &req, 0, &l, &err), LP_OK);
	release(held, 4);
	l = last_grant()->lease;
	ck_assert(l->soft_expiry == 7);
	ck_assert(l->hard_expiry == 12);
	ck_assert_str_eq(l->owner, "bob");
}
END_TEST

START_TEST(test_waiters_served_in_order_across_holders)
{
	static const uint32_t order[] = { 1, 2, 3, 4 };
	struct lease *l;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	acquire_queued(&fx.bob, 1, 0, 1);
	acquire_queued(&fx.carol, 2, 0, 2);
	acquire_queued(&fx.bob, 3, 0, 3);
	acquire_queued(&fx.alice, 4, 0, 4);
	for (size_t i = 0; i < 4; i++) {
		release(l, 10 + (double)i);
		ck_assert_uint_eq(fx.rec.ngrants, i + 1);
		ck_assert_uint_eq(last_grant()->tag, order[i]);
		l = last_grant()->lease;
	}
	ck_assert_ptr_eq(last_grant()->holder, &fx.alice);
	ck_assert_uint_eq(fx.pool->nwaiters, 0);
}
END_TEST

/* Executors coming up serve the longest waiter, whichever comes up first. */
START_TEST(test_executors_coming_up_serve_in_order)
{
	start_table_cold(ZERO_TO_THREE);
	ck_assert_uint_eq(fx.rec.nstarted, 0);
	acquire_queued(&fx.alice, 1, 0, 0);
	acquire_queued(&fx.bob, 2, 0, 0);
	ck_assert_uint_eq(fx.rec.nstarted, 2);
	lease_executor_ready(fx.rec.started[1], 1);
	check_table();
	ck_assert_uint_eq(last_grant()->tag, 1);
	ck_assert_ptr_eq(last_grant()->lease->executor, fx.rec.started[1]);
	lease_executor_ready(fx.rec.started[0], 2);
	check_table();
	ck_assert_uint_eq(last_grant()->tag, 2);
	ck_assert_ptr_eq(last_grant()->lease->executor, fx.rec.started[0]);
}
END_TEST

START_TEST(test_acquire_timeout_at_deadline)
{
	struct lease *l;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 100, 0); /* hard expiry at 105 */
	acquire_queued(&fx.bob, 9, 5, 10);  /* gives up at 15 */
	ck_assert(advance(12) == 15);
	ck_assert(advance(14.999) == 15);
	ck_assert_uint_eq(fx.rec.nfailures, 0);
	ck_assert_uint_eq(fx.pool->nwaiters, 1);

	ck_assert(advance(15) == 105);
	ck_assert_uint_eq(fx.rec.nfailures, 1);
	ck_assert_uint_eq(fx.rec.failures[0].tag, 9);
	ck_assert_ptr_eq(fx.rec.failures[0].holder, &fx.bob);
	ck_assert_int_eq(fx.rec.failures[0].code, LP_ERR_TIMEOUT);
	assert_mentions(fx.rec.failures[0].message, "'cpu'");
	ck_assert_ptr_null(TAILQ_FIRST(&fx.bob.waiters));
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = 1, .acquire_timeouts = 1 });

	/* The waiter is gone: the executor stays free. */
	release(l, 20);
	ck_assert_uint_eq(fx.rec.ngrants, 0);
	ck_assert_uint_eq(fx.pool->nfree, 1);
	ck_assert(advance(200) == 0);
	ck_assert_uint_eq(fx.rec.nfailures, 1);
}
END_TEST

/* A waiter granted before its timeout never times out. */
START_TEST(test_granted_waiter_timeout_cancelled)
{
	struct lease *l;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 100, 0);
	acquire_queued(&fx.bob, 1, 5, 0);
	release(l, 2);
	ck_assert_uint_eq(fx.rec.ngrants, 1);
	ck_assert(advance(6) == 17); /* bob's lease: 2 + 10 + 5 */
	ck_assert_uint_eq(fx.rec.nfailures, 0);
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = 2, .released = 1 });
}
END_TEST

/* Between soft and hard expiry runs are still accepted. */
START_TEST(test_runs_accepted_in_grace_window)
{
	struct lease *l;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0); /* soft 10, hard 15 */
	run_accepted(l, 9.5);
	run_accepted(l, 10);
	ck_assert(advance(14.5) == 15);
	ck_assert_uint_eq(fx.rec.nexpired, 0);
	run_accepted(l, 14.999);
	ck_assert_uint_eq(l->runs, 3);
	ck_assert_int_eq(l->state, LEASE_ACTIVE);
}
END_TEST

/* The clock decides, even when the timer has not fired yet. */
START_TEST(test_run_refused_at_hard_expiry_before_advance)
{
	struct lease *l;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	acquire_queued(&fx.bob, 1, 0, 1);
	run_refused(l, 15);
	ck_assert_uint_eq(fx.rec.nexpired, 1);
	ck_assert_uint_eq(fx.rec.expired_ids[0], l->id);
	ck_assert_uint_eq(l->runs, 0);
	/* Revoked with nothing in flight: the executor went to bob. */
	ck_assert_uint_eq(last_grant()->tag, 1);
	ck_assert_ptr_null(l->executor);

	/* The timer firing later does not expire it twice. */
	advance(16);
	ck_assert_uint_eq(fx.rec.nexpired, 1);
	ck_assert_uint_eq(fx.pool->counters.expired, 1);
	run_refused(l, 17);
}
END_TEST

START_TEST(test_advance_revokes_at_hard_expiry)
{
	struct lease *l;
	uint64_t id;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	id = l->id;
	advance(14.999);
	ck_assert_uint_eq(fx.rec.nexpired, 0);
	ck_assert(advance(15) == 0);
	ck_assert_uint_eq(fx.rec.nexpired, 1);
	ck_assert_uint_eq(fx.rec.expired_ids[0], id);
	ck_assert_uint_eq(fx.pool->nfree, 1);
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = 1, .expired = 1 });

	/* Expired leases stay the holder's until released, refusing work. */
	ck_assert_ptr_eq(lease_find(&fx.alice, id), l);
	ck_assert_int_eq(l->state, LEASE_EXPIRED);
	run_refused(l, 16);
	release(l, 17);
	ck_assert_ptr_null(lease_find(&fx.alice, id));
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = 1, .expired = 1 });
}
END_TEST

START_TEST(test_release_with_runs_in_flight_drains)
{
	struct executor *ex;
	struct lease *l;
	size_t nchanged;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	ex = l->executor;
	run_accepted(l, 1);
	run_accepted(l, 1);
	acquire_queued(&fx.bob, 1, 0, 2);

	release(l, 3);
	ck_assert_int_eq(ex->state, EXECUTOR_DRAINING);
	ck_assert_uint_eq(lease_pool_leased(fx.pool), 1);
	ck_assert_uint_eq(fx.rec.ngrants, 0);
	ck_assert_ptr_null(TAILQ_FIRST(&fx.alice.leases));
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = 1, .released = 1 });

	nchanged = fx.rec.nchanged;
	run_end(l, 4);
	ck_assert_int_eq(ex->state, EXECUTOR_DRAINING);
	ck_assert_uint_eq(fx.rec.ngrants, 0);

	ck_assert_uint_eq(fx.rec.nchanged, nchanged + 1);
	run_end(l, 5); /* the last run: l is freed, the executor goes to bob */
	/* bob's lease has an expiry: the timer is re-armed */
	ck_assert_uint_eq(fx.rec.nchanged, nchanged + 2);
	ck_assert_uint_eq(fx.rec.ngrants, 1);
	ck_assert_ptr_eq(last_grant()->lease->executor, ex);
	ck_assert(last_grant()->lease->acquired == 5);
	ck_assert_int_eq(ex->state, EXECUTOR_LEASED);
}
END_TEST

/* Without waiters, the drained executor is free again. */
START_TEST(test_drained_executor_returns_free)
{
	struct lease *l;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	run_accepted(l, 0);
	release(l, 1);
	ck_assert_uint_eq(fx.pool->nfree, 0);
	run_end(l, 2);
	ck_assert_uint_eq(fx.pool->nfree, 1);
	ck_assert_uint_eq(lease_pool_leased(fx.pool), 0);
	acquire_now(&fx.bob, 0, 3);
}
END_TEST

/* Revoked with a run going: draining until it ends, whatever the holder does. */
START_TEST(test_expiry_with_runs_in_flight)
{
	struct executor *ex;
	struct lease *l;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	ex = l->executor;
	run_accepted(l, 14);
	acquire_queued(&fx.bob, 1, 0, 14);
	advance(15);
	ck_assert_uint_eq(fx.rec.nexpired, 1);
	ck_assert_int_eq(ex->state, EXECUTOR_DRAINING);
	ck_assert_uint_eq(fx.rec.ngrants, 0);
	run_refused(l, 16);

	release(l, 17); /* already ended: not counted as released */
	ck_assert_int_eq(ex->state, EXECUTOR_DRAINING);
	run_end(l, 18);
	ck_assert_uint_eq(last_grant()->tag, 1);
	ck_assert_ptr_eq(last_grant()->lease->executor, ex);
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = 2, .expired = 1 });
}
END_TEST

/* The holder keeps the revoked lease; its last run returns the executor. */
START_TEST(test_expired_lease_run_end_frees_executor)
{
	struct lease *l;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	run_accepted(l, 1);
	advance(15);
	ck_assert_uint_eq(fx.pool->nfree, 0);
	run_end(l, 16);
	ck_assert_uint_eq(fx.pool->nfree, 1);
	ck_assert_ptr_null(l->executor);
	ck_assert_ptr_eq(lease_find(&fx.alice, l->id), l);
}
END_TEST

START_TEST(test_lease_find_only_own_leases)
{
	struct lease *a, *b;

	start_table("[pool cpu]\nexecutors_min = 2\nexecutors_max = 2\n");
	a = acquire_now(&fx.alice, 0, 0);
	b = acquire_now(&fx.bob, 0, 0);
	ck_assert_uint_ne(a->id, b->id);
	ck_assert_ptr_eq(lease_find(&fx.alice, a->id), a);
	ck_assert_ptr_null(lease_find(&fx.alice, b->id));
	ck_assert_ptr_null(lease_find(&fx.bob, a->id));
	ck_assert_ptr_null(lease_find(&fx.carol, a->id));
	ck_assert_ptr_null(lease_find(&fx.alice, 0));
	ck_assert_ptr_null(lease_find(&fx.alice, b->id + 1000));
}
END_TEST

/* Released leases are forgotten, so a second release cannot reach them. */
START_TEST(test_released_lease_not_found)
{
	struct lease *l;
	uint64_t id;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	id = l->id;
	release(l, 1);
	ck_assert_ptr_null(lease_find(&fx.alice, id));
	ck_assert_ptr_null(TAILQ_FIRST(&fx.alice.leases));
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = 1, .released = 1 });
	/* The next lease gets a new id. */
	ck_assert_uint_ne(acquire_now(&fx.alice, 0, 2)->id, id);
}
END_TEST

START_TEST(test_lease_ids_distinct)
{
	uint64_t ids[4];
	struct pool *io;

	start_table(TWO_POOLS);
	io = lease_table_pool(&fx.table, "io", 2);
	ids[0] = acquire_now(&fx.alice, 0, 0)->id;
	release(TAILQ_FIRST(&fx.alice.leases), 1);
	ids[1] = acquire_now(&fx.bob, 0, 1)->id;
	fx.pool = io;
	ids[2] = acquire_now(&fx.alice, 0, 1)->id;
	release(TAILQ_FIRST(&fx.alice.leases), 2);
	ids[3] = acquire_now(&fx.carol, 0, 2)->id;
	for (size_t i = 0; i < 4; i++) {
		ck_assert_uint_ne(ids[i], 0);
		for (size_t j = 0; j < i; j++)
			ck_assert_uint_ne(ids[i], ids[j]);
	}
}
END_TEST

START_TEST(test_holder_drop_withdraws_and_releases)
{
	start_table(
	    "[pool cpu]\nexecutors_min = 2\nexecutors_max = 2\n"
	    "lease_seconds = 10\ngrace_seconds = 5\n");
	acquire_now(&fx.alice, 0, 0);
	acquire_now(&fx.alice, 0, 0);
	acquire_queued(&fx.alice, 1, 3, 0); /* would time out at 3 */
	acquire_queued(&fx.bob, 2, 0, 0);

	lease_holder_drop(&fx.alice, 1);
	check_table();
	ck_assert_ptr_null(TAILQ_FIRST(&fx.alice.leases));
	ck_assert_ptr_null(TAILQ_FIRST(&fx.alice.waiters));
	ck_assert_uint_eq(fx.rec.nfailures, 0); /* withdrawn, not answered */
	ck_assert_uint_eq(fx.rec.ngrants, 1);
	ck_assert_uint_eq(last_grant()->tag, 2);
	ck_assert_ptr_eq(last_grant()->holder, &fx.bob);
	ck_assert_uint_eq(fx.pool->nfree, 1);
	ck_assert_uint_eq(fx.pool->nwaiters, 0);
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = 3, .released = 2 });

	/* The withdrawn waiter's timeout is gone too. */
	ck_assert(advance(3) == 16);
	ck_assert_uint_eq(fx.rec.nfailures, 0);
	ck_assert_uint_eq(fx.pool->counters.acquire_timeouts, 0);
}
END_TEST

START_TEST(test_holder_drop_with_runs_in_flight)
{
	struct executor *ex;
	struct lease *l;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	ex = l->executor;
	run_accepted(l, 0);
	lease_holder_drop(&fx.alice, 1);
	check_table();
	ck_assert_int_eq(ex->state, EXECUTOR_DRAINING);
	ck_assert_ptr_null(l->holder);
	run_end(l, 2);
	ck_assert_int_eq(ex->state, EXECUTOR_FREE);
}
END_TEST

/* An expired lease still held is let go with its holder. */
START_TEST(test_holder_drop_with_expired_lease)
{
	start_table(ONE_EXECUTOR);
	acquire_now(&fx.alice, 0, 0);
	advance(15);
	lease_holder_drop(&fx.alice, 16);
	check_table();
	ck_assert_ptr_null(TAILQ_FIRST(&fx.alice.leases));
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = 1, .expired = 1 });
}
END_TEST

/*
 * A client that lets leases expire and never releases them is told
 * "expired" for the last LEASE_EXPIRED_REMEMBERED of them; older ones are
 * forgotten and freed, so it cannot grow the daemon without bound.
 */
START_TEST(test_expired_leases_remembered_up_to_a_bound)
{
	uint64_t ids[LEASE_EXPIRED_REMEMBERED + 2];
	const size_t n = sizeof ids / sizeof ids[0];
	struct lease *l;
	size_t held = 0;
	double now = 0;

	start_table(ONE_EXECUTOR);
	for (size_t i = 0; i < n; i++) {
		ids[i] = acquire_now(&fx.alice, 0, now)->id;
		now += 15;
		advance(now);
		check_table();
	}
	ck_assert_uint_eq(fx.rec.nexpired, n);
	ck_assert_uint_eq(fx.alice.nexpired, LEASE_EXPIRED_REMEMBERED);
	TAILQ_FOREACH (l, &fx.alice.leases, holder_link)
		held++;
	ck_assert_uint_eq(held, LEASE_EXPIRED_REMEMBERED);
	ck_assert_ptr_null(lease_find(&fx.alice, ids[0]));
	ck_assert_ptr_null(lease_find(&fx.alice, ids[1]));
	for (size_t i = 2; i < n; i++) {
		ck_assert_ptr_nonnull(l = lease_find(&fx.alice, ids[i]));
		ck_assert_int_eq(l->state, LEASE_EXPIRED);
	}
	/* Releasing one makes room: nothing more is forgotten at the next expiry. */
	release(lease_find(&fx.alice, ids[n - 1]), now);
	ck_assert_uint_eq(fx.alice.nexpired, LEASE_EXPIRED_REMEMBERED - 1);
	acquire_now(&fx.alice, 0, now);
	advance(now + 15);
	ck_assert_uint_eq(fx.alice.nexpired, LEASE_EXPIRED_REMEMBERED);
	ck_assert_ptr_nonnull(lease_find(&fx.alice, ids[2]));
	assert_counters(fx.pool,
	    (struct pool_counters){ .granted = n + 1, .expired = n + 1 });
	lease_holder_drop(&fx.alice, now + 16);
	ck_assert_uint_eq(fx.alice.nexpired, 0);
	check_table();
}
END_TEST

START_TEST(test_renew_pushes_expiry)
{
	struct lease *l;
	struct lp_error err;
	double granted;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0); /* hard expiry 15 */
	ck_assert_int_eq(lease_renew(l, 0, 8, &granted, &err), LP_OK);
	ck_assert(granted == 10);
	ck_assert(l->soft_expiry == 18);
	ck_assert(l->hard_expiry == 23);
	check_table();
	ck_assert(advance(15) == 23);
	ck_assert_uint_eq(fx.rec.nexpired, 0);
	run_accepted(l, 22);
	run_end(l, 22);

	/* In the grace window, with a term of its own. */
	ck_assert_int_eq(lease_renew(l, 30, 20, &granted, &err), LP_OK);
	ck_assert(granted == 30);
	ck_assert(l->hard_expiry == 55);
	check_table();
	ck_assert(advance(54) == 55);
	ck_assert(advance(55) == 0);
	ck_assert_uint_eq(fx.rec.nexpired, 1);
}
END_TEST

/* A renew can also shorten the term: expiry follows. */
START_TEST(test_renew_shorter)
{
	struct lease *l;
	struct lp_error err;
	double granted;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 100, 0);
	ck_assert_int_eq(lease_renew(l, 1, 2, &granted, &err), LP_OK);
	ck_assert(advance(2) == 8);
	advance(8);
	ck_assert_uint_eq(fx.rec.nexpired, 1);
}
END_TEST

START_TEST(test_renew_refused_after_revocation)
{
	struct lease *l;
	struct lp_error err;
	double granted = -1;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	advance(15);
	ck_assert_int_eq(lease_renew(l, 10, 16, &granted, &err),
	    LP_ERR_LEASE_EXPIRED);
	ck_assert_int_eq(err.code, LP_ERR_LEASE_EXPIRED);
	ck_assert(granted == -1);
	ck_assert_int_eq(l->state, LEASE_EXPIRED);
	ck_assert(advance(16) == 0); /* no deadline came back */
}
END_TEST

/*
 * Regression: lease_renew() does not look at the clock the way
 * lease_run_begin() does, so a lease past its hard expiry whose timer has
 * not fired yet is brought back to life.
 */
START_TEST(test_renew_refused_past_hard_expiry_before_advance)
{
	struct lease *l;
	struct lp_error err;
	double granted;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0);
	ck_assert_int_eq(lease_renew(l, 10, 15, &granted, &err),
	    LP_ERR_LEASE_EXPIRED);
	ck_assert_int_eq(l->state, LEASE_EXPIRED);
	ck_assert_uint_eq(fx.rec.nexpired, 1);
}
END_TEST

/*
 * A client gets the term it asks for up to max_lease_seconds, and the cap
 * beyond: on acquire, when a waiter is granted, and on renew (issue 30: a
 * renew to 1,000,000 s was granted).  A pool's grinder, which lets go of
 * its lease once idle, keeps the term it asks for.
 */
START_TEST(test_terms_capped_by_max_lease_seconds)
{
	struct acquire forever = { .wait = true,
		.lease_seconds = 1e6,
		.tag = 1 };
	struct lease *l, *queued;
	struct lp_error err;
	double granted;

	start_table(
	    "[pool cpu]\nexecutors_min = 2\nexecutors_max = 2\nlease_seconds = 10\n"
	    "max_lease_seconds = 100\ngrace_seconds = 5\n");
	l = acquire_now(&fx.alice, 1e6, 0);
	ck_assert(l->soft_expiry == 100);
	ck_assert(l->hard_expiry == 105);
	ck_assert_int_eq(lease_renew(l, 1e6, 50, &granted, &err), LP_OK);
	ck_assert(granted == 100);
	ck_assert(l->soft_expiry == 150);
	ck_assert_int_eq(lease_renew(l, 30, 60, &granted, &err), LP_OK);
	ck_assert(granted == 30);
	ck_assert(l->soft_expiry == 90);
	check_table();

	fx.bob.grinder = (struct grinder *)&fx;
	ck_assert(acquire_now(&fx.bob, 1e6, 60)->soft_expiry == 60 + 1e6);
	ck_assert_int_eq(acquire_with(&fx.carol, &forever, 60, &queued, &err),
	    LP_OK);
	ck_assert_ptr_null(queued);
	release(l, 70);
	ck_assert_uint_eq(last_grant()->tag, 1);
	ck_assert(last_grant()->lease->soft_expiry == 170);
}
END_TEST

START_TEST(test_advance_returns_next_deadline)
{
	struct lease *l;

	start_table(ONE_EXECUTOR);
	ck_assert(advance(0) == 0); /* nothing at all */
	l = acquire_now(&fx.alice, 0, 0);
	ck_assert(advance(1) == 15);
	acquire_queued(&fx.bob, 1, 2, 1);   /* times out at 3 */
	acquire_queued(&fx.carol, 2, 0, 1); /* no timeout: no deadline */
	ck_assert(advance(1) == 3);
	ck_assert(advance(3) == 15);
	release(l, 4); /* carol gets it: 4 + 15 */
	ck_assert(advance(4) == 19);
	release(last_grant()->lease, 5);
	ck_assert(advance(5) == 0);
}
END_TEST

/* The test's own deadline at when; true when it is the earliest of all. */
static bool
my_deadline(struct deadline *d, double when)
{
	ck_assert_uint_lt(fx.rec.nmine, RECORDS_MAX);
	fx.rec.mine[fx.rec.nmine++] = d;
	return lease_deadline_set(&fx.table, d, when);
}

/* Another's deadlines share the heap: each comes back once, in order, unless cancelled. */
START_TEST(test_user_deadlines_share_the_heap)
{
	static struct deadline late, early, cancelled;
	struct lease *l;

	start_table(ONE_EXECUTOR);
	l = acquire_now(&fx.alice, 0, 0); /* hard expiry at 15 */
	ck_assert(!my_deadline(&late, 20));
	ck_assert(my_deadline(&early, 5));
	ck_assert(!my_deadline(&cancelled, 7));
	lease_deadline_cancel(&fx.table, &cancelled);
	ck_assert(advance(1) == 5);
	ck_assert_uint_eq(fx.rec.npassed, 0);
	ck_assert(advance(5) == 15);
	ck_assert_uint_eq(fx.rec.npassed, 1);
	ck_assert_ptr_eq(fx.rec.passed[0], &early);
	release(l, 6);
	ck_assert(advance(6) == 20);
	ck_assert(advance(30) == 0);
	ck_assert_uint_eq(fx.rec.npassed, 2);
	ck_assert_ptr_eq(fx.rec.passed[1], &late);
	ck_assert_uint_eq(fx.rec.nexpired, 0);
}
END_TEST

/* A short lease taken after a long one is not stuck behind it. */
START_TEST(test_short_lease_after_long_expires_on_time)
{
	struct lease *shorter;
	uint64_t id;

	start_table(
	    "[pool cpu]\nexecutors_min = 2\nexecutors_max = 2\n"
	    "lease_seconds = 10\ngrace_seconds = 5\n");
	acquire_now(&fx.alice, 1000, 0);
	ck_assert(advance(0) == 1005);
	shorter = acquire_now(&fx.bob, 1, 1);
	id = shorter->id;
	ck_assert(advance(1) == 7);
	ck_assert(advance(7) == 1005);
	ck_assert_uint_eq(fx.rec.nexpired, 1);
	ck_assert_uint_eq(fx.rec.expired_ids[0], id);
}
END_TEST

/* A 0.05 s lease with no grace is revoked at its expiry, to the tick. */
START_TEST(test_tiny_lease_without_grace)
{
	struct lease *l;
	double deadline;

	start_table(
	    "[pool cpu]\nexecutors_min = 1\nexecutors_max = 1\ngrace_seconds = 0\n");
	l = acquire_now(&fx.alice, 0.05, 100);
	ck_assert(l->soft_expiry == l->hard_expiry);
	deadline = advance(100);
	ck_assert(deadline == 100 + 0.05);
	ck_assert(advance(100.049) == deadline);
	ck_assert_uint_eq(fx.rec.nexpired, 0);
	advance(deadline);
	ck_assert_uint_eq(fx.rec.nexpired, 1);
}
END_TEST

START_TEST(test_grows_on_demand_up_to_max)
{
	start_table_cold("[pool cpu]\nexecutors_min = 1\nexecutors_max = 3\n");
	ck_assert_uint_eq(fx.rec.nstarted, 1);
	acquire_queued(&fx.alice, 1, 0, 0); /* the warming executor will do */
	ck_assert_uint_eq(fx.rec.nstarted, 1);
	acquire_queued(&fx.bob, 2, 0, 0);
	ck_assert_uint_eq(fx.rec.nstarted, 2);
	acquire_queued(&fx.carol, 3, 0, 0);
	ck_assert_uint_eq(fx.rec.nstarted, 3);
	acquire_queued(&fx.alice, 4, 0, 0); /* at executors_max */
	acquire_queued(&fx.bob, 5, 0, 0);
	ck_assert_uint_eq(fx.rec.nstarted, 3);
	ck_assert_uint_eq(fx.pool->nexecutors, 3);

	bring_up_all(1);
	ck_assert_uint_eq(fx.rec.ngrants, 3);
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_uint_eq(fx.rec.grants[i].tag, i + 1);
	ck_assert_uint_eq(fx.pool->nwaiters, 2);

	/* Executors only go round now. */
	release(fx.rec.grants[0].lease, 2);
	ck_assert_uint_eq(last_grant()->tag, 4);
	ck_assert_uint_eq(fx.rec.nstarted, 3);
}
END_TEST

/* Adaptive sizing: a pool of 1 to 8 executors, 10 units each, idle for 5 s before it goes. */
#define SCALING \
	"[pool cpu]\nexecutors_min = 1\nexecutors_max = 8\n" \
	"units_per_executor = 10\nidle_seconds = 5\n"

START_TEST(test_scale_up_starts_to_target)
{
	start_table(SCALING);
	ck_assert_uint_eq(fx.pool->target, 1);
	lease_pool_scale(fx.pool, 31, 1);
	ck_assert_uint_eq(fx.pool->target, 4);
	ck_assert_uint_eq(fx.rec.nstarted, 4);
	bring_up_all(1);
	ck_assert_uint_eq(fx.pool->nfree, 4);
	lease_pool_scale(fx.pool, 1000, 1); /* capped by executors_max */
	ck_assert_uint_eq(fx.pool->target, 8);
	ck_assert_uint_eq(fx.rec.nstarted, 8);
	check_table();
}
END_TEST

START_TEST(test_scale_down_never_takes_a_leased_executor)
{
	struct lease *a, *b;

	start_table(SCALING);
	lease_pool_scale(fx.pool, 41, 0);
	bring_up_all(0);
	a = acquire_now(&fx.alice, 0, 0);
	b = acquire_now(&fx.bob, 0, 0);
	lease_pool_scale(fx.pool, 0, 10);
	ck_assert_uint_eq(fx.pool->target, 1);
	ck_assert_uint_eq(lease_table_advance(&fx.table, 14.9), 15);
	ck_assert_uint_eq(fx.rec.nstopped, 0);
	lease_table_advance(&fx.table, 15);
	/* The three free ones went; both leased ones stay. */
	ck_assert_uint_eq(fx.rec.nstopped, 3);
	ck_assert_uint_eq(fx.pool->nexecutors, 2);
	ck_assert_uint_eq(lease_pool_leased(fx.pool), 2);
	check_table();
	/* Released, one more is above the target: it goes after idle_seconds. */
	release(a, 20);
	lease_table_advance(&fx.table, 24.9);
	ck_assert_uint_eq(fx.rec.nstopped, 3);
	lease_table_advance(&fx.table, 25);
	ck_assert_uint_eq(fx.rec.nstopped, 4);
	ck_assert_uint_eq(fx.pool->nexecutors, 1);
	/* At the target, the last one stays however long it idles. */
	release(b, 30);
	ck_assert_uint_eq(lease_table_advance(&fx.table, 1000), 0);
	ck_assert_uint_eq(fx.pool->nexecutors, 1);
	check_table();
}
END_TEST

START_TEST(test_idle_executor_leased_again_stays)
{
	start_table(SCALING);
	lease_pool_scale(fx.pool, 20, 0);
	bring_up_all(0);
	lease_pool_scale(fx.pool, 0, 1);
	/* takes a free executor before its time is up */
	acquire_now(&fx.alice, 0, 2);
	lease_table_advance(&fx.table, 50);
	ck_assert_uint_eq(fx.rec.nstopped, 0);
	ck_assert_uint_eq(fx.pool->nexecutors, 2);
	check_table();
}
END_TEST

START_TEST(test_below_min_started_again)
{
	start_table(SCALING);
	fx.pool->cfg.executors_min = 3; /* as a reload does */
	lease_table_warm(&fx.table, 1);
	ck_assert_uint_eq(fx.rec.nstarted, 3);
	ck_assert_uint_eq(fx.pool->target, 3);
	check_table();
}
END_TEST

/*
 * A reload that raises executors_max serves the acquirers already waiting,
 * users in turn, before any later one: issue 29, where they timed out.
 */
START_TEST(test_reload_raising_max_serves_waiters)
{
	static const uint32_t order[] = { 1, 3, 2, 4 };
	struct lease *held;

	start_table(ONE_EXECUTOR);
	fx.bob.uid = 1000;
	fx.carol.uid = 2000;
	held = acquire_now(&fx.alice, 0, 0);
	for (uint32_t tag = 1; tag <= 3; tag++)
		acquire_queued(tag < 3 ? &fx.bob : &fx.carol, tag, 20, tag);
	ck_assert_uint_eq(fx.rec.nstarted, 1);
	fx.pool->cfg.executors_max = 3; /* as a reload does */
	lease_table_warm(&fx.table, 4);
	ck_assert_uint_eq(fx.rec.nstarted, 3);
	/* behind them, though there is room */
	acquire_queued(&fx.carol, 4, 20, 5);
	ck_assert_uint_eq(fx.rec.nstarted, 3);
	bring_up_all(6);
	release(held, 7);
	release(fx.rec.grants[0].lease, 8);
	ck_assert_uint_eq(fx.rec.ngrants, 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_uint_eq(fx.rec.grants[i].tag, order[i]);
	ck_assert_uint_eq(fx.pool->counters.acquire_timeouts, 0);
}
END_TEST

/* The users the fixture's holders are, as a connection's peer credentials say. */
static void
set_uids(uid_t alice, uid_t bob, uid_t carol)
{
	fx.alice.uid = alice;
	fx.bob.uid = bob;
	fx.carol.uid = carol;
}

/* Users take turns for a free executor; each user's own waiters keep their order. */
START_TEST(test_waiters_take_turns_by_user)
{
	struct lease *held;
	uint32_t order[4];

	start_table("[pool cpu]\nexecutors_min = 1\nexecutors_max = 1\n");
	set_uids(1000, 2000, 1000);
	held = acquire_now(&fx.carol, 0, 0);
	acquire_queued(&fx.alice, 1, 0, 1);
	acquire_queued(&fx.alice, 2, 0, 2);
	acquire_queued(&fx.carol, 3, 0, 3);
	acquire_queued(&fx.bob, 4, 0, 4);
	release(held, 5);
	for (int i = 0; i < 4; i++) {
		order[i] = last_grant()->tag;
		if (i < 3)
			release(last_grant()->lease, 6 + i);
	}
	/* User 1000 first (it came first), then user 2000, then 1000's others in order. */
	ck_assert_uint_eq(order[0], 1);
	ck_assert_uint_eq(order[1], 4);
	ck_assert_uint_eq(order[2], 2);
	ck_assert_uint_eq(order[3], 3);
	check_table();
}
END_TEST

START_TEST(test_max_leases_per_client)
{
	struct lp_error err;

	start_table(
	    "[pool cpu]\nexecutors_min = 2\nexecutors_max = 2\n"
	    "max_leases_per_client = 1\n");
	acquire_now(&fx.alice, 0, 0);
	acquire_refused(&fx.alice, true, 0, LP_ERR_LIMIT_EXCEEDED, &err);
	ck_assert_ptr_nonnull(strstr(err.message, "max_leases_per_client"));
	acquire_now(&fx.bob, 0, 0);
	/* A waiting acquire counts as well. */
	acquire_queued(&fx.carol, 1, 0, 0);
	acquire_refused(&fx.carol, true, 0, LP_ERR_LIMIT_EXCEEDED, &err);
	check_table();
}
END_TEST

START_TEST(test_max_leases_per_user)
{
	struct lp_error err;

	start_table(
	    "[pool cpu]\nexecutors_min = 4\nexecutors_max = 4\n"
	    "max_leases_per_user = 2\n");
	fx.alice.uid = fx.carol.uid = 1000;
	fx.bob.uid = 2000;
	acquire_now(&fx.alice, 0, 0);
	acquire_now(&fx.carol, 0, 0);
	acquire_refused(&fx.carol, true, 0, LP_ERR_LIMIT_EXCEEDED, &err);
	ck_assert_ptr_nonnull(strstr(err.message, "user 1000"));
	acquire_now(&fx.bob, 0, 0);
	acquire_now(&fx.bob, 0, 0);
	check_table();
}
END_TEST

/*
 * A lease released, or expired, with runs in flight keeps its executor
 * until they end: it counts against its client and user until then, even
 * once the client is gone (issue 30: one user held two executors under
 * max_leases_per_user = 1).
 */
START_TEST(test_draining_leases_count_against_the_limits)
{
	struct lease *released, *expired;
	struct lp_error err;

	start_table(
	    "[pool cpu]\nexecutors_min = 4\nexecutors_max = 4\n"
	    "lease_seconds = 10\ngrace_seconds = 5\n"
	    "max_leases_per_client = 1\nmax_leases_per_user = 2\n");
	set_uids(1000, 2000, 1000);
	released = acquire_now(&fx.alice, 0, 0);
	run_accepted(released, 1);
	release(released, 2);
	acquire_refused(&fx.alice, true, 3, LP_ERR_LIMIT_EXCEEDED, &err);
	assert_mentions(err.message, "max_leases_per_client");
	acquire_now(&fx.carol, 100, 3);
	/* Gone, alice leaves the run to its user: a new connection of hers is refused. */
	lease_holder_drop(&fx.alice, 4);
	lease_holder_init(&fx.alice, &fx.alice);
	fx.alice.uid = 1000;
	acquire_refused(&fx.alice, true, 4, LP_ERR_LIMIT_EXCEEDED, &err);
	assert_mentions(err.message, "max_leases_per_user");
	/* Expired with a run in flight, still held. */
	expired = acquire_now(&fx.bob, 0, 4);
	run_accepted(expired, 5);
	advance(19);
	ck_assert_int_eq(expired->state, LEASE_EXPIRED);
	acquire_refused(&fx.bob, true, 19, LP_ERR_LIMIT_EXCEEDED, &err);
	run_end(expired, 20);
	acquire_now(&fx.bob, 0, 20);
	/* Drained, the executor is back and counts no more. */
	acquire_refused(&fx.alice, true, 20, LP_ERR_LIMIT_EXCEEDED, &err);
	run_end(released, 21);
	acquire_now(&fx.alice, 0, 21);
}
END_TEST

/* After a reload that let only user 2000 in. */
static bool
only_user_2000(const struct holder *h, const struct pool *p)
{
	return h->uid == 2000;
}

/*
 * A reload took the pool from a user: that user's waiting acquires fail
 * with PERMISSION_DENIED, their timeouts gone with them; the others keep
 * their turn, and a pool's grinder is never asked (issue 30).
 */
START_TEST(test_reload_refuses_waiters_of_users_let_out)
{
	struct lease *held;

	start_table(ONE_EXECUTOR);
	set_uids(1000, 2000, 3000);
	held = acquire_now(&fx.bob, 0, 0);
	acquire_queued(&fx.alice, 1, 5, 1);
	acquire_queued(&fx.bob, 2, 5, 2);
	acquire_queued(&fx.carol, 3, 0, 3);
	fx.carol.grinder = (struct grinder *)&fx;
	lease_pool_refuse_waiters(fx.pool, only_user_2000);
	check_table();
	ck_assert_uint_eq(fx.rec.nfailures, 1);
	ck_assert_uint_eq(fx.rec.failures[0].tag, 1);
	ck_assert_int_eq(fx.rec.failures[0].code, LP_ERR_PERMISSION_DENIED);
	assert_mentions(fx.rec.failures[0].message, "uid 1000");
	assert_mentions(fx.rec.failures[0].message, "'cpu'");
	ck_assert_ptr_null(TAILQ_FIRST(&fx.alice.waiters));
	ck_assert_uint_eq(fx.pool->nwaiters, 2);
	release(held, 4);
	ck_assert_uint_eq(last_grant()->tag, 2);
}
END_TEST

/* A free executor serves before any is started. */
START_TEST(test_grows_only_when_needed)
{
	struct acquire req = { .wait = true, .tag = 1 };
	struct lease *l;
	struct lp_error err;

	start_table(ONE_TO_TWO);
	ck_assert_int_eq(acquire_with(&fx.alice, &req, 0, &l, &err), LP_OK);
	ck_assert_ptr_nonnull(l); /* granted at once, though it would wait */
	ck_assert_uint_eq(fx.rec.nstarted, 1);
	acquire_queued(&fx.bob, 2, 0, 0);
	ck_assert_uint_eq(fx.rec.nstarted, 2);
	bring_up_all(1);
	ck_assert_uint_eq(last_grant()->tag, 2);
}
END_TEST

/* Queued without wait: the answer comes once the executor it waits for is up. */
static void
acquire_nowait_queued(struct holder *h, uint32_t tag, double now)
{
	struct acquire req = { .wait = false, .tag = tag };
	struct lease *l;
	struct lp_error err;

	ck_assert_int_eq(acquire_with(h, &req, now, &l, &err), LP_OK);
	ck_assert_ptr_null(l);
}

/*
 * wait=false means "no room", as in Python leasepool: below executors_max
 * it starts an executor and is granted it once up, whoever else waits.
 */
START_TEST(test_nowait_starts_an_executor_below_max)
{
	struct lp_error err;

	start_table(ZERO_TO_THREE);
	set_uids(1000, 2000, 3000); /* waiters of different users take turns */
	acquire_queued(&fx.alice, 1, 0, 0);
	bring_up_all(0);
	ck_assert_uint_eq(last_grant()->tag, 1);
	acquire_queued(&fx.bob, 2, 0, 1);
	acquire_nowait_queued(&fx.bob, 3, 1);
	ck_assert_uint_eq(fx.rec.nstarted, 3);
	/* at executors_max: carol waits for a lease */
	acquire_queued(&fx.carol, 4, 0, 1);
	ck_assert_uint_eq(fx.rec.nstarted, 3);
	bring_up_one(2);
	ck_assert_uint_eq(last_grant()->tag, 2);
	/* Carol's turn, but this one was started for tag 3: it never waits for a lease. */
	bring_up_one(2);
	ck_assert_uint_eq(fx.rec.ngrants, 3);
	ck_assert_uint_eq(last_grant()->tag, 3);
	ck_assert_uint_eq(fx.pool->nwaiters, 1);
	/* Full now: "no room" is refused at once, as before. */
	acquire_refused(&fx.carol, false, 3, LP_ERR_UNAVAILABLE, &err);
	assert_mentions(err.message, "3 of 3 leased");
}
END_TEST

/* An executor starting that no waiter counts on serves wait=false without starting another. */
START_TEST(test_nowait_takes_a_spare_starting_executor)
{
	start_table_cold("[pool cpu]\nexecutors_min = 2\nexecutors_max = 2\n");
	acquire_queued(&fx.alice, 1, 0, 0);
	acquire_nowait_queued(&fx.bob, 2, 0);
	ck_assert_uint_eq(fx.rec.nstarted, 2);
	bring_up_all(1);
	ck_assert_uint_eq(fx.rec.ngrants, 2);
	ck_assert_uint_eq(fx.pool->nwaiters, 0);
}
END_TEST

/*
 * Taken by an executor that came free first, its own serves the queue;
 * gone, it leaves its executor to the next.
 */
START_TEST(test_nowait_reservation_ends_with_its_waiter)
{
	struct lease *l;

	start_table(ONE_TO_TWO);
	l = acquire_now(&fx.alice, 0, 0);
	acquire_nowait_queued(&fx.bob, 1, 0);
	release(l, 1);
	ck_assert_uint_eq(last_grant()->tag, 1);
	acquire_queued(&fx.carol, 2, 0, 1);
	bring_up_all(2);
	ck_assert_uint_eq(last_grant()->tag, 2);

	teardown();
	start_table(ONE_TO_TWO);
	acquire_now(&fx.alice, 0, 0);
	acquire_nowait_queued(&fx.bob, 1, 0);
	lease_holder_drop(&fx.bob, 1);
	check_table();
	bring_up_all(2);
	ck_assert_uint_eq(fx.rec.ngrants, 0);
	ck_assert_uint_eq(fx.pool->nfree, 1);
}
END_TEST

/* A failing pool or a drain answers wait=false at once, also once it waits for its executor. */
START_TEST(test_nowait_never_waits_for_a_failing_or_drained_pool)
{
	struct lp_error err;

	start_table_cold(ZERO_TO_THREE);
	acquire_nowait_queued(&fx.alice, 1, 0);
	lease_pool_failing(fx.pool, "module init crashed");
	ck_assert_uint_eq(fx.rec.nfailures, 1);
	assert_mentions(fx.rec.failures[0].message, "module init crashed");
	acquire_refused(&fx.bob, false, 1, LP_ERR_UNAVAILABLE, &err);
	assert_mentions(err.message, "module init crashed");
	ck_assert_uint_eq(fx.rec.nstarted, 1);

	teardown();
	start_table_cold(ZERO_TO_THREE);
	acquire_queued(&fx.alice, 1, 0, 0);
	acquire_nowait_queued(&fx.bob, 2, 0);
	lease_pool_drain(fx.pool);
	check_table();
	ck_assert_uint_eq(fx.rec.nfailures, 1);
	ck_assert_uint_eq(fx.rec.failures[0].tag, 2);
	ck_assert_int_eq(fx.rec.failures[0].code, LP_ERR_UNAVAILABLE);
	assert_mentions(fx.rec.failures[0].message, "draining");
	/* alice waits for the resume */
	ck_assert_uint_eq(fx.pool->nwaiters, 1);
	ck_assert_uint_eq(fx.pool->counters.unavailable, 1);
}
END_TEST

/* An acquirer that gives up leaves its executor starting, then free. */
START_TEST(test_timed_out_waiter_strands_nothing)
{
	start_table_cold(ZERO_TO_THREE);
	acquire_queued(&fx.alice, 1, 1, 0);
	ck_assert_uint_eq(fx.rec.nstarted, 1);
	advance(1);
	ck_assert_int_eq(fx.rec.failures[0].code, LP_ERR_TIMEOUT);
	bring_up_all(2);
	ck_assert_uint_eq(fx.rec.ngrants, 0);
	ck_assert_uint_eq(fx.pool->nfree, 1);
	acquire_now(&fx.bob, 0, 3);
	/* The next waiter gets a new executor, not a second claim on a starting one. */
	acquire_queued(&fx.carol, 2, 0, 3);
	ck_assert_uint_eq(fx.rec.nstarted, 2);
}
END_TEST

START_TEST(test_pool_failing_fails_waiters)
{
	struct lp_error err;

	start_table_cold(ZERO_TO_THREE);
	acquire_queued(&fx.alice, 1, 9, 0);
	acquire_queued(&fx.bob, 2, 0, 0);
	lease_pool_failing(fx.pool, "module init crashed");
	check_table();
	ck_assert_uint_eq(fx.rec.nfailures, 2);
	for (uint32_t i = 0; i < 2; i++) {
		ck_assert_uint_eq(fx.rec.failures[i].tag, i + 1);
		ck_assert_int_eq(fx.rec.failures[i].code, LP_ERR_UNAVAILABLE);
		assert_mentions(fx.rec.failures[i].message,
		    "module init crashed");
		assert_mentions(fx.rec.failures[i].message, "'cpu'");
	}
	ck_assert_uint_eq(fx.pool->nwaiters, 0);

	/* Acquirers that would wait are told at once, not left hanging. */
	acquire_refused(&fx.carol, true, 1, LP_ERR_UNAVAILABLE, &err);
	assert_mentions(err.message, "module init crashed");
	ck_assert_ptr_null(TAILQ_FIRST(&fx.carol.waiters));
	ck_assert_uint_eq(fx.rec.nstarted, 2); /* and nothing more is started */
	ck_assert(advance(10) == 0); /* alice's timeout went with her */
	ck_assert_uint_eq(fx.rec.nfailures, 2);

	/* An executor that does come up still serves. */
	bring_up_one(2);
	acquire_now(&fx.carol, 0, 2);
}
END_TEST

START_TEST(test_pool_recovered_lets_acquirers_wait)
{
	struct lp_error err;

	start_table_cold(ZERO_TO_THREE);
	lease_pool_failing(fx.pool, "exec format error");
	acquire_refused(&fx.alice, true, 0, LP_ERR_UNAVAILABLE, &err);
	ck_assert_uint_eq(fx.rec.nstarted, 0);
	lease_pool_recovered(fx.pool);
	check_table();
	ck_assert(!fx.pool->failing);
	acquire_queued(&fx.alice, 1, 0, 1);
	ck_assert_uint_eq(fx.rec.nstarted, 1);
	bring_up_all(2);
	ck_assert_uint_eq(last_grant()->tag, 1);
	ck_assert_uint_eq(fx.pool->counters.unavailable, 1);
}
END_TEST

/*
 * Regression: waiters failed with UNAVAILABLE by
 * lease_pool_failing() are not counted in counters.unavailable, while an
 * acquire refused with the same code is; acquire_timeouts, by contrast,
 * counts waiters.
 */
START_TEST(test_pool_failing_counts_unavailable)
{
	start_table_cold(ZERO_TO_THREE);
	acquire_queued(&fx.alice, 1, 0, 0);
	lease_pool_failing(fx.pool, "crash loop");
	ck_assert_uint_eq(fx.rec.nfailures, 1);
	ck_assert_uint_eq(fx.pool->counters.unavailable, 1);
}
END_TEST

START_TEST(test_stop_fails_waiters_and_acquires)
{
	struct pool *io;
	struct lease *l;
	struct lp_error err;

	start_table(TWO_POOLS);
	io = lease_table_pool(&fx.table, "io", 2);
	l = acquire_now(&fx.alice, 0, 0);
	acquire_queued(&fx.bob, 1, 5, 0);
	fx.pool = io;
	acquire_now(&fx.alice, 0, 0);
	acquire_queued(&fx.carol, 2, 0, 0);

	lease_table_stop(&fx.table);
	check_table();
	ck_assert_uint_eq(fx.rec.nfailures, 2);
	ck_assert_int_eq(fx.rec.failures[0].code, LP_ERR_STOPPING);
	ck_assert_int_eq(fx.rec.failures[1].code, LP_ERR_STOPPING);
	ck_assert_uint_eq(fx.rec.failures[0].tag, 1);
	ck_assert_uint_eq(fx.rec.failures[1].tag, 2);

	acquire_refused(&fx.carol, true, 1, LP_ERR_STOPPING, &err);
	acquire_refused(&fx.carol, false, 1, LP_ERR_STOPPING, &err);
	fx.pool = &fx.table.pools[0];
	acquire_refused(&fx.carol, true, 1, LP_ERR_STOPPING, &err);
	ck_assert_uint_eq(fx.pool->counters.unavailable, 0);

	/* Leases already granted keep working, and go back as usual. */
	run_accepted(l, 2);
	release(l, 3);
	ck_assert_uint_eq(fx.pool->nfree, 0);
	run_end(l, 4);
	ck_assert_uint_eq(fx.pool->nfree, 1);
	ck_assert_uint_eq(fx.rec.ngrants, 0);
	acquire_refused(&fx.carol, false, 5, LP_ERR_STOPPING, &err);
}
END_TEST

/*
 * A stop withdraws the executors still starting (a backend may never
 * finish them), and neither scale nor a reload starts another: stats
 * would show them starting until the end.
 */
START_TEST(test_stop_starts_nothing_more)
{
	struct lease *l;

	start_table(SCALING);
	l = acquire_now(&fx.alice, 0, 0);
	run_accepted(l, 0);
	lease_pool_scale(fx.pool, 30, 1);
	ck_assert_uint_eq(fx.rec.nstarted, 3);
	bring_up_one(1);
	lease_table_stop(&fx.table);
	check_table();
	ck_assert_uint_eq(fx.rec.nstopped, 1);
	ck_assert_uint_eq(fx.pool->nstarting, 0);
	ck_assert_uint_eq(fx.pool->nexecutors, 2);
	ck_assert_uint_eq(fx.pool->target, 0);
	lease_pool_scale(fx.pool, 80, 2);
	fx.pool->cfg.executors_min = 4; /* as a reload does */
	lease_table_warm(&fx.table, 3);
	ck_assert_uint_eq(fx.rec.nstarted, 3);
	ck_assert_uint_eq(fx.pool->nstarting, 0);
	ck_assert_uint_eq(fx.pool->target, 0);
	/* The run in flight still ends, and its executor goes back. */
	release(l, 4);
	run_end(l, 5);
	ck_assert_uint_eq(fx.pool->nfree, 2);
}
END_TEST

/*
 * Regression: lease_table_free() frees leases through their
 * executors, but a lease revoked with no run in flight has already given
 * its executor back; its holder still lists it, and it is never freed.
 */
START_TEST(test_table_free_frees_expired_leases)
{
	start_table(ONE_EXECUTOR);
	acquire_now(&fx.alice, 0, 0);
	advance(15);
	lease_table_free(&fx.table);
	fx.running = false;
	ck_assert_ptr_null(TAILQ_FIRST(&fx.alice.leases));
}
END_TEST

/* Everything a holder had is unlinked from it when the table goes. */
START_TEST(test_table_free_unlinks_holders)
{
	struct lease *l;

	start_table("[pool cpu]\nexecutors_min = 2\nexecutors_max = 2\n");
	acquire_now(&fx.alice, 0, 0);
	l = acquire_now(&fx.bob, 0, 0);
	run_accepted(l, 0);
	acquire_queued(&fx.carol, 1, 5, 0);
	lease_table_free(&fx.table);
	fx.running = false;
	ck_assert_ptr_null(TAILQ_FIRST(&fx.alice.leases));
	ck_assert_ptr_null(TAILQ_FIRST(&fx.bob.leases));
	ck_assert_ptr_null(TAILQ_FIRST(&fx.carol.waiters));
}
END_TEST

/* Long pseudo-random runs of every operation, checking the invariants after each. */

#define RANDOM_STEPS 3000
#define RUNS_MAX 256

struct simulation {
	uint64_t seed;
	double now;
	struct holder *holders[3];
	struct lease *runs[RUNS_MAX]; /* one entry per run in flight */
	size_t nruns;
	uint32_t next_tag;
	unsigned char answered[RANDOM_STEPS + 1]; /* by tag */
	size_t seen_grants, seen_failures;
	uint64_t queued, withdrawn;
};

static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned
pick(struct simulation *sim, unsigned n)
{
	return (unsigned)(next_random(&sim->seed) % n);
}

/* The holder's n-th lease, or NULL when it has fewer. */
static struct lease *
nth_lease(struct holder *h, unsigned n)
{
	struct lease *l;

	TAILQ_FOREACH (l, &h->leases, holder_link)
		if (n-- == 0)
			return l;
	return NULL;
}

static unsigned
count_waiters(const struct holder *h)
{
	const struct waiter *w;
	unsigned n = 0;

	TAILQ_FOREACH (w, &h->waiters, holder_link)
		n++;
	return n;
}

/* Every queued acquire is answered once, or withdrawn and never answered. */
static void
check_answers(struct simulation *sim)
{
	uint64_t waiting = 0;

	for (; sim->seen_grants < fx.rec.ngrants; sim->seen_grants++) {
		uint32_t tag = fx.rec.grants[sim->seen_grants].tag;

		if (sim->answered[tag] != 0)
			ck_abort_msg(
			    "acquire %u granted after an answer or withdrawal",
			    tag);
		sim->answered[tag] = 1;
	}
	for (; sim->seen_failures < fx.rec.nfailures; sim->seen_failures++) {
		uint32_t tag = fx.rec.failures[sim->seen_failures].tag;

		if (sim->answered[tag] != 0)
			ck_abort_msg(
			    "acquire %u failed after an answer or withdrawal",
			    tag);
		sim->answered[tag] = 1;
	}
	for (size_t i = 0; i < 3; i++)
		waiting += count_waiters(sim->holders[i]);
	ck_assert_uint_eq(sim->queued,
	    fx.rec.ngrants + fx.rec.nfailures + sim->withdrawn + waiting);
}

/* After advance(now), nothing that was due is still pending. */
static void
check_nothing_overdue(double now)
{
	const struct deadline *top = heap_top(&fx.table.deadlines);

	ck_assert(top == NULL || top->when > now);
}

static void
random_acquire(struct simulation *sim, struct holder *h)
{
	struct acquire req = {
		.wait = pick(sim, 4) != 0,
		.timeout = pick(sim, 2) ? 0 : 1 + pick(sim, 8),
		.lease_seconds = pick(sim, 2) ? 0 : 0.5 * (1 + pick(sim, 40)),
		.tag = ++sim->next_tag,
	};
	struct lease *l;
	struct lp_error err;
	size_t ngrants = fx.rec.ngrants;

	if (acquire_with(h, &req, sim->now, &l, &err) == LP_OK && l == NULL &&
	    fx.rec.ngrants == ngrants)
		sim->queued++;
}

static void
random_step(struct simulation *sim)
{
	struct holder *h = sim->holders[pick(sim, 3)];
	struct lease *l = nth_lease(h, pick(sim, 3));
	struct lp_error err;
	double granted;

	switch (pick(sim, 12)) {
	case 0:
	case 1:
		random_acquire(sim, h);
		break;
	case 2:
		if (l != NULL)
			release(l, sim->now);
		break;
	case 3:
	case 4:
		if (l != NULL && sim->nruns < RUNS_MAX &&
		    lease_run_begin(l, sim->now, &err) == LP_OK)
			sim->runs[sim->nruns++] = l;
		check_table();
		break;
	case 5:
		if (sim->nruns > 0) {
			size_t i = pick(sim, (unsigned)sim->nruns);

			l = sim->runs[i];
			sim->runs[i] = sim->runs[--sim->nruns];
			run_end(l, sim->now);
		}
		break;
	case 6:
		if (l != NULL &&
		    lease_renew(l, pick(sim, 2) ? 0 : 1 + pick(sim, 20),
			sim->now, &granted, &err) == LP_OK)
			ck_assert(granted > 0);
		check_table();
		break;
	case 7:
	case 8:
		sim->now += 0.25 * pick(sim, 12);
		advance(sim->now);
		check_nothing_overdue(sim->now);
		break;
	case 9:
		if (fx.rec.nready < fx.rec.nstarted)
			bring_up_one(sim->now);
		break;
	case 10:
		if (pick(sim, 4) == 0) {
			struct waiter *w;

			/* Withdrawn: never to be answered. */
			TAILQ_FOREACH (w, &h->waiters, holder_link) {
				sim->answered[w->tag] = 2;
				sim->withdrawn++;
			}
			lease_holder_drop(h, sim->now);
			check_table();
			ck_assert_ptr_null(TAILQ_FIRST(&h->leases));
		}
		break;
	case 11:
		if (pick(sim, 8) == 0) {
			if (fx.pool->failing)
				lease_pool_recovered(fx.pool);
			else
				lease_pool_failing(fx.pool, "simulated");
			check_table();
		}
		break;
	}
	check_answers(sim);
}

START_TEST(test_random_operations)
{
	static struct simulation sim;

	memset(&sim, 0, sizeof sim);
	sim.seed = 0x1ea5e0001ULL + (uint64_t)_i;
	sim.holders[0] = &fx.alice;
	sim.holders[1] = &fx.bob;
	sim.holders[2] = &fx.carol;
	start_table_cold(
	    "[pool cpu]\nexecutors_min = 1\nexecutors_max = 3\n"
	    "lease_seconds = 4\ngrace_seconds = 1\n");
	for (int step = 0; step < RANDOM_STEPS; step++)
		random_step(&sim);
	ck_assert_uint_gt(fx.rec.ngrants, 0);
	ck_assert_uint_gt(fx.pool->counters.granted, 0);
	while (sim.nruns > 0)
		run_end(sim.runs[--sim.nruns], sim.now);
}
END_TEST

Suite *
lease_suite(void)
{
	Suite *s = suite_create("lease");
	TCase *tc;

	tc = unit_case(s, "acquire", NULL, teardown);
	tcase_add_test(tc, test_warm_starts_executors_min);
	tcase_add_test(tc, test_acquire_granted_at_once);
	tcase_add_test(tc, test_executor_ready_changes_deadlines);
	tcase_add_test(tc, test_acquire_own_lease_seconds);
	tcase_add_test(tc, test_owner_copied_and_bounded);
	tcase_add_test(tc, test_pool_lookup);
	tcase_add_test(tc, test_unavailable_without_wait);
	tcase_add_test(tc, test_waiter_granted_on_release);
	tcase_add_test(tc, test_acquire_wait_recorded_at_grant);
	tcase_add_test(tc, test_waiter_terms_used_at_grant);
	tcase_add_test(tc, test_waiters_served_in_order_across_holders);
	tcase_add_test(tc, test_executors_coming_up_serve_in_order);
	tcase_add_test(tc, test_acquire_timeout_at_deadline);
	tcase_add_test(tc, test_granted_waiter_timeout_cancelled);
	tcase_add_test(tc, test_lease_ids_distinct);

	tc = unit_case(s, "expiry", NULL, teardown);
	tcase_add_test(tc, test_runs_accepted_in_grace_window);
	tcase_add_test(tc, test_run_refused_at_hard_expiry_before_advance);
	tcase_add_test(tc, test_advance_revokes_at_hard_expiry);
	tcase_add_test(tc, test_expiry_with_runs_in_flight);
	tcase_add_test(tc, test_expired_lease_run_end_frees_executor);
	tcase_add_test(tc, test_renew_pushes_expiry);
	tcase_add_test(tc, test_renew_shorter);
	tcase_add_test(tc, test_renew_refused_after_revocation);
	tcase_add_test(tc, test_terms_capped_by_max_lease_seconds);
	tcase_add_test(tc, test_advance_returns_next_deadline);
	tcase_add_test(tc, test_user_deadlines_share_the_heap);
	tcase_add_test(tc, test_short_lease_after_long_expires_on_time);
	tcase_add_test(tc, test_tiny_lease_without_grace);

	tc = unit_case(s, "release", NULL, teardown);
	tcase_add_test(tc, test_release_with_runs_in_flight_drains);
	tcase_add_test(tc, test_drained_executor_returns_free);
	tcase_add_test(tc, test_lease_find_only_own_leases);
	tcase_add_test(tc, test_released_lease_not_found);
	tcase_add_test(tc, test_holder_drop_withdraws_and_releases);
	tcase_add_test(tc, test_holder_drop_with_runs_in_flight);
	tcase_add_test(tc, test_holder_drop_with_expired_lease);
	tcase_add_test(tc, test_expired_leases_remembered_up_to_a_bound);
	tcase_add_test(tc, test_table_free_unlinks_holders);

	tc = unit_case(s, "pool", NULL, teardown);
	tcase_add_test(tc, test_grows_on_demand_up_to_max);
	tcase_add_test(tc, test_grows_only_when_needed);
	tcase_add_test(tc, test_nowait_starts_an_executor_below_max);
	tcase_add_test(tc, test_nowait_takes_a_spare_starting_executor);
	tcase_add_test(tc, test_nowait_reservation_ends_with_its_waiter);
	tcase_add_test(tc,
	    test_nowait_never_waits_for_a_failing_or_drained_pool);
	tcase_add_test(tc, test_scale_up_starts_to_target);
	tcase_add_test(tc, test_scale_down_never_takes_a_leased_executor);
	tcase_add_test(tc, test_idle_executor_leased_again_stays);
	tcase_add_test(tc, test_below_min_started_again);
	tcase_add_test(tc, test_waiters_take_turns_by_user);
	tcase_add_test(tc, test_max_leases_per_client);
	tcase_add_test(tc, test_max_leases_per_user);
	tcase_add_test(tc, test_draining_leases_count_against_the_limits);
	tcase_add_test(tc, test_reload_refuses_waiters_of_users_let_out);
	tcase_add_test(tc, test_timed_out_waiter_strands_nothing);
	tcase_add_test(tc, test_pool_failing_fails_waiters);
	tcase_add_test(tc, test_pool_recovered_lets_acquirers_wait);
	tcase_add_test(tc, test_stop_fails_waiters_and_acquires);
	tcase_add_test(tc, test_stop_starts_nothing_more);
	tcase_add_test(tc, test_reload_raising_max_serves_waiters);

	tc = unit_case(s, "random", NULL, teardown);
	tcase_add_loop_test(tc, test_random_operations, 0, 8);

	tc = unit_case(s, "regressions", NULL, teardown);
	tcase_add_test(tc, test_renew_refused_past_hard_expiry_before_advance);
	tcase_add_test(tc, test_pool_failing_counts_unavailable);
	tcase_add_test(tc, test_table_free_frees_expired_leases);
	return s;
}
