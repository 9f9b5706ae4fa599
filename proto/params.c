/* SPDX-License-Identifier: ISC */
/*
 * Method parameters (params.h).  Each method has one table saying, for
 * every parameter, its name, type, whether it is required and where it is
 * stored; one loop checks any params map against any table, so a new
 * parameter is one line of a table and no parsing code.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "proto/params.h"
#include "proto/text.h"

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* 0, or a compile error when cond is false. */
#define BUILD_ZERO(cond) (0 * sizeof(char[(cond) ? 1 : -1]))

enum param_type {
	PARAM_NAME,  /* a non-empty string: pool, function */
	PARAM_LABEL, /* a string, possibly empty: owner, client */
	PARAM_BOOL,
	PARAM_LEASE,	  /* a lease id: an unsigned integer > 0 */
	PARAM_DURATION,	  /* seconds: a finite number > 0 */
	PARAM_ARRAY,	  /* kept as its encoding */
	PARAM_MAP,	  /* kept as its encoding */
	PARAM_COUNT,	  /* an integer from 0 to LP_COUNT_MAX: scale's units */
	PARAM_ERROR_FORM, /* "map", "string" or "array": hello's errors */
	PARAM_MSGID,	  /* a request's msgid: an integer from 0 to 2^32-1 */
};

/* The C type of the field each parameter type is stored in. */
#define CTYPE_NAME struct lp_str
#define CTYPE_LABEL struct lp_str
#define CTYPE_BOOL bool
#define CTYPE_LEASE uint64_t
#define CTYPE_DURATION double
#define CTYPE_ARRAY struct lp_raw
#define CTYPE_MAP struct lp_raw
#define CTYPE_COUNT uint64_t
#define CTYPE_ERROR_FORM enum lp_error_form
#define CTYPE_MSGID uint32_t

/*
 * offsetof(struct st, f), refusing to compile unless f has type T: a
 * comparison of distinct pointer types is an error, so a table entry can
 * never write a double into a uint64_t.
 */
#define TYPED_OFFSET(st, f, T) \
	(offsetof(struct st, f) + 0 * sizeof(&((struct st *)0)->f == (T *)0))

#define NO_FLAG SIZE_MAX

struct param {
	const char *name;
	uint32_t name_len;
	enum param_type type;
	uint32_t max_len; /* NAME, LABEL: most bytes */
	bool required;
	bool bool_default; /* BOOL: the value when absent */
	size_t offset;	   /* of the value in the method's struct */
	size_t has_offset; /* of its has_ flag, or NO_FLAG */
};

