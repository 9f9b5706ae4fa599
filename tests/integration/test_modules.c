/* SPDX-License-Identifier: ISC */
/*
 * Job modules against a real daemon: the example modules (primes, bytes),
 * the misbehaving test module (testjobs), max_result_bytes on both
 * backends, and every kind of module the daemon must refuse to start
 * with.  And the job registry in-process, for what no module can show
 * from outside.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/jobs/jobs.h"
#include "proto/rpc.h"
#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/suites.h"

/*
 * Expands "@M/x.so" to the built example module x and "@T/x.so" to the
 * built test module x (the directories `make check` passes in LP_MODULES
 * and LP_TEST_MODULES).
 */
static void
expand_paths(char *buf, size_t len, const char *text)
{
	static const struct {
		const char *token, *env, *fallback;
	} dirs[] = {
		{ "@M", "LP_MODULES", "build/modules" },
		{ "@T", "LP_TEST_MODULES", "build/tests/modules" },
	};
	size_t used = 0;

	buf[0] = '\0';
	while (*text != '\0') {
		size_t i, n = 1;
		int w = 0;

		for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
			if (strncmp(text, dirs[i].token, 2) == 0)
				break;
		if (i < sizeof dirs / sizeof dirs[0]) {
			const char *dir = getenv(dirs[i].env);
			char cwd[512];

			if (dir != NULL)
				w = snprintf(buf + used, len - used, "%s", dir);
			else
				w = snprintf(buf + used, len - used, "%s/%s",
				    getcwd(cwd, sizeof cwd), dirs[i].fallback);
			n = 2;
		} else {
			w = snprintf(buf + used, len - used, "%c", *text);
		}
		ck_assert_msg(w >= 0 && (size_t)w < len - used,
		    "expanded text too long");
		used += (size_t)w;
		text += n;
	}
}

static void
start_with(const char *config_template)
{
	char config[2048];

	expand_paths(config, sizeof config, config_template);
	daemon_start(&d, config);
}

static void
start_modules(void)
{
	start_with(
	    "[daemon]\n"
	    "modules = @M/primes.so @M/bytes.so @T/testjobs.so\n"
	    "[pool cpu]\n"
	    "executors_max = 2\n"
	    "workers = 1\n");
}

static void
start_badinit(void)
{
	start_with(
	    "[daemon]\n"
	    "modules = @M/primes.so @T/badinit.so\n"
	    "[pool cpu]\n"
	    "executors_min = 1\n"
	    "executors_max = 1\n"
	    "workers = 1\n");
}

/* Runs fn with the one integer argument n; the result, which must be a success. */
static struct lp_value *
run_int(struct lp_client *c, uint64_t lease, const char *fn, int64_t n)
{
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	struct lp_error err;

	lp_args_int(a, n);
	ck_assert_msg(lp_run(c, lease, fn, a, &v, &err) == LP_OK,
	    "%s(%lld): %s", fn, (long long)n, err.message);
	lp_args_free(a);
	return v;
}

static uint64_t
run_uint_result(struct lp_client *c, uint64_t lease, const char *fn, int64_t n)
{
	struct lp_value *v = run_int(c, lease, fn, n);
	const msgpack_object *o = lp_value_object(v);
	uint64_t result;

	ck_assert_int_eq(o->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	result = o->via.u64;
	lp_value_free(v);
	return result;
}

/* Runs fn, which must fail with want; err gets the daemon's error. */
static void
run_fails(struct lp_client *c, uint64_t lease, const char *fn,
    const struct lp_args *a, enum lp_err want, struct lp_error *err)
{
	struct lp_value *v = NULL;
	enum lp_err rc = lp_run(c, lease, fn, a, &v, err);

	ck_assert_msg(rc == want, "%s: %s instead of %s (%s)", fn,
	    lp_err_name(rc), lp_err_name(want),
	    rc == LP_OK ? "" : err->message);
}

static void
assert_contains(const char *haystack, const char *needle)
{
	ck_assert_msg(strstr(haystack, needle) != NULL,
	    "'%s' does not contain '%s'", haystack, needle);
}

START_TEST(hello_lists_module_functions)
{
	static const char *const want[] = {
		"echo",
		"primes.count",
		"primes.is_prime",
		"bytes.fnv1a64",
		"bytes.reverse",
		"testjobs.args",
		"testjobs.abort",
	};
	struct lp_client *c = daemon_connect(&d);
	const msgpack_object *fns;
	struct lp_value *v;
	struct lp_error err;

	ck_assert(lp_hello(c, "test", &v, &err) == LP_OK);
	fns = lp_value_get(v, "functions");
	ck_assert_ptr_nonnull(fns);
	ck_assert_int_eq(fns->type, MSGPACK_OBJECT_ARRAY);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		bool found = false;

		for (uint32_t j = 0; j < fns->via.array.size && !found; j++) {
			const msgpack_object *f = &fns->via.array.ptr[j];

			found = f->type == MSGPACK_OBJECT_STR &&
			    f->via.str.size == strlen(want[i]) &&
			    memcmp(f->via.str.ptr, want[i], f->via.str.size) ==
				0;
		}
		ck_assert_msg(found, "hello does not list %s", want[i]);
	}
	lp_value_free(v);
	lp_client_free(c);
}
END_TEST

