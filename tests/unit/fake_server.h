/* SPDX-License-Identifier: ISC */
/*
 * What grinder.c and dispatch.c need of the rest of the daemon, for the
 * unit suites that link them without one.  Real: the lease table (on a
 * configuration text, wired to dispatch_lease_events as server_init()
 * wires it), the grinders, the executor engine, the job registry.  Fake,
 * in fake_server.c: the server's state and timers (server.c), the
 * connections, whose answers are recorded in order (conn.c), the users'
 * budgets, which only count (user.c), and a backend whose workers hold
 * what they are handed until the test finishes it.
 *
 * The fakes stand in for conn.c, user.c and server.c at link time, so no
 * test of the binary may call anything else of those files: the link would
 * take the real file too, and fail on the symbols defined twice.
 */
#ifndef LP_TESTS_FAKE_SERVER_H
#define LP_TESTS_FAKE_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/backend/executor.h"
#include "daemon/server/conn.h"
#include "daemon/server/server.h"

/* One answer a connection got, in the order they came. */
struct fake_answer {
	struct conn *conn;
	uint32_t msgid;
	enum lp_err code; /* LP_OK: a result */
	char message[LP_ERROR_MESSAGE_MAX];
};

#define FAKE_ANSWERS_MAX 64

extern struct fake_answers {
	struct fake_answer a[FAKE_ANSWERS_MAX];
	unsigned n;
} fake_answers;

/* A worker of the fake backend: its batch is batch[done], then those not started. */
struct fake_worker {
	struct exec_slot es;
	bool busy;
	unsigned batches; /* handed to it */
	unsigned recalls;
};

/*
 * server as server_init() leaves it, on the configuration text: the
 * lease table, a grinder per pool, and every pool's first executors up.
 */
void fake_server_start(const char *ini);
/*
 * The stop, as the daemon's: what is left is answered STOPPING, the
 * connections close, everything is freed; then no run is in flight and
 * no user holds a byte.
 */
void fake_server_stop(void);

/* A client connection of user u, as uid; closed by fake_server_stop() at the latest. */
struct conn *fake_conn_new(struct user *u, uid_t uid);
/* As conn_close(): its queued items go unrun, its runs are orphaned, its leases released. */
void fake_conn_close(struct conn *c);

/* Worker i of the pool's first executor. */
struct fake_worker *fake_worker(struct pool *p, unsigned i);
/* Its running run ends with a result; once its batch is done it is idle and takes more. */
void fake_worker_finish(struct pool *p, unsigned i);

#endif
