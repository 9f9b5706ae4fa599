/* SPDX-License-Identifier: ISC */
/*
 * cancel against a real daemon: a run withdrawn while it waits never
 * starts, a running one is stopped with its worker's process group, a
 * program that handles SIGTERM cleans up within cancel_grace, nothing an
 * exec started is left, a thread runs on with its answer discarded, the
 * stats count each case, and bad cancels change nothing.
 *
 * The jobs are exec programs that leave files behind: a file proves that a
 * job started or cleaned up, and its absence, once a later run of the same
 * worker has answered, that it never ran.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/rpc.h"
#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/suites.h"

/* One executor of one process worker that may exec, and a thread pool. */
static void
start_pools(double cancel_grace)
{
	char config[1024];

	snprintf(config, sizeof config,
	    "[pool cpu]\n"
	    "executors_min = 1\n"
	    "executors_max = 1\n"
	    "workers = 1\n"
	    "exec = yes\n"
	    "cancel_grace = %g\n"
	    /* Submissions wait for a batch, unless they cannot wait. */
	    "batch_size = 64\n"
	    "batch_wait = 60\n"
	    "[pool one]\n"
	    "executors_min = 1\n"
	    "executors_max = 1\n"
	    "workers = 1\n"
	    "exec = yes\n"
	    "batch_size = 1\n"
	    "[pool io]\n"
	    "backend = thread\n"
	    "executors_min = 1\n"
	    "executors_max = 1\n"
	    "workers = 1\n",
	    cancel_grace);
	daemon_start(&d, config);
}

static void
start_grace_1(void)
{
	start_pools(1);
}

/* A grace longer than any clean-up here takes, so that SIGKILL cannot be what ended it. */
static void
start_grace_30(void)
{
	start_pools(30);
}

static void
start_grace_0(void)
{
	start_pools(0);
}

/* d's directory/name, in path. */
static char *
in_dir(char *path, size_t size, const char *name)
{
	snprintf(path, size, "%s/%s", d.dir, name);
	return path;
}

/*
 * script, run by sh through exec on lease, or submitted to pool when lease
 * is 0, and sent; answered to o.  Its id, for lp_cancel.
 */
static uint64_t
shell_async(struct lp_client *c, uint64_t lease, const char *pool,
    const char *script, struct outcome *o)
{
	struct lp_args *a =
	    exec_args((const char *[]){ "sh", "-c", script, NULL }, NULL, 0);
	struct lp_error err;
	uint64_t call;

	ck_assert_msg((lease != 0 ? lp_run_start(c, lease, "exec", a, 0, record,
					o, &call, &err) :
				    lp_submit_start(c, pool, "exec", a, record,
					o, &call, &err)) == LP_OK,
	    "%s", err.message);
	lp_args_free(a);
	ck_assert(lp_client_process(c, NULL) == LP_OK);
	return call;
}

/* lease's worker answers echo: what it was given before has been answered or withdrawn. */
static void
echo_answers(struct lp_client *c, uint64_t lease)
{
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	struct lp_error err;

	lp_args_int(a, 7);
	ck_assert_msg(lp_run(c, lease, "echo", a, &v, &err) == LP_OK,
	    "echo after the cancel: %s", err.message);
	ck_assert_int_eq(lp_value_int(v), 7);
	lp_value_free(v);
	lp_args_free(a);
}

static void
assert_cancelled(const struct outcome *o, const char *says)
{
	ck_assert_int_eq(o->done, 1);
	ck_assert_msg(o->code == LP_ERR_CANCELLED, "answered %s: %s",
	    lp_err_name(o->code), o->message);
	ck_assert_msg(strstr(o->message, says) != NULL,
	    "'%s' does not say '%s'", o->message, says);
}

/*
 * A running program and one queued behind it, both cancelled with their
 * lease: the first is stopped, the second never starts, and the lease runs
 * the next job on a fresh worker.
 */