/* Every function hello names can be run, the misbehaving ones aside. */
START_TEST(every_listed_module_function_runs)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	const msgpack_object *fns;
	struct lp_value *v, *r;
	struct lp_error err;
	unsigned ran = 0;

	ck_assert(lp_hello(c, "test", &v, &err) == LP_OK);
	fns = lp_value_get(v, "functions");
	for (uint32_t i = 0; i < fns->via.array.size; i++) {
		const msgpack_object *f = &fns->via.array.ptr[i];
		char name[LP_NAME_MAX + 1];
		struct lp_args *a = lp_args_new();

		snprintf(name, sizeof name, "%.*s", (int)f->via.str.size,
		    f->via.str.ptr);
		if (strncmp(name, "primes.", 7) == 0)
			lp_args_int(a, 10);
		else if (strncmp(name, "bytes.", 6) == 0)
			lp_args_str(a, "abc");
		else if (strcmp(name, "testjobs.pid") != 0 &&
		    strcmp(name, "testjobs.inited") != 0)
			name[0] = '\0';
		if (name[0] != '\0') {
			ck_assert_msg(lp_run(c, id, name, a, &r, &err) == LP_OK,
			    "%s: %s", name, err.message);
			lp_value_free(r);
			ran++;
		}
		lp_args_free(a);
	}
	ck_assert_uint_eq(ran, 6);
	lp_value_free(v);
	lp_client_free(c);
}
END_TEST

START_TEST(primes_count)
{
	static const struct {
		int64_t n;
		uint64_t count;
	} cases[] = {
		{ -5, 0 },
		{ 0, 0 },
		{ 2, 0 },
		{ 3, 1 },
		{ 4, 2 },
		{ 10, 4 },
		{ 11, 4 },
		{ 12, 5 },
		{ 100, 25 },
		{ 101, 25 },
		{ 65536, 6542 },
		{ 1000000, 78498 },
		{ 10000000, 664579 },
	};
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(run_uint_result(c, id, "primes.count",
				  cases[i].n) == cases[i].count,
		    "primes below %lld", (long long)cases[i].n);
	lp_client_free(c);
}
END_TEST

START_TEST(primes_count_checks_its_argument)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_args *a = lp_args_new();
	struct lp_error err;

	lp_args_int(a, 10000000001LL);
	run_fails(c, id, "primes.count", a, LP_ERR_JOB_FAILED, &err);
	assert_contains(err.message, "more than the limit of 10000000000");
	lp_args_clear(a);
	lp_args_str(a, "100");
	run_fails(c, id, "primes.count", a, LP_ERR_JOB_FAILED, &err);
	assert_contains(err.message,
	    "primes.count takes an integer, got a string");
	lp_args_clear(a);
	lp_args_double(a, 100.0);
	run_fails(c, id, "primes.count", a, LP_ERR_JOB_FAILED, &err);
	assert_contains(err.message, "got a float");
	lp_args_clear(a);
	run_fails(c, id, "primes.count", a, LP_ERR_JOB_FAILED, &err);
	assert_contains(err.message, "takes one integer argument, got 0");
	lp_args_int(a, 100);
	lp_kwargs_int(a, "fast", 1);
	run_fails(c, id, "primes.count", a, LP_ERR_JOB_FAILED, &err);
	assert_contains(err.message, "takes no keyword arguments");
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

START_TEST(primes_is_prime)
{
	static const struct {
		int64_t n;
		bool prime;
	} cases[] = {
		{ -7, false },
		{ 0, false },
		{ 1, false },
		{ 2, true },
		{ 3, true },
		{ 4, false },
		/* a Carmichael number */
		{ 37, true },
		{ 41, true },
		{ 561, false },
		/* a strong pseudoprime to bases 2, 3, 5 and 7 */
		{ 3215031751LL, false },
		/* 2^31 - 1, 2^61 - 1 */
		{ 2147483647, true },
		{ 2305843009213693951LL, true },
		/* the largest prime below 2^63 */
		{ 9223372036854775783LL, true },
		{ 9223372036854775807LL, false },
	};
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct lp_value *v =
		    run_int(c, id, "primes.is_prime", cases[i].n);

		ck_assert_int_eq(lp_value_object(v)->type,
		    MSGPACK_OBJECT_BOOLEAN);
		ck_assert_msg(lp_value_bool(v) == cases[i].prime,
		    "is_prime(%lld)", (long long)cases[i].n);
		lp_value_free(v);
	}
	lp_client_free(c);
}
END_TEST

static uint64_t
fnv1a64(struct lp_client *c, uint64_t lease, const char *s, bool as_bin)
{
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	struct lp_error err;
	uint64_t h;

	if (as_bin)
		lp_args_bin(a, s, strlen(s));
	else
		lp_args_str(a, s);
	ck_assert_msg(lp_run(c, lease, "bytes.fnv1a64", a, &v, &err) == LP_OK,
	    "%s", err.message);
	ck_assert_int_eq(lp_value_object(v)->type,
	    MSGPACK_OBJECT_POSITIVE_INTEGER);
	h = lp_value_object(v)->via.u64;
	lp_value_free(v);
	lp_args_free(a);
	return h;
}

START_TEST(bytes_fnv1a64_known_vectors)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);

	for (int bin = 0; bin <= 1; bin++) {
		ck_assert_uint_eq(fnv1a64(c, id, "", bin),
		    0xcbf29ce484222325ULL);
		ck_assert_uint_eq(fnv1a64(c, id, "a", bin),
		    0xaf63dc4c8601ec8cULL);
		ck_assert_uint_eq(fnv1a64(c, id, "foobar", bin),
		    0x85944171f73967e8ULL);
	}
	lp_client_free(c);
}
END_TEST

START_TEST(bytes_reverse)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_args *a = lp_args_new();
	static char in[10000];
	struct lp_value *v;
	struct lp_error err;
	const char *out;
	size_t len;

	/* Longer than the module's chunk, and not a multiple of it. */
	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (char)(i * 7 + i / 256);
	lp_args_bin(a, in, sizeof in);
	ck_assert(lp_run(c, id, "bytes.reverse", a, &v, &err) == LP_OK);
	ck_assert_int_eq(lp_value_object(v)->type, MSGPACK_OBJECT_BIN);
	out = lp_value_str(v, &len);
	ck_assert_uint_eq(len, sizeof in);
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(out[i] == in[len - 1 - i], "byte %zu", i);
	lp_value_free(v);

	lp_args_clear(a);
	lp_args_str(a, "");
	ck_assert(lp_run(c, id, "bytes.reverse", a, &v, &err) == LP_OK);
	ck_assert_int_eq(lp_value_object(v)->type, MSGPACK_OBJECT_BIN);
	ck_assert_uint_eq(lp_value_object(v)->via.bin.size, 0);
	lp_value_free(v);

	lp_args_clear(a);
	lp_args_int(a, 5);
	run_fails(c, id, "bytes.reverse", a, LP_ERR_JOB_FAILED, &err);
	assert_contains(err.message,
	    "bytes.reverse takes a bin or a string, got an integer");
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

