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
