/* SPDX-License-Identifier: ISC */
/*
 * One daemon shared by many programs: who may use which pool, limits that
 * keep one client from hurting the others, and clients that misbehave.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proto/rpc.h"
#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/suites.h"

static void start_with(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
start_with(const char *fmt, ...)
{
	char config[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(config, sizeof config, fmt, ap);
	va_end(ap);
	daemon_start(&d, config);
}

/* Pool "closed" admits a uid nobody has; pool "mine" admits our group. */
static void
start_access(void)
{
	start_with(
	    "[daemon]\ndefault_pool = mine\n"
	    "[pool closed]\nexecutors_max = 1\nworkers = 1\nallow_users = 4000000\n"
	    "[pool mine]\nexecutors_max = 1\nworkers = 1\nallow_users = 4000001\n"
	    "allow_groups = %u\n",
	    (unsigned)getgid());
}

static void
start_limits(void)
{
	start_with(
	    "[daemon]\nmax_requests_per_connection = 3\nmax_result_bytes = 1M\n"
	    "modules = %s/testjobs.so\n"
	    "[pool cpu]\nexecutors_max = 2\nworkers = 1\nmax_leases_per_client = 1\n"
	    "max_lease_seconds = 100\n",
	    test_modules_dir());
}

static void
start_two_workers(void)
{
	start_with("[pool cpu]\nexecutors_max = 1\nworkers = 2\n");
}

static void
start_crowded(void)
{
	/* A crowd of one user. */
	start_with(
	    "[daemon]\nmax_connections_per_user = 2000\n"
	    "[pool cpu]\nexecutors_min = 2\nexecutors_max = 2\nworkers = 1\n");
}

/* Pool cpu admits only our uid, until a reload admits only another. */
#define ADMITTING \
	"[pool cpu]\nexecutors_max = 2\nworkers = 1\nallow_users = %u\n"

static void
start_admitting_me(void)
{
	start_with(ADMITTING, (unsigned)getuid());
}

START_TEST(pools_admit_only_their_users_and_groups)
{
	struct lp_client *c = daemon_connect(&d);
	struct lp_acquire_opts closed = { .pool = "closed" };
	struct lp_args *a = one_number(1);
	struct lp_lease lease;
	struct lp_value *v;
	struct lp_error err;

	ck_assert_int_eq(lp_acquire(c, &closed, &lease, &err),
	    LP_ERR_PERMISSION_DENIED);
	ck_assert_ptr_nonnull(strstr(err.message, "'closed'"));
	ck_assert_int_eq(lp_submit(c, "closed", "echo", a, &v, &err),
	    LP_ERR_PERMISSION_DENIED);
	ck_assert(daemon_log_contains(&d, "refused pool closed"));
	/* Our own group is enough for "mine". */
	ck_assert(lp_acquire(c, NULL, &lease, &err) == LP_OK);
	/* the grinder needs the executor */
	ck_assert(lp_release(c, lease.id, &err) == LP_OK);
	ck_assert(lp_submit(c, "mine", "echo", a, &v, &err) == LP_OK);
	lp_value_free(v);
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

static void
count_done(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	(*(int *)arg)++;
	lp_value_free(result);
}

START_TEST(requests_in_flight_are_bounded)
{
	struct lp_client *c = daemon_connect(&d);
	struct lp_args *slow = one_number(0.2);
	struct lp_lease lease;
	struct lp_value *v;
	struct lp_error err;
	int done = 0;

	ck_assert(lp_acquire(c, NULL, &lease, &err) == LP_OK);
	for (int i = 0; i < 3; i++)
		ck_assert(lp_run_async(c, lease.id, "sleep", slow, count_done,
			      &done, &err) == LP_OK);
	ck_assert_int_eq(lp_run(c, lease.id, "sleep", slow, &v, &err),
	    LP_ERR_LIMIT_EXCEEDED);
	ck_assert_ptr_nonnull(
	    strstr(err.message, "max_requests_per_connection"));
	ck_assert(lp_client_wait_all(c, &err) == LP_OK);
	ck_assert_int_eq(done, 3);
	/* Answered, they no longer count. */
	ck_assert(lp_run(c, lease.id, "sleep", slow, &v, &err) == LP_OK);
	lp_value_free(v);
	lp_args_free(slow);
	lp_client_free(c);
}
END_TEST

START_TEST(leases_per_client_are_bounded)
{
	struct lp_client *a = daemon_connect(&d), *b = daemon_connect(&d);
	struct lp_lease lease;
	struct lp_error err;

	ck_assert(lp_acquire(a, NULL, &lease, &err) == LP_OK);
	ck_assert_int_eq(lp_acquire(a, NULL, &lease, &err),
	    LP_ERR_LIMIT_EXCEEDED);
	ck_assert_ptr_nonnull(strstr(err.message, "max_leases_per_client"));
	ck_assert(lp_acquire(b, NULL, &lease, &err) == LP_OK);
	lp_client_free(a);
	lp_client_free(b);
}
END_TEST

START_TEST(oversized_result_is_an_error_for_that_run)
{
	struct lp_client *c = daemon_connect(&d);
	struct lp_args *big = lp_args_new(), *small = lp_args_new();
	struct lp_lease lease;
	struct lp_value *v;
	struct lp_error err;

	lp_args_int(big, 64 << 20);
	lp_args_int(small, 1000);
	ck_assert(lp_acquire(c, NULL, &lease, &err) == LP_OK);
	ck_assert_int_eq(lp_run(c, lease.id, "testjobs.big", big, &v, &err),
	    LP_ERR_LIMIT_EXCEEDED);
	ck_assert(
	    lp_run(c, lease.id, "testjobs.big", small, &v, &err) == LP_OK);
	lp_value_free(v);
	lp_args_free(big);
	lp_args_free(small);
	lp_client_free(c);
}
END_TEST

START_TEST(stats_name_every_client)
{
	struct lp_client *c = daemon_connect(&d);
	const msgpack_object *clients, *me;
	struct lp_value *v;
	struct lp_error err;

	ck_assert(lp_hello(c, "stats-test", &v, &err) == LP_OK);
	lp_value_free(v);
	ck_assert(lp_stats(c, NULL, &v, &err) == LP_OK);
	clients = lp_value_get(v, "clients");
	ck_assert_int_eq(clients->via.array.size, 1);
	me = &clients->via.array.ptr[0];
	ck_assert_int_eq(lp_map_get(me, "pid")->via.u64, getpid());
	ck_assert_int_eq(lp_map_get(me, "uid")->via.u64, getuid());
	ck_assert(lp_obj_is_str(lp_map_get(me, "name"), "stats-test"));
	lp_value_free(v);
	lp_client_free(c);
}
END_TEST

/* ---- a crowd: many connections at once ---- */

enum step {
	WANT_LEASE,
	WANT_RUN,
	WANT_RELEASE,
	FINISHED,
	FAILED
};

struct member {
	struct lp_client *c;
	enum step step;
	uint64_t lease;
	int expected;
};

static struct lp_args *crowd_args;

static void member_next(struct member *m);

static void
member_done(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct member *m = arg;

	if (code != LP_OK) {
		m->step = FAILED;
	} else if (m->step == WANT_LEASE) {
		m->lease = lp_value_get(result, "lease")->via.u64;
		m->step = WANT_RUN;
	} else if (m->step == WANT_RUN) {
		m->step =
		    lp_value_int(result) == m->expected ? WANT_RELEASE : FAILED;
	} else {
		m->step = FINISHED;
	}
	lp_value_free(result);
	if (m->step != FINISHED && m->step != FAILED)
		member_next(m);
}

static void
member_next(struct member *m)
{
	struct lp_error err;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	switch (m->step) {
	case WANT_LEASE:
		ck_assert(lp_call_async(m->c, "acquire", NULL, 0, member_done,
			      m, &err) == LP_OK);
		break;
	case WANT_RUN:
		lp_args_clear(crowd_args);
		lp_args_int(crowd_args, m->expected);
		ck_assert(lp_run_async(m->c, m->lease, "echo", crowd_args,
			      member_done, m, &err) == LP_OK);
		break;
	case WANT_RELEASE:
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 1);
		lp_pack_kv_u64(&pk, "lease", m->lease);
		ck_assert(lp_call_async(m->c, "release", sb.data, sb.size,
			      member_done, m, &err) == LP_OK);
		msgpack_sbuffer_destroy(&sb);
		break;
	default:
		break;
	}
}

