/* SPDX-License-Identifier: ISC */
/*
 * The executor engine without a daemon: a fake backend of slots that only
 * record what they are handed, a fake feed, and runs of a fake owner, so
 * that queueing, batching, requeueing and the stop are seen as a backend
 * and a grinder would see them.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon/backend/backend.h"
#include "daemon/backend/executor.h"
#include "daemon/core/run.h"
#include "tests/suites.h"

#define NSLOTS 2
#define MAX_RUNS 16

struct fake_slot {
	struct exec_slot es;
	bool busy;
	unsigned gives; /* batches handed to it */
	unsigned recalls;
};

struct fake_exec {
	struct engine e; /* first, as a backend's: the stop frees it */
	struct fake_slot *slots[NSLOTS];
};

static struct {
	unsigned share; /* runs per batch of the queue */
	size_t batch_bytes;
	/* The feed: items it hands out, then what came back. */
	struct run *items[MAX_RUNS];
	unsigned nitems;
	struct run *requeued[MAX_RUNS];
	unsigned nrequeued;
	size_t take_max_bytes; /* what the last take was allowed */
	bool recall_due;
	/* of the slot, when the feed got its items back */
	unsigned nbatch_at_requeue;
	struct exec_slot *requeued_from;
	/* What the owner was told, in order. */
	struct run *answered[MAX_RUNS];
	enum lp_err codes[MAX_RUNS];
	unsigned nanswered;
} fake;

static struct fake_slot slots[NSLOTS];
static struct pool pool;
static struct executor ex;
static struct fake_exec *fe;

/* ---- runs of a fake owner ---- */

static void
owner_result(struct run *r, struct evbuffer *src, size_t len)
{
	ck_abort_msg("the engine answers nothing but STOPPING");
}

static void
owner_error(struct run *r, const struct lp_error *err)
{
	ck_assert_uint_lt(fake.nanswered, MAX_RUNS);
	fake.answered[fake.nanswered] = r;
	fake.codes[fake.nanswered++] = err->code;
}

static void
owner_charge(struct user *u, size_t n)
{
}

static const struct run_owner owner = {
	.result = owner_result,
	.error = owner_error,
	.charge = owner_charge,
	.uncharge = owner_charge,
};

/* A run of ex's lease, or an item of the feed, of len bytes of job and more. */
static struct run *
new_run(bool item, size_t len)
{
	static const struct run_caller caller = { 0 };
	static char args[256];
	struct run_job job = { .fn = { "echo", 4 },
		.timeout = 5,
		.owner = { "batch", 5 } };
	struct run *r;

	ck_assert_uint_lt(len, sizeof args);
	/* empty arrays: their length is all that counts */
	memset(args, 0x90, sizeof args);
	job.args = (struct lp_raw){ .ptr = args, .len = len, .depth = 1 };
	r = run_new(&owner, &caller, 1, &pool, NULL, &job);
	if (item)
		/* only compared with NULL */
		r->grinder = (struct grinder *)&fake;
	return r;
}

static void
free_runs(struct run **runs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		run_free(runs[i]);
}

/* ---- the fake backend ---- */

static struct exec_slot *
slot_at(struct engine *e, unsigned i)
{
	return &((struct fake_exec *)e)->slots[i]->es;
}

static struct exec_slot *
first_idle(struct engine *e)
{
	struct fake_exec *x = (struct fake_exec *)e;

	for (unsigned i = 0; i < NSLOTS; i++)
		if (!x->slots[i]->busy)
			return &x->slots[i]->es;
	return NULL;
}

static unsigned
share(struct engine *e, struct exec_slot *s)
{
	return fake.share;
}

static size_t
batch_bytes(void)
{
	return fake.batch_bytes;
}

static void
give(struct engine *e, struct exec_slot *s, struct run **runs, unsigned n)
{
	struct fake_slot *f = EXEC_SLOT_OWNER(s, struct fake_slot);

	ck_assert(!f->busy);
	ck_assert_uint_eq(s->nbatch, n); /* the engine added them already */
	ck_assert_mem_eq(s->batch, runs, n * sizeof *runs);
	f->busy = true;
	f->gives++;
}

static void
recall(struct engine *e, struct exec_slot *s)
{
	EXEC_SLOT_OWNER(s, struct fake_slot)->recalls++;
}

