/* SPDX-License-Identifier: ISC */
/*
 * The cursor against msgpack-c itself: every encoding, the canonical ones
 * and those only other packers write, must read as msgpack_unpack()
 * decodes it, span exactly its bytes, and fail cleanly when cut short.
 */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <msgpack.h>

#include "proto/cursor.h"
#include "tests/suites.h"
#include "tests/unit/cursor_match.h"

/* One value of every kind and every width, written in hex. */
static const char *const encodings[] = {
	"c0", "c2", "c3", "00", "05", "7f", "e0", "ff", /* fixints */
	"ccff", "cd0100", "ce00010000", "cfffffffffffffffff", "d005", "d080",
	"d1ff00", "d17fff", "d280000000",	    /* int 8..32, both signs */
	"d38000000000000000", "d30000000000000007", /* int 64 */
	"ca3fc00000", "ca7fc00000", "caff800000",   /* 1.5f, nanf, -inf f */
	"cb3ff8000000000000", "cbfff8000000000000", /* 1.5, NaN */
	"a0", "a3616263",
	"bf"
	"61616161616161616161616161616161"
	"616161616161616161616161616161",		  /* fixstr of 31 */
	"d903616263", "da000161", "db0000000161",	  /* str 8..32 */
	"c4020001", "c50001ff", "c600000000",		  /* bin 8..32 */
	"c702056162", "c80001fe61", "c90000000001",	  /* ext 8..32 */
	"d40161", "d5016162", "d60161626364",		  /* fixext 1, 2, 4 */
	"d7016162636465666768",				  /* fixext 8 */
	"d80161626364656667686162636465666768",		  /* fixext 16 */
	"90", "93010203", "dc0002c0c2", "dd00000001c3",	  /* arrays */
	"80", "81a16101", "de00010102", "df00000001c0c0", /* maps */
	"92"
	"81a161"
	"93c0c2c3"
	"a3616263", /* nested */
};
#define NENCODINGS (sizeof encodings / sizeof encodings[0])

static size_t
from_hex(const char *hex, unsigned char *out)
{
	size_t n = strlen(hex) / 2;
	char byte[3] = { 0 };

	for (size_t i = 0; i < n; i++) {
		memcpy(byte, hex + 2 * i, 2);
		out[i] = (unsigned char)strtoul(byte, NULL, 16);
	}
	return n;
}

START_TEST(test_reads_as_msgpack_c)
{
	unsigned char buf[64];
	size_t len = from_hex(encodings[_i], buf), off = 0;
	msgpack_zone zone;
	msgpack_object obj;
	struct lp_cursor c;

	msgpack_zone_init(&zone, 1024);
	ck_assert_int_eq(
	    msgpack_unpack((const char *)buf, len, &off, &zone, &obj),
	    MSGPACK_UNPACK_SUCCESS);
	ck_assert_uint_eq(off, len);
	lp_cursor_init(&c, buf, len);
	ck_assert_msg(cursor_matches(&c, &obj), "%s", encodings[_i]);
	ck_assert_ptr_eq(c.p, c.end);
	msgpack_zone_destroy(&zone);
}
END_TEST

START_TEST(test_value_spans_its_bytes)
{
	unsigned char buf[70];
	size_t len = from_hex(encodings[_i], buf);
	msgpack_object head;
	struct lp_cursor c;
	struct lp_raw raw;

	/* A value followed by another: the span stops where it ends. */
	buf[len] = 0xc0;
	lp_cursor_init(&c, buf, len + 1);
	ck_assert_msg(lp_cursor_value(&c, &head, &raw), "%s", encodings[_i]);
	ck_assert_ptr_eq(raw.ptr, buf);
	ck_assert_uint_eq(raw.len, len);
	ck_assert_ptr_eq(c.p, buf + len);
}
END_TEST

/* Cut anywhere, a value is not read, and the cursor stays where it was. */
START_TEST(test_cut_short)
{
	unsigned char buf[64];
	size_t len = from_hex(encodings[_i], buf);
	msgpack_object head;
	struct lp_cursor c;
	struct lp_raw raw;

	for (size_t cut = 0; cut < len; cut++) {
		lp_cursor_init(&c, buf, cut);
		ck_assert_msg(!lp_cursor_value(&c, &head, &raw),
		    "%s cut at %zu", encodings[_i], cut);
		ck_assert_ptr_eq(c.p, buf);
	}
}
END_TEST