START_TEST(a_thousand_connections_acquire_run_release)
{
	enum {
		N = 1000
	};
	static struct member crowd[N];
	static struct pollfd fds[N];
	struct rlimit rl;
	struct lp_client *watcher;
	int finished = 0;

	/* A thousand sockets, and the daemon's need not be ours to raise. */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_msg(rl.rlim_cur > N + 64,
	    "RLIMIT_NOFILE hard limit %lu is too low",
	    (unsigned long)rl.rlim_max);
	crowd_args = lp_args_new();
	for (int i = 0; i < N; i++) {
		crowd[i] =
		    (struct member){ .c = daemon_connect(&d), .expected = i };
		member_next(&crowd[i]);
	}
	while (finished < N) {
		int n = 0;

		for (int i = 0; i < N; i++) {
			fds[i] =
			    (struct pollfd){ .fd = lp_client_fd(crowd[i].c),
				    .events = POLLIN };
			if (lp_client_want_write(crowd[i].c))
				fds[i].events |= POLLOUT;
		}
		ck_assert_int_gt(
		    poll(fds, N, (int)(HARNESS_WAIT_SECONDS * 1000)), 0);
		for (int i = 0; i < N; i++) {
			struct lp_error err;

			if (fds[i].revents != 0)
				lp_client_process(crowd[i].c, &err);
			ck_assert_msg(crowd[i].step != FAILED,
			    "member %d failed", i);
			n += crowd[i].step == FINISHED;
		}
		finished = n;
	}
	watcher = daemon_connect(&d);
	ck_assert_int_eq(stats_int(watcher, "pools.cpu.counters.granted"), N);
	ck_assert_int_eq(stats_int(watcher, "pools.cpu.counters.completed"), N);
	for (int i = 0; i < N; i++)
		lp_client_free(crowd[i].c);
	ck_assert(wait_stats(watcher, "connections", 1));
	ck_assert_int_eq(stats_int(watcher, "pools.cpu.executors.leased"), 0);
	lp_args_free(crowd_args);
	lp_client_free(watcher);
}
END_TEST

/* Clients vanish while waiting, running and submitting: nothing they held stays held. */
START_TEST(vanishing_clients_leak_nothing)
{
	enum {
		N = 40
	};
	struct lp_client *clients[N], *watcher = daemon_connect(&d);
	struct lp_args *slow = one_number(0.3);
	struct lp_error err;

	for (int i = 0; i < N; i++) {
		struct lp_client *c = clients[i] = daemon_connect(&d);
		struct lp_lease lease;

		if (i < 2) {
			ck_assert(lp_acquire(c, NULL, &lease, &err) == LP_OK);
			ck_assert(lp_run_async(c, lease.id, "sleep", slow, NULL,
				      NULL, &err) == LP_OK);
		} else if (i % 2 == 0) {
			ck_assert(lp_call_async(c, "acquire", NULL, 0, NULL,
				      NULL, &err) == LP_OK);
		} else {
			ck_assert(lp_submit_async(c, NULL, "sleep", slow, NULL,
				      NULL, &err) == LP_OK);
		}
		ck_assert(lp_client_process(c, &err) == LP_OK);
	}
	ck_assert(wait_stats(watcher, "connections", N + 1));
	for (int i = 0; i < N; i++)
		lp_client_free(clients[i]);
	ck_assert(wait_stats(watcher, "connections", 1));
	ck_assert(wait_stats(watcher, "runs_in_flight", 0));
	ck_assert(wait_stats(watcher, "pools.cpu.executors.leased", 0));
	ck_assert_int_eq(stats_int(watcher, "pools.cpu.waiting"), 0);
	ck_assert_int_eq(stats_int(watcher, "pools.cpu.grinder.queue"), 0);
	lp_args_free(slow);
	lp_client_free(watcher);
}
END_TEST

/* ---- workers killed under load ---- */

/* The pids of the first lease's workers, from stats. */
static unsigned
worker_pids(struct lp_client *c, pid_t *pids, unsigned max)
{
	const msgpack_object *leases;
	struct lp_value *v;
	struct lp_error err;
	unsigned n = 0;

	ck_assert(lp_stats(c, NULL, &v, &err) == LP_OK);
	leases =
	    lp_map_get(lp_map_get(lp_value_get(v, "pools"), "cpu"), "leases");
	if (leases->via.array.size > 0) {
		const msgpack_object *w =
		    lp_map_get(&leases->via.array.ptr[0], "workers");

		for (uint32_t i = 0; i < w->via.array.size && n < max; i++)
			pids[n++] = (pid_t)w->via.array.ptr[i].via.i64;
	}
	lp_value_free(v);
	return n;
}

struct full_size {
	struct lp_client *c;
	unsigned want;
};

static bool
has_a_worker(void *arg)
{
	pid_t pids[8];

	return worker_pids(arg, pids, 8) > 0;
}

static bool
back_to_full_size(void *arg)
{
	struct full_size *f = arg;
	pid_t pids[8];

	return worker_pids(f->c, pids, 8) == f->want;
}

/* A random worker of the cpu pool's lease dies. */
static void
kill_a_worker(struct lp_client *watcher, unsigned *seed)
{
	pid_t pids[8];
	unsigned n;

	/* Between a death and its replacement the lease may show no worker: wait for one. */
	ck_assert(wait_until(has_a_worker, watcher));
	n = worker_pids(watcher, pids, 8);
	kill(pids[rand_r(seed) % n], SIGKILL);
}

/*
 * RUNS runs of 2 ms of CPU on one lease of two workers, and kills, spread
 * evenly over the answers: a worker each, or first the fork server (so that
 * the replacements come from its successor).  Every run must be answered
 * exactly once, and only the run a worker died in may fail.
 */
