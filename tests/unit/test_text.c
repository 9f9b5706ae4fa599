/* SPDX-License-Identifier: ISC */
/*
 * A client's strings: the strict UTF-8 check at every edge of RFC 3629's
 * table, repairs, names quoted for error messages and text escaped for logs.
 */
#include <string.h>

#include <check.h>

#include "proto/text.h"
#include "tests/suites.h"

/* A string literal with its length: UTF-8 tests are full of NUL-free bytes but need lengths. */
#define BYTES(s) s, sizeof s - 1

static const struct {
	const char *s;
	size_t len;
} valid[] = {
	{ BYTES("") }, { BYTES("plain ASCII, \x01 and \x7f included") },
	{ BYTES("\xc2\x80") },	       /* U+0080, the first of two bytes */
	{ BYTES("\xdf\xbf") },	       /* U+07FF */
	{ BYTES("\xe0\xa0\x80") },     /* U+0800, the first of three */
	{ BYTES("\xed\x9f\xbf") },     /* U+D7FF, just below the surrogates */
	{ BYTES("\xee\x80\x80") },     /* U+E000, just above them */
	{ BYTES("\xef\xbf\xbf") },     /* U+FFFF */
	{ BYTES("\xf0\x90\x80\x80") }, /* U+10000, the first of four */
	{ BYTES("\xf4\x8f\xbf\xbf") }, /* U+10FFFF, the last code point */
	{ BYTES(
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") }, /* é, €, an emoji */
};

static const struct {
	const char *s;
	size_t len;
	size_t bad; /* the offset the check names */
} invalid[] = {
	/* Bytes that continue a character, alone. */
	{ BYTES("\x80"), 0 },
	{ BYTES("ab\xbf"), 2 },
	{ BYTES("\xc3\xa9\xa9"), 2 },
	/* Overlong forms: each could have been written shorter. */
	{ BYTES("\xc0\x80"), 0 }, /* NUL in two bytes */
	{ BYTES("\xc1\xbf"), 0 },
	{ BYTES("\xe0\x80\x80"), 0 },
	{ BYTES("\xe0\x9f\xbf"), 0 }, /* U+07FF in three */
	{ BYTES("\xf0\x80\x80\x80"), 0 },
	{ BYTES("\xf0\x8f\xbf\xbf"), 0 }, /* U+FFFF in four */
	/* UTF-16 surrogates. */
	{ BYTES("\xed\xa0\x80"), 0 },  /* U+D800 */
	{ BYTES("x\xed\xbf\xbf"), 1 }, /* U+DFFF */
	/* Past U+10FFFF, and bytes UTF-8 never uses. */
	{ BYTES("\xf4\x90\x80\x80"), 0 }, /* U+110000 */
	{ BYTES("\xf5\x80\x80\x80"), 0 },
	{ BYTES("\xfe"), 0 },
	{ BYTES("\xff"), 0 },
	/* Characters cut short, at the end or by another byte. */
	{ BYTES("\xc2"), 0 },
	{ BYTES("ok\xe0\xa0"), 2 },
	{ BYTES("\xf0\x90\x80"), 0 },
	{ BYTES("\xe2\x82"
		"A"),
	    0 },
	{ BYTES("\xf0\x9f\x98"
		"\xc3\xa9"),
	    0 },
	/* The findings of the issue: an owner of ff c0 80. */
	{ BYTES("\xff\xc0\x80"), 0 },
	{ BYTES("\xc3\xa9\xc0\x80"), 2 },
};

START_TEST(test_valid)
{
	size_t bad = 12345;

	ck_assert_msg(lp_utf8_valid(valid[_i].s, valid[_i].len, &bad),
	    "valid[%d]", _i);
	ck_assert_uint_eq(bad, 12345);
}
END_TEST

START_TEST(test_invalid)
{
	size_t bad = 12345;

	ck_assert_msg(!lp_utf8_valid(invalid[_i].s, invalid[_i].len, &bad),
	    "invalid[%d]", _i);
	ck_assert_uint_eq(bad, invalid[_i].bad);
}
END_TEST

START_TEST(test_char_lengths)
{
	ck_assert_uint_eq(lp_utf8_char((const unsigned char *)"A", 1), 1);
	ck_assert_uint_eq(lp_utf8_char((const unsigned char *)"\xc3\xa9", 2),
	    2);
	ck_assert_uint_eq(
	    lp_utf8_char((const unsigned char *)"\xe2\x82\xac", 3), 3);
	ck_assert_uint_eq(
	    lp_utf8_char((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	/* Only the first character counts; len bounds what may be read. */
	ck_assert_uint_eq(
	    lp_utf8_char((const unsigned char *)"\xc3\xa9\xff", 3), 2);
	ck_assert_uint_eq(
	    lp_utf8_char((const unsigned char *)"\xe2\x82\xac", 2), 0);
}
END_TEST

START_TEST(test_repair)
{
	static const struct {
		const char *s;
		size_t len;
		const char *want;
	} cases[] = {
		{ BYTES(""), "" },
		{ BYTES("caf\xc3\xa9"), "caf\xc3\xa9" },
		{ BYTES("\xff\xc0\x80"), "???" },
		{ BYTES("a\xed\xa0\x80z"), "a???z" },
		/* A character cut by a length limit, at the end. */
		{ BYTES("\xe2\x82\xac\xe2\x82"), "\xe2\x82\xac??" },
	};
	char buf[16];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memcpy(buf, cases[i].s, cases[i].len);
		lp_utf8_repair(buf, cases[i].len);
		buf[cases[i].len] = '\0';
		ck_assert_str_eq(buf, cases[i].want);
	}
}
END_TEST

static void
assert_quote(const char *s, size_t len, const char *want)
{
	char buf[LP_QUOTE_SIZE];

	ck_assert_str_eq(lp_quote(s, len, buf), want);
}

START_TEST(test_quote)
{
	char name[256], want[LP_QUOTE_SIZE];

	assert_quote(BYTES(""), "");
	assert_quote(BYTES("echo"), "echo");
	assert_quote(BYTES(" printable ~ ASCII "), " printable ~ ASCII ");
	/* Control bytes, DEL and every byte past ASCII, UTF-8 or not. */
	assert_quote(BYTES("bad\x01name\xff"), "bad?name?");
	assert_quote(BYTES("\nFAKE\r\x1b[2J\x7f"), "?FAKE??[2J?");
	assert_quote(BYTES("caf\xc3\xa9"), "caf??");
	assert_quote(BYTES("a\0b"), "a?b");

	/* Cut at LP_QUOTE_MAX bytes, and said to be. */
	memset(name, 'f', sizeof name);
	memset(want, 'f', LP_QUOTE_MAX);
	want[LP_QUOTE_MAX] = '\0';
	assert_quote(name, LP_QUOTE_MAX, want);
	strcat(want, "...");
	assert_quote(name, LP_QUOTE_MAX + 1, want);
	assert_quote(name, sizeof name, want);
	ck_assert_uint_eq(strlen(want), LP_QUOTE_SIZE - 1);
}
END_TEST

static void
assert_escape(const char *s, size_t len, size_t size, const char *want)
{
	char buf[64];

	ck_assert_uint_le(size, sizeof buf);
	ck_assert_uint_eq(lp_escape(buf, size, s, len), strlen(want));
	ck_assert_str_eq(buf, want);
}

START_TEST(test_escape)
{
	assert_escape(BYTES(""), 64, "");
	assert_escape(BYTES("lease 7 granted"), 64, "lease 7 granted");
	/* Issue 30 item 8: an owner that would start a log line of its own. */
	assert_escape(BYTES("x\nFAKE LOG LINE"), 64, "x\\nFAKE LOG LINE");
	assert_escape(BYTES("\r\t\\"), 64, "\\r\\t\\\\");
	assert_escape(BYTES("\x1b[2J\x7f\x01"), 64, "\\x1b[2J\\x7f\\x01");
	assert_escape(BYTES("a\0b"), 64, "a\\x00b");
	/* UTF-8 shows as itself, except C1 controls; other bytes are escaped. */
	assert_escape(BYTES("caf\xc3\xa9 \xe2\x82\xac \xc2\xa0"), 64,
	    "caf\xc3\xa9 \xe2\x82\xac \xc2\xa0");
	assert_escape(BYTES("\xc2\x9b"
			    "1m"),
	    64,
	    "\\xc2\\x9b"
	    "1m");
	assert_escape(BYTES("\xff\xc0\x80"), 64, "\\xff\\xc0\\x80");
	assert_escape(BYTES("\xe2\x82"), 64, "\\xe2\\x82");
	/* The room left ends the text between escapes and between characters. */
	assert_escape(BYTES("ab\ncd"), 6, "ab\\nc");
	assert_escape(BYTES("ab\ncd"), 4, "ab");
	assert_escape(BYTES("a\xc3\xa9"
			    "b"),
	    4, "a\xc3\xa9");
	assert_escape(BYTES("a\xc3\xa9"
			    "b"),
	    3, "a");
	assert_escape(BYTES("abc"), 1, "");
}
END_TEST

Suite *
text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc;

	tc = unit_case(s, "utf8", NULL, NULL);
	tcase_add_loop_test(tc, test_valid, 0, sizeof valid / sizeof valid[0]);
	tcase_add_loop_test(tc, test_invalid, 0,
	    sizeof invalid / sizeof invalid[0]);
	tcase_add_test(tc, test_char_lengths);
	tcase_add_test(tc, test_repair);

	tc = unit_case(s, "quote", NULL, NULL);
	tcase_add_test(tc, test_quote);
	tcase_add_test(tc, test_escape);
	return s;
}