/* The i-th of the objects the round trip carries; false past the last. */
static bool
pack_sample(msgpack_packer *pk, int i)
{
	static const char bin[] = { 0, 1, (char)0xff };

	switch (i) {
	case 0:
		msgpack_pack_nil(pk);
		break;
	case 1:
		msgpack_pack_true(pk);
		break;
	case 2:
		msgpack_pack_int64(pk, -1);
		break;
	case 3:
		msgpack_pack_int64(pk, INT64_MIN);
		break;
	case 4:
		msgpack_pack_uint64(pk, UINT64_MAX);
		break;
	case 5:
		msgpack_pack_double(pk, -1.5e300);
		break;
	case 6:
		msgpack_pack_float(pk, 0.25f);
		break;
	case 7:
		msgpack_pack_str_with_body(pk, "nul\0inside", 10);
		break;
	case 8:
		msgpack_pack_bin_with_body(pk, bin, sizeof bin);
		break;
	case 9:
		msgpack_pack_map(pk, 3);
		msgpack_pack_str_with_body(pk, "a", 1);
		msgpack_pack_array(pk, 2);
		msgpack_pack_int64(pk, -300);
		msgpack_pack_map(pk, 1);
		msgpack_pack_str_with_body(pk, "b", 1);
		msgpack_pack_bin_with_body(pk, bin, sizeof bin);
		msgpack_pack_str_with_body(pk, "empty", 5);
		msgpack_pack_map(pk, 0);
		msgpack_pack_int64(pk, 7); /* a non-string key */
		msgpack_pack_array(pk, 0);
		break;
	case 10:
		msgpack_pack_ext_with_body(pk, "xyz", 3, 5);
		break;
	case 11:
		for (int depth = 0; depth < 10; depth++)
			msgpack_pack_array(pk, 1);
		msgpack_pack_str_with_body(pk, "deep", 4);
		break;
	default:
		return false;
	}
	return true;
}

static void
pack_kwargs(msgpack_packer *pk, struct lp_args *a)
{
	static const char *const keys[] = { "map", "ext", "float", "neg" };
	static const int samples[] = { 9, 10, 5, 3 };
	msgpack_sbuffer one;
	msgpack_packer opk;

	msgpack_sbuffer_init(&one);
	msgpack_packer_init(&opk, &one, msgpack_sbuffer_write);
	msgpack_pack_map(pk, 4);
	for (size_t i = 0; i < 4; i++) {
		msgpack_sbuffer_clear(&one);
		pack_sample(&opk, samples[i]);
		lp_kwargs_raw(a, keys[i], one.data, one.size);
		msgpack_pack_str_with_body(pk, keys[i], strlen(keys[i]));
		pack_sample(pk, samples[i]);
	}
	msgpack_sbuffer_destroy(&one);
}

START_TEST(args_and_kwargs_round_trip_exactly)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_args *a = lp_args_new();
	msgpack_sbuffer want, got, one;
	msgpack_packer pk, gpk, opk;
	struct lp_value *v;
	struct lp_error err;
	int n;

	msgpack_sbuffer_init(&want);
	msgpack_sbuffer_init(&got);
	msgpack_sbuffer_init(&one);
	msgpack_packer_init(&pk, &want, msgpack_sbuffer_write);
	msgpack_packer_init(&gpk, &got, msgpack_sbuffer_write);
	msgpack_packer_init(&opk, &one, msgpack_sbuffer_write);
	for (n = 0; pack_sample(&opk, n); n++) {
		lp_args_raw(a, one.data, one.size);
		msgpack_sbuffer_clear(&one);
	}
	/* What testjobs.args answers: [args, kwargs], as msgpack-c packs them. */
	msgpack_pack_array(&pk, 2);
	msgpack_pack_array(&pk, (uint32_t)n);
	for (int i = 0; i < n; i++)
		pack_sample(&pk, i);
	pack_kwargs(&pk, a);

	ck_assert_msg(lp_run(c, id, "testjobs.args", a, &v, &err) == LP_OK,
	    "%s", err.message);
	msgpack_pack_object(&gpk, *lp_value_object(v));
	ck_assert_uint_eq(got.size, want.size);
	ck_assert(memcmp(got.data, want.data, want.size) == 0);
	lp_value_free(v);

	/* No args and no kwargs arrive as [] and {}. */
	ck_assert(lp_run(c, id, "testjobs.args", NULL, &v, &err) == LP_OK);
	msgpack_sbuffer_clear(&got);
	msgpack_pack_object(&gpk, *lp_value_object(v));
	ck_assert_uint_eq(got.size, 3);
	ck_assert(memcmp(got.data, "\x92\x90\x80", 3) == 0);
	lp_value_free(v);

	msgpack_sbuffer_destroy(&want);
	msgpack_sbuffer_destroy(&got);
	msgpack_sbuffer_destroy(&one);
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

START_TEST(big_results_arrive_whole)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_value *v = run_int(c, id, "testjobs.big", 3 << 20);
	const msgpack_object *o = lp_value_object(v);

	ck_assert_int_eq(o->type, MSGPACK_OBJECT_BIN);
	ck_assert_uint_eq(o->via.bin.size, 3 << 20);
	lp_value_free(v);
	/* And the worker serves the next job normally. */
	ck_assert_uint_eq(run_uint_result(c, id, "primes.count", 100), 25);
	lp_client_free(c);
}
END_TEST

/*
 * max_result_bytes, the same on both backends: a process pool cpu and a
 * thread pool io of one executor of one worker each, under the two limits
 * given.  testjobs.big makes a result of any size from a small request, so
 * a result may be larger than max_message_bytes.
 */