static void
runs_survive_kills(int kills, bool fork_server_first)
{
	enum {
		RUNS = 300
	};
	struct lp_client *c = daemon_connect(&d), *watcher = daemon_connect(&d);
	static struct outcome answers[RUNS];
	struct lp_args *work = lp_args_new();
	struct lp_lease lease;
	struct lp_error err;
	int answered = 0, done = 0, ok = 0, crashed = 0;
	unsigned seed = 7;

	memset(answers, 0, sizeof answers);
	ck_assert(lp_acquire(c, NULL, &lease, &err) == LP_OK);
	lp_args_int(work, 2000);
	for (int i = 0; i < RUNS; i++)
		ck_assert(lp_run_async(c, lease.id, "spin", work, record,
			      &answers[i], &err) == LP_OK);
	while (answered < RUNS) {
		struct pollfd p = { .fd = lp_client_fd(c), .events = POLLIN };

		if (lp_client_want_write(c))
			p.events |= POLLOUT;
		ck_assert_int_ge(
		    poll(&p, 1, (int)(HARNESS_WAIT_SECONDS * 1000)), 1);
		ck_assert(lp_client_process(c, &err) == LP_OK);
		answered = 0;
		for (int i = 0; i < RUNS; i++)
			answered += answers[i].done > 0;
		if (done < kills &&
		    answered >= (done + 1) * RUNS / (kills + 2)) {
			if (done == 0 && fork_server_first)
				kill_fork_server(&d);
			else
				kill_a_worker(watcher, &seed);
			done++;
		}
	}
	for (int i = 0; i < RUNS; i++) {
		ck_assert_int_eq(answers[i].done, 1);
		ck_assert_msg(answers[i].code == LP_OK ||
			answers[i].code == LP_ERR_WORKER_CRASHED,
		    "run %d: %s", i, lp_err_name(answers[i].code));
		ok += answers[i].code == LP_OK;
		crashed += answers[i].code == LP_ERR_WORKER_CRASHED;
	}
	ck_assert_int_eq(done, kills);
	ck_assert_int_eq(ok + crashed, RUNS);
	/* Only the run a worker died in fails: those queued at it run elsewhere. */
	ck_assert_int_le(crashed, kills - fork_server_first);
	ck_assert_int_eq(stats_int(watcher, "pools.cpu.counters.completed"),
	    ok);
	ck_assert_int_eq(stats_int(watcher, "pools.cpu.counters.crashed"),
	    crashed);
	/* The executor is whole again. */
	ck_assert(
	    wait_until(back_to_full_size, &(struct full_size){ watcher, 2 }));
	ck_assert(lp_release(c, lease.id, &err) == LP_OK);
	ck_assert(wait_stats(watcher, "pools.cpu.executors.leased", 0));
	lp_args_free(work);
	lp_client_free(c);
	lp_client_free(watcher);
}

START_TEST(killed_workers_lose_no_run)
{
	runs_survive_kills(5, false);
}
END_TEST

START_TEST(killed_fork_server_loses_no_run)
{
	runs_survive_kills(3, true);
}
END_TEST

/* ---- leases that outlast their welcome (issue 30) ---- */

/* The only lease of pool cpu in stats is draining, and shows who acquired it. */
static void
assert_one_draining_lease_of_mine(struct lp_client *c)
{
	const msgpack_object *leases, *l;
	struct lp_value *v;
	struct lp_error err;

	ck_assert(lp_stats(c, NULL, &v, &err) == LP_OK);
	leases =
	    lp_map_get(lp_map_get(lp_value_get(v, "pools"), "cpu"), "leases");
	ck_assert_uint_eq(leases->via.array.size, 1);
	l = &leases->via.array.ptr[0];
	ck_assert(lp_obj_is_str(lp_map_get(l, "state"), "draining"));
	ck_assert_int_eq(lp_map_get(l, "uid")->via.i64, getuid());
	ck_assert_int_eq(lp_map_get(l, "pid")->via.i64, getpid());
	lp_value_free(v);
}

/*
 * A released lease whose run is still in flight keeps its executor: it
 * counts against max_leases_per_client until the run ends (it did not,
 * and stats showed it with uid -1).
 */
START_TEST(draining_leases_count_until_their_runs_end)
{
	struct lp_client *c = daemon_connect(&d);
	struct outcome slept = { 0 };
	struct lp_lease lease;
	struct lp_error err;
	pid_t worker;

	ck_assert(lp_acquire(c, NULL, &lease, &err) == LP_OK);
	sleep_async(c, lease.id, NULL, 60, 60, record, &slept);
	ck_assert(lp_release(c, lease.id, &err) == LP_OK);
	ck_assert_int_eq(slept.done, 0);
	ck_assert_int_eq(lp_acquire(c, NULL, &lease, &err),
	    LP_ERR_LIMIT_EXCEEDED);
	ck_assert_ptr_nonnull(strstr(err.message, "max_leases_per_client"));
	assert_one_draining_lease_of_mine(c);
	/* The run ends (its worker killed: no waiting out the sleep), and so does the claim. */
	ck_assert_uint_eq(worker_pids(c, &worker, 1), 1);
	ck_assert_int_eq(kill(worker, SIGKILL), 0);
	ck_assert(lp_client_wait_all(c, &err) == LP_OK);
	ck_assert_int_eq(slept.code, LP_ERR_WORKER_CRASHED);
	ck_assert(lp_acquire(c, NULL, &lease, &err) == LP_OK);
	lp_client_free(c);
}
END_TEST

/*
 * A client asks for the terms it likes up to max_lease_seconds; beyond it,
 * it is granted the cap, and told so (a renew to 1,000,000 s was granted).
 */
START_TEST(lease_terms_are_capped)
{
	struct lp_client *c = daemon_connect(&d);
	struct lp_acquire_opts forever = { .lease_seconds = 1e6 };
	struct lp_lease lease;
	struct lp_error err;
	double granted;

	ck_assert(lp_acquire(c, &forever, &lease, &err) == LP_OK);
	/* soft expiry minus acquired: the clock's rounding, not a shorter term */
	ck_assert_double_eq_tol(lease.lease_seconds, 100, 1e-6);
	ck_assert(lp_renew(c, lease.id, 1e6, &granted, &err) == LP_OK);
	ck_assert_double_eq(granted, 100);
	ck_assert(lp_renew(c, lease.id, 30, &granted, &err) == LP_OK);
	ck_assert_double_eq(granted, 30);
	lp_client_free(c);
}
END_TEST

/*
 * A reload that takes the pool from the user ends what that user holds in
 * it: a waiting acquire at once, a held lease at its next run or renew,
 * both PERMISSION_DENIED; a run already in flight finishes (the user kept
 * running and renewing on the leases held).
 */
START_TEST(a_reload_that_lets_a_user_out_ends_its_leases)
{
	struct lp_client *c = daemon_connect(&d), *w = daemon_connect(&d);
	struct outcome slept = { 0 }, waited = { 0 };
	struct lp_args *a = one_number(1);
	struct lp_lease running, idle;
	char config[256];
	struct lp_value *v;
	struct lp_error err;

	ck_assert(lp_acquire(c, NULL, &running, &err) == LP_OK);
	ck_assert(lp_acquire(c, NULL, &idle, &err) == LP_OK);
	sleep_async(c, running.id, NULL, 1, 60, record, &slept);
	acquire_async(w, HARNESS_WAIT_SECONDS, record, &waited);
	ck_assert(wait_stats(c, "pools.cpu.waiting", 1));
	snprintf(config, sizeof config, ADMITTING, 4000000u);
	daemon_reload(&d, config);

	ck_assert(lp_client_wait_all(w, &err) == LP_OK);
	ck_assert_int_eq(waited.code, LP_ERR_PERMISSION_DENIED);
	ck_assert_int_eq(lp_run(c, idle.id, "echo", a, &v, &err),
	    LP_ERR_PERMISSION_DENIED);
	ck_assert_ptr_nonnull(strstr(err.message, "'cpu'"));
	ck_assert_int_eq(stats_int(c, "pools.cpu.executors.leased"), 1);
	ck_assert_int_eq(lp_renew(c, running.id, 0, NULL, &err),
	    LP_ERR_PERMISSION_DENIED);
	/* Released by the refusals: their ids are unknown from then on. */
	ck_assert_int_eq(lp_renew(c, idle.id, 0, NULL, &err),
	    LP_ERR_NO_SUCH_LEASE);
	ck_assert_int_eq(lp_run(c, running.id, "echo", a, &v, &err),
	    LP_ERR_NO_SUCH_LEASE);
	ck_assert(lp_client_wait_all(c, &err) == LP_OK);
	ck_assert_int_eq(slept.code, LP_OK);
	ck_assert(wait_stats(c, "pools.cpu.executors.leased", 0));
	ck_assert(daemon_log_contains(&d, "refused pool cpu"));
	lp_args_free(a);
	lp_client_free(c);
	lp_client_free(w);
}
END_TEST

