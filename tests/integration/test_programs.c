/* SPDX-License-Identifier: ISC */
/*
 * Pools whose workers run a worker_program: tests/programs/echo_worker,
 * written from docs/worker-protocol.md alone, against a real daemon.
 */
#include <check.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/integration/program.h"
#include "tests/suites.h"

/* Beside the test modules: build/tests/programs/echo_worker. */
static const char *
echo_worker(void)
{
	static char path[600];
	char modules[512];

	snprintf(modules, sizeof modules, "%s", test_modules_dir());
	snprintf(path, sizeof path, "%s/programs/echo_worker",
	    dirname(modules));
	return path;
}

/* A pool "prog" of one executor running echo_worker with args, and extra keys. */
static void
program_config(char *buf, size_t len, const char *args, const char *extra)
{
	snprintf(buf, len,
	    "[daemon]\nmax_result_bytes = 4K\ndefault_pool = prog\n"
	    "[pool prog]\nexecutors_max = 2\nworkers = 1\nworker_program = %s %s\n%s",
	    echo_worker(), args, extra);
}

static void
start_program_pool(void)
{
	char config[1024];

	program_config(config, sizeof config, "", "max_jobs_per_worker = 3\n");
	daemon_start(&d, config);
}

/* fn(num) on lease (timeout 0: the pool's); its code, and an integer result in *out. */
static enum lp_err
run_one(struct lp_client *c, uint64_t lease, const char *fn, int64_t num,
    double timeout, int64_t *out, struct lp_error *err)
{
	struct lp_args *a = lp_args_new();
	struct lp_value *v = NULL;
	enum lp_err rc;

	lp_args_int(a, num);
	rc = lp_run_timeout(c, lease, fn, a, timeout, &v, err);
	if (rc == LP_OK && out != NULL)
		*out = lp_value_int(v);
	lp_value_free(v);
	lp_args_free(a);
	return rc;
}

static int64_t
worker_pid(struct lp_client *c, uint64_t lease)
{
	return run_pid(c, lease, "pid");
}

START_TEST(program_answers_runs_and_submissions)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct lp_args *a = lp_args_new();
	struct lp_value *v = NULL;
	struct lp_error err;
	int64_t got = 0;

	lp_args_int(a, 42);
	ck_assert_int_eq(run_one(c, lease, "echo", 7, 0, &got, &err), LP_OK);
	ck_assert_int_eq(got, 7);
	ck_assert_int_eq(lp_submit(c, "prog", "echo", a, &v, &err), LP_OK);
	ck_assert_int_eq(lp_value_int(v), 42);
	lp_value_free(v);
	lp_args_free(a);
	ck_assert_int_eq(run_one(c, lease, "fail", 0, 0, NULL, &err),
	    LP_ERR_JOB_FAILED);
	ck_assert_str_eq(err.message, "fail failed on purpose");
	/* A name the daemon has no function for goes to the program all the same. */
	ck_assert_int_eq(run_one(c, lease, "nothing_here", 0, 0, NULL, &err),
	    LP_ERR_NO_SUCH_FUNCTION);
	ck_assert_str_eq(err.message, "no function named 'nothing_here'");
	lp_client_free(c);
}
END_TEST

/*
 * fn(num) on a lease is answered want, into err; the pool goes on, on a new
 * worker when replaced, else on the same one.
 */
static void
assert_pool_goes_on_after(const char *fn, int64_t num, double timeout,
    enum lp_err want, bool replaced, struct lp_error *err)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	int64_t before = worker_pid(c, lease);

	ck_assert_int_eq(run_one(c, lease, fn, num, timeout, NULL, err), want);
	if (replaced)
		ck_assert_int_ne(worker_pid(c, lease), before);
	else
		ck_assert_int_eq(worker_pid(c, lease), before);
	lp_client_free(c);
}

#define MANY 48

/*
 * Queued runs of a lease and submissions travel many to a frame (STREAM,
 * RECALLABLE): each is answered, with its own value.
 */
