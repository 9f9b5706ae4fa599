/* SPDX-License-Identifier: ISC */
/*
 * Pools of Python workers: python3 -m leasepoold.worker serving
 * tests/python/pyjobs.py, against a real daemon, through libleasepool.
 * They need /usr/bin/python3 with python3-msgpack (scripts/deps.sh).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/suites.h"

/*
 * The package comes from the source tree: the fork server passes the
 * daemon's environment on to a worker_program (docs/worker-protocol.md), and
 * python3 finds leasepoold by PYTHONPATH before --path is read.  Nothing is
 * written to the tree (no bytecode).
 */
static void
start_python_pool(const char *module, const char *extra)
{
	static char pythonpath[600];
	static const char *env[] = { pythonpath, "PYTHONDONTWRITEBYTECODE=1",
		NULL };
	const char *source = getenv("LP_SOURCE");
	char config[2048];

	ck_assert_msg(source != NULL, "LP_SOURCE names the source tree");
	snprintf(pythonpath, sizeof pythonpath, "PYTHONPATH=%s/client/python",
	    source);
	snprintf(config, sizeof config,
	    "[daemon]\ndefault_pool = python\n"
	    "[pool python]\nexecutors_max = 2\nworkers = 1\n"
	    "worker_program = /usr/bin/python3 -m leasepoold.worker --path %s/tests/python %s\n%s",
	    source, module, extra);
	daemon_start_env(&d, config, env);
}

static void
start_pyjobs_pool(void)
{
	start_python_pool("pyjobs", "max_jobs_per_worker = 3\n");
}

static void
start_broken_pool(void)
{
	start_python_pool("pybroken", "");
}

/* fn(args) on lease with timeout (0: the pool's); its code, the result in *out when OK. */
static enum lp_err
run_python(struct lp_client *c, uint64_t lease, const char *fn,
    struct lp_args *a, double timeout, struct lp_value **out,
    struct lp_error *err)
{
	struct lp_value *v = NULL;
	enum lp_err rc = lp_run_timeout(c, lease, fn, a, timeout, &v, err);

	if (out != NULL)
		*out = v;
	else
		lp_value_free(v);
	return rc;
}

static int64_t
worker_pid(struct lp_client *c, uint64_t lease)
{
	return run_pid(c, lease, "pyjobs:pid");
}

/* The values the round trip sends, one msgpack type (or corner of one) each. */
enum sample {
	S_NIL,
	S_TRUE,
	S_FALSE,
	S_ZERO,
	S_NEGATIVE,
	S_INT64_MIN,
	S_INT64_MAX,
	S_UINT64_MAX,
	S_FLOAT,
	S_STR,
	S_STR_NON_ASCII,
	S_STR_EMPTY,
	S_BIN,
	S_BIN_EMPTY,
	S_ARRAY,
	S_MAP,
	S_MAP_INT_KEYS,
	S_NESTED,
	SAMPLES
};

static const char *const sample_names[SAMPLES] = {
	"nil",
	"true",
	"false",
	"0",
	"-33",
	"INT64_MIN",
	"INT64_MAX",
	"UINT64_MAX",
	"float",
	"str",
	"non-ASCII str",
	"empty str",
	"bin",
	"empty bin",
	"array",
	"map",
	"map with integer keys",
	"nested",
};