/* ---- a descriptor table full of clients ---- */

enum {
	NOFILE = 64,
	CROWD = 80
};

static void
start_short_of_descriptors(void)
{
	daemon_start_nofile(&d,
	    "[pool cpu]\nexecutors_min = 1\nexecutors_max = 3\nworkers = 2\n"
	    "[pool io]\nbackend = thread\nexecutors_min = 0\nexecutors_max = 1\nworkers = 1\n"
	    "[pool recycled]\nexecutors_max = 1\nworkers = 1\nmax_jobs_per_worker = 1\n",
	    NOFILE);
}

static void
assert_echo(struct lp_client *c, uint64_t lease)
{
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	struct lp_error err;

	lp_args_int(a, 7);
	ck_assert_msg(lp_run(c, lease, "echo", a, &v, &err) == LP_OK,
	    "echo: %s", err.message);
	ck_assert_int_eq(lp_value_int(v), 7);
	lp_value_free(v);
	lp_args_free(a);
}

/* Clients enough to take every descriptor the daemon has: it pauses accepting. */
static void
crowd_in(int *crowd)
{
	for (int i = 0; i < CROWD; i++)
		ck_assert_int_ge(crowd[i] = raw_connect(&d), 0);
	daemon_wait_log(&d,
	    "accept: Too many open files (EMFILE; RLIMIT_NOFILE ");
}

static void
crowd_out(int *crowd)
{
	for (int i = 0; i < CROWD; i++)
		close(crowd[i]);
}

struct replacement {
	struct lp_client *c;
	pid_t killed;
};

static bool
replaced(void *arg)
{
	struct replacement *r = arg;
	pid_t pids[8];
	unsigned n = worker_pids(r->c, pids, 8);

	return n == 2 && pids[0] != r->killed && pids[1] != r->killed;
}

/* One of the lease's two workers is killed; its replacement starts. */
static void
kill_and_replace_a_worker(struct lp_client *c)
{
	pid_t pids[8];

	ck_assert_uint_eq(worker_pids(c, pids, 8), 2);
	kill(pids[0], SIGKILL);
	ck_assert_msg(wait_until(replaced, &(struct replacement){ c, pids[0] }),
	    "worker %d was not replaced; see %s", (int)pids[0], d.log);
}

/*
 * Clients take every descriptor under RLIMIT_NOFILE: the daemon says so
 * once, keeps what a worker's start needs (a killed worker is replaced, the
 * first thread executor and a second process executor start), names EMFILE
 * when a recycled worker's successor or a third executor finds no room,
 * counts none of it as a crash, and recovers once the clients go.
 */
START_TEST(a_full_descriptor_table_is_named_and_survived)
{
	struct lp_client *c = daemon_connect(&d), *waiter = daemon_connect(&d);
	struct outcome third = { 0 };
	struct lp_lease a, b, threads, recycled, fresh;
	struct lp_error err;
	int crowd[CROWD];

	ck_assert(lp_acquire(c, NULL, &a, &err) == LP_OK);
	crowd_in(crowd);

	/* The descriptors a worker's start needs were kept from the clients. */
	kill_and_replace_a_worker(c);
	assert_echo(c, a.id);
	ck_assert(lp_acquire(c, &(struct lp_acquire_opts){ .pool = "io" },
		      &threads, &err) == LP_OK);
	assert_echo(c, threads.id);
	ck_assert(lp_acquire(c, NULL, &b, &err) == LP_OK);
	assert_echo(c, b.id);

	/* A worker due for recycling whose successor finds no room carries on. */
	ck_assert(lp_acquire(c, &(struct lp_acquire_opts){ .pool = "recycled" },
		      &recycled, &err) == LP_OK);
	assert_echo(c, recycled.id);
	daemon_wait_log(&d,
	    "pool recycled: a successor worker failed to start "
	    "(Too many open files (EMFILE; RLIMIT_NOFILE ");
	assert_echo(c, recycled.id);

	/* A third executor's workers find no room left: named, not a crash loop. */
	ck_assert(lp_call_async(waiter, "acquire", NULL, 0, record, &third,
		      &err) == LP_OK);
	while (lp_client_want_write(waiter))
		ck_assert(lp_client_process(waiter, &err) == LP_OK);
	daemon_wait_log(&d,
	    "pool cpu: no descriptor left in the daemon for a new "
	    "worker's channel: Too many open files (EMFILE; RLIMIT_NOFILE ");
	ck_assert(
	    daemon_log_contains(&d, "); not a crash: starting it again in "));
	ck_assert_int_eq(third.done, 0);
	ck_assert(!daemon_log_contains(&d, "CRASH LOOP"));
	ck_assert(!daemon_log_contains(&d, "malformed"));
	/* One line for the whole pause, not one per retry. */
	ck_assert_uint_eq(daemon_log_count(&d, "accept: "), 1);

	crowd_out(crowd);
	wait_outcome(waiter, &third);
	ck_assert_msg(third.code == LP_OK, "third acquire: %s", third.message);
	daemon_wait_log(&d, "accepting connections again after ");
	ck_assert(daemon_log_contains(&d, "pool cpu: workers start again; "));
	ck_assert(!daemon_log_contains(&d, "CRASH LOOP"));

	/* The third executor, its workers started after the crowd left, runs jobs. */
	lp_client_free(waiter);
	ck_assert(lp_acquire(c, NULL, &fresh, &err) == LP_OK);
	assert_echo(c, fresh.id);
	ck_assert_uint_eq(daemon_log_count(&d, "accept: "), 1);
	lp_client_free(c);
}
END_TEST

/* A new fork server's channel comes out of the reserve too. */
START_TEST(a_fork_server_restarts_in_a_full_descriptor_table)
{
	struct lp_client *c = daemon_connect(&d);
	struct lp_lease a;
	struct lp_error err;
	int crowd[CROWD];

	ck_assert(lp_acquire(c, NULL, &a, &err) == LP_OK);
	crowd_in(crowd);
	kill_fork_server(&d);
	kill_and_replace_a_worker(c);
	assert_echo(c, a.id);
	crowd_out(crowd);
	lp_client_free(c);
}
END_TEST

/* ---- one user's share: buffered bytes and connections ---- */

