/* SPDX-License-Identifier: ISC */
/*
 * Runs without a daemon: a fake owner records what run.c hands it, so
 * that the answers, the budget, the count of runs in flight and the
 * drained callback are seen as a connection or a grinder would see them.
 */
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "daemon/core/run.h"
#include "tests/suites.h"
#include "tests/unit/msgpack_text.h"

static struct {
	unsigned results, errors, ended, ended_ok, drained;
	struct run *answered; /* the run of the last answer */
	size_t result_len;
	struct lp_error err;
	size_t charged; /* the budget of user, as the owner counts it */
} seen;

/* Whose budget the runs count against: only its address matters to run.c. */
static struct user *const user = (struct user *)&seen;

static void
fake_result(struct run *r, struct evbuffer *src, size_t len)
{
	seen.results++;
	seen.answered = r;
	seen.result_len = len;
	evbuffer_drain(src, len); /* the result is the owner's to move out */
}

static void
fake_error(struct run *r, const struct lp_error *err)
{
	seen.errors++;
	seen.answered = r;
	seen.err = *err;
}

static void
fake_ended(struct run *r, bool ok)
{
	ck_assert_ptr_eq(r, seen.answered); /* after its answer */
	seen.ended++;
	seen.ended_ok += ok;
}

static void
fake_charge(struct user *u, size_t n)
{
	ck_assert_ptr_eq(u, user);
	seen.charged += n;
}

static void
fake_uncharge(struct user *u, size_t n)
{
	ck_assert_ptr_eq(u, user);
	ck_assert_uint_ge(seen.charged, n);
	seen.charged -= n;
}

static void
fake_drained(void)
{
	seen.drained++;
}

static const struct run_owner fake_owner = {
	.result = fake_result,
	.error = fake_error,
	.ended = fake_ended,
	.charge = fake_charge,
	.uncharge = fake_uncharge,
};

static const gid_t groups[] = { 20, 27 };
static const struct run_caller caller = { .user = user,
	.uid = 1000,
	.gid = 100,
	.groups = groups,
	.ngroups = 2 };
static struct pool pools[2];

static void
setup(void)
{
	memset(&seen, 0, sizeof seen);
	memset(pools, 0, sizeof pools);
	runs_on_drained(fake_drained);
}

static void
teardown(void)
{
	ck_assert_uint_eq(runs_in_flight(), 0);
	runs_on_drained(NULL);
}

/* A submit item (no lease) of fn, without arguments. */
static struct run *
item(struct pool *pool, const char *fn)
{
	struct run_job job = { .fn = { fn, (uint32_t)strlen(fn) },
		.timeout = 5,
		.owner = { "batch", 5 } };

	return run_new(&fake_owner, &caller, 7, pool, NULL, &job);
}

/* A result of len bytes in a buffer of the worker's, with more after it. */
static struct evbuffer *
worker_output(size_t len)
{
	struct evbuffer *b = evbuffer_new();
	char bytes[64] = { 0 };

	ck_assert_uint_lt(len, sizeof bytes);
	evbuffer_add(b, bytes, len);
	evbuffer_add(b, "next", 4);
	return b;
}

START_TEST(result_reaches_the_owner_once)
{
	struct evbuffer *out = worker_output(10);
	struct run *r = item(&pools[0], "echo");

	ck_assert_uint_eq(r->msgid, 7);
	ck_assert_str_eq(r->owner, "batch");
	ck_assert_uint_gt(seen.charged, r->len);
	run_answer_result(r, out, 10);
	ck_assert_uint_eq(seen.results, 1);
	ck_assert_uint_eq(seen.errors, 0);
	ck_assert_uint_eq(seen.result_len, 10);
	/* what follows the result stays */
	ck_assert_uint_eq(evbuffer_get_length(out), 4);
	ck_assert_uint_eq(seen.ended, 1);
	ck_assert_uint_eq(seen.ended_ok, 1);
	ck_assert_uint_eq(seen.charged, 0);
	ck_assert_uint_eq(pools[0].counters.runs_completed, 1);
	ck_assert_uint_eq(histogram_count(&pools[0].counters.run_duration), 1);
	evbuffer_free(out);
}
END_TEST

START_TEST(error_reaches_the_owner_once)
{
	struct lp_error err;

	lp_error_set(&err, LP_ERR_JOB_FAILED, "it broke");
	run_answer_error(item(&pools[0], "echo"), &err);
	ck_assert_uint_eq(seen.errors, 1);
	ck_assert_uint_eq(seen.results, 0);
	ck_assert_int_eq(seen.err.code, LP_ERR_JOB_FAILED);
	ck_assert_str_eq(seen.err.message, "it broke");
	ck_assert_uint_eq(seen.ended, 1);
	ck_assert_uint_eq(seen.ended_ok, 0);
	ck_assert_uint_eq(seen.charged, 0);
}
END_TEST

