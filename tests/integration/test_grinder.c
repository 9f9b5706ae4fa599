/* SPDX-License-Identifier: ISC */
/*
 * The grinder: submissions without a lease, batched across clients, against
 * a real daemon.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/rpc.h"
#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/suites.h"

/* Batches of 4 that only the threshold starts. */
static const char threshold[] =
    "[pool cpu]\nexecutors_max = 1\nworkers = 1\nbatch_size = 4\nbatch_wait = 60\n"
    "exec = yes\n";
/* Batches that only the timer starts. */
static const char timer[] =
    "[daemon]\nshutdown_timeout = 20\n"
    "[pool cpu]\nexecutors_max = 1\nworkers = 1\nbatch_size = 1000\nbatch_wait = 0.2\n";
/* Slow items, so queues build up. */
static const char slow[] =
    "[pool cpu]\nexecutors_max = 1\nworkers = 1\nbatch_size = 64\nbatch_wait = 0.001\n";

/* Batches that only a long timer starts. */
static const char long_wait[] =
    "[pool cpu]\nexecutors_max = 1\nworkers = 1\nbatch_size = 1000\nbatch_wait = 30\n";
/* Batches of 2 or a long timer, an executor a client can hold. */
static const char pairs_or_long_wait[] =
    "[pool cpu]\nexecutors_max = 1\nworkers = 1\nbatch_size = 2\nbatch_wait = 30\n";
/* One executor a client can hold, and a job_timeout short enough to wait out. */
static const char bounded[] =
    "[pool cpu]\nexecutors_max = 1\nworkers = 1\njob_timeout = 3\nbatch_wait = 0.001\n";

/* Batches of 4 that start at once, on a process and on a thread; anyone may connect. */
static const char shared[] =
    "[daemon]\nsocket_mode = 0666\n"
    "[pool cpu]\nexecutors_max = 1\nworkers = 1\nbatch_size = 4\nbatch_wait = 0.001\n"
    "[pool io]\nbackend = thread\nexecutors_max = 1\nworkers = 1\nbatch_size = 4\n"
    "batch_wait = 0.001\n";

/* nobody and nogroup, on Debian */
#define OTHER_UID 65534
#define OTHER_GID 65534

static void
start_threshold(void)
{
	daemon_start(&d, threshold);
}

static void
start_timer(void)
{
	daemon_start(&d, timer);
}

static void
start_slow(void)
{
	daemon_start(&d, slow);
}

static void
start_long_wait(void)
{
	daemon_start(&d, long_wait);
}

static void
start_pairs_or_long_wait(void)
{
	daemon_start(&d, pairs_or_long_wait);
}

static void
start_bounded(void)
{
	daemon_start(&d, bounded);
}

static void
start_shared(void)
{
	daemon_start(&d, shared);
	daemon_open_to_others(&d);
}

static void
submit(struct lp_client *c, const char *fn, struct lp_args *a,
    struct outcome *o)
{
	struct lp_error err;

	ck_assert(lp_submit_async(c, NULL, fn, a, record, o, &err) == LP_OK);
	ck_assert(lp_client_process(c, &err) == LP_OK);
}

static bool
oldest_waited_a_while(void *watcher)
{
	return stats_double(watcher, "pools.cpu.grinder.oldest_wait") >= 0.05;
}

static void
submit_echo(struct lp_client *c, int64_t v, struct outcome *o)
{
	struct lp_args *a = lp_args_new();

	lp_args_int(a, v);
	submit(c, "echo", a, o);
	lp_args_free(a);
}

