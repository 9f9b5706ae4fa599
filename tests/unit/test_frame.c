/* SPDX-License-Identifier: ISC */
/*
 * The streaming framer: every msgpack type, every way of splitting a
 * message, the size and depth limits, and a long pseudo-random stream whose
 * every framed message msgpack-c must be able to decode.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <msgpack.h>

#include "daemon/backend/wire.h"
#include "proto/frame.h"
#include "tests/suites.h"

#define BIG (1u << 20)

struct sample {
	const char *name;
	size_t len;
	const uint8_t *bytes;
};

/* clang-format 14 garbles a braced initializer in a macro. */
/* clang-format off */
#define SAMPLE(name, ...) { name, sizeof((const uint8_t[]){ __VA_ARGS__ }), \
	(const uint8_t[]){ __VA_ARGS__ } }
/* clang-format on */

/* One message of every type byte family, with the widest encodings too. */
static const struct sample samples[] = {
	SAMPLE("positive fixint 0", 0x00),
	SAMPLE("positive fixint 127", 0x7f),
	SAMPLE("negative fixint -32", 0xe0),
	SAMPLE("negative fixint -1", 0xff),
	SAMPLE("nil", 0xc0),
	SAMPLE("false", 0xc2),
	SAMPLE("true", 0xc3),
	SAMPLE("bin 8", 0xc4, 0x03, 'a', 'b', 'c'),
	SAMPLE("bin 8 empty", 0xc4, 0x00),
	SAMPLE("bin 16", 0xc5, 0x00, 0x02, 'x', 'y'),
	SAMPLE("bin 32", 0xc6, 0x00, 0x00, 0x00, 0x01, 'z'),
	SAMPLE("ext 8", 0xc7, 0x02, 0x05, 0xaa, 0xbb),
	SAMPLE("ext 8 empty", 0xc7, 0x00, 0x05),
	SAMPLE("ext 16", 0xc8, 0x00, 0x01, 0x05, 0xaa),
	SAMPLE("ext 32", 0xc9, 0x00, 0x00, 0x00, 0x01, 0x05, 0xaa),
	SAMPLE("float 32", 0xca, 0x3f, 0xc0, 0x00, 0x00),
	SAMPLE("float 64", 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0),
	SAMPLE("uint 8", 0xcc, 0xff),
	SAMPLE("uint 16", 0xcd, 0xff, 0xff),
	SAMPLE("uint 32", 0xce, 0xff, 0xff, 0xff, 0xff),
	SAMPLE("uint 64", 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
	SAMPLE("int 8", 0xd0, 0x80),
	SAMPLE("int 16", 0xd1, 0x80, 0x00),
	SAMPLE("int 32", 0xd2, 0x80, 0x00, 0x00, 0x00),
	SAMPLE("int 64", 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0),
	SAMPLE("fixext 1", 0xd4, 0x01, 0xaa),
	SAMPLE("fixext 2", 0xd5, 0x01, 0xaa, 0xbb),
	SAMPLE("fixext 4", 0xd6, 0x01, 1, 2, 3, 4),
	SAMPLE("fixext 8", 0xd7, 0x01, 1, 2, 3, 4, 5, 6, 7, 8),
	SAMPLE("fixext 16", 0xd8, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	    13, 14, 15, 16),
	SAMPLE("fixstr empty", 0xa0),
	SAMPLE("fixstr", 0xa3, 'a', 'b', 'c'),
	SAMPLE("str 8", 0xd9, 0x02, 'h', 'i'),
	SAMPLE("str 8 empty", 0xd9, 0x00),
	SAMPLE("str 16", 0xda, 0x00, 0x01, 'a'),
	SAMPLE("str 32", 0xdb, 0x00, 0x00, 0x00, 0x01, 'a'),
	SAMPLE("fixarray empty", 0x90),
	SAMPLE("fixarray", 0x93, 0x01, 0x02, 0x03),
	SAMPLE("array 16", 0xdc, 0x00, 0x02, 0x01, 0xc0),
	SAMPLE("array 16 empty", 0xdc, 0x00, 0x00),
	SAMPLE("array 32", 0xdd, 0x00, 0x00, 0x00, 0x01, 0xc3),
	SAMPLE("fixmap empty", 0x80),
	SAMPLE("fixmap", 0x82, 0x01, 0x02, 0xa1, 'k', 0xc0),
	SAMPLE("map 16", 0xde, 0x00, 0x01, 0xa1, 'k', 0x01),
	SAMPLE("map 32", 0xdf, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02),
	SAMPLE("map 32 empty", 0xdf, 0x00, 0x00, 0x00, 0x00),
	SAMPLE("nested", 0x92, 0x81, 0xa1, 'k', 0x91, 0xc0, 0xdc, 0x00, 0x01,
	    0xde, 0x00, 0x01, 0xd9, 0x01, 'x', 0xcb, 0, 0, 0, 0, 0, 0, 0, 0),
	SAMPLE("request", 0x94, 0x00, 0x01, 0xa5, 'h', 'e', 'l', 'l', 'o', 0x91,
	    0x80),
};
#define NSAMPLES (sizeof samples / sizeof samples[0])

/* msgpack-c decodes exactly these bytes as one object. */
static void
assert_unpacks(const void *bytes, size_t len)
{
	msgpack_zone zone;
	msgpack_object obj;
	size_t off = 0;

	msgpack_zone_init(&zone, 1024);
	ck_assert_int_eq(msgpack_unpack(bytes, len, &off, &zone, &obj),
	    MSGPACK_UNPACK_SUCCESS);
	ck_assert_uint_eq(off, len);
	msgpack_zone_destroy(&zone);
}

static enum lp_frame_status
feed(struct lp_framer *f, const void *bytes, size_t len, size_t *used)
{
	*used = SIZE_MAX;
	return lp_framer_feed(f, bytes, len, used);
}

/* Feeds bytes that must not complete the message. */
static void
feed_more(struct lp_framer *f, const uint8_t *bytes, size_t len)
{
	size_t used;

	ck_assert_int_eq(feed(f, bytes, len, &used), LP_FRAME_MORE);
	ck_assert_uint_eq(used, len);
}

/* Feeds bytes that must complete the message at their last byte. */
static void
feed_done(struct lp_framer *f, const uint8_t *bytes, size_t len)
{
	size_t used;

	ck_assert_int_eq(feed(f, bytes, len, &used), LP_FRAME_DONE);
	ck_assert_uint_eq(used, len);
	ck_assert_uint_eq(lp_framer_partial(f), 0);
}

/* Feeds bytes that must fail with e after exactly used bytes. */
static void
feed_error(struct lp_framer *f, const uint8_t *bytes, size_t len,
    enum lp_frame_error e, size_t want_used)
{
	size_t used;

	ck_assert_int_eq(feed(f, bytes, len, &used), LP_FRAME_ERROR);
	ck_assert_int_eq(f->error, e);
	ck_assert_uint_eq(used, want_used);
}

START_TEST(test_sample_whole)
{
	const struct sample *s = &samples[_i];
	struct lp_framer f;

	lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
	feed_done(&f, s->bytes, s->len);
	assert_unpacks(s->bytes, s->len);
}
END_TEST

START_TEST(test_sample_bytewise)
{
	const struct sample *s = &samples[_i];
	struct lp_framer f;
	size_t i;

	lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
	for (i = 0; i + 1 < s->len; i++) {
		feed_more(&f, s->bytes + i, 1);
		ck_assert_uint_eq(lp_framer_partial(&f), i + 1);
	}
	feed_done(&f, s->bytes + i, 1);
}
END_TEST

/* Every split into three pieces, empty pieces included. */
START_TEST(test_sample_splits)
{
	const struct sample *s = &samples[_i];
	struct lp_framer f;
	size_t i, j;

	for (i = 0; i < s->len; i++) {
		for (j = i; j < s->len; j++) {
			lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
			feed_more(&f, s->bytes, i);
			feed_more(&f, s->bytes + i, j - i);
			ck_assert_uint_eq(lp_framer_partial(&f), j);
			feed_done(&f, s->bytes + j, s->len - j);
		}
	}
}
END_TEST

START_TEST(test_sample_truncated)
{
	const struct sample *s = &samples[_i];
	struct lp_framer f;
	size_t i;

	for (i = 0; i < s->len; i++) {
		lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
		feed_more(&f, s->bytes, i);
	}
}
END_TEST

/* Exactly max_bytes passes, one byte less fails, in every piece size. */
START_TEST(test_sample_size_limit)
{
	const struct sample *s = &samples[_i];
	struct lp_framer f;
	enum lp_frame_status st = LP_FRAME_MORE;
	size_t i, used;

	lp_framer_init(&f, s->len, LP_FRAME_DEPTH_MAX);
	feed_done(&f, s->bytes, s->len);
	if (s->len == 1)
		return;
	lp_framer_init(&f, s->len - 1, LP_FRAME_DEPTH_MAX);
	for (i = 0; i < s->len && st == LP_FRAME_MORE; i++)
		st = feed(&f, s->bytes + i, 1, &used);
	ck_assert_int_eq(st, LP_FRAME_ERROR);
	ck_assert_int_eq(f.error, LP_FRAME_TOO_BIG);
}
END_TEST

/*
 * Feeds buf in pieces of the sizes piece() returns and records where each
 * framed message ends.  Returns how many ended; stops at an error.
 */
static size_t
frame_stream(struct lp_framer *f, const uint8_t *buf, size_t len,
    size_t (*piece)(void *), void *ctx, size_t *ends, size_t max_ends)
{
	size_t pos = 0, stop, used, n = 0;
	enum lp_frame_status st;

	while (pos < len) {
		stop = pos + piece(ctx);
		if (stop > len)
			stop = len;
		do {
			st = feed(f, buf + pos, stop - pos, &used);
			ck_assert_uint_le(used, stop - pos);
			pos += used;
			if (st == LP_FRAME_ERROR)
				return n;
			if (st == LP_FRAME_DONE) {
				ck_assert_uint_lt(n, max_ends);
				ends[n++] = pos;
			}
		} while (pos < stop);
	}
	return n;
}

/* All the samples back to back, in one buffer. */
static uint8_t *
samples_stream(size_t *len, size_t *ends)
{
	uint8_t *buf;
	size_t i;

	for (*len = 0, i = 0; i < NSAMPLES; i++)
		*len += samples[i].len;
	buf = malloc(*len);
	for (*len = 0, i = 0; i < NSAMPLES; i++) {
		memcpy(buf + *len, samples[i].bytes, samples[i].len);
		*len += samples[i].len;
		ends[i] = *len;
	}
	return buf;
}

struct split {
	size_t first; /* the first piece, then everything */
	size_t calls;
};

static size_t
split_piece(void *ctx)
{
	struct split *sp = ctx;

	return sp->calls++ == 0 ? sp->first : SIZE_MAX / 2;
}

static size_t
one_byte(void *ctx)
{
	return 1;
}

START_TEST(test_back_to_back)
{
	size_t want[NSAMPLES], got[NSAMPLES], len, i;
	struct lp_framer f;
	struct split sp;
	uint8_t *buf = samples_stream(&len, want);

	lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
	ck_assert_uint_eq(
	    frame_stream(&f, buf, len, one_byte, NULL, got, NSAMPLES),
	    NSAMPLES);
	ck_assert_mem_eq(got, want, sizeof want);

	for (i = 0; i <= len; i++) {
		sp.first = i;
		sp.calls = 0;
		lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
		ck_assert_uint_eq(
		    frame_stream(&f, buf, len, split_piece, &sp, got, NSAMPLES),
		    NSAMPLES);
		ck_assert_mem_eq(got, want, sizeof want);
	}
	free(buf);
}
END_TEST

/* Headers that declare far more than any limit. */
static const struct sample huge[] = {
	SAMPLE("array 32", 0xdd, 0xff, 0xff, 0xff, 0xff),
	SAMPLE("map 32", 0xdf, 0xff, 0xff, 0xff, 0xff),
	SAMPLE("str 32", 0xdb, 0xff, 0xff, 0xff, 0xff),
	SAMPLE("bin 32", 0xc6, 0xff, 0xff, 0xff, 0xff),
	SAMPLE("ext 32", 0xc9, 0xff, 0xff, 0xff, 0xff),
	SAMPLE("nested array 32", 0x91, 0xdd, 0xff, 0xff, 0xff, 0xff),
	SAMPLE("map 16 in map", 0x81, 0xc0, 0xde, 0xff, 0xff),
};
#define NHUGE (sizeof huge / sizeof huge[0])

/* A header that declares more than max_bytes fails at once, whatever follows. */
START_TEST(test_declared_too_big)
{
	const struct sample *s = &huge[_i];
	struct lp_framer f;

	lp_framer_init(&f, LP_FRAME_DEPTH_MAX * 1024, LP_FRAME_DEPTH_MAX);
	feed_error(&f, s->bytes, s->len, LP_FRAME_TOO_BIG, s->len);
}
END_TEST

/* Every owed element counts as one byte, before any of them arrives. */
START_TEST(test_declared_elements)
{
	static const uint8_t fixarray15[] = { 0x9f };
	static const uint8_t fixmap15[] = { 0x8f };
	static const uint8_t array32_1000[] = { 0xdd, 0x00, 0x00, 0x03, 0xe8 };
	static const uint8_t str8_header[] = { 0xd9 };
	static const uint8_t str32_header[] = { 0xdb };
	struct lp_framer f;

	lp_framer_init(&f, 15, LP_FRAME_DEPTH_MAX);
	feed_error(&f, fixarray15, 1, LP_FRAME_TOO_BIG, 1);
	lp_framer_init(&f, 16, LP_FRAME_DEPTH_MAX);
	feed_more(&f, fixarray15, 1);

	lp_framer_init(&f, 30, LP_FRAME_DEPTH_MAX);
	feed_error(&f, fixmap15, 1, LP_FRAME_TOO_BIG, 1);
	lp_framer_init(&f, 31, LP_FRAME_DEPTH_MAX);
	feed_more(&f, fixmap15, 1);

	lp_framer_init(&f, 1004, LP_FRAME_DEPTH_MAX);
	feed_error(&f, array32_1000, 5, LP_FRAME_TOO_BIG, 5);
	lp_framer_init(&f, 1005, LP_FRAME_DEPTH_MAX);
	feed_more(&f, array32_1000, 5);

	/* Even the length field owes its bytes. */
	lp_framer_init(&f, 1, LP_FRAME_DEPTH_MAX);
	feed_error(&f, str8_header, 1, LP_FRAME_TOO_BIG, 1);
	lp_framer_init(&f, 4, LP_FRAME_DEPTH_MAX);
	feed_error(&f, str32_header, 1, LP_FRAME_TOO_BIG, 1);
	lp_framer_init(&f, 5, LP_FRAME_DEPTH_MAX);
	feed_more(&f, str32_header, 1);
}
END_TEST

/* A message that fits is accepted after one that nearly did not. */
START_TEST(test_limit_per_message)
{
	static const uint8_t two[] = { 0xa3, 'a', 'b', 'c', 0xa3, 'd', 'e',
		'f' };
	struct lp_framer f;
	size_t used;

	lp_framer_init(&f, 4, LP_FRAME_DEPTH_MAX);
	ck_assert_int_eq(feed(&f, two, sizeof two, &used), LP_FRAME_DONE);
	ck_assert_uint_eq(used, 4);
	feed_done(&f, two + 4, 4);
}
END_TEST

/* depth nested one-element containers around a nil, as arrays or maps. */
static size_t
nested(uint8_t *buf, unsigned depth, bool maps, bool empty_inside)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < depth; i++) {
		if (maps) {
			buf[n++] = 0x81;
			buf[n++] = 0x01;
		} else
			buf[n++] = 0x91;
	}
	if (empty_inside)
		buf[n++] = maps ? 0x80 : 0x90;
	else
		buf[n++] = 0xc0;
	return n;
}