static void
limits_config(char *buf, size_t len, const char *max_result_bytes,
    const char *max_message_bytes)
{
	char config[1024];

	snprintf(config, sizeof config,
	    "[daemon]\n"
	    "modules = @M/bytes.so @T/testjobs.so\n"
	    "max_result_bytes = %s\n"
	    "max_message_bytes = %s\n"
	    "[pool cpu]\n"
	    "executors_min = 1\nexecutors_max = 1\nworkers = 1\n"
	    "[pool io]\n"
	    "backend = thread\n"
	    "executors_min = 1\nexecutors_max = 1\nworkers = 1\n",
	    max_result_bytes, max_message_bytes);
	expand_paths(buf, len, config);
}

static void
start_limits(const char *max_result_bytes, const char *max_message_bytes)
{
	char config[2048];

	limits_config(config, sizeof config, max_result_bytes,
	    max_message_bytes);
	daemon_start(&d, config);
}

/* fn(a) on a new lease of pool: how it was answered; a result must be a bin of want bytes. */
static enum lp_err
run_on(struct lp_client *c, const char *pool, const char *fn,
    const struct lp_args *a, size_t want)
{
	uint64_t lease = acquire_from(c, pool);
	struct lp_value *v;
	struct lp_error err;
	enum lp_err rc;

	rc = lp_run(c, lease, fn, a, &v, &err);
	if (rc == LP_OK) {
		ck_assert_int_eq(lp_value_object(v)->type, MSGPACK_OBJECT_BIN);
		ck_assert_uint_eq(lp_value_object(v)->via.bin.size, want);
		lp_value_free(v);
	} else if (rc == LP_ERR_LIMIT_EXCEEDED) {
		assert_contains(err.message, "more than the limit of");
	}
	ck_assert(lp_release(c, lease, &err) == LP_OK);
	return rc;
}

/* bytes.reverse of n bytes on pool. */
static enum lp_err
reverse_on(struct lp_client *c, const char *pool, size_t n)
{
	static char data[100000];
	struct lp_args *a = lp_args_new();
	enum lp_err rc;

	ck_assert_uint_le(n, sizeof data);
	lp_args_bin(a, data, n);
	rc = run_on(c, pool, "bytes.reverse", a, n);
	lp_args_free(a);
	return rc;
}

/* testjobs.big of n bytes on pool. */
static enum lp_err
big_on(struct lp_client *c, const char *pool, size_t n)
{
	struct lp_args *a = lp_args_new();
	enum lp_err rc;

	lp_args_int(a, (int64_t)n);
	rc = run_on(c, pool, "testjobs.big", a, n);
	lp_args_free(a);
	return rc;
}

/* How a process pool and a thread pool answer on(n): alike, or the test fails. */
static enum lp_err
on_both(struct lp_client *c,
    enum lp_err (*on)(struct lp_client *, const char *, size_t), size_t n)
{
	enum lp_err cpu = on(c, "cpu", n), io = on(c, "io", n);

	ck_assert_msg(cpu == io,
	    "%zu bytes: %s on the process pool, %s on the thread pool", n,
	    lp_err_name(cpu), lp_err_name(io));
	return cpu;
}

START_TEST(a_result_over_max_result_bytes_is_refused_on_both_backends)
{
	struct lp_client *c;

	start_limits("1K", "4194304");
	c = daemon_connect(&d);
	ck_assert_int_eq(on_both(c, reverse_on, 100000), LP_ERR_LIMIT_EXCEEDED);
	/* The limit is on the packed result: a bin of 1021 bytes packs to 1024. */
	ck_assert_int_eq(on_both(c, reverse_on, 1021), LP_OK);
	ck_assert_int_eq(on_both(c, reverse_on, 1022), LP_ERR_LIMIT_EXCEEDED);
	lp_client_free(c);
}
END_TEST

/* A result between the two limits is answered by max_result_bytes alone, whichever is larger. */
START_TEST(a_result_between_the_two_limits_is_treated_alike_on_both_backends)
{
	struct lp_client *c;

	start_limits("1K", "200000");
	c = daemon_connect(&d);
	ck_assert_int_eq(on_both(c, big_on, 100000), LP_ERR_LIMIT_EXCEEDED);
	lp_client_free(c);
	daemon_cleanup(&d);

	start_limits("200000", "1024");
	c = daemon_connect(&d);
	ck_assert_int_eq(on_both(c, big_on, 100000), LP_OK);
	lp_client_free(c);
}
END_TEST

static bool
reloaded(void *arg)
{
	unsigned *before = arg;

	return daemon_log_count(&d, "configuration reloaded") > *before;
}

