/* SPDX-License-Identifier: ISC */
#include <stdint.h>
#include <stdlib.h>

#include "daemon/core/heap.h"
#include "daemon/core/log.h"

void
heap_init(struct heap *h)
{
	h->items = NULL;
	h->len = h->cap = 0;
}

void
heap_free(struct heap *h)
{
	free(h->items);
	heap_init(h);
}

void
heap_item_init(struct deadline *d, int kind)
{
	d->when = 0;
	d->kind = kind;
	d->index = SIZE_MAX;
}

bool
heap_contains(const struct deadline *d)
{
	return d->index != SIZE_MAX;
}

static void
place(struct heap *h, size_t i, struct deadline *d)
{
	h->items[i] = d;
	d->index = i;
}

static void
sift_up(struct heap *h, size_t i)
{
	struct deadline *d = h->items[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->items[parent]->when <= d->when)
			break;
		place(h, i, h->items[parent]);
		i = parent;
	}
	place(h, i, d);
}

static void
sift_down(struct heap *h, size_t i)
{
	struct deadline *d = h->items[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->len)
			break;
		if (child + 1 < h->len &&
		    h->items[child + 1]->when < h->items[child]->when)
			child++;
		if (d->when <= h->items[child]->when)
			break;
		place(h, i, h->items[child]);
		i = child;
	}
	place(h, i, d);
}

void
heap_set(struct heap *h, struct deadline *d, double when)
{
	if (heap_contains(d)) {
		d->when = when;
		sift_up(h, d->index);
		sift_down(h, d->index);
		return;
	}
	if (h->len == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct deadline **items =
		    reallocarray(h->items, cap, sizeof *items);

		if (items == NULL)
			fatalx("out of memory");
		h->items = items;
		h->cap = cap;
	}
	d->when = when;
	place(h, h->len++, d);
	sift_up(h, d->index);
}

void
heap_remove(struct heap *h, struct deadline *d)
{
	size_t i = d->index;
	struct deadline *moved;

	if (!heap_contains(d))
		return;
	d->index = SIZE_MAX;
	if (i == --h->len)
		return;
	moved = h->items[h->len];
	place(h, i, moved);
	sift_up(h, i);
	sift_down(h, moved->index);
}

struct deadline *
heap_top(const struct heap *h)
{
	return h->len ? h->items[0] : NULL;
}
