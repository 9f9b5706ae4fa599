/* SPDX-License-Identifier: ISC */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/backend/backend.h"
#include "daemon/backend/executor.h"
#include "daemon/backend/forkserver.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/jobs/exec.h"
#include "daemon/core/run.h"
#include "daemon/jobs/jobs.h"
#include "daemon/jobs/privs.h"
#include "daemon/server/admin.h"
#include "daemon/server/conn.h"
#include "daemon/server/dispatch.h"
#include "daemon/server/grinder.h"
#include "daemon/server/server.h"
#include "daemon/server/stats.h"
#include "proto/text.h"

static void answer_error(struct conn *c, uint32_t msgid, enum lp_err code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
answer_error(struct conn *c, uint32_t msgid, enum lp_err code, const char *fmt,
    ...)
{
	struct lp_error err = { .code = code };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err.message, sizeof err.message, fmt, ap);
	va_end(ap);
	conn_send_error(c, msgid, &err);
}

/* Once the drain has begun, nothing new is taken on. */
static bool
refuse_when_stopping(struct conn *c, uint32_t msgid)
{
	if (server.stopping)
		answer_error(c, msgid, LP_ERR_STOPPING,
		    "the daemon is stopping");
	return server.stopping;
}

static struct pool *
find_pool(struct conn *c, uint32_t msgid, bool named, struct lp_str name)
{
	char buf[LP_QUOTE_SIZE];
	struct pool *p;

	if (!named)
		return lease_table_pool(&server.leases, server.cfg.default_pool,
		    strlen(server.cfg.default_pool));
	if ((p = lease_table_pool(&server.leases, name.ptr, name.len)) == NULL)
		answer_error(c, msgid, LP_ERR_NO_SUCH_POOL,
		    "no pool named '%s' (hello lists them)",
		    lp_quote(name.ptr, name.len, buf));
	return p;
}

bool
dispatch_may_use(const struct holder *h, const struct pool *pool)
{
	const struct pool_config *cfg = &pool->cfg;

	if (cfg->allow_users.n == 0 && cfg->allow_groups.n == 0)
		return true;
	for (unsigned i = 0; i < cfg->allow_users.n; i++)
		if (cfg->allow_users.ids[i] == h->uid)
			return true;
	for (unsigned i = 0; i < cfg->allow_groups.n; i++)
		if (conn_has_group(h->ctx, cfg->allow_groups.ids[i]))
			return true;
	return false;
}

static bool
pool_allows(struct conn *c, uint32_t msgid, const struct pool *pool)
{
	const struct pool_config *cfg = &pool->cfg;

	if (dispatch_may_use(&c->holder, pool))
		return true;
	log_warn("%s: refused pool %s (allow_users, allow_groups)",
	    conn_label(c), cfg->name);
	answer_error(c, msgid, LP_ERR_PERMISSION_DENIED,
	    "uid %u may not use pool '%s'", (unsigned)c->holder.uid, cfg->name);
	return false;
}

/* Runs, submissions and waiting acquires in flight on one connection are bounded. */
static bool
room_for_request(struct conn *c, uint32_t msgid)
{
	unsigned max = server.cfg.max_requests_per_connection;

	if (c->nruns + c->holder.nwaiters < max)
		return true;
	log_warn("%s: %u request%s in flight (max_requests_per_connection)",
	    conn_label(c), max, lp_plural(max));
	answer_error(c, msgid, LP_ERR_LIMIT_EXCEEDED,
	    "%u request%s already in flight on this "
	    "connection (max_requests_per_connection)",
	    max, lp_plural(max));
	return false;
}

static struct lease *
find_lease(struct conn *c, uint32_t msgid, uint64_t id)
{
	struct lease *l = lease_find(&c->holder, id);

	if (l == NULL)
		answer_error(c, msgid, LP_ERR_NO_SUCH_LEASE,
		    "no lease %llu on this connection", (unsigned long long)id);
	return l;
}