static void
pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void
pack_sample(msgpack_packer *pk, enum sample which)
{
	static const char bytes[] = { 0, 1, (char)0xff, 'b' };

	switch (which) {
	case S_NIL:
		msgpack_pack_nil(pk);
		break;
	case S_TRUE:
		msgpack_pack_true(pk);
		break;
	case S_FALSE:
		msgpack_pack_false(pk);
		break;
	case S_ZERO:
		msgpack_pack_int64(pk, 0);
		break;
	case S_NEGATIVE:
		msgpack_pack_int64(pk, -33);
		break;
	case S_INT64_MIN:
		msgpack_pack_int64(pk, INT64_MIN);
		break;
	case S_INT64_MAX:
		msgpack_pack_int64(pk, INT64_MAX);
		break;
	case S_UINT64_MAX:
		msgpack_pack_uint64(pk, UINT64_MAX);
		break;
	case S_FLOAT:
		msgpack_pack_double(pk, -1.5e300);
		break;
	case S_STR:
		pack_str(pk, "text");
		break;
	case S_STR_NON_ASCII:
		pack_str(pk, "ünïcødé ✓ 日本");
		break;
	case S_STR_EMPTY:
		pack_str(pk, "");
		break;
	case S_BIN:
		msgpack_pack_bin_with_body(pk, bytes, sizeof bytes);
		break;
	case S_BIN_EMPTY:
		msgpack_pack_bin_with_body(pk, "", 0);
		break;
	case S_ARRAY:
		msgpack_pack_array(pk, 4);
		msgpack_pack_int64(pk, 1);
		pack_str(pk, "two");
		msgpack_pack_nil(pk);
		msgpack_pack_double(pk, 4.25);
		break;
	case S_MAP:
		msgpack_pack_map(pk, 2);
		pack_str(pk, "a");
		msgpack_pack_int64(pk, 1);
		pack_str(pk, "b");
		msgpack_pack_false(pk);
		break;
	case S_MAP_INT_KEYS:
		msgpack_pack_map(pk, 2);
		msgpack_pack_int64(pk, 1);
		pack_str(pk, "one");
		msgpack_pack_int64(pk, -2);
		pack_str(pk, "minus two");
		break;
	case S_NESTED:
		/* {"deep": [{"x": [bin, nil]}, []], "n": -1} */
		msgpack_pack_map(pk, 2);
		pack_str(pk, "deep");
		msgpack_pack_array(pk, 2);
		msgpack_pack_map(pk, 1);
		pack_str(pk, "x");
		msgpack_pack_array(pk, 2);
		msgpack_pack_bin_with_body(pk, bytes, sizeof bytes);
		msgpack_pack_nil(pk);
		msgpack_pack_array(pk, 0);
		pack_str(pk, "n");
		msgpack_pack_int64(pk, -1);
		break;
	case SAMPLES:
		break;
	}
}

START_TEST(every_msgpack_type_goes_there_and_back)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);

	for (enum sample which = 0; which < SAMPLES; which++) {
		msgpack_sbuffer sent;
		msgpack_packer pk;
		msgpack_unpacked want;
		struct lp_args *a = lp_args_new();
		struct lp_value *v = NULL;
		struct lp_error err;

		msgpack_sbuffer_init(&sent);
		msgpack_packer_init(&pk, &sent, msgpack_sbuffer_write);
		pack_sample(&pk, which);
		lp_args_raw(a, sent.data, sent.size);
		ck_assert_msg(run_python(c, lease, "pyjobs:echo", a, 0, &v,
				  &err) == LP_OK,
		    "%s: %s", sample_names[which], err.message);
		msgpack_unpacked_init(&want);
		ck_assert_int_eq(
		    msgpack_unpack_next(&want, sent.data, sent.size, NULL),
		    MSGPACK_UNPACK_SUCCESS);
		ck_assert_msg(
		    msgpack_object_equal(want.data, *lp_value_object(v)),
		    "%s did not come back as it went", sample_names[which]);
		msgpack_unpacked_destroy(&want);
		lp_value_free(v);
		lp_args_free(a);
		msgpack_sbuffer_destroy(&sent);
	}
	lp_client_free(c);
}
END_TEST

START_TEST(an_exception_fails_the_job_with_its_traceback_in_the_log)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct lp_args *a = lp_args_new();
	struct lp_error err;
	char tag[128];

	lp_args_str(a, "bad input");
	ck_assert_int_eq(run_python(c, lease, "pyjobs:fail", a, 0, NULL, &err),
	    LP_ERR_JOB_FAILED);
	ck_assert_str_eq(err.message, "ValueError: bad input");
	snprintf(tag, sizeof tag,
	    "worker %lld of pool python, pyjobs:fail: Traceback",
	    (long long)worker_pid(c, lease));
	daemon_wait_log(&d, tag);
	daemon_wait_log(&d, "pyjobs:fail: ValueError: bad input");
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

START_TEST(nothing_outside_the_served_module_is_a_function)
{
	static const char *const outside[] = { "os:system", "pyjobs:os",
		"pyjobs", "echo" };
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);

	for (size_t i = 0; i < sizeof outside / sizeof *outside; i++) {
		struct lp_error err;

		ck_assert_msg(run_python(c, lease, outside[i], NULL, 0, NULL,
				  &err) == LP_ERR_NO_SUCH_FUNCTION,
		    "%s: %s", outside[i], err.message);
	}
	lp_client_free(c);
}
END_TEST

