/* SPDX-License-Identifier: ISC */
#include <time.h>

#include "daemon/core/clock.h"

static double
seconds_on(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double
monotonic_now(void)
{
	return seconds_on(CLOCK_MONOTONIC);
}

double
unix_now(void)
{
	return seconds_on(CLOCK_REALTIME);
}

/* Nonzero while one batch of input is handled: see clock_hold(). */
static double clock_held;

double
clock_now(void)
{
	return clock_held != 0 ? clock_held : monotonic_now();
}

/*
 * A pipelined run read the clock four times (accepted, lease used, lease
 * freed, deadlines), a share of the daemon's time per run that showed in
 * its profile (bench/README.md, K).  The requests or results of one read
 * all happened when it was read, to within the little time it takes to
 * handle them.
 */
double
clock_hold(void)
{
	return clock_held = monotonic_now();
}

void
clock_release(void)
{
	clock_held = 0;
}
