/* SPDX-License-Identifier: ISC */
/* The daemon of the integration suites' fixtures: see fixture.h. */
#include "tests/integration/fixture.h"

struct daemon d;

void
stop_daemon(void)
{
	daemon_cleanup(&d);
}
