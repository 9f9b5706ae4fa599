/* SPDX-License-Identifier: ISC */
/*
 * Reading msgpack in place, one value at a time, without a zone.
 *
 * The daemon checks every request on its hot path; unpacking the whole
 * message into msgpack_objects and then packing a job's arguments again
 * cost more than everything else it does for a run.  A cursor reads the
 * header of each value as msgpack_unpack() would decode it, skips what the
 * daemon need not look at, and gives any value as the span of bytes that
 * encodes it, so that a job's arguments are forwarded as they came.
 */
#ifndef LP_PROTO_CURSOR_H
#define LP_PROTO_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <msgpack.h>

#include "proto/frame.h" /* LP_FRAME_DEPTH_MAX: how deep msgpack-c goes */

struct lp_cursor {
	const unsigned char *p;
	const unsigned char *end;
};

/* A value's encoding: len bytes at ptr, which stay the caller's. */
struct lp_raw {
	const char *ptr;
	size_t len;
	unsigned depth; /* containers open at once in it, itself included */
};

void lp_cursor_init(struct lp_cursor *c, const void *buf, size_t len);

/*
 * Reads the next value's head into o, typed and valued as msgpack_unpack()
 * would decode it: scalars whole (a string's ptr points into the buffer),
 * an array or a map with its size but with ptr NULL, its elements still to
 * be read.  False, with the cursor where it was, when the buffer ends
 * first or holds the reserved byte 0xc1.
 */
bool lp_cursor_next(struct lp_cursor *c, msgpack_object *o);

/*
 * Reads the next value whole: its head into o as lp_cursor_next() does,
 * and the span of bytes that encode it, elements included, into raw.
 * Like lp_cursor_next() it fails when the bytes end first, hold 0xc1, or
 * nest more than LP_FRAME_DEPTH_MAX containers.
 */
bool lp_cursor_value(struct lp_cursor *c, msgpack_object *o,
    struct lp_raw *raw);

#endif
