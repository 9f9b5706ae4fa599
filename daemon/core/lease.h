/* SPDX-License-Identifier: ISC */
/*
 * The lease state machine: pools of executors, leases on them, acquirers
 * waiting for them, and every deadline (expiry, acquire timeout).  No I/O
 * and no clock of its own: callers pass `now` (monotonic seconds), so tests
 * drive expiry without sleeping.  What it decides comes back through the
 * callbacks of struct lease_events.
 *
 * Lifetimes: a waiter lives until it is granted, fails or is cancelled.  A
 * lease lives while its holder still refers to it or runs on it are in
 * flight; its executor goes back to the pool once the lease has ended
 * (released or expired) and its last run has been answered.
 */
#ifndef LP_DAEMON_LEASE_H
#define LP_DAEMON_LEASE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "daemon/core/config.h"
#include "daemon/core/heap.h"
#include "daemon/core/histogram.h"
#include "proto/rpc.h"

struct grinder;
struct lp_executor_feed;
struct pool;
struct lease_table;

enum executor_state {
	EXECUTOR_STARTING, /* the backend is bringing its workers up */
	EXECUTOR_FREE,
	EXECUTOR_LEASED,
	EXECUTOR_DRAINING, /* lease ended; runs still in flight */
};

struct executor {
	struct pool *pool;
	unsigned id; /* within the pool, for logs */
	enum executor_state state;
	struct lease *lease; /* LEASED and DRAINING */
	void *backend;	     /* the backend's own state */
	/* Set by who leased it (a grinder), for its backend (backend.h); NULL once free. */
	const struct lp_executor_feed *feed;
	void *feed_arg;
	struct deadline idle; /* free above the target: retired at this time */
	/* starting for a wait:false acquire: serves it first */
	struct waiter *reserved;
	TAILQ_ENTRY(executor) link; /* pool->executors */
	TAILQ_ENTRY(executor) free_link;
};

enum lease_state {
	LEASE_ACTIVE,
	LEASE_RELEASED,
	LEASE_EXPIRED, /* revoked at hard expiry */
};

