/* SPDX-License-Identifier: ISC */
/*
 * Request dispatch without a daemon (fake_server.h): requests written as
 * msgpack text, decoded as a connection decodes them, and handed to
 * dispatch() for fake connections; a real lease table and grinders, a
 * backend whose workers hold what they are handed.  What is refused, with
 * which code, and what reaches a worker with which timeout.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "daemon/jobs/jobs.h"
#include "daemon/server/dispatch.h"
#include "tests/suites.h"
#include "tests/unit/fake_server.h"
#include "tests/unit/msgpack_text.h"

/*
 * cpu runs processes and no exec; io threads, and would allow exec; run
 * allows exec; prog is to run a worker program.  Every pool has one
 * executor of one worker.
 */
#define POOL(name, backend, more) \
	"[pool " name "]\nbackend = " backend \
	"\nexecutors_min = 1\n" \
	"executors_max = 1\nworkers = 1\njob_timeout = 30\n" more
static const char pools[] =
    "[daemon]\nmax_requests_per_connection = 3\n" POOL("cpu", "process", "")
	POOL("io", "thread", "exec = yes\n")
	    POOL("run", "process", "exec = yes\n") POOL("prog", "process", "");

static struct user alice_user, bob_user;
static struct conn *alice, *bob;

/* Not marked thread-safe. */
static int
job_unsafe(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	return 0;
}

static const struct lp_job_function module_functions[] = {
	{ "unsafe", job_unsafe, 0 },
	{ NULL, NULL, 0 },
};

static struct pool *
pool_named(const char *name)
{
	struct pool *p = lease_table_pool(&server.leases, name, strlen(name));

	ck_assert_ptr_nonnull(p);
	return p;
}

static void
setup(void)
{
	fake_server_start(pools);
	jobs_add_module("t", module_functions);
	/* Its program is never started: the fake backend starts none. */
	snprintf(pool_named("prog")->cfg.worker_program,
	    sizeof pool_named("prog")->cfg.worker_program, "/bin/true");
	alice = fake_conn_new(&alice_user, 1000);
	bob = fake_conn_new(&bob_user, 1001);
}

static void
teardown(void)
{
	fake_server_stop();
	jobs_clear();
	ck_assert_uint_eq(alice_user.bytes, 0);
	ck_assert_uint_eq(bob_user.bytes, 0);
}

/* c sends method msgid with the parameters written as msgpack text (msgpack_text.h). */
static void request(struct conn *c, uint32_t msgid, const char *method,
    const char *params, ...) __attribute__((format(printf, 4, 5)));

static void
request(struct conn *c, uint32_t msgid, const char *method, const char *params,
    ...)
{
	char map[256];
	struct mt_object o;
	struct lp_request req;
	struct lp_error err;
	bool known;
	va_list ap;

	va_start(ap, params);
	vsnprintf(map, sizeof map, params, ap);
	va_end(ap);
	mt_decode(&o, "[0, %u, %s, [{%s}]]", (unsigned)msgid, method, map);
	ck_assert_msg(lp_request_decode(o.sbuf.data, o.sbuf.size, &req, &err,
			  &known) == LP_OK,
	    "%s", err.message);
	dispatch(c, &req);
	mt_free(&o);
}

/* The last answer c got to msgid, or NULL. */
static const struct fake_answer *
answer_to(const struct conn *c, uint32_t msgid)
{
	for (unsigned i = fake_answers.n; i > 0; i--)
		if (fake_answers.a[i - 1].conn == c &&
		    fake_answers.a[i - 1].msgid == msgid)
			return &fake_answers.a[i - 1];
	return NULL;
}

/* c's msgid was answered code, saying says. */
static void
check_refused(const struct conn *c, uint32_t msgid, enum lp_err code,
    const char *says)
{
	const struct fake_answer *a = answer_to(c, msgid);

	ck_assert_msg(a != NULL, "msgid %u was not answered", (unsigned)msgid);
	ck_assert_int_eq(a->code, code);
	ck_assert_msg(strstr(a->message, says) != NULL,
	    "'%s' does not say '%s'", a->message, says);
}

/* c's msgid is in flight, not refused (an earlier request with it may have been answered). */
static void
check_accepted(const struct conn *c, uint32_t msgid)
{
	const struct fake_answer *a = answer_to(c, msgid);
	const struct run *r;

	ck_assert_msg(a == NULL || a->code == LP_OK, "msgid %u was refused: %s",
	    (unsigned)msgid, a != NULL ? a->message : "");
	TAILQ_FOREACH (r, &c->runs, conn_link)
		if (r->msgid == msgid)
			return;
	ck_abort_msg("msgid %u is not in flight", (unsigned)msgid);
}

