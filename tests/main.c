/* SPDX-License-Identifier: ISC */
/*
 * The test binary: every suite in one runner, so `make check` ends with one
 * Check summary line.  CK_RUN_SUITE=name runs one suite, CK_RUN_CASE one
 * case; CK_FORK=no helps under a debugger.
 */
#include <stdlib.h>

#include "tests/suites.h"

int
main(void)
{
	SRunner *runner = srunner_create(NULL);
	int failed;

#define LP_SUITE_ADD(name) srunner_add_suite(runner, name##_suite());
	LP_SUITES(LP_SUITE_ADD)
#undef LP_SUITE_ADD

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
