/* SPDX-License-Identifier: ISC */
/*
 * The deadline heap: order after inserts, moves and removals (a fixed
 * sequence, then long pseudo-random ones against a model), growth past the
 * first allocation, ties, and items leaving and re-entering the heap.
 */
#include <stdint.h>
#include <stdlib.h>

#include <check.h>

#include "daemon/core/heap.h"
#include "tests/suites.h"

#define NITEMS 200

/* A deterministic PRNG (splitmix64), so a failing seed fails every time. */
static uint64_t
next_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
random_below(uint64_t *state, size_t n)
{
	return (size_t)(next_random(state) % n);
}

/*
 * Every item knows its place, and no child is earlier than its parent.
 * (Plain comparisons in the loop: each Check assertion costs a write.)
 */
static void
assert_heap_order(const struct heap *h)
{
	size_t i;

	if (h->len > h->cap)
		ck_abort_msg("%zu items in room for %zu", h->len, h->cap);
	for (i = 0; i < h->len; i++) {
		if (h->items[i]->index != i)
			break;
		if (i > 0 && h->items[(i - 1) / 2]->when > h->items[i]->when)
			break;
	}
	if (i < h->len)
		ck_abort_msg("item %zu out of place (index %zu, when %g)", i,
		    h->items[i]->index, h->items[i]->when);
}

/* Removes the earliest item and returns it. */
static struct deadline *
pop(struct heap *h)
{
	struct deadline *d = heap_top(h);

	ck_assert_ptr_nonnull(d);
	heap_remove(h, d);
	ck_assert(!heap_contains(d));
	assert_heap_order(h);
	return d;
}

/* Empties the heap, checking that items come out in time order. */
static size_t
drain_in_order(struct heap *h)
{
	double last = -1e300;
	size_t n = 0;

	while (heap_top(h) != NULL) {
		struct deadline *d = pop(h);

		ck_assert(d->when >= last);
		last = d->when;
		n++;
	}
	ck_assert_uint_eq(h->len, 0);
	return n;
}

static void
init_items(struct deadline *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
		heap_item_init(&items[i], (int)i);
}

START_TEST(test_empty)
{
	struct heap h;
	struct deadline d;

	heap_init(&h);
	heap_item_init(&d, 7);
	ck_assert_ptr_null(heap_top(&h));
	ck_assert(!heap_contains(&d));
	ck_assert_int_eq(d.kind, 7);
	heap_remove(&h, &d); /* not in the heap: nothing happens */
	ck_assert_uint_eq(h.len, 0);
	heap_free(&h);
	ck_assert_ptr_null(heap_top(&h));
}
END_TEST

START_TEST(test_fixed_sequence)
{
	static const double whens[] = { 5, 3, 8, 1, 9, 2, 7 };
	struct deadline items[7];
	struct heap h;
	size_t i;

	heap_init(&h);
	init_items(items, 7);
	for (i = 0; i < 7; i++) {
		heap_set(&h, &items[i], whens[i]);
		assert_heap_order(&h);
	}
	ck_assert_uint_eq(h.len, 7);
	ck_assert_ptr_eq(heap_top(&h), &items[3]);
	ck_assert_int_eq(heap_top(&h)->kind, 3); /* kind survives insertion */

	heap_set(&h, &items[4], 0); /* latest becomes earliest */
	assert_heap_order(&h);
	ck_assert_uint_eq(h.len, 7);
	ck_assert_ptr_eq(heap_top(&h), &items[4]);

	heap_set(&h, &items[4], 10); /* and latest again */
	assert_heap_order(&h);
	ck_assert_ptr_eq(heap_top(&h), &items[3]);

	heap_remove(&h, &items[3]); /* the top */
	assert_heap_order(&h);
	ck_assert_ptr_eq(heap_top(&h), &items[5]);

	heap_remove(&h, &items[2]); /* from the middle */
	heap_remove(&h, &items[2]); /* twice is harmless */
	assert_heap_order(&h);
	ck_assert_uint_eq(h.len, 5);

	ck_assert_ptr_eq(pop(&h), &items[5]); /* 2 */
	ck_assert_ptr_eq(pop(&h), &items[1]); /* 3 */
	ck_assert_ptr_eq(pop(&h), &items[0]); /* 5 */
	ck_assert_ptr_eq(pop(&h), &items[6]); /* 7 */
	ck_assert_ptr_eq(pop(&h), &items[4]); /* 10 */
	ck_assert_ptr_null(heap_top(&h));
	heap_free(&h);
}
END_TEST

/* The last item in the array is removed without moving anything. */
START_TEST(test_remove_last_slot)
{
	struct deadline items[3];
	struct heap h;

	heap_init(&h);
	init_items(items, 3);
	heap_set(&h, &items[0], 1);
	heap_set(&h, &items[1], 2);
	heap_set(&h, &items[2], 3);
	ck_assert_uint_eq(items[2].index, 2);
	heap_remove(&h, &items[2]);
	assert_heap_order(&h);
	ck_assert_uint_eq(h.len, 2);
	ck_assert_uint_eq(items[0].index, 0);
	ck_assert_uint_eq(items[1].index, 1);
	heap_free(&h);
}
END_TEST