/* Whether hello names the pool: one c may use, and allows exec if exec_only. */
static bool
hello_names(const struct conn *c, const struct pool *pool, bool exec_only)
{
	return (!exec_only || pool->cfg.exec) &&
	    dispatch_may_use(&c->holder, pool);
}

/* The names of the pools c may use, or only of those with exec = yes. */
static void
pack_pool_names(msgpack_packer *pk, const struct conn *c, bool exec_only)
{
	uint32_t n = 0;

	for (size_t i = 0; i < server.leases.npools; i++)
		n += hello_names(c, &server.leases.pools[i], exec_only);
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < server.leases.npools; i++) {
		if (hello_names(c, &server.leases.pools[i], exec_only))
			lp_pack_cstr(pk, server.leases.pools[i].cfg.name);
	}
}

/*
 * A reload may have taken the lease's pool from this user: the lease ends
 * (runs already accepted on it finish) and the request is refused.
 */
static bool
lease_still_allowed(struct conn *c, uint32_t msgid, struct lease *l)
{
	if (pool_allows(c, msgid, l->pool))
		return true;
	log_notice(
	    "lease %llu of %s released: pool %s no longer admits it (%u run%s in flight)",
	    (unsigned long long)l->id, conn_label(c), l->pool->cfg.name,
	    l->runs, lp_plural(l->runs));
	lease_release(l, clock_now());
	return false;
}

/* {name: worker_program} of the pools c may use whose workers run a program. */
static void
pack_worker_programs(msgpack_packer *pk, const struct conn *c)
{
	uint32_t n = 0;

	for (size_t i = 0; i < server.leases.npools; i++)
		n += hello_names(c, &server.leases.pools[i], false) &&
		    server.leases.pools[i].cfg.worker_program[0] != '\0';
	msgpack_pack_map(pk, n);
	for (size_t i = 0; i < server.leases.npools; i++) {
		const struct pool_config *cfg = &server.leases.pools[i].cfg;

		if (hello_names(c, &server.leases.pools[i], false) &&
		    cfg->worker_program[0] != '\0')
			lp_pack_kv_str(pk, cfg->name, cfg->worker_program);
	}
}

static void
do_hello(struct conn *c, const struct lp_request *req)
{
	const struct lp_hello_params *p = &req->p.hello;
	msgpack_packer *pk = conn_packer();

	if (p->has_client) {
		snprintf(c->name, sizeof c->name, "%.*s", (int)p->client.len,
		    p->client.ptr);
		/* The cut may fall inside a character: stats must stay UTF-8. */
		lp_utf8_repair(c->name, strlen(c->name));
	}
	if (p->has_errors)
		c->error_form = p->errors;
	lp_pack_response_ok(pk, req->msgid);
	msgpack_pack_map(pk, 7);
	lp_pack_kv_str(pk, "server", "leasepoold " LP_VERSION);
	lp_pack_kv_u64(pk, "protocol", LP_PROTOCOL_VERSION);
	lp_pack_kv_u64(pk, "pid", (uint64_t)getpid());
	lp_pack_cstr(pk, "pools");
	pack_pool_names(pk, c, false);
	lp_pack_cstr(pk, "exec_pools");
	pack_pool_names(pk, c, true);
	lp_pack_cstr(pk, "worker_programs");
	pack_worker_programs(pk, c);
	lp_pack_cstr(pk, "functions");
	msgpack_pack_array(pk, (uint32_t)jobs_count());
	for (size_t i = 0; i < jobs_count(); i++)
		lp_pack_cstr(pk, jobs_name(i));
	conn_send(c);
}

