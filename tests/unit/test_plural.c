/* SPDX-License-Identifier: ISC */
/* Counts and their nouns: "1 pool", "0 pools", "2 pools", in every message. */
#include <stdio.h>

#include <check.h>

#include "proto/plural.h"
#include "tests/suites.h"

static const char *
counted(unsigned long long n, const char *noun)
{
	static char text[64];

	snprintf(text, sizeof text, "%llu %s%s", n, noun, lp_plural(n));
	return text;
}

START_TEST(one_is_singular)
{
	ck_assert_str_eq(counted(1, "pool"), "1 pool");
}
END_TEST

START_TEST(zero_and_more_are_plural)
{
	ck_assert_str_eq(counted(0, "pool"), "0 pools");
	ck_assert_str_eq(counted(2, "connection"), "2 connections");
	ck_assert_str_eq(counted(11, "lease"), "11 leases");
	ck_assert_str_eq(counted(18446744073709551615ULL, "run"),
	    "18446744073709551615 runs");
}
END_TEST

START_TEST(nouns_in_es_take_es)
{
	char text[64];

	snprintf(text, sizeof text, "%d process%s, %d process%s", 1,
	    lp_plural_es(1), 3, lp_plural_es(3));
	ck_assert_str_eq(text, "1 process, 3 processes");
}
END_TEST

Suite *
plural_suite(void)
{
	Suite *s = suite_create("plural");
	TCase *tc;

	tc = unit_case(s, "nouns", NULL, NULL);
	tcase_add_test(tc, one_is_singular);
	tcase_add_test(tc, zero_and_more_are_plural);
	tcase_add_test(tc, nouns_in_es_take_es);
	return s;
}