/* Rewrites the configuration with max_result_bytes and waits for its reload. */
static void
reload_limits(const char *max_result_bytes)
{
	unsigned before = daemon_log_count(&d, "configuration reloaded");
	char config[2048];
	FILE *f;

	limits_config(config, sizeof config, max_result_bytes, "4194304");
	ck_assert_ptr_nonnull(f = fopen(d.config, "w"));
	fputs(config, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert_msg(wait_until(reloaded, &before), "no reload in %s", d.log);
}

/* A reload of max_result_bytes reaches both backends at once, up and down. */
START_TEST(a_reload_of_max_result_bytes_applies_to_both_backends)
{
	struct lp_client *c;

	start_limits("1M", "4194304");
	c = daemon_connect(&d);
	ck_assert_int_eq(on_both(c, reverse_on, 100000), LP_OK);
	/* The worker forked under 1M is held to 1K now; and back. */
	reload_limits("1K");
	ck_assert_int_eq(on_both(c, reverse_on, 100000), LP_ERR_LIMIT_EXCEEDED);
	reload_limits("1M");
	ck_assert_int_eq(on_both(c, reverse_on, 100000), LP_OK);
	/* Refusing a result cost no worker. */
	ck_assert_int_eq(stats_int(c, "pools.cpu.counters.crashed"), 0);
	lp_client_free(c);
}
END_TEST

START_TEST(a_failing_job_reports_its_message)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_args *a = lp_args_new();
	struct lp_error err;

	lp_args_str(a, "out of coffee: 0 cups left");
	run_fails(c, id, "testjobs.fail", a, LP_ERR_JOB_FAILED, &err);
	ck_assert_str_eq(err.message, "out of coffee: 0 cups left");
	lp_args_free(a);
	/* A message that is not UTF-8 reaches the client as UTF-8, for strict readers. */
	a = lp_args_new();
	lp_args_str(a, "caf\xc3\xa9 \xff\xc0\x80!");
	run_fails(c, id, "testjobs.fail", a, LP_ERR_JOB_FAILED, &err);
	ck_assert_str_eq(err.message, "caf\xc3\xa9 ?\?\?!");
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

START_TEST(abi_violations_fail_the_job_by_name)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_error err;

	run_fails(c, id, "testjobs.two", NULL, LP_ERR_JOB_FAILED, &err);
	assert_contains(err.message,
	    "testjobs.two packed 2 result objects instead of one");
	run_fails(c, id, "testjobs.none", NULL, LP_ERR_JOB_FAILED, &err);
	assert_contains(err.message,
	    "testjobs.none packed 0 result objects instead of one");
	/* The worker carries on. */
	ck_assert_uint_eq(run_uint_result(c, id, "primes.count", 100), 25);
	lp_client_free(c);
}
END_TEST

START_TEST(unknown_functions_are_refused)
{
	static const char *const names[] = {
		"primes.nope",
		"primes",
		"primes.",
		".count",
		"nomodule.count",
		"primes.count.x",
		"PRIMES.count",
	};
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_error err;

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		run_fails(c, id, names[i], NULL, LP_ERR_NO_SUCH_FUNCTION, &err);
	lp_client_free(c);
}
END_TEST

static int64_t
worker_pid(struct lp_client *c, uint64_t lease)
{
	return run_pid(c, lease, "testjobs.pid");
}

/* A crash is the client's WORKER_CRASHED; the lease then runs on a new worker, set up by init. */
static void
assert_crash_and_recovery(const char *fn, const struct lp_args *a, int signal,
    const char *how)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	int64_t before = worker_pid(c, id);
	struct lp_value *v;
	struct lp_error err;

	run_fails(c, id, fn, a, LP_ERR_WORKER_CRASHED, &err);
	ck_assert_int_eq(err.signal, signal);
	assert_contains(err.message, how);
	assert_contains(err.message, fn);
	ck_assert_int_ne(worker_pid(c, id), before);
	ck_assert(lp_run(c, id, "testjobs.inited", NULL, &v, &err) == LP_OK);
	ck_assert(lp_value_bool(v));
	lp_value_free(v);
	ck_assert_uint_eq(run_uint_result(c, id, "primes.count", 1000), 168);
	lp_client_free(c);
}

START_TEST(abort_is_a_crash_with_sigabrt)
{
	assert_crash_and_recovery("testjobs.abort", NULL, SIGABRT,
	    "killed by signal 6");
}
END_TEST

START_TEST(segv_is_a_crash_with_sigsegv)
{
	assert_crash_and_recovery("testjobs.segv", NULL, SIGSEGV,
	    "killed by signal 11");
}
END_TEST

START_TEST(exit_is_a_crash_with_its_status)
{
	struct lp_args *a = lp_args_new();

	lp_args_int(a, 3);
	assert_crash_and_recovery("testjobs.exit", a, 0,
	    "exited with status 3");
	lp_args_free(a);
}
END_TEST

START_TEST(a_hung_job_times_out)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_value *v;
	struct lp_error err;

	ck_assert_int_eq(
	    lp_run_timeout(c, id, "testjobs.hang", NULL, 0.2, &v, &err),
	    LP_ERR_JOB_TIMEOUT);
	ck_assert_uint_eq(run_uint_result(c, id, "primes.count", 100), 25);
	lp_client_free(c);
}
END_TEST

START_TEST(init_runs_in_every_worker)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_value *v;
	struct lp_error err;

	ck_assert(lp_run(c, id, "testjobs.inited", NULL, &v, &err) == LP_OK);
	ck_assert_int_eq(lp_value_object(v)->type, MSGPACK_OBJECT_BOOLEAN);
	ck_assert(lp_value_bool(v));
	lp_value_free(v);
	lp_client_free(c);
}
END_TEST

START_TEST(what_a_module_prints_reaches_the_log)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	struct lp_error err;

	lp_args_str(a, "a line from a job module\n");
	ck_assert(lp_run(c, id, "testjobs.print", a, &v, &err) == LP_OK);
	ck_assert(lp_value_is_nil(v));
	lp_value_free(v);
	daemon_wait_log(&d, "a line from a job module");
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

START_TEST(fini_runs_when_workers_stop)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	int64_t pid = worker_pid(c, id);
	char path[160], line[64], want[64];
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	struct lp_error err;
	FILE *f;
	int status;

	snprintf(path, sizeof path, "%s/fini", d.dir);
	lp_args_str(a, path);
	ck_assert(lp_run(c, id, "testjobs.fini_file", a, &v, &err) == LP_OK);
	lp_value_free(v);
	lp_args_free(a);
	lp_client_free(c);
	status = daemon_stop(&d);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The worker exits once it sees its channel close, maybe after the daemon. */
	ck_assert_msg(wait_until(file_exists, path),
	    "worker %lld never ran fini", (long long)pid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	fclose(f);
	unlink(path);
	snprintf(want, sizeof want, "fini %lld\n", (long long)pid);
	ck_assert_str_eq(line, want);
}
END_TEST

