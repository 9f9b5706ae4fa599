/* SPDX-License-Identifier: ISC */
/*
 * Method parameters: every parameter of every method given every wrong
 * type, the edges of durations, lease ids and strings (lengths, UTF-8),
 * unknown, duplicate and missing keys, and requests packed then decoded.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <msgpack.h>

#include "proto/params.h"
#include "tests/suites.h"
#include "tests/unit/msgpack_text.h"

enum kind {
	NAME,
	LABEL,
	BOOL,
	LEASE,
	DURATION,
	ARRAY,
	MAP
};

/* docs/protocol.md's parameters, written out independently of params.c. */
static const struct spec {
	const char *method, *param;
	enum kind kind;
	bool required;
} specs[] = {
	{ "hello", "client", LABEL, false },
	{ "acquire", "pool", NAME, false },
	{ "acquire", "owner", LABEL, false },
	{ "acquire", "lease_seconds", DURATION, false },
	{ "acquire", "wait", BOOL, false },
	{ "acquire", "timeout", DURATION, false },
	{ "run", "lease", LEASE, true },
	{ "run", "fn", NAME, true },
	{ "run", "args", ARRAY, false },
	{ "run", "kwargs", MAP, false },
	{ "run", "timeout", DURATION, false },
	{ "release", "lease", LEASE, true },
	{ "renew", "lease", LEASE, true },
	{ "renew", "lease_seconds", DURATION, false },
	{ "submit", "fn", NAME, true },
	{ "submit", "args", ARRAY, false },
	{ "submit", "kwargs", MAP, false },
	{ "submit", "pool", NAME, false },
	{ "submit", "owner", LABEL, false },
	{ "submit", "timeout", DURATION, false },
	{ "stats", "pool", NAME, false },
};
#define NSPECS (sizeof specs / sizeof specs[0])

/* A valid value of each kind, and what the error says for a wrong one. */
static const char *const good_value[] = {
	[NAME] = "'p'",
	[LABEL] = "'o'",
	[BOOL] = "false",
	[LEASE] = "7",
	[DURATION] = "1.5",
	[ARRAY] = "[1]",
	[MAP] = "{a: 1}",
};
static const char *const expected[] = {
	[NAME] = "must be a string",
	[LABEL] = "must be a string",
	[BOOL] = "must be true or false",
	[LEASE] = "must be a lease id (an integer > 0)",
	[DURATION] = "must be a finite number of seconds > 0",
	[ARRAY] = "must be an array",
	[MAP] = "must be a map",
};

/* Wrong values of each kind; NULL ends a list. */
static const char *const bad_strings[] = { "nil", "true", "1", "-1", "1.5",
	"b'x'", "x'x'", "[]", "['x']", "{}", NULL };
static const char *const bad_bools[] = { "nil", "0", "1", "'true'", "1.0", "[]",
	"{}", "b''", NULL };
static const char *const bad_leases[] = { "0", "-1", "0.5", "1.0", "1.0f",
	"true", "'1'", "nil", "b'1'", "[1]", "{}", "-9223372036854775808",
	NULL };
static const char *const bad_durations[] = { "nan", "nanf", "inf", "-inf",
	"inff", "-inff", "0", "0.0", "-0.0", "0.0f", "-1", "-0.5", "-1e300",
	"true", "false", "nil", "'1'", "b'1'", "[]", "[1]", "{}", NULL };
static const char *const bad_arrays[] = { "nil", "{}", "'x'", "1", "true",
	"b''", NULL };
static const char *const bad_maps[] = { "nil", "[]", "'x'", "1", "true",
	"[[a, 1]]", NULL };
static const char *const *const bad_values[] = {
	[NAME] = bad_strings,
	[LABEL] = bad_strings,
	[BOOL] = bad_bools,
	[LEASE] = bad_leases,
	[DURATION] = bad_durations,
	[ARRAY] = bad_arrays,
	[MAP] = bad_maps,
};

/*
 * The text of a request for s's method with its required parameters set to
 * good values, except s's own, set to value (or left out when NULL).
 */
static char *
request_text(const struct spec *s, const char *value)
{
	char *text, *map = strdup("");
	const char *sep = "";
	size_t i;

	for (i = 0; i < NSPECS; i++) {
		if (strcmp(specs[i].method, s->method) != 0 ||
		    !specs[i].required || &specs[i] == s)
			continue;
		ck_assert_int_ge(asprintf(&text, "%s%s%s: %s", map, sep,
				     specs[i].param, good_value[specs[i].kind]),
		    0);
		free(map);
		map = text;
		sep = ", ";
	}
	if (value != NULL) {
		ck_assert_int_ge(
		    asprintf(&text, "%s%s%s: %s", map, sep, s->param, value),
		    0);
		free(map);
		map = text;
	}
	ck_assert_int_ge(
	    asprintf(&text, "[0, 9, '%s', [{%s}]]", s->method, map), 0);
	free(map);
	return text;
}