/*
 * One user's buffered bytes are bounded: 1M here, while a request may be
 * 4M.  The socket lets in every user, so that a test run as root can act as
 * a second user too: nobody, in a child.
 */
#define BUDGET_KIB 1024L
#define NOBODY 65534

#define BUDGET_CONFIG \
	"[daemon]\nmax_user_buffer_bytes = %s\nsocket_mode = 0666\n" \
	"[pool cpu]\nexecutors_max = 1\nworkers = 1\n"

static void
start_budget(void)
{
	start_with(BUDGET_CONFIG, "1M");
	daemon_open_to_others(&d);
}

static void
start_three_per_user(void)
{
	start_with(
	    "[daemon]\nmax_connections_per_user = 3\nsocket_mode = 0666\n"
	    "[pool cpu]\nexecutors_max = 1\nworkers = 1\n");
	daemon_open_to_others(&d);
}

/*
 * The attack of issue 30: connections that each send all but the last
 * bytes of one request as large as max_message_bytes, and never the rest.
 */
#define ATTACKERS 32
#define ATTACK_BYTES (4u << 20)

struct attack {
	int fd[ATTACKERS];
	size_t sent[ATTACKERS];
	char *request;
	int finisher; /* the one the daemon reads to the end of its request */
	unsigned closed; /* "closed by the client" lines in the log before */
};

/* A submit of echo whose argument fills the message to bytes. */
static char *
submit_of(size_t bytes)
{
	static const char head[] =
	    "\x94\x00\xce\x00\x00\x00\x01\xa6submit"
	    "\x91\x82\xa2"
	    "fn\xa4"
	    "echo\xa4"
	    "args\x91\xc6";
	size_t len = sizeof head - 1, body = bytes - len - 4;
	char *buf = calloc(1, bytes);

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, head, len);
	for (int i = 0; i < 4; i++)
		buf[len + i] = (char)(body >> (24 - 8 * i));
	return buf;
}

static void
attack_start(struct attack *a)
{
	a->request = submit_of(ATTACK_BYTES);
	for (int i = 0; i < ATTACKERS; i++) {
		ck_assert_int_ge(a->fd[i] = raw_connect(&d), 0);
		a->sent[i] = 0;
	}
}

/* Sends what the daemon takes of buf's len bytes, of which sent went already. */
static void
send_what_fits(int fd, const char *buf, size_t len, size_t *sent)
{
	while (*sent < len) {
		ssize_t n = send(fd, buf + *sent, len - *sent,
		    MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n == -1 && errno == EAGAIN)
			break;
		ck_assert_msg(n > 0, "fd %d: %s", fd, strerror(errno));
		*sent += (size_t)n;
	}
}

/* Sends what the daemon takes, short of each request's last 10 bytes. */
static void
attack_push(struct attack *a)
{
	for (int i = 0; i < ATTACKERS; i++)
		send_what_fits(a->fd[i], a->request, ATTACK_BYTES - 10,
		    &a->sent[i]);
}

static bool
attackers_wait(void *arg)
{
	attack_push(arg);
	return daemon_log_contains(&d, "its connections wait");
}

/* Starts the attack and waits until the daemon stops reading it. */
static void
attack_until_paused(struct attack *a)
{
	attack_start(a);
	ck_assert_msg(wait_until(attackers_wait, a),
	    "the daemon never stopped reading the attacker");
	attack_push(a);
}

static bool
finisher_found(void *arg)
{
	struct attack *a = arg;

	attack_push(a);
	for (a->finisher = 0; a->finisher < ATTACKERS; a->finisher++)
		if (a->sent[a->finisher] == ATTACK_BYTES - 10)
			return true;
	return false;
}

/* Every attacker but the finisher goes: the daemon sees them go, though it does not read them. */
static bool
others_closed(void *arg)
{
	const struct attack *a = arg;

	return daemon_log_count(&d, "disconnected: closed by the client") >=
	    a->closed + ATTACKERS - 1;
}

static void
attack_close_others(struct attack *a)
{
	a->closed = daemon_log_count(&d, "disconnected: closed by the client");
	for (int i = 0; i < ATTACKERS; i++) {
		if (i != a->finisher) {
			close(a->fd[i]);
			a->fd[i] = -1;
		}
	}
	ck_assert_msg(wait_until(others_closed, a),
	    "the daemon did not see waiting clients hang up");
}

/* Waiting is not being closed: no attacker was answered or hung up on. */
static void
attack_check_open(const struct attack *a)
{
	for (int i = 0; i < ATTACKERS; i++) {
		struct pollfd p = { .fd = a->fd[i], .events = POLLIN };

		ck_assert_msg(poll(&p, 1, 0) == 0,
		    "attacker %d was answered or closed", i);
	}
}

static void
attack_end(struct attack *a)
{
	for (int i = 0; i < ATTACKERS; i++)
		if (a->fd[i] != -1)
			close(a->fd[i]);
	free(a->request);
}

/* The daemon's RSS once it served a run, to compare with under the attack. */
static long
warm_rss(struct lp_client *c)
{
	struct lp_args *a = one_number(1);
	struct lp_value *v;
	struct lp_error err;

	ck_assert(lp_submit(c, "cpu", "echo", a, &v, &err) == LP_OK);
	lp_value_free(v);
	lp_args_free(a);
	return proc_status_kib(d.pid, "VmRSS");
}

/*
 * Memcheck holds freed blocks back from reuse, up to its --freelist-vol
 * (20 MB by default), so a buffer grown by realloc leaves its smaller
 * copies in the RSS.
 */
#define VALGRIND_FREELIST_KIB (20000000L / 1024)

/* It holds the budget, one request a connection may finish, and some slack. */
static void
check_rss_bounded(long base_kib, size_t sent)
{
	long grown = proc_status_kib(d.pid, "VmRSS") - base_kib;
	long slack = 6 * 1024 + (daemon_wrapped() ? VALGRIND_FREELIST_KIB : 0);

	ck_assert_msg(grown < BUDGET_KIB + ATTACK_BYTES / 1024 + slack,
	    "the daemon grew by %ld KiB under requests of %zu KiB", grown,
	    sent / 1024);
}

static uint64_t
own_client_id(struct lp_client *c)
{
	const msgpack_object *clients;
	struct lp_value *v;
	struct lp_error err;
	uint64_t id;

	ck_assert(lp_stats(c, NULL, &v, &err) == LP_OK);
	clients = lp_value_get(v, "clients");
	ck_assert_int_eq(clients->via.array.size, 1);
	id = lp_map_get(&clients->via.array.ptr[0], "id")->via.u64;
	lp_value_free(v);
	return id;
}

/* A request of ours in flight, and the id of our connection for the log. */
struct request_in_flight {
	struct lp_client *c;
	uint64_t id;
	struct outcome o;
};

static bool
pending_answered(void *arg)
{
	struct request_in_flight *p = arg;
	struct lp_error err;

	lp_client_process(p->c, &err);
	return p->o.done > 0;
}

static bool
pending_waits(void *arg)
{
	struct request_in_flight *p = arg;
	char line[128];

	snprintf(line, sizeof line, "client %llu (pid %d, uid %u) waits",
	    (unsigned long long)p->id, (int)getpid(), (unsigned)getuid());
	return !pending_answered(p) && daemon_log_contains(&d, line);
}

