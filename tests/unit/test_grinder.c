/* SPDX-License-Identifier: ISC */
/*
 * The grinder without a daemon (fake_server.h): submissions of fake
 * connections, a real lease table, a backend whose workers hold what they
 * are handed until the test finishes it, deadlines driven through the
 * table with the time the test picks.  When batches go, in what order
 * the turns take items, what a deadline, a client that goes and a batch
 * that gives items back do to the queue, and what stats show.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>
#include <event2/event.h>

#include "daemon/core/clock.h"
#include "daemon/server/grinder.h"
#include "tests/suites.h"
#include "tests/unit/fake_server.h"

/* A timeout longer than batch_wait: the item waits for a batch. */
#define WAITS 600
/* One no longer than batch_wait: it is due at once. */
#define HURRIED 30

static struct user alice, bob;
static struct pool *pool;

/* One pool, one executor of workers, batches of batch_size or after batch_wait. */
static void
start(unsigned workers, unsigned batch_size, double batch_wait)
{
	char ini[256];

	snprintf(ini, sizeof ini,
	    "[pool cpu]\nbackend = thread\nexecutors_min = 1\nexecutors_max = 1\n"
	    "workers = %u\nbatch_size = %u\nbatch_wait = %g\n",
	    workers, batch_size, batch_wait);
	fake_server_start(ini);
	pool = &server.leases.pools[0];
}

static void
teardown(void)
{
	fake_server_stop();
	clock_release();
	ck_assert_uint_eq(alice.bytes, 0);
	ck_assert_uint_eq(bob.bytes, 0);
}

static void
submit(struct conn *c, uint32_t msgid, double timeout)
{
	struct lp_submit_params p = { .fn = { "echo", 4 } };

	grinder_submit(c, msgid, pool, &p, timeout);
}

/* The worker's batch is these msgids, in this order. */
static void
check_batch(const struct fake_worker *w, const uint32_t *msgids, unsigned n)
{
	ck_assert_uint_eq(w->es.nbatch, n);
	for (unsigned i = 0; i < n; i++)
		ck_assert_uint_eq(w->es.batch[i]->msgid, msgids[i]);
}

/* The answers so far are results to these msgids, in this order. */
static void
check_results(const uint32_t *msgids, unsigned n)
{
	ck_assert_uint_eq(fake_answers.n, n);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_eq(fake_answers.a[i].msgid, msgids[i]);
		ck_assert_int_eq(fake_answers.a[i].code, LP_OK);
	}
}

/* A field of the pool's grinder in stats, at now. */
static double
grinder_stat(const char *key, double now)
{
	msgpack_sbuffer buf;
	msgpack_packer pk;
	msgpack_unpacked msg;
	const msgpack_object_map *m;
	double value = -1;

	msgpack_sbuffer_init(&buf);
	msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
	grinder_pack_stats(&pk, pool, now);
	msgpack_unpacked_init(&msg);
	ck_assert_int_eq(msgpack_unpack_next(&msg, buf.data, buf.size, NULL),
	    MSGPACK_UNPACK_SUCCESS);
	m = &msg.data.via.map;
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;

		if (k->via.str.size != strlen(key) ||
		    memcmp(k->via.str.ptr, key, k->via.str.size) != 0)
			continue;
		value = v->type == MSGPACK_OBJECT_FLOAT64 ? v->via.f64 :
							    (double)v->via.u64;
	}
	msgpack_unpacked_destroy(&msg);
	msgpack_sbuffer_destroy(&buf);
	ck_assert_msg(value >= 0, "no %s in the grinder's stats", key);
	return value;
}

START_TEST(batch_size_items_queued_go_in_one_batch)
{
	static const uint32_t all[] = { 1, 2, 3, 4 };
	struct conn *c;

	start(2, 4, 60);
	c = fake_conn_new(&alice, 1000);
	for (uint32_t m = 1; m <= 3; m++)
		submit(c, m, WAITS);
	ck_assert_uint_eq(fake_worker(pool, 0)->batches, 0);
	/* It holds the executor while it has work. */
	ck_assert_uint_eq(lease_pool_leased(pool), 1);
	submit(c, 4, WAITS);
	ck_assert_uint_eq(fake_worker(pool, 0)->batches, 1);
	check_batch(fake_worker(pool, 0), all, 4);
	ck_assert_uint_eq(fake_worker(pool, 1)->batches, 0);
	for (unsigned i = 0; i < 4; i++)
		fake_worker_finish(pool, 0);
	check_results(all, 4);
	/* Nothing left to do: it lets go of the executor. */
	ck_assert_uint_eq(lease_pool_leased(pool), 0);
}
END_TEST

