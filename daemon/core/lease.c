/* SPDX-License-Identifier: ISC */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/lease.h"
#include "daemon/core/log.h"

enum deadline_kind {
	DEADLINE_LEASE,
	DEADLINE_WAITER,
	DEADLINE_IDLE, /* an executor above the target */
	DEADLINE_USER, /* the table's user's: see lease_deadline_set() */
};

static void *
zalloc(size_t size)
{
	void *p = calloc(1, size);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}

static void
copy_owner(char *dst, const char *src, size_t len)
{
	if (len > LP_OWNER_MAX)
		len = LP_OWNER_MAX;
	if (src != NULL)
		memcpy(dst, src, len);
	dst[src != NULL ? len : 0] = '\0';
}

void
lease_table_init(struct lease_table *t, const struct config *cfg,
    const struct lease_events *events, void *arg)
{
	memset(t, 0, sizeof *t);
	heap_init(&t->deadlines);
	TAILQ_INIT(&t->leases);
	t->next_lease_id = 1;
	t->events = events;
	t->arg = arg;
	t->npools = cfg->npools;
	t->pools = zalloc(cfg->npools * sizeof *t->pools);
	for (size_t i = 0; i < cfg->npools; i++) {
		struct pool *p = &t->pools[i];

		p->table = t;
		p->cfg = cfg->pools[i];
		TAILQ_INIT(&p->executors);
		TAILQ_INIT(&p->free);
		TAILQ_INIT(&p->waiters);
		TAILQ_INIT(&p->users);
	}
}

static void retarget(struct pool *p, double now);
static void waiter_remove(struct waiter *w);

void
lease_table_warm(struct lease_table *t, double now)
{
	for (size_t i = 0; i < t->npools; i++)
		retarget(&t->pools[i], now);
}

void
lease_table_free(struct lease_table *t)
{
	struct lease *l;

	for (size_t i = 0; i < t->npools; i++) {
		struct pool *p = &t->pools[i];
		struct executor *ex;
		struct waiter *w;

		while ((w = TAILQ_FIRST(&p->waiters)) != NULL) {
			waiter_remove(w);
			free(w);
		}
		while ((ex = TAILQ_FIRST(&p->executors)) != NULL) {
			TAILQ_REMOVE(&p->executors, ex, link);
			free(ex);
		}
	}
	while ((l = TAILQ_FIRST(&t->leases)) != NULL) {
		TAILQ_REMOVE(&t->leases, l, table_link);
		if (l->holder != NULL)
			TAILQ_REMOVE(&l->holder->leases, l, holder_link);
		free(l);
	}
	free(t->pools);
	heap_free(&t->deadlines);
	t->pools = NULL;
	t->npools = 0;
}

struct pool *
lease_table_pool(struct lease_table *t, const char *name, size_t len)
{
	for (size_t i = 0; i < t->npools; i++)
		if (strlen(t->pools[i].cfg.name) == len &&
		    memcmp(t->pools[i].cfg.name, name, len) == 0)
			return &t->pools[i];
	return NULL;
}

unsigned
lease_pool_leased(const struct pool *p)
{
	return p->nexecutors - p->nfree - p->nstarting;
}

static struct executor *
start_executor(struct pool *p)
{
	struct executor *ex = zalloc(sizeof *ex);

	ex->pool = p;
	ex->id = p->next_executor_id++;
	ex->state = EXECUTOR_STARTING;
	heap_item_init(&ex->idle, DEADLINE_IDLE);
	TAILQ_INSERT_TAIL(&p->executors, ex, link);
	p->nexecutors++;
	p->nstarting++;
	p->table->events->start_executor(ex, p->table->arg);
	return ex;
}

/* Starts executors for waiters that no free or starting executor will serve. */
static void
grow_for_waiters(struct pool *p)
{
	while (p->nwaiters > p->nstarting &&
	    p->nexecutors < p->cfg.executors_max && !p->failing && !p->draining)
		start_executor(p);
}

/*
 * The term a holder gets for asking lease_seconds (0: the pool's): a
 * client at most max_lease_seconds, so that one that hangs with its
 * connection open gives its executor back in time.  A pool's grinder lets
 * go of its lease once idle, and keeps the term it asks for.
 */
static double
lease_term(const struct pool *p, const struct holder *h, double lease_seconds)
{
	double term = lease_seconds > 0 ? lease_seconds : p->cfg.lease_seconds;

	if (h->grinder == NULL && term > p->cfg.max_lease_seconds)
		term = p->cfg.max_lease_seconds;
	return term;
}