START_TEST(frames_of_many_jobs_are_each_answered)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	static struct outcome runs[MANY], submits[MANY];
	struct lp_error err;

	for (int i = 0; i < MANY; i++) {
		struct lp_args *a = lp_args_new();

		lp_args_int(a, i);
		ck_assert_int_eq(
		    lp_run_async(c, lease, "echo", a, record, &runs[i], &err),
		    LP_OK);
		ck_assert_int_eq(lp_submit_async(c, "prog", "echo", a, record,
				     &submits[i], &err),
		    LP_OK);
		lp_args_free(a);
	}
	for (int i = 0; i < MANY; i++) {
		wait_outcome(c, &runs[i]);
		wait_outcome(c, &submits[i]);
		ck_assert_int_eq(runs[i].code, LP_OK);
		ck_assert_int_eq(runs[i].value, i);
		ck_assert_int_eq(submits[i].code, LP_OK);
		ck_assert_int_eq(submits[i].value, i);
	}
	lp_client_free(c);
}
END_TEST

START_TEST(a_crashed_program_is_answered_and_replaced)
{
	struct lp_error err;

	assert_pool_goes_on_after("crash", 0, 0, LP_ERR_WORKER_CRASHED, true,
	    &err);
	ck_assert_int_eq(err.signal, SIGKILL);
}
END_TEST

START_TEST(a_job_timeout_kills_the_program_and_the_pool_goes_on)
{
	struct lp_error err;

	assert_pool_goes_on_after("sleep", 60, 0.3, LP_ERR_JOB_TIMEOUT, true,
	    &err);
}
END_TEST

/* A cancelled job's program gets SIGTERM, which ends it; another takes its place. */
START_TEST(a_cancelled_job_ends_its_program)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	pid_t old = (pid_t)worker_pid(c, lease);
	struct lp_args *a = lp_args_new();
	struct outcome o = { 0 };
	struct lp_error err;

	lp_args_int(a, 60);
	ck_assert(
	    lp_run_async(c, lease, "sleep", a, record, &o, &err) == LP_OK);
	ck_assert(lp_client_process(c, NULL) == LP_OK);
	ck_assert(wait_stats(c, "pools.prog.runs_in_flight", 1));
	ck_assert_int_eq(cancel_by(c, "lease", lease).running, 1);
	ck_assert_int_eq(o.done, 1);
	ck_assert_int_eq(o.code, LP_ERR_CANCELLED);
	ck_assert_msg(wait_until(process_gone, &old),
	    "the cancelled job's program %d still runs", (int)old);
	ck_assert_int_ne(worker_pid(c, lease), old);
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

START_TEST(a_program_is_recycled_after_max_jobs)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	int64_t first = worker_pid(c, lease);

	ck_assert_int_eq(worker_pid(c, lease), first);
	ck_assert_int_eq(worker_pid(c, lease), first);
	wait_new_worker(c, lease, "pid", first);
	lp_client_free(c);
}
END_TEST

START_TEST(what_a_recycled_program_leaves_ends_with_it)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	int64_t first = worker_pid(c, lease), orphan = 0;
	struct lp_error err;
	pid_t pid;

	ck_assert_int_eq(run_one(c, lease, "orphan", 0, 0, &orphan, &err),
	    LP_OK);
	pid = (pid_t)orphan;
	ck_assert_int_eq(kill(pid, 0), 0);
	/* The third job ends the worker's term; it exits on end of file. */
	ck_assert_int_eq(worker_pid(c, lease), first);
	wait_new_worker(c, lease, "pid", first);
	ck_assert_msg(wait_until(process_gone, &pid),
	    "process %d, left by a program that exited, survived", (int)pid);
	lp_client_free(c);
}
END_TEST