/* c acquires a lease on pool, granted at once: its id. */
static uint64_t
acquire(struct conn *c, uint32_t msgid, const char *pool)
{
	request(c, msgid, "acquire", "pool: %s", pool);
	ck_assert_ptr_nonnull(answer_to(c, msgid));
	ck_assert_int_eq(answer_to(c, msgid)->code, LP_OK);
	return TAILQ_FIRST(&c->holder.leases)->id;
}

/* c's run in flight with msgid. */
static const struct run *
run_of(const struct conn *c, uint32_t msgid)
{
	const struct run *r;

	check_accepted(c, msgid);
	TAILQ_FOREACH (r, &c->runs, conn_link)
		if (r->msgid == msgid)
			break;
	return r;
}

START_TEST(a_run_on_a_lease_not_of_this_connection_is_no_such_lease)
{
	uint64_t bobs = acquire(bob, 1, "cpu");

	request(alice, 2, "run", "lease: %llu, fn: echo",
	    (unsigned long long)bobs + 1);
	check_refused(alice, 2, LP_ERR_NO_SUCH_LEASE, "no lease");
	request(alice, 3, "run", "lease: %llu, fn: echo",
	    (unsigned long long)bobs);
	check_refused(alice, 3, LP_ERR_NO_SUCH_LEASE, "no lease");
	ck_assert_uint_eq(fake_worker(pool_named("cpu"), 0)->batches, 0);
	request(bob, 4, "run", "lease: %llu, fn: echo",
	    (unsigned long long)bobs);
	check_accepted(bob, 4);
	ck_assert_uint_eq(fake_worker(pool_named("cpu"), 0)->batches, 1);
}
END_TEST

START_TEST(a_msgid_in_flight_is_refused)
{
	uint64_t lease = acquire(alice, 1, "cpu");
	struct pool *cpu = pool_named("cpu");
	const struct engine *e = TAILQ_FIRST(&cpu->executors)->backend;

	request(alice, 2, "run", "lease: %llu, fn: echo",
	    (unsigned long long)lease);
	check_accepted(alice, 2);
	request(alice, 2, "run", "lease: %llu, fn: echo",
	    (unsigned long long)lease);
	check_refused(alice, 2, LP_ERR_INVALID_REQUEST, "msgid 2");
	ck_assert_uint_eq(alice->nruns, 1);
	ck_assert_uint_eq(e->nqueued, 0);
	/* The first is still there, for its answer. */
	ck_assert_uint_eq(fake_worker(cpu, 0)->es.batch[0]->msgid, 2);
	/* Answered, a msgid may be used again. */
	request(alice, 1, "run", "lease: %llu, fn: echo",
	    (unsigned long long)lease);
	check_accepted(alice, 1);
	/* Another connection's msgids are its own. */
	request(bob, 2, "submit", "fn: echo");
	check_accepted(bob, 2);

	/* So is an acquire that waits: the only executor of cpu is Alice's. */
	request(bob, 7, "acquire", "pool: cpu");
	ck_assert_ptr_null(answer_to(bob, 7));
	request(bob, 7, "ping", "%s", "");
	check_refused(bob, 7, LP_ERR_INVALID_REQUEST, "msgid 7");
	request(bob, 8, "ping", "%s", "");
	ck_assert_int_eq(answer_to(bob, 8)->code, LP_OK);
}
END_TEST

START_TEST(a_function_the_pool_cannot_run_is_refused)
{
	uint64_t lease;

	request(alice, 1, "submit", "pool: cpu, fn: nosuch");
	check_refused(alice, 1, LP_ERR_NO_SUCH_FUNCTION, "'nosuch'");
	/* Threads run only what is marked thread-safe; exec is not. */
	request(alice, 2, "submit", "pool: io, fn: 't.unsafe'");
	check_refused(alice, 2, LP_ERR_INVALID_ARGUMENT, "thread-safe");
	request(alice, 3, "submit", "pool: io, fn: exec");
	check_refused(alice, 3, LP_ERR_INVALID_ARGUMENT, "thread-safe");
	request(alice, 4, "submit", "pool: cpu, fn: 't.unsafe'");
	check_accepted(alice, 4);
	/* exec, where the pool does not allow it. */
	request(alice, 5, "submit", "pool: cpu, fn: exec");
	check_refused(alice, 5, LP_ERR_PERMISSION_DENIED,
	    "does not allow exec");
	/* A worker program's pool: no exec, and its program knows its functions. */
	request(alice, 6, "submit", "pool: prog, fn: exec");
	check_refused(alice, 6, LP_ERR_PERMISSION_DENIED, "worker_program");
	request(alice, 7, "submit", "pool: prog, fn: nosuch");
	check_accepted(alice, 7);
	/*
	 * Where the pool allows it: as another user only when the daemon
	 * can switch users, which this one (no privs_drop()) cannot.
	 */
	request(bob, 8, "submit", "pool: run, fn: exec");
	check_refused(bob, 8, LP_ERR_PERMISSION_DENIED, "cannot switch users");
	bob->holder.uid = geteuid();
	request(bob, 9, "submit", "pool: run, fn: exec");
	check_accepted(bob, 9);
	/* The same checks for a run on a lease. */
	lease = acquire(bob, 10, "io");
	request(bob, 11, "run", "lease: %llu, fn: 't.unsafe'",
	    (unsigned long long)lease);
	check_refused(bob, 11, LP_ERR_INVALID_ARGUMENT, "thread-safe");
}
END_TEST