/* Packs text and decodes it in place, as the daemon does; the caller frees o. */
static enum lp_err
decode_text(struct mt_object *o, const char *text, struct lp_request *req,
    struct lp_error *err, bool *known)
{
	mt_decode(o, "%s", text);
	return lp_request_decode(o->sbuf.data, o->sbuf.size, req, err, known);
}

/* Decodes text, which must fail with code and a message containing says. */
static void
decode_fails(const char *text, enum lp_err code, const char *says)
{
	struct lp_request req;
	struct lp_error err;
	struct mt_object o;
	bool known = false;

	ck_assert_msg(decode_text(&o, text, &req, &err, &known) == code,
	    "%s: got %s: %s", text, lp_err_name(err.code), err.message);
	ck_assert_int_eq(err.code, code);
	ck_assert_msg(known, "%s: msgid not known", text);
	ck_assert_uint_eq(req.msgid, 9);
	ck_assert_msg(strstr(err.message, says) != NULL,
	    "%s: \"%s\" does not say \"%s\"", text, err.message, says);
	mt_free(&o);
}

/* Decodes text, which must succeed; the caller frees o. */
static void
decode_ok(struct mt_object *o, const char *text, struct lp_request *req)
{
	struct lp_error err;
	bool known = false;

	ck_assert_msg(decode_text(o, text, req, &err, &known) == LP_OK,
	    "%s: %s", text, err.message);
	ck_assert(known);
}

START_TEST(test_wrong_values)
{
	const struct spec *s = &specs[_i];
	const char *const *v;
	char *text, says[128];

	snprintf(says, sizeof says, "parameter '%s' %s", s->param,
	    expected[s->kind]);
	for (v = bad_values[s->kind]; *v != NULL; v++) {
		text = request_text(s, *v);
		decode_fails(text, LP_ERR_INVALID_ARGUMENT, says);
		free(text);
	}
}
END_TEST

START_TEST(test_good_value)
{
	const struct spec *s = &specs[_i];
	struct lp_request req;
	struct mt_object o;
	char *text = request_text(s, good_value[s->kind]);

	decode_ok(&o, text, &req);
	ck_assert_str_eq(lp_method_name(req.method), s->method);
	mt_free(&o);
	free(text);
}
END_TEST

START_TEST(test_missing)
{
	const struct spec *s = &specs[_i];
	struct lp_request req;
	struct mt_object o;
	char says[64], *text = request_text(s, NULL);

	if (s->required) {
		snprintf(says, sizeof says, "missing parameter '%s'", s->param);
		decode_fails(text, LP_ERR_INVALID_ARGUMENT, says);
	} else {
		decode_ok(&o, text, &req);
		mt_free(&o);
	}
	free(text);
}
END_TEST

START_TEST(test_duplicate)
{
	const struct spec *s = &specs[_i];
	char *value, *text, says[64];

	ck_assert_int_ge(asprintf(&value, "%s, %s: %s", good_value[s->kind],
			     s->param, good_value[s->kind]),
	    0);
	text = request_text(s, value);
	snprintf(says, sizeof says, "duplicate parameter '%s'", s->param);
	decode_fails(text, LP_ERR_INVALID_ARGUMENT, says);
	free(text);
	free(value);
}
END_TEST

/* Every method refuses a parameter that belongs to none, or to another. */
START_TEST(test_unknown_key)
{
	const struct spec *s = &specs[_i];
	char *value, *text, says[64];

	ck_assert_int_ge(asprintf(&value, "%s, xyz: 1", good_value[s->kind]),
	    0);
	text = request_text(s, value);
	snprintf(says, sizeof says, "unknown parameter 'xyz' for %s",
	    s->method);
	decode_fails(text, LP_ERR_INVALID_ARGUMENT, says);
	free(text);
	free(value);
}
END_TEST

