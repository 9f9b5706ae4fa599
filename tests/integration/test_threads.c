/* SPDX-License-Identifier: ISC */
/*
 * The thread backend against a real daemon: parallelism up to `workers`
 * per lease, timeouts that leave a thread stuck, functions that are not
 * thread-safe, grinder batches on threads, shutdown with threads still
 * busy, and fork safety: a process worker forked while a thread of the
 * daemon holds a lock must not inherit it held, also after the fork
 * server was killed and restarted.
 *
 * The jobs come from the test module locks (tests/modules/locks.c), whose
 * rendezvous tells whether n jobs ran at the same time without measuring
 * time, and whose hold, held and release hold a lock in the daemon.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/rpc.h"
#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/suites.h"

/* A rendezvous that should meet: far longer than any meeting takes, well inside the harness's bound. */
#define MEET_SECONDS 10.0
/* A process job that hangs on an inherited lock is answered JOB_TIMEOUT after this. */
#define TAKE_TIMEOUT 10.0

struct setup {
	unsigned io_workers;
	double shutdown_timeout; /* 0: 10 s */
	const char *io_sizing;	 /* NULL: one executor, always there */
};

/* A process pool cpu of one executor of one worker, and a thread pool io. */
static void
start_pools(const struct setup *s)
{
	char config[2048];

	snprintf(config, sizeof config,
	    "[daemon]\n"
	    "modules = %s/locks.so\n"
	    "shutdown_timeout = %g\n"
	    "[pool cpu]\n"
	    "executors_min = 1\n"
	    "executors_max = 1\n"
	    "workers = 1\n"
	    "job_timeout = 60\n"
	    "[pool io]\n"
	    "backend = thread\n"
	    "%s"
	    "workers = %u\n"
	    "job_timeout = 60\n"
	    /* Three items make a batch at once; fewer wait long enough to be noticed. */
	    "batch_size = 3\n"
	    "batch_wait = 5\n",
	    test_modules_dir(),
	    s->shutdown_timeout > 0 ? s->shutdown_timeout : 10,
	    s->io_sizing != NULL ? s->io_sizing :
				   "executors_min = 1\nexecutors_max = 1\n",
	    s->io_workers);
	daemon_start(&d, config);
}

static struct lp_args *
args_rendezvous(int64_t n, double seconds)
{
	struct lp_args *a = lp_args_new();

	lp_args_int(a, n);
	lp_args_double(a, seconds);
	return a;
}

/* A run whose answer record() keeps in o. */
static void
run_async(struct lp_client *c, uint64_t lease, const char *fn,
    const struct lp_args *a, struct outcome *o)
{
	struct lp_error err;

	ck_assert_msg(lp_run_async(c, lease, fn, a, record, o, &err) == LP_OK,
	    "run %s: %s", fn, err.message);
	ck_assert(lp_client_process(c, &err) == LP_OK);
}

struct outcomes {
	struct lp_client *c;
	struct outcome *o;
	unsigned n;
};

static bool
all_done(void *arg)
{
	struct outcomes *w = arg;
	struct lp_error err;

	lp_client_process(w->c, &err);
	for (unsigned i = 0; i < w->n; i++)
		if (!w->o[i].done)
			return false;
	return true;
}

static void
wait_outcomes(struct lp_client *c, struct outcome *o, unsigned n)
{
	struct outcomes w = { c, o, n };

	ck_assert_msg(wait_until(all_done, &w), "not every answer came");
}

/* fn on the lease, blocking; its boolean result. */
static bool
run_bool(struct lp_client *c, uint64_t lease, const char *fn, double timeout)
{
	struct lp_value *v;
	struct lp_error err;
	bool truth;

	ck_assert_msg(lp_run_timeout(c, lease, fn, NULL, timeout, &v, &err) ==
		LP_OK,
	    "%s: %s", fn, err.message);
	truth = lp_value_bool(v);
	lp_value_free(v);
	return truth;
}

