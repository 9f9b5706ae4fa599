/* SPDX-License-Identifier: ISC */
/*
 * msgpack-RPC envelopes (rpc.h): packing requests, responses and
 * notifications, and checking the shape of decoded messages.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto/rpc.h"
#include "proto/text.h"

enum lp_err
lp_error_set(struct lp_error *err, enum lp_err code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->signal = 0;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return code;
}

const char *
lp_obj_describe(const msgpack_object *o, char *buf, size_t size)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return "nil";
	case MSGPACK_OBJECT_BOOLEAN:
		return o->via.boolean ? "true" : "false";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(buf, size, "%" PRIu64, o->via.u64);
		return buf;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(buf, size, "%" PRId64, o->via.i64);
		return buf;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (isnan(o->via.f64))
			return "NaN";
		if (isinf(o->via.f64))
			return o->via.f64 > 0 ? "+inf" : "-inf";
		snprintf(buf, size, "%g", o->via.f64);
		return buf;
	case MSGPACK_OBJECT_STR:
		return "a string";
	case MSGPACK_OBJECT_BIN:
		return "binary data";
	case MSGPACK_OBJECT_EXT:
		return "an extension value";
	case MSGPACK_OBJECT_ARRAY:
		return "an array";
	case MSGPACK_OBJECT_MAP:
		return "a map";
	}
	return "an unknown object";
}

static enum lp_err
envelope_error(struct lp_error *err, const char *what, const char *expected,
    const msgpack_object *got)
{
	char buf[LP_OBJ_DESCRIBE_MAX];

	return lp_error_set(err, LP_ERR_INVALID_REQUEST,
	    "%s must be %s, got %s", what, expected,
	    lp_obj_describe(got, buf, sizeof buf));
}

static enum lp_err
envelope_size_error(struct lp_error *err, const char *kind, uint32_t want,
    uint32_t got)
{
	return lp_error_set(err, LP_ERR_INVALID_REQUEST,
	    "%s must be an array of %" PRIu32 " elements, got %" PRIu32, kind,
	    want, got);
}

static enum lp_err
envelope_msgid(const msgpack_object *o, uint32_t *msgid, struct lp_error *err)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->via.u64 > UINT32_MAX)
		return envelope_error(err, "msgid",
		    "an unsigned 32-bit integer", o);
	*msgid = (uint32_t)o->via.u64;
	return LP_OK;
}

static enum lp_err
envelope_method(const msgpack_object *o, struct lp_str *method,
    struct lp_error *err)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return envelope_error(err, "method", "a string", o);
	method->ptr = o->via.str.ptr;
	method->len = o->via.str.size;
	return LP_OK;
}

/*
 * params: an array of one element, which envelope_params_map() checks, or
 * an empty array, the usual msgpack-RPC call without arguments, which
 * means an empty map.
 */
static enum lp_err
envelope_params_array(const msgpack_object *o, struct lp_error *err)
{
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return envelope_error(err, "params", "an array holding one map",
		    o);
	if (o->via.array.size > 1)
		return lp_error_set(err, LP_ERR_INVALID_REQUEST,
		    "params must be an array holding one map, got %" PRIu32
		    " elements",
		    o->via.array.size);
	return LP_OK;
}

/* The element of params: a map, or nil (what Go sends for a nil argument) for an empty one. */
static enum lp_err
envelope_params_map(const msgpack_object *o, struct lp_error *err)
{
	if (o->type != MSGPACK_OBJECT_MAP && o->type != MSGPACK_OBJECT_NIL)
		return envelope_error(err, "the element of params", "a map", o);
	return LP_OK;
}

static const msgpack_object empty_params = { .type = MSGPACK_OBJECT_MAP };