static void
answer_lease(struct conn *c, uint32_t msgid, const struct lease *l)
{
	msgpack_packer *pk = conn_packer();

	lp_pack_response_ok(pk, msgid);
	msgpack_pack_map(pk, 6);
	lp_pack_kv_u64(pk, "lease", l->id);
	lp_pack_kv_str(pk, "pool", l->pool->cfg.name);
	lp_pack_kv_str(pk, "backend",
	    config_backend_name(l->pool->cfg.backend));
	lp_pack_kv_u64(pk, "workers", l->pool->cfg.workers);
	lp_pack_kv_double(pk, "lease_seconds", l->term);
	lp_pack_kv_double(pk, "grace_seconds", l->pool->cfg.grace_seconds);
	conn_send(c);
	log_debug("lease %llu granted to %s on pool %s executor %u%s%s",
	    (unsigned long long)l->id, conn_label(c), l->pool->cfg.name,
	    l->executor->id, l->owner[0] ? ", owner " : "", l->owner);
}

static void
do_acquire(struct conn *c, const struct lp_request *req)
{
	const struct lp_acquire_params *p = &req->p.acquire;
	struct acquire a = {
		.owner = p->has_owner ? p->owner.ptr : NULL,
		.owner_len = p->has_owner ? p->owner.len : 0,
		.lease_seconds = p->has_lease_seconds ? p->lease_seconds : 0,
		.wait = p->wait,
		.timeout = p->has_timeout ? p->timeout : 0,
		.tag = req->msgid,
	};
	struct pool *pool;
	struct lease *l;
	struct waiter *w;
	struct lp_error err;

	if ((pool = find_pool(c, req->msgid, p->has_pool, p->pool)) == NULL ||
	    !pool_allows(c, req->msgid, pool) ||
	    !room_for_request(c, req->msgid))
		return;
	if (lease_acquire(pool, &c->holder, &a, clock_now(), &l, &w, &err) !=
	    LP_OK) {
		conn_send_error(c, req->msgid, &err);
		return;
	}
	if (l != NULL)
		answer_lease(c, req->msgid, l);
	else
		log_debug("%s waits for pool %s (%u waiting)", conn_label(c),
		    pool->cfg.name, pool->nwaiters);
}

/*
 * Programs may start as another uid: the daemon had the capabilities for
 * it, and so has its fork server, unless that is a restarted one, which
 * the daemon started after it dropped them (privs.h).
 */
static bool
exec_can_switch(void)
{
	return privs_exec_any_user() && !forkserver_has_died();
}

/* The function exists, can run on the pool's backend, and the pool lets this client run it. */
static bool
function_allowed(struct conn *c, uint32_t msgid, const struct pool *pool,
    struct lp_str fn)
{
	const struct lp_job_function *f;
	char buf[LP_QUOTE_SIZE];

	if (pool->cfg.worker_program[0] != '\0' && exec_is(fn)) {
		log_warn(
		    "%s: exec refused on pool %s: it runs a worker_program",
		    conn_label(c), pool->cfg.name);
		answer_error(c, msgid, LP_ERR_PERMISSION_DENIED,
		    "pool '%s' does not allow exec: its workers run a worker_program",
		    pool->cfg.name);
		return false;
	}
	/* Its program knows its functions, and answers NO_SUCH_FUNCTION for the others. */
	if (pool->cfg.worker_program[0] != '\0')
		return true;
	if ((f = jobs_find(fn.ptr, fn.len)) == NULL) {
		answer_error(c, msgid, LP_ERR_NO_SUCH_FUNCTION,
		    "no function named '%s' (hello lists them)",
		    lp_quote(fn.ptr, fn.len, buf));
		return false;
	}
	if (pool->cfg.backend == LP_BACKEND_THREAD &&
	    (f->flags & LP_JOB_THREAD_SAFE) == 0) {
		answer_error(c, msgid, LP_ERR_INVALID_ARGUMENT,
		    "function '%s' is not marked thread-safe; run it on a process pool",
		    f->name);
		return false;
	}
	if (!pool->cfg.exec && exec_is(fn)) {
		log_warn("%s: exec refused on pool %s", conn_label(c),
		    pool->cfg.name);
		answer_error(c, msgid, LP_ERR_PERMISSION_DENIED,
		    "pool '%s' does not allow exec (set exec = yes in its [pool %s] section)",
		    pool->cfg.name, pool->cfg.name);
		return false;
	}
	if (exec_is(fn) && c->holder.uid != geteuid() && !exec_can_switch()) {
		log_warn(
		    "%s: exec refused on pool %s: the daemon cannot switch users",
		    conn_label(c), pool->cfg.name);
		answer_error(c, msgid, LP_ERR_PERMISSION_DENIED,
		    "exec runs programs as the user who asks, and this daemon (uid %u) cannot "
		    "switch users (%s): only uid %u may exec here",
		    (unsigned)geteuid(),
		    privs_exec_any_user() ?
			"its fork server was restarted without CAP_SETUID, "
			"CAP_SETGID and CAP_KILL; restart leasepoold" :
			"it has no CAP_SETUID, CAP_SETGID and CAP_KILL",
		    (unsigned)geteuid());
		return false;
	}
	return true;
}