/* Whoever holds leases and waits for them: one per client connection. */
struct holder {
	TAILQ_HEAD(, lease) leases;
	TAILQ_HEAD(, waiter) waiters;
	void *ctx;		 /* the connection */
	struct grinder *grinder; /* instead, for a pool's grinder */
	unsigned nwaiters;	 /* its acquires waiting, all pools */
	/* its leases that expired and are still remembered */
	unsigned nexpired;
	uint64_t serial; /* unique among every holder there ever was */
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

struct lease {
	uint64_t id;
	enum lease_state state;
	struct executor *executor; /* until it goes back to the pool */
	struct pool *pool;
	struct holder *holder; /* NULL once the holder let go */
	/*
	 * Who acquired it, kept once the holder let go: while its runs drain
	 * it still takes an executor from that client and user (limits, stats).
	 */
	uint64_t holder_serial;
	pid_t pid;
	uid_t uid;
	bool for_grinder; /* a pool's grinder holds it: not a client's */
	TAILQ_ENTRY(lease) holder_link;
	TAILQ_ENTRY(lease) table_link; /* every lease not yet freed */
	char owner[LP_OWNER_MAX + 1];
	double acquired;
	/* as granted or last renewed: answered as asked, exactly */
	double term;
	double soft_expiry;
	double hard_expiry;
	unsigned runs;		  /* accepted, not yet answered */
	struct deadline deadline; /* hard expiry, while active */
};

/* One user's waiters in one pool: users take turns, each user's in order. */
struct userq {
	uid_t uid;
	TAILQ_HEAD(, waiter) waiters;
	TAILQ_ENTRY(userq) link;
};

struct waiter {
	struct pool *pool;
	struct holder *holder;
	struct userq *userq;
	/* every waiter of the pool, oldest first */
	TAILQ_ENTRY(waiter) pool_link;
	TAILQ_ENTRY(waiter) user_link;
	TAILQ_ENTRY(waiter) holder_link;
	char owner[LP_OWNER_MAX + 1];
	double lease_seconds; /* 0: the pool's */
	double since;
	struct deadline deadline; /* the acquire timeout, when given */
	/*
	 * wait:false: the executor starting for it, the only one it waits for
	 * (it may still take one that comes free first).
	 */
	struct executor *reserved;
	uint32_t tag; /* the holder's: the request to answer */
};

struct pool_counters {
	uint64_t granted;
	uint64_t released;
	uint64_t expired;
	uint64_t acquire_timeouts;
	uint64_t unavailable;
	/* Runs, counted by whoever answers them. */
	uint64_t runs_completed;
	uint64_t runs_failed; /* JOB_FAILED and other errors from the job */
	uint64_t runs_timed_out;
	uint64_t runs_crashed;
	/* Cancelled before they started; and while they ran (or in a batch). */
	uint64_t cancelled_queued;
	uint64_t cancelled_running;
	/* Seconds from an acquire to its lease: 0 when one was free. */
	struct histogram acquire_wait;
	/* Seconds from a run's (or submitted item's) acceptance to its answer. */
	struct histogram run_duration;
};

struct pool {
	struct lease_table *table;
	struct pool_config cfg;
	TAILQ_HEAD(, executor) executors;
	TAILQ_HEAD(, executor) free;
	TAILQ_HEAD(, waiter) waiters;
	TAILQ_HEAD(, userq) users; /* users with waiters, in turn order */
	unsigned nexecutors;
	unsigned nfree;
	unsigned nstarting;
	unsigned nwaiters;
	unsigned next_executor_id;
	unsigned units;	 /* the load announced by scale */
	unsigned target; /* executors wanted warm: see lease_pool_scale() */
	bool failing;	 /* workers cannot start: do not let acquirers hang */
	bool draining;	 /* an administrator's drain: no lease is granted */
	char failing_reason[128];
	struct pool_counters counters;
	void *backend; /* the backend's per-pool state */
	struct grinder *grinder;
};

struct lease_events {
	/* A waiter got a lease; the waiter is freed after the call. */
	void (*granted)(struct waiter *w, struct lease *l, void *arg);
	/* A waiter gave up (TIMEOUT, STOPPING, UNAVAILABLE); freed after the call. */
	void (*waiter_failed)(struct waiter *w, const struct lp_error *err,
	    void *arg);
	/* A lease passed its hard expiry and was revoked. */
	void (*expired)(struct lease *l, void *arg);
	/* The pool wants another executor: start its workers, then call lp_executor_ready(). */
	void (*start_executor)(struct executor *ex, void *arg);
	/*
	 * Stop its workers; freed after.  A free executor above the target that
	 * stayed idle for idle_seconds, or one still STARTING when the table stops.
	 */
	void (*stop_executor)(struct executor *ex, void *arg);
	/* A deadline set with lease_deadline_set() passed; it is out of the heap. */
	void (*deadline)(struct deadline *d, void *arg);
	/*
	 * A run ended (lease_run_end()), or an executor came up
	 * (lease_executor_ready()): a lease may be gone or granted, an
	 * executor another's or idle, so the next deadline may be another.
	 */
	void (*deadlines_changed)(void *arg);
};

struct lease_table {
	struct pool *pools;
	size_t npools;
	struct heap deadlines;
	TAILQ_HEAD(, lease) leases;
	uint64_t next_lease_id;
	bool stopping;
	const struct lease_events *events;
	void *arg;
};

struct acquire {
	const char *owner; /* may be NULL */
	size_t owner_len;
	double lease_seconds; /* 0: the pool's */
	bool wait;
	double timeout; /* 0: none */
	uint32_t tag;
};

void lease_table_init(struct lease_table *t, const struct config *cfg,
    const struct lease_events *events, void *arg);
/* Frees everything; callbacks are not called. */
void lease_table_free(struct lease_table *t);
/*
 * Brings every pool to its target (after start-up or a reload): starts
 * executors below it, and lets free ones above it go after idle_seconds.
 * Room a reload made for waiters (a higher executors_max) is theirs:
 * executors are started for them and serve them in turn as they come up.
 */
void lease_table_warm(struct lease_table *t, double now);

/*
 * Adaptive sizing: the target is max(executors_min, ceil(units /
 * units_per_executor)), at most executors_max.  Executors below the target
 * are started at once; free ones above it are retired after idle_seconds;
 * leased ones are never taken away, only retired once free and idle.
 * Acquirers may still grow the pool up to executors_max.
 */
void lease_pool_scale(struct pool *p, uint64_t units, double now);

struct pool *lease_table_pool(struct lease_table *t, const char *name,
    size_t len);

/*
 * Acquire: LP_OK with *lease set (granted now) or *waiter set (queued; the
 * answer comes through granted or waiter_failed), or an error in err:
 * UNAVAILABLE, STOPPING, LIMIT_EXCEEDED (max_leases_per_client or _user,
 * counting executors held, by leases active or draining, and acquires
 * waiting).  A client's term is at most the pool's max_lease_seconds.  Waiters of different users
 * are served in turn, one each; a user's own waiters first come, first
 * served, so one user's flood cannot starve another's single acquire.
 *
 * Without wait, "no room" is UNAVAILABLE, not "nothing warm right now": an
 * acquire that finds no executor free waits for one starting that no
 * waiter counts on, or for one started for it while the pool is below
 * executors_max; never for a lease to end.  A failing pool fails it.
 */
enum lp_err lease_acquire(struct pool *p, struct holder *h,
    const struct acquire *req, double now, struct lease **lease,
    struct waiter **waiter, struct lp_error *err);

/*
 * A holder is told "expired" rather than "no such lease" for the leases
 * that expired under it, until it releases them, but only for this many:
 * a client that never releases would otherwise grow the daemon's memory,
 * and the walk of every lookup of its leases, without bound.  The oldest
 * is forgotten first.
 */
#define LEASE_EXPIRED_REMEMBERED 64

/* The holder's lease with that id, expired ones included; NULL if none. */
struct lease *lease_find(struct holder *h, uint64_t id);

/* Ends the lease for its holder; the executor returns once runs drain. */
void lease_release(struct lease *l, double now);

/*
 * Pushes expiry out to now + lease_seconds (0: the pool's term, and at most
 * the pool's max_lease_seconds); LEASE_EXPIRED once past hard expiry.
 * *granted gets the term.
 */
enum lp_err lease_renew(struct lease *l, double lease_seconds, double now,
    double *granted, struct lp_error *err);

/* A run is accepted on l (LP_OK), or refused (LEASE_EXPIRED). */
enum lp_err lease_run_begin(struct lease *l, double now, struct lp_error *err);
/* A run on l was answered; l may be freed by this call.  Raises deadlines_changed. */
void lease_run_end(struct lease *l, double now);

/* The holder is gone: withdraw its waiters (no callback), release its leases. */
void lease_holder_init(struct holder *h, void *ctx);
void lease_holder_drop(struct holder *h, double now);

/*
 * Deadlines of the table's user (a submission's timeout) share its heap, so
 * that one timer serves them all: d, not in the heap, is due at when, and
 * then handed to events->deadline.  True when it is now the earliest
 * deadline of all: the timer must be brought forward.
 */
bool lease_deadline_set(struct lease_table *t, struct deadline *d, double when);
void lease_deadline_cancel(struct lease_table *t, struct deadline *d);
/*
 * Processes every deadline due at now; returns the next one, or 0 when none
 * (the monotonic clock is never 0 on a running system).
 */
double lease_table_advance(struct lease_table *t, double now);

/*
 * Stopping: waiters fail with STOPPING, and so do later acquires; executors
 * still starting are withdrawn, and the target is 0 from then on, so
 * neither scale nor a reload starts another.
 */
void lease_table_stop(struct lease_table *t);

/* The backend brought the executor's workers up.  Raises deadlines_changed. */
void lease_executor_ready(struct executor *ex, double now);

/*
 * Workers of the pool cannot start (crash loop): waiters fail with
 * UNAVAILABLE naming the reason, and so do acquires that would wait, until
 * lease_pool_recovered().
 */
void lease_pool_failing(struct pool *p, const char *reason);
void lease_pool_recovered(struct pool *p);

/* Whether the holder (a client's, never a grinder's) may use the pool now. */
typedef bool lease_may_use_fn(const struct holder *h, const struct pool *p);

/*
 * A reload changed who may use p: the acquires waiting in it of holders
 * that may_use now refuses fail with PERMISSION_DENIED.  Their leases are
 * the caller's to end, at their next use.
 */
void lease_pool_refuse_waiters(struct pool *p, lease_may_use_fn *may_use);

/*
 * An administrator's drain: no lease is granted until lease_pool_resume();
 * acquires wait in line (those without wait, also the ones waiting for
 * the executor started for them, fail at once with UNAVAILABLE),
 * leases held keep running and renewing until they end.
 */
void lease_pool_drain(struct pool *p);
void lease_pool_resume(struct pool *p, double now);

/* Gauges for stats: leased = executors held by a lease or draining. */
unsigned lease_pool_leased(const struct pool *p);

#endif
