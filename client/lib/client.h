/* SPDX-License-Identifier: ISC */
/*
 * libleasepool internals, shared by the files of client/lib and nobody else.
 *
 * The asynchronous core is conn.c (socket and buffers) and call.c (the
 * table of requests waiting for an answer); every blocking call is an
 * asynchronous request plus a loop that waits for its callback.
 *
 * Functions shared between files are named lpc_*: the static library is
 * linked into programs that have their own conn_* and buf_*.
 */
#ifndef LP_CLIENT_H
#define LP_CLIENT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "leasepool/leasepool.h"
#include "proto/frame.h"

/* Results can be big: far above the daemon's own default limit. */
#define LP_CLIENT_MESSAGE_MAX (64u << 20)

/* Lease ids released by this client that a second release still accepts. */
#define LP_RELEASED_MAX 64

/* A growable byte buffer that remembers a failed allocation. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

/*
 * A request waiting for its answer.  Its id never repeats on a client, so
 * that an id kept after the answer cannot name a later request; the msgid
 * on the wire is its low 32 bits, and msgid & mask its slot.
 */
struct call {
	uint64_t id;
	bool used;
	lp_done_cb *done;
	void *arg;
};

struct lp_client {
	int fd;
	bool dead;
	struct lp_error fail; /* why the connection ended */

	struct buf out;	 /* queued requests */
	size_t out_sent; /* bytes of out already written */
	struct buf in;
	size_t in_msg;	/* first byte not yet handed on */
	size_t in_scan; /* first byte the framer has not seen */
	struct lp_framer framer;

	struct call *calls; /* indexed by msgid & (ncalls - 1) */
	uint32_t ncalls;    /* a power of two, or 0 */
	uint32_t pending;
	uint64_t next_call; /* from 1: 0 names no request */

	uint64_t released[LP_RELEASED_MAX];
	unsigned nreleased;

	lp_queue_cb *queue_cb;
	void *queue_arg;
};

/*
 * The named parameters of one request, collected before packing because
 * the map header needs their count first.
 */
enum param_type {
	PARAM_STR,
	PARAM_U64,
	PARAM_DOUBLE,
	PARAM_BOOL,
	PARAM_ARGS,
	PARAM_KWARGS,
	PARAM_RAW, /* the entries of lp_call()'s packed map */
};

struct param {
	const char *key;
	enum param_type type;
	union {
		const char *str;
		uint64_t u64;
		double d;
		bool b;
		const struct lp_args *args;
		struct {
			const char *ptr;
			size_t len;
		} raw;
	} v;
};

#define PARAMS_MAX 6

struct params {
	struct param p[PARAMS_MAX];
	unsigned n;
	uint32_t entries; /* map entries: a raw map carries many */
	bool failed;	  /* the arguments ran out of memory */
};

/* buf.c */
bool lpc_buf_reserve(struct buf *, size_t);
int lpc_buf_write(void *, const char *, size_t);
void lpc_buf_free(struct buf *);

/* error.c: each tolerates a NULL err, as the public API promises. */
enum lp_err lpc_error_set(struct lp_error *, enum lp_err, const char *, ...)
    __attribute__((format(printf, 3, 4)));
enum lp_err lpc_error_vset(struct lp_error *, enum lp_err, const char *,
    va_list) __attribute__((format(printf, 3, 0)));
enum lp_err lpc_error_copy(struct lp_error *, const struct lp_error *);
enum lp_err lpc_error_ok(struct lp_error *);

/* conn.c */
void lpc_conn_fail(struct lp_client *, enum lp_err, const char *, ...)
    __attribute__((format(printf, 3, 4)));
enum lp_err lpc_conn_dead_error(const struct lp_client *, struct lp_error *);
void lpc_conn_wait(struct lp_client *);

/* call.c */
enum lp_err lpc_call_queue(struct lp_client *, const char *,
    const struct params *, lp_done_cb *, void *, uint64_t *, struct lp_error *);
enum lp_err lpc_call_wait(struct lp_client *, const char *,
    const struct params *, struct lp_value **, struct lp_error *);
void lpc_call_dispatch(struct lp_client *, msgpack_zone *,
    const msgpack_object *);
void lpc_call_fail_all(struct lp_client *, const struct lp_error *);
void lpc_calls_free(struct lp_client *);

/* request.c */
void lpc_params_str(struct params *, const char *, const char *);
void lpc_params_u64(struct params *, const char *, uint64_t);
void lpc_params_seconds(struct params *, const char *, double);
void lpc_params_bool(struct params *, const char *, bool);
void lpc_params_args(struct params *, const struct lp_args *);
enum lp_err lpc_params_raw(struct params *, const void *, size_t,
    struct lp_error *);
void lpc_params_pack(msgpack_packer *, const struct params *);

/* args.c */
uint32_t lpc_args_count(const struct lp_args *);
uint32_t lpc_kwargs_count(const struct lp_args *);
bool lpc_args_failed(const struct lp_args *);
void lpc_args_pack(msgpack_packer *, const struct lp_args *);
void lpc_kwargs_pack(msgpack_packer *, const struct lp_args *);

/* value.c */
struct lp_value *lpc_value_new(msgpack_zone *, const msgpack_object *);
/* A zone for a message from the daemon, and its end: a freed one is reused. */
msgpack_zone *lpc_zone_new(void);
void lpc_zone_free(msgpack_zone *);
bool lpc_obj_u64(const msgpack_object *, uint64_t *);
bool lpc_obj_double(const msgpack_object *, double *);
bool lpc_obj_strcpy(const msgpack_object *, char *, size_t);

#endif