/* The pool's job_timeout is the default and the ceiling. */
static double
job_timeout(const struct pool *pool, bool has_timeout, double timeout)
{
	if (has_timeout && timeout < pool->cfg.job_timeout)
		return timeout;
	return pool->cfg.job_timeout;
}

static void
do_run(struct conn *c, const struct lp_request *req)
{
	const struct lp_run_params *p = &req->p.run;
	struct lease *l;
	struct lp_error err;
	struct run_caller caller = conn_caller(c);
	double timeout;
	struct run *r;

	if ((l = find_lease(c, req->msgid, p->lease)) == NULL ||
	    !lease_still_allowed(c, req->msgid, l))
		return;
	if (refuse_when_stopping(c, req->msgid) ||
	    !room_for_request(c, req->msgid) ||
	    !function_allowed(c, req->msgid, l->pool, p->fn))
		return;
	if (lease_run_begin(l, clock_now(), &err) != LP_OK) {
		conn_send_error(c, req->msgid, &err);
		return;
	}
	timeout = job_timeout(l->pool, p->has_timeout, p->timeout);
	r = run_new(&conn_run_owner, &caller, req->msgid, l->pool, l,
	    &(struct run_job){ .fn = p->fn,
		.args = p->args,
		.kwargs = p->kwargs,
		.timeout = timeout,
		.as_caller = exec_is(p->fn) });
	conn_add_run(c, r);
	executor_submit(l->executor, r);
}

static void
do_release(struct conn *c, const struct lp_request *req)
{
	struct lease *l;

	if ((l = find_lease(c, req->msgid, req->p.release.lease)) == NULL)
		return;
	log_debug("lease %llu released by %s (%u run%s in flight)",
	    (unsigned long long)l->id, conn_label(c), l->runs,
	    lp_plural(l->runs));
	lease_release(l, clock_now());
	lp_pack_response_ok(conn_packer(), req->msgid);
	msgpack_pack_true(&server.packer);
	conn_send(c);
}

static void
do_renew(struct conn *c, const struct lp_request *req)
{
	const struct lp_renew_params *p = &req->p.renew;
	struct lp_error err;
	struct lease *l;
	double granted;

	if ((l = find_lease(c, req->msgid, p->lease)) == NULL ||
	    !lease_still_allowed(c, req->msgid, l))
		return;
	if (lease_renew(l, p->has_lease_seconds ? p->lease_seconds : 0,
		clock_now(), &granted, &err) != LP_OK) {
		conn_send_error(c, req->msgid, &err);
		return;
	}
	lp_pack_response_ok(conn_packer(), req->msgid);
	msgpack_pack_map(&server.packer, 1);
	lp_pack_kv_double(&server.packer, "lease_seconds", granted);
	conn_send(c);
}

static void
do_stats(struct conn *c, const struct lp_request *req)
{
	const struct lp_stats_params *p = &req->p.stats;
	struct pool *pool = NULL;
	msgpack_packer *pk;

	if (p->has_pool &&
	    (pool = find_pool(c, req->msgid, true, p->pool)) == NULL)
		return;
	pk = conn_packer();
	lp_pack_response_ok(pk, req->msgid);
	stats_pack(pk, pool, c, clock_now());
	conn_send(c);
}

