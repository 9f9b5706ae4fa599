/* SPDX-License-Identifier: ISC */
/*
 * Request dispatch: one function per method, turning a validated request
 * into lease-table and backend operations and an answer.  Also answers the
 * acquires that had to wait (the lease table's events).
 */
#ifndef LP_DAEMON_DISPATCH_H
#define LP_DAEMON_DISPATCH_H

#include "daemon/core/lease.h"
#include "proto/params.h"

struct conn;

void dispatch(struct conn *c, const struct lp_request *req);

/*
 * Whether a client's holder may use the pool: allow_users and allow_groups
 * (both empty let everyone in).  Asked again after a reload.
 */
bool dispatch_may_use(const struct holder *h, const struct pool *pool);

/* The lease table's events, wired by the server. */
extern const struct lease_events dispatch_lease_events;

#endif
