/* SPDX-License-Identifier: ISC */
/* Every Check suite of the test binary; tests/main.c runs them all. */
#ifndef LP_TESTS_SUITES_H
#define LP_TESTS_SUITES_H

#include <check.h>

#define LP_SUITES(X) \
	X(frame) \
	X(cursor) \
	X(rpc) \
	X(params) \
	X(text) \
	X(lease) \
	X(executor) \
	X(run) \
	X(grinder_unit) \
	X(dispatch) \
	X(heap) \
	X(path_trust) \
	X(plural) \
	X(reaper) \
	X(prometheus) \
	X(loop) \
	X(config) \
	X(daemon) \
	X(workers) \
	X(programs) \
	X(python) \
	X(exec_users) \
	X(grinder) \
	X(shared) \
	X(client) \
	X(interop) \
	X(modules) \
	X(tool) \
	X(examples) \
	X(threads) \
	X(cancel) \
	X(service)

#define LP_SUITE_DECL(name) Suite *name##_suite(void);
LP_SUITES(LP_SUITE_DECL)
#undef LP_SUITE_DECL

/*
 * How long a test may take, one bound per kind of suite.  A unit test waits
 * on nothing, but the random ones run long under the sanitizers.  An
 * integration test waits on real processes, several bounded waits in a row,
 * some of them while it crowds the machine (a thousand connections).
 */
#define UNIT_TIMEOUT_SECONDS 60
#define INTEGRATION_TIMEOUT_SECONDS 120

/*
 * A case of s named name (CK_RUN_CASE picks it), with setup and teardown
 * (either NULL) run around each test in the test's own process, and the
 * timeout of its kind; its tests follow, one line each.
 */
TCase *add_case(Suite *s, const char *name, SFun setup, SFun teardown,
    double timeout);
#define unit_case(s, name, setup, teardown) \
	add_case(s, name, setup, teardown, UNIT_TIMEOUT_SECONDS)
#define integration_case(s, name, setup, teardown) \
	add_case(s, name, setup, teardown, INTEGRATION_TIMEOUT_SECONDS)

/* A test that acts as a second user, which only root can: registered only when run as root. */
void add_root_test(TCase *tc, const TTest *test);

#endif
