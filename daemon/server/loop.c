#include <math.h>
#include <sched.h>
#include <stdbool.h>

#include "daemon/server/loop.h"
#include "daemon/server/server.h"

/* Longer gaps than this count as this long: after an idle hour a stream is recognised at once. */
#define GAP_CAP 1e-3
/*
 * Runs in flight below which the loop does not poll.  With a few, the next
 * input is a worker's or a client's turn away, and a polling daemon takes
 * the CPU they need: sequential runs took twice as long with it.
 */
#define POLL_MIN_IN_FLIGHT 16
/* The average's memory, in inputs: long enough that one stall does not end polling. */
#define GAP_WEIGHT 8

static struct {
	double last_input;
	double mean_gap;	/* between inputs, a moving average; starts slow */
} lp = { .mean_gap = GAP_CAP };

double
loop_mean_gap(double mean, double gap)
{
	if (gap > GAP_CAP)
		gap = GAP_CAP;
	if (gap < 0)
		gap = 0;
	return mean + (gap - mean) / GAP_WEIGHT;
}

bool
loop_polls(double mean_gap, double busy_poll, unsigned in_flight)
{
	return busy_poll > 0 && mean_gap < busy_poll && in_flight >= POLL_MIN_IN_FLIGHT;
}

bool
loop_stream_frame(unsigned runs, bool grinder)
{
	return runs >= 2 && !grinder;
}

bool
loop_worker_polls(bool stream_frame, double ran, double busy_poll)
{
	return stream_frame && ran < busy_poll;
}

void
loop_note_input(double now)
{
	lp.mean_gap = loop_mean_gap(lp.mean_gap, now - lp.last_input);
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
	double started = server_now();

	for (;;) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		if (loop_ended(base))
			return false;
		if (server_now() - fmax(started, lp.last_input) >= server.cfg.busy_poll ||
		    !loop_polls(lp.mean_gap, server.cfg.busy_poll, server.runs_in_flight))
			return true;
		sched_yield();
	}
}

/* Not after a timer's wake-up long after the last input: the stream has ended. */
static bool
input_is_streaming(void)
{
	return loop_polls(lp.mean_gap, server.cfg.busy_poll, server.runs_in_flight) &&
	    server_now() - lp.last_input < server.cfg.busy_poll;
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
