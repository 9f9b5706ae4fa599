/* SPDX-License-Identifier: ISC */
/*
 * Envelopes: error names, packing then parsing every kind of message, and
 * every wrong type in every position of an envelope.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <msgpack.h>

#include "proto/rpc.h"
#include "tests/suites.h"
#include "tests/unit/msgpack_text.h"

static const struct {
	enum lp_err code;
	const char *name;
	bool wire;
} names[] = {
	{ LP_OK, "OK", false },
	{ LP_ERR_INVALID_REQUEST, "INVALID_REQUEST", true },
	{ LP_ERR_UNKNOWN_METHOD, "UNKNOWN_METHOD", true },
	{ LP_ERR_INVALID_ARGUMENT, "INVALID_ARGUMENT", true },
	{ LP_ERR_NO_SUCH_POOL, "NO_SUCH_POOL", true },
	{ LP_ERR_NO_SUCH_FUNCTION, "NO_SUCH_FUNCTION", true },
	{ LP_ERR_NO_SUCH_LEASE, "NO_SUCH_LEASE", true },
	{ LP_ERR_LEASE_EXPIRED, "LEASE_EXPIRED", true },
	{ LP_ERR_UNAVAILABLE, "UNAVAILABLE", true },
	{ LP_ERR_TIMEOUT, "TIMEOUT", true },
	{ LP_ERR_PERMISSION_DENIED, "PERMISSION_DENIED", true },
	{ LP_ERR_LIMIT_EXCEEDED, "LIMIT_EXCEEDED", true },
	{ LP_ERR_STOPPING, "STOPPING", true },
	{ LP_ERR_JOB_FAILED, "JOB_FAILED", true },
	{ LP_ERR_JOB_TIMEOUT, "JOB_TIMEOUT", true },
	{ LP_ERR_WORKER_CRASHED, "WORKER_CRASHED", true },
	{ LP_ERR_INTERNAL, "INTERNAL", true },
	{ LP_ERR_DISCONNECTED, "DISCONNECTED", false },
	{ LP_ERR_PROTOCOL, "PROTOCOL", false },
	{ LP_ERR_SYSTEM, "SYSTEM", false },
	{ LP_ERR_CANCELLED, "CANCELLED", true },
};
#define NNAMES (sizeof names / sizeof names[0])

START_TEST(test_err_names)
{
	const char *name = names[_i].name;
	enum lp_err want = names[_i].wire ? names[_i].code : LP_ERR_INTERNAL;

	ck_assert_int_eq(NNAMES, LP_ERR__COUNT);
	ck_assert_str_eq(lp_err_name(names[_i].code), name);
	ck_assert_int_eq(lp_err_from_name(name, strlen(name)), want);
}
END_TEST

START_TEST(test_err_unknown_names)
{
	ck_assert_str_eq(lp_err_name(LP_ERR__COUNT), "UNKNOWN");
	ck_assert_str_eq(lp_err_name((enum lp_err) - 1), "UNKNOWN");
	ck_assert_int_eq(lp_err_from_name("FROBNICATED", 11), LP_ERR_INTERNAL);
	ck_assert_int_eq(lp_err_from_name("", 0), LP_ERR_INTERNAL);
	/* Lengths count, not NUL terminators. */
	ck_assert_int_eq(lp_err_from_name("TIMEOUTX", 7), LP_ERR_TIMEOUT);
	ck_assert_int_eq(lp_err_from_name("TIMEOUT", 6), LP_ERR_INTERNAL);
	ck_assert_int_eq(lp_err_from_name("timeout", 7), LP_ERR_INTERNAL);
}
END_TEST

START_TEST(test_error_set)
{
	struct lp_error err = { .signal = 9 };
	char long_arg[2 * LP_ERROR_MESSAGE_MAX];

	ck_assert_int_eq(lp_error_set(&err, LP_ERR_TIMEOUT, "waited %d s", 3),
	    LP_ERR_TIMEOUT);
	ck_assert_int_eq(err.code, LP_ERR_TIMEOUT);
	ck_assert_int_eq(err.signal, 0);
	ck_assert_str_eq(err.message, "waited 3 s");

	memset(long_arg, 'x', sizeof long_arg - 1);
	long_arg[sizeof long_arg - 1] = '\0';
	lp_error_set(&err, LP_ERR_JOB_FAILED, "%s", long_arg);
	ck_assert_uint_eq(strlen(err.message), LP_ERROR_MESSAGE_MAX - 1);
}
END_TEST

