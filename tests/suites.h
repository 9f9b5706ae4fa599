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
	X(heap) \
	X(path_trust) \
	X(plural) \
	X(prometheus) \
	X(loop) \
	X(config) \
	X(daemon) \
	X(workers) \
	X(exec_users) \
	X(grinder) \
	X(shared) \
	X(client) \
	X(modules) \
	X(tool) \
	X(examples) \
	X(threads) \
	X(service)

#define LP_SUITE_DECL(name) Suite *name##_suite(void);
LP_SUITES(LP_SUITE_DECL)
#undef LP_SUITE_DECL

#endif
