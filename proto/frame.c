/* SPDX-License-Identifier: ISC */
/*
 * The streaming msgpack framer (frame.h).
 *
 * Only type bytes and length fields are looked at; payloads are skipped.
 * The framer keeps one invariant while a message is being scanned:
 *
 *	msg_bytes + pending + skip + (head_need - head_have) <= max_bytes
 *
 * the bytes seen plus the least the message still owes (each element at
 * least one byte).  It is checked whenever a header adds to what is owed,
 * so a message that declares more than fits is refused at that header,
 * before its bytes arrive, and consuming bytes can never break it.
 */
#include <string.h>

#include "proto/frame.h"

enum length_kind {
	LENGTH_NONE,	 /* no length field: the payload size is fixed */
	LENGTH_BYTES,	 /* str, bin, ext: counts payload bytes */
	LENGTH_ARRAY,	 /* counts elements */
	LENGTH_MAP,	 /* counts pairs, two elements each */
	LENGTH_RESERVED, /* 0xc1 is not a type */
};

/*
 * The type bytes 0xc0..0xdf.  The rest (fixint, fixmap, fixarray, fixstr)
 * carry their size in the type byte itself.
 */
static const struct frame_type {
	uint8_t fixed; /* payload bytes besides what the length counts */
	uint8_t width; /* bytes of the big-endian length field */
	uint8_t kind;  /* enum length_kind */
} frame_types[32] = {
	[0xc0 - 0xc0] = { 0, 0, LENGTH_NONE }, /* nil */
	[0xc1 - 0xc0] = { 0, 0, LENGTH_RESERVED },
	[0xc2 - 0xc0] = { 0, 0, LENGTH_NONE },	/* false */
	[0xc3 - 0xc0] = { 0, 0, LENGTH_NONE },	/* true */
	[0xc4 - 0xc0] = { 0, 1, LENGTH_BYTES }, /* bin 8 */
	[0xc5 - 0xc0] = { 0, 2, LENGTH_BYTES }, /* bin 16 */
	[0xc6 - 0xc0] = { 0, 4, LENGTH_BYTES }, /* bin 32 */
	[0xc7 - 0xc0] = { 1, 1, LENGTH_BYTES }, /* ext 8: type, data */
	[0xc8 - 0xc0] = { 1, 2, LENGTH_BYTES }, /* ext 16 */
	[0xc9 - 0xc0] = { 1, 4, LENGTH_BYTES }, /* ext 32 */
	[0xca - 0xc0] = { 4, 0, LENGTH_NONE },	/* float 32 */
	[0xcb - 0xc0] = { 8, 0, LENGTH_NONE },	/* float 64 */
	[0xcc - 0xc0] = { 1, 0, LENGTH_NONE },	/* uint 8 */
	[0xcd - 0xc0] = { 2, 0, LENGTH_NONE },	/* uint 16 */
	[0xce - 0xc0] = { 4, 0, LENGTH_NONE },	/* uint 32 */
	[0xcf - 0xc0] = { 8, 0, LENGTH_NONE },	/* uint 64 */
	[0xd0 - 0xc0] = { 1, 0, LENGTH_NONE },	/* int 8 */
	[0xd1 - 0xc0] = { 2, 0, LENGTH_NONE },	/* int 16 */
	[0xd2 - 0xc0] = { 4, 0, LENGTH_NONE },	/* int 32 */
	[0xd3 - 0xc0] = { 8, 0, LENGTH_NONE },	/* int 64 */
	[0xd4 - 0xc0] = { 2, 0, LENGTH_NONE },	/* fixext 1: type, data */
	[0xd5 - 0xc0] = { 3, 0, LENGTH_NONE },	/* fixext 2 */
	[0xd6 - 0xc0] = { 5, 0, LENGTH_NONE },	/* fixext 4 */
	[0xd7 - 0xc0] = { 9, 0, LENGTH_NONE },	/* fixext 8 */
	[0xd8 - 0xc0] = { 17, 0, LENGTH_NONE }, /* fixext 16 */
	[0xd9 - 0xc0] = { 0, 1, LENGTH_BYTES }, /* str 8 */
	[0xda - 0xc0] = { 0, 2, LENGTH_BYTES }, /* str 16 */
	[0xdb - 0xc0] = { 0, 4, LENGTH_BYTES }, /* str 32 */
	[0xdc - 0xc0] = { 0, 2, LENGTH_ARRAY }, /* array 16 */
	[0xdd - 0xc0] = { 0, 4, LENGTH_ARRAY }, /* array 32 */
	[0xde - 0xc0] = { 0, 2, LENGTH_MAP },	/* map 16 */
	[0xdf - 0xc0] = { 0, 4, LENGTH_MAP },	/* map 32 */
};

static void
framer_reset(struct lp_framer *f)
{
	f->msg_bytes = 0;
	f->pending = 1;
	f->depth = 0;
	f->left[0] = 1;
	f->head_have = 0;
	f->head_need = 0;
	f->skip = 0;
}

void
lp_framer_init(struct lp_framer *f, size_t max_bytes, unsigned max_depth)
{
	if (max_depth < 1)
		max_depth = 1;
	if (max_depth > LP_FRAME_DEPTH_MAX)
		max_depth = LP_FRAME_DEPTH_MAX;
	f->max_bytes = max_bytes > 0 ? max_bytes : 1;
	f->max_depth = max_depth;
	f->error = LP_FRAME_OK;
	framer_reset(f);
}