START_TEST(a_user_past_its_buffer_budget_waits)
{
	struct request_in_flight p = { .c = daemon_connect(&d) };
	struct lp_args *a = one_number(7);
	struct attack at;
	struct lp_error err;
	long base = warm_rss(p.c);

	p.id = own_client_id(p.c);
	attack_until_paused(&at);
	check_rss_bounded(base, ATTACKERS * (size_t)ATTACK_BYTES);
	attack_check_open(&at);
	/* The same user's next request waits for the attack's bytes too... */
	ck_assert(lp_submit_async(p.c, "cpu", "echo", a, record, &p.o, &err) ==
	    LP_OK);
	ck_assert(wait_until(pending_waits, &p));
	/* One attacker may finish its request: the daemon reads all it sends. */
	ck_assert(wait_until(finisher_found, &at));
	check_rss_bounded(base, ATTACKERS * (size_t)ATTACK_BYTES);
	attack_check_open(&at);
	/* The others hang up while they wait; that one alone still spends the budget... */
	attack_close_others(&at);
	ck_assert(!pending_answered(&p));
	/* ...until it goes too. */
	attack_end(&at);
	ck_assert(wait_until(pending_answered, &p));
	ck_assert_int_eq(p.o.code, LP_OK);
	lp_args_free(a);
	lp_client_free(p.c);
}
END_TEST

START_TEST(a_raised_budget_applies_at_once)
{
	struct request_in_flight p = { .c = daemon_connect(&d) };
	struct lp_args *a = one_number(7);
	char config[256];
	struct attack at;
	struct lp_error err;

	p.id = own_client_id(p.c);
	attack_until_paused(&at);
	ck_assert(lp_submit_async(p.c, "cpu", "echo", a, record, &p.o, &err) ==
	    LP_OK);
	ck_assert(wait_until(pending_waits, &p));
	snprintf(config, sizeof config, BUDGET_CONFIG, "64M");
	daemon_reload(&d, config);
	ck_assert(wait_until(pending_answered, &p));
	ck_assert_int_eq(p.o.code, LP_OK);
	attack_check_open(&at);
	attack_end(&at);
	lp_args_free(a);
	lp_client_free(p.c);
}
END_TEST

/*
 * One connection pipelines submissions as one stream, whose reads mostly
 * end mid-message, while the only executor is leased: what the daemon reads
 * of it stays buffered.  Finishing the message a read cut is no right to
 * read the next ones past the budget.
 */
#define PIPELINED 640
#define PIPELINED_BYTES 100000u

struct pipeline {
	int fd;
	char *stream;
	size_t len, sent;
};

static void
pipeline_start(struct pipeline *p)
{
	char *request = submit_of(PIPELINED_BYTES);

	/* It ends half way through one more, as a pipeline cut anywhere does. */
	p->len = PIPELINED * PIPELINED_BYTES + PIPELINED_BYTES / 2;
	ck_assert_ptr_nonnull(p->stream = malloc(p->len));
	for (size_t at = 0; at < p->len; at += PIPELINED_BYTES)
		memcpy(p->stream + at, request,
		    p->len - at < PIPELINED_BYTES ? p->len - at :
						    PIPELINED_BYTES);
	free(request);
	ck_assert_int_ge(p->fd = raw_connect(&d), 0);
	p->sent = 0;
}

static bool
pipeline_sent_or_waits(void *arg)
{
	struct pipeline *p = arg;

	send_what_fits(p->fd, p->stream, p->len, &p->sent);
	return p->sent == p->len ||
	    daemon_log_contains(&d, "its connections wait");
}

START_TEST(a_pipelining_client_past_its_budget_waits)
{
	struct lp_client *c = daemon_connect(&d);
	long base = warm_rss(c);
	struct pipeline p;
	struct lp_lease lease;
	struct lp_error err;

	ck_assert(lp_acquire(c, NULL, &lease, &err) == LP_OK);
	pipeline_start(&p);
	ck_assert(wait_until(pipeline_sent_or_waits, &p));
	check_rss_bounded(base, p.sent);
	close(p.fd);
	free(p.stream);
	lp_client_free(c);
}
END_TEST

/* Runs body in a child as nobody; returns its wait status once it ended. */
static int
as_nobody(int (*body)(void))
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 ||
		    setresgid(NOBODY, NOBODY, NOBODY) == -1 ||
		    setresuid(NOBODY, NOBODY, NOBODY) == -1)
			_exit(100);
		_exit(body());
	}
	if (!wait_exit(pid, &status)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ck_abort_msg("the other user's client never finished");
	}
	return status;
}

/* Another user's request, of half the budget, is echoed whole. */
static int
echo_half_the_budget(void)
{
	size_t len = BUDGET_KIB * 512, got;
	char *text = malloc(len + 1);
	struct lp_args *a = lp_args_new();
	struct lp_client *c;
	struct lp_value *v;
	struct lp_error err;

	if (text == NULL || (c = lp_connect(d.socket, &err)) == NULL)
		return 1;
	memset(text, 'x', len);
	text[len] = '\0';
	lp_args_str(a, text);
	if (lp_submit(c, "cpu", "echo", a, &v, &err) != LP_OK)
		return 2;
	return lp_value_str(v, &got) != NULL && got == len ? 0 : 3;
}

START_TEST(another_user_is_served_past_ones_budget)
{
	struct lp_client *c = daemon_connect(&d);
	long base = warm_rss(c);
	struct attack at;

	attack_until_paused(&at);
	ck_assert_int_eq(as_nobody(echo_half_the_budget), 0);
	check_rss_bounded(base, ATTACKERS * (size_t)ATTACK_BYTES);
	attack_check_open(&at);
	attack_end(&at);
	lp_client_free(c);
}
END_TEST

/* Our user holds its 3 connections: a fourth is refused, and says why. */
static void
fill_connections(struct lp_client *c[3])
{
	char buf[512];
	size_t len = 0;
	ssize_t n;
	int fd;

	for (int i = 0; i < 3; i++)
		c[i] = daemon_connect(&d);
	ck_assert_int_ge(fd = raw_connect(&d), 0);
	do {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		ck_assert_msg(poll(&p, 1, (int)(HARNESS_WAIT_SECONDS * 1000)) ==
			1,
		    "a fourth connection was neither refused nor closed");
		n = read(fd, buf + len, sizeof buf - len);
		len += n > 0 ? (size_t)n : 0;
	} while (n > 0 && len < sizeof buf);
	close(fd);
	ck_assert(memmem(buf, len, "max_connections_per_user", 24) != NULL);
	ck_assert(daemon_log_contains(&d,
	    "that user has 3 connections (max_connections_per_user)"));
}

START_TEST(connections_per_user_are_bounded)
{
	struct lp_client *c[3];

	fill_connections(c);
	/* One goes: another may come. */
	lp_client_free(c[2]);
	ck_assert(wait_stats(c[0], "connections", 2));
	c[2] = daemon_connect(&d);
	ck_assert(wait_stats(c[2], "connections", 3));
	for (int i = 0; i < 3; i++)
		lp_client_free(c[i]);
}
END_TEST

static int
ask_stats(void)
{
	struct lp_client *c;
	struct lp_value *v;
	struct lp_error err;

	if ((c = lp_connect(d.socket, &err)) == NULL)
		return 1;
	return lp_stats(c, NULL, &v, &err) == LP_OK ? 0 : 2;
}