/* pyjobs:spin_forever, started on lease and seen running, answered to o. */
static void
start_spinning(struct lp_client *c, uint64_t lease, struct outcome *o)
{
	struct lp_error err;

	ck_assert_int_eq(lp_run_async(c, lease, "pyjobs:spin_forever", NULL,
			     record, o, &err),
	    LP_OK);
	ck_assert_int_eq(lp_client_process(c, &err), LP_OK);
	daemon_wait_log(&d, "pyjobs:spin_forever: spinning");
}

START_TEST(a_killed_worker_is_answered_crashed_and_replaced)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	int64_t pid = worker_pid(c, lease);
	struct outcome o = { 0 };

	start_spinning(c, lease, &o);
	ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0);
	wait_outcome(c, &o);
	ck_assert_int_eq(o.code, LP_ERR_WORKER_CRASHED);
	ck_assert_int_eq(o.signal, SIGKILL);
	ck_assert_int_ne(worker_pid(c, lease), pid);
	lp_client_free(c);
}
END_TEST

START_TEST(an_endless_job_is_killed_at_its_timeout_and_the_pool_goes_on)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	int64_t pid = worker_pid(c, lease);
	struct lp_error err;

	ck_assert_int_eq(
	    run_python(c, lease, "pyjobs:spin_forever", NULL, 0.5, NULL, &err),
	    LP_ERR_JOB_TIMEOUT);
	ck_assert_int_ne(worker_pid(c, lease), pid);
	lp_client_free(c);
}
END_TEST

/* max_jobs_per_worker = 3: the third job is its worker's last. */
START_TEST(a_worker_is_recycled_after_max_jobs)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	int64_t first = worker_pid(c, lease);

	ck_assert_int_eq(worker_pid(c, lease), first);
	ck_assert_int_eq(worker_pid(c, lease), first);
	wait_new_worker(c, lease, "pyjobs:pid", first);
	lp_client_free(c);
}
END_TEST

START_TEST(print_reaches_the_log_tagged)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct lp_args *a = lp_args_new();
	struct lp_error err;
	char tag[128];

	lp_args_str(a, "printed by a job ✓");
	ck_assert_int_eq(run_python(c, lease, "pyjobs:say", a, 0, NULL, &err),
	    LP_OK);
	snprintf(tag, sizeof tag,
	    "worker %lld of pool python, pyjobs:say: printed by a job ✓",
	    (long long)worker_pid(c, lease));
	daemon_wait_log(&d, tag);
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

START_TEST(a_module_that_fails_to_import_is_a_crash_loop)
{
	struct lp_client *c = daemon_connect(&d);

	assert_crash_loop(&d, c, "python");
	ck_assert(daemon_log_contains(&d, "Traceback (most recent call last)"));
	ck_assert(
	    daemon_log_contains(&d, "RuntimeError: pybroken cannot start"));
	ck_assert(daemon_log_contains(&d,
	    "leasepoold.worker: cannot import pybroken"));
	lp_client_free(c);
}
END_TEST

Suite *
python_suite(void)
{
	Suite *s = suite_create("python");
	TCase *tc;

	tc = integration_case(s, "pyjobs", start_pyjobs_pool, stop_daemon);
	tcase_add_test(tc, every_msgpack_type_goes_there_and_back);
	tcase_add_test(tc,
	    an_exception_fails_the_job_with_its_traceback_in_the_log);
	tcase_add_test(tc, nothing_outside_the_served_module_is_a_function);
	tcase_add_test(tc, a_killed_worker_is_answered_crashed_and_replaced);
	tcase_add_test(tc,
	    an_endless_job_is_killed_at_its_timeout_and_the_pool_goes_on);
	tcase_add_test(tc, a_worker_is_recycled_after_max_jobs);
	tcase_add_test(tc, print_reaches_the_log_tagged);

	tc =
	    integration_case(s, "import fails", start_broken_pool, stop_daemon);
	tcase_add_test(tc, a_module_that_fails_to_import_is_a_crash_loop);
	return s;
}