START_TEST(test_unknown_keys)
{
	char truncated[128] = "unknown parameter '";

	/* Keys are quoted up to 64 bytes. */
	memset(truncated + strlen(truncated), 'k', 64);
	strcat(truncated, "...' for stats");

	decode_fails("[0, 9, 'acquire', [{xyz: 1}]]", LP_ERR_INVALID_ARGUMENT,
	    "unknown parameter 'xyz' for acquire");
	decode_fails("[0, 9, 'hello', [{pool: 'p'}]]", LP_ERR_INVALID_ARGUMENT,
	    "unknown parameter 'pool' for hello");
	decode_fails("[0, 9, 'stats', [{Pool: 'p'}]]", LP_ERR_INVALID_ARGUMENT,
	    "unknown parameter 'Pool' for stats");
	decode_fails("[0, 9, 'stats', [{'': 'p'}]]", LP_ERR_INVALID_ARGUMENT,
	    "unknown parameter '' for stats");
	decode_fails("[0, 9, 'stats', [{'pool\\x00': 'p'}]]",
	    LP_ERR_INVALID_ARGUMENT, "unknown parameter 'pool?' for stats");
	/* A client's bytes are never echoed raw, nor at any length. */
	decode_fails("[0, 9, 'stats', [{'a\\x1b[2Jb\\xff\\x7f~': 1}]]",
	    LP_ERR_INVALID_ARGUMENT, "unknown parameter 'a?[2Jb??~' for stats");
	decode_fails("[0, 9, 'stats', [{'k'*100: 1}]]", LP_ERR_INVALID_ARGUMENT,
	    truncated);
}
END_TEST

START_TEST(test_key_types)
{
	static const char *const keys[] = { "1", "-1", "nil", "true", "1.5",
		"b'pool'", "['pool']", "{}" };
	char text[128];
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(text, sizeof text, "[0, 9, 'stats', [{%s: 'p'}]]",
		    keys[i]);
		decode_fails(text, LP_ERR_INVALID_ARGUMENT,
		    "parameter names must be strings, got ");
	}
	decode_fails("[0, 9, 'stats', [{1: 'p'}]]", LP_ERR_INVALID_ARGUMENT,
	    "parameter names must be strings, got 1");
}
END_TEST

START_TEST(test_durations)
{
	static const struct {
		const char *text;
		double want;
	} good[] = {
		{ "1.5", 1.5 },
		{ "1.5f", 1.5 },
		{ "2", 2 },
		{ "0.001", 0.001 },
		{ "1e-300", 1e-300 },
		{ "1000000000", 1e9 },
		{ "1e9", 1e9 },
		{ "1e9f", 1e9 },
		{ "0.25f", 0.25 },
	};
	static const char *const too_long[] = { "1000000001", "1e300",
		"18446744073709551615", "3e38f" };
	struct lp_request req;
	struct mt_object o;
	char text[128];
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text,
		    "[0, 9, 'acquire', [{timeout: %s, "
		    "lease_seconds: %s}]]",
		    good[i].text, good[i].text);
		decode_ok(&o, text, &req);
		ck_assert(req.p.acquire.has_timeout);
		ck_assert(req.p.acquire.has_lease_seconds);
		ck_assert_double_eq(req.p.acquire.timeout, good[i].want);
		ck_assert_double_eq(req.p.acquire.lease_seconds, good[i].want);
		mt_free(&o);
	}
	for (i = 0; i < sizeof too_long / sizeof too_long[0]; i++) {
		snprintf(text, sizeof text,
		    "[0, 9, 'renew', [{lease: 1, "
		    "lease_seconds: %s}]]",
		    too_long[i]);
		decode_fails(text, LP_ERR_INVALID_ARGUMENT,
		    "parameter 'lease_seconds' must be at most 1e+09 seconds");
	}
	decode_fails("[0, 9, 'run', [{lease: 1, fn: 'f', timeout: nan}]]",
	    LP_ERR_INVALID_ARGUMENT,
	    "parameter 'timeout' must be a finite "
	    "number of seconds > 0, got NaN");
	decode_fails("[0, 9, 'run', [{lease: 1, fn: 'f', timeout: -inf}]]",
	    LP_ERR_INVALID_ARGUMENT, "got -inf");
	decode_fails("[0, 9, 'run', [{lease: 1, fn: 'f', timeout: inff}]]",
	    LP_ERR_INVALID_ARGUMENT, "got +inf");
	decode_fails("[0, 9, 'run', [{lease: 1, fn: 'f', timeout: -3}]]",
	    LP_ERR_INVALID_ARGUMENT, "got -3");
	decode_fails("[0, 9, 'run', [{lease: 1, fn: 'f', timeout: 0}]]",
	    LP_ERR_INVALID_ARGUMENT, "got 0");
}
END_TEST

/* NaN built by the packer itself, as a client library would send it. */
START_TEST(test_packed_nan)
{
	msgpack_sbuffer sbuf;
	msgpack_packer pk;
	struct lp_request req;
	struct lp_error err;
	bool known;

	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	lp_pack_request(&pk, 3, "acquire", 1);
	lp_pack_kv_double(&pk, "timeout", NAN);
	ck_assert_int_eq(
	    lp_request_decode(sbuf.data, sbuf.size, &req, &err, &known),
	    LP_ERR_INVALID_ARGUMENT);
	ck_assert(known);
	ck_assert_uint_eq(req.msgid, 3);
	ck_assert_str_eq(err.message,
	    "parameter 'timeout' must be a finite "
	    "number of seconds > 0, got NaN");
	msgpack_sbuffer_destroy(&sbuf);
}
END_TEST