START_TEST(test_describe)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "nil", "nil" },
		{ "true", "true" },
		{ "false", "false" },
		{ "7", "7" },
		{ "-3", "-3" },
		{ "18446744073709551615", "18446744073709551615" },
		{ "-9223372036854775808", "-9223372036854775808" },
		{ "0.5", "0.5" },
		{ "1.5f", "1.5" },
		{ "-0.0", "-0" },
		{ "nan", "NaN" },
		{ "nanf", "NaN" },
		{ "inf", "+inf" },
		{ "-inf", "-inf" },
		{ "-inff", "-inf" },
		{ "'secret'", "a string" },
		{ "b'x'", "binary data" },
		{ "x'x'", "an extension value" },
		{ "[1]", "an array" },
		{ "{}", "a map" },
	};
	char buf[LP_OBJ_DESCRIBE_MAX];
	struct mt_object m;
	msgpack_object corrupt = { .type = (msgpack_object_type)99 };
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_str_eq(
		    lp_obj_describe(mt_decode(&m, "%s", cases[i].text), buf,
			sizeof buf),
		    cases[i].want);
		mt_free(&m);
	}
	ck_assert_str_ne(lp_obj_describe(&corrupt, buf, sizeof buf), "");
}
END_TEST

START_TEST(test_map_get)
{
	struct mt_object m, other;
	const msgpack_object *map, *v;

	map = mt_decode(&m, "{1: 'int key', '': 'empty', a: 1, ab: 2, a: 3}");
	ck_assert_ptr_null(lp_map_get(map, "b"));
	ck_assert_ptr_null(lp_map_get(map, "1"));
	v = lp_map_get(map, "a");
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(v->via.u64, 1);
	v = lp_map_get(map, "ab");
	ck_assert_uint_eq(v->via.u64, 2);
	ck_assert(lp_obj_is_str(lp_map_get(map, ""), "empty"));
	ck_assert_ptr_null(lp_map_get(NULL, "a"));
	ck_assert_ptr_null(lp_map_get(mt_decode(&other, "[a, 1]"), "a"));
	ck_assert(!lp_obj_is_str(&other.obj, "a"));
	ck_assert(!lp_obj_is_str(&other.obj.via.array.ptr[1], "1"));
	ck_assert(lp_obj_is_str(&other.obj.via.array.ptr[0], "a"));
	ck_assert(!lp_obj_is_str(&other.obj.via.array.ptr[0], "ab"));
	mt_free(&other);
	mt_free(&m);
}
END_TEST

/* The packer's output decoded as a peer would. */
struct packed {
	msgpack_sbuffer sbuf;
	msgpack_packer pk;
	msgpack_zone zone;
	msgpack_object obj;
};

static msgpack_packer *
packed_start(struct packed *p)
{
	msgpack_sbuffer_init(&p->sbuf);
	msgpack_packer_init(&p->pk, &p->sbuf, msgpack_sbuffer_write);
	return &p->pk;
}

static const msgpack_object *
packed_decode(struct packed *p)
{
	size_t off = 0;

	msgpack_zone_init(&p->zone, 1024);
	ck_assert_int_eq(
	    msgpack_unpack(p->sbuf.data, p->sbuf.size, &off, &p->zone, &p->obj),
	    MSGPACK_UNPACK_SUCCESS);
	return &p->obj;
}

static void
packed_free(struct packed *p)
{
	msgpack_zone_destroy(&p->zone);
	msgpack_sbuffer_destroy(&p->sbuf);
}

static void
parse_ok(const msgpack_object *o, struct lp_message *m)
{
	struct lp_error err;
	bool known;

	ck_assert_msg(lp_message_parse(o, m, &err, &known) == LP_OK, "%s",
	    err.message);
}

