/*
 * A run: one accepted `run` request on a lease, from the moment it is
 * accepted until it is answered.  Its client may vanish meanwhile (conn
 * becomes NULL and the answer is dropped); its lease stays counted until
 * the answer, so the executor is not reused under a running job.
 */
#ifndef LP_DAEMON_RUN_H
#define LP_DAEMON_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <msgpack.h>

#include "daemon/lease.h"
#include "proto/params.h"

struct conn;

struct run {
	struct conn *conn;
	uint32_t msgid;
	struct lp_lease *lease;
	TAILQ_ENTRY(run) conn_link;
	TAILQ_ENTRY(run) queue_link;	/* waiting for a worker of the executor */
	char fn[LP_NAME_MAX + 1];
	double timeout;
	double accepted;
	size_t len;
	char payload[];			/* the job as the worker reads it: [fn, args, kwargs] */
};

TAILQ_HEAD(run_queue, run);

struct run *run_new(struct conn *c, uint32_t msgid, struct lp_lease *lease,
    const struct lp_run_params *p, double timeout);

/* Answers with len bytes of packed result taken from src. */
void run_answer_result(struct run *r, struct evbuffer *src, size_t len);
void run_answer_error(struct run *r, const struct lp_error *err);

#endif