START_TEST(another_user_connects_past_ones_limit)
{
	struct lp_client *c[3];

	fill_connections(c);
	ck_assert_int_eq(as_nobody(ask_stats), 0);
	for (int i = 0; i < 3; i++)
		lp_client_free(c[i]);
}
END_TEST

/* ---- what stats and hello show to whom (issue 30) ---- */

/* nobody and nogroup, on Debian */
#define OTHER_UID 65534
#define OTHER_GID 65534

/* Pool cpu admits everyone, pool private only our uid; both allow exec; anyone may connect. */
static void
start_private(void)
{
	start_with(
	    "[daemon]\nsocket_mode = 0666\n"
	    "[pool cpu]\nexecutors_max = 2\nworkers = 1\nexec = yes\n"
	    "[pool private]\nexecutors_max = 1\nworkers = 1\nexec = yes\nallow_users = %u\n",
	    (unsigned)getuid());
	daemon_open_to_others(&d);
}

/* The lease of pool held by owner in a stats map; NULL when it shows none. */
static const msgpack_object *
lease_owned_by(const msgpack_object *stats, const char *pool, const char *owner)
{
	char path[64];
	const msgpack_object *leases;

	snprintf(path, sizeof path, "pools.%s.leases", pool);
	ck_assert_ptr_nonnull(leases = object_at(stats, path));
	for (uint32_t i = 0; i < leases->via.array.size; i++) {
		const msgpack_object *o =
		    lp_map_get(&leases->via.array.ptr[i], "owner");

		if (o != NULL && lp_obj_is_str(o, owner))
			return &leases->via.array.ptr[i];
	}
	return NULL;
}

/* The client named name in a stats map; NULL when it shows none. */
static const msgpack_object *
client_named(const msgpack_object *stats, const char *name)
{
	const msgpack_object *clients = lp_map_get(stats, "clients");

	ck_assert_ptr_nonnull(clients);
	for (uint32_t i = 0; i < clients->via.array.size; i++)
		if (lp_obj_is_str(
			lp_map_get(&clients->via.array.ptr[i], "name"), name))
			return &clients->via.array.ptr[i];
	return NULL;
}

/* The names of a hello answer's list, e.g. "cpu private". */
static const char *
names_of(const msgpack_object *hello, const char *key)
{
	static char names[256];
	const msgpack_object *list = lp_map_get(hello, key);
	size_t used = 0;

	ck_assert_ptr_nonnull(list);
	names[0] = '\0';
	for (uint32_t i = 0; i < list->via.array.size; i++) {
		const msgpack_object *n = &list->via.array.ptr[i];

		used += (size_t)snprintf(names + used, sizeof names - used,
		    "%s%.*s", i > 0 ? " " : "", (int)n->via.str.size,
		    n->via.str.ptr);
		ck_assert_uint_lt(used, sizeof names);
	}
	return names;
}

/* What one user must not find anywhere in the stats another user is shown. */
struct secrets {
	const char *prefix; /* of each of their owners and client names */
	int64_t pids[8];    /* their client's, their workers' */
	unsigned npids;
	int64_t uid; /* the only uid and gid that may show */
};

static void
add_worker_pids(struct secrets *s, const msgpack_object *lease)
{
	const msgpack_object *w;

	ck_assert_ptr_nonnull(lease);
	ck_assert_ptr_nonnull(w = lp_map_get(lease, "workers"));
	for (uint32_t i = 0; i < w->via.array.size && s->npids < 8; i++)
		s->pids[s->npids++] = w->via.array.ptr[i].via.i64;
}

static void
assert_keeps(const msgpack_object *o, const struct secrets *s)
{
	size_t len = strlen(s->prefix);

	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		ck_assert_msg(o->via.str.size < len ||
			memcmp(o->via.str.ptr, s->prefix, len) != 0,
		    "another user sees '%.*s'", (int)o->via.str.size,
		    o->via.str.ptr);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		for (unsigned i = 0; i < s->npids; i++)
			ck_assert_msg(o->via.i64 != s->pids[i],
			    "another user sees pid %lld",
			    (long long)s->pids[i]);
		break;
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++)
			assert_keeps(&o->via.array.ptr[i], s);
		break;
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object_kv *kv = &o->via.map.ptr[i];

			if (lp_obj_is_str(&kv->key, "uid") ||
			    lp_obj_is_str(&kv->key, "gid"))
				ck_assert_msg(kv->val.via.i64 == s->uid,
				    "another user sees %s %lld",
				    kv->key.via.str.ptr,
				    (long long)kv->val.via.i64);
			assert_keeps(&kv->val, s);
		}
		break;
	default:
		break;
	}
}

/* As the other user: a name, a lease of pool cpu, then [hello, stats] for the test. */
static bool
look_as_another_user(struct lp_client *c, msgpack_packer *pk, void *arg,
    struct lp_error *err)
{
	struct lp_acquire_opts opts = { .owner = "theirs: a lease" };
	struct lp_value *hello, *stats = NULL;
	struct lp_lease lease;
	bool ok;

	if (lp_hello(c, "theirs: a client", &hello, err) != LP_OK)
		return false;
	ok = lp_acquire(c, &opts, &lease, err) == LP_OK &&
	    lp_stats(c, NULL, &stats, err) == LP_OK;
	if (ok) {
		msgpack_pack_array(pk, 2);
		msgpack_pack_object(pk, *lp_value_object(hello));
		msgpack_pack_object(pk, *lp_value_object(stats));
	}
	lp_value_free(hello);
	lp_value_free(stats);
	return ok;
}

static void
acquire_as(struct lp_client *c, const char *pool, const char *owner)
{
	struct lp_acquire_opts opts = { .pool = pool, .owner = owner };
	struct lp_lease lease;
	struct lp_error err;

	ck_assert_msg(lp_acquire(c, &opts, &lease, &err) == LP_OK,
	    "acquire: %s", err.message);
}

static void
hello_as(struct lp_client *c, const char *name, struct lp_value **v)
{
	struct lp_error err;

	ck_assert_msg(lp_hello(c, name, v, &err) == LP_OK, "hello: %s",
	    err.message);
}

/*
 * Root and the daemon's own user see every client and lease in full, and
 * hello lists every pool they may use.  (Run as anyone; as root, the test
 * below also shows root another user's client and lease.)
 */
START_TEST(the_daemons_user_sees_every_client_and_lease)
{
	struct lp_client *a = daemon_connect(&d), *b = daemon_connect(&d);
	const msgpack_object *l, *me;
	struct lp_value *v;
	struct lp_error err;

	hello_as(a, "mine: a client", &v);
	lp_value_free(v);
	acquire_as(a, "private", "mine: private");
	ck_assert(lp_stats(b, NULL, &v, &err) == LP_OK);
	ck_assert_int_eq(int_at(lp_value_object(v), "connections"), 2);
	ck_assert_uint_eq(lp_value_get(v, "clients")->via.array.size, 2);
	ck_assert_ptr_nonnull(
	    me = client_named(lp_value_object(v), "mine: a client"));
	ck_assert_int_eq(int_at(me, "pid"), getpid());
	ck_assert_int_eq(int_at(me, "uid"), getuid());
	ck_assert_ptr_nonnull(
	    l = lease_owned_by(lp_value_object(v), "private", "mine: private"));
	ck_assert_int_eq(int_at(l, "pid"), getpid());
	ck_assert_int_eq(int_at(l, "uid"), getuid());
	ck_assert_uint_eq(lp_map_get(l, "workers")->via.array.size, 1);
	lp_value_free(v);
	hello_as(b, "mine: another", &v);
	ck_assert_str_eq(names_of(lp_value_object(v), "pools"), "cpu private");
	ck_assert_str_eq(names_of(lp_value_object(v), "exec_pools"),
	    "cpu private");
	lp_value_free(v);
	lp_client_free(a);
	lp_client_free(b);
}
END_TEST