static void
do_submit(struct conn *c, const struct lp_request *req)
{
	const struct lp_submit_params *p = &req->p.submit;
	struct pool *pool;

	if ((pool = find_pool(c, req->msgid, p->has_pool, p->pool)) == NULL ||
	    !pool_allows(c, req->msgid, pool))
		return;
	if (refuse_when_stopping(c, req->msgid) ||
	    !room_for_request(c, req->msgid) ||
	    !function_allowed(c, req->msgid, pool, p->fn))
		return;
	grinder_submit(c, req->msgid, pool, p,
	    job_timeout(pool, p->has_timeout, p->timeout));
}

static void
do_scale(struct conn *c, const struct lp_request *req)
{
	const struct lp_scale_params *p = &req->p.scale;
	struct pool *pool;
	msgpack_packer *pk;

	if ((pool = find_pool(c, req->msgid, p->has_pool, p->pool)) == NULL ||
	    !pool_allows(c, req->msgid, pool) ||
	    refuse_when_stopping(c, req->msgid))
		return;
	lease_pool_scale(pool, p->units, clock_now());
	log_info("%s scaled pool %s to %llu unit%s: target %u executor%s",
	    conn_label(c), pool->cfg.name, (unsigned long long)p->units,
	    lp_plural(p->units), pool->target, lp_plural(pool->target));
	pk = conn_packer();
	lp_pack_response_ok(pk, req->msgid);
	msgpack_pack_map(pk, 3);
	lp_pack_kv_str(pk, "pool", pool->cfg.name);
	lp_pack_kv_u64(pk, "units", pool->units);
	lp_pack_kv_u64(pk, "target", pool->target);
	conn_send(c);
}

/* A run of c's, or an item, cancelled: counted in by its stage. */
static void
cancel_one(struct run *r, uint64_t counts[2])
{
	enum run_cancel how = r->grinder != NULL ?
	    grinder_cancel(r) :
	    executor_cancel(r->lease->executor, r);

	counts[how == RUN_WITHDRAWN ? 0 : 1]++;
}

/*
 * Cancels one request of c's (by its msgid) or every run on one of its
 * leases.  Each is answered CANCELLED before the cancel itself is.  A
 * msgid with nothing in flight was answered already: the race is normal.
 */
static void
do_cancel(struct conn *c, const struct lp_request *req)
{
	const struct lp_cancel_params *p = &req->p.cancel;
	uint64_t counts[2] = { 0, 0 }, finished = 0;
	struct run *r, *next;
	struct lease *l;
	msgpack_packer *pk;

	if (p->has_msgid && conn_acquire_waits(c, p->msgid)) {
		answer_error(c, req->msgid, LP_ERR_INVALID_ARGUMENT,
		    "msgid %" PRIu32
		    " is an acquire waiting for a lease; cancel takes a run or a submit",
		    p->msgid);
		return;
	}
	if (p->has_msgid) {
		if ((r = conn_run_of(c, p->msgid)) != NULL)
			cancel_one(r, counts);
		else
			finished++;
	} else {
		if ((l = find_lease(c, req->msgid, p->lease)) == NULL)
			return;
		/* Its CANCELLED answer takes r off the list. */
		for (r = TAILQ_FIRST(&c->runs); r != NULL; r = next) {
			next = TAILQ_NEXT(r, conn_link);
			if (r->lease == l && r->grinder == NULL)
				cancel_one(r, counts);
		}
	}
	log_debug("%s cancelled %" PRIu64 " queued and %" PRIu64
		  " running request%s",
	    conn_label(c), counts[0], counts[1],
	    lp_plural(counts[0] + counts[1]));
	pk = conn_packer();
	lp_pack_response_ok(pk, req->msgid);
	msgpack_pack_map(pk, 3);
	lp_pack_kv_u64(pk, "queued", counts[0]);
	lp_pack_kv_u64(pk, "running", counts[1]);
	lp_pack_kv_u64(pk, "finished", finished);
	conn_send(c);
}