START_TEST(a_failing_init_is_a_crash_loop_not_a_hang)
{
	struct lp_acquire_opts opts = { .nowait = true };
	struct lp_client *c = daemon_connect(&d);
	struct lp_lease lease;
	struct lp_error err;

	assert_crash_loop(&d, c, "cpu");
	ck_assert(daemon_log_contains(&d, "job module badinit"));
	ck_assert(daemon_log_contains(&d, "init failed"));
	/* Nothing waits either. */
	ck_assert_int_eq(lp_acquire(c, &opts, &lease, &err),
	    LP_ERR_UNAVAILABLE);
	lp_client_free(c);
}
END_TEST

START_TEST(check_accepts_good_modules)
{
	char config[2048], out[4096];
	int status;

	expand_paths(config, sizeof config,
	    "[daemon]\nmodules = @M/primes.so @M/bytes.so @T/testjobs.so\n");
	status = daemon_run_once(config, true, out, sizeof out);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "leasepoold -t: %s", out);
}
END_TEST

/* Modules the daemon must refuse, with the path it must name and what it must say. */
static const struct {
	const char *modules;
	const char *bad;
	const char *says;
} bad_modules[] = {
	{ "@M/primes.so @T/no-such-module.so", "@T/no-such-module.so",
	    "cannot load it: cannot open shared object file" },
	{ "@T/notable.so", "@T/notable.so",
	    "does not export leasepool_job_module" },
	{ "@M/primes.so @T/badabi.so", "@T/badabi.so",
	    "built for job ABI 999, this daemon speaks 1" },
	{ "@T/badname.so", "@T/badname.so",
	    "module name 'bad.name' is not valid" },
	{ "@T/badfunc.so", "@T/badfunc.so",
	    "function name 'no op' is not valid" },
	{ "@T/dupfunc.so", "@T/dupfunc.so",
	    "function dupfunc.noop is listed twice" },
	{ "@M/primes.so @M/bytes.so @M/primes.so", "@M/primes.so",
	    "module name primes is already taken by" },
	{ "@T/unresolved.so", "@T/unresolved.so",
	    "cannot load it: undefined symbol: lp_job_no_such_function" },
};
#define NBAD (int)(sizeof bad_modules / sizeof bad_modules[0])

static void
assert_refused(int i, bool check_only)
{
	char config[2048], want[1024], bad[512], out[8192];
	char tmpl[1024];
	int status;

	snprintf(tmpl, sizeof tmpl, "[daemon]\nmodules = %s\n",
	    bad_modules[i].modules);
	expand_paths(config, sizeof config, tmpl);
	expand_paths(bad, sizeof bad, bad_modules[i].bad);
	snprintf(want, sizeof want, "leasepoold: job module %s: %s", bad,
	    bad_modules[i].says);
	status = daemon_run_once(config, check_only, out, sizeof out);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "leasepoold %s exited with status 0x%x: %s", check_only ? "-t" : "",
	    status, out);
	assert_contains(out, want);
}

START_TEST(check_reports_a_bad_module)
{
	assert_refused(_i, true);
}
END_TEST

START_TEST(start_refuses_a_bad_module)
{
	assert_refused(_i, false);
}
END_TEST

/* ---- who may write a module ---- */

/* The marker module (its constructor leaves PATH.loaded), copied where a test puts it. */
static struct {
	char dir[32], path[64], mark[80];
} placed;

static void
copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n;

	ck_assert_msg(in != -1, "%s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_msg(out != -1, "%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	close(out);
	ck_assert_int_eq(chmod(to, mode), 0);
}

static void
place_marker(mode_t dir_mode, mode_t file_mode)
{
	char built[512];

	snprintf(placed.dir, sizeof placed.dir, "/tmp/lp-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(placed.dir));
	snprintf(placed.path, sizeof placed.path, "%s/marker.so", placed.dir);
	snprintf(placed.mark, sizeof placed.mark, "%s.loaded", placed.path);
	expand_paths(built, sizeof built, "@T/marker.so");
	copy_file(built, placed.path, file_mode);
	ck_assert_int_eq(chmod(placed.dir, dir_mode), 0);
}

static void
remove_marker(void)
{
	if (placed.dir[0] == '\0')
		return;
	unlink(placed.mark);
	unlink(placed.path);
	rmdir(placed.dir);
	placed.dir[0] = '\0';
}

/* leasepoold -t (or a start) with the placed module; its exit status, its words in out. */
static int
run_with_marker(bool check_only, char *out, size_t len)
{
	char config[256];

	snprintf(config, sizeof config, "[daemon]\nmodules = %s\n",
	    placed.path);
	return daemon_run_once(config, check_only, out, len);
}

/* Modes under which a module is not loaded, and what the daemon says. */
static const struct {
	mode_t dir, file;
	const char *says;
} unsafe_modes[] = {
	{ 0777, 0666, "marker.so is writable by others (mode 0666)" },
	{ 01777, 0666, "marker.so is writable by others (mode 0666)" },
	{ 0700, 0666, "marker.so is writable by others (mode 0666)" },
	{ 0700, 0602, "marker.so is writable by others (mode 0602)" },
	{ 0777, 0644,
	    "is writable by others (mode 0777) and has no sticky bit" },
};
#define NUNSAFE (int)(sizeof unsafe_modes / sizeof unsafe_modes[0])

static void
assert_not_loaded(int i, bool check_only)
{
	char out[8192], want[512];
	int status;

	place_marker(unsafe_modes[i].dir, unsafe_modes[i].file);
	status = run_with_marker(check_only, out, sizeof out);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "leasepoold %s exited with status 0x%x: %s", check_only ? "-t" : "",
	    status, out);
	snprintf(want, sizeof want,
	    "leasepoold: job module %s: not loading it: ", placed.path);
	assert_contains(out, want);
	assert_contains(out, unsafe_modes[i].says);
	/* Checked before dlopen(): the module's constructor never ran. */
	ck_assert_msg(access(placed.mark, F_OK) == -1, "%s's constructor ran",
	    placed.path);
}

START_TEST(check_refuses_a_module_others_may_write)
{
	assert_not_loaded(_i, true);
}
END_TEST

START_TEST(start_refuses_a_module_others_may_write)
{
	assert_not_loaded(_i, false);
}
END_TEST