static struct lease *
grant(struct pool *p, struct executor *ex, struct holder *h, const char *owner,
    size_t owner_len, double lease_seconds, double now)
{
	struct lease_table *t = p->table;
	struct lease *l = zalloc(sizeof *l);

	TAILQ_REMOVE(&p->free, ex, free_link);
	p->nfree--;
	heap_remove(&t->deadlines, &ex->idle);
	ex->state = EXECUTOR_LEASED;
	ex->lease = l;

	l->id = t->next_lease_id++;
	l->state = LEASE_ACTIVE;
	l->executor = ex;
	l->pool = p;
	l->holder = h;
	l->holder_serial = h->serial;
	l->pid = h->pid;
	l->uid = h->uid;
	l->for_grinder = h->grinder != NULL;
	TAILQ_INSERT_TAIL(&h->leases, l, holder_link);
	TAILQ_INSERT_TAIL(&t->leases, l, table_link);
	copy_owner(l->owner, owner, owner_len);
	l->acquired = now;
	l->term = lease_term(p, h, lease_seconds);
	l->soft_expiry = now + l->term;
	l->hard_expiry = l->soft_expiry + p->cfg.grace_seconds;
	heap_item_init(&l->deadline, DEADLINE_LEASE);
	heap_set(&t->deadlines, &l->deadline, l->hard_expiry);
	p->counters.granted++;
	return l;
}

static struct userq *
userq_of(struct pool *p, uid_t uid)
{
	struct userq *uq;

	TAILQ_FOREACH (uq, &p->users, link)
		if (uq->uid == uid)
			return uq;
	uq = zalloc(sizeof *uq);
	uq->uid = uid;
	TAILQ_INIT(&uq->waiters);
	TAILQ_INSERT_TAIL(&p->users, uq, link);
	return uq;
}

static void
waiter_remove(struct waiter *w)
{
	struct pool *p = w->pool;
	struct userq *uq = w->userq;

	TAILQ_REMOVE(&p->waiters, w, pool_link);
	TAILQ_REMOVE(&w->holder->waiters, w, holder_link);
	TAILQ_REMOVE(&uq->waiters, w, user_link);
	if (TAILQ_EMPTY(&uq->waiters)) {
		TAILQ_REMOVE(&p->users, uq, link);
		free(uq);
	}
	heap_remove(&p->table->deadlines, &w->deadline);
	if (w->reserved != NULL)
		w->reserved->reserved = NULL;
	p->nwaiters--;
	w->holder->nwaiters--;
}

/* The next waiter to serve: the first of the user whose turn it is; that user goes last. */
static struct waiter *
next_waiter(struct pool *p)
{
	struct userq *uq = TAILQ_FIRST(&p->users);

	if (uq == NULL)
		return NULL;
	TAILQ_REMOVE(&p->users, uq, link);
	TAILQ_INSERT_TAIL(&p->users, uq, link);
	return TAILQ_FIRST(&uq->waiters);
}

/* The wait:false acquire it was started for, else the next waiter in turn. */
static struct waiter *
waiter_served_by(struct executor *ex)
{
	return ex->reserved != NULL ? ex->reserved : next_waiter(ex->pool);
}

/*
 * An executor starting that no waiter counts on: those without a
 * reservation serve the waiters without one, so one is spare when more are
 * starting than there are waiters.
 */
static struct executor *
spare_starting(struct pool *p)
{
	struct executor *ex;

	if (p->nstarting <= p->nwaiters)
		return NULL;
	TAILQ_FOREACH (ex, &p->executors, link)
		if (ex->state == EXECUTOR_STARTING && ex->reserved == NULL)
			return ex;
	return NULL;
}

static void
waiter_fail(struct waiter *w, const struct lp_error *err)
{
	struct lease_table *t = w->pool->table;

	waiter_remove(w);
	t->events->waiter_failed(w, err, t->arg);
	free(w);
}

/* An executor is free: the longest waiter gets it. */
static void
executor_free(struct executor *ex, double now)
{
	struct pool *p = ex->pool;
	struct lease_table *t = p->table;
	struct waiter *w;
	struct lease *l;

	ex->state = EXECUTOR_FREE;
	ex->lease = NULL;
	ex->feed = NULL;
	ex->feed_arg = NULL;
	TAILQ_INSERT_TAIL(&p->free, ex, free_link);
	p->nfree++;
	if (p->draining || (w = waiter_served_by(ex)) == NULL) {
		if (p->nexecutors > p->target)
			heap_set(&t->deadlines, &ex->idle,
			    now + p->cfg.idle_seconds);
		return;
	}
	waiter_remove(w);
	l = grant(p, ex, w->holder, w->owner, strlen(w->owner),
	    w->lease_seconds, now);
	histogram_add(&p->counters.acquire_wait, now - w->since);
	t->events->granted(w, l, t->arg);
	free(w);
}