START_TEST(cancel_lease_stops_running_and_withdraws_queued)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct outcome running = { 0 }, queued = { 0 };
	char started[160], marker[160], script[512];
	struct cancelled got;
	pid_t job;

	in_dir(started, sizeof started, "started");
	in_dir(marker, sizeof marker, "marker");
	snprintf(script, sizeof script, "echo $$ > %s; exec sleep 60", started);
	shell_async(c, lease, NULL, script, &running);
	snprintf(script, sizeof script, "touch %s", marker);
	shell_async(c, lease, NULL, script, &queued);
	job = started_pid(started);

	got = cancel_by(c, "lease", lease);
	ck_assert_int_eq(got.queued, 1);
	ck_assert_int_eq(got.running, 1);
	ck_assert_int_eq(got.finished, 0);
	/* Both were answered before the cancel itself. */
	assert_cancelled(&running, "while it ran");
	assert_cancelled(&queued, "before it started");
	ck_assert_msg(wait_until(process_gone, &job),
	    "the cancelled program %d still runs", (int)job);
	echo_answers(c, lease);
	ck_assert_msg(access(marker, F_OK) == -1,
	    "the job cancelled while queued ran");
	ck_assert_int_eq(stats_int(c, "pools.cpu.cancelled.queued"), 1);
	ck_assert_int_eq(stats_int(c, "pools.cpu.cancelled.running"), 1);
	ck_assert_int_eq(stats_int(c, "pools.cpu.counters.failed"), 0);
	ck_assert_int_eq(stats_int(c, "pools.cpu.counters.timed_out"), 0);
	daemon_wait_log(&d, "'exec' was cancelled; stopping the worker");
	lp_client_free(c);
}
END_TEST

/* What an exec started, in its own process group or not, ends with it. */
START_TEST(cancel_leaves_no_process)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct outcome o = { 0 };
	char first[160], second[160], script[512];
	pid_t pids[2];

	in_dir(first, sizeof first, "first");
	in_dir(second, sizeof second, "second");
	snprintf(script, sizeof script,
	    "sleep 100 & echo $! > %s; setsid sleep 100 & echo $! > %s; wait",
	    first, second);
	shell_async(c, lease, NULL, script, &o);
	pids[0] = started_pid(first);
	pids[1] = started_pid(second);
	ck_assert_int_eq(cancel_by(c, "lease", lease).running, 1);
	assert_cancelled(&o, "while it ran");
	for (int i = 0; i < 2; i++)
		ck_assert_msg(wait_until(process_gone, &pids[i]),
		    "process %d of the cancelled job is left", (int)pids[i]);
	echo_answers(c, lease);
	lp_client_free(c);
}
END_TEST

/*
 * A program that cleans up at SIGTERM, cancelled while it runs; once it
 * is gone and the lease's next run has answered: whether it cleaned up.
 */
static bool
cancelled_program_cleaned_up(void)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct outcome o = { 0 };
	char started[160], cleaned[160], script[512];
	pid_t job;

	in_dir(started, sizeof started, "started");
	in_dir(cleaned, sizeof cleaned, "cleaned");
	/* started once its child runs: the cancel's SIGTERM reaches both */
	snprintf(script, sizeof script,
	    "trap 'touch %s; exit 0' TERM; sleep 100 & echo $$ > %s; wait",
	    cleaned, started);
	shell_async(c, lease, NULL, script, &o);
	job = started_pid(started);
	ck_assert_int_eq(cancel_by(c, "lease", lease).running, 1);
	assert_cancelled(&o, "while it ran");
	ck_assert(wait_until(process_gone, &job));
	echo_answers(c, lease);
	lp_client_free(c);
	return access(cleaned, F_OK) == 0;
}

/*
 * cancel_grace: the program cleans up, and the worker, which lived
 * through it, takes the next run once the program has ended.
 */
START_TEST(cancel_grace_lets_a_program_clean_up)
{
	ck_assert_msg(cancelled_program_cleaned_up(),
	    "the program did not clean up before the next run");
}
END_TEST