/* Each error counts as what it says, on the pool of its run. */
START_TEST(errors_counted_per_pool)
{
	static const enum lp_err codes[] = { LP_ERR_JOB_TIMEOUT, LP_ERR_TIMEOUT,
		LP_ERR_WORKER_CRASHED, LP_ERR_JOB_FAILED, LP_ERR_STOPPING };
	struct evbuffer *out = worker_output(1);
	struct lp_error err;

	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		lp_error_set(&err, codes[i], "no");
		run_answer_error(item(&pools[0], "echo"), &err);
	}
	run_answer_result(item(&pools[1], "echo"), out, 1);
	ck_assert_uint_eq(pools[0].counters.runs_timed_out, 2);
	ck_assert_uint_eq(pools[0].counters.runs_crashed, 1);
	ck_assert_uint_eq(pools[0].counters.runs_failed, 2);
	ck_assert_uint_eq(pools[0].counters.runs_completed, 0);
	ck_assert_uint_eq(pools[1].counters.runs_completed, 1);
	ck_assert_uint_eq(pools[1].counters.runs_failed +
		pools[1].counters.runs_timed_out +
		pools[1].counters.runs_crashed,
	    0);
	ck_assert_uint_eq(histogram_count(&pools[0].counters.run_duration), 5);
	ck_assert_uint_eq(histogram_count(&pools[1].counters.run_duration), 1);
	evbuffer_free(out);
}
END_TEST

/* Drained once, when the last run goes, answered or not. */
START_TEST(drained_when_the_last_run_goes)
{
	struct evbuffer *out = worker_output(1);
	struct run *a = item(&pools[0], "echo"), *b = item(&pools[0], "echo");
	struct run *c = item(&pools[1], "echo");

	ck_assert_uint_eq(runs_in_flight(), 3);
	run_answer_result(a, out, 1);
	ck_assert_uint_eq(runs_in_flight(), 2);
	run_free(b); /* its client went before it ran: nobody is answered */
	ck_assert_uint_eq(runs_in_flight(), 1);
	ck_assert_uint_eq(seen.results + seen.errors, 1);
	ck_assert_uint_eq(seen.drained, 0);
	run_answer_result(c, out, 1);
	ck_assert_uint_eq(runs_in_flight(), 0);
	ck_assert_uint_eq(seen.drained, 1);
	ck_assert_uint_eq(seen.charged, 0);
	evbuffer_free(out);
}
END_TEST

/* What the worker reads: [fn, args, kwargs] as the client sent them, and an exec's caller. */
START_TEST(payload_as_the_worker_reads_it)
{
	msgpack_sbuffer want;
	msgpack_packer pk;
	/* A submit item: its owner is the client's, or empty. */
	struct run_job job = { .fn = { "exec", 4 },
		.owner = { "", 0 },
		.args = { .ptr = "\x91\x01", .len = 2, .depth = 1 },
		.as_caller = true };
	struct run *r;

	msgpack_sbuffer_init(&want);
	msgpack_packer_init(&pk, &want, msgpack_sbuffer_write);
	mt_pack(&pk, "[exec, [1], {}, [1000, 100, [20, 27]]]");
	r = run_new(&fake_owner, &caller, 1, &pools[0], NULL, &job);
	ck_assert_uint_eq(r->len, want.size);
	ck_assert(memcmp(r->payload, want.data, want.size) == 0);
	ck_assert_str_eq(r->fn, "exec");
	run_free(r);

	msgpack_sbuffer_clear(&want);
	mt_pack(&pk, "[echo, [], {}]");
	r = item(&pools[0], "echo");
	ck_assert_uint_eq(r->len, want.size);
	ck_assert(memcmp(r->payload, want.data, want.size) == 0);
	run_free(r);
	msgpack_sbuffer_destroy(&want);
}
END_TEST

Suite *
run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("answers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, result_reaches_the_owner_once);
	tcase_add_test(tc, error_reaches_the_owner_once);
	tcase_add_test(tc, errors_counted_per_pool);
	tcase_add_test(tc, drained_when_the_last_run_goes);
	tcase_add_test(tc, payload_as_the_worker_reads_it);
	suite_add_tcase(s, tc);
	return s;
}
