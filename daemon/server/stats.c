/* SPDX-License-Identifier: ISC */
#include <math.h>
#include <stdbool.h>
#include <unistd.h>

#include "daemon/backend/backend.h"
#include "daemon/core/run.h"
#include "daemon/server/conn.h"
#include "daemon/server/grinder.h"
#include "daemon/server/server.h"
#include "daemon/server/stats.h"
#include "proto/rpc.h"

/*
 * Who may see the pids, owners and names of uid's clients and leases: that
 * user, root and the daemon's own user (who could read them in its memory
 * anyway).  Everyone else, and an anonymous viewer (NULL: the metrics
 * endpoint), gets only counts.
 */
static bool
may_see(const struct conn *viewer, uid_t uid)
{
	return viewer != NULL &&
	    (viewer->holder.uid == uid || conn_is_admin(viewer));
}

enum shown_state {
	SHOWN_ACTIVE,
	SHOWN_GRACE,
	SHOWN_DRAINING,
	SHOWN_EXPIRED,
	SHOWN__COUNT
};

static const char *const shown_state_names[SHOWN__COUNT] = {
	"active",
	"grace",
	"draining",
	"expired",
};

static enum shown_state
shown_state(const struct lease *l, double now)
{
	switch (l->state) {
	case LEASE_ACTIVE:
		return now < l->soft_expiry ? SHOWN_ACTIVE : SHOWN_GRACE;
	case LEASE_RELEASED:
		return SHOWN_DRAINING;
	case LEASE_EXPIRED:
		break;
	}
	return SHOWN_EXPIRED;
}

/* Seconds from now to when, while l is active; 0 once it passed or l ended. */
static double
seconds_left(const struct lease *l, double when, double now)
{
	return l->state == LEASE_ACTIVE && when > now ? when - now : 0;
}

static void
pack_lease(msgpack_packer *pk, const struct lease *l, double now)
{
	int64_t ids[64];
	unsigned nids = backend_of(l->pool)->worker_ids(l->executor, ids, 64);

	msgpack_pack_map(pk, 11);
	lp_pack_kv_u64(pk, "id", l->id);
	lp_pack_kv_str(pk, "owner", l->owner);
	lp_pack_kv_str(pk, "state", shown_state_names[shown_state(l, now)]);
	lp_pack_kv_u64(pk, "executor", l->executor->id);
	/* Whoever acquired it, also while it drains after a release. */
	lp_pack_kv_i64(pk, "pid", l->pid);
	lp_pack_kv_i64(pk, "uid", l->uid);
	lp_pack_kv_double(pk, "age", now - l->acquired);
	/* Both count down to 0 and stay there: the term first, then the grace after it. */
	lp_pack_kv_double(pk, "expires_in",
	    seconds_left(l, l->soft_expiry, now));
	lp_pack_kv_double(pk, "grace_left",
	    seconds_left(l, l->hard_expiry, fmax(now, l->soft_expiry)));
	lp_pack_kv_u64(pk, "runs", l->runs);
	lp_pack_cstr(pk, "workers");
	msgpack_pack_array(pk, nids);
	for (unsigned i = 0; i < nids; i++)
		msgpack_pack_int64(pk, ids[i]);
}

static void
pack_counters(msgpack_packer *pk, const struct pool_counters *n)
{
	msgpack_pack_map(pk, 9);
	lp_pack_kv_u64(pk, "granted", n->granted);
	lp_pack_kv_u64(pk, "released", n->released);
	lp_pack_kv_u64(pk, "expired", n->expired);
	lp_pack_kv_u64(pk, "acquire_timeouts", n->acquire_timeouts);
	lp_pack_kv_u64(pk, "unavailable", n->unavailable);
	lp_pack_kv_u64(pk, "completed", n->runs_completed);
	lp_pack_kv_u64(pk, "failed", n->runs_failed);
	lp_pack_kv_u64(pk, "timed_out", n->runs_timed_out);
	lp_pack_kv_u64(pk, "crashed", n->runs_crashed);
}

/* {count, sum, buckets: [[le, samples at most le seconds], ...]}, +Inf left to count. */
static void
pack_histogram(msgpack_packer *pk, const char *key, const struct histogram *h)
{
	lp_pack_cstr(pk, key);
	msgpack_pack_map(pk, 3);
	lp_pack_kv_u64(pk, "count", histogram_count(h));
	lp_pack_kv_double(pk, "sum", h->sum);
	lp_pack_cstr(pk, "buckets");
	msgpack_pack_array(pk, HISTOGRAM_BOUNDS);
	for (unsigned i = 0; i < HISTOGRAM_BOUNDS; i++) {
		msgpack_pack_array(pk, 2);
		msgpack_pack_double(pk, histogram_bounds[i]);
		msgpack_pack_uint64(pk, histogram_cumulative(h, i));
	}
}

/* Workers still busy with a job answered JOB_TIMEOUT: a backend that kills such jobs has none. */
static unsigned
stuck_workers(const struct pool *p)
{
	const struct backend_ops *b = backend_of(p);

	return b->stuck_workers != NULL ? b->stuck_workers(p) : 0;
}