/* How many more bytes the message may owe; the invariant keeps it >= 0. */
static uint64_t
framer_room(const struct lp_framer *f)
{
	return (uint64_t)f->max_bytes - f->msg_bytes - f->pending - f->skip -
	    (f->head_need - f->head_have);
}

static enum lp_frame_error
framer_owe_bytes(struct lp_framer *f, uint64_t n)
{
	if (n > framer_room(f))
		return LP_FRAME_TOO_BIG;
	f->skip = n;
	return LP_FRAME_OK;
}

static enum lp_frame_error
framer_open(struct lp_framer *f, uint64_t elements)
{
	/*
	 * msgpack-c refuses any container, even an empty one, once 32 are
	 * open, so an empty container counts against the depth too; it just
	 * does not stay open.
	 */
	if (f->depth == f->max_depth)
		return LP_FRAME_TOO_DEEP;
	if (elements == 0)
		return LP_FRAME_OK;
	if (elements > framer_room(f))
		return LP_FRAME_TOO_BIG;
	f->left[++f->depth] = elements;
	f->pending += elements;
	return LP_FRAME_OK;
}

/* A new element starts with type byte b. */
static enum lp_frame_error
framer_type(struct lp_framer *f, uint8_t b)
{
	const struct frame_type *t;

	/* Close the containers whose last element has ended. */
	while (f->left[f->depth] == 0)
		f->depth--;
	f->left[f->depth]--;
	f->pending--;
	f->msg_bytes++;

	if (b <= 0x7f || b >= 0xe0)
		return LP_FRAME_OK;
	if (b <= 0x8f)
		return framer_open(f, 2 * (b & 0x0f));
	if (b <= 0x9f)
		return framer_open(f, b & 0x0f);
	if (b <= 0xbf)
		return framer_owe_bytes(f, b & 0x1f);

	t = &frame_types[b - 0xc0];
	if (t->kind == LENGTH_RESERVED)
		return LP_FRAME_MALFORMED;
	if (t->width == 0)
		return framer_owe_bytes(f, t->fixed);
	if (t->width > framer_room(f))
		return LP_FRAME_TOO_BIG;
	f->head[0] = b;
	f->head_have = 1;
	f->head_need = 1 + t->width;
	return LP_FRAME_OK;
}

/* The length field in head[] is complete. */
static enum lp_frame_error
framer_length(struct lp_framer *f)
{
	const struct frame_type *t = &frame_types[f->head[0] - 0xc0];
	uint64_t n = 0;
	unsigned i;

	for (i = 1; i < f->head_need; i++)
		n = n << 8 | f->head[i];
	f->head_have = 0;
	f->head_need = 0;

	switch (t->kind) {
	case LENGTH_ARRAY:
		return framer_open(f, n);
	case LENGTH_MAP:
		return framer_open(f, 2 * n);
	default:
		return framer_owe_bytes(f, t->fixed + n);
	}
}

/* Collects length-field bytes, which may arrive split across feeds. */
static enum lp_frame_error
framer_head(struct lp_framer *f, const uint8_t *p, size_t len, size_t *n)
{
	unsigned missing = f->head_need - f->head_have;

	*n = missing < len ? missing : len;
	memcpy(f->head + f->head_have, p, *n);
	f->head_have += (unsigned)*n;
	f->msg_bytes += *n;
	if (f->head_have < f->head_need)
		return LP_FRAME_OK;
	return framer_length(f);
}

enum lp_frame_status
lp_framer_feed(struct lp_framer *f, const void *buf, size_t len, size_t *used)
{
	const uint8_t *bytes = buf;
	enum lp_frame_error e = LP_FRAME_OK;
	size_t i = 0, n;

	*used = 0;
	if (f->error != LP_FRAME_OK)
		return LP_FRAME_ERROR;

	while (i < len) {
		if (f->skip > 0) {
			n = f->skip < len - i ? f->skip : len - i;
			f->skip -= n;
			f->msg_bytes += n;
			i += n;
		} else if (f->head_need > 0) {
			e = framer_head(f, bytes + i, len - i, &n);
			i += n;
		} else
			e = framer_type(f, bytes[i++]);

		if (e != LP_FRAME_OK) {
			f->error = e;
			*used = i;
			return LP_FRAME_ERROR;
		}
		if (f->pending == 0 && f->skip == 0 && f->head_need == 0) {
			framer_reset(f);
			*used = i;
			return LP_FRAME_DONE;
		}
	}
	*used = len;
	return LP_FRAME_MORE;
}

size_t
lp_framer_partial(const struct lp_framer *f)
{
	return f->msg_bytes;
}

const char *
lp_frame_error_string(enum lp_frame_error e)
{
	switch (e) {
	case LP_FRAME_OK:
		return "no error";
	case LP_FRAME_MALFORMED:
		return "not msgpack: reserved byte 0xc1";
	case LP_FRAME_TOO_BIG:
		return "message larger than the size limit";
	case LP_FRAME_TOO_DEEP:
		return "message nested deeper than the depth limit";
	}
	return "unknown framing error";
}
