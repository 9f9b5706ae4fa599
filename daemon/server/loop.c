/* SPDX-License-Identifier: ISC */
#include <math.h>
#include <sched.h>
#include <stdbool.h>

#include "daemon/backend/frame_policy.h"
#include "daemon/core/clock.h"
#include "daemon/core/run.h"
#include "daemon/server/loop.h"
#include "daemon/server/server.h"

static struct {
	double last_input;
	double mean_gap; /* between inputs, a moving average; starts slow */
} lp = { .mean_gap = POLICY_GAP_CAP };

void
loop_note_input(double now)
{
	lp.mean_gap = policy_mean_gap(lp.mean_gap, now - lp.last_input);
	lp.last_input = now;
}

static bool
loop_ended(struct event_base *base)
{
	return event_base_got_exit(base) || event_base_got_break(base);
}

/*
 * Handles whatever is ready until busy_poll passes without input, or input
 * stops coming often enough.  Yields between polls, so that a worker or a
 * client that shares the CPU runs at once.  False when the loop is to end.
 */
static bool
poll_until_quiet(struct event_base *base)
{
	double started = clock_now();

	for (;;) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (loop_ended(base))
			return false;
		if (clock_now() - fmax(started, lp.last_input) >=
			server.cfg.busy_poll ||
		    !policy_loop_polls(lp.mean_gap, server.cfg.busy_poll,
			runs_in_flight()))
			return true;
		sched_yield();
	}
}

/* Not after a timer's wake-up long after the last input: the stream has ended. */
static bool
input_is_streaming(void)
{
	return policy_loop_polls(lp.mean_gap, server.cfg.busy_poll,
		   runs_in_flight()) &&
	    clock_now() - lp.last_input < server.cfg.busy_poll;
}

void
loop_run(struct event_base *base)
{
	for (;;) {
		if (input_is_streaming() && !poll_until_quiet(base))
			return;
		event_base_loop(base, EVLOOP_ONCE);
		if (loop_ended(base))
			return;
	}
}