/* cancel_grace = 0: SIGKILL at once, nothing to handle. */
START_TEST(cancel_grace_zero_kills_at_once)
{
	ck_assert_msg(!cancelled_program_cleaned_up(),
	    "the program got SIGTERM though cancel_grace is 0");
}
END_TEST

/*
 * A job that ignores SIGTERM is killed once cancel_grace is over, and its
 * worker replaced.
 */
START_TEST(cancel_kills_after_the_grace)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct outcome o = { 0 };
	char started[160], script[512];
	pid_t job;

	in_dir(started, sizeof started, "started");
	snprintf(script, sizeof script,
	    "trap '' TERM; echo $$ > %s; while :; do sleep 1; done", started);
	shell_async(c, lease, NULL, script, &o);
	job = started_pid(started);
	ck_assert_int_eq(cancel_by(c, "lease", lease).running, 1);
	assert_cancelled(&o, "while it ran");
	ck_assert_msg(wait_until(process_gone, &job),
	    "the program that ignores SIGTERM outlived cancel_grace");
	echo_answers(c, lease);
	lp_client_free(c);
}
END_TEST

/*
 * A thread cannot be stopped: its run is answered CANCELLED at once, its
 * result is discarded, and the lease's next run waits for the thread.
 */
START_TEST(cancel_on_a_thread_discards)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire_from(c, "io");
	struct outcome o = { 0 };
	struct cancelled got;

	sleep_async(c, lease, NULL, 5, 60, record, &o);
	ck_assert(lp_client_process(c, NULL) == LP_OK);
	ck_assert(wait_stats(c, "pools.io.runs_in_flight", 1));
	got = cancel_by(c, "lease", lease);
	ck_assert_int_eq(got.running, 1);
	assert_cancelled(&o, "goes on doing");
	/* Its thread still counts as busy: the lease's run waits for it, then runs. */
	ck_assert_int_eq(stats_int(c, "pools.io.runs_in_flight"), 1);
	echo_answers(c, lease);
	ck_assert_int_eq(stats_int(c, "pools.io.cancelled.running"), 1);
	ck_assert_int_eq(stats_int(c, "pools.io.counters.completed"), 1);
	ck_assert_int_eq(o.done, 1);
	lp_client_free(c);
}
END_TEST

/*
 * A cancel that reaches the daemon after its job answered, but before the
 * daemon has read that answer: the daemon still takes the job for running
 * and stops it, but the worker has gone on to the next job, which the
 * cancel must not end.  The daemon is stopped while the job finishes, so
 * that the cancel is read first.
 */
START_TEST(a_late_cancel_spares_the_next_job)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c), first;
	struct outcome cancelled = { 0 }, a = { 0 }, b = { 0 };
	char started[160], go[160], next[160], done[160], script[512];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct lp_error err;
	FILE *f;

	in_dir(started, sizeof started, "started");
	in_dir(go, sizeof go, "go");
	in_dir(next, sizeof next, "next");
	in_dir(done, sizeof done, "done");
	snprintf(script, sizeof script,
	    "echo $$ > %s; until [ -e %s ]; do sleep 0.01; done", started, go);
	first = shell_async(c, lease, NULL, script, &a);
	snprintf(script, sizeof script, "echo $$ > %s; sleep 0.2; touch %s",
	    next, done);
	shell_async(c, lease, NULL, script, &b);
	started_pid(started);
	/* A round trip: the daemon has sent the second job on to the worker. */
	ck_assert_int_eq(stats_int(c, "pools.cpu.counters.crashed"), 0);

	ck_assert_int_eq(kill(d.pid, SIGSTOP), 0);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	lp_pack_cstr(&pk, "msgid");
	msgpack_pack_uint64(&pk, first);
	ck_assert(lp_call_async(c, "cancel", sb.data, sb.size, record,
		      &cancelled, &err) == LP_OK);
	msgpack_sbuffer_destroy(&sb);
	while (lp_client_want_write(c))
		ck_assert(lp_client_process(c, NULL) == LP_OK);
	ck_assert((f = fopen(go, "w")) != NULL);
	fclose(f);
	/* The second job runs: the first one's answer waits behind the cancel. */
	started_pid(next);
	ck_assert_int_eq(kill(d.pid, SIGCONT), 0);

	wait_outcome(c, &b);
	ck_assert_msg(b.code == LP_OK, "the next job answered %s: %s",
	    lp_err_name(b.code), b.message);
	ck_assert_msg(access(done, F_OK) == 0, "the next job was stopped");
	wait_outcome(c, &cancelled);
	ck_assert_int_eq(cancelled.code, LP_OK);
	ck_assert_int_eq(a.done, 1);
	ck_assert_int_eq(stats_int(c, "pools.cpu.counters.crashed"), 0);
	echo_answers(c, lease);
	lp_client_free(c);
}
END_TEST