/* The same module where only its owner may write it loads, constructor and all. */
START_TEST(a_module_only_its_owner_may_write_loads)
{
	static const mode_t dir_modes[] = { 0700, 0755, 01777 };
	char out[8192];
	int status;

	for (size_t i = 0; i < sizeof dir_modes / sizeof dir_modes[0]; i++) {
		place_marker(dir_modes[i], 0644);
		status = run_with_marker(true, out, sizeof out);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "leasepoold -t, directory mode %04o: %s",
		    (unsigned)dir_modes[i], out);
		ck_assert_msg(access(placed.mark, F_OK) == 0,
		    "%s was not loaded", placed.path);
		remove_marker();
	}
}
END_TEST

/* ---- the registry, in-process ---- */

static int
pack_two(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	msgpack_pack_nil(lp_job_result(job));
	msgpack_pack_nil(lp_job_result(job));
	return 0;
}

static int
pack_half(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	msgpack_pack_array(lp_job_result(job), 2);
	msgpack_pack_nil(lp_job_result(job));
	return 0;
}

static int
fail_silently(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	return -1;
}

static const struct lp_job_function misfits[] = {
	{ "two", pack_two, 0 },
	{ "half", pack_half, 0 },
	{ "silent", fail_silently, LP_JOB_THREAD_SAFE },
	{ NULL, NULL, 0 },
};

static void
forget_modules(void)
{
	jobs_clear();
}

static const struct lp_job_function *
find(const char *name)
{
	return jobs_find(name, strlen(name));
}

START_TEST(registry_finds_exact_names_only)
{
	const struct lp_job_function *f;

	jobs_add_module("mis", misfits);
	ck_assert_ptr_nonnull(f = find("mis.two"));
	ck_assert_str_eq(f->name, "mis.two");
	ck_assert(f->fn == pack_two);
	ck_assert_ptr_nonnull(f = find("mis.silent"));
	ck_assert_uint_eq(f->flags, LP_JOB_THREAD_SAFE);
	ck_assert_ptr_nonnull(find("echo"));
	/* Names are (pointer, length), not C strings. */
	ck_assert_ptr_nonnull(jobs_find("echo!", 4));
	ck_assert_ptr_nonnull(jobs_find("mis.halfway", 8));
	ck_assert_ptr_null(find("ech"));
	ck_assert_ptr_null(find("echoo"));
	ck_assert_ptr_null(find("mis"));
	ck_assert_ptr_null(find("mis."));
	ck_assert_ptr_null(find("two"));
	ck_assert_ptr_null(find("mis.tw"));
	ck_assert_ptr_null(find("mis.twoo"));
	ck_assert_ptr_null(jobs_find("", 0));
}
END_TEST

START_TEST(registry_lists_builtins_then_modules_in_order)
{
	static const char *const want[] = { "mis.two", "mis.half",
		"mis.silent" };
	size_t builtins = jobs_count();

	ck_assert_str_eq(jobs_name(0), "echo");
	jobs_add_module("mis", misfits);
	ck_assert_uint_eq(jobs_count(), builtins + 3);
	ck_assert_str_eq(jobs_name(0), "echo");
	for (size_t i = 0; i < 3; i++)
		ck_assert_str_eq(jobs_name(builtins + i), want[i]);
	jobs_clear();
	ck_assert_uint_eq(jobs_count(), builtins);
	ck_assert_ptr_null(find("mis.two"));
	ck_assert_ptr_nonnull(find("echo"));
}
END_TEST

START_TEST(registry_finds_every_one_of_many)
{
	enum {
		MODULES = 20,
		FUNCTIONS = 50
	};
	static struct lp_job_function fns[MODULES][FUNCTIONS + 1];
	static char names[MODULES][FUNCTIONS][16];
	char full[64];

	for (int m = 0; m < MODULES; m++) {
		for (int i = 0; i < FUNCTIONS; i++) {
			/* Names that share prefixes and differ in length. */
			snprintf(names[m][i], sizeof names[m][i], "f%d%s",
			    (i * 7919) % 997, i % 3 == 0 ? "x" : "");
			fns[m][i] = (struct lp_job_function){ names[m][i],
				pack_two, 0 };
		}
		snprintf(full, sizeof full, "m%d", m);
		jobs_add_module(full, fns[m]);
	}
	for (int m = 0; m < MODULES; m++) {
		for (int i = 0; i < FUNCTIONS; i++) {
			const struct lp_job_function *f;

			snprintf(full, sizeof full, "m%d.%s", m, names[m][i]);
			ck_assert_msg((f = find(full)) != NULL, "%s not found",
			    full);
			ck_assert_str_eq(f->name, full);
			snprintf(full, sizeof full, "m%d.%sy", m, names[m][i]);
			ck_assert_ptr_null(find(full));
		}
	}
}
END_TEST

/* Calls the module function name; returns the job's failure message ("" for none). */
static const char *
call(const char *name, struct lp_job *job)
{
	msgpack_object args = { .type = MSGPACK_OBJECT_ARRAY };
	msgpack_object kwargs = { .type = MSGPACK_OBJECT_MAP };
	const struct lp_job_function *f = find(name);

	ck_assert_ptr_nonnull(f);
	jobs_reset(job);
	jobs_call(f, job, &args, &kwargs);
	if (job->failed)
		ck_assert_uint_eq(job->result.size, 0);
	return job->failed ? job->message : "";
}

START_TEST(abi_violations_are_named_by_their_full_name)
{
	struct lp_job job;

	jobs_init(&job);
	jobs_add_module("mis", misfits);
	ck_assert_str_eq(call("mis.two", &job),
	    "mis.two packed 2 result objects instead of one");
	assert_contains(call("mis.half", &job),
	    "mis.half packed a result that is incomplete");
	ck_assert_str_eq(call("mis.silent", &job),
	    "mis.silent failed without a message");
	assert_contains(call("echo", &job), "echo");
	jobs_destroy(&job);
}
END_TEST