void
lease_executor_ready(struct executor *ex, double now)
{
	struct pool *p = ex->pool;
	struct lease_table *t = p->table;

	p->nstarting--;
	executor_free(ex, now);
	/* A waiter's lease may have begun, or an idle deadline been set. */
	t->events->deadlines_changed(t->arg);
}

/*
 * The one place where an ended lease lets go: its executor returns once no
 * run is in flight, and the lease itself is freed once its holder has let go
 * too.
 */
static void
lease_settle(struct lease *l, double now)
{
	if (l->state != LEASE_ACTIVE && l->runs == 0 && l->executor != NULL) {
		struct executor *ex = l->executor;

		l->executor = NULL;
		executor_free(ex, now);
	} else if (l->state != LEASE_ACTIVE && l->executor != NULL) {
		l->executor->state = EXECUTOR_DRAINING;
	}
	if (l->holder == NULL && l->runs == 0) {
		TAILQ_REMOVE(&l->pool->table->leases, l, table_link);
		free(l);
	}
}

static void
lease_end(struct lease *l, enum lease_state state)
{
	l->state = state;
	heap_remove(&l->pool->table->deadlines, &l->deadline);
}

/*
 * Executors held and acquires waiting in p: of the holder h, or of every
 * holder of uid.  A lease that ended still holds its executor while its
 * runs drain, so it counts against whoever acquired it until the last one
 * is answered, even once that client let go of it or went away.
 */
static unsigned
count_claims(const struct pool *p, const struct holder *h, uid_t uid)
{
	const struct executor *ex;
	const struct waiter *w;
	unsigned n = 0;

	TAILQ_FOREACH (ex, &p->executors, link) {
		const struct lease *l = ex->lease;

		if (l != NULL && !l->for_grinder &&
		    (h != NULL ? l->holder_serial == h->serial : l->uid == uid))
			n++;
	}
	TAILQ_FOREACH (w, &p->waiters, pool_link)
		if (h != NULL ? w->holder == h : w->holder->uid == uid)
			n++;
	return n;
}

/* A pool's own grinder is not a client: the limits are for clients. */
static bool
over_limits(const struct pool *p, const struct holder *h, struct lp_error *err)
{
	unsigned max;

	if (h->grinder != NULL)
		return false;
	if ((max = p->cfg.max_leases_per_client) > 0 &&
	    count_claims(p, h, 0) >= max) {
		lp_error_set(err, LP_ERR_LIMIT_EXCEEDED,
		    "this client already holds or awaits "
		    "%u lease%s of pool '%s' (max_leases_per_client)",
		    max, lp_plural(max), p->cfg.name);
		return true;
	}
	if ((max = p->cfg.max_leases_per_user) > 0 &&
	    count_claims(p, NULL, h->uid) >= max) {
		lp_error_set(err, LP_ERR_LIMIT_EXCEEDED,
		    "user %u already holds or awaits "
		    "%u lease%s of pool '%s' (max_leases_per_user)",
		    (unsigned)h->uid, max, lp_plural(max), p->cfg.name);
		return true;
	}
	return false;
}

static enum lp_err
draining_error(const struct pool *p, struct lp_error *err)
{
	return lp_error_set(err, LP_ERR_UNAVAILABLE,
	    "pool '%s' is draining: it "
	    "grants no lease until it is resumed (leasepool resume)",
	    p->cfg.name);
}

enum lp_err
lease_acquire(struct pool *p, struct holder *h, const struct acquire *req,
    double now, struct lease **lease, struct waiter **waiter,
    struct lp_error *err)
{
	struct lease_table *t = p->table;
	struct executor *ex, *spare = NULL;
	struct waiter *w;

