/* SPDX-License-Identifier: ISC */
/*
 * A run: one accepted `run` request on a lease, or one `submit` item of a
 * grinder, from the moment it is accepted until it is answered.  Its client
 * may vanish meanwhile (conn becomes NULL and the answer is dropped); its
 * lease stays counted until the answer, so the executor is not reused under
 * a running job.  A grinder item has no lease until it is dispatched.  Who
 * created a run (a connection, or a grinder) answers it through its struct
 * run_owner: this file knows nothing of connections, grinders or budgets.
 */
#ifndef LP_DAEMON_RUN_H
#define LP_DAEMON_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <msgpack.h>

#include "daemon/core/lease.h"
#include "proto/params.h"

struct conn;
struct evbuffer;
struct grinder;
struct run;
struct user;

/* What the creator of a run does with it: the same for all runs of one kind. */
struct run_owner {
	/*
	 * r is answered: a result, whose len packed bytes are to be moved out
	 * of src (to the client's output, without a copy, or dropped), or err.
	 */
	void (*result)(struct run *r, struct evbuffer *src, size_t len);
	void (*error)(struct run *r, const struct lp_error *err);
	/* After the answer, its lease's run ended: ok says which; r is freed next.  May be NULL. */
	void (*ended)(struct run *r, bool ok);
	/* The bytes of a run count against its user's budget from run_new() to run_free(). */
	void (*charge)(struct user *u, size_t n);
	void (*uncharge)(struct user *u, size_t n);
};

/* Who asked for a run. */
struct run_caller {
	struct conn *conn; /* answered there, unless it goes first */
	struct user *user; /* whose budget the run's bytes count against */
	uint32_t uid, gid; /* as whom an exec runs, with groups */
	const gid_t *groups;
	unsigned ngroups;
};

struct run {
	const struct run_owner *owned_by;
	struct conn *conn;
	uint32_t msgid;
	struct lease *lease;
	struct pool *pool;
	struct grinder *grinder; /* a submit item */
	struct user *user;	 /* whose budget its bytes count against */
	TAILQ_ENTRY(run) conn_link;
	/* its connection's runs whose msgids hash alike */
	LIST_ENTRY(run) msgid_link;
	/* waiting: for a worker, or in its client's grinder queue */
	TAILQ_ENTRY(run) queue_link;
	TAILQ_ENTRY(run) age_link; /* a grinder's queue, oldest first */
	const char *owner; /* for logs: the lease's, or the item's own copy */
	char fn[LP_NAME_MAX + 1];
	double timeout; /* a submit item's: what its deadline leaves */
	double accepted;
	struct deadline deadline; /* a submit item's, while it is queued */
	bool hurried; /* a queued submit item that waits for no batch_wait */
	/* waiting in its executor's queue or its grinder's, for a worker */
	bool queued;
	/* answered CANCELLED while it ran: what it ends with goes nowhere */
	bool cancelled;
	size_t len;
	char payload[]; /* the job as the worker reads it: [fn, args, kwargs] */
};

TAILQ_HEAD(run_queue, run);

/* What a job is: the function, its arguments (as the client encoded them, len 0: none) and its bounds. */
struct run_job {
	struct lp_str fn;
	struct lp_raw args;
	struct lp_raw kwargs;
	double timeout;
	/* a submit item's; a lease run takes its lease's */
	struct lp_str owner;
	bool as_caller; /* the exec built-in: it runs as its caller (exec.c) */
};

/* A run on lease (which gives the pool), or a grinder item when lease is NULL. */
struct run *run_new(const struct run_owner *owner,
    const struct run_caller *caller, uint32_t msgid, struct pool *pool,
    struct lease *lease, const struct run_job *job);

/* Frees a run that is answered, or that nobody wants answered any more. */
void run_free(struct run *r);

/* Answers with len bytes of packed result taken from src, through r's owner; r is freed. */
void run_answer_result(struct run *r, struct evbuffer *src, size_t len);
void run_answer_error(struct run *r, const struct lp_error *err);

/* How far a cancelled run had gone. */
enum run_cancel {
	RUN_WITHDRAWN, /* it never starts */
	RUN_STOPPED,   /* it ran, and its worker is being stopped */
	/* it runs on (a thread, or in a batch with others' items) */
	RUN_DISCARDED,
};

/*
 * r is answered CANCELLED, and counted so.  It stays in flight, its lease
 * counted, until it ends: at once by run_discard() when it was queued,
 * else when its backend is done with it; what it ends with then goes
 * nowhere and counts for nothing more.
 */
void run_answer_cancelled(struct run *r, enum run_cancel how);

/* A cancelled run that will not run ends, unanswered. */
void run_discard(struct run *r);

/* Runs from run_new() to run_free(): what a drain waits for. */
unsigned runs_in_flight(void);
/* drained is called whenever the last run in flight is freed. */
void runs_on_drained(void (*drained)(void));

#endif