/* A msgid with nothing in flight was answered already: counted, not an error. */
START_TEST(cancel_of_an_answered_request_is_finished)
{
	struct lp_client *c = daemon_connect(&d);
	struct cancelled got = cancel_by(c, "msgid", 4000000000u);

	ck_assert_int_eq(got.queued, 0);
	ck_assert_int_eq(got.running, 0);
	ck_assert_int_eq(got.finished, 1);
	lp_client_free(c);
}
END_TEST

/* params as text for lp_call's "cancel": the error it gets, and its message. */
static void
cancel_fails(struct lp_client *c, const msgpack_sbuffer *params,
    enum lp_err code, const char *says)
{
	struct lp_value *v = NULL;
	struct lp_error err;

	ck_assert_int_eq(
	    lp_call(c, "cancel", params->data, params->size, &v, &err), code);
	ck_assert_ptr_null(v);
	ck_assert_msg(strstr(err.message, says) != NULL,
	    "'%s' does not say '%s'", err.message, says);
}

/*
 * Wrong types, a lease of another connection: refused, and the other
 * connection's run carries on as if nothing had been asked.  (A waiting
 * acquire's msgid: lp_cancel_of_a_waiting_acquire_is_refused.)
 */
START_TEST(bad_cancels_change_nothing)
{
	struct lp_client *c = daemon_connect(&d), *other = daemon_connect(&d);
	uint64_t lease = acquire(other);
	struct outcome o = { 0 };
	msgpack_sbuffer sb;
	msgpack_packer pk;

	sleep_async(other, lease, NULL, 0.5, 60, record, &o);
	ck_assert(lp_client_process(other, NULL) == LP_OK);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

	msgpack_pack_map(&pk, 1);
	lp_pack_cstr(&pk, "msgid");
	lp_pack_cstr(&pk, "1");
	cancel_fails(c, &sb, LP_ERR_INVALID_ARGUMENT,
	    "parameter 'msgid' must be a msgid");

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 1);
	lp_pack_cstr(&pk, "msgid");
	msgpack_pack_double(&pk, 0.0 / 0.0);
	cancel_fails(c, &sb, LP_ERR_INVALID_ARGUMENT,
	    "parameter 'msgid' must be a msgid");

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 0);
	cancel_fails(c, &sb, LP_ERR_INVALID_ARGUMENT,
	    "cancel takes exactly one of 'msgid' and 'lease'");

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 1);
	lp_pack_cstr(&pk, "lease");
	msgpack_pack_uint64(&pk, lease);
	cancel_fails(c, &sb, LP_ERR_NO_SUCH_LEASE, "no lease");

	msgpack_sbuffer_destroy(&sb);

	/* other's run, on the lease c named, ran to its end. */
	wait_outcome(other, &o);
	ck_assert_int_eq(o.code, LP_OK);
	ck_assert_int_eq(stats_int(c, "pools.cpu.cancelled.queued"), 0);
	ck_assert_int_eq(stats_int(c, "pools.cpu.cancelled.running"), 0);
	lp_client_free(other);
	lp_client_free(c);
}
END_TEST