START_TEST(test_leases)
{
	struct lp_request req;
	struct mt_object o;

	decode_ok(&o, "[0, 9, 'release', [{lease: 1}]]", &req);
	ck_assert_uint_eq(req.p.release.lease, 1);
	mt_free(&o);
	decode_ok(&o, "[0, 9, 'release', [{lease: 18446744073709551615}]]",
	    &req);
	ck_assert_uint_eq(req.p.release.lease, UINT64_MAX);
	mt_free(&o);

	decode_fails("[0, 9, 'release', [{lease: 0}]]", LP_ERR_INVALID_ARGUMENT,
	    "parameter 'lease' must be a lease id (an integer > 0), got 0");
	decode_fails("[0, 9, 'release', [{lease: -1}]]",
	    LP_ERR_INVALID_ARGUMENT, "got -1");
	decode_fails("[0, 9, 'release', [{lease: 0.5}]]",
	    LP_ERR_INVALID_ARGUMENT, "got 0.5");
	decode_fails("[0, 9, 'release', [{lease: true}]]",
	    LP_ERR_INVALID_ARGUMENT, "got true");
	decode_fails("[0, 9, 'release', [{lease: '1'}]]",
	    LP_ERR_INVALID_ARGUMENT, "got a string");
}
END_TEST

/* cancel names one request by its msgid, or one lease: exactly one of them. */
START_TEST(test_cancel)
{
	struct lp_request req;
	struct mt_object o;

	decode_ok(&o, "[0, 9, 'cancel', [{msgid: 0}]]", &req);
	ck_assert(req.p.cancel.has_msgid && !req.p.cancel.has_lease);
	ck_assert_uint_eq(req.p.cancel.msgid, 0);
	mt_free(&o);
	decode_ok(&o, "[0, 9, 'cancel', [{msgid: 4294967295}]]", &req);
	ck_assert_uint_eq(req.p.cancel.msgid, UINT32_MAX);
	mt_free(&o);
	decode_ok(&o, "[0, 9, 'cancel', [{lease: 3}]]", &req);
	ck_assert(req.p.cancel.has_lease && !req.p.cancel.has_msgid);
	ck_assert_uint_eq(req.p.cancel.lease, 3);
	mt_free(&o);

	decode_fails("[0, 9, 'cancel', [{}]]", LP_ERR_INVALID_ARGUMENT,
	    "cancel takes exactly one of 'msgid' and 'lease'");
	decode_fails("[0, 9, 'cancel', [{msgid: 1, lease: 1}]]",
	    LP_ERR_INVALID_ARGUMENT,
	    "cancel takes exactly one of 'msgid' and 'lease'");
	decode_fails("[0, 9, 'cancel', [{msgid: 4294967296}]]",
	    LP_ERR_INVALID_ARGUMENT,
	    "parameter 'msgid' must be a msgid (an integer from 0 to 4294967295), got 4294967296");
	decode_fails("[0, 9, 'cancel', [{msgid: -1}]]", LP_ERR_INVALID_ARGUMENT,
	    "got -1");
	decode_fails("[0, 9, 'cancel', [{msgid: 1.5}]]",
	    LP_ERR_INVALID_ARGUMENT, "got 1.5");
	decode_fails("[0, 9, 'cancel', [{msgid: '1'}]]",
	    LP_ERR_INVALID_ARGUMENT, "got a string");
	decode_fails("[0, 9, 'cancel', [{lease: 0}]]", LP_ERR_INVALID_ARGUMENT,
	    "must be a lease id");
	decode_fails("[0, 9, 'cancel', [{job: 1}]]", LP_ERR_INVALID_ARGUMENT,
	    "unknown parameter 'job' for cancel");
}
END_TEST