/* Exactly max_depth passes, one more fails, for maps and arrays. */
START_TEST(test_depth_limit)
{
	static const unsigned limits[] = { 1, 2, 3, 7, 31, 32 };
	uint8_t buf[2 * (LP_FRAME_DEPTH_MAX + 2)];
	struct lp_framer f;
	unsigned i, maps;
	size_t len;

	for (i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		for (maps = 0; maps < 2; maps++) {
			len = nested(buf, limits[i], maps, false);
			lp_framer_init(&f, BIG, limits[i]);
			feed_done(&f, buf, len);

			len = nested(buf, limits[i] + 1, maps, false);
			lp_framer_init(&f, BIG, limits[i]);
			feed_error(&f, buf, len, LP_FRAME_TOO_DEEP,
			    len - 1 - maps);
		}
	}
}
END_TEST

/*
 * msgpack-c opens at most 32 containers, and refuses even an empty one
 * past that: the framer's limit is exactly msgpack-c's.
 */
START_TEST(test_depth_matches_msgpack)
{
	uint8_t buf[LP_FRAME_DEPTH_MAX + 2];
	msgpack_zone zone;
	msgpack_object obj;
	struct lp_framer f;
	size_t len, off = 0;

	len = nested(buf, LP_FRAME_DEPTH_MAX, false, false);
	assert_unpacks(buf, len);

	msgpack_zone_init(&zone, 1024);
	len = nested(buf, LP_FRAME_DEPTH_MAX + 1, false, false);
	ck_assert_int_lt(msgpack_unpack((char *)buf, len, &off, &zone, &obj),
	    0);
	len = nested(buf, LP_FRAME_DEPTH_MAX, false, true);
	off = 0;
	ck_assert_int_lt(msgpack_unpack((char *)buf, len, &off, &zone, &obj),
	    0);
	msgpack_zone_destroy(&zone);

	lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
	feed_error(&f, buf, len, LP_FRAME_TOO_DEEP, len);
	len = nested(buf, LP_FRAME_DEPTH_MAX - 1, false, true);
	lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
	feed_done(&f, buf, len);
	assert_unpacks(buf, len);
}
END_TEST

