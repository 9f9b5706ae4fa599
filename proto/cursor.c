/* SPDX-License-Identifier: ISC */
/*
 * Reading msgpack in place (cursor.h).  Every length is checked against
 * the bytes left before it is used, so a cursor never reads past the end
 * of its buffer whatever the bytes declare.
 */
#include <string.h>

#include "proto/cursor.h"

void
lp_cursor_init(struct lp_cursor *c, const void *buf, size_t len)
{
	c->p = buf;
	c->end = c->p + len;
}

/* The big-endian unsigned integer of width bytes at p. */
static uint64_t
read_be(const unsigned char *p, unsigned width)
{
	uint64_t v = 0;

	while (width-- > 0)
		v = v << 8 | *p++;
	return v;
}

/* An integer of a signed type: msgpack-c calls it positive when it is >= 0. */
static void
set_signed(msgpack_object *o, int64_t v)
{
	if (v >= 0) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = (uint64_t)v;
	} else {
		o->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
		o->via.i64 = v;
	}
}

/* The signed integer of width bytes (1, 2, 4 or 8) at p. */
static int64_t
read_signed(const unsigned char *p, unsigned width)
{
	uint64_t u = read_be(p, width);
	unsigned shift = 64 - 8 * width;

	/* Sign-extends through the top bits; a shift of 64 would be undefined. */
	return shift == 0 ? (int64_t)u : (int64_t)(u << shift) >> shift;
}

static void
set_float(msgpack_object *o, const unsigned char *p, unsigned width)
{
	uint64_t bits = read_be(p, width);
	uint32_t bits32 = (uint32_t)bits;
	float f;

	if (width == 4) {
		memcpy(&f, &bits32, sizeof f);
		o->type = MSGPACK_OBJECT_FLOAT32;
		o->via.f64 = f;
	} else {
		o->type = MSGPACK_OBJECT_FLOAT64;
		memcpy(&o->via.f64, &bits, sizeof o->via.f64);
	}
}

/*
 * A string, bin or ext of size bytes whose body starts at body (an ext's
 * type byte is before it).
 */
static void
set_bytes(msgpack_object *o, msgpack_object_type type,
    const unsigned char *body, uint32_t size)
{
	o->type = type;
	switch (type) {
	case MSGPACK_OBJECT_STR:
		o->via.str.ptr = (const char *)body;
		o->via.str.size = size;
		break;
	case MSGPACK_OBJECT_BIN:
		o->via.bin.ptr = (const char *)body;
		o->via.bin.size = size;
		break;
	default:
		o->via.ext.type = (int8_t)body[-1];
		o->via.ext.ptr = (const char *)body;
		o->via.ext.size = size;
		break;
	}
}

static void
set_container(msgpack_object *o, msgpack_object_type type, uint32_t size)
{
	o->type = type;
	if (type == MSGPACK_OBJECT_ARRAY) {
		o->via.array.size = size;
		o->via.array.ptr = NULL;
	} else {
		o->via.map.size = size;
		o->via.map.ptr = NULL;
	}
}

/*
 * The head of a value whose type byte b carries no size of its own:
 * width is that of its length or payload field, which starts at p, with
 * left bytes from there to the end.  Returns the bytes it takes after the
 * type byte, or 0 when they are not all there.
 */