static const struct executor_ops fake_ops = {
	.slot = slot_at,
	.idle_slot = first_idle,
	.share = share,
	.batch_bytes = batch_bytes,
	.give = give,
	.recall = recall,
};

/* ---- the fake feed ---- */

static unsigned
feed_take_items(void *arg, struct run **out, unsigned max, size_t max_bytes)
{
	unsigned n = fake.nitems < max ? fake.nitems : max;

	fake.take_max_bytes = max_bytes;
	memcpy(out, fake.items, n * sizeof *out);
	memmove(fake.items, fake.items + n,
	    (fake.nitems - n) * sizeof *fake.items);
	fake.nitems -= n;
	return n;
}

static void
feed_requeue_items(void *arg, struct run **items, unsigned n)
{
	memcpy(fake.requeued + fake.nrequeued, items, n * sizeof *items);
	fake.nrequeued += n;
	fake.requeued_from = &slots[0].es;
	fake.nbatch_at_requeue = slots[0].es.nbatch;
}

static bool
feed_recall_is_due(void *arg, struct run *const *items, unsigned n)
{
	return fake.recall_due;
}

static const struct lp_executor_feed feed = {
	.take = feed_take_items,
	.requeue = feed_requeue_items,
	.recall_due = feed_recall_is_due,
};

static void
setup(void)
{
	memset(&fake, 0, sizeof fake);
	memset(slots, 0, sizeof slots);
	memset(&pool, 0, sizeof pool);
	memset(&ex, 0, sizeof ex);
	fake.share = 1;
	fake.batch_bytes = SIZE_MAX;
	pool.cfg.backend = LP_BACKEND_THREAD;
	TAILQ_INIT(&pool.executors);
	ex.pool = &pool;
	TAILQ_INSERT_TAIL(&pool.executors, &ex, link);
	fe = calloc(1, sizeof *fe);
	ck_assert_ptr_nonnull(fe);
	for (unsigned i = 0; i < NSLOTS; i++)
		fe->slots[i] = &slots[i];
	executor_init(&fe->e, &ex, &fake_ops, NSLOTS);
	ex.backend = fe;
}

static void
teardown(void)
{
	for (unsigned i = 0; i < NSLOTS; i++)
		free(slots[i].es.batch);
	free(ex.backend);
	ck_assert_uint_eq(runs_in_flight(), 0);
}

/* What s was handed and has not finished, freed: the test is done with it. */
static void
drop_batch(struct fake_slot *f)
{
	free_runs(f->es.batch + f->es.done, f->es.nbatch - f->es.done);
	f->es.done = f->es.nbatch;
	f->busy = false;
}

static void
drop_queue(void)
{
	struct run *r;

	while ((r = TAILQ_FIRST(&fe->e.queue)) != NULL) {
		TAILQ_REMOVE(&fe->e.queue, r, queue_link);
		run_free(r);
	}
	fe->e.nqueued = 0;
}

START_TEST(runs_queue_until_a_slot_is_idle)
{
	struct run *r[3];

	slots[0].busy = slots[1].busy = true;
	for (unsigned i = 0; i < 3; i++)
		executor_submit(&ex, r[i] = new_run(false, 1));
	ck_assert_uint_eq(fe->e.nqueued, 3);
	ck_assert_uint_eq(slots[0].gives + slots[1].gives, 0);

	slots[1].busy = false;
	executor_pump(&fe->e);
	ck_assert_uint_eq(slots[1].gives, 1);
	ck_assert_uint_eq(slots[1].es.nbatch, 1);
	/* in the order they came */
	ck_assert_ptr_eq(slots[1].es.batch[0], r[0]);
	ck_assert_uint_eq(fe->e.nqueued, 2);
	ck_assert_ptr_eq(TAILQ_FIRST(&fe->e.queue), r[1]);
	slots[0].busy = false;
	drop_batch(&slots[1]);
	drop_queue();
}
END_TEST