/* The pool's job_timeout is the default and the ceiling of a request's timeout. */
START_TEST(a_job_timeout_is_the_smaller_of_the_pools_and_the_requests)
{
	uint64_t lease = acquire(alice, 1, "io");

	request(alice, 2, "run", "lease: %llu, fn: echo, timeout: 5",
	    (unsigned long long)lease);
	request(alice, 3, "run", "lease: %llu, fn: echo, timeout: 100",
	    (unsigned long long)lease);
	request(alice, 4, "run", "lease: %llu, fn: echo",
	    (unsigned long long)lease);
	ck_assert_double_eq(run_of(alice, 2)->timeout, 5);
	ck_assert_double_eq(run_of(alice, 3)->timeout, 30);
	ck_assert_double_eq(run_of(alice, 4)->timeout, 30);
	request(bob, 5, "submit", "pool: io, fn: echo, timeout: 5");
	request(bob, 6, "submit", "pool: io, fn: echo, timeout: 100");
	request(bob, 7, "submit", "pool: io, fn: echo");
	ck_assert_double_eq(run_of(bob, 5)->timeout, 5);
	ck_assert_double_eq(run_of(bob, 6)->timeout, 30);
	ck_assert_double_eq(run_of(bob, 7)->timeout, 30);
	/* A queued item is answered TIMEOUT at its deadline: the same bound. */
	ck_assert_double_eq(run_of(bob, 6)->deadline.when,
	    run_of(bob, 6)->accepted + 30);
}
END_TEST

START_TEST(a_connection_has_at_most_max_requests_in_flight)
{
	for (uint32_t m = 1; m <= 3; m++)
		request(alice, m, "submit", "fn: echo");
	request(alice, 4, "submit", "fn: echo");
	check_refused(alice, 4, LP_ERR_LIMIT_EXCEEDED,
	    "max_requests_per_connection");
	/* Acquires that wait count too: io's only executor is Bob's. */
	acquire(bob, 5, "io");
	request(bob, 6, "acquire", "pool: io");
	request(bob, 7, "acquire", "pool: io");
	request(bob, 8, "submit", "fn: echo");
	check_accepted(bob, 8);
	request(bob, 9, "acquire", "pool: io");
	check_refused(bob, 9, LP_ERR_LIMIT_EXCEEDED,
	    "max_requests_per_connection");
}
END_TEST

START_TEST(a_stopping_daemon_takes_no_new_work)
{
	uint64_t lease = acquire(alice, 1, "cpu");

	server.stopping = true;
	request(alice, 2, "run", "lease: %llu, fn: echo",
	    (unsigned long long)lease);
	check_refused(alice, 2, LP_ERR_STOPPING, "stopping");
	request(alice, 3, "submit", "fn: echo");
	check_refused(alice, 3, LP_ERR_STOPPING, "stopping");
	ck_assert_uint_eq(alice->nruns, 0);
}
END_TEST

Suite *
dispatch_suite(void)
{
	Suite *s = suite_create("dispatch");
	TCase *tc;

	tc = unit_case(s, "refusals", setup, teardown);
	tcase_add_test(tc,
	    a_run_on_a_lease_not_of_this_connection_is_no_such_lease);
	tcase_add_test(tc, a_msgid_in_flight_is_refused);
	tcase_add_test(tc, a_function_the_pool_cannot_run_is_refused);
	tcase_add_test(tc, a_connection_has_at_most_max_requests_in_flight);
	tcase_add_test(tc, a_stopping_daemon_takes_no_new_work);
	tc = unit_case(s, "timeouts", setup, teardown);
	tcase_add_test(tc,
	    a_job_timeout_is_the_smaller_of_the_pools_and_the_requests);
	return s;
}