/* fn(arg) started on lease through the library, answered to o: its id, for lp_cancel. */
static uint64_t
run_started(struct lp_client *c, uint64_t lease, const char *fn, double arg,
    struct outcome *o)
{
	struct lp_args *a = one_number(arg);
	struct lp_error err;
	uint64_t call;

	ck_assert_msg(
	    lp_run_start(c, lease, fn, a, 0, record, o, &call, &err) == LP_OK,
	    "%s", err.message);
	lp_args_free(a);
	return call;
}

/* The cpu pool's runs cancelled, before they started and while they ran. */
static long long
cancelled_runs(struct lp_client *c)
{
	return stats_int(c, "pools.cpu.cancelled.queued") +
	    stats_int(c, "pools.cpu.cancelled.running");
}

/*
 * Through the library: a run in flight that lp_cancel cancels is answered
 * CANCELLED, once, by the time lp_cancel returns; cancelling it again is
 * harmless, and the lease runs on.
 */
START_TEST(lp_cancel_answers_a_run_cancelled_once)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct outcome run = { 0 };
	uint64_t call = run_started(c, lease, "sleep", 60, &run);
	struct lp_error err;

	ck_assert(wait_stats(c, "pools.cpu.runs_in_flight", 1));
	ck_assert_msg(lp_cancel(c, call, &err) == LP_OK, "%s", err.message);
	assert_cancelled(&run, "'sleep' cancelled");
	ck_assert_int_eq(cancelled_runs(c), 1);

	ck_assert_int_eq(lp_cancel(c, call, &err), LP_OK);
	echo_answers(c, lease);
	ck_assert_int_eq(run.done, 1);
	lp_client_free(c);
}
END_TEST

/* The answer came first: lp_cancel asks nothing, and it is no error. */
START_TEST(lp_cancel_of_an_answered_run_is_harmless)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct outcome run = { 0 };
	uint64_t call = run_started(c, lease, "echo", 1, &run);
	struct lp_error err;

	wait_outcome(c, &run);
	ck_assert_int_eq(run.code, LP_OK);
	ck_assert_int_eq(lp_cancel(c, call, &err), LP_OK);
	ck_assert_int_eq(run.done, 1);
	ck_assert_int_eq(cancelled_runs(c), 0);
	lp_client_free(c);
}
END_TEST

/* An acquire is not a run: lp_cancel says the daemon's refusal, and it waits on. */
START_TEST(lp_cancel_of_a_waiting_acquire_is_refused)
{
	struct lp_client *holder = daemon_connect(&d),
			 *waiter = daemon_connect(&d);
	uint64_t lease = acquire(holder), call;
	struct outcome granted = { 0 };
	struct lp_error err;

	ck_assert_int_eq(lp_call_start(waiter, "acquire", NULL, 0, record,
			     &granted, &call, &err),
	    LP_OK);
	ck_assert_int_eq(lp_client_process(waiter, &err), LP_OK);
	ck_assert(wait_stats(holder, "pools.cpu.waiting", 1));
	ck_assert_int_eq(lp_cancel(waiter, call, &err),
	    LP_ERR_INVALID_ARGUMENT);
	ck_assert_msg(strstr(err.message, "acquire waiting") != NULL, "%s",
	    err.message);
	ck_assert_int_eq(granted.done, 0);
	ck_assert_int_eq(lp_release(holder, lease, &err), LP_OK);
	wait_outcome(waiter, &granted);
	ck_assert_int_eq(granted.code, LP_OK);
	lp_client_free(waiter);
	lp_client_free(holder);
}
END_TEST