START_TEST(test_strings)
{
	static const struct {
		const char *method, *param;
		unsigned max;
		bool empty_ok;
	} cases[] = {
		{ "hello", "client", LP_NAME_MAX, true },
		{ "acquire", "pool", LP_NAME_MAX, false },
		{ "acquire", "owner", LP_OWNER_MAX, true },
		{ "run", "fn", LP_NAME_MAX, false },
		{ "submit", "fn", LP_NAME_MAX, false },
		{ "submit", "pool", LP_NAME_MAX, false },
		{ "submit", "owner", LP_OWNER_MAX, true },
		{ "stats", "pool", LP_NAME_MAX, false },
	};
	const char *required;
	struct lp_request req;
	struct mt_object o;
	char text[256], says[128];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		required = strcmp(cases[i].method, "run") == 0 ? "lease: 1, " :
		    strcmp(cases[i].method, "submit") == 0 &&
			strcmp(cases[i].param, "fn") != 0 ?
								 "fn: 'f', " :
								 "";
		snprintf(text, sizeof text, "[0, 9, '%s', [{%s%s: 'x'*%u}]]",
		    cases[i].method, required, cases[i].param, cases[i].max);
		decode_ok(&o, text, &req);
		mt_free(&o);

		snprintf(text, sizeof text, "[0, 9, '%s', [{%s%s: 'x'*%u}]]",
		    cases[i].method, required, cases[i].param,
		    cases[i].max + 1);
		snprintf(says, sizeof says,
		    "parameter '%s' must be at most %u "
		    "bytes, got %u",
		    cases[i].param, cases[i].max, cases[i].max + 1);
		decode_fails(text, LP_ERR_INVALID_ARGUMENT, says);

		/* UTF-8, strictly: an overlong NUL is refused, a euro sign welcome. */
		snprintf(text, sizeof text,
		    "[0, 9, '%s', [{%s%s: 'x\\xc0\\x80'}]]", cases[i].method,
		    required, cases[i].param);
		snprintf(says, sizeof says,
		    "parameter '%s' must be UTF-8, got byte 0xc0 at "
		    "offset 1",
		    cases[i].param);
		decode_fails(text, LP_ERR_INVALID_ARGUMENT, says);
		snprintf(text, sizeof text,
		    "[0, 9, '%s', [{%s%s: '\\xe2\\x82\\xac'}]]",
		    cases[i].method, required, cases[i].param);
		decode_ok(&o, text, &req);
		mt_free(&o);

		snprintf(text, sizeof text, "[0, 9, '%s', [{%s%s: ''}]]",
		    cases[i].method, required, cases[i].param);
		if (cases[i].empty_ok) {
			decode_ok(&o, text, &req);
			mt_free(&o);
		} else {
			snprintf(says, sizeof says,
			    "parameter '%s' must not be "
			    "empty",
			    cases[i].param);
			decode_fails(text, LP_ERR_INVALID_ARGUMENT, says);
		}
	}
}
END_TEST

START_TEST(test_defaults)
{
	struct lp_request req;
	struct mt_object o;

	decode_ok(&o, "[0, 9, 'hello', [{}]]", &req);
	ck_assert_int_eq(req.method, LP_METHOD_HELLO);
	ck_assert(!req.p.hello.has_client);
	mt_free(&o);

	decode_ok(&o, "[0, 9, 'acquire', [{}]]", &req);
	ck_assert_int_eq(req.method, LP_METHOD_ACQUIRE);
	ck_assert(!req.p.acquire.has_pool);
	ck_assert(!req.p.acquire.has_owner);
	ck_assert(!req.p.acquire.has_lease_seconds);
	ck_assert(!req.p.acquire.has_timeout);
	ck_assert(req.p.acquire.wait);
	mt_free(&o);

	decode_ok(&o, "[0, 9, 'run', [{fn: 'echo', lease: 5}]]", &req);
	ck_assert_uint_eq(req.p.run.lease, 5);
	ck_assert_uint_eq(req.p.run.args.len, 0);
	ck_assert_uint_eq(req.p.run.kwargs.len, 0);
	ck_assert(!req.p.run.has_timeout);
	mt_free(&o);

	decode_ok(&o, "[0, 9, 'renew', [{lease: 5}]]", &req);
	ck_assert(!req.p.renew.has_lease_seconds);
	mt_free(&o);

	decode_ok(&o, "[0, 9, 'submit', [{fn: 'echo'}]]", &req);
	ck_assert_uint_eq(req.p.submit.args.len, 0);
	ck_assert_uint_eq(req.p.submit.kwargs.len, 0);
	ck_assert(!req.p.submit.has_pool);
	ck_assert(!req.p.submit.has_owner);
	ck_assert(!req.p.submit.has_timeout);
	mt_free(&o);

	decode_ok(&o, "[0, 9, 'stats', [{}]]", &req);
	ck_assert(!req.p.stats.has_pool);
	mt_free(&o);
}
END_TEST

static void
assert_str(struct lp_str s, const char *want)
{
	ck_assert_uint_eq(s.len, strlen(want));
	ck_assert_mem_eq(s.ptr, want, s.len);
}

/* raw is the value written in text, byte for byte. */
static void
assert_raw(struct lp_raw raw, const char *text)
{
	struct mt_object want;

	mt_decode(&want, "%s", text);
	ck_assert_uint_eq(raw.len, want.sbuf.size);
	ck_assert_mem_eq(raw.ptr, want.sbuf.data, raw.len);
	mt_free(&want);
}

