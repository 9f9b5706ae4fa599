/* SPDX-License-Identifier: ISC */
/*
 * The daemon that a test case's fixture starts, and the teardown that
 * stops it: every integration suite has one daemon a test, and each test
 * runs in a process of its own.
 */
#ifndef LP_TESTS_FIXTURE_H
#define LP_TESTS_FIXTURE_H

#include "tests/integration/harness.h"

extern struct daemon d;

/* A teardown: kills d (if it runs) and removes its directory. */
void stop_daemon(void);

#endif