static void
pack_pool(msgpack_packer *pk, const struct pool *p, const struct conn *viewer,
    double now)
{
	const struct executor *ex;
	unsigned runs = 0, shown = 0, states[SHOWN__COUNT] = { 0 };

	TAILQ_FOREACH (ex, &p->executors, link) {
		if (ex->lease != NULL) {
			runs += ex->lease->runs;
			states[shown_state(ex->lease, now)]++;
			shown += may_see(viewer, ex->lease->uid);
		}
	}
	lp_pack_cstr(pk, p->cfg.name);
	msgpack_pack_map(pk, 17);
	lp_pack_kv_str(pk, "backend", config_backend_name(p->cfg.backend));
	lp_pack_kv_str(pk, "worker_program", p->cfg.worker_program);
	lp_pack_kv_u64(pk, "workers", p->cfg.workers);
	lp_pack_cstr(pk, "executors");
	msgpack_pack_map(pk, 10);
	lp_pack_kv_u64(pk, "min", p->cfg.executors_min);
	lp_pack_kv_u64(pk, "max", p->cfg.executors_max);
	lp_pack_kv_u64(pk, "target", p->target);
	lp_pack_kv_u64(pk, "total", p->nexecutors);
	lp_pack_kv_u64(pk, "warm", p->nexecutors - p->nstarting);
	lp_pack_kv_u64(pk, "idle", p->nfree);
	lp_pack_kv_u64(pk, "busy", lease_pool_leased(p));
	lp_pack_kv_u64(pk, "available", p->nfree);
	lp_pack_kv_u64(pk, "leased", lease_pool_leased(p));
	lp_pack_kv_u64(pk, "starting", p->nstarting);
	lp_pack_kv_u64(pk, "waiting", p->nwaiters);
	lp_pack_kv_u64(pk, "runs_in_flight", runs);
	lp_pack_kv_bool(pk, "failing", p->failing);
	lp_pack_kv_bool(pk, "draining", p->draining);
	lp_pack_kv_u64(pk, "units", p->units);
	lp_pack_kv_u64(pk, "stuck_workers", stuck_workers(p));
	lp_pack_cstr(pk, "counters");
	pack_counters(pk, &p->counters);
	lp_pack_cstr(pk, "cancelled");
	msgpack_pack_map(pk, 2);
	lp_pack_kv_u64(pk, "queued", p->counters.cancelled_queued);
	lp_pack_kv_u64(pk, "running", p->counters.cancelled_running);
	pack_histogram(pk, "acquire_wait_seconds", &p->counters.acquire_wait);
	pack_histogram(pk, "run_duration_seconds", &p->counters.run_duration);
	lp_pack_cstr(pk, "grinder");
	grinder_pack_stats(pk, p, now);
	lp_pack_cstr(pk, "leases_by_state");
	msgpack_pack_map(pk, SHOWN__COUNT);
	for (int i = 0; i < SHOWN__COUNT; i++)
		lp_pack_kv_u64(pk, shown_state_names[i], states[i]);
	/* Every lease counts above; only those the viewer may see are listed. */
	lp_pack_cstr(pk, "leases");
	msgpack_pack_array(pk, shown);
	TAILQ_FOREACH (ex, &p->executors, link)
		if (ex->lease != NULL && may_see(viewer, ex->lease->uid))
			pack_lease(pk, ex->lease, now);
}

/* Enough to see who is there; a daemon with thousands of clients lists the first ones. */
#define STATS_CLIENTS_MAX 256

/* The clients the viewer may see; the "connections" count has them all. */
static void
pack_clients(msgpack_packer *pk, const struct conn *viewer, double now)
{
	const struct conn *c;
	unsigned n = 0;

	TAILQ_FOREACH (c, &server.conns, link)
		if (may_see(viewer, c->holder.uid) && ++n == STATS_CLIENTS_MAX)
			break;
	msgpack_pack_array(pk, n);
	TAILQ_FOREACH (c, &server.conns, link) {
		const struct lease *l;
		unsigned leases = 0;

		if (n == 0)
			break;
		if (!may_see(viewer, c->holder.uid))
			continue;
		n--;
		TAILQ_FOREACH (l, &c->holder.leases, holder_link)
			leases++;
		msgpack_pack_map(pk, 9);
		lp_pack_kv_u64(pk, "id", c->id);
		lp_pack_kv_i64(pk, "pid", c->holder.pid);
		lp_pack_kv_i64(pk, "uid", c->holder.uid);
		lp_pack_kv_i64(pk, "gid", c->holder.gid);
		lp_pack_kv_str(pk, "name", c->name);
		lp_pack_kv_double(pk, "connected", now - c->connected);
		lp_pack_kv_u64(pk, "leases", leases);
		lp_pack_kv_u64(pk, "waiting", c->holder.nwaiters);
		lp_pack_kv_u64(pk, "runs", c->nruns);
	}
}

void
stats_pack(msgpack_packer *pk, const struct pool *only,
    const struct conn *viewer, double now)
{
	msgpack_pack_map(pk, 10);
	lp_pack_kv_str(pk, "version", LP_VERSION);
	lp_pack_kv_u64(pk, "pid", (uint64_t)getpid());
	lp_pack_kv_double(pk, "started", server.started_unix);
	lp_pack_kv_double(pk, "uptime", now - server.started);
	lp_pack_kv_u64(pk, "connections", server.nconns);
	lp_pack_kv_u64(pk, "runs_in_flight", runs_in_flight());
	lp_pack_kv_bool(pk, "stopping", server.stopping);
	lp_pack_kv_str(pk, "default_pool", server.cfg.default_pool);
	lp_pack_cstr(pk, "clients");
	pack_clients(pk, viewer, now);
	lp_pack_cstr(pk, "pools");
	if (only != NULL) {
		msgpack_pack_map(pk, 1);
		pack_pool(pk, only, viewer, now);
		return;
	}
	msgpack_pack_map(pk, (uint32_t)server.leases.npools);
	for (size_t i = 0; i < server.leases.npools; i++)
		pack_pool(pk, &server.leases.pools[i], viewer, now);
}