static enum lp_err
envelope_params(const msgpack_object *o, const msgpack_object **params,
    struct lp_error *err)
{
	if (envelope_params_array(o, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	*params = &empty_params;
	if (o->via.array.size == 0)
		return LP_OK;
	if (envelope_params_map(&o->via.array.ptr[0], err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	if (o->via.array.ptr[0].type == MSGPACK_OBJECT_MAP)
		*params = &o->via.array.ptr[0];
	return LP_OK;
}

/* [0, msgid, method, [params]]: the msgid first, so that it can be answered to. */
static enum lp_err
parse_request(const msgpack_object_array *a, struct lp_message *m,
    struct lp_error *err, bool *msgid_known)
{
	/* Answered even when its msgid cannot be read: to msgid 0 then. */
	*msgid_known = true;
	if (a->size < 2)
		return envelope_size_error(err, "a request", 4, a->size);
	if (envelope_msgid(&a->ptr[1], &m->msgid, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	if (a->size != 4)
		return envelope_size_error(err, "a request", 4, a->size);
	if (envelope_method(&a->ptr[2], &m->method, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	return envelope_params(&a->ptr[3], &m->params, err);
}

/* [1, msgid, error, result] */
static enum lp_err
parse_response(const msgpack_object_array *a, struct lp_message *m,
    struct lp_error *err)
{
	const msgpack_object *error;

	if (a->size != 4)
		return envelope_size_error(err, "a response", 4, a->size);
	if (envelope_msgid(&a->ptr[1], &m->msgid, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	error = &a->ptr[2];
	if (error->type != MSGPACK_OBJECT_NIL &&
	    error->type != MSGPACK_OBJECT_MAP)
		return envelope_error(err, "the error of a response",
		    "nil or a map", error);
	m->error = error;
	m->result = &a->ptr[3];
	return LP_OK;
}

/* [2, method, [params]] */
static enum lp_err
parse_notification(const msgpack_object_array *a, struct lp_message *m,
    struct lp_error *err)
{
	if (a->size != 3)
		return envelope_size_error(err, "a notification", 3, a->size);
	if (envelope_method(&a->ptr[1], &m->method, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	return envelope_params(&a->ptr[2], &m->params, err);
}

/* A message is a non-empty array. */
static enum lp_err
envelope_array(const msgpack_object *o, struct lp_error *err)
{
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return envelope_error(err, "a message", "an array", o);
	if (o->via.array.size == 0)
		return lp_error_set(err, LP_ERR_INVALID_REQUEST,
		    "a message must not be an empty array");
	return LP_OK;
}

static enum lp_err
envelope_kind(const msgpack_object *type, enum lp_msg_kind *kind,
    struct lp_error *err)
{
	if (type->type != MSGPACK_OBJECT_POSITIVE_INTEGER || type->via.u64 > 2)
		return envelope_error(err, "the message type",
		    "0 (request), 1 (response) or 2 (notification)", type);
	*kind = (enum lp_msg_kind)type->via.u64;
	return LP_OK;
}

enum lp_err
lp_message_parse(const msgpack_object *o, struct lp_message *m,
    struct lp_error *err, bool *msgid_known)
{
	const msgpack_object_array *a;

	memset(m, 0, sizeof *m);
	*msgid_known = false;
	if (envelope_array(o, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	a = &o->via.array;
	if (envelope_kind(&a->ptr[0], &m->kind, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	if (m->kind == LP_MSG_REQUEST)
		return parse_request(a, m, err, msgid_known);
	if (m->kind == LP_MSG_RESPONSE)
		return parse_response(a, m, err);
	return parse_notification(a, m, err);
}

enum lp_err
lp_error_undecodable(struct lp_error *err)
{
	return lp_error_set(err, LP_ERR_INVALID_REQUEST,
	    "message could not be decoded");
}

/* The next value's head, or an error when the message ends or is not msgpack. */
static enum lp_err
read_head(struct lp_cursor *c, msgpack_object *o, struct lp_error *err)
{
	return lp_cursor_next(c, o) ? LP_OK : lp_error_undecodable(err);
}

/*
 * A client's notification, [2, method, params], read in place: the
 * daemon has no notification methods, so method is any string (or bin)
 * and params any array, skipped whole.
 */
static enum lp_err
open_notification(struct lp_cursor *c, uint32_t size, struct lp_request_head *h,
    struct lp_error *err)
{
	msgpack_object o;
	struct lp_raw raw;

	if (size != 3)
		return envelope_size_error(err, "a notification", 3, size);
	if (read_head(c, &o, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	/* pynvim sends its method names as bin: the name is not looked at anyway. */
	if (o.type != MSGPACK_OBJECT_STR && o.type != MSGPACK_OBJECT_BIN)
		return envelope_error(err, "method", "a string", &o);
	if (!lp_cursor_value(c, &o, &raw))
		return lp_error_undecodable(err);
	if (o.type != MSGPACK_OBJECT_ARRAY)
		return envelope_error(err, "params", "an array", &o);
	h->notification = true;
	h->params_depth = raw.depth;
	return LP_OK;
}

/* The params array of a request, read in place: [], [nil] or [{...}]. */
static enum lp_err
open_params(struct lp_cursor *c, struct lp_request_head *h,
    struct lp_error *err)
{
	msgpack_object o;

	if (read_head(c, &o, err) != LP_OK ||
	    envelope_params_array(&o, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	h->params_depth = 1;
	if (o.via.array.size == 0)
		return LP_OK;
	if (read_head(c, &o, err) != LP_OK ||
	    envelope_params_map(&o, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	if (o.type == MSGPACK_OBJECT_MAP) {
		h->params_depth = 2;
		h->nparams = o.via.map.size;
	}
	return LP_OK;
}

/*
 * parse_request() reading in place: the same checks in the same order, so
 * that a request gets the same answer from either.
 */
enum lp_err
lp_request_open(struct lp_cursor *c, struct lp_request_head *h,
    struct lp_error *err, bool *msgid_known)
{
	msgpack_object msg, o;
	enum lp_msg_kind kind = LP_MSG_REQUEST;
	uint32_t size;

	memset(h, 0, sizeof *h);
	*msgid_known = false;
	if (read_head(c, &msg, err) != LP_OK ||
	    envelope_array(&msg, err) != LP_OK ||
	    read_head(c, &o, err) != LP_OK ||
	    envelope_kind(&o, &kind, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	size = msg.via.array.size;
	if (kind == LP_MSG_NOTIFY)
		return open_notification(c, size, h, err);
	if (kind == LP_MSG_RESPONSE)
		return lp_error_set(err, LP_ERR_INVALID_REQUEST,
		    "expected a request, got a response");
	*msgid_known = true;
	if (size < 2)
		return envelope_size_error(err, "a request", 4, size);
	if (read_head(c, &o, err) != LP_OK ||
	    envelope_msgid(&o, &h->msgid, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	if (size != 4)
		return envelope_size_error(err, "a request", 4, size);
	if (read_head(c, &o, err) != LP_OK ||
	    envelope_method(&o, &h->method, err) != LP_OK)
		return LP_ERR_INVALID_REQUEST;
	return open_params(c, h, err);
}

void
lp_response_error(const msgpack_object *error, struct lp_error *err)
{
	const msgpack_object *code, *message, *sig;
	uint32_t len;

	code = lp_map_get(error, "code");
	message = lp_map_get(error, "message");
	if (code == NULL || code->type != MSGPACK_OBJECT_STR ||
	    message == NULL || message->type != MSGPACK_OBJECT_STR) {
		lp_error_set(err, LP_ERR_PROTOCOL,
		    "the daemon sent an error without a code and a message");
		return;
	}

	len = message->via.str.size;
	if (len > sizeof err->message - 1)
		len = sizeof err->message - 1;
	lp_error_set(err,
	    lp_err_from_name(code->via.str.ptr, code->via.str.size), "%.*s",
	    (int)len, message->via.str.ptr);

	/* Extra keys are allowed; a signal that is no signal number is ignored. */
	sig = lp_map_get(error, "signal");
	if (sig != NULL && sig->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    sig->via.u64 <= INT_MAX)
		err->signal = (int)sig->via.u64;
}

void
lp_pack_cstr(msgpack_packer *pk, const char *s)
{
	size_t len = strlen(s);

	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, s, len);
}

void
lp_pack_kv_str(msgpack_packer *pk, const char *key, const char *value)
{
	lp_pack_cstr(pk, key);
	lp_pack_cstr(pk, value);
}

void
lp_pack_kv_u64(msgpack_packer *pk, const char *key, uint64_t value)
{
	lp_pack_cstr(pk, key);
	msgpack_pack_uint64(pk, value);
}

void
lp_pack_kv_i64(msgpack_packer *pk, const char *key, int64_t value)
{
	lp_pack_cstr(pk, key);
	msgpack_pack_int64(pk, value);
}

void
lp_pack_kv_double(msgpack_packer *pk, const char *key, double value)
{
	lp_pack_cstr(pk, key);
	msgpack_pack_double(pk, value);
}

void
lp_pack_kv_bool(msgpack_packer *pk, const char *key, bool value)
{
	lp_pack_cstr(pk, key);
	if (value)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

void
lp_pack_request(msgpack_packer *pk, uint32_t msgid, const char *method,
    uint32_t nparams)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint32(pk, LP_MSG_REQUEST);
	msgpack_pack_uint32(pk, msgid);
	lp_pack_cstr(pk, method);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, nparams);
}

void
lp_pack_response_ok(msgpack_packer *pk, uint32_t msgid)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint32(pk, LP_MSG_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	msgpack_pack_nil(pk);
}

/*
 * The error's text as it goes out: UTF-8, for strict readers, whatever a
 * job wrote into it or wherever the cut at LP_ERROR_MESSAGE_MAX fell.
 * Returns its length.
 */
static size_t
error_text(const struct lp_error *err, char *message)
{
	size_t len = strnlen(err->message, sizeof err->message);

	memcpy(message, err->message, len);
	lp_utf8_repair(message, len);
	return len;
}

/* {"code": name, "message": text[, "signal": n]} */
static void
pack_error_map(msgpack_packer *pk, const struct lp_error *err)
{
	char message[sizeof err->message];
	size_t len = error_text(err, message);

	msgpack_pack_map(pk, err->signal != 0 ? 3 : 2);
	lp_pack_kv_str(pk, "code", lp_err_name(err->code));
	lp_pack_cstr(pk, "message");
	msgpack_pack_str_with_body(pk, message, len);
	if (err->signal != 0)
		lp_pack_kv_i64(pk, "signal", err->signal);
}

static void
pack_error(msgpack_packer *pk, const struct lp_error *err,
    enum lp_error_form form)
{
	char message[sizeof err->message];
	const char *code = lp_err_name(err->code);
	size_t len;

	if (form == LP_ERRORS_MAP) {
		pack_error_map(pk, err);
		return;
	}
	len = error_text(err, message);
	if (form == LP_ERRORS_ARRAY) {
		msgpack_pack_array(pk, 2);
		lp_pack_cstr(pk, code);
		msgpack_pack_str_with_body(pk, message, len);
		return;
	}
	msgpack_pack_str(pk, strlen(code) + 2 + len);
	msgpack_pack_str_body(pk, code, strlen(code));
	msgpack_pack_str_body(pk, ": ", 2);
	msgpack_pack_str_body(pk, message, len);
}

void
lp_pack_response_error(msgpack_packer *pk, uint32_t msgid,
    const struct lp_error *err, enum lp_error_form form)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint32(pk, LP_MSG_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	pack_error(pk, err, form);
	msgpack_pack_nil(pk);
}

void
lp_pack_error_notification(msgpack_packer *pk, const struct lp_error *err)
{
	msgpack_pack_array(pk, 3);
	msgpack_pack_uint32(pk, LP_MSG_NOTIFY);
	lp_pack_cstr(pk, "error");
	msgpack_pack_array(pk, 1);
	pack_error_map(pk, err);
}

bool
lp_obj_is_str(const msgpack_object *o, const char *s)
{
	size_t len = strlen(s);

	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == len &&
	    (len == 0 || memcmp(o->via.str.ptr, s, len) == 0);
}

const msgpack_object *
lp_map_get(const msgpack_object *m, const char *key)
{
	uint32_t i;

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < m->via.map.size; i++) {
		if (lp_obj_is_str(&m->via.map.ptr[i].key, key))
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}