START_TEST(runs_of_one_lease_are_parallel_up_to_workers)
{
	struct lp_client *c;
	struct lp_args *meet4 = args_rendezvous(4, MEET_SECONDS);
	struct outcome out[4] = { 0 };
	uint64_t lease;

	start_pools(&(struct setup){ .io_workers = 4 });
	c = daemon_connect(&d);
	lease = acquire_from(c, "io");
	for (int i = 0; i < 4; i++)
		run_async(c, lease, "locks.rendezvous", meet4, &out[i]);
	wait_outcomes(c, out, 4);
	/* Each waited until all four were waiting together: four threads at once. */
	for (int i = 0; i < 4; i++) {
		ck_assert_msg(out[i].code == LP_OK, "rendezvous %d: %s", i,
		    out[i].message);
		ck_assert_msg(out[i].truth,
		    "rendezvous %d: the four never ran together", i);
	}
	ck_assert_int_eq(stats_int(c, "pools.io.counters.completed"), 4);
	lp_args_free(meet4);
	lp_client_free(c);
}
END_TEST

START_TEST(runs_beyond_workers_wait_for_a_thread)
{
	struct lp_client *c;
	struct lp_args *meet2 = args_rendezvous(2, MEET_SECONDS);
	struct lp_args *meet3 = args_rendezvous(3, 0.5);
	struct outcome pairs[4] = { 0 }, triple[3] = { 0 };
	uint64_t lease;

	start_pools(&(struct setup){ .io_workers = 2 });
	c = daemon_connect(&d);
	lease = acquire_from(c, "io");
	/* Two at a time: both pairs meet. */
	for (int i = 0; i < 4; i++)
		run_async(c, lease, "locks.rendezvous", meet2, &pairs[i]);
	wait_outcomes(c, pairs, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_msg(pairs[i].code == LP_OK && pairs[i].truth,
		    "pair %d did not meet: %s", i, pairs[i].message);
	/* Never three: the third waits in the lease's queue until one of the first two gives up. */
	for (int i = 0; i < 3; i++)
		run_async(c, lease, "locks.rendezvous", meet3, &triple[i]);
	wait_outcomes(c, triple, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(triple[i].code == LP_OK, "rendezvous %d: %s", i,
		    triple[i].message);
		ck_assert_msg(!triple[i].truth,
		    "rendezvous %d: three ran on two threads", i);
	}
	lp_args_free(meet2);
	lp_args_free(meet3);
	lp_client_free(c);
}
END_TEST

START_TEST(many_runs_and_submits_are_all_answered)
{
	enum {
		RUNS = 2000,
		SUBMITS = 500
	};
	static struct outcome runs[RUNS], submits[SUBMITS];
	struct lp_client *c;
	struct lp_args *a = lp_args_new();
	struct lp_error err;
	uint64_t lease;

	memset(runs, 0, sizeof runs);
	memset(submits, 0, sizeof submits);
	start_pools(&(struct setup){ .io_workers = 4,
	    .io_sizing = "executors_min = 1\nexecutors_max = 2\n" });
	c = daemon_connect(&d);
	lease = acquire_from(c, "io");
	for (int i = 0; i < RUNS; i++) {
		lp_args_clear(a);
		lp_args_int(a, i * 7);
		ck_assert(lp_run_async(c, lease, "echo", a, record, &runs[i],
			      &err) == LP_OK);
	}
	/* The grinder leases the other executor. */
	for (int i = 0; i < SUBMITS; i++) {
		lp_args_clear(a);
		lp_args_int(a, -i);
		ck_assert(lp_submit_async(c, "io", "echo", a, record,
			      &submits[i], &err) == LP_OK);
	}
	ck_assert(lp_client_wait_all(c, &err) == LP_OK);
	for (int i = 0; i < RUNS; i++) {
		ck_assert_msg(runs[i].code == LP_OK, "run %d: %s", i,
		    runs[i].message);
		ck_assert_int_eq(runs[i].value, i * 7);
	}
	for (int i = 0; i < SUBMITS; i++) {
		ck_assert_msg(submits[i].code == LP_OK, "submit %d: %s", i,
		    submits[i].message);
		ck_assert_int_eq(submits[i].value, -i);
	}
	ck_assert_int_eq(stats_int(c, "pools.io.counters.completed"),
	    RUNS + SUBMITS);
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

START_TEST(timeout_answers_at_once_and_the_thread_stays_stuck)
{
	struct lp_client *c;
	struct lp_args *long_sleep = one_number(30), *one = lp_args_new();
	struct lp_value *v;
	struct lp_error err;
	uint64_t lease;
	double started;
	int status;

	lp_args_int(one, 1);
	start_pools(&(struct setup){ .io_workers = 2 });
	c = daemon_connect(&d);
	lease = acquire_from(c, "io");
	started = monotonic();
	ck_assert_int_eq(
	    lp_run_timeout(c, lease, "sleep", long_sleep, 0.2, &v, &err),
	    LP_ERR_JOB_TIMEOUT);
	/* Answered at its timeout, not when the thread is done 30 s later. */
	ck_assert_double_lt(monotonic() - started, 15);
	ck_assert_ptr_nonnull(strstr(err.message, "stays busy"));
	ck_assert_int_eq(stats_int(c, "pools.io.stuck_workers"), 1);
	ck_assert_int_eq(stats_int(c, "pools.io.counters.timed_out"), 1);
	/* The stuck thread gets nothing more: every echo goes to the other one, at once. */
	for (int i = 0; i < 5; i++) {
		ck_assert_msg(lp_run_timeout(c, lease, "echo", one,
				  TAKE_TIMEOUT, &v, &err) == LP_OK,
		    "echo %d: %s", i, err.message);
		ck_assert_int_eq(lp_value_int(v), 1);
		lp_value_free(v);
	}
	ck_assert_int_eq(stats_int(c, "pools.io.stuck_workers"), 1);
	/* A thread still inside its function does not hold up the stop. */
	lp_client_free(c);
	status = daemon_stop(&d);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert(daemon_log_contains(&d,
	    "left running: 1 thread still inside a job function"));
	lp_args_free(long_sleep);
	lp_args_free(one);
}
END_TEST

START_TEST(stuck_thread_serves_again_once_its_function_returns)
{
	struct lp_client *c;
	struct lp_args *nap = one_number(1),
		       *meet2 = args_rendezvous(2, MEET_SECONDS);
	struct outcome pair[2] = { 0 };
	struct lp_value *v;
	struct lp_error err;
	uint64_t lease;

	start_pools(&(struct setup){ .io_workers = 2 });
	c = daemon_connect(&d);
	lease = acquire_from(c, "io");
	ck_assert_int_eq(lp_run_timeout(c, lease, "sleep", nap, 0.1, &v, &err),
	    LP_ERR_JOB_TIMEOUT);
	ck_assert(wait_stats(c, "pools.io.stuck_workers", 0));
	ck_assert(daemon_log_contains(&d, "is free again"));
	/* Both threads again: a pair meets. */
	for (int i = 0; i < 2; i++)
		run_async(c, lease, "locks.rendezvous", meet2, &pair[i]);
	wait_outcomes(c, pair, 2);
	for (int i = 0; i < 2; i++)
		ck_assert_msg(pair[i].code == LP_OK && pair[i].truth,
		    "rendezvous %d: %s", i, pair[i].message);
	ck_assert_int_eq(stats_int(c, "pools.io.counters.completed"), 2);
	lp_args_free(nap);
	lp_args_free(meet2);
	lp_client_free(c);
}
END_TEST

START_TEST(retired_executor_leaves_its_stuck_thread_to_finish)
{
	struct lp_client *c;
	struct lp_args *nap = one_number(5), *one = lp_args_new();
	struct lp_value *v;
	struct lp_error err;
	uint64_t lease;

	lp_args_int(one, 1);
	start_pools(&(struct setup){ .io_workers = 2,
	    .io_sizing =
		"executors_min = 0\nexecutors_max = 1\nidle_seconds = 0.1\n" });
	c = daemon_connect(&d);
	lease = acquire_from(c, "io");
	ck_assert_int_eq(lp_run_timeout(c, lease, "sleep", nap, 0.1, &v, &err),
	    LP_ERR_JOB_TIMEOUT);
	ck_assert(lp_release(c, lease, &err) == LP_OK);
	/* Idle above its target of none, the executor goes; its stuck thread cannot be joined yet. */
	ck_assert(wait_stats(c, "pools.io.executors.total", 0));
	ck_assert(wait_stats(c, "pools.io.stuck_workers", 0));
	ck_assert(daemon_log_contains(&d,
	    "thread 0 of a retired executor of pool io is free again"));
	/* A new executor serves. */
	lease = acquire_from(c, "io");
	ck_assert(lp_run(c, lease, "echo", one, &v, &err) == LP_OK);
	ck_assert_int_eq(lp_value_int(v), 1);
	lp_value_free(v);
	lp_args_free(nap);
	lp_args_free(one);
	lp_client_free(c);
}
END_TEST

START_TEST(thread_unsafe_function_is_refused)
{
	struct lp_client *c;
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	struct lp_error err;
	uint64_t lease;

	start_pools(&(struct setup){ .io_workers = 2 });
	c = daemon_connect(&d);
	lp_args_str(a, "true");
	lease = acquire_from(c, "io");
	/* exec forks: never from a thread of the daemon. */
	ck_assert_int_eq(lp_run(c, lease, "exec", a, &v, &err),
	    LP_ERR_INVALID_ARGUMENT);
	ck_assert_msg(strstr(err.message, "'exec' is not marked thread-safe") !=
		NULL,
	    "%s", err.message);
	ck_assert_int_eq(lp_submit(c, "io", "exec", a, &v, &err),
	    LP_ERR_INVALID_ARGUMENT);
	ck_assert_ptr_nonnull(strstr(err.message, "run it on a process pool"));
	/* Nothing ran, and the lease is as good as before. */
	ck_assert_int_eq(stats_int(c, "pools.io.counters.failed"), 0);
	ck_assert(run_bool(c, lease, "locks.take", TAKE_TIMEOUT));
	/* A built-in's arguments are refused on a thread as on a process. */
	ck_assert_int_eq(lp_run(c, lease, "echo", NULL, &v, &err),
	    LP_ERR_INVALID_ARGUMENT);
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

START_TEST(grinder_batch_past_its_timeout_gives_back_what_never_started)
{
	struct lp_client *c;
	struct lp_args *a = lp_args_new();
	struct outcome slow = { 0 }, echoes[3] = { 0 };
	struct lp_error err;

	start_pools(&(struct setup){ .io_workers = 2 });
	c = daemon_connect(&d);
	/* One batch of three on one thread: the sleep, then two echoes it never reaches. */
	sleep_async(c, 0, "io", 30, 0.2, record, &slow);
	for (int i = 0; i < 3; i++) {
		lp_args_clear(a);
		lp_args_int(a, 100 + i);
		ck_assert(lp_submit_async(c, "io", "echo", a, record,
			      &echoes[i], &err) == LP_OK);
	}
	wait_outcomes(c, &slow, 1);
	ck_assert_int_eq(slow.code, LP_ERR_JOB_TIMEOUT);
	/* Given back, they make a batch of three with the fourth, on the other thread. */
	wait_outcomes(c, echoes, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(echoes[i].code == LP_OK, "echo %d: %s", i,
		    echoes[i].message);
		ck_assert_int_eq(echoes[i].value, 100 + i);
	}
	ck_assert_int_eq(stats_int(c, "pools.io.grinder.batches"), 2);
	ck_assert_int_eq(stats_int(c, "pools.io.stuck_workers"), 1);
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

START_TEST(stop_answers_busy_threads_stopping)
{
	struct lp_client *c;
	struct lp_args *long_hold = one_number(60);
	struct outcome held = { 0 };
	uint64_t lease;
	int status;

	start_pools(
	    &(struct setup){ .io_workers = 2, .shutdown_timeout = 0.2 });
	c = daemon_connect(&d);
	lease = acquire_from(c, "io");
	run_async(c, lease, "locks.hold", long_hold, &held);
	ck_assert(wait_stats(c, "pools.io.runs_in_flight", 1));
	/* The drain's deadline passes with the hold still running. */
	kill(d.pid, SIGTERM);
	wait_outcomes(c, &held, 1);
	ck_assert_int_eq(held.code, LP_ERR_STOPPING);
	status = daemon_stop(&d);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	lp_args_free(long_hold);
	lp_client_free(c);
}
END_TEST

/* ---- fork safety ---- */

/* The pid of the one worker of the cpu pool's lease; 0 while it has none ready. */
static pid_t
cpu_worker(struct lp_client *c)
{
	const msgpack_object *leases, *workers;
	struct lp_value *v;
	struct lp_error err;
	pid_t pid = 0;

	ck_assert(lp_stats(c, "cpu", &v, &err) == LP_OK);
	leases =
	    lp_map_get(lp_map_get(lp_value_get(v, "pools"), "cpu"), "leases");
	ck_assert_int_eq(leases->via.array.size, 1);
	workers = lp_map_get(&leases->via.array.ptr[0], "workers");
	if (workers->via.array.size == 1)
		pid = (pid_t)workers->via.array.ptr[0].via.i64;
	lp_value_free(v);
	return pid;
}

struct worker_change {
	struct lp_client *c;
	pid_t old;
	pid_t now;
};

static bool
worker_replaced(void *arg)
{
	struct worker_change *w = arg;

	w->now = cpu_worker(w->c);
	return w->now != 0 && w->now != w->old;
}

struct lock_probe {
	struct lp_client *c;
	uint64_t lease;
};

static bool
lock_held(void *arg)
{
	struct lock_probe *p = arg;

	return run_bool(p->c, p->lease, "locks.held", TAKE_TIMEOUT);
}

/*
 * A thread of the daemon holds the lock of the locks module while the cpu
 * pool's worker is killed and a new one forked (after the fork server
 * itself was killed and restarted, when restart_fork_server).  Had the new
 * worker been forked from the daemon, or from a fork server forked from
 * it, its copy of the lock would be held by a thread it does not have,
 * and locks.take would hang there until its timeout.
 */
static void
worker_forked_while_a_thread_holds_a_lock(bool restart_fork_server)
{
	struct lp_client *c;
	struct lp_args *long_hold = one_number(60);
	struct outcome hold = { 0 };
	struct worker_change wc;
	struct lock_probe probe;
	uint64_t cpu, io;

	start_pools(&(struct setup){ .io_workers = 2 });
	c = daemon_connect(&d);
	cpu = acquire_from(c, "cpu");
	io = acquire_from(c, "io");
	probe = (struct lock_probe){ c, io };
	run_async(c, io, "locks.hold", long_hold, &hold);
	ck_assert_msg(wait_until(lock_held, &probe),
	    "locks.hold never took the lock");
	if (restart_fork_server)
		kill_fork_server(&d);
	wc = (struct worker_change){ .c = c, .old = cpu_worker(c) };
	ck_assert_int_ne(wc.old, 0);
	kill(wc.old, SIGKILL);
	ck_assert_msg(wait_until(worker_replaced, &wc),
	    "worker %d was not replaced", (int)wc.old);
	/* The lock was held all along: the new worker was forked while it was. */
	ck_assert(lock_held(&probe));
	ck_assert_msg(run_bool(c, cpu, "locks.take", TAKE_TIMEOUT),
	    "locks.take failed in worker %d", (int)wc.now);
	ck_assert(run_bool(c, io, "locks.release", TAKE_TIMEOUT));
	wait_outcomes(c, &hold, 1);
	ck_assert_int_eq(hold.code, LP_OK);
	ck_assert_msg(hold.truth, "the hold ended before its release");
	lp_args_free(long_hold);
	lp_client_free(c);
}

START_TEST(worker_forked_by_the_fork_server_while_a_thread_holds_a_lock)
{
	worker_forked_while_a_thread_holds_a_lock(false);
}
END_TEST

START_TEST(worker_forked_by_a_restarted_fork_server_while_a_thread_holds_a_lock)
{
	worker_forked_while_a_thread_holds_a_lock(true);
}
END_TEST

Suite *
threads_suite(void)
{
	Suite *s = suite_create("threads");
	TCase *tc;

	tc = integration_case(s, "runs", NULL, stop_daemon);
	tcase_add_test(tc, runs_of_one_lease_are_parallel_up_to_workers);
	tcase_add_test(tc, runs_beyond_workers_wait_for_a_thread);
	tcase_add_test(tc, many_runs_and_submits_are_all_answered);
	tcase_add_test(tc, thread_unsafe_function_is_refused);

	tc = integration_case(s, "faults", NULL, stop_daemon);
	tcase_add_test(tc, timeout_answers_at_once_and_the_thread_stays_stuck);
	tcase_add_test(tc, stuck_thread_serves_again_once_its_function_returns);
	tcase_add_test(tc, retired_executor_leaves_its_stuck_thread_to_finish);
	tcase_add_test(tc,
	    grinder_batch_past_its_timeout_gives_back_what_never_started);
	tcase_add_test(tc, stop_answers_busy_threads_stopping);

	tc = integration_case(s, "fork-safety", NULL, stop_daemon);
	tcase_add_test(tc,
	    worker_forked_by_the_fork_server_while_a_thread_holds_a_lock);
	tcase_add_test(tc,
	    worker_forked_by_a_restarted_fork_server_while_a_thread_holds_a_lock);
	return s;
}
