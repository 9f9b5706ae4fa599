/* SPDX-License-Identifier: ISC */
/*
 * When the event loop polls before it sleeps: only while input comes more
 * often than every busy_poll seconds on average, as a stream of short runs
 * makes it, and with enough runs in flight; one stall does not end it, a
 * millisecond-long job does, and so do sequential runs.  A worker polls for
 * its next frame only after a short frame of a lease's stream of runs.
 */
#include <check.h>

#include "daemon/backend/frame_policy.h"
#include "tests/suites.h"

#define BUSY_POLL 30e-6
#define IN_FLIGHT 64

/* The mean gap after n equal gaps, from start. */
static double
after(double start, double gap, int n)
{
	double mean = start;

	while (n-- > 0)
		mean = policy_mean_gap(mean, gap);
	return mean;
}

START_TEST(test_disabled_never_polls)
{
	ck_assert(!policy_loop_polls(0, 0, IN_FLIGHT));
	ck_assert(!policy_loop_polls(1e-6, 0, IN_FLIGHT));
}
END_TEST

START_TEST(test_a_stream_of_short_runs_polls)
{
	/* From an idle daemon's mean: a stream is recognised within a few dozen inputs. */
	ck_assert(
	    policy_loop_polls(after(1e-3, 3e-6, 30), BUSY_POLL, IN_FLIGHT));
	ck_assert(
	    !policy_loop_polls(after(1e-3, 3e-6, 10), BUSY_POLL, IN_FLIGHT));
}
END_TEST

START_TEST(test_one_stall_does_not_end_polling)
{
	double mean = after(1e-3, 3e-6, 100);

	ck_assert(policy_loop_polls(policy_mean_gap(mean, 150e-6), BUSY_POLL,
	    IN_FLIGHT));
	/* A gap of an hour counts as 1 ms, so it is soon forgotten too. */
	ck_assert(
	    policy_loop_polls(after(policy_mean_gap(mean, 3600), 3e-6, 30),
		BUSY_POLL, IN_FLIGHT));
}
END_TEST

/* Sequential runs: the daemon's wait is the worker's or the client's turn. */
START_TEST(test_a_few_runs_in_flight_do_not_poll)
{
	double mean = after(1e-3, 3e-6, 100);

	ck_assert(policy_loop_polls(mean, BUSY_POLL, 16));
	ck_assert(!policy_loop_polls(mean, BUSY_POLL, 15));
	ck_assert(!policy_loop_polls(mean, BUSY_POLL, 1));
	ck_assert(!policy_loop_polls(mean, BUSY_POLL, 0));
}
END_TEST

START_TEST(test_cpu_bound_jobs_do_not_poll)
{
	/* 1 ms jobs on two workers: results and the next runs come ~250 us apart. */
	ck_assert(
	    !policy_loop_polls(after(3e-6, 250e-6, 30), BUSY_POLL, IN_FLIGHT));
	ck_assert(!policy_loop_polls(after(1e-3, 250e-6, 1000), BUSY_POLL,
	    IN_FLIGHT));
}
END_TEST

START_TEST(test_mean_stays_within_its_inputs)
{
	double mean = after(1e-3, 5e-6, 1000);

	ck_assert(mean >= 5e-6 && mean < 5.1e-6);
	ck_assert(policy_mean_gap(0, -1) == 0);
	ck_assert(after(0, 2, 1000) <= 1e-3);
}
END_TEST

START_TEST(test_a_worker_polls_after_a_short_frame_of_a_stream)
{
	ck_assert(policy_worker_polls(true, 16e-6, BUSY_POLL));
	ck_assert(policy_worker_polls(true, 0, BUSY_POLL));
}
END_TEST

START_TEST(test_only_a_lease_s_frame_of_several_runs_is_a_stream)
{
	ck_assert(policy_stream_frame(2, false));
	ck_assert(policy_stream_frame(16, false));
	ck_assert(!policy_stream_frame(1, false));
	ck_assert(!policy_stream_frame(16, true));
	ck_assert(!policy_stream_frame(256, true));
}
END_TEST

/* Not after other frames, nor CPU-bound ones, nor with polling off. */
START_TEST(test_a_worker_sleeps_at_once_otherwise)
{
	ck_assert(!policy_worker_polls(false, 16e-6, BUSY_POLL));
	ck_assert(!policy_worker_polls(true, BUSY_POLL, BUSY_POLL));
	ck_assert(!policy_worker_polls(true, 2e-3, BUSY_POLL));
	ck_assert(!policy_worker_polls(true, 0, 0));
}
END_TEST

Suite *
loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc;

	tc = unit_case(s, "polling", NULL, NULL);
	tcase_add_test(tc, test_disabled_never_polls);
	tcase_add_test(tc, test_a_stream_of_short_runs_polls);
	tcase_add_test(tc, test_one_stall_does_not_end_polling);
	tcase_add_test(tc, test_a_few_runs_in_flight_do_not_poll);
	tcase_add_test(tc, test_cpu_bound_jobs_do_not_poll);
	tcase_add_test(tc, test_mean_stays_within_its_inputs);
	tcase_add_test(tc,
	    test_only_a_lease_s_frame_of_several_runs_is_a_stream);
	tcase_add_test(tc, test_a_worker_polls_after_a_short_frame_of_a_stream);
	tcase_add_test(tc, test_a_worker_sleeps_at_once_otherwise);
	return s;
}