START_TEST(program_output_reaches_the_log_tagged)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	int64_t pid = worker_pid(c, lease);
	struct lp_error err;
	char tag[128];

	ck_assert_int_eq(run_one(c, lease, "print", 0, 0, NULL, &err), LP_OK);
	snprintf(tag, sizeof tag,
	    "worker %lld of pool prog, print: to stdout from the program",
	    (long long)pid);
	daemon_wait_log(&d, tag);
	snprintf(tag, sizeof tag,
	    "worker %lld of pool prog, print: to stderr from the program",
	    (long long)pid);
	daemon_wait_log(&d, tag);
	lp_client_free(c);
}
END_TEST

START_TEST(protocol_garbage_is_a_crash_and_the_pool_goes_on)
{
	struct lp_error err;

	assert_pool_goes_on_after("garbage", 0, 0, LP_ERR_WORKER_CRASHED, true,
	    &err);
	ck_assert_msg(strstr(err.message, "was killed for a protocol error") !=
		NULL,
	    "%s", err.message);
	daemon_wait_log(&d, "protocol error: it sent a frame of");
}
END_TEST

START_TEST(a_result_over_max_result_bytes_is_limit_exceeded)
{
	struct lp_error err;

	assert_pool_goes_on_after("big", 5000, 0, LP_ERR_LIMIT_EXCEEDED, false,
	    &err);
}
END_TEST

/* Its pool and limit in its environment, and no capability, though the fork server has some. */
START_TEST(program_starts_as_the_protocol_says)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct lp_value *v = NULL;
	const msgpack_object *o;
	struct lp_error err;

	ck_assert_int_eq(lp_run(c, lease, "env", NULL, &v, &err), LP_OK);
	o = lp_value_object(v);
	ck_assert_int_eq(o->type, MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_eq(o->via.array.size, 3);
	ck_assert_int_eq(o->via.array.ptr[0].via.str.size, 4);
	ck_assert_mem_eq(o->via.array.ptr[0].via.str.ptr, "prog", 4);
	ck_assert_uint_eq(o->via.array.ptr[1].via.u64, 4096);
	ck_assert_int_eq(o->via.array.ptr[2].via.str.size, 16);
	ck_assert_mem_eq(o->via.array.ptr[2].via.str.ptr, "0000000000000000",
	    16);
	lp_value_free(v);
	lp_client_free(c);
}
END_TEST

START_TEST(exec_is_refused_on_a_program_pool)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct lp_error err;

	ck_assert_int_eq(run_one(c, lease, "exec", 0, 0, NULL, &err),
	    LP_ERR_PERMISSION_DENIED);
	ck_assert_ptr_nonnull(strstr(err.message, "worker_program"));
	lp_client_free(c);
}
END_TEST

/* The member of v at path is the string echo_worker's path (the configured program). */
static void
assert_names_the_program(const struct lp_value *v, const char *path)
{
	const msgpack_object *o = object_at(lp_value_object(v), path);
	const char *want = echo_worker();

	ck_assert_msg(o != NULL && o->type == MSGPACK_OBJECT_STR,
	    "no string at %s", path);
	ck_assert_uint_eq(o->via.str.size, strlen(want));
	ck_assert_mem_eq(o->via.str.ptr, want, strlen(want));
}

START_TEST(hello_and_stats_show_the_program)
{
	struct lp_client *c = daemon_connect(&d);
	struct lp_value *v = NULL;
	struct lp_error err;

	ck_assert_int_eq(lp_hello(c, "test", &v, &err), LP_OK);
	assert_names_the_program(v, "worker_programs.prog");
	lp_value_free(v);
	ck_assert_int_eq(lp_stats(c, NULL, &v, &err), LP_OK);
	assert_names_the_program(v, "pools.prog.worker_program");
	lp_value_free(v);
	lp_client_free(c);
}
END_TEST

