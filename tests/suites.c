/* SPDX-License-Identifier: ISC */
/* Registering the suites' cases and tests: see tests/suites.h. */
#include <unistd.h>

#include "tests/suites.h"

TCase *
add_case(Suite *s, const char *name, SFun setup, SFun teardown, double timeout)
{
	TCase *tc = tcase_create(name);

	if (setup != NULL || teardown != NULL)
		tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

void
add_root_test(TCase *tc, const TTest *test)
{
	if (geteuid() == 0)
		tcase_add_test(tc, test);
}