START_TEST(the_oldest_item_goes_once_it_waited_batch_wait)
{
	const double batch_wait = 0.05;
	struct fake_worker *w;
	struct conn *c;

	start(1, 4, batch_wait);
	c = fake_conn_new(&alice, 1000);
	submit(c, 1, WAITS);
	w = fake_worker(pool, 0);
	ck_assert_uint_eq(w->batches, 0);
	/* The grinder's timer is the only event: 1 would say nothing waits for it. */
	while (w->batches == 0)
		ck_assert_int_eq(event_base_loop(server.base, EVLOOP_ONCE), 0);
	ck_assert_uint_eq(w->es.nbatch, 1);
	ck_assert_double_ge(monotonic_now() - w->es.batch[0]->accepted,
	    batch_wait);
}
END_TEST

START_TEST(an_item_that_cannot_wait_batch_wait_goes_at_once)
{
	start(1, 4, 60);
	submit(fake_conn_new(&alice, 1000), 1, HURRIED);
	ck_assert_uint_eq(fake_worker(pool, 0)->batches, 1);
	ck_assert_uint_eq(fake_worker(pool, 0)->es.nbatch, 1);
}
END_TEST

/*
 * Alice's two connections and Bob's one queue two items each while the
 * worker is busy: while both users wait a batch holds one item of each,
 * Alice's connections taking turns; Alice alone fills it.
 */
START_TEST(turns_go_round_users_then_their_connections)
{
	static const uint32_t first[] = { 1, 5 }, second[] = { 3, 6 },
			      third[] = { 2, 4 },
			      answered[] = { 100, 1, 5, 3, 6, 2, 4 };
	struct conn *a1, *a2, *b1;
	struct fake_worker *w;

	start(1, 4, 60);
	a1 = fake_conn_new(&alice, 1000);
	a2 = fake_conn_new(&alice, 1000);
	b1 = fake_conn_new(&bob, 1001);
	w = fake_worker(pool, 0);
	submit(a1, 100, HURRIED); /* keeps the worker busy */
	submit(a1, 1, HURRIED);
	submit(a1, 2, HURRIED);
	submit(a2, 3, HURRIED);
	submit(a2, 4, HURRIED);
	submit(b1, 5, HURRIED);
	submit(b1, 6, HURRIED);
	ck_assert_uint_eq(w->batches, 1);
	ck_assert_uint_eq(w->recalls, 0); /* one item: nothing to give back */
	fake_worker_finish(pool, 0);
	check_batch(w, first, 2);
	fake_worker_finish(pool, 0);
	fake_worker_finish(pool, 0);
	check_batch(w, second, 2);
	fake_worker_finish(pool, 0);
	fake_worker_finish(pool, 0);
	check_batch(w, third, 2);
	fake_worker_finish(pool, 0);
	fake_worker_finish(pool, 0);
	check_results(answered, 7);
}
END_TEST

/* A batch that gives back items it never started: they go first, in their order. */
START_TEST(items_given_back_keep_their_order)
{
	static const uint32_t taken[] = { 1, 2, 3 }, again[] = { 2, 3, 4 };
	struct fake_worker *w;
	struct conn *c;

	start(1, 3, 60);
	c = fake_conn_new(&alice, 1000);
	for (uint32_t m = 1; m <= 3; m++)
		submit(c, m, WAITS);
	submit(c, 4, WAITS);
	w = fake_worker(pool, 0);
	check_batch(w, taken, 3);
	/* Its worker ends the batch after 1, as a backend does for a worker that stops. */
	executor_requeue(TAILQ_FIRST(&pool->executors)->backend, &w->es, 1);
	ck_assert_double_eq(grinder_stat("queue", clock_now()), 3);
	fake_worker_finish(pool, 0);
	/* Given back, they wait for no batch_wait and no batch_size. */
	check_batch(w, again, 3);
}
END_TEST

/*
 * Bob's item comes while the only worker runs a batch of Alice's: the
 * items of it not started are recalled, and Bob's goes before them.
 */
