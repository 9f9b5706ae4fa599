/* SPDX-License-Identifier: ISC */
#include "daemon/backend/frame_policy.h"

/*
 * Runs in flight below which the loop does not poll.  With a few, the next
 * input is a worker's or a client's turn away, and a polling daemon takes
 * the CPU they need (bench/README.md).
 */
#define POLL_MIN_IN_FLIGHT 16
/* The average's memory, in inputs: long enough that one stall does not end polling. */
#define GAP_WEIGHT 8

double
policy_mean_gap(double mean, double gap)
{
	if (gap > POLICY_GAP_CAP)
		gap = POLICY_GAP_CAP;
	if (gap < 0)
		gap = 0;
	return mean + (gap - mean) / GAP_WEIGHT;
}

bool
policy_loop_polls(double mean_gap, double busy_poll, unsigned in_flight)
{
	return busy_poll > 0 && mean_gap < busy_poll &&
	    in_flight >= POLL_MIN_IN_FLIGHT;
}

bool
policy_stream_frame(unsigned runs, bool grinder)
{
	return runs >= 2 && !grinder;
}

bool
policy_worker_polls(bool stream_frame, double ran, double busy_poll)
{
	return stream_frame && ran < busy_poll;
}
