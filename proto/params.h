/* SPDX-License-Identifier: ISC */
/*
 * Strict checking of each method's named parameters (docs/protocol.md,
 * "Validation").  One table per method says each parameter's name, type and
 * range; unknown or duplicate keys, wrong types, NaN, infinite, zero or
 * negative durations are INVALID_ARGUMENT with a message that names the
 * parameter.  The decoded structs point into the message's buffer.
 */
#ifndef LP_PROTO_PARAMS_H
#define LP_PROTO_PARAMS_H

#include <stdbool.h>
#include <stdint.h>
#include <msgpack.h>

#include "rpc.h"

/*
 * The longest duration accepted, in seconds (about 31 years), so that a
 * deadline in int64 nanoseconds of the monotonic clock cannot overflow.
 */
#define LP_DURATION_MAX 1e9

enum lp_method {
	LP_METHOD_HELLO,
	LP_METHOD_ACQUIRE,
	LP_METHOD_RUN,
	LP_METHOD_RELEASE,
	LP_METHOD_RENEW,
	LP_METHOD_SUBMIT,
	LP_METHOD_STATS,
	LP_METHOD_SCALE,
	LP_METHOD_RELOAD,
	LP_METHOD_DRAIN,
	LP_METHOD_RESUME,
	LP_METHOD_CONFIG,
	LP_METHOD_PING,
	LP_METHOD_CANCEL,
	LP_METHOD__COUNT
};

/* "acquire" for LP_METHOD_ACQUIRE. */
const char *lp_method_name(enum lp_method m);

/* The method named by s; false when there is none. */
bool lp_method_lookup(struct lp_str s, enum lp_method *m);

struct lp_hello_params {
	bool has_client, has_errors;
	struct lp_str client; /* <= LP_NAME_MAX bytes */
	/* how the connection's error responses look */
	enum lp_error_form errors;
};

struct lp_acquire_params {
	bool has_pool, has_owner, has_lease_seconds, has_timeout;
	struct lp_str pool;   /* <= LP_NAME_MAX */
	struct lp_str owner;  /* <= LP_OWNER_MAX */
	double lease_seconds; /* finite, > 0 */
	bool wait;	      /* default true */
	double timeout;	      /* finite, > 0 */
};

struct lp_run_params {
	uint64_t lease;	    /* required */
	struct lp_str fn;   /* required, <= LP_NAME_MAX */
	struct lp_raw args; /* an array's encoding; len 0 when absent (= []) */
	struct lp_raw kwargs; /* a map's encoding; len 0 when absent (= {}) */
	bool has_timeout;
	double timeout; /* finite, > 0 */
};

struct lp_release_params {
	uint64_t lease; /* required */
};

struct lp_renew_params {
	uint64_t lease; /* required */
	bool has_lease_seconds;
	double lease_seconds; /* finite, > 0 */
};

struct lp_submit_params {
	struct lp_str fn;     /* required */
	struct lp_raw args;   /* len 0 when absent */
	struct lp_raw kwargs; /* len 0 when absent */
	bool has_pool, has_owner, has_timeout;
	struct lp_str pool;
	struct lp_str owner;
	double timeout;
};

struct lp_stats_params {
	bool has_pool;
	struct lp_str pool;
};

#define LP_COUNT_MAX 1000000000

/* scale: the load a program expects, in the pool's units. */
struct lp_scale_params {
	bool has_pool;
	struct lp_str pool;
	uint64_t units; /* required, 0 to LP_COUNT_MAX */
};

/* drain and resume: one pool, or every pool when none is named. */
struct lp_drain_params {
	bool has_pool;
	struct lp_str pool;
};

/* cancel: one request of the connection, or every run on one of its leases. */
struct lp_cancel_params {
	bool has_msgid, has_lease; /* exactly one */
	uint32_t msgid;
	uint64_t lease;
};

/* A request whose envelope and parameters have both been checked. */
struct lp_request {
	/*
	 * The message as the framer counts it, its bytes and the most
	 * containers open at once, for a caller that decodes a buffer's next
	 * message before framing it.
	 */
	size_t len;
	unsigned depth;
	uint32_t msgid;
	/* a client's notification: nothing to answer or do */
	bool notification;
	enum lp_method method; /* of a request */
	union {
		struct lp_hello_params hello;
		struct lp_acquire_params acquire;
		struct lp_run_params run;
		struct lp_release_params release;
		struct lp_renew_params renew;
		struct lp_submit_params submit;
		struct lp_stats_params stats;
		struct lp_scale_params scale;
		struct lp_drain_params drain; /* drain and resume */
		struct lp_cancel_params cancel;
	} p;
};

/*
 * Checks a whole request, the message at the start of the len bytes at
 * msg, in place (bytes after it are not looked at).  Returns
 * LP_OK, or the error to answer with: INVALID_REQUEST (bad envelope, or
 * bytes that are not one msgpack message), UNKNOWN_METHOD,
 * INVALID_ARGUMENT.  *msgid_known tells whether req->msgid holds the id to
 * answer to; when it is false the caller sends an "error" notification
 * instead.  A client's notification of the right shape is LP_OK with
 * req->notification set, and only len and depth filled in.
 */
enum lp_err lp_request_decode(const void *msg, size_t len,
    struct lp_request *req, struct lp_error *err, bool *msgid_known);

#endif