/* hello's errors: one of three words, exactly, which the connection keeps. */
START_TEST(test_error_form)
{
	static const struct {
		const char *value;
		enum lp_error_form form;
	} good[] = {
		{ "'map'", LP_ERRORS_MAP },
		{ "'string'", LP_ERRORS_STRING },
		{ "'array'", LP_ERRORS_ARRAY },
	};
	static const char *const bad[] = {
		"'MAP'",
		"''",
		"'str'",
		"'arrays'",
		"b'map'",
		"1",
		"nil",
		"true",
		"['map']",
	};
	char text[128];
	struct lp_request req;
	struct mt_object o;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text, "[0, 9, 'hello', [{errors: %s}]]",
		    good[i].value);
		decode_ok(&o, text, &req);
		ck_assert(req.p.hello.has_errors);
		ck_assert_int_eq(req.p.hello.errors, good[i].form);
		mt_free(&o);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "[0, 9, 'hello', [{errors: %s}]]",
		    bad[i]);
		decode_fails(text, LP_ERR_INVALID_ARGUMENT,
		    "parameter 'errors' must be \"map\", \"string\" or \"array\", got ");
	}
	decode_ok(&o, "[0, 9, 'hello', [{client: 'c'}]]", &req);
	ck_assert(!req.p.hello.has_errors);
	mt_free(&o);
}
END_TEST

START_TEST(test_all_params)
{
	struct lp_request req;
	struct mt_object o;

	decode_ok(&o, "[0, 9, 'hello', [{client: 'cli'}]]", &req);
	ck_assert(req.p.hello.has_client);
	assert_str(req.p.hello.client, "cli");
	mt_free(&o);

	decode_ok(&o,
	    "[0, 9, 'acquire', [{timeout: 3, wait: false, "
	    "lease_seconds: 2.5f, owner: 'me', pool: 'gpu'}]]",
	    &req);
	ck_assert(req.p.acquire.has_pool && req.p.acquire.has_owner);
	assert_str(req.p.acquire.pool, "gpu");
	assert_str(req.p.acquire.owner, "me");
	ck_assert(req.p.acquire.has_lease_seconds);
	ck_assert_double_eq(req.p.acquire.lease_seconds, 2.5);
	ck_assert(!req.p.acquire.wait);
	ck_assert(req.p.acquire.has_timeout);
	ck_assert_double_eq(req.p.acquire.timeout, 3);
	mt_free(&o);

	decode_ok(&o,
	    "[0, 9, 'run', [{lease: 5, fn: 'm.f', args: [1, 'two'], "
	    "kwargs: {k: nil}, timeout: 0.5}]]",
	    &req);
	ck_assert_int_eq(req.method, LP_METHOD_RUN);
	assert_str(req.p.run.fn, "m.f");
	assert_raw(req.p.run.args, "[1, 'two']");
	assert_raw(req.p.run.kwargs, "{k: nil}");
	ck_assert(req.p.run.has_timeout);
	ck_assert_double_eq(req.p.run.timeout, 0.5);
	mt_free(&o);

	decode_ok(&o, "[0, 9, 'renew', [{lease: 5, lease_seconds: 60}]]", &req);
	ck_assert_uint_eq(req.p.renew.lease, 5);
	ck_assert(req.p.renew.has_lease_seconds);
	ck_assert_double_eq(req.p.renew.lease_seconds, 60);
	mt_free(&o);

	decode_ok(&o,
	    "[0, 9, 'submit', [{fn: 'echo', args: [], kwargs: {}, "
	    "pool: 'p', owner: '', timeout: 1}]]",
	    &req);
	assert_str(req.p.submit.fn, "echo");
	assert_raw(req.p.submit.args, "[]");
	assert_raw(req.p.submit.kwargs, "{}");
	ck_assert(req.p.submit.has_pool && req.p.submit.has_owner);
	assert_str(req.p.submit.pool, "p");
	assert_str(req.p.submit.owner, "");
	ck_assert(req.p.submit.has_timeout);
	mt_free(&o);

	decode_ok(&o, "[0, 9, 'stats', [{pool: 'p'}]]", &req);
	ck_assert(req.p.stats.has_pool);
	assert_str(req.p.stats.pool, "p");
	mt_free(&o);
}
END_TEST