static void
start_adopting(void)
{
	char config[1024];

	expand_paths(config, sizeof config,
	    "[daemon]\nmodules = @T/testjobs.so\n"
	    "[pool cpu]\nexecutors_min = 1\nexecutors_max = 1\nworkers = 1\n"
	    "max_jobs_per_worker = 1\n"
	    "[pool io]\nbackend = thread\nexecutors_min = 1\nexecutors_max = 1\nworkers = 1\n");
	daemon_start(&d, config);
}

static uint64_t
acquire_on(struct lp_client *c, const char *pool)
{
	struct lp_acquire_opts opts = { .pool = pool };
	struct lp_lease lease;
	struct lp_error err;

	ck_assert_msg(lp_acquire(c, &opts, &lease, &err) == LP_OK,
	    "acquire %s: %s", pool, err.message);
	return lease.id;
}

static pid_t
run_pid_arg(struct lp_client *c, uint64_t lease, const char *fn, int64_t n)
{
	struct lp_value *v = run_int(c, lease, fn, n);
	pid_t pid = (pid_t)lp_value_int(v);

	lp_value_free(v);
	return pid;
}

static bool
gone(void *arg)
{
	return proc_state(*(pid_t *)arg) == '?';
}

/*
 * Once a fork server died, the daemon kills what its workers left when a
 * child of its own ends; but once the last of those workers is gone, the
 * daemon's children are the thread jobs' again, and an end of one of them
 * kills no other.
 */
START_TEST(a_thread_jobs_child_outlives_an_adoption_that_ended)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t cpu = acquire_on(c, "cpu"), io = acquire_on(c, "io");
	pid_t adopted, stays, ends;

	kill_fork_server(&d);
	/* Its one job done, the adopted worker is retired, and ends. */
	adopted = run_pid_arg(c, cpu, "testjobs.pid", 0);
	ck_assert_msg(wait_until(gone, &adopted),
	    "the adopted worker %d did not end", (int)adopted);

	stays = run_pid_arg(c, io, "testjobs.fork", 1);
	ends = run_pid_arg(c, io, "testjobs.fork", 0);
	ck_assert_msg(wait_until(gone, &ends), "the daemon did not reap %d",
	    (int)ends);
	/* A round trip: the daemon is past the SIGCHLD that reaped it. */
	run_pid_arg(c, io, "testjobs.fork", 0);
	ck_assert_msg(strchr("?Z", proc_state(stays)) == NULL &&
		kill(stays, 0) == 0,
	    "the thread job's child %d was killed", (int)stays);
	ck_assert(!daemon_log_contains(&d,
	    "left running by workers of a fork server that died"));
	kill(stays, SIGKILL);
	lp_client_free(c);
}
END_TEST

Suite *
modules_suite(void)
{
	Suite *s = suite_create("modules");
	TCase *tc;

	tc = integration_case(s, "run", start_modules, stop_daemon);
	tcase_add_test(tc, hello_lists_module_functions);
	tcase_add_test(tc, every_listed_module_function_runs);
	tcase_add_test(tc, primes_count);
	tcase_add_test(tc, primes_count_checks_its_argument);
	tcase_add_test(tc, primes_is_prime);
	tcase_add_test(tc, bytes_fnv1a64_known_vectors);
	tcase_add_test(tc, bytes_reverse);
	tcase_add_test(tc, args_and_kwargs_round_trip_exactly);
	tcase_add_test(tc, big_results_arrive_whole);
	tcase_add_test(tc, init_runs_in_every_worker);

	tc = integration_case(s, "faults", start_modules, stop_daemon);
	tcase_add_test(tc, a_failing_job_reports_its_message);
	tcase_add_test(tc, abi_violations_fail_the_job_by_name);
	tcase_add_test(tc, unknown_functions_are_refused);
	tcase_add_test(tc, abort_is_a_crash_with_sigabrt);
	tcase_add_test(tc, segv_is_a_crash_with_sigsegv);
	tcase_add_test(tc, exit_is_a_crash_with_its_status);
	tcase_add_test(tc, a_hung_job_times_out);
	tcase_add_test(tc, what_a_module_prints_reaches_the_log);
	tcase_add_test(tc, fini_runs_when_workers_stop);

	tc = integration_case(s, "result limits", NULL, stop_daemon);
	tcase_add_test(tc,
	    a_result_over_max_result_bytes_is_refused_on_both_backends);
	tcase_add_test(tc,
	    a_result_between_the_two_limits_is_treated_alike_on_both_backends);
	tcase_add_test(tc,
	    a_reload_of_max_result_bytes_applies_to_both_backends);

	tc = integration_case(s, "adoption", start_adopting, stop_daemon);
	tcase_add_test(tc, a_thread_jobs_child_outlives_an_adoption_that_ended);

	tc = integration_case(s, "failing init", start_badinit, stop_daemon);
	tcase_add_test(tc, a_failing_init_is_a_crash_loop_not_a_hang);

	tc = integration_case(s, "refused", NULL, NULL);
	tcase_add_test(tc, check_accepts_good_modules);
	tcase_add_loop_test(tc, check_reports_a_bad_module, 0, NBAD);
	tcase_add_loop_test(tc, start_refuses_a_bad_module, 0, NBAD);

	tc = integration_case(s, "who may write", NULL, remove_marker);
	tcase_add_test(tc, a_module_only_its_owner_may_write_loads);
	tcase_add_loop_test(tc, check_refuses_a_module_others_may_write, 0,
	    NUNSAFE);
	tcase_add_loop_test(tc, start_refuses_a_module_others_may_write, 0,
	    NUNSAFE);

	tc = integration_case(s, "registry", NULL, forget_modules);
	tcase_add_test(tc, registry_finds_exact_names_only);
	tcase_add_test(tc, registry_lists_builtins_then_modules_in_order);
	tcase_add_test(tc, registry_finds_every_one_of_many);
	tcase_add_test(tc, abi_violations_are_named_by_their_full_name);
	return s;
}