/* Depth is nesting, not a count of containers: siblings reuse a level. */
START_TEST(test_depth_siblings)
{
	static const uint8_t siblings[] = { 0x94, 0x91, 0x01, 0x91, 0x02, 0x81,
		0x01, 0x03, 0x90 };
	static const uint8_t deep_then_shallow[] = { 0x92, 0x91, 0x91, 0x01,
		0x91, 0x91, 0x02 };
	struct lp_framer f;

	lp_framer_init(&f, BIG, 2);
	feed_done(&f, siblings, sizeof siblings);
	lp_framer_init(&f, BIG, 3);
	feed_done(&f, deep_then_shallow, sizeof deep_then_shallow);
}
END_TEST

START_TEST(test_init_clamps)
{
	static const uint8_t depth2[] = { 0x91, 0x91, 0x01 };
	uint8_t deep[LP_FRAME_DEPTH_MAX + 2];
	struct lp_framer f;
	size_t len;

	lp_framer_init(&f, BIG, 0);
	ck_assert_uint_eq(f.max_depth, 1);
	feed_error(&f, depth2, sizeof depth2, LP_FRAME_TOO_DEEP, 2);

	lp_framer_init(&f, BIG, 1000);
	ck_assert_uint_eq(f.max_depth, LP_FRAME_DEPTH_MAX);
	len = nested(deep, LP_FRAME_DEPTH_MAX + 1, false, false);
	feed_error(&f, deep, len, LP_FRAME_TOO_DEEP, len - 1);

	lp_framer_init(&f, 0, 1);
	feed_done(&f, depth2 + 2, 1);
}
END_TEST

