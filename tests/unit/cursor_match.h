/* SPDX-License-Identifier: ISC */
/*
 * Test helper, for the cursor's unit tests and the decoder's fuzz target:
 * whether a cursor reads the next value as msgpack-c decoded it, element by
 * element.
 */
#ifndef LP_TESTS_CURSOR_MATCH_H
#define LP_TESTS_CURSOR_MATCH_H

#include <stdbool.h>
#include <string.h>
#include <msgpack.h>

#include "proto/cursor.h"

static inline bool
cursor_matches(struct lp_cursor *c, const msgpack_object *o)
{
	msgpack_object head;
	uint32_t i;

	if (!lp_cursor_next(c, &head) || head.type != o->type)
		return false;
	switch (o->type) {
	case MSGPACK_OBJECT_ARRAY:
		if (head.via.array.size != o->via.array.size)
			return false;
		for (i = 0; i < o->via.array.size; i++)
			if (!cursor_matches(c, &o->via.array.ptr[i]))
				return false;
		return true;
	case MSGPACK_OBJECT_MAP:
		if (head.via.map.size != o->via.map.size)
			return false;
		for (i = 0; i < o->via.map.size; i++)
			if (!cursor_matches(c, &o->via.map.ptr[i].key) ||
			    !cursor_matches(c, &o->via.map.ptr[i].val))
				return false;
		return true;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		/* Bit for bit: NaN equals nothing. */
		return memcmp(&head.via.f64, &o->via.f64, sizeof o->via.f64) ==
		    0;
	default:
		/* Strings, bins and exts by content: the same bytes, read in place. */
		return msgpack_object_equal(head, *o);
	}
}

#endif