/* What lp_pack_* writes, lp_request_decode reads back unchanged. */
START_TEST(test_pack_roundtrip)
{
	msgpack_sbuffer sbuf;
	msgpack_packer pk;
	struct lp_request req;
	struct lp_error err;
	bool known;

	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	lp_pack_request(&pk, 77, "run", 5);
	lp_pack_kv_u64(&pk, "lease", UINT64_MAX);
	lp_pack_kv_str(&pk, "fn", "sleep");
	lp_pack_cstr(&pk, "args");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_double(&pk, 0.25);
	lp_pack_cstr(&pk, "kwargs");
	msgpack_pack_map(&pk, 0);
	lp_pack_kv_double(&pk, "timeout", 30);

	ck_assert_msg(lp_request_decode(sbuf.data, sbuf.size, &req, &err,
			  &known) == LP_OK,
	    "%s", err.message);
	ck_assert_uint_eq(req.msgid, 77);
	ck_assert_int_eq(req.method, LP_METHOD_RUN);
	ck_assert_uint_eq(req.p.run.lease, UINT64_MAX);
	assert_str(req.p.run.fn, "sleep");
	assert_raw(req.p.run.args, "[0.25]");
	assert_raw(req.p.run.kwargs, "{}");
	ck_assert_double_eq(req.p.run.timeout, 30);
	msgpack_sbuffer_destroy(&sbuf);
}
END_TEST

/*
 * text, followed by the bytes of after (which must not be read), decodes
 * into *req as one message of text's length and of depth containers.
 */
static void
decode_followed(const char *text, const char *after, unsigned depth,
    struct lp_request *req)
{
	struct lp_error err;
	struct mt_object o;
	size_t len;
	bool known;

	mt_decode(&o, "%s", text);
	len = o.sbuf.size;
	msgpack_sbuffer_write(&o.sbuf, after, strlen(after));
	ck_assert_msg(lp_request_decode(o.sbuf.data, o.sbuf.size, req, &err,
			  &known) == LP_OK,
	    "%s: %s", text, err.message);
	ck_assert_uint_eq(req->len, len);
	ck_assert_uint_eq(req->depth, depth);
	mt_free(&o);
}

/* A request's bytes and depth, as the framer counts them; what follows it is not read. */
START_TEST(test_length_and_depth)
{
	static const struct {
		const char *text;
		unsigned depth;
	} cases[] = {
		{ "[0, 9, 'stats', [{}]]", 3 },
		{ "[0, 9, 'run', [{lease: 5, fn: 'f'}]]", 3 },
		{ "[0, 9, 'run', [{lease: 5, fn: 'f', args: []}]]", 4 },
		{ "[0, 9, 'run', [{lease: 5, fn: 'f', args: [[[]], 1], kwargs: {}}]]",
		    6 },
		{ "[0, 9, 'submit', [{fn: 'f', kwargs: {a: [{}]}, args: [1]}]]",
		    6 },
	};
	struct lp_request req;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		decode_followed(cases[i].text, "\xc1\x93", cases[i].depth,
		    &req);
}
END_TEST

START_TEST(test_methods)
{
	static const char *const names[] = { "hello", "acquire", "run",
		"release", "renew", "submit", "stats", "scale", "reload",
		"drain", "resume", "config", "ping", "cancel" };
	enum lp_method m;
	struct lp_str s;
	unsigned i;

	ck_assert_uint_eq(sizeof names / sizeof names[0], LP_METHOD__COUNT);
	for (i = 0; i < LP_METHOD__COUNT; i++) {
		ck_assert_str_eq(lp_method_name((enum lp_method)i), names[i]);
		s.ptr = names[i];
		s.len = strlen(names[i]);
		ck_assert(lp_method_lookup(s, &m));
		ck_assert_int_eq(m, (enum lp_method)i);
	}
	ck_assert_str_eq(lp_method_name(LP_METHOD__COUNT), "unknown");
	s.ptr = "hello\0";
	s.len = 6;
	ck_assert(!lp_method_lookup(s, &m));
	s.len = 4;
	ck_assert(!lp_method_lookup(s, &m));
	s.len = 0;
	ck_assert(!lp_method_lookup(s, &m));
	s.ptr = "HELLO";
	s.len = 5;
	ck_assert(!lp_method_lookup(s, &m));
}
END_TEST

START_TEST(test_unknown_method)
{
	decode_fails("[0, 9, 'foo', [{}]]", LP_ERR_UNKNOWN_METHOD,
	    "unknown method 'foo'");
	decode_fails("[0, 9, '', [{}]]", LP_ERR_UNKNOWN_METHOD,
	    "unknown method ''");
	decode_fails("[0, 9, 'hello\\x0a', [{}]]", LP_ERR_UNKNOWN_METHOD,
	    "unknown method 'hello?'");
	decode_fails("[0, 9, 'error', [{}]]", LP_ERR_UNKNOWN_METHOD,
	    "unknown method 'error'");
}
END_TEST

/*
 * Envelope errors pass through, with the msgid when it could be read, and
 * with msgid 0 for a request whose msgid could not be: it is answered, and
 * its message says why.
 */