START_TEST(another_users_item_recalls_a_batch_of_one_user)
{
	static const uint32_t taken[] = { 1, 2, 3 }, next[] = { 4, 2 },
			      answered[] = { 1, 4, 2, 3 };
	struct fake_worker *w;
	struct conn *a, *b;

	start(1, 3, 60);
	a = fake_conn_new(&alice, 1000);
	b = fake_conn_new(&bob, 1001);
	for (uint32_t m = 1; m <= 3; m++)
		submit(a, m, WAITS);
	w = fake_worker(pool, 0);
	check_batch(w, taken, 3);
	submit(b, 4, WAITS);
	ck_assert_uint_eq(w->recalls, 1);
	ck_assert_uint_eq(w->es.nbatch, 1);
	fake_worker_finish(pool, 0);
	check_batch(w, next, 2);
	fake_worker_finish(pool, 0);
	fake_worker_finish(pool, 0);
	fake_worker_finish(pool, 0);
	check_results(answered, 4);
}
END_TEST

START_TEST(a_queued_item_past_its_deadline_is_answered_timeout)
{
	struct conn *c;
	double deadline;

	start(1, 4, 60);
	c = fake_conn_new(&alice, 1000);
	submit(c, 1, WAITS);
	submit(c, 2, 2 * WAITS);
	deadline = TAILQ_FIRST(&c->runs)->deadline.when;
	ck_assert_double_eq(deadline, TAILQ_FIRST(&c->runs)->accepted + WAITS);
	lease_table_advance(&server.leases, deadline);
	ck_assert_uint_eq(fake_answers.n, 1);
	ck_assert_uint_eq(fake_answers.a[0].msgid, 1);
	ck_assert_int_eq(fake_answers.a[0].code, LP_ERR_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(fake_answers.a[0].message, "pool 'cpu'"));
	/* The other waits on. */
	ck_assert_double_eq(grinder_stat("queue", deadline), 1);
	ck_assert_double_eq(grinder_stat("failed", deadline), 1);
	ck_assert_uint_eq(fake_worker(pool, 0)->batches, 0);
}
END_TEST

START_TEST(a_client_that_goes_takes_its_queued_items)
{
	static const uint32_t bobs[] = { 3, 4, 5, 6 };
	struct conn *a, *b;

	start(1, 4, 60);
	a = fake_conn_new(&alice, 1000);
	submit(a, 1, WAITS);
	submit(a, 2, WAITS);
	grinder_drop_conn(a);
	ck_assert_uint_eq(a->nruns, 0);
	ck_assert_uint_eq(runs_in_flight(), 0);
	ck_assert_uint_eq(alice.bytes, 0);
	ck_assert_uint_eq(lease_pool_leased(pool), 0);

	submit(a, 7, WAITS);
	b = fake_conn_new(&bob, 1001);
	submit(b, 3, WAITS);
	submit(b, 4, WAITS);
	grinder_drop_conn(a);
	ck_assert_double_eq(grinder_stat("queue", clock_now()), 2);
	/* What went counts towards no batch, and is handed to no worker. */
	submit(b, 5, WAITS);
	ck_assert_uint_eq(fake_worker(pool, 0)->batches, 0);
	submit(b, 6, WAITS);
	check_batch(fake_worker(pool, 0), bobs, 4);
	ck_assert_uint_eq(fake_answers.n, 0);
}
END_TEST

START_TEST(stats_count_batches_and_items)
{
	double now = clock_hold(); /* every item is accepted at now */
	struct conn *c;

	start(1, 2, 60);
	c = fake_conn_new(&alice, 1000);
	submit(c, 1, WAITS);
	submit(c, 2, WAITS);
	fake_worker_finish(pool, 0);
	fake_worker_finish(pool, 0);
	submit(c, 3, HURRIED); /* a batch of one */
	submit(c, 4, WAITS);
	ck_assert_double_eq(grinder_stat("queue", now), 1);
	ck_assert_double_eq(grinder_stat("running", now), 1);
	ck_assert_double_eq(grinder_stat("batches", now), 2);
	ck_assert_double_eq(grinder_stat("mean_batch", now), 1.5);
	ck_assert_double_eq(grinder_stat("completed", now), 2);
	ck_assert_double_eq(grinder_stat("failed", now), 0);
	ck_assert_double_eq(grinder_stat("batch_size", now), 2);
	ck_assert_double_eq(grinder_stat("batch_wait", now), 60);
	ck_assert_double_eq(grinder_stat("oldest_wait", now + 5), 5);
	fake_worker_finish(pool, 0);
	ck_assert_double_eq(grinder_stat("completed", now), 3);
}
END_TEST