/* The running job goes on; the one queued behind it, cancelled by its id, never starts. */
START_TEST(cancel_by_msgid_withdraws_a_queued_run_only)
{
	enum {
		/* more than the connection's first msgid table holds */
		BEHIND = 40
	};
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c), queued_call;
	struct outcome running = { 0 }, queued = { 0 }, behind[BEHIND] = { 0 };
	char started[160], marker[160], script[512];
	struct lp_args *seven = one_number(7);
	struct lp_error err;

	in_dir(started, sizeof started, "started");
	in_dir(marker, sizeof marker, "marker");
	snprintf(script, sizeof script, "echo $$ > %s; sleep 1", started);
	shell_async(c, lease, NULL, script, &running);
	snprintf(script, sizeof script, "touch %s", marker);
	queued_call = shell_async(c, lease, NULL, script, &queued);
	for (int i = 0; i < BEHIND; i++)
		ck_assert(lp_run_async(c, lease, "echo", seven, record,
			      &behind[i], &err) == LP_OK);
	started_pid(started);
	ck_assert_msg(lp_cancel(c, queued_call, &err) == LP_OK, "%s",
	    err.message);
	assert_cancelled(&queued, "before it started");
	wait_outcome(c, &running);
	ck_assert_msg(running.code == LP_OK, "the running job got %s: %s",
	    lp_err_name(running.code), running.message);
	for (int i = 0; i < BEHIND; i++) {
		wait_outcome(c, &behind[i]);
		ck_assert_int_eq(behind[i].code, LP_OK);
	}
	lp_args_free(seven);
	echo_answers(c, lease);
	ck_assert_msg(access(marker, F_OK) == -1,
	    "the run cancelled while queued ran");
	ck_assert_int_eq(stats_int(c, "pools.cpu.cancelled.queued"), 1);
	ck_assert_int_eq(stats_int(c, "pools.cpu.cancelled.running"), 0);
	lp_client_free(c);
}
END_TEST

/* A submission waiting for its batch, cancelled, leaves the grinder's queue unrun. */
START_TEST(cancel_withdraws_a_queued_submission)
{
	struct lp_client *c = daemon_connect(&d);
	struct outcome queued = { 0 }, hurried = { 0 };
	char marker[160], script[512];
	struct lp_error err;
	uint64_t call;

	in_dir(marker, sizeof marker, "marker");
	snprintf(script, sizeof script, "touch %s", marker);
	call = shell_async(c, 0, "cpu", script, &queued);
	ck_assert(wait_stats(c, "pools.cpu.grinder.queue", 1));
	ck_assert_msg(lp_cancel(c, call, &err) == LP_OK, "%s", err.message);
	assert_cancelled(&queued, "before it started");
	ck_assert_int_eq(stats_int(c, "pools.cpu.grinder.queue"), 0);
	/* An item that cannot wait goes at once, with anything still queued. */
	sleep_async(c, 0, "cpu", 0, 1, record, &hurried);
	wait_outcome(c, &hurried);
	ck_assert_int_eq(hurried.code, LP_OK);
	ck_assert_msg(access(marker, F_OK) == -1,
	    "the submission cancelled while queued ran");
	ck_assert_int_eq(stats_int(c, "pools.cpu.cancelled.queued"), 1);
	ck_assert_int_eq(stats_int(c, "pools.cpu.grinder.failed"), 0);
	lp_client_free(c);
}
END_TEST

#define RACERS 1000

/*
 * Cancels racing runs that finish: each run is answered exactly once,
 * with its result or CANCELLED, and the stats count the cancelled ones.
 */