START_TEST(test_request_roundtrip)
{
	struct lp_message m;
	struct packed p;
	msgpack_packer *pk = packed_start(&p);

	lp_pack_request(pk, UINT32_MAX, "acquire", 4);
	lp_pack_kv_str(pk, "pool", "default");
	lp_pack_kv_double(pk, "timeout", 2.5);
	lp_pack_kv_bool(pk, "wait", false);
	lp_pack_kv_bool(pk, "flag", true);
	parse_ok(packed_decode(&p), &m);

	ck_assert_int_eq(m.kind, LP_MSG_REQUEST);
	ck_assert_uint_eq(m.msgid, UINT32_MAX);
	ck_assert_uint_eq(m.method.len, 7);
	ck_assert_mem_eq(m.method.ptr, "acquire", 7);
	ck_assert_uint_eq(m.params->via.map.size, 4);
	ck_assert(lp_obj_is_str(lp_map_get(m.params, "pool"), "default"));
	ck_assert_double_eq(lp_map_get(m.params, "timeout")->via.f64, 2.5);
	ck_assert(!lp_map_get(m.params, "wait")->via.boolean);
	ck_assert(lp_map_get(m.params, "flag")->via.boolean);
	ck_assert_ptr_null(m.error);
	ck_assert_ptr_null(m.result);
	packed_free(&p);
}
END_TEST

START_TEST(test_response_ok_roundtrip)
{
	struct lp_message m;
	struct packed p;
	msgpack_packer *pk = packed_start(&p);

	lp_pack_response_ok(pk, 42);
	msgpack_pack_map(pk, 3);
	lp_pack_kv_u64(pk, "lease", UINT64_MAX);
	lp_pack_kv_i64(pk, "delta", INT64_MIN);
	lp_pack_kv_str(pk, "pool", "");
	parse_ok(packed_decode(&p), &m);

	ck_assert_int_eq(m.kind, LP_MSG_RESPONSE);
	ck_assert_uint_eq(m.msgid, 42);
	ck_assert_int_eq(m.error->type, MSGPACK_OBJECT_NIL);
	ck_assert_uint_eq(lp_map_get(m.result, "lease")->via.u64, UINT64_MAX);
	ck_assert_int_eq(lp_map_get(m.result, "delta")->via.i64, INT64_MIN);
	ck_assert(lp_obj_is_str(lp_map_get(m.result, "pool"), ""));
	ck_assert_ptr_null(m.params);
	packed_free(&p);
}
END_TEST

/* Every wire code goes out and comes back as itself. */
START_TEST(test_response_error_roundtrip)
{
	struct lp_error out, in;
	struct lp_message m;
	struct packed p;
	unsigned sig;

	for (sig = 0; sig < 2; sig++) {
		lp_error_set(&out, names[_i].code, "it broke: %s",
		    names[_i].name);
		out.signal = sig ? 9 : 0;
		lp_pack_response_error(packed_start(&p), 7, &out,
		    LP_ERRORS_MAP);
		parse_ok(packed_decode(&p), &m);

		ck_assert_int_eq(m.kind, LP_MSG_RESPONSE);
		ck_assert_uint_eq(m.msgid, 7);
		ck_assert_int_eq(m.result->type, MSGPACK_OBJECT_NIL);
		ck_assert_uint_eq(m.error->via.map.size, sig ? 3 : 2);
		ck_assert(
		    lp_obj_is_str(lp_map_get(m.error, "code"), names[_i].name));
		lp_response_error(m.error, &in);
		ck_assert_int_eq(in.code,
		    names[_i].wire ? names[_i].code : LP_ERR_INTERNAL);
		ck_assert_str_eq(in.message, out.message);
		ck_assert_int_eq(in.signal, out.signal);
		packed_free(&p);
	}
}
END_TEST