START_TEST(test_reserved_byte)
{
	static const uint8_t top[] = { 0xc1 };
	static const uint8_t inside[] = { 0x92, 0x01, 0xc1, 0x02 };
	static const uint8_t in_payload[] = { 0xa1, 0xc1 };
	static const uint8_t valid[] = { 0x01 };
	struct lp_framer f;
	size_t used;

	lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
	feed_error(&f, top, sizeof top, LP_FRAME_MALFORMED, 1);
	lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
	feed_error(&f, inside, sizeof inside, LP_FRAME_MALFORMED, 3);

	/* The framer stays broken until it is initialised again. */
	ck_assert_int_eq(feed(&f, valid, 1, &used), LP_FRAME_ERROR);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(f.error, LP_FRAME_MALFORMED);
	lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
	feed_done(&f, valid, 1);

	feed_done(&f, in_payload, sizeof in_payload);
}
END_TEST

START_TEST(test_empty_feed)
{
	static const uint8_t one[] = { 0x01 };
	struct lp_framer f;

	lp_framer_init(&f, BIG, LP_FRAME_DEPTH_MAX);
	feed_more(&f, NULL, 0);
	feed_done(&f, one, 1);
}
END_TEST

/* A payload far larger than any piece is skipped, not buffered. */
START_TEST(test_long_payload)
{
	size_t len = 5 + BIG, i, piece = 4093;
	uint8_t *buf = calloc(1, len);
	struct lp_framer f;

	buf[0] = 0xc6; /* bin 32 */
	buf[3] = BIG >> 8 & 0xff;
	buf[2] = BIG >> 16 & 0xff;
	lp_framer_init(&f, len, LP_FRAME_DEPTH_MAX);
	for (i = 0; i + piece < len; i += piece)
		feed_more(&f, buf + i, piece);
	feed_done(&f, buf + i, len - i);
	assert_unpacks(buf, len);
	free(buf);
}
END_TEST