/* Is the daemon there and reading: the cheapest round trip. */
static void
do_ping(struct conn *c, const struct lp_request *req)
{
	lp_pack_response_ok(conn_packer(), req->msgid);
	msgpack_pack_true(&server.packer);
	conn_send(c);
}

void
dispatch(struct conn *c, const struct lp_request *req)
{
	static void (*const handlers[LP_METHOD__COUNT])(struct conn *,
	    const struct lp_request *) = {
		[LP_METHOD_HELLO] = do_hello,
		[LP_METHOD_ACQUIRE] = do_acquire,
		[LP_METHOD_RUN] = do_run,
		[LP_METHOD_RELEASE] = do_release,
		[LP_METHOD_RENEW] = do_renew,
		[LP_METHOD_SUBMIT] = do_submit,
		[LP_METHOD_STATS] = do_stats,
		[LP_METHOD_SCALE] = do_scale,
		[LP_METHOD_RELOAD] = admin_reload,
		[LP_METHOD_DRAIN] = admin_drain,
		[LP_METHOD_RESUME] = admin_resume,
		[LP_METHOD_CONFIG] = admin_config,
		[LP_METHOD_PING] = do_ping,
		[LP_METHOD_CANCEL] = do_cancel,
	};

	/* Two answers to one msgid could not be told apart: the second request is refused. */
	if (conn_msgid_in_flight(c, req->msgid)) {
		answer_error(c, req->msgid, LP_ERR_INVALID_REQUEST,
		    "msgid %" PRIu32
		    " is already "
		    "in flight on this connection: a msgid is unique until it is answered",
		    req->msgid);
		return;
	}
	handlers[req->method](c, req);
}

/* ---- the delayed halves of acquire ---- */

static void
on_granted(struct waiter *w, struct lease *l, void *arg)
{
	if (w->holder->grinder != NULL)
		grinder_granted(w->holder, l);
	else
		answer_lease(w->holder->ctx, w->tag, l);
}

static void
on_waiter_failed(struct waiter *w, const struct lp_error *err, void *arg)
{
	struct conn *c = w->holder->ctx;

	if (w->holder->grinder != NULL) {
		grinder_acquire_failed(w->holder, err);
		return;
	}
	log_debug("%s: acquire on pool %s failed: %s", conn_label(c),
	    w->pool->cfg.name, err->message);
	conn_send_error(c, w->tag, err);
}

static void
on_expired(struct lease *l, void *arg)
{
	log_debug("lease %llu of %s on pool %s expired (%u run%s in flight)",
	    (unsigned long long)l->id,
	    l->holder != NULL ? conn_label(l->holder->ctx) : "a closed client",
	    l->pool->cfg.name, l->runs, lp_plural(l->runs));
}

static void
on_start_executor(struct executor *ex, void *arg)
{
	backend_of(ex->pool)->start_executor(ex);
}

static void
on_stop_executor(struct executor *ex, void *arg)
{
	if (ex->state == EXECUTOR_STARTING)
		log_info(
		    "pool %s: executor %u was still starting; withdrawn by the stop",
		    ex->pool->cfg.name, ex->id);
	else
		log_info("pool %s: executor %u idle above the target; retired",
		    ex->pool->cfg.name, ex->id);
	backend_of(ex->pool)->stop_executor(ex);
}

/* Once for all the runs that end in this loop turn. */
static void
on_deadlines_changed(void *arg)
{
	server_schedule_soon();
}

/* The only deadlines of ours in the table's heap: submissions still queued. */
static void
on_deadline(struct deadline *d, void *arg)
{
	grinder_deadline(d);
}

const struct lease_events dispatch_lease_events = {
	.granted = on_granted,
	.waiter_failed = on_waiter_failed,
	.expired = on_expired,
	.start_executor = on_start_executor,
	.stop_executor = on_stop_executor,
	.deadline = on_deadline,
	.deadlines_changed = on_deadlines_changed,
};