static size_t
read_typed(msgpack_object *o, unsigned char b, const unsigned char *p,
    size_t left)
{
	static const msgpack_object_type byte_types[] = {
		MSGPACK_OBJECT_BIN,
		MSGPACK_OBJECT_EXT,
		MSGPACK_OBJECT_STR,
	};
	unsigned width;
	uint64_t n;

	if (b >= 0xc4 && b <= 0xc9) { /* bin 8..32, ext 8..32 */
		width = 1u << (b - 0xc4) % 3;
		if (left < width)
			return 0;
		n = read_be(p, width);
		/* An ext's type byte comes between its length and its data. */
		width += b >= 0xc7;
		if (left < width || left - width < n)
			return 0;
		set_bytes(o, byte_types[b >= 0xc7], p + width, (uint32_t)n);
		return width + n;
	}
	if (b >= 0xd4 && b <= 0xd8) { /* fixext 1..16: a type byte, then data */
		n = 1u << (b - 0xd4);
		if (left < 1 + n)
			return 0;
		set_bytes(o, MSGPACK_OBJECT_EXT, p + 1, (uint32_t)n);
		return 1 + n;
	}
	if (b >= 0xd9 && b <= 0xdb) { /* str 8..32 */
		width = 1u << (b - 0xd9);
		if (left < width || left - width < (n = read_be(p, width)))
			return 0;
		set_bytes(o, MSGPACK_OBJECT_STR, p + width, (uint32_t)n);
		return width + n;
	}
	if (b >= 0xdc) { /* array 16, 32, map 16, 32 */
		width = 2u << (b & 1);
		if (left < width)
			return 0;
		set_container(o,
		    b <= 0xdd ? MSGPACK_OBJECT_ARRAY : MSGPACK_OBJECT_MAP,
		    (uint32_t)read_be(p, width));
		return width;
	}
	/* Numbers: float 32, 64, uint 8..64, int 8..64. */
	if (b == 0xca || b == 0xcb)
		width = b == 0xca ? 4 : 8;
	else if (b >= 0xcc && b <= 0xd3)
		width = 1u << (b - 0xcc) % 4;
	else
		return 0; /* 0xc1, reserved */
	if (left < width)
		return 0;
	if (b <= 0xcb) {
		set_float(o, p, width);
	} else if (b <= 0xcf) {
		o->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		o->via.u64 = read_be(p, width);
	} else {
		set_signed(o, read_signed(p, width));
	}
	return width;
}

bool
lp_cursor_next(struct lp_cursor *c, msgpack_object *o)
{
	size_t left = (size_t)(c->end - c->p), used;
	unsigned char b;

	if (left == 0)
		return false;
	b = *c->p;
	left--;
	if (b <= 0x7f || b >= 0xe0) {
		set_signed(o, (int8_t)b);
	} else if (b <= 0x8f) {
		set_container(o, MSGPACK_OBJECT_MAP, b & 0x0f);
	} else if (b <= 0x9f) {
		set_container(o, MSGPACK_OBJECT_ARRAY, b & 0x0f);
	} else if (b <= 0xbf) {
		if (left < (b & 0x1fu))
			return false;
		set_bytes(o, MSGPACK_OBJECT_STR, c->p + 1, b & 0x1f);
		c->p += 1 + (b & 0x1f);
		return true;
	} else if (b == 0xc0) {
		o->type = MSGPACK_OBJECT_NIL;
	} else if (b == 0xc2 || b == 0xc3) {
		o->type = MSGPACK_OBJECT_BOOLEAN;
		o->via.boolean = b == 0xc3;
	} else {
		if ((used = read_typed(o, b, c->p + 1, left)) == 0)
			return false;
		c->p += 1 + used;
		return true;
	}
	c->p++;
	return true;
}

static bool
is_container(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_ARRAY || o->type == MSGPACK_OBJECT_MAP;
}

/* How many values a container's head opens: an array's elements, a map's keys and values. */
static uint64_t
elements(const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_ARRAY)
		return o->via.array.size;
	return 2 * (uint64_t)o->via.map.size;
}

bool
lp_cursor_value(struct lp_cursor *c, msgpack_object *o, struct lp_raw *raw)
{
	/* elements still to read, per open container */
	uint64_t left[LP_FRAME_DEPTH_MAX];
	struct lp_cursor walk = *c;
	msgpack_object inner;
	const msgpack_object *head = o;
	unsigned open = 0, deepest = 0;

	if (!lp_cursor_next(&walk, o))
		return false;
	/* Each element takes a byte at least, so this ends with the buffer. */
	for (;;) {
		if (is_container(head)) {
			if (open == LP_FRAME_DEPTH_MAX)
				return false;
			left[open++] = elements(head);
			if (open > deepest)
				deepest = open;
		}
		while (open > 0 && left[open - 1] == 0)
			open--;
		if (open == 0)
			break;
		left[open - 1]--;
		if (!lp_cursor_next(&walk, &inner))
			return false;
		head = &inner;
	}
	raw->ptr = (const char *)c->p;
	raw->len = (size_t)(walk.p - c->p);
	raw->depth = deepest;
	*c = walk;
	return true;
}
