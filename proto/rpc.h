/* SPDX-License-Identifier: ISC */
/*
 * msgpack-RPC envelopes (docs/protocol.md, "Messages"): encoding requests,
 * responses and notifications, and checking the shape of a decoded message.
 * Method parameters are checked by params.h.  No I/O here.
 */
#ifndef LP_PROTO_RPC_H
#define LP_PROTO_RPC_H

#include <stdbool.h>
#include <stdint.h>
#include <msgpack.h>

#include "leasepool/errors.h"
#include "proto/cursor.h"

#define LP_PROTOCOL_VERSION 1

/* Limits the protocol itself sets; the daemon's own are in its configuration. */
#define LP_OWNER_MAX 128 /* docs/protocol.md: owner is at most 128 bytes */
#define LP_NAME_MAX 255	 /* pool and function names */

enum lp_msg_kind {
	LP_MSG_REQUEST = 0,
	LP_MSG_RESPONSE = 1,
	LP_MSG_NOTIFY = 2,
};

/* A string inside a decoded message: not NUL-terminated. */
struct lp_str {
	const char *ptr;
	uint32_t len;
};

/* Sets code and a printf-formatted message; returns code, for `return lp_error_set(...)`. */
enum lp_err lp_error_set(struct lp_error *err, enum lp_err code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * A message whose envelope has been checked.  Pointers point into the
 * msgpack_object given to lp_message_parse(), valid as long as its zone.
 */
struct lp_message {
	enum lp_msg_kind kind;
	uint32_t msgid;	      /* request, response */
	struct lp_str method; /* request, notification */
	/* request, notification: the map inside [ {...} ] */
	const msgpack_object *params;
	const msgpack_object *error;  /* response: nil, or the error map */
	const msgpack_object *result; /* response */
};

/*
 * Checks the envelope: [0, msgid, method, [params]], [1, msgid, error,
 * result] or [2, method, [params]], msgid an unsigned 32-bit integer,
 * method a string, params an array of one map, or [] or [nil], which
 * stand for an empty map.  On failure returns LP_ERR_INVALID_REQUEST with
 * a message in err, and sets *msgid_known when the message was a request,
 * so that the caller can answer it (m->msgid then holds the id, or 0 when
 * it could not be read); otherwise the caller sends an "error"
 * notification.
 */
enum lp_err lp_message_parse(const msgpack_object *o, struct lp_message *m,
    struct lp_error *err, bool *msgid_known);

/* A request's envelope read in place: the params map's pairs come next. */
struct lp_request_head {
	uint32_t msgid;
	/* of a request: points into the cursor's buffer */
	struct lp_str method;
	uint32_t nparams; /* pairs of the params map; 0 for [] and [nil] */
	/* containers open at the first pair, params' array included */
	unsigned params_depth;
	bool notification; /* a client's notification, read whole */
};

/*
 * lp_message_parse() for a request, read in place from c: the same checks
 * and answers, except that a response is refused as such and that a
 * notification [2, method, params], method a string or bin and params any
 * array, is read whole and accepted (h->notification), for the caller to
 * ignore.  On success c
 * is at the first key of the params map, or past the notification.
 */
enum lp_err lp_request_open(struct lp_cursor *c, struct lp_request_head *h,
    struct lp_error *err, bool *msgid_known);

/* INVALID_REQUEST for a message cut short or holding the reserved byte 0xc1. */
enum lp_err lp_error_undecodable(struct lp_error *err);

/*
 * Reads a response's error map {"code": str, "message": str, ...} into err.
 * A missing or malformed map yields LP_ERR_PROTOCOL.
 */
void lp_response_error(const msgpack_object *error, struct lp_error *err);

/* Packs [0, msgid, method, [ and a map header of nparams entries; the caller packs the entries. */
void lp_pack_request(msgpack_packer *pk, uint32_t msgid, const char *method,
    uint32_t nparams);

/* Packs [1, msgid, nil, ; the caller packs exactly one result object. */
void lp_pack_response_ok(msgpack_packer *pk, uint32_t msgid);

/*
 * The error of a response: the protocol's map, or for clients whose
 * msgpack-RPC library cannot read a map there, what it can (hello's
 * errors): Go's net/rpc codecs want a string, Neovim's a pair.
 */
enum lp_error_form {
	LP_ERRORS_MAP,	  /* {code, message[, signal]} */
	LP_ERRORS_STRING, /* "CODE: message" */
	LP_ERRORS_ARRAY,  /* ["CODE", "message"] */
};

/* Packs a whole error response [1, msgid, error, nil], the error in the given form. */
void lp_pack_response_error(msgpack_packer *pk, uint32_t msgid,
    const struct lp_error *err, enum lp_error_form form);

/* Packs the whole notification [2, "error", [{code, message}]]. */
void lp_pack_error_notification(msgpack_packer *pk, const struct lp_error *err);

/* Packs a NUL-terminated C string (helper used everywhere maps are built). */
void lp_pack_cstr(msgpack_packer *pk, const char *s);

/* Packs a map key and a string value / unsigned / double / bool. */
void lp_pack_kv_str(msgpack_packer *pk, const char *key, const char *value);
void lp_pack_kv_u64(msgpack_packer *pk, const char *key, uint64_t value);
void lp_pack_kv_i64(msgpack_packer *pk, const char *key, int64_t value);
void lp_pack_kv_double(msgpack_packer *pk, const char *key, double value);
void lp_pack_kv_bool(msgpack_packer *pk, const char *key, bool value);

/* True when the object is a string equal to the NUL-terminated s. */
bool lp_obj_is_str(const msgpack_object *o, const char *s);

/* Looks up key in a map object; NULL when absent or when m is not a map. */
const msgpack_object *lp_map_get(const msgpack_object *m, const char *key);

/*
 * Describes o for an error message, in buf of size bytes: the value of a
 * number, boolean or nil ("-1", "NaN", "true"), else its type ("a string").
 * Never quotes client-supplied strings.  Returns buf or a constant.
 */
#define LP_OBJ_DESCRIBE_MAX 32
const char *lp_obj_describe(const msgpack_object *o, char *buf, size_t size);

#endif