	*lease = NULL;
	*waiter = NULL;
	if (t->stopping)
		return lp_error_set(err, LP_ERR_STOPPING,
		    "the daemon is stopping");
	if (over_limits(p, h, err))
		return err->code;
	/* Waiters are served first come, first served: nobody jumps the queue. */
	if (!p->draining && TAILQ_EMPTY(&p->waiters) &&
	    (ex = TAILQ_FIRST(&p->free)) != NULL) {
		*lease = grant(p, ex, h, req->owner, req->owner_len,
		    req->lease_seconds, now);
		histogram_add(&p->counters.acquire_wait, 0);
		return LP_OK;
	}
	if (!req->wait && p->draining) {
		p->counters.unavailable++;
		return draining_error(p, err);
	}
	if (p->failing && (p->nfree == 0 || !req->wait)) {
		p->counters.unavailable++;
		return lp_error_set(err, LP_ERR_UNAVAILABLE,
		    "pool '%s' cannot start workers: %s", p->cfg.name,
		    p->failing_reason);
	}
	if (!req->wait && (spare = spare_starting(p)) == NULL &&
	    p->nexecutors >= p->cfg.executors_max) {
		p->counters.unavailable++;
		return lp_error_set(err, LP_ERR_UNAVAILABLE,
		    "no executor of pool '%s' is free (%u of %u leased)",
		    p->cfg.name, lease_pool_leased(p), p->cfg.executors_max);
	}
	w = zalloc(sizeof *w);
	w->pool = p;
	w->holder = h;
	copy_owner(w->owner, req->owner, req->owner_len);
	w->lease_seconds = req->lease_seconds;
	w->since = now;
	w->tag = req->tag;
	heap_item_init(&w->deadline, DEADLINE_WAITER);
	if (req->timeout > 0)
		heap_set(&t->deadlines, &w->deadline, now + req->timeout);
	TAILQ_INSERT_TAIL(&p->waiters, w, pool_link);
	TAILQ_INSERT_TAIL(&h->waiters, w, holder_link);
	w->userq = userq_of(p, h->uid);
	TAILQ_INSERT_TAIL(&w->userq->waiters, w, user_link);
	p->nwaiters++;
	h->nwaiters++;
	if (req->wait) {
		grow_for_waiters(p);
	} else {
		/* Ready comes on a later loop turn than the start: w is still waiting then. */
		w->reserved = spare != NULL ? spare : start_executor(p);
		w->reserved->reserved = w;
	}
	*waiter = w;
	return LP_OK;
}

struct lease *
lease_find(struct holder *h, uint64_t id)
{
	struct lease *l;

	TAILQ_FOREACH (l, &h->leases, holder_link)
		if (l->id == id)
			return l;
	return NULL;
}

static void
holder_let_go(struct lease *l)
{
	if (l->state == LEASE_EXPIRED)
		l->holder->nexpired--;
	TAILQ_REMOVE(&l->holder->leases, l, holder_link);
	l->holder = NULL;
}

void
lease_release(struct lease *l, double now)
{
	if (l->state == LEASE_ACTIVE) {
		lease_end(l, LEASE_RELEASED);
		l->pool->counters.released++;
	}
	holder_let_go(l);
	lease_settle(l, now);
}

/* Leases are listed in the order they were granted: the first expired one is the oldest. */
static void
forget_oldest_expired(struct holder *h, double now)
{
	struct lease *l;

	TAILQ_FOREACH (l, &h->leases, holder_link) {
		if (l->state == LEASE_EXPIRED) {
			holder_let_go(l);
			lease_settle(l, now);
			return;
		}
	}
}

static void
expire(struct lease *l, double now)
{
	struct lease_table *t = l->pool->table;
	struct holder *h = l->holder;

	lease_end(l, LEASE_EXPIRED);
	l->pool->counters.expired++;
	t->events->expired(l, t->arg);
	lease_settle(l, now);
	if (h != NULL && ++h->nexpired > LEASE_EXPIRED_REMEMBERED)
		forget_oldest_expired(h, now);
}

/* The timer may not have fired yet in this loop turn: the clock decides. */
static void
expire_if_due(struct lease *l, double now)
{
	if (l->state == LEASE_ACTIVE && now >= l->hard_expiry)
		expire(l, now);
}

enum lp_err
lease_renew(struct lease *l, double lease_seconds, double now, double *granted,
    struct lp_error *err)
{
	expire_if_due(l, now);
	if (l->state != LEASE_ACTIVE)
		return lp_error_set(err, LP_ERR_LEASE_EXPIRED,
		    "lease %llu has expired", (unsigned long long)l->id);
	l->term = lease_term(l->pool, l->holder, lease_seconds);
	l->soft_expiry = now + l->term;
	*granted = l->term;
	l->hard_expiry = l->soft_expiry + l->pool->cfg.grace_seconds;
	heap_set(&l->pool->table->deadlines, &l->deadline, l->hard_expiry);
	return LP_OK;
}