START_TEST(test_error_notification)
{
	struct lp_error out, in;
	struct lp_message m;
	struct packed p;

	lp_error_set(&out, LP_ERR_LIMIT_EXCEEDED, "message too big");
	lp_pack_error_notification(packed_start(&p), &out);
	parse_ok(packed_decode(&p), &m);

	ck_assert_int_eq(m.kind, LP_MSG_NOTIFY);
	ck_assert_uint_eq(m.method.len, 5);
	ck_assert_mem_eq(m.method.ptr, "error", 5);
	ck_assert_uint_eq(m.params->via.map.size, 2);
	lp_response_error(m.params, &in);
	ck_assert_int_eq(in.code, LP_ERR_LIMIT_EXCEEDED);
	ck_assert_str_eq(in.message, "message too big");
	packed_free(&p);
}
END_TEST

/* Whatever a job wrote, and wherever the cut fell, a strict reader can read the message. */
START_TEST(test_error_message_is_utf8)
{
	char cut[LP_ERROR_MESSAGE_MAX + 8];
	struct lp_error out, in;
	struct lp_message m;
	struct packed p;

	lp_error_set(&out, LP_ERR_JOB_FAILED, "caf\xc3\xa9 \xff\xc0\x80!");
	lp_pack_response_error(packed_start(&p), 7, &out, LP_ERRORS_MAP);
	parse_ok(packed_decode(&p), &m);
	lp_response_error(m.error, &in);
	ck_assert_str_eq(in.message, "caf\xc3\xa9 ?\?\?!");
	packed_free(&p);

	/* A euro sign cut after two of its three bytes. */
	memset(cut, 'x', LP_ERROR_MESSAGE_MAX - 3);
	strcpy(cut + LP_ERROR_MESSAGE_MAX - 3, "\xe2\x82\xac");
	lp_error_set(&out, LP_ERR_JOB_FAILED, "%s", cut);
	lp_pack_error_notification(packed_start(&p), &out);
	parse_ok(packed_decode(&p), &m);
	lp_response_error(m.params, &in);
	strcpy(cut + LP_ERROR_MESSAGE_MAX - 3, "??");
	ck_assert_str_eq(in.message, cut);
	packed_free(&p);
}
END_TEST

START_TEST(test_response_error_malformed)
{
	static const char *const bad[] = {
		"nil",
		"1",
		"'TIMEOUT'",
		"[]",
		"{}",
		"{code: 'TIMEOUT'}",
		"{message: 'm'}",
		"{code: 1, message: 'm'}",
		"{code: 'TIMEOUT', message: 1}",
		"{code: b'TIMEOUT', message: 'm'}",
		"{code: 'TIMEOUT', message: nil}",
	};
	struct lp_error err;
	struct mt_object m;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		lp_response_error(mt_decode(&m, "%s", bad[i]), &err);
		ck_assert_msg(err.code == LP_ERR_PROTOCOL, "%s", bad[i]);
		ck_assert_str_ne(err.message, "");
		mt_free(&m);
	}
	lp_response_error(NULL, &err);
	ck_assert_int_eq(err.code, LP_ERR_PROTOCOL);
}
END_TEST

START_TEST(test_response_error_lenient)
{
	static const struct {
		const char *text;
		enum lp_err code;
		int signal;
	} cases[] = {
		/* A code from a newer daemon still reads as an error. */
		{ "{code: 'FROBNICATED', message: 'm'}", LP_ERR_INTERNAL, 0 },
		{ "{code: 'OK', message: 'm'}", LP_ERR_INTERNAL, 0 },
		{ "{code: 'DISCONNECTED', message: 'm'}", LP_ERR_INTERNAL, 0 },
		{ "{message: 'm', extra: [1], code: 'STOPPING'}",
		    LP_ERR_STOPPING, 0 },
		{ "{code: 'WORKER_CRASHED', message: 'm', signal: 11}",
		    LP_ERR_WORKER_CRASHED, 11 },
		{ "{code: 'WORKER_CRASHED', message: 'm', signal: -1}",
		    LP_ERR_WORKER_CRASHED, 0 },
		{ "{code: 'WORKER_CRASHED', message: 'm', signal: '9'}",
		    LP_ERR_WORKER_CRASHED, 0 },
		{ "{code: 'WORKER_CRASHED', message: 'm', signal: 4294967296}",
		    LP_ERR_WORKER_CRASHED, 0 },
	};
	struct lp_error err;
	struct mt_object m;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		lp_response_error(mt_decode(&m, "%s", cases[i].text), &err);
		ck_assert_msg(err.code == cases[i].code, "%s", cases[i].text);
		ck_assert_int_eq(err.signal, cases[i].signal);
		ck_assert_str_eq(err.message, "m");
		mt_free(&m);
	}
}
END_TEST