START_TEST(ping_names_the_program)
{
	static struct program p;
	char *argv[] = { (char *)program_tool(), "ping", NULL };
	char want[700];

	ck_assert_int_eq(program_run(&p, argv, d.socket, NULL), 0);
	snprintf(want, sizeof want, "\nworker program of prog: %s\n",
	    echo_worker());
	ck_assert_msg(strstr(p.out, want) != NULL, "%s", p.out);
}
END_TEST

START_TEST(a_reloaded_program_replaces_the_workers)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	int64_t before = worker_pid(c, lease);
	char config[1024];

	program_config(config, sizeof config, "--reloaded", "");
	daemon_reload(&d, config);
	wait_new_worker(c, lease, "pid", before);
	lp_client_free(c);
}
END_TEST

static void
start_silent_pool(void)
{
	char config[1024];

	program_config(config, sizeof config, "noready",
	    "worker_start_timeout = 0.2\n");
	daemon_start(&d, config);
}

START_TEST(a_program_that_never_says_ready_is_killed_and_counted)
{
	daemon_wait_log(&d,
	    "sent no READY within worker_start_timeout (0.2 s); killing it");
	daemon_wait_log(&d, "pool prog: CRASH LOOP");
}
END_TEST

/* -t on a pool whose worker_program is path: refused, naming the line and what is wrong. */
static void
assert_refused(const char *path, const char *why)
{
	char config[1024], out[4096];
	int status;

	snprintf(config, sizeof config, "[pool prog]\nworker_program = %s\n",
	    path);
	status = daemon_run_once(config, true, out, sizeof out);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) != 0,
	    "-t accepted %s", path);
	ck_assert_msg(strstr(out, ":2: [pool prog] worker_program: ") != NULL,
	    "%s", out);
	ck_assert_msg(strstr(out, why) != NULL, "'%s' not in %s", why, out);
}

START_TEST(a_program_that_cannot_run_stops_the_check)
{
	char source[600];

	snprintf(source, sizeof source, "%s/tests/programs/echo_worker.c",
	    getenv("LP_SOURCE"));
	assert_refused("/nonexistent/worker",
	    "/nonexistent/worker: No such file or directory");
	assert_refused(source, "Permission denied");
	assert_refused("relative/worker", "must be empty, or an absolute path");
	assert_refused("/bin/sh 'unclosed",
	    "must be empty, or an absolute path");
	assert_refused("/tmp", "not running it");
}
END_TEST

Suite *
programs_suite(void)
{
	Suite *s = suite_create("programs");
	TCase *tc;

	tc = integration_case(s, "program", start_program_pool, stop_daemon);
	tcase_add_test(tc, program_answers_runs_and_submissions);
	tcase_add_test(tc, frames_of_many_jobs_are_each_answered);
	tcase_add_test(tc, a_crashed_program_is_answered_and_replaced);
	tcase_add_test(tc,
	    a_job_timeout_kills_the_program_and_the_pool_goes_on);
	tcase_add_test(tc, a_cancelled_job_ends_its_program);
	tcase_add_test(tc, a_program_is_recycled_after_max_jobs);
	tcase_add_test(tc, what_a_recycled_program_leaves_ends_with_it);
	tcase_add_test(tc, program_output_reaches_the_log_tagged);
	tcase_add_test(tc, protocol_garbage_is_a_crash_and_the_pool_goes_on);
	tcase_add_test(tc, a_result_over_max_result_bytes_is_limit_exceeded);
	tcase_add_test(tc, program_starts_as_the_protocol_says);
	tcase_add_test(tc, exec_is_refused_on_a_program_pool);
	tcase_add_test(tc, hello_and_stats_show_the_program);
	tcase_add_test(tc, ping_names_the_program);
	tcase_add_test(tc, a_reloaded_program_replaces_the_workers);

	tc = integration_case(s, "never ready", start_silent_pool, stop_daemon);
	tcase_add_test(tc,
	    a_program_that_never_says_ready_is_killed_and_counted);

	tc = integration_case(s, "check", NULL, NULL);
	tcase_add_test(tc, a_program_that_cannot_run_stops_the_check);
	return s;
}