/*
 * Another user sees its own client and lease in full and ours only as
 * counts: no owner, client name, pid, uid or worker pid of ours, not even
 * of a pool it may use; hello lists only the pools it may use.  We, root,
 * still see all of theirs.  (Every client saw everything.)
 */
START_TEST(another_user_sees_its_own_and_counts_of_the_rest)
{
	struct lp_client *c = daemon_connect(&d);
	struct secrets mine = { .prefix = "mine:", .uid = OTHER_UID };
	const msgpack_object *hello, *stats, *l, *theirs;
	struct other_user o;
	struct lp_value *v;
	struct lp_error err;

	hello_as(c, "mine: a client", &v);
	lp_value_free(v);
	acquire_as(c, "private", "mine: private");
	acquire_as(c, "cpu", "mine: cpu");
	mine.pids[mine.npids++] = getpid();
	ck_assert(lp_stats(c, NULL, &v, &err) == LP_OK);
	add_worker_pids(&mine,
	    lease_owned_by(lp_value_object(v), "private", "mine: private"));
	add_worker_pids(&mine,
	    lease_owned_by(lp_value_object(v), "cpu", "mine: cpu"));
	lp_value_free(v);
	ck_assert_uint_eq(mine.npids, 3);

	other_user_start(&o, &d, OTHER_UID, OTHER_GID, look_as_another_user,
	    NULL);
	hello = &o.reply.data.via.array.ptr[0];
	stats = &o.reply.data.via.array.ptr[1];
	ck_assert_str_eq(names_of(hello, "pools"), "cpu");
	ck_assert_str_eq(names_of(hello, "exec_pools"), "cpu");
	/* Its own, in full. */
	ck_assert_uint_eq(lp_map_get(stats, "clients")->via.array.size, 1);
	ck_assert_ptr_nonnull(theirs = client_named(stats, "theirs: a client"));
	ck_assert_int_eq(int_at(theirs, "pid"), o.pid);
	ck_assert_ptr_nonnull(
	    l = lease_owned_by(stats, "cpu", "theirs: a lease"));
	ck_assert_int_eq(int_at(l, "pid"), o.pid);
	ck_assert_int_eq(int_at(l, "uid"), OTHER_UID);
	ck_assert_uint_eq(lp_map_get(l, "workers")->via.array.size, 1);
	/* Ours, as counts. */
	ck_assert_int_eq(int_at(stats, "connections"), 2);
	ck_assert_uint_eq(object_at(stats, "pools.cpu.leases")->via.array.size,
	    1);
	ck_assert_int_eq(int_at(stats, "pools.cpu.leases_by_state.active"), 2);
	ck_assert_int_eq(int_at(stats, "pools.private.executors.leased"), 1);
	ck_assert_int_eq(int_at(stats, "pools.private.leases_by_state.active"),
	    1);
	ck_assert_uint_eq(
	    object_at(stats, "pools.private.leases")->via.array.size, 0);
	assert_keeps(stats, &mine);

	/* Root sees theirs. */
	ck_assert(lp_stats(c, NULL, &v, &err) == LP_OK);
	ck_assert_uint_eq(lp_value_get(v, "clients")->via.array.size, 2);
	ck_assert_ptr_nonnull(
	    theirs = client_named(lp_value_object(v), "theirs: a client"));
	ck_assert_int_eq(int_at(theirs, "pid"), o.pid);
	ck_assert_int_eq(int_at(theirs, "uid"), OTHER_UID);
	ck_assert_ptr_nonnull(
	    l = lease_owned_by(lp_value_object(v), "cpu", "theirs: a lease"));
	ck_assert_int_eq(int_at(l, "uid"), OTHER_UID);
	ck_assert_uint_eq(lp_map_get(l, "workers")->via.array.size, 1);
	lp_value_free(v);
	other_user_end(&o);
	lp_client_free(c);
}
END_TEST

Suite *
shared_suite(void)
{
	Suite *s = suite_create("shared");
	TCase *tc;

	tc = integration_case(s, "access", start_access, stop_daemon);
	tcase_add_test(tc, pools_admit_only_their_users_and_groups);
	tcase_add_test(tc, stats_name_every_client);

	tc = integration_case(s, "limits", start_limits, stop_daemon);
	tcase_add_test(tc, requests_in_flight_are_bounded);
	tcase_add_test(tc, leases_per_client_are_bounded);
	tcase_add_test(tc, oversized_result_is_an_error_for_that_run);
	tcase_add_test(tc, draining_leases_count_until_their_runs_end);
	tcase_add_test(tc, lease_terms_are_capped);

	tc = integration_case(s, "privacy", start_private, stop_daemon);
	tcase_add_test(tc, the_daemons_user_sees_every_client_and_lease);

	/* Only root can be another user; to anyone else the daemon's user is the only one. */
	add_root_test(tc, another_user_sees_its_own_and_counts_of_the_rest);

	tc = integration_case(s, "reload", start_admitting_me, stop_daemon);
	tcase_add_test(tc, a_reload_that_lets_a_user_out_ends_its_leases);

	tc = integration_case(s, "kills", start_two_workers, stop_daemon);
	tcase_add_test(tc, killed_workers_lose_no_run);

	/* A new fork server is the daemon's binary exec'd again: see "reexec" in the Makefile. */
	tc = integration_case(s, "fork-server", start_two_workers, stop_daemon);
	tcase_set_tags(tc, "reexec");
	tcase_add_test(tc, killed_fork_server_loses_no_run);

	/* Under valgrind the limit is not the kernel's: see "nofile" in the Makefile. */
	tc = integration_case(s, "descriptors", start_short_of_descriptors,
	    stop_daemon);
	tcase_set_tags(tc, "nofile");
	tcase_add_test(tc, a_full_descriptor_table_is_named_and_survived);

	tc = integration_case(s, "descriptors-reexec",
	    start_short_of_descriptors, stop_daemon);
	tcase_set_tags(tc, "nofile reexec");
	tcase_add_test(tc, a_fork_server_restarts_in_a_full_descriptor_table);

	tc = integration_case(s, "crowd", start_crowded, stop_daemon);
	tcase_add_test(tc, a_thousand_connections_acquire_run_release);
	tcase_add_test(tc, vanishing_clients_leak_nothing);

	/* A second user is nobody, in a child: that needs root (as in CI). */
	tc = integration_case(s, "budget", start_budget, stop_daemon);
	tcase_add_test(tc, a_user_past_its_buffer_budget_waits);
	tcase_add_test(tc, a_raised_budget_applies_at_once);
	tcase_add_test(tc, a_pipelining_client_past_its_budget_waits);
	add_root_test(tc, another_user_is_served_past_ones_budget);

	tc = integration_case(s, "per-user", start_three_per_user, stop_daemon);
	tcase_add_test(tc, connections_per_user_are_bounded);
	add_root_test(tc, another_user_connects_past_ones_limit);
	return s;
}