START_TEST(test_response_error_truncates)
{
	struct lp_error err;
	struct mt_object m;

	lp_response_error(mt_decode(&m,
			      "{code: 'JOB_FAILED', message: "
			      "'x'*100000}"),
	    &err);
	ck_assert_int_eq(err.code, LP_ERR_JOB_FAILED);
	ck_assert_uint_eq(strlen(err.message), LP_ERROR_MESSAGE_MAX - 1);
	mt_free(&m);

	lp_response_error(mt_decode(&m, "{code: 'JOB_FAILED', message: ''}"),
	    &err);
	ck_assert_str_eq(err.message, "");
	mt_free(&m);
}
END_TEST

/* Envelopes that must be refused: text, the msgid to answer (-1: none, an
 * error notification instead), and a word the message must contain. */
static const struct {
	const char *text;
	long msgid;
	const char *says;
} bad_envelopes[] = {
	/* The message itself. */
	{ "nil", -1, "must be an array, got nil" },
	{ "true", -1, "must be an array, got true" },
	{ "0", -1, "must be an array, got 0" },
	{ "-1", -1, "must be an array" },
	{ "1.5", -1, "must be an array" },
	{ "'hello'", -1, "must be an array, got a string" },
	{ "b'x'", -1, "must be an array" },
	{ "x'x'", -1, "must be an array" },
	{ "{}", -1, "must be an array, got a map" },
	{ "[]", -1, "empty" },
	/* The message type. */
	{ "[nil, 1, 'hello', [{}]]", -1, "message type" },
	{ "[true, 1, 'hello', [{}]]", -1, "message type" },
	{ "[-1, 1, 'hello', [{}]]", -1, "got -1" },
	{ "[3, 1, 'hello', [{}]]", -1, "got 3" },
	{ "[0.0, 1, 'hello', [{}]]", -1, "message type" },
	{ "['0', 1, 'hello', [{}]]", -1, "message type" },
	{ "[b'0', 1, 'hello', [{}]]", -1, "message type" },
	{ "[[0], 1, 'hello', [{}]]", -1, "message type" },
	{ "[{}, 1, 'hello', [{}]]", -1, "message type" },
	/* A request's length, and its msgid. */
	{ "[0]", 0, "4 elements, got 1" },
	{ "[0, 1]", 1, "4 elements, got 2" },
	{ "[0, 1, 'hello']", 1, "4 elements, got 3" },
	{ "[0, 1, 'hello', [{}], nil]", 1, "4 elements, got 5" },
	{ "[0, nil, 'hello', [{}]]", 0, "msgid" },
	{ "[0, true, 'hello', [{}]]", 0, "msgid" },
	{ "[0, -1, 'hello', [{}]]", 0,
	    "msgid must be an unsigned 32-bit "
	    "integer, got -1" },
	{ "[0, 4294967296, 'hello', [{}]]", 0, "got 4294967296" },
	{ "[0, 1.0, 'hello', [{}]]", 0, "msgid" },
	{ "[0, '1', 'hello', [{}]]", 0, "msgid" },
	{ "[0, b'1', 'hello', [{}]]", 0, "msgid" },
	{ "[0, [1], 'hello', [{}]]", 0, "msgid" },
	{ "[0, {}, 'hello', [{}]]", 0, "msgid" },
	{ "[0, -1]", 0, "msgid" },
	/* A request's method. */
	{ "[0, 1, nil, [{}]]", 1, "method must be a string, got nil" },
	{ "[0, 1, 1, [{}]]", 1, "method must be a string" },
	{ "[0, 1, true, [{}]]", 1, "method must be a string" },
	{ "[0, 1, b'hello', [{}]]", 1,
	    "method must be a string, got "
	    "binary data" },
	{ "[0, 1, x'hello', [{}]]", 1, "method must be a string" },
	{ "[0, 1, ['hello'], [{}]]", 1, "method must be a string" },
	{ "[0, 1, {}, [{}]]", 1, "method must be a string" },
	/* A request's params. */
	{ "[0, 1, 'hello', nil]", 1, "params" },
	{ "[0, 1, 'hello', {}]", 1,
	    "params must be an array holding one "
	    "map, got a map" },
	{ "[0, 1, 'hello', 'x']", 1, "params" },
	{ "[0, 1, 'hello', 1]", 1, "params" },
	{ "[0, 1, 'hello', [{}, {}]]", 1, "got 2 elements" },
	{ "[0, 1, 'hello', [[]]]", 1, "must be a map, got an array" },
	{ "[0, 1, 'hello', [1]]", 1, "must be a map" },
	{ "[0, 1, 'hello', ['k']]", 1, "must be a map" },
	/* A response. */
	{ "[1]", -1, "4 elements, got 1" },
	{ "[1, 1, nil]", -1, "4 elements, got 3" },
	{ "[1, 1, nil, nil, nil]", -1, "4 elements, got 5" },
	{ "[1, -1, nil, nil]", -1, "msgid" },
	{ "[1, 'x', nil, nil]", -1, "msgid" },
	{ "[1, 4294967296, nil, nil]", -1, "msgid" },
	{ "[1, 1, 1, nil]", -1, "nil or a map, got 1" },
	{ "[1, 1, 'error', nil]", -1, "nil or a map" },
	{ "[1, 1, [], nil]", -1, "nil or a map" },
	{ "[1, 1, true, nil]", -1, "nil or a map" },
	/* A notification. */
	{ "[2]", -1, "3 elements, got 1" },
	{ "[2, 'error']", -1, "3 elements, got 2" },
	{ "[2, 'error', [{}], nil]", -1, "3 elements, got 4" },
	{ "[2, 1, [{}]]", -1, "method must be a string" },
	{ "[2, nil, [{}]]", -1, "method must be a string" },
	{ "[2, b'error', [{}]]", -1, "method must be a string" },
	{ "[2, 'error', {}]", -1, "params" },
	{ "[2, 'error', [1]]", -1, "must be a map" },
};
#define NBAD_ENVELOPES (sizeof bad_envelopes / sizeof bad_envelopes[0])