enum lp_err
lease_run_begin(struct lease *l, double now, struct lp_error *err)
{
	expire_if_due(l, now);
	if (l->state != LEASE_ACTIVE)
		return lp_error_set(err, LP_ERR_LEASE_EXPIRED,
		    "lease %llu has expired (hard expiry passed)",
		    (unsigned long long)l->id);
	l->runs++;
	return LP_OK;
}

void
lease_run_end(struct lease *l, double now)
{
	struct lease_table *t = l->pool->table;

	l->runs--;
	lease_settle(l, now);
	t->events->deadlines_changed(t->arg);
}

void
lease_holder_init(struct holder *h, void *ctx)
{
	/* Not its address: a new connection may get a closed one's memory. */
	static uint64_t holders;

	memset(h, 0, sizeof *h);
	h->serial = ++holders;
	TAILQ_INIT(&h->leases);
	TAILQ_INIT(&h->waiters);
	h->ctx = ctx;
}

void
lease_holder_drop(struct holder *h, double now)
{
	struct waiter *w;
	struct lease *l;

	while ((w = TAILQ_FIRST(&h->waiters)) != NULL) {
		waiter_remove(w);
		free(w);
	}
	while ((l = TAILQ_FIRST(&h->leases)) != NULL)
		lease_release(l, now);
}

static unsigned
pool_target(const struct pool *p)
{
	uint64_t per =
	    p->cfg.units_per_executor ? p->cfg.units_per_executor : 1;
	uint64_t want = (p->units + per - 1) / per;

	/* A drain grants nothing more: it wants no executor warm. */
	if (p->table->stopping)
		return 0;
	if (want < p->cfg.executors_min)
		want = p->cfg.executors_min;
	if (want > p->cfg.executors_max)
		want = p->cfg.executors_max;
	return (unsigned)want;
}

static void
retarget(struct pool *p, double now)
{
	struct executor *ex;
	unsigned above;

	p->target = pool_target(p);
	while (p->nexecutors < p->target)
		start_executor(p);
	/*
	 * A reload that raised executors_max made room: the waiters get it
	 * first, through executors that serve them as they come up, the way a
	 * released one does.
	 */
	grow_for_waiters(p);
	/* Free executors above the target go, the longest idle first. */
	above = p->nexecutors > p->target ? p->nexecutors - p->target : 0;
	TAILQ_FOREACH (ex, &p->free, free_link) {
		if (above == 0)
			heap_remove(&p->table->deadlines, &ex->idle);
		else if (!heap_contains(&ex->idle))
			heap_set(&p->table->deadlines, &ex->idle,
			    now + p->cfg.idle_seconds);
		above -= above > 0;
	}
}

void
lease_pool_scale(struct pool *p, uint64_t units, double now)
{
	p->units = units > UINT_MAX ? UINT_MAX : (unsigned)units;
	retarget(p, now);
}

/* The executor leaves the pool, and the backend lets its workers go. */
static void
executor_remove(struct executor *ex)
{
	struct pool *p = ex->pool;

	TAILQ_REMOVE(&p->executors, ex, link);
	p->nexecutors--;
	p->table->events->stop_executor(ex, p->table->arg);
	free(ex);
}

/* An idle executor's time is up: it goes, unless the pool needs it again. */
static void
retire(struct executor *ex)
{
	struct pool *p = ex->pool;

	if (ex->state != EXECUTOR_FREE || p->nexecutors <= p->target)
		return;
	TAILQ_REMOVE(&p->free, ex, free_link);
	p->nfree--;
	executor_remove(ex);
}

bool
lease_deadline_set(struct lease_table *t, struct deadline *d, double when)
{
	heap_item_init(d, DEADLINE_USER);
	heap_set(&t->deadlines, d, when);
	return heap_top(&t->deadlines) == d;
}

void
lease_deadline_cancel(struct lease_table *t, struct deadline *d)
{
	heap_remove(&t->deadlines, d);
}