START_TEST(test_reserved_byte)
{
	static const unsigned char alone[] = { 0xc1 },
				   inside[] = { 0x92, 0x01, 0xc1 };
	msgpack_object head;
	struct lp_cursor c;
	struct lp_raw raw;

	lp_cursor_init(&c, alone, sizeof alone);
	ck_assert(!lp_cursor_next(&c, &head));
	ck_assert_ptr_eq(c.p, alone);
	lp_cursor_init(&c, inside, sizeof inside);
	ck_assert(!lp_cursor_value(&c, &head, &raw));
	ck_assert_ptr_eq(c.p, inside);
}
END_TEST

/* A count of four billion with two bytes behind it ends with the bytes. */
START_TEST(test_declared_counts_are_not_trusted)
{
	static const unsigned char array[] = { 0xdd, 0xff, 0xff, 0xff, 0xff,
		0x01, 0x02 };
	static const unsigned char str[] = { 0xdb, 0xff, 0xff, 0xff, 0xff,
		0x61 };
	msgpack_object head;
	struct lp_cursor c;
	struct lp_raw raw;

	lp_cursor_init(&c, array, sizeof array);
	ck_assert(lp_cursor_next(&c, &head));
	ck_assert_int_eq(head.type, MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_eq(head.via.array.size, UINT32_MAX);
	lp_cursor_init(&c, array, sizeof array);
	ck_assert(!lp_cursor_value(&c, &head, &raw));
	lp_cursor_init(&c, str, sizeof str);
	ck_assert(!lp_cursor_next(&c, &head));
}
END_TEST

/* The containers open at once in a value, itself and empty ones included. */
START_TEST(test_value_depth)
{
	static const struct {
		const char *hex;
		unsigned depth;
	} cases[] = {
		{ "05", 0 }, { "a161", 0 }, { "90", 1 }, { "80", 1 },
		{ "9190", 2 }, { "929090", 2 }, /* siblings do not add up */
		{ "930191a1619190", 3 },	/* [1, ['a'], [[]]] */
		{ "81a1619180", 3 },		/* {a: [{}]} */
		{ "9291919190c0", 5 },		/* [[[[[]]]], nil] */
	};
	unsigned char buf[16];
	msgpack_object head;
	struct lp_cursor c;
	struct lp_raw raw;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		lp_cursor_init(&c, buf, from_hex(cases[i].hex, buf));
		ck_assert_msg(lp_cursor_value(&c, &head, &raw), "%s",
		    cases[i].hex);
		ck_assert_uint_eq(raw.depth, cases[i].depth);
	}
}
END_TEST

/* As deep as msgpack-c goes, and not one container more. */
START_TEST(test_depth_limit)
{
	unsigned char buf[LP_FRAME_DEPTH_MAX + 1];
	msgpack_object head;
	struct lp_cursor c;
	struct lp_raw raw;

	memset(buf, 0x91, sizeof buf);
	buf[LP_FRAME_DEPTH_MAX - 1] = 0x90;
	lp_cursor_init(&c, buf, LP_FRAME_DEPTH_MAX);
	ck_assert(lp_cursor_value(&c, &head, &raw));
	ck_assert_uint_eq(raw.depth, LP_FRAME_DEPTH_MAX);
	buf[LP_FRAME_DEPTH_MAX - 1] = 0x91;
	buf[LP_FRAME_DEPTH_MAX] = 0x90;
	lp_cursor_init(&c, buf, sizeof buf);
	ck_assert(!lp_cursor_value(&c, &head, &raw));
	ck_assert_ptr_eq(c.p, buf);
}
END_TEST

Suite *
cursor_suite(void)
{
	Suite *s = suite_create("cursor");
	TCase *tc;

	tc = unit_case(s, "encodings", NULL, NULL);
	tcase_add_loop_test(tc, test_reads_as_msgpack_c, 0, NENCODINGS);
	tcase_add_loop_test(tc, test_value_spans_its_bytes, 0, NENCODINGS);
	tcase_add_loop_test(tc, test_cut_short, 0, NENCODINGS);
	tcase_add_test(tc, test_reserved_byte);
	tcase_add_test(tc, test_declared_counts_are_not_trusted);
	tcase_add_test(tc, test_value_depth);
	tcase_add_test(tc, test_depth_limit);
	return s;
}