START_TEST(an_idle_slot_takes_its_share_in_one_batch)
{
	struct run *r[5];

	fake.share = 2;
	slots[0].busy = slots[1].busy = true;
	for (unsigned i = 0; i < 5; i++)
		executor_submit(&ex, r[i] = new_run(false, 1));
	slots[0].busy = slots[1].busy = false;
	executor_pump(&fe->e);
	ck_assert_uint_eq(slots[0].es.nbatch, 2);
	ck_assert_ptr_eq(slots[0].es.batch[0], r[0]);
	ck_assert_ptr_eq(slots[0].es.batch[1], r[1]);
	ck_assert_uint_eq(slots[1].es.nbatch, 2);
	ck_assert_ptr_eq(slots[1].es.batch[0], r[2]);
	ck_assert_uint_eq(fe->e.nqueued, 1);
	drop_batch(&slots[0]);
	drop_batch(&slots[1]);
	drop_queue();
}
END_TEST

START_TEST(a_batch_stops_short_of_the_byte_limit_past_its_first_run)
{
	struct run *big = new_run(false, 100), *small = new_run(false, 1);

	fake.share = 4;
	fake.batch_bytes = big->len; /* the first run fits whatever its size */
	slots[1].busy = true;
	TAILQ_INSERT_TAIL(&fe->e.queue, big, queue_link);
	TAILQ_INSERT_TAIL(&fe->e.queue, small, queue_link);
	fe->e.nqueued = 2;
	executor_pump(&fe->e);
	ck_assert_uint_eq(slots[0].es.nbatch, 1);
	ck_assert_ptr_eq(slots[0].es.batch[0], big);
	ck_assert_ptr_eq(TAILQ_FIRST(&fe->e.queue), small);
	slots[1].busy = false;
	drop_batch(&slots[0]);
	drop_queue();
}
END_TEST

START_TEST(idle_slots_take_the_feeds_batches)
{
	ex.feed = &feed;
	fake.batch_bytes = 1234;
	for (unsigned i = 0; i < 3; i++)
		fake.items[fake.nitems++] = new_run(true, 1);
	executor_poke(&ex);
	/* Its whole batch, to the first idle slot; the other finds the feed empty. */
	ck_assert_uint_eq(slots[0].gives, 1);
	ck_assert_uint_eq(slots[0].es.nbatch, 3);
	ck_assert_uint_eq(slots[1].gives, 0);
	ck_assert_uint_eq(fake.take_max_bytes, 1234);
	drop_batch(&slots[0]);
}
END_TEST

START_TEST(a_poke_before_the_executor_started_does_nothing)
{
	struct executor starting = { .pool = &pool, .feed = &feed };

	fake.items[fake.nitems++] = new_run(true, 1);
	executor_poke(&starting);
	ck_assert_uint_eq(fake.nitems, 1);
	free_runs(fake.items, 1);
}
END_TEST

START_TEST(runs_a_batch_never_started_go_back_to_the_head_of_the_queue)
{
	struct run *r[4];

	fake.share = 3;
	slots[1].busy = true;
	for (unsigned i = 0; i < 4; i++)
		executor_submit(&ex, r[i] = new_run(false, 1));
	/* Slot 0 took three and was killed on the first: the other two run elsewhere, first. */
	ck_assert_ptr_eq(exec_slot_next(&slots[0].es), r[0]);
	executor_requeue(&fe->e, &slots[0].es, 1);
	ck_assert_uint_eq(slots[0].es.nbatch, 1);
	ck_assert_uint_eq(fe->e.nqueued, 3);
	ck_assert_ptr_eq(TAILQ_FIRST(&fe->e.queue), r[1]);
	ck_assert_ptr_eq(TAILQ_NEXT(r[1], queue_link), r[2]);
	ck_assert_ptr_eq(TAILQ_NEXT(r[2], queue_link), r[3]);
	run_free(r[0]);
	slots[0].busy = slots[1].busy = false;
	drop_queue();
}
END_TEST

START_TEST(items_a_batch_never_started_go_back_to_the_feed)
{
	ex.feed = &feed;
	for (unsigned i = 0; i < 3; i++)
		fake.items[fake.nitems++] = new_run(true, 1);
	slots[1].busy = true;
	executor_pump(&fe->e);
	ck_assert_uint_eq(slots[0].es.nbatch, 3);
	exec_slot_next(&slots[0].es);
	executor_requeue(&fe->e, &slots[0].es, 1);
	ck_assert_uint_eq(fake.nrequeued, 2);
	ck_assert_ptr_eq(fake.requeued[0], slots[0].es.batch[1]);
	ck_assert_ptr_eq(fake.requeued[1], slots[0].es.batch[2]);
	/* Out of the batch before the feed has them: it may pump again at once. */
	ck_assert_uint_eq(fake.nbatch_at_requeue, 1);
	ck_assert_uint_eq(fe->e.nqueued, 0);
	run_free(slots[0].es.batch[0]);
	free_runs(fake.requeued, 2);
	slots[0].busy = slots[1].busy = false;
}
END_TEST

