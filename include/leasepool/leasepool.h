/* SPDX-License-Identifier: ISC */
/*
 * libleasepool: borrow workers of the host's leasepoold.
 *
 *	struct lp_error err;
 *	struct lp_client *c = lp_connect(NULL, &err);
 *	struct lp_lease lease;
 *	lp_acquire(c, NULL, &lease, &err);
 *	struct lp_args *a = lp_args_new();
 *	lp_args_int(a, 1000000);
 *	struct lp_value *v;
 *	if (lp_run(c, lease.id, "primes.count", a, &v, &err) == LP_OK) {
 *		printf("%lld\n", (long long)lp_value_int(v));
 *		lp_value_free(v);
 *	}
 *	lp_args_free(a);
 *	lp_release(c, lease.id, &err);
 *	lp_client_free(c);
 *
 * Every call that can fail returns LP_OK or an error code, and fills the
 * caller's struct lp_error (which may be NULL) with the code and the
 * daemon's message.
 *
 * Thread safety: a struct lp_client belongs to one thread at a time; use
 * one client per thread, or your own lock.  Different clients are
 * independent.
 */
#ifndef LEASEPOOL_LEASEPOOL_H
#define LEASEPOOL_LEASEPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "leasepool/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LP_ENV_SOCKET "LEASEPOOL_SOCKET"

struct lp_client;

/*
 * Connects to the daemon at path; NULL means $LEASEPOOL_SOCKET when set,
 * else the first that exists of /run/leasepool/leasepool.sock (the system
 * service's), $XDG_RUNTIME_DIR/leasepool.sock and /tmp/leasepool-$UID.sock,
 * each used only when it is a socket of the user's, root's or the
 * leasepool user's in directories that no one else may write to (else
 * LP_ERR_PERMISSION_DENIED says why).  A path given, or $LEASEPOOL_SOCKET,
 * is used as it is.  A socket the user may not connect to (EACCES) is
 * LP_ERR_PERMISSION_DENIED too.
 */
struct lp_client *lp_connect(const char *path, struct lp_error *err);

/*
 * Closes the connection; the daemon releases every lease it still held.
 * Pending requests complete with LP_ERR_DISCONNECTED.  Never call it from
 * a completion callback of the same client.
 */
void lp_client_free(struct lp_client *c);

/* The path lp_connect(NULL, ...) would use or refuse, in a static buffer. */
const char *lp_default_socket(void);

/* ---- values: results and arguments ---- */

/* A decoded msgpack value owned by the caller; free with lp_value_free(). */
struct lp_value;

void lp_value_free(struct lp_value *v);
const msgpack_object *lp_value_object(const struct lp_value *v);
/*
 * Convenience readers: 0 / NULL / false when the value has another type
 * (lp_value_double also reads integers) or v is NULL.
 */
int64_t lp_value_int(const struct lp_value *v);
double lp_value_double(const struct lp_value *v);
bool lp_value_bool(const struct lp_value *v);
bool lp_value_is_nil(const struct lp_value *v);
/* A string or bin value; *len gets its length.  Not NUL-terminated. */
const char *lp_value_str(const struct lp_value *v, size_t *len);
/* A map entry by key (string keys), or NULL. */
const msgpack_object *lp_value_get(const struct lp_value *v, const char *key);

/* Arguments of a job: positional args and keyword args, built in order. */
struct lp_args;

struct lp_args *lp_args_new(void);
void lp_args_free(struct lp_args *a);
void lp_args_clear(struct lp_args *a);
void lp_args_nil(struct lp_args *a);
void lp_args_bool(struct lp_args *a, bool v);
void lp_args_int(struct lp_args *a, int64_t v);
void lp_args_double(struct lp_args *a, double v);
void lp_args_str(struct lp_args *a, const char *s);
void lp_args_bin(struct lp_args *a, const void *p, size_t len);
/* Appends an already packed msgpack object (one object, len bytes). */
void lp_args_raw(struct lp_args *a, const void *packed, size_t len);
void lp_kwargs_bool(struct lp_args *a, const char *key, bool v);
void lp_kwargs_int(struct lp_args *a, const char *key, int64_t v);
void lp_kwargs_double(struct lp_args *a, const char *key, double v);
void lp_kwargs_str(struct lp_args *a, const char *key, const char *s);
void lp_kwargs_bin(struct lp_args *a, const char *key, const void *p,
    size_t len);
void lp_kwargs_raw(struct lp_args *a, const char *key, const void *packed,
    size_t len);

/* ---- blocking API ---- */

struct lp_acquire_opts {
	const char *pool;     /* NULL: the daemon's default pool */
	const char *owner;    /* NULL: none */
	double lease_seconds; /* 0: the pool's */
	/* LP_ERR_UNAVAILABLE when the pool has no room, never wait for a lease */
	bool nowait;
	double timeout; /* 0: wait as long as it takes */
};

struct lp_lease {
	uint64_t id;
	char pool[256];
	char backend[16];
	unsigned workers;
	double lease_seconds;
	double grace_seconds;
};

/*
 * hello: the daemon's description ({server, protocol, pid, pools, exec_pools,
 * worker_programs, functions}).
 */
enum lp_err lp_hello(struct lp_client *c, const char *client_name,
    struct lp_value **out, struct lp_error *err);

enum lp_err lp_acquire(struct lp_client *c, const struct lp_acquire_opts *opts,
    struct lp_lease *lease, struct lp_error *err);