START_TEST(cancels_racing_answers_answer_each_once)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c), *calls = calloc(RACERS, sizeof *calls);
	struct outcome *o = calloc(RACERS, sizeof *o);
	struct lp_args *a = lp_args_new();
	long long ok = 0, cancelled = 0;
	struct lp_error err;

	ck_assert(calls != NULL && o != NULL && a != NULL);
	lp_args_int(a, 7);
	for (unsigned i = 0; i < RACERS; i++)
		ck_assert(lp_run_start(c, lease, "echo", a, 0, record, &o[i],
			      &calls[i], &err) == LP_OK);
	for (unsigned i = 0; i < RACERS; i++)
		ck_assert_msg(lp_cancel(c, calls[i], &err) == LP_OK,
		    "cancel %u: %s", i, err.message);
	ck_assert(lp_client_wait_all(c, &err) == LP_OK);
	for (unsigned i = 0; i < RACERS; i++) {
		ck_assert_int_eq(o[i].done, 1);
		if (o[i].code == LP_OK)
			ok++;
		else if (o[i].code == LP_ERR_CANCELLED)
			cancelled++;
		else
			ck_abort_msg("run %u answered %s: %s", i,
			    lp_err_name(o[i].code), o[i].message);
	}
	ck_assert_int_eq(ok + cancelled, RACERS);
	ck_assert_int_eq(stats_int(c, "pools.cpu.cancelled.queued") +
		stats_int(c, "pools.cpu.cancelled.running"),
	    cancelled);
	ck_assert_int_eq(stats_int(c, "pools.cpu.counters.completed"), ok);
	echo_answers(c, lease);
	lp_args_free(a);
	free(o);
	free(calls);
	lp_client_free(c);
}
END_TEST

/* A submission alone in its batch stops with its worker, as a run does. */
START_TEST(cancel_stops_a_submission_alone_in_its_batch)
{
	struct lp_client *c = daemon_connect(&d);
	struct outcome o = { 0 }, after = { 0 };
	char started[160], script[512];
	struct lp_error err;
	uint64_t call;
	pid_t job;

	in_dir(started, sizeof started, "started");
	snprintf(script, sizeof script, "echo $$ > %s; exec sleep 60", started);
	call = shell_async(c, 0, "one", script, &o);
	job = started_pid(started);
	ck_assert_msg(lp_cancel(c, call, &err) == LP_OK, "%s", err.message);
	assert_cancelled(&o, "its worker is stopped");
	ck_assert_msg(wait_until(process_gone, &job),
	    "the cancelled submission's program %d still runs", (int)job);
	/* The pool's only worker is free again: the next submission runs. */
	sleep_async(c, 0, "one", 0, 60, record, &after);
	wait_outcome(c, &after);
	ck_assert_int_eq(after.code, LP_OK);
	ck_assert_int_eq(stats_int(c, "pools.one.cancelled.running"), 1);
	lp_client_free(c);
}
END_TEST

Suite *
cancel_suite(void)
{
	Suite *s = suite_create("cancel");
	TCase *tc;

	tc = integration_case(s, "grace 1 s", start_grace_1, stop_daemon);
	tcase_add_test(tc, cancel_lease_stops_running_and_withdraws_queued);
	tcase_add_test(tc, cancel_leaves_no_process);
	tcase_add_test(tc, cancel_kills_after_the_grace);
	tcase_add_test(tc, cancel_on_a_thread_discards);
	tcase_add_test(tc, cancel_of_an_answered_request_is_finished);
	tcase_add_test(tc, a_late_cancel_spares_the_next_job);
	tcase_add_test(tc, bad_cancels_change_nothing);

	tc = integration_case(s, "grace 30 s", start_grace_30, stop_daemon);
	tcase_add_test(tc, cancel_grace_lets_a_program_clean_up);

	tc = integration_case(s, "grace 0", start_grace_0, stop_daemon);
	tcase_add_test(tc, cancel_grace_zero_kills_at_once);

	tc = integration_case(s, "through the library", start_grace_1,
	    stop_daemon);
	tcase_add_test(tc, lp_cancel_answers_a_run_cancelled_once);
	tcase_add_test(tc, lp_cancel_of_an_answered_run_is_harmless);
	tcase_add_test(tc, lp_cancel_of_a_waiting_acquire_is_refused);
	tcase_add_test(tc, cancel_by_msgid_withdraws_a_queued_run_only);
	tcase_add_test(tc, cancel_withdraws_a_queued_submission);
	tcase_add_test(tc, cancel_stops_a_submission_alone_in_its_batch);
	tcase_add_test(tc, cancels_racing_answers_answer_each_once);
	return s;
}