/* clang-format 14 garbles a braced initializer in a macro. */
/* clang-format off */
#define PARAM(st, f, t, max, req, dflt, has) \
	{ #f, sizeof #f - 1, PARAM_##t, max, req, dflt, \
	    TYPED_OFFSET(st, f, CTYPE_##t), has }
/* clang-format on */
/* Optional, with a has_ flag telling whether it was given. */
#define OPTIONAL(st, f, t, max) \
	PARAM(st, f, t, max, false, false, TYPED_OFFSET(st, has_##f, bool))
/* Required: always there when decoding succeeds, so no flag. */
#define REQUIRED(st, f, t, max) PARAM(st, f, t, max, true, false, NO_FLAG)
/* Optional without a flag: when absent it reads as NULL, or as dflt. */
#define DEFAULTED(st, f, t, dflt) PARAM(st, f, t, 0, false, dflt, NO_FLAG)

static const struct param hello_params[] = {
	OPTIONAL(lp_hello_params, client, LABEL, LP_NAME_MAX),
	OPTIONAL(lp_hello_params, errors, ERROR_FORM, 0),
};

static const struct param acquire_params[] = {
	OPTIONAL(lp_acquire_params, pool, NAME, LP_NAME_MAX),
	OPTIONAL(lp_acquire_params, owner, LABEL, LP_OWNER_MAX),
	OPTIONAL(lp_acquire_params, lease_seconds, DURATION, 0),
	DEFAULTED(lp_acquire_params, wait, BOOL, true),
	OPTIONAL(lp_acquire_params, timeout, DURATION, 0),
};

static const struct param run_params[] = {
	REQUIRED(lp_run_params, lease, LEASE, 0),
	REQUIRED(lp_run_params, fn, NAME, LP_NAME_MAX),
	DEFAULTED(lp_run_params, args, ARRAY, false),
	DEFAULTED(lp_run_params, kwargs, MAP, false),
	OPTIONAL(lp_run_params, timeout, DURATION, 0),
};

static const struct param release_params[] = {
	REQUIRED(lp_release_params, lease, LEASE, 0),
};

static const struct param renew_params[] = {
	REQUIRED(lp_renew_params, lease, LEASE, 0),
	OPTIONAL(lp_renew_params, lease_seconds, DURATION, 0),
};

static const struct param submit_params[] = {
	REQUIRED(lp_submit_params, fn, NAME, LP_NAME_MAX),
	DEFAULTED(lp_submit_params, args, ARRAY, false),
	DEFAULTED(lp_submit_params, kwargs, MAP, false),
	OPTIONAL(lp_submit_params, pool, NAME, LP_NAME_MAX),
	OPTIONAL(lp_submit_params, owner, LABEL, LP_OWNER_MAX),
	OPTIONAL(lp_submit_params, timeout, DURATION, 0),
};

static const struct param stats_params[] = {
	OPTIONAL(lp_stats_params, pool, NAME, LP_NAME_MAX),
};

static const struct param scale_params[] = {
	OPTIONAL(lp_scale_params, pool, NAME, LP_NAME_MAX),
	REQUIRED(lp_scale_params, units, COUNT, 0),
};

static const struct param drain_params[] = {
	OPTIONAL(lp_drain_params, pool, NAME, LP_NAME_MAX),
};

static const struct param cancel_params[] = {
	OPTIONAL(lp_cancel_params, msgid, MSGID, 0),
	OPTIONAL(lp_cancel_params, lease, LEASE, 0),
};

static const struct method {
	const char *name;
	uint32_t name_len;
	const struct param *params;
	unsigned nparams; /* at most 32: one bit each while decoding */
	/* of the params with these bits, exactly one is given (0: no such rule) */
	uint32_t one_of;
} methods[LP_METHOD__COUNT] = {
/* clang-format 14 garbles a braced initializer in a macro. */
/* clang-format off */
#define METHOD_ONE_OF(name, table, one_of) \
	{ name, sizeof name - 1, table, \
	    nitems(table) + BUILD_ZERO(nitems(table) <= 32), one_of }
#define METHOD(name, table) METHOD_ONE_OF(name, table, 0)
#define NO_PARAMS(name) { name, sizeof name - 1, NULL, 0, 0 }
	/* clang-format on */
	[LP_METHOD_HELLO] = METHOD("hello", hello_params),
	[LP_METHOD_ACQUIRE] = METHOD("acquire", acquire_params),
	[LP_METHOD_RUN] = METHOD("run", run_params),
	[LP_METHOD_RELEASE] = METHOD("release", release_params),
	[LP_METHOD_RENEW] = METHOD("renew", renew_params),
	[LP_METHOD_SUBMIT] = METHOD("submit", submit_params),
	[LP_METHOD_STATS] = METHOD("stats", stats_params),
	[LP_METHOD_SCALE] = METHOD("scale", scale_params),
	[LP_METHOD_RELOAD] = NO_PARAMS("reload"),
	[LP_METHOD_DRAIN] = METHOD("drain", drain_params),
	[LP_METHOD_RESUME] = METHOD("resume", drain_params),
	[LP_METHOD_CONFIG] = NO_PARAMS("config"),
	[LP_METHOD_PING] = NO_PARAMS("ping"),
	[LP_METHOD_CANCEL] = METHOD_ONE_OF("cancel", cancel_params, 0x3),
#undef NO_PARAMS
#undef METHOD
#undef METHOD_ONE_OF
};

/* name, of name_len bytes, is from a table, never empty; every request looks a few up. */
static bool
str_eq(struct lp_str s, const char *name, uint32_t name_len)
{
	return s.len == name_len && memcmp(s.ptr, name, name_len) == 0;
}

const char *
lp_method_name(enum lp_method m)
{
	if ((unsigned)m >= LP_METHOD__COUNT)
		return "unknown";
	return methods[m].name;
}

bool
lp_method_lookup(struct lp_str s, enum lp_method *m)
{
	unsigned i;

	for (i = 0; i < LP_METHOD__COUNT; i++) {
		if (str_eq(s, methods[i].name, methods[i].name_len)) {
			*m = (enum lp_method)i;
			return true;
		}
	}
	return false;
}

static enum lp_err
param_expected(const struct param *p, const char *expected,
    const msgpack_object *got, struct lp_error *err)
{
	char buf[LP_OBJ_DESCRIBE_MAX];

	return lp_error_set(err, LP_ERR_INVALID_ARGUMENT,
	    "parameter '%s' must be %s, got %s", p->name, expected,
	    lp_obj_describe(got, buf, sizeof buf));
}

static enum lp_err
decode_string(const struct param *p, const msgpack_object *v, struct lp_str *s,
    struct lp_error *err)
{
	size_t bad;

	if (v->type != MSGPACK_OBJECT_STR)
		return param_expected(p, "a string", v, err);
	if (v->via.str.size > p->max_len)
		return lp_error_set(err, LP_ERR_INVALID_ARGUMENT,
		    "parameter '%s' must be at most %" PRIu32
		    " bytes, got %" PRIu32,
		    p->name, p->max_len, v->via.str.size);
	if (v->via.str.size == 0 && p->type == PARAM_NAME)
		return lp_error_set(err, LP_ERR_INVALID_ARGUMENT,
		    "parameter '%s' must not be empty", p->name);
	/* A string the daemon keeps may reach stats, whose readers may decode strictly. */
	if (!lp_utf8_valid(v->via.str.ptr, v->via.str.size, &bad))
		return lp_error_set(err, LP_ERR_INVALID_ARGUMENT,
		    "parameter '%s' must be UTF-8, got byte 0x%02x at offset %zu",
		    p->name, (unsigned char)v->via.str.ptr[bad], bad);
	s->ptr = v->via.str.ptr;
	s->len = v->via.str.size;
	return LP_OK;
}

static enum lp_err
decode_duration(const struct param *p, const msgpack_object *v, double *d,
    struct lp_error *err)
{
	static const char expected[] = "a finite number of seconds > 0";
	char buf[LP_OBJ_DESCRIBE_MAX];

	if (v->type == MSGPACK_OBJECT_FLOAT32 ||
	    v->type == MSGPACK_OBJECT_FLOAT64)
		*d = v->via.f64;
	else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		*d = (double)v->via.u64;
	else
		return param_expected(p, expected, v, err);
	/* Written so that NaN fails too. */
	if (!(*d > 0) || !isfinite(*d))
		return param_expected(p, expected, v, err);
	if (*d > LP_DURATION_MAX)
		return lp_error_set(err, LP_ERR_INVALID_ARGUMENT,
		    "parameter '%s' must be at most %g seconds, got %s",
		    p->name, LP_DURATION_MAX,
		    lp_obj_describe(v, buf, sizeof buf));
	return LP_OK;
}

static enum lp_err
decode_error_form(const struct param *p, const msgpack_object *v,
    enum lp_error_form *form, struct lp_error *err)
{
	static const struct {
		const char *name;
		enum lp_error_form form;
	} forms[] = {
		{ "map", LP_ERRORS_MAP },
		{ "string", LP_ERRORS_STRING },
		{ "array", LP_ERRORS_ARRAY },
	};

	for (size_t i = 0; i < nitems(forms); i++) {
		if (lp_obj_is_str(v, forms[i].name)) {
			*form = forms[i].form;
			return LP_OK;
		}
	}
	return param_expected(p, "\"map\", \"string\" or \"array\"", v, err);
}

/* Checks v, encoded as raw, against p and stores it in the method's struct at base. */
static enum lp_err
decode_value(const struct param *p, const msgpack_object *v,
    const struct lp_raw *raw, char *base, struct lp_error *err)
{
	void *field = base + p->offset;

	switch (p->type) {
	case PARAM_NAME:
	case PARAM_LABEL:
		return decode_string(p, v, field, err);
	case PARAM_BOOL:
		if (v->type != MSGPACK_OBJECT_BOOLEAN)
			return param_expected(p, "true or false", v, err);
		*(bool *)field = v->via.boolean;
		return LP_OK;
	case PARAM_LEASE:
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    v->via.u64 == 0)
			return param_expected(p, "a lease id (an integer > 0)",
			    v, err);
		*(uint64_t *)field = v->via.u64;
		return LP_OK;
	case PARAM_DURATION:
		return decode_duration(p, v, field, err);
	case PARAM_COUNT:
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    v->via.u64 > LP_COUNT_MAX)
			return param_expected(p,
			    "an integer from 0 to 1000000000", v, err);
		*(uint64_t *)field = v->via.u64;
		return LP_OK;
	case PARAM_ERROR_FORM:
		return decode_error_form(p, v, field, err);
	case PARAM_MSGID:
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    v->via.u64 > UINT32_MAX)
			return param_expected(p,
			    "a msgid (an integer from 0 to 4294967295)", v,
			    err);
		*(uint32_t *)field = (uint32_t)v->via.u64;
		return LP_OK;
	case PARAM_ARRAY:
		if (v->type != MSGPACK_OBJECT_ARRAY)
			return param_expected(p, "an array", v, err);
		break;
	case PARAM_MAP:
		if (v->type != MSGPACK_OBJECT_MAP)
			return param_expected(p, "a map", v, err);
		break;
	}
	/* Arrays and maps are kept as they came, for the job to read. */
	*(struct lp_raw *)field = *raw;
	return LP_OK;
}

/* The index of the parameter named key, or nparams. */
static unsigned
param_find(const struct method *md, struct lp_str key)
{
	unsigned i;

	for (i = 0; i < md->nparams; i++) {
		if (str_eq(key, md->params[i].name, md->params[i].name_len))
			break;
	}
	return i;
}

static void
params_defaults(const struct method *md, char *base)
{
	unsigned i;

	for (i = 0; i < md->nparams; i++) {
		if (md->params[i].type == PARAM_BOOL)
			*(bool *)(base + md->params[i].offset) =
			    md->params[i].bool_default;
	}
}

/* "cancel takes exactly one of 'msgid' and 'lease'" */
static enum lp_err
one_of_error(const struct method *md, struct lp_error *err)
{
	char names[128] = "";
	size_t at = 0;

	for (unsigned k = 0, n = 0; k < md->nparams; k++) {
		if ((md->one_of & (UINT32_C(1) << k)) == 0)
			continue;
		at += (size_t)snprintf(names + at, sizeof names - at, "%s'%s'",
		    n++ == 0 ? "" : " and ", md->params[k].name);
		if (at >= sizeof names)
			break;
	}
	return lp_error_set(err, LP_ERR_INVALID_ARGUMENT,
	    "%s takes exactly one of %s", md->name, names);
}

/*
 * Decodes the params map's npairs pairs, read from c, into base, which the
 * caller has zeroed; *deepest becomes the depth of the most nested value.
 */
static enum lp_err
params_decode(const struct method *md, struct lp_cursor *c, uint32_t npairs,
    char *base, unsigned *deepest, struct lp_error *err)
{
	const struct param *p;
	char buf[LP_QUOTE_SIZE], what[LP_OBJ_DESCRIBE_MAX];
	msgpack_object key, value;
	struct lp_raw raw;
	struct lp_str name;
	uint32_t seen = 0, i;
	unsigned k;

	params_defaults(md, base);
	for (i = 0; i < npairs; i++) {
		if (!lp_cursor_next(c, &key))
			return lp_error_undecodable(err);
		if (key.type != MSGPACK_OBJECT_STR)
			return lp_error_set(err, LP_ERR_INVALID_ARGUMENT,
			    "parameter names must be strings, got %s",
			    lp_obj_describe(&key, what, sizeof what));
		name.ptr = key.via.str.ptr;
		name.len = key.via.str.size;
		k = param_find(md, name);
		if (k == md->nparams)
			return lp_error_set(err, LP_ERR_INVALID_ARGUMENT,
			    "unknown parameter '%s' for %s",
			    lp_quote(name.ptr, name.len, buf), md->name);
		p = &md->params[k];
		if (seen & (UINT32_C(1) << k))
			return lp_error_set(err, LP_ERR_INVALID_ARGUMENT,
			    "duplicate parameter '%s'", p->name);
		seen |= UINT32_C(1) << k;
		if (!lp_cursor_value(c, &value, &raw))
			return lp_error_undecodable(err);
		if (raw.depth > *deepest)
			*deepest = raw.depth;
		if (decode_value(p, &value, &raw, base, err) != LP_OK)
			return err->code;
		if (p->has_offset != NO_FLAG)
			*(bool *)(base + p->has_offset) = true;
	}
	for (k = 0; k < md->nparams; k++) {
		if (md->params[k].required && !(seen & (UINT32_C(1) << k)))
			return lp_error_set(err, LP_ERR_INVALID_ARGUMENT,
			    "missing parameter '%s'", md->params[k].name);
	}
	if (md->one_of != 0 && __builtin_popcount(seen & md->one_of) != 1)
		return one_of_error(md, err);
	return LP_OK;
}

enum lp_err
lp_request_decode(const void *msg, size_t len, struct lp_request *req,
    struct lp_error *err, bool *msgid_known)
{
	struct lp_request_head h;
	struct lp_cursor c;
	char buf[LP_QUOTE_SIZE];
	unsigned deepest = 0;

	memset(req, 0, sizeof *req);
	lp_cursor_init(&c, msg, len);
	if (lp_request_open(&c, &h, err, msgid_known) != LP_OK) {
		req->msgid = h.msgid;
		return err->code;
	}
	req->msgid = h.msgid;
	if (h.notification) {
		/* The notification is read whole: no method of ours to look up. */
		req->notification = true;
		req->len = (size_t)(c.p - (const unsigned char *)msg);
		req->depth = 1 + h.params_depth;
		return LP_OK;
	}
	if (!lp_method_lookup(h.method, &req->method))
		return lp_error_set(err, LP_ERR_UNKNOWN_METHOD,
		    "unknown method '%s'",
		    lp_quote(h.method.ptr, h.method.len, buf));
	if (params_decode(&methods[req->method], &c, h.nparams, (char *)&req->p,
		&deepest, err) != LP_OK)
		return err->code;
	req->len = (size_t)(c.p - (const unsigned char *)msg);
	req->depth = 1 + h.params_depth + deepest;
	return LP_OK;
}