/* Runs fn on the lease; args may be NULL.  timeout 0: the pool's. */
enum lp_err lp_run(struct lp_client *c, uint64_t lease, const char *fn,
    const struct lp_args *args, struct lp_value **result, struct lp_error *err);
enum lp_err lp_run_timeout(struct lp_client *c, uint64_t lease, const char *fn,
    const struct lp_args *args, double timeout, struct lp_value **result,
    struct lp_error *err);

/*
 * Ends a lease.  Releasing twice, or after the connection died, is harmless
 * and returns LP_OK: the lease is gone either way.
 */
enum lp_err lp_release(struct lp_client *c, uint64_t lease,
    struct lp_error *err);

/* lease_seconds 0: the pool's.  *granted (may be NULL) gets the new term. */
enum lp_err lp_renew(struct lp_client *c, uint64_t lease, double lease_seconds,
    double *granted, struct lp_error *err);

/* One-shot work through the daemon's grinder; pool NULL for the default. */
enum lp_err lp_submit(struct lp_client *c, const char *pool, const char *fn,
    const struct lp_args *args, struct lp_value **result, struct lp_error *err);

/* The daemon's statistics as a map; pool NULL for all pools. */
enum lp_err lp_stats(struct lp_client *c, const char *pool,
    struct lp_value **out, struct lp_error *err);

/*
 * Any method: params is one packed msgpack map (NULL for {}).  For methods
 * this header does not wrap yet, and for tests of the protocol itself.
 */
enum lp_err lp_call(struct lp_client *c, const char *method, const void *params,
    size_t params_len, struct lp_value **result, struct lp_error *err);

/* ---- asynchronous API ---- */

/*
 * Completion of an asynchronous request: code is LP_OK and result the value
 * (owned by the callback: free it, or keep it), or code is the error and
 * result NULL.  Called from lp_client_process() or, with
 * LP_ERR_DISCONNECTED, when the connection is lost or the client freed.
 */
typedef void lp_done_cb(struct lp_client *c, enum lp_err code,
    struct lp_value *result, const struct lp_error *err, void *arg);

/*
 * Queues a request; returns LP_OK once it is queued (not yet sent).  done
 * may be NULL when the answer does not matter.
 */
enum lp_err lp_call_async(struct lp_client *c, const char *method,
    const void *params, size_t params_len, lp_done_cb *done, void *arg,
    struct lp_error *err);
enum lp_err lp_run_async(struct lp_client *c, uint64_t lease, const char *fn,
    const struct lp_args *args, lp_done_cb *done, void *arg,
    struct lp_error *err);
enum lp_err lp_submit_async(struct lp_client *c, const char *pool,
    const char *fn, const struct lp_args *args, lp_done_cb *done, void *arg,
    struct lp_error *err);

/*
 * The same, and *call (may be NULL) gets the request's id, for lp_cancel;
 * 0 when it was not queued.  Ids count up from 1 and never repeat on a
 * client.  lp_run_start takes a timeout as lp_run_timeout does (0: the
 * pool's).  Since libleasepool 1.1 (LEASEPOOL_1.1).
 */
enum lp_err lp_call_start(struct lp_client *c, const char *method,
    const void *params, size_t params_len, lp_done_cb *done, void *arg,
    uint64_t *call, struct lp_error *err);
enum lp_err lp_run_start(struct lp_client *c, uint64_t lease, const char *fn,
    const struct lp_args *args, double timeout, lp_done_cb *done, void *arg,
    uint64_t *call, struct lp_error *err);
enum lp_err lp_submit_start(struct lp_client *c, const char *pool,
    const char *fn, const struct lp_args *args, lp_done_cb *done, void *arg,
    uint64_t *call, struct lp_error *err);

/*
 * Cancels a run or a submit started on c and not yet answered: the daemon
 * withdraws it, or stops the worker running it, and its callback gets
 * LP_ERR_CANCELLED, once.  (A thread cannot be stopped, nor a grinder item
 * batched with others: it runs on and its result is dropped.)  Blocks for
 * the daemon's answer, one round trip; once it returns LP_OK the callback
 * has run, with LP_ERR_CANCELLED or with an answer that came first.
 *
 * LP_OK, sending nothing, for a request already answered (or failed with
 * the connection): that race is normal.  LP_ERR_INVALID_ARGUMENT for an id
 * that this client never gave, and from the daemon for a request that is
 * not a run or a submit (an acquire waiting).  Since libleasepool 1.1.
 */
enum lp_err lp_cancel(struct lp_client *c, uint64_t call, struct lp_error *err);

/* The socket, for the caller's event loop (non-blocking). */
int lp_client_fd(const struct lp_client *c);
/* True when queued bytes wait to be written: watch the fd for writing. */
bool lp_client_want_write(const struct lp_client *c);
/* Reads what is readable, completes what arrived, writes what is pending. */
enum lp_err lp_client_process(struct lp_client *c, struct lp_error *err);
/* Requests sent or queued but not yet answered. */
size_t lp_client_pending(const struct lp_client *c);
/* Blocks until no request is pending (or the connection fails). */
enum lp_err lp_client_wait_all(struct lp_client *c, struct lp_error *err);

/*
 * For event loops: cb runs whenever a request is queued while nothing was
 * waiting to be written, so that the loop starts watching the fd (see
 * leasepool-event.h).  NULL removes it.
 */
typedef void lp_queue_cb(struct lp_client *c, void *arg);
void lp_client_on_queue(struct lp_client *c, lp_queue_cb *cb, void *arg);

#ifdef __cplusplus
}
#endif
#endif