/* The answer to msgid: its code, and its message says says. */
static void
check_answer(unsigned i, uint32_t msgid, enum lp_err code, const char *says)
{
	ck_assert_uint_gt(fake_answers.n, i);
	ck_assert_uint_eq(fake_answers.a[i].msgid, msgid);
	ck_assert_int_eq(fake_answers.a[i].code, code);
	ck_assert_msg(strstr(fake_answers.a[i].message, says) != NULL,
	    "'%s' does not say '%s'", fake_answers.a[i].message, says);
}

/*
 * Cancelled while queued, an item leaves the queue unrun; cancelled in a
 * batch not started, it is recalled and never runs; cancelled running, it
 * runs on (others' items share its batch) and its result goes nowhere.
 */
START_TEST(cancelled_items_are_answered_once_and_never_run_unless_running)
{
	static const uint32_t taken[] = { 1, 2, 3 };
	struct fake_worker *w;
	struct conn *c;

	start(1, 3, 60);
	c = fake_conn_new(&alice, 1000);
	for (uint32_t m = 1; m <= 5; m++)
		submit(c, m, WAITS);
	w = fake_worker(pool, 0);
	check_batch(w, taken, 3);

	ck_assert_int_eq(grinder_cancel(conn_run_of(c, 4)), RUN_WITHDRAWN);
	check_answer(0, 4, LP_ERR_CANCELLED, "before it started");
	ck_assert_int_eq(grinder_cancel(conn_run_of(c, 3)), RUN_WITHDRAWN);
	check_answer(1, 3, LP_ERR_CANCELLED, "before it started");
	ck_assert_uint_eq(w->recalls, 1);
	ck_assert_int_eq(grinder_cancel(conn_run_of(c, 1)), RUN_DISCARDED);
	check_answer(2, 1, LP_ERR_CANCELLED, "its result is discarded");
	ck_assert_ptr_null(conn_run_of(c, 1));

	/* 1 ends unheard; 2 was given back by the recall, and goes again with 5. */
	fake_worker_finish(pool, 0);
	ck_assert_uint_eq(fake_answers.n, 3);
	check_batch(w, (const uint32_t[]){ 2, 5 }, 2);
	fake_worker_finish(pool, 0);
	fake_worker_finish(pool, 0);
	check_answer(3, 2, LP_OK, "");
	check_answer(4, 5, LP_OK, "");
	ck_assert_uint_eq(fake_answers.n, 5);
	ck_assert_uint_eq(pool->counters.cancelled_queued, 2);
	ck_assert_uint_eq(pool->counters.cancelled_running, 1);
	ck_assert_double_eq(grinder_stat("completed", clock_now()), 2);
	ck_assert_double_eq(grinder_stat("failed", clock_now()), 0);
}
END_TEST

Suite *
grinder_unit_suite(void)
{
	Suite *s = suite_create("grinder_unit");
	TCase *tc;

	tc = unit_case(s, "batches", NULL, teardown);
	tcase_add_test(tc, batch_size_items_queued_go_in_one_batch);
	tcase_add_test(tc, the_oldest_item_goes_once_it_waited_batch_wait);
	tcase_add_test(tc, an_item_that_cannot_wait_batch_wait_goes_at_once);
	tc = unit_case(s, "turns", NULL, teardown);
	tcase_add_test(tc, turns_go_round_users_then_their_connections);
	tcase_add_test(tc, items_given_back_keep_their_order);
	tcase_add_test(tc, another_users_item_recalls_a_batch_of_one_user);
	tc = unit_case(s, "queue", NULL, teardown);
	tcase_add_test(tc, a_queued_item_past_its_deadline_is_answered_timeout);
	tcase_add_test(tc, a_client_that_goes_takes_its_queued_items);
	tcase_add_test(tc, stats_count_batches_and_items);
	tcase_add_test(tc,
	    cancelled_items_are_answered_once_and_never_run_unless_running);
	return s;
}
