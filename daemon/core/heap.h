/* SPDX-License-Identifier: ISC */
/*
 * A binary min-heap of deadlines: one place for every lease expiry,
 * acquire timeout and submission timeout, so one timer serves them all.
 * Items are embedded in their owners and remember their index, so removal
 * is O(log n).
 */
#ifndef LP_DAEMON_HEAP_H
#define LP_DAEMON_HEAP_H

#include <stdbool.h>
#include <stddef.h>

/* The owner of the deadline p, its member. */
#define container_of(p, type, member) \
	((type *)(void *)((char *)(p)-offsetof(type, member)))

struct deadline {
	double when;
	size_t index; /* position in the heap; SIZE_MAX when not in it */
	int kind;     /* the owner's: tells what kind of object holds it */
};

struct heap {
	struct deadline **items;
	size_t len, cap;
};

void heap_init(struct heap *h);
void heap_free(struct heap *h);
void heap_item_init(struct deadline *d, int kind);
bool heap_contains(const struct deadline *d);
/* Inserts d, or moves it when it is already in the heap. */
void heap_set(struct heap *h, struct deadline *d, double when);
void heap_remove(struct heap *h, struct deadline *d);
/* The earliest deadline, or NULL. */
struct deadline *heap_top(const struct heap *h);

#endif