START_TEST(test_error_strings)
{
	static const enum lp_frame_error errors[] = { LP_FRAME_OK,
		LP_FRAME_MALFORMED, LP_FRAME_TOO_BIG, LP_FRAME_TOO_DEEP };
	size_t i, j, n = sizeof errors / sizeof errors[0];

	for (i = 0; i < n; i++) {
		ck_assert_str_ne(lp_frame_error_string(errors[i]), "");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(lp_frame_error_string(errors[i]),
			    lp_frame_error_string(errors[j]));
	}
	ck_assert_str_ne(lp_frame_error_string((enum lp_frame_error)99), "");
}
END_TEST

/* xorshift64: fixed seed, so a failure reproduces. */
static uint64_t
prng(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/*
 * Random bytes nest without end (one in seven opens a container of about
 * ten elements) and 16-bit lengths swallow 32 KiB on average, so most
 * random messages grow until a limit stops them.  The tame stream has no
 * 16- or 32-bit lengths and keeps one fixmap or fixarray byte in four, so
 * that many complete messages of every other shape get framed.
 */
static uint8_t
random_byte(uint64_t *state, bool tame)
{
	uint8_t b = prng(state) >> 56;
	bool long_length = (b >= 0xc5 && b <= 0xc9 && b != 0xc7) || b == 0xda ||
	    b == 0xdb || (b >= 0xdc && b <= 0xdf);
	bool fix_container = b >= 0x80 && b <= 0x9f;

	if (tame && (long_length || (fix_container && prng(state) % 4 != 0)))
		b &= 0x7f;
	return b;
}

/*
 * 1 MiB of pseudo-random bytes in random-sized pieces: whatever the framer
 * calls a message, msgpack-c decodes whole; after an error the framer is
 * started again just past the bad byte.
 */
START_TEST(test_random_stream)
{
	static const struct {
		size_t done, errors; /* at least, as a sanity check */
	} want[] = { { 500, 50 }, { 100000, 500 } };
	size_t len = 1u << 20, pos = 0, start = 0, stop, used, i;
	size_t done = 0, errors = 0;
	uint64_t state = 0x9e3779b97f4a7c15u;
	uint8_t *buf = malloc(len);
	enum lp_frame_status st;
	struct lp_framer f;

	for (i = 0; i < len; i++)
		buf[i] = random_byte(&state, _i == 1);
	lp_framer_init(&f, 1u << 16, LP_FRAME_DEPTH_MAX);
	while (pos < len) {
		stop = pos + 1 + prng(&state) % 512;
		if (stop > len)
			stop = len;
		while (pos < stop) {
			st = feed(&f, buf + pos, stop - pos, &used);
			ck_assert_uint_le(used, stop - pos);
			pos += used;
			if (st == LP_FRAME_DONE) {
				assert_unpacks(buf + start, pos - start);
				done++;
			} else if (st == LP_FRAME_ERROR) {
				lp_framer_init(&f, 1u << 16,
				    LP_FRAME_DEPTH_MAX);
				errors++;
			}
			if (st != LP_FRAME_MORE)
				start = pos;
		}
	}
	ck_assert_uint_ge(done, want[_i].done);
	ck_assert_uint_ge(errors, want[_i].errors);
	free(buf);
}
END_TEST

/* The worker channel's header is big-endian on every machine (docs/worker-protocol.md). */
START_TEST(test_wire_header_big_endian)
{
	const struct wire_header h = {
		.len = 0x01020304,
		.job = 0x05060708,
		.type = WIRE_RESULT,
		.code = 13,
		.flags = 0x0a0b,
	};
	const unsigned char want[WIRE_HEADER_BYTES] = {
		1,
		2,
		3,
		4,
		5,
		6,
		7,
		8,
		WIRE_RESULT,
		13,
		0x0a,
		0x0b,
	};
	unsigned char bytes[WIRE_HEADER_BYTES];
	struct wire_header back;

	wire_encode(&h, bytes);
	ck_assert_mem_eq(bytes, want, sizeof want);
	wire_decode(bytes, &back);
	ck_assert_uint_eq(back.len, h.len);
	ck_assert_uint_eq(back.job, h.job);
	ck_assert_uint_eq(back.type, h.type);
	ck_assert_uint_eq(back.code, h.code);
	ck_assert_uint_eq(back.flags, h.flags);
}
END_TEST

Suite *
frame_suite(void)
{
	Suite *s = suite_create("frame");
	TCase *tc;

	tc = unit_case(s, "types", NULL, NULL);
	tcase_add_loop_test(tc, test_sample_whole, 0, NSAMPLES);
	tcase_add_loop_test(tc, test_sample_bytewise, 0, NSAMPLES);
	tcase_add_loop_test(tc, test_sample_splits, 0, NSAMPLES);
	tcase_add_loop_test(tc, test_sample_truncated, 0, NSAMPLES);
	tcase_add_test(tc, test_back_to_back);
	tcase_add_test(tc, test_empty_feed);
	tcase_add_test(tc, test_long_payload);

	tc = unit_case(s, "limits", NULL, NULL);
	tcase_add_loop_test(tc, test_sample_size_limit, 0, NSAMPLES);
	tcase_add_loop_test(tc, test_declared_too_big, 0, NHUGE);
	tcase_add_test(tc, test_declared_elements);
	tcase_add_test(tc, test_limit_per_message);
	tcase_add_test(tc, test_depth_limit);
	tcase_add_test(tc, test_depth_matches_msgpack);
	tcase_add_test(tc, test_depth_siblings);
	tcase_add_test(tc, test_init_clamps);

	tc = unit_case(s, "errors", NULL, NULL);
	tcase_add_test(tc, test_reserved_byte);
	tcase_add_test(tc, test_error_strings);

	tc = unit_case(s, "random", NULL, NULL);
	tcase_add_loop_test(tc, test_random_stream, 0, 2);

	tc = unit_case(s, "worker wire", NULL, NULL);
	tcase_add_test(tc, test_wire_header_big_endian);
	return s;
}
