/*
 * A run: one accepted `run` request on a lease, or one `submit` item of a
 * grinder, from the moment it is accepted until it is answered.  Its client
 * may vanish meanwhile (conn becomes NULL and the answer is dropped); its
 * lease stays counted until the answer, so the executor is not reused under
 * a running job.  A grinder item has no lease until it is dispatched.
 */
#ifndef LP_DAEMON_RUN_H
#define LP_DAEMON_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <msgpack.h>

#include "daemon/core/lease.h"
#include "proto/params.h"

struct conn;
struct grinder;
struct user;

struct run {
	struct conn *conn;
	uint32_t msgid;
	struct lp_lease *lease;
	struct lp_pool *pool;
	struct grinder *grinder;	/* a submit item */
	struct user *user;		/* whose budget its bytes count against */
	TAILQ_ENTRY(run) conn_link;
	TAILQ_ENTRY(run) queue_link;	/* waiting: for a worker, or in its client's grinder queue */
	TAILQ_ENTRY(run) age_link;	/* a grinder's queue, oldest first */
	const char *owner;		/* for logs: the lease's, or the item's own copy */
	char fn[LP_NAME_MAX + 1];
	double timeout;			/* a submit item's: what its deadline leaves */
	double accepted;
	struct lp_deadline deadline;	/* a submit item's, while it is queued */
	bool hurried;			/* a queued submit item that waits for no batch_wait */
	size_t len;
	char payload[];			/* the job as the worker reads it: [fn, args, kwargs] */
};

TAILQ_HEAD(run_queue, run);

/* What a job is: the function, its arguments (as the client encoded them, len 0: none) and its bounds. */
struct run_job {
	struct lp_str fn;
	struct lp_raw args;
	struct lp_raw kwargs;
	double timeout;
	struct lp_str owner;		/* a submit item's; a lease run takes its lease's */
};

/* fn is the exec built-in, which runs as the client that asked. */
bool run_is_exec(struct lp_str fn);

/* A run on lease (which gives the pool), or a grinder item when lease is NULL. */
struct run *run_new(struct conn *c, uint32_t msgid, struct lp_pool *pool,
    struct lp_lease *lease, const struct run_job *job);

/* Frees a run that is answered, or that nobody wants answered any more. */
void run_free(struct run *r);

/* Answers with len bytes of packed result taken from src. */
void run_answer_result(struct run *r, struct evbuffer *src, size_t len);
void run_answer_error(struct run *r, const struct lp_error *err);

#endif