START_TEST(test_not_a_request)
{
	static const struct {
		const char *text;
		long msgid; /* -1: no msgid to answer */
	} cases[] = {
		{ "[1, 9, nil, true]", -1 },
		{ "{}", -1 },
		{ "[2, 'hello']", -1 },
		{ "[2, 1, []]", -1 },
		{ "[2, 'hello', {}]", -1 },
		{ "[0]", 0 },
		{ "[0, -9, 'hello', [{}]]", 0 },
		{ "[0, 'x', 'hello', [{}]]", 0 },
	};
	struct lp_request req;
	struct lp_error err;
	struct mt_object o;
	size_t i;
	bool known;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		known = cases[i].msgid < 0;
		ck_assert_int_eq(
		    decode_text(&o, cases[i].text, &req, &err, &known),
		    LP_ERR_INVALID_REQUEST);
		ck_assert_msg(known == (cases[i].msgid >= 0), "%s",
		    cases[i].text);
		if (known)
			ck_assert_uint_eq(req.msgid, cases[i].msgid);
		mt_free(&o);
	}
	decode_fails("[0, 9, 'hello', {}]", LP_ERR_INVALID_REQUEST, "params");
	decode_fails("[0, 9, 'hello', [{}, {}]]", LP_ERR_INVALID_REQUEST,
	    "2 elements");
	decode_fails("[0, 9, 'hello', [[]]]", LP_ERR_INVALID_REQUEST,
	    "must be a map");
	decode_fails("[0, 9, 7, [{}]]", LP_ERR_INVALID_REQUEST, "method");
}
END_TEST

/* [] and [nil] are {}: defaults apply, and a required parameter is still missing. */
START_TEST(test_empty_params)
{
	static const char *const texts[] = {
		"[0, 9, 'stats', []]",
		"[0, 9, 'stats', [nil]]",
	};
	struct lp_request req;
	struct lp_error err;
	struct mt_object o;
	size_t i;
	bool known;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		ck_assert_msg(decode_text(&o, texts[i], &req, &err, &known) ==
			LP_OK,
		    "%s: %s", texts[i], err.message);
		ck_assert_int_eq(req.method, LP_METHOD_STATS);
		ck_assert(!req.p.stats.has_pool);
		ck_assert_uint_eq(req.len, o.sbuf.size);
		ck_assert_uint_eq(req.depth, 2);
		mt_free(&o);
	}
	ck_assert_int_eq(
	    decode_text(&o, "[0, 9, 'acquire', [nil]]", &req, &err, &known),
	    LP_OK);
	ck_assert(req.p.acquire.wait);
	mt_free(&o);
	decode_fails("[0, 9, 'release', []]", LP_ERR_INVALID_ARGUMENT,
	    "missing parameter 'lease'");
	decode_ok(&o, "[0, 9, 'ping', [nil]]", &req);
	ck_assert_int_eq(req.method, LP_METHOD_PING);
	mt_free(&o);
}
END_TEST

/*
 * A client's notification is read whole, whatever its params array holds
 * (pynvim's nvim_set_client_info sends five values), for the daemon to
 * ignore.
 */
START_TEST(test_notification)
{
	static const struct {
		const char *text;
		unsigned depth;
	} cases[] = {
		{ "[2, b'nvim_set_client_info', ['c', {}, 'remote', {}, {}]]",
		    3 },
		{ "[2, 'anything', []]", 2 },
		{ "[2, 'hello', [{}]]", 3 },
	};
	struct lp_request req;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		decode_followed(cases[i].text, "\xc1", cases[i].depth, &req);
		ck_assert(req.notification);
	}
}
END_TEST

Suite *
params_suite(void)
{
	Suite *s = suite_create("params");
	TCase *tc;

	tc = unit_case(s, "each parameter", NULL, NULL);
	tcase_add_loop_test(tc, test_wrong_values, 0, NSPECS);
	tcase_add_loop_test(tc, test_good_value, 0, NSPECS);
	tcase_add_loop_test(tc, test_missing, 0, NSPECS);
	tcase_add_loop_test(tc, test_duplicate, 0, NSPECS);
	tcase_add_loop_test(tc, test_unknown_key, 0, NSPECS);

	tc = unit_case(s, "values", NULL, NULL);
	tcase_add_test(tc, test_durations);
	tcase_add_test(tc, test_packed_nan);
	tcase_add_test(tc, test_leases);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_all_params);
	tcase_add_test(tc, test_error_form);
	tcase_add_test(tc, test_pack_roundtrip);
	tcase_add_test(tc, test_length_and_depth);

	tc = unit_case(s, "keys and methods", NULL, NULL);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_key_types);
	tcase_add_test(tc, test_methods);
	tcase_add_test(tc, test_unknown_method);
	tcase_add_test(tc, test_not_a_request);
	tcase_add_test(tc, test_empty_params);
	tcase_add_test(tc, test_notification);
	return s;
}