/* How far the queue is from a batch: its size, its wait, and the oldest item's. */
START_TEST(stats_show_the_batch_settings_and_the_oldest_wait)
{
	struct lp_client *c = daemon_connect(&d), *watcher = daemon_connect(&d);
	struct outcome out[4] = { 0 };
	struct lp_error err;
	double since = monotonic();

	ck_assert_int_eq(stats_int(watcher, "pools.cpu.grinder.batch_size"), 4);
	ck_assert(stats_double(watcher, "pools.cpu.grinder.batch_wait") == 60);
	ck_assert(stats_double(watcher, "pools.cpu.grinder.oldest_wait") == 0);
	submit_echo(c, 1, &out[0]);
	ck_assert(wait_stats(watcher, "pools.cpu.grinder.queue", 1));
	ck_assert(wait_until(oldest_waited_a_while, watcher));
	ck_assert(stats_double(watcher, "pools.cpu.grinder.oldest_wait") <=
	    monotonic() - since);
	for (int i = 1; i < 4; i++)
		submit_echo(c, 1, &out[i]);
	ck_assert(lp_client_wait_all(c, &err) == LP_OK);
	ck_assert(stats_double(watcher, "pools.cpu.grinder.oldest_wait") == 0);
	lp_client_free(c);
	lp_client_free(watcher);
}
END_TEST

START_TEST(threshold_starts_a_batch)
{
	struct lp_client *c = daemon_connect(&d);
	struct outcome out[4] = { 0 };
	struct lp_error err;

	for (int i = 0; i < 4; i++)
		submit_echo(c, i * 10, &out[i]);
	/* batch_wait is a minute: only the fourth item can have started the batch. */
	ck_assert(lp_client_wait_all(c, &err) == LP_OK);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(out[i].code, LP_OK);
		ck_assert_int_eq(out[i].value, i * 10);
	}
	ck_assert_int_eq(stats_int(c, "pools.cpu.grinder.batches"), 1);
	ck_assert_int_eq(stats_int(c, "pools.cpu.grinder.completed"), 4);
	/* Idle again, the grinder gave its executor back. */
	ck_assert(wait_stats(c, "pools.cpu.executors.leased", 0));
	lp_client_free(c);
}
END_TEST

START_TEST(failures_stay_with_their_item)
{
	struct lp_client *c = daemon_connect(&d);
	struct outcome out[4] = { 0 };
	struct lp_args *none = lp_args_new();
	struct lp_error err;

	submit_echo(c, 1, &out[0]);
	submit(c, "echo", none,
	    &out[1]); /* echo without an argument is refused */
	submit_echo(c, 3, &out[2]);
	submit_echo(c, 4, &out[3]);
	ck_assert(lp_client_wait_all(c, &err) == LP_OK);
	ck_assert_int_eq(out[0].value, 1);
	ck_assert_int_eq(out[1].code, LP_ERR_INVALID_ARGUMENT);
	ck_assert_int_eq(out[2].value, 3);
	ck_assert_int_eq(out[3].value, 4);
	ck_assert_int_eq(stats_int(c, "pools.cpu.grinder.failed"), 1);
	lp_args_free(none);
	lp_client_free(c);
}
END_TEST

START_TEST(crash_mid_batch_keeps_finished_results)
{
	struct lp_client *c = daemon_connect(&d);
	struct outcome out[4] = { 0 };
	struct lp_args *crash = lp_args_new();
	struct lp_error err;

	/* The shell's parent is the worker's spawner, whose parent the second item kills. */
	lp_kwargs_raw(crash, "argv",
	    "\x93\xa2sh\xa2-c\xd9\x2a"
	    "set -- $(cat /proc/$PPID/stat); kill -9 $4",
	    51);
	submit_echo(c, 1, &out[0]);
	submit(c, "exec", crash, &out[1]);
	submit_echo(c, 3, &out[2]);
	submit_echo(c, 4, &out[3]);
	ck_assert(lp_client_wait_all(c, &err) == LP_OK);
	ck_assert_int_eq(out[0].code, LP_OK);
	ck_assert_int_eq(out[0].value, 1);
	ck_assert_int_eq(out[1].code, LP_ERR_WORKER_CRASHED);
	ck_assert_int_eq(out[1].signal, SIGKILL);
	/* The items after it never started: they run on the replacement. */
	ck_assert_int_eq(out[2].code, LP_OK);
	ck_assert_int_eq(out[2].value, 3);
	ck_assert_int_eq(out[3].code, LP_OK);
	ck_assert_int_eq(out[3].value, 4);
	/* The grinder goes on with a replacement worker. */
	for (int i = 0; i < 4; i++) {
		memset(&out[i], 0, sizeof out[i]);
		submit_echo(c, 5, &out[i]);
	}
	ck_assert(lp_client_wait_all(c, &err) == LP_OK);
	ck_assert_int_eq(out[3].value, 5);
	lp_args_free(crash);
	lp_client_free(c);
}
END_TEST

