#ifndef LEASEPOOL_DAEMON_LOOP_H
#define LEASEPOOL_DAEMON_LOOP_H

#include <stdbool.h>

#include <event2/event.h>

/*
 * The daemon's event loop.  While input comes more often than every
 * [daemon] busy_poll seconds on average, it keeps polling for up to that
 * long before it sleeps: on this kind of machine a sleeping process costs
 * its waker a cross-CPU wake-up and itself a context switch, and under a
 * stream of short runs the next input comes within microseconds.  Input
 * that comes more rarely (CPU-bound jobs, idle clients), or a few runs in
 * flight (sequential calls), make it sleep at once, as a plain loop does:
 * there polling would only take CPU time from the workers and clients.
 */

/* Runs the loop until event_base_loopexit(). */
void loop_run(struct event_base *base);

/* Input was read at now (a client's or a worker's). */
void loop_note_input(double now);

/* The moving average of the gaps between inputs, after one more gap. */
double loop_mean_gap(double mean, double gap);

/* Whether input comes often enough, with enough runs in flight, for polling to pay. */
bool loop_polls(double mean_gap, double busy_poll, unsigned in_flight);

/*
 * Whether a frame of this many runs is marked WIRE_STREAM: several runs of
 * a lease, which only a queue of them makes.  Not a grinder's batch: with
 * many submitting clients, workers polling for batches took the CPUs the
 * clients needed (bench/README.md).
 */
bool loop_stream_frame(unsigned runs, bool grinder);

/*
 * Whether a worker that ran a frame for ran seconds polls for its next
 * frame before it sleeps (worker.c): only after a stream frame, and only
 * if it took less than busy_poll, so that polling never costs the worker
 * more than its work did.
 */
bool loop_worker_polls(bool stream_frame, double ran, double busy_poll);

#endif