double
lease_table_advance(struct lease_table *t, double now)
{
	struct deadline *d;

	while ((d = heap_top(&t->deadlines)) != NULL && d->when <= now) {
		if (d->kind == DEADLINE_IDLE) {
			heap_remove(&t->deadlines, d);
			retire(container_of(d, struct executor, idle));
		} else if (d->kind == DEADLINE_WAITER) {
			struct waiter *w =
			    container_of(d, struct waiter, deadline);
			struct lp_error err;

			w->pool->counters.acquire_timeouts++;
			lp_error_set(&err, LP_ERR_TIMEOUT,
			    "no executor of pool '%s' became free within %.3f s%s",
			    w->pool->cfg.name, d->when - w->since,
			    w->pool->draining ? " (the pool is draining)" : "");
			waiter_fail(w, &err);
		} else if (d->kind == DEADLINE_USER) {
			heap_remove(&t->deadlines, d);
			t->events->deadline(d, t->arg);
		} else {
			expire(container_of(d, struct lease, deadline), now);
		}
	}
	return d != NULL ? d->when : 0;
}

static void
fail_all_waiters(struct pool *p, const struct lp_error *err)
{
	struct waiter *w;

	while ((w = TAILQ_FIRST(&p->waiters)) != NULL)
		waiter_fail(w, err);
}

/*
 * An executor still starting would serve nobody once the daemon stops, and
 * may never finish (the process backend kills the workers the fork server
 * hands it then): it goes now rather than show as starting until the end.
 */
static void
withdraw_starting(struct pool *p)
{
	struct executor *ex = TAILQ_FIRST(&p->executors), *next;

	for (; ex != NULL; ex = next) {
		next = TAILQ_NEXT(ex, link);
		if (ex->state == EXECUTOR_STARTING) {
			p->nstarting--;
			executor_remove(ex);
		}
	}
}

void
lease_table_stop(struct lease_table *t)
{
	struct lp_error err;

	t->stopping = true;
	lp_error_set(&err, LP_ERR_STOPPING, "the daemon is stopping");
	for (size_t i = 0; i < t->npools; i++) {
		struct pool *p = &t->pools[i];

		fail_all_waiters(p, &err);
		withdraw_starting(p);
		p->target = pool_target(p);
	}
}

void
lease_pool_refuse_waiters(struct pool *p, lease_may_use_fn *may_use)
{
	TAILQ_HEAD(, waiter) refused = TAILQ_HEAD_INITIALIZER(refused);
	struct lease_table *t = p->table;
	struct waiter *w, *next;
	struct lp_error err;

	/* All unlinked first: an answer may close a connection, which drops its other waiters. */
	for (w = TAILQ_FIRST(&p->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, pool_link);
		if (w->holder->grinder == NULL && !may_use(w->holder, p)) {
			waiter_remove(w);
			TAILQ_INSERT_TAIL(&refused, w, pool_link);
		}
	}
	while ((w = TAILQ_FIRST(&refused)) != NULL) {
		TAILQ_REMOVE(&refused, w, pool_link);
		lp_error_set(&err, LP_ERR_PERMISSION_DENIED,
		    "uid %u may no longer use pool '%s' "
		    "(a reload changed its allow_users or allow_groups)",
		    (unsigned)w->holder->uid, p->cfg.name);
		t->events->waiter_failed(w, &err, t->arg);
		free(w);
	}
}

void
lease_pool_failing(struct pool *p, const char *reason)
{
	struct lp_error err;

	p->failing = true;
	p->counters.unavailable += p->nwaiters;
	snprintf(p->failing_reason, sizeof p->failing_reason, "%s", reason);
	lp_error_set(&err, LP_ERR_UNAVAILABLE,
	    "pool '%s' cannot start workers: %s", p->cfg.name, reason);
	fail_all_waiters(p, &err);
}

void
lease_pool_recovered(struct pool *p)
{
	p->failing = false;
	p->failing_reason[0] = '\0';
	grow_for_waiters(p);
}

void
lease_pool_drain(struct pool *p)
{
	struct waiter *w;
	struct lp_error err;

	p->draining = true;
	/*
	 * Acquires without wait must not wait for the resume.  From the head
	 * each time: an answer may close a connection, which drops its other
	 * waiters.
	 */
	draining_error(p, &err);
	do {
		TAILQ_FOREACH (w, &p->waiters, pool_link)
			if (w->reserved != NULL)
				break;
		if (w != NULL) {
			p->counters.unavailable++;
			waiter_fail(w, &err);
		}
	} while (w != NULL);
}

void
lease_pool_resume(struct pool *p, double now)
{
	struct executor *ex;

	p->draining = false;
	/* The executors that came free meanwhile go to the waiters, as if freed now. */
	while (p->nwaiters > 0 && (ex = TAILQ_FIRST(&p->free)) != NULL) {
		TAILQ_REMOVE(&p->free, ex, free_link);
		p->nfree--;
		executor_free(ex, now);
	}
	grow_for_waiters(p);
}