START_TEST(timer_starts_a_batch)
{
	struct lp_client *c = daemon_connect(&d);
	struct outcome one = { 0 };
	struct lp_error err;

	submit_echo(c, 7, &one);
	ck_assert(lp_client_wait_all(c, &err) == LP_OK);
	ck_assert_int_eq(one.value, 7);
	ck_assert_int_eq(stats_int(c, "pools.cpu.grinder.batches"), 1);
	lp_client_free(c);
}
END_TEST

START_TEST(disconnect_drops_queued_items)
{
	struct lp_client *a = daemon_connect(&d), *watcher = daemon_connect(&d);
	struct lp_args *slow_job = lp_args_new();
	static struct outcome out[50];
	struct lp_error err;

	/* Behind a lease holding the only executor, the items can only queue. */
	struct lp_lease lease;
	ck_assert(lp_acquire(watcher, NULL, &lease, &err) == LP_OK);
	lp_args_double(slow_job, 0);
	for (int i = 0; i < 50; i++)
		submit(a, "sleep", slow_job, &out[i]);
	ck_assert(wait_stats(watcher, "pools.cpu.grinder.queue", 50));
	ck_assert_int_eq(stats_int(watcher, "runs_in_flight"), 50);
	lp_client_free(a);
	ck_assert(wait_stats(watcher, "pools.cpu.grinder.queue", 0));
	ck_assert_int_eq(stats_int(watcher, "runs_in_flight"), 0);
	ck_assert_int_eq(stats_int(watcher, "pools.cpu.grinder.completed"), 0);
	ck_assert_int_eq(stats_int(watcher, "pools.cpu.counters.completed"), 0);
	lp_args_free(slow_job);
	lp_client_free(watcher);
}
END_TEST