START_TEST(busy_batches_are_recalled_only_at_a_turn_of_the_feed)
{
	ex.feed = &feed;
	for (unsigned i = 0; i < 4; i++)
		fake.items[fake.nitems++] = new_run(true, 1);
	executor_pump(&fe->e); /* one batch of all four: slot 1 stays idle */
	fake.recall_due = true;
	executor_feed_turn(&ex);
	/* a slot is idle: nothing waits for one */
	ck_assert_uint_eq(slots[0].recalls, 0);
	slots[1].busy = true;
	executor_pump(&fe->e);
	/* a pump is no turn: another user's items may not be waiting */
	ck_assert_uint_eq(slots[0].recalls, 0);
	executor_feed_turn(&ex);
	ck_assert_uint_eq(slots[0].recalls, 1);
	/* nothing handed, nothing to recall */
	ck_assert_uint_eq(slots[1].recalls, 0);
	drop_batch(&slots[0]);
	slots[1].busy = false;
}
END_TEST

START_TEST(a_stop_answers_queued_then_running_runs_stopping)
{
	struct run_queue stopped = TAILQ_HEAD_INITIALIZER(stopped);
	struct lease_table t = { .pools = &pool, .npools = 1 };
	struct run *r[4];

	slots[0].busy = slots[1].busy = true;
	fake.share = 2;
	for (unsigned i = 0; i < 4; i++)
		executor_submit(&ex, r[i] = new_run(false, 1));
	slots[0].busy = false;
	executor_pump(&fe->e); /* slot 0 runs r[0], r[1] waits behind it */
	/* r[0] was answered */
	ck_assert_ptr_eq(exec_slot_next(&slots[0].es), r[0]);
	run_free(r[0]);

	/* Another kind's executors are not this stop's. */
	executors_stop(&t, LP_BACKEND_PROCESS, &stopped);
	ck_assert_ptr_nonnull(ex.backend);
	ck_assert(TAILQ_EMPTY(&stopped));

	executors_stop(&t, LP_BACKEND_THREAD, &stopped);
	ck_assert_ptr_null(ex.backend);
	exec_slot_stop(&slots[0].es, &stopped);
	/* answered last, when the backend is torn down */
	ck_assert_uint_eq(fake.nanswered, 0);
	executors_answer_stopped(&stopped);
	ck_assert_uint_eq(fake.nanswered, 3);
	ck_assert_ptr_eq(fake.answered[0], r[2]);
	ck_assert_ptr_eq(fake.answered[1], r[3]);
	ck_assert_ptr_eq(fake.answered[2], r[1]);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(fake.codes[i], LP_ERR_STOPPING);
	ck_assert(TAILQ_EMPTY(&stopped));
}
END_TEST

Suite *
executor_suite(void)
{
	Suite *s = suite_create("executor");
	TCase *tc;

	tc = unit_case(s, "queue", setup, teardown);
	tcase_add_test(tc, runs_queue_until_a_slot_is_idle);
	tcase_add_test(tc, an_idle_slot_takes_its_share_in_one_batch);
	tcase_add_test(tc,
	    a_batch_stops_short_of_the_byte_limit_past_its_first_run);
	tc = unit_case(s, "feed", setup, teardown);
	tcase_add_test(tc, idle_slots_take_the_feeds_batches);
	tcase_add_test(tc, a_poke_before_the_executor_started_does_nothing);
	tcase_add_test(tc,
	    busy_batches_are_recalled_only_at_a_turn_of_the_feed);
	tc = unit_case(s, "requeue", setup, teardown);
	tcase_add_test(tc,
	    runs_a_batch_never_started_go_back_to_the_head_of_the_queue);
	tcase_add_test(tc, items_a_batch_never_started_go_back_to_the_feed);
	tc = unit_case(s, "stop", setup, teardown);
	tcase_add_test(tc, a_stop_answers_queued_then_running_runs_stopping);
	return s;
}
