/* SPDX-License-Identifier: ISC */
/*
 * The grinder: `submit` without a lease.  Each pool's grinder queues the
 * submissions of every client, holds a lease of its own while it has work,
 * and hands an idle worker of that executor a batch of items when
 * batch_size are pending or the oldest has waited batch_wait.  The turns
 * go round users (uids), then round each user's connections.  A batch runs
 * its items one after the other on one worker, so while more than one user
 * has items queued it holds one item of each: a user's slow items hold
 * another's for one item per worker, not a batch.  One user alone fills
 * it; when another user's items come while every worker is busy, the items
 * of such a batch that have not started are recalled, and queue again at
 * their user's turn.  Items answer one by one, as the worker finishes them.
 */
#ifndef LP_DAEMON_GRINDER_H
#define LP_DAEMON_GRINDER_H

#include <msgpack.h>

#include "daemon/core/lease.h"
#include "daemon/core/run.h"

struct conn;
struct grinder;

/* One grinder per pool of the lease table. */
void grinder_init(struct lease_table *t);
/* Answers what is still queued with STOPPING, and frees every grinder. */
void grinder_free(struct lease_table *t);

/*
 * Queues an item; the caller checked pool, function and permissions.  The
 * item is answered within timeout: TIMEOUT if no worker took it by then,
 * else its job runs for what is left of it.
 */
void grinder_submit(struct conn *c, uint32_t msgid, struct pool *pool,
    const struct lp_submit_params *p, double timeout);

/* The deadline of a queued item passed: it is answered TIMEOUT. */
void grinder_deadline(struct deadline *d);

/*
 * The item r is cancelled: withdrawn when it is queued, else as its
 * executor cancels it (executor_cancel()).  How far it had gone.
 */
enum run_cancel grinder_cancel(struct run *r);

/* The client is gone: its queued items go, unrun. */
void grinder_drop_conn(struct conn *c);

/* Stopping: queued items are answered STOPPING; running batches finish. */
void grinder_stop(struct lease_table *t);

/* The lease table's answers to a grinder's acquire. */
void grinder_granted(struct holder *h, struct lease *l);
void grinder_acquire_failed(struct holder *h, const struct lp_error *err);

/*
 * The pool's grinder in stats: {queue, running, batches, mean_batch,
 * completed, failed, batch_size, batch_wait, oldest_wait}; oldest_wait is
 * how long the oldest queued item has waited at now (0: none queued).
 */
void grinder_pack_stats(msgpack_packer *pk, const struct pool *p, double now);

#endif