START_TEST(test_bad_envelope)
{
	struct lp_error err;
	struct lp_message m;
	struct mt_object o;
	bool known = bad_envelopes[_i].msgid < 0;

	ck_assert_int_eq(
	    lp_message_parse(mt_decode(&o, "%s", bad_envelopes[_i].text), &m,
		&err, &known),
	    LP_ERR_INVALID_REQUEST);
	ck_assert_int_eq(err.code, LP_ERR_INVALID_REQUEST);
	ck_assert_msg(known == (bad_envelopes[_i].msgid >= 0), "%s",
	    bad_envelopes[_i].text);
	if (known)
		ck_assert_uint_eq(m.msgid, bad_envelopes[_i].msgid);
	ck_assert_msg(strstr(err.message, bad_envelopes[_i].says) != NULL,
	    "%s: \"%s\" does not say \"%s\"", bad_envelopes[_i].text,
	    err.message, bad_envelopes[_i].says);
	mt_free(&o);
}
END_TEST

START_TEST(test_good_envelopes)
{
	static const char *const good[] = {
		"[0, 0, 'hello', [{}]]",
		"[0, 4294967295, '', [{}]]",
		"[0, 1, 'run', [{lease: 1, args: [1, [2]], kwargs: {a: {}}}]]",
		"[1, 0, nil, nil]",
		"[1, 4294967295, {code: 'TIMEOUT', message: 'm'}, nil]",
		"[1, 1, nil, [1, 2, {a: b'x'}]]",
		"[2, 'error', [{code: 'INTERNAL', message: 'm'}]]",
		"[2, '', [{}]]",
		"[2, 'error', []]",
	};
	struct lp_error err;
	struct lp_message m;
	struct mt_object o;
	bool known;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		ck_assert_msg(lp_message_parse(mt_decode(&o, "%s", good[i]), &m,
				  &err, &known) == LP_OK,
		    "%s: %s", good[i], err.message);
		ck_assert_int_eq(known, m.kind == LP_MSG_REQUEST);
		mt_free(&o);
	}
}
END_TEST