START_TEST(stop_answers_queued_items)
{
	struct lp_client *a = daemon_connect(&d), *holder = daemon_connect(&d);
	struct outcome out[3] = { 0 };
	struct lp_lease lease;
	struct lp_error err;
	int status;

	ck_assert(lp_acquire(holder, NULL, &lease, &err) == LP_OK);
	for (int i = 0; i < 3; i++)
		submit_echo(a, i, &out[i]);
	ck_assert(wait_stats(holder, "pools.cpu.grinder.queue", 3));
	kill(d.pid, SIGTERM);
	ck_assert(lp_client_wait_all(a, &err) == LP_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(out[i].code, LP_ERR_STOPPING);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	d.pid = 0;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	lp_client_free(a);
	lp_client_free(holder);
}
END_TEST

struct flooding {
	struct lp_client *flooder, *watcher;
	long long queued;
};

/* Keeps the flooder's requests flowing until enough of them are queued. */
static bool
flood_queued(void *arg)
{
	struct flooding *f = arg;
	struct lp_error err;

	lp_client_process(f->flooder, &err);
	return stats_int(f->watcher, "pools.cpu.grinder.queue") >= f->queued;
}

START_TEST(a_flood_does_not_starve_a_single_item)
{
	enum {
		FLOOD = 3000,
		BATCH = 64
	};
	struct lp_client *a = daemon_connect(&d), *b = daemon_connect(&d);
	static struct outcome flood[FLOOD];
	struct lp_args *spin = lp_args_new();
	struct lp_value *v;
	struct lp_error err;
	long long before, after;

	lp_args_int(spin, 100); /* 100 us each: the flood takes about 0.3 s */
	for (int i = 0; i < FLOOD; i++)
		ck_assert(lp_submit_async(a, NULL, "spin", spin, record,
			      &flood[i], &err) == LP_OK);
	ck_assert(
	    wait_until(flood_queued, &(struct flooding){ a, b, FLOOD / 2 }));
	before = stats_int(b, "pools.cpu.grinder.completed");
	lp_args_clear(spin);
	lp_args_int(spin, 0);
	ck_assert(lp_submit(b, NULL, "spin", spin, &v, &err) == LP_OK);
	lp_value_free(v);
	after = stats_int(b, "pools.cpu.grinder.completed");
	/* The batch running when b came, b's own batch, and one for the stats call's drift. */
	ck_assert_msg(after - before <= 3 * BATCH,
	    "%lld items of the flood went first", after - before);
	ck_assert(lp_client_wait_all(a, &err) == LP_OK);
	lp_args_free(spin);
	lp_client_free(a);
	lp_client_free(b);
}
END_TEST

enum {
	SLEEPS = 8
};

/* A user's slow items, spread over its connections, and a lease that keeps them queued. */
struct sleepers {
	struct lp_client *holder;
	struct lp_lease lease;
	struct lp_client *clients[SLEEPS];
	unsigned nclients;
	struct outcome out[SLEEPS];
};

/* Eight sleeps of 1 s, from nclients connections in turn, queued behind s's lease. */
static void
queue_sleeps(struct sleepers *s, unsigned nclients)
{
	struct lp_error err;

	memset(s, 0, sizeof *s);
	s->holder = daemon_connect(&d);
	ck_assert(lp_acquire(s->holder, NULL, &s->lease, &err) == LP_OK);
	s->nclients = nclients;
	for (unsigned i = 0; i < nclients; i++)
		s->clients[i] = daemon_connect(&d);
	for (unsigned i = 0; i < SLEEPS; i++) {
		struct lp_client *c = s->clients[i % nclients];

		sleep_async(c, 0, "cpu", 1, 30, record, &s->out[i]);
		ck_assert(lp_client_process(c, &err) == LP_OK);
	}
	ck_assert(wait_stats(s->holder, "pools.cpu.grinder.queue", SLEEPS));
}

/* Once another's item is queued as well: the grinder gets the executor. */
static void
let_run(struct sleepers *s)
{
	struct lp_error err;

	ck_assert(wait_stats(s->holder, "pools.cpu.grinder.queue", SLEEPS + 1));
	ck_assert(lp_release(s->holder, s->lease.id, &err) == LP_OK);
}

/* The sleeps all succeed, in batches in all. */
static void
sleeps_done(struct sleepers *s, long long batches)
{
	for (unsigned i = 0; i < SLEEPS; i++) {
		wait_outcome(s->clients[i % s->nclients], &s->out[i]);
		ck_assert_int_eq(s->out[i].code, LP_OK);
	}
	ck_assert_int_eq(stats_int(s->holder, "pools.cpu.grinder.batches"),
	    batches);
	for (unsigned i = 0; i < s->nclients; i++)
		lp_client_free(s->clients[i]);
	lp_client_free(s->holder);
}

/* The stats path of a pool's grinder figure. */
static const char *
grinder_stat(char *buf, size_t len, const char *pool, const char *figure)
{
	snprintf(buf, len, "pools.%s.grinder.%s", pool, figure);
	return buf;
}

/*
 * As another user: an echo through the grinder of pool arg, and how many
 * items that grinder had answered then.
 */
static bool
echo_and_count(struct lp_client *c, msgpack_packer *pk, void *arg,
    struct lp_error *err)
{
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	enum lp_err code;
	char path[64];

	lp_args_int(a, 1);
	code = lp_submit(c, arg, "echo", a, &v, err);
	lp_args_free(a);
	if (code != LP_OK)
		return false;
	lp_value_free(v);
	msgpack_pack_int64(pk,
	    stats_int(c, grinder_stat(path, sizeof path, arg, "completed")));
	return true;
}

/*
 * One user's eight slow items on eight connections, another user's echo:
 * the turns go round users, and with both waiting a batch holds one item
 * of each, so the echo waits for one sleep, not for two batches of them.
 */
START_TEST(another_users_item_waits_for_one_item_not_a_batch)
{
	struct sleepers s;
	struct other_user o;

	queue_sleeps(&s, SLEEPS);
	other_user_spawn(&o, &d, OTHER_UID, OTHER_GID, echo_and_count, "cpu");
	let_run(&s);
	other_user_wait(&o);
	/* The echo and at most one sleep, plus one for the drift to the stats call: not most of the sleeps. */
	ck_assert_int_le(o.reply.data.via.i64, 3);
	other_user_end(&o);
	/* {sleep, echo}, then the seven sleeps left, alone, in batches of 4 and 3. */
	sleeps_done(&s, 3);
}
END_TEST

/*
 * One user's eight slow items on pool's one worker, the first four of them
 * running as a batch, then another user's echo: the three sleeps of the
 * batch that have not started are recalled, and the echo waits for the
 * sleep running, not for the batch.
 */
static void
recalled_for_another_user(const char *pool)
{
	struct lp_client *a = daemon_connect(&d);
	struct outcome out[SLEEPS] = { 0 };
	struct other_user o;
	struct lp_error err;
	char path[64];

	for (unsigned i = 0; i < SLEEPS; i++)
		sleep_async(a, 0, pool, 1, 60, record, &out[i]);
	ck_assert(lp_client_process(a, &err) == LP_OK);
	ck_assert(
	    wait_stats(a, grinder_stat(path, sizeof path, pool, "running"), 4));
	other_user_start(&o, &d, OTHER_UID, OTHER_GID, echo_and_count,
	    (void *)pool);
	/* The echo and the sleep running, plus one for the drift to the stats call: not the batch. */
	ck_assert_int_le(o.reply.data.via.i64, 3);
	other_user_end(&o);
	for (unsigned i = 0; i < SLEEPS; i++) {
		wait_outcome(a, &out[i]);
		ck_assert_int_eq(out[i].code, LP_OK);
	}
	ck_assert_int_eq(
	    stats_int(a, grinder_stat(path, sizeof path, pool, "running")), 0);
	lp_client_free(a);
}

START_TEST(another_users_item_recalls_a_running_batch_on_a_process)
{
	recalled_for_another_user("cpu");
}
END_TEST

START_TEST(another_users_item_recalls_a_running_batch_on_a_thread)
{
	recalled_for_another_user("io");
}
END_TEST

/* One user alone fills its batches, its connections taking turns. */
START_TEST(one_users_connections_take_turns_in_full_batches)
{
	struct sleepers s;
	struct lp_client *b;
	struct outcome echo = { 0 };

	queue_sleeps(&s, 1);
	b = daemon_connect(&d);
	submit_echo(b, 1, &echo);
	let_run(&s);
	wait_outcome(b, &echo);
	ck_assert_int_eq(echo.code, LP_OK);
	/* {sleep, echo, sleep, sleep}: the echo after one sleep, plus one for the drift to the stats call. */
	ck_assert_int_le(stats_int(b, "pools.cpu.grinder.completed"), 3);
	ck_assert_int_eq(stats_int(b, "pools.cpu.grinder.batches"), 1);
	/* Then 4 and 1. */
	sleeps_done(&s, 3);
	lp_client_free(b);
}
END_TEST

/* b's submission late is answered TIMEOUT, naming its bound, while the executor is still leased. */
static void
assert_timed_out(struct lp_client *b, const struct outcome *late,
    const char *bound)
{
	wait_outcome(b, late);
	ck_assert_int_eq(late->code, LP_ERR_TIMEOUT);
	ck_assert_msg(strstr(late->message, bound) != NULL, "%s",
	    late->message);
	ck_assert_int_eq(stats_int(b, "pools.cpu.executors.leased"), 1);
}

/* Nothing of a submission is left: not queued, not in flight, no wait for an executor. */
static void
assert_nothing_queued(struct lp_client *c)
{
	ck_assert_int_eq(stats_int(c, "pools.cpu.grinder.queue"), 0);
	ck_assert_int_eq(stats_int(c, "pools.cpu.grinder.running"), 0);
	ck_assert_int_eq(stats_int(c, "pools.cpu.waiting"), 0);
	ck_assert_int_eq(stats_int(c, "runs_in_flight"), 0);
}

START_TEST(a_submit_timeout_bounds_its_wait_for_an_executor)
{
	struct lp_client *a = daemon_connect(&d), *b = daemon_connect(&d);
	struct outcome late = { 0 }, patient = { 0 }, after = { 0 };
	struct lp_lease lease;
	struct lp_error err;

	/* a holds the only executor: b's items can only wait for it. */
	ck_assert(lp_acquire(a, NULL, &lease, &err) == LP_OK);
	sleep_async(b, 0, "cpu", 0, 0.5, record, &late);
	sleep_async(b, 0, "cpu", 0, 30, record, &patient);
	assert_timed_out(b, &late, "within its timeout of 0.500 s");
	/* a still holds its lease (a releases only below), and the other item still waits. */
	ck_assert_int_eq(patient.done, 0);
	ck_assert_int_eq(stats_int(b, "pools.cpu.grinder.queue"), 1);
	ck_assert_int_eq(stats_int(b, "pools.cpu.counters.timed_out"), 1);
	ck_assert(lp_release(a, lease.id, &err) == LP_OK);
	wait_outcome(b, &patient);
	ck_assert_int_eq(patient.code, LP_OK);
	/* A new submission, the executor free: served. */
	sleep_async(b, 0, "cpu", 0, 2.5, record, &after);
	wait_outcome(b, &after);
	ck_assert_int_eq(after.code, LP_OK);
	assert_nothing_queued(b);
	lp_client_free(a);
	lp_client_free(b);
}
END_TEST

/*
 * Without a timeout, the pool's job_timeout (3 s here) bounds the wait.  The
 * last waiting item timed out, the grinder gives up its place in line.
 */
START_TEST(job_timeout_bounds_a_submit_without_a_timeout)
{
	struct lp_client *a = daemon_connect(&d), *b = daemon_connect(&d);
	struct outcome late = { 0 };
	struct lp_lease lease;
	struct lp_error err;

	ck_assert(lp_acquire(a, NULL, &lease, &err) == LP_OK);
	submit_echo(b, 1, &late);
	assert_timed_out(b, &late, "within its timeout of 3.000 s");
	assert_nothing_queued(b);
	/* Released, the executor stays free: nobody was waiting for it. */
	ck_assert(lp_release(a, lease.id, &err) == LP_OK);
	ck_assert(wait_stats(b, "pools.cpu.executors.available", 1));
	ck_assert_int_eq(stats_int(b, "pools.cpu.counters.granted"), 1);
	lp_client_free(a);
	lp_client_free(b);
}
END_TEST

/* An item that got a worker in time, whose job outlasts its timeout, is JOB_TIMEOUT as a run is. */
START_TEST(a_submitted_job_past_its_timeout_is_job_timeout)
{
	struct lp_client *b = daemon_connect(&d);
	struct outcome long_job = { 0 };

	sleep_async(b, 0, "cpu", 30, 2.5, record, &long_job);
	wait_outcome(b, &long_job);
	ck_assert_int_eq(long_job.code, LP_ERR_JOB_TIMEOUT);
	assert_nothing_queued(b);
	ck_assert_int_eq(stats_int(b, "pools.cpu.counters.timed_out"), 1);
	lp_client_free(b);
}
END_TEST

/* A submission whose timeout batch_wait would use up waits for no batch. */
START_TEST(a_timeout_shorter_than_batch_wait_does_not_wait_for_the_batch)
{
	struct lp_client *b = daemon_connect(&d);
	struct outcome quick = { 0 };

	sleep_async(b, 0, "cpu", 0, 5, record, &quick);
	wait_outcome(b, &quick);
	ck_assert_msg(quick.code == LP_OK, "%s: %s", lp_err_name(quick.code),
	    quick.message);
	ck_assert_int_eq(stats_int(b, "pools.cpu.grinder.batches"), 1);
	lp_client_free(b);
}
END_TEST

/*
 * A hurried item behind a batch that filled before its turn stays hurried:
 * the next batch takes it at once, though it alone is short of batch_size
 * and its timeout is shorter than batch_wait.
 */
START_TEST(a_hurried_item_left_out_of_a_full_batch_stays_hurried)
{
	struct lp_client *holder = daemon_connect(&d);
	struct lp_client *c[3] = { daemon_connect(&d), daemon_connect(&d),
		daemon_connect(&d) };
	struct outcome out[3] = { 0 };
	struct lp_lease lease;
	struct lp_error err;

	/* Queued while the executor is held: the connections' turns are c[0], c[1], c[2]. */
	ck_assert(lp_acquire(holder, NULL, &lease, &err) == LP_OK);
	sleep_async(c[0], 0, "cpu", 0, 60, record, &out[0]);
	ck_assert(lp_client_process(c[0], &err) == LP_OK);
	ck_assert(wait_stats(holder, "pools.cpu.grinder.queue", 1));
	sleep_async(c[1], 0, "cpu", 0, 60, record, &out[1]);
	ck_assert(lp_client_process(c[1], &err) == LP_OK);
	ck_assert(wait_stats(holder, "pools.cpu.grinder.queue", 2));
	sleep_async(c[2], 0, "cpu", 0, 10, record, &out[2]);
	ck_assert(lp_client_process(c[2], &err) == LP_OK);
	ck_assert(wait_stats(holder, "pools.cpu.grinder.queue", 3));
	ck_assert(lp_release(holder, lease.id, &err) == LP_OK);
	for (int i = 0; i < 3; i++) {
		wait_outcome(c[i], &out[i]);
		ck_assert_msg(out[i].code == LP_OK, "item %d: %s: %s", i,
		    lp_err_name(out[i].code), out[i].message);
		lp_client_free(c[i]);
	}
	ck_assert_int_eq(stats_int(holder, "pools.cpu.grinder.batches"), 2);
	lp_client_free(holder);
}
END_TEST

Suite *
grinder_suite(void)
{
	Suite *s = suite_create("grinder");
	TCase *tc;

	tc = integration_case(s, "batch", start_threshold, stop_daemon);
	tcase_add_test(tc, threshold_starts_a_batch);
	tcase_add_test(tc, stats_show_the_batch_settings_and_the_oldest_wait);
	tcase_add_test(tc, failures_stay_with_their_item);
	tcase_add_test(tc, crash_mid_batch_keeps_finished_results);

	tc = integration_case(s, "timer", start_timer, stop_daemon);
	tcase_add_test(tc, timer_starts_a_batch);
	tcase_add_test(tc, disconnect_drops_queued_items);
	tcase_add_test(tc, stop_answers_queued_items);

	tc = integration_case(s, "fairness", start_slow, stop_daemon);
	tcase_add_test(tc, a_flood_does_not_starve_a_single_item);

	tc = integration_case(s, "timeout", start_bounded, stop_daemon);
	tcase_add_test(tc, a_submit_timeout_bounds_its_wait_for_an_executor);
	tcase_add_test(tc, job_timeout_bounds_a_submit_without_a_timeout);
	tcase_add_test(tc, a_submitted_job_past_its_timeout_is_job_timeout);

	tc = integration_case(s, "hurry", start_long_wait, stop_daemon);
	tcase_add_test(tc,
	    a_timeout_shorter_than_batch_wait_does_not_wait_for_the_batch);

	tc = integration_case(s, "hurry_pairs", start_pairs_or_long_wait,
	    stop_daemon);
	tcase_add_test(tc,
	    a_hurried_item_left_out_of_a_full_batch_stays_hurried);

	tc = integration_case(s, "users", start_shared, stop_daemon);
	tcase_add_test(tc, one_users_connections_take_turns_in_full_batches);
	/* Only root can act as another user. */
	add_root_test(tc, another_users_item_waits_for_one_item_not_a_batch);
	add_root_test(tc,
	    another_users_item_recalls_a_running_batch_on_a_process);
	add_root_test(tc,
	    another_users_item_recalls_a_running_batch_on_a_thread);
	return s;
}