/* An item whose replacement must move up, not down, after a removal. */
START_TEST(test_remove_moves_replacement_up)
{
	/*
	 *            0
	 *       10        1
	 *     11  12     2  3
	 * Removing 11 moves the last item (3) under 10: it must rise above 10.
	 */
	static const double whens[] = { 0, 10, 1, 11, 12, 2, 3 };
	struct deadline items[7];
	struct heap h;

	heap_init(&h);
	init_items(items, 7);
	for (size_t i = 0; i < 7; i++)
		heap_set(&h, &items[i], whens[i]);
	ck_assert_uint_eq(items[3].index, 3);
	heap_remove(&h, &items[3]);
	assert_heap_order(&h);
	ck_assert_uint_eq(items[6].index, 1);
	ck_assert_uint_eq(drain_in_order(&h), 6);
	heap_free(&h);
}
END_TEST

/* A removed item can come back, and a moved one is not duplicated. */
START_TEST(test_reinsert)
{
	struct deadline items[2];
	struct heap h;

	heap_init(&h);
	init_items(items, 2);
	heap_set(&h, &items[0], 4);
	heap_set(&h, &items[1], 5);
	heap_remove(&h, &items[0]);
	heap_set(&h, &items[0], 6);
	ck_assert(heap_contains(&items[0]));
	ck_assert_uint_eq(h.len, 2);
	heap_set(&h, &items[0], 6); /* same deadline again */
	heap_set(&h, &items[1], 7);
	ck_assert_uint_eq(h.len, 2);
	assert_heap_order(&h);
	ck_assert_ptr_eq(pop(&h), &items[0]);
	ck_assert_ptr_eq(pop(&h), &items[1]);
	heap_free(&h);
}
END_TEST

/* Many more items than the first allocation holds, in falling order. */
START_TEST(test_growth)
{
	static struct deadline items[1000];
	struct heap h;
	size_t i;

	heap_init(&h);
	init_items(items, 1000);
	for (i = 0; i < 1000; i++)
		heap_set(&h, &items[i], 1000.0 - (double)i);
	assert_heap_order(&h);
	ck_assert_uint_eq(h.len, 1000);
	ck_assert_ptr_eq(heap_top(&h), &items[999]);
	for (i = 0; i < 1000; i++)
		ck_assert_ptr_eq(pop(&h), &items[999 - i]);
	heap_free(&h);
	ck_assert_uint_eq(h.len, 0);
	ck_assert_uint_eq(h.cap, 0);

	heap_set(&h, &items[0], 1); /* usable again after heap_free */
	ck_assert_ptr_eq(heap_top(&h), &items[0]);
	heap_free(&h);
}
END_TEST

/*
 * Random inserts, moves and removals against a model (which items are in,
 * and the earliest of them).  Deadlines come from a small range, so ties
 * are common.  _i is the seed.
 */
START_TEST(test_random_operations)
{
	static struct deadline items[NITEMS];
	bool in[NITEMS] = { false };
	uint64_t seed = 0x1ea5e9001ULL + (uint64_t)_i;
	struct heap h;
	size_t len = 0;

	heap_init(&h);
	init_items(items, NITEMS);
	for (int step = 0; step < 5000; step++) {
		size_t i = random_below(&seed, NITEMS);
		double earliest = 1e300;

		if (random_below(&seed, 3) == 0) {
			heap_remove(&h, &items[i]);
			len -= in[i];
			in[i] = false;
		} else {
			heap_set(&h, &items[i],
			    (double)random_below(&seed, 50) / 4);
			len += !in[i];
			in[i] = true;
		}
		if (h.len != len)
			ck_abort_msg("step %d: %zu items, %zu expected", step,
			    h.len, len);
		assert_heap_order(&h);
		for (size_t j = 0; j < NITEMS; j++) {
			if (heap_contains(&items[j]) != in[j])
				ck_abort_msg("step %d: item %zu %s the heap",
				    step, j,
				    in[j] ? "missing from" : "still in");
			if (in[j] && items[j].when < earliest)
				earliest = items[j].when;
		}
		if (len == 0 ? heap_top(&h) != NULL :
			       heap_top(&h)->when != earliest)
			ck_abort_msg(
			    "step %d: the top is not the earliest (%g)", step,
			    earliest);
	}
	ck_assert_uint_eq(drain_in_order(&h), len);
	heap_free(&h);
}
END_TEST

Suite *
heap_suite(void)
{
	Suite *s = suite_create("heap");
	TCase *tc;

	tc = unit_case(s, "fixed", NULL, NULL);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_fixed_sequence);
	tcase_add_test(tc, test_remove_last_slot);
	tcase_add_test(tc, test_remove_moves_replacement_up);
	tcase_add_test(tc, test_reinsert);
	tcase_add_test(tc, test_growth);

	tc = unit_case(s, "random", NULL, NULL);
	tcase_add_loop_test(tc, test_random_operations, 0, 8);
	return s;
}