/* [] and [nil], what msgpack-RPC libraries send for no argument, stand for {}. */
START_TEST(test_empty_params)
{
	static const char *const texts[] = {
		"[0, 3, 'stats', []]",
		"[0, 3, 'stats', [nil]]",
		"[2, 'x', []]",
		"[2, 'x', [nil]]",
	};
	struct lp_error err;
	struct lp_message m;
	struct mt_object o;
	bool known;
	size_t i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		ck_assert_msg(lp_message_parse(mt_decode(&o, "%s", texts[i]),
				  &m, &err, &known) == LP_OK,
		    "%s: %s", texts[i], err.message);
		ck_assert_int_eq(m.params->type, MSGPACK_OBJECT_MAP);
		ck_assert_uint_eq(m.params->via.map.size, 0);
		mt_free(&o);
	}
}
END_TEST

/* The error of a response, in each form hello's errors may ask for. */
START_TEST(test_error_forms)
{
	const msgpack_object *e;
	struct lp_error out;
	struct packed p;

	lp_error_set(&out, LP_ERR_WORKER_CRASHED, "caf\xc3\xa9 \xff died");
	out.signal = 9;
	lp_pack_response_error(packed_start(&p), 7, &out, LP_ERRORS_STRING);
	e = &packed_decode(&p)->via.array.ptr[2];
	ck_assert(lp_obj_is_str(e, "WORKER_CRASHED: caf\xc3\xa9 ? died"));
	packed_free(&p);

	lp_pack_response_error(packed_start(&p), 7, &out, LP_ERRORS_ARRAY);
	e = &packed_decode(&p)->via.array.ptr[2];
	ck_assert_int_eq(e->type, MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_eq(e->via.array.size, 2);
	ck_assert(lp_obj_is_str(&e->via.array.ptr[0], "WORKER_CRASHED"));
	ck_assert(lp_obj_is_str(&e->via.array.ptr[1], "caf\xc3\xa9 ? died"));
	packed_free(&p);

	lp_pack_response_error(packed_start(&p), 7, &out, LP_ERRORS_MAP);
	e = &packed_decode(&p)->via.array.ptr[2];
	ck_assert(lp_obj_is_str(lp_map_get(e, "code"), "WORKER_CRASHED"));
	ck_assert_uint_eq(lp_map_get(e, "signal")->via.u64, 9);
	packed_free(&p);
}
END_TEST

Suite *
rpc_suite(void)
{
	Suite *s = suite_create("rpc");
	TCase *tc;

	tc = unit_case(s, "errors", NULL, NULL);
	tcase_add_loop_test(tc, test_err_names, 0, NNAMES);
	tcase_add_test(tc, test_err_unknown_names);
	tcase_add_test(tc, test_error_set);
	tcase_add_test(tc, test_describe);
	tcase_add_test(tc, test_map_get);

	tc = unit_case(s, "encoding", NULL, NULL);
	tcase_add_test(tc, test_request_roundtrip);
	tcase_add_test(tc, test_response_ok_roundtrip);
	tcase_add_loop_test(tc, test_response_error_roundtrip, 0, NNAMES);
	tcase_add_test(tc, test_error_notification);
	tcase_add_test(tc, test_error_message_is_utf8);
	tcase_add_test(tc, test_response_error_malformed);
	tcase_add_test(tc, test_response_error_lenient);
	tcase_add_test(tc, test_response_error_truncates);

	tc = unit_case(s, "envelope", NULL, NULL);
	tcase_add_loop_test(tc, test_bad_envelope, 0, NBAD_ENVELOPES);
	tcase_add_test(tc, test_good_envelopes);
	tcase_add_test(tc, test_empty_params);
	tcase_add_test(tc, test_error_forms);
	return s;
}
