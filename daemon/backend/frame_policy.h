/* SPDX-License-Identifier: ISC */
#ifndef LP_DAEMON_FRAME_POLICY_H
#define LP_DAEMON_FRAME_POLICY_H

#include <stdbool.h>

/*
 * When waiting for input by polling pays, for the daemon's loop
 * (server/loop.c) and for a worker between frames (backend/worker.c).
 * Pure functions of what was measured, so that both sides decide alike
 * and a test can ask them directly.
 *
 * While input comes more often than every [daemon] busy_poll seconds on
 * average, polling for up to that long before sleeping pays: a sleeping
 * process costs its waker a cross-CPU wake-up and itself a context switch,
 * and under a stream of short runs the next input comes within
 * microseconds.  Rarer input (CPU-bound jobs, idle clients), or a few runs
 * in flight (sequential calls), sleep at once: there polling would only
 * take CPU time from the workers and clients (bench/README.md).
 */

/*
 * Longer gaps than this count as this long, so that after an idle hour a
 * stream is recognised at once; the average starts here.
 */
#define POLICY_GAP_CAP 1e-3

/* The moving average of the gaps between inputs, after one more gap. */
double policy_mean_gap(double mean, double gap);

/* Whether input comes often enough, with enough runs in flight, for the loop's polling to pay. */
bool policy_loop_polls(double mean_gap, double busy_poll, unsigned in_flight);

/*
 * Whether a frame of this many runs is marked WIRE_STREAM: several runs of
 * a lease, which only a queue of them makes.  Not a grinder's batch: with
 * many submitting clients, workers polling for batches took the CPUs the
 * clients needed (bench/README.md).
 */
bool policy_stream_frame(unsigned runs, bool grinder);

/*
 * Whether a worker that ran a frame for ran seconds polls for its next
 * frame before it sleeps: only after a stream frame, and only if it took
 * less than busy_poll, so that polling never costs the worker more than
 * its work did.
 */
bool policy_worker_polls(bool stream_frame, double ran, double busy_poll);

#endif
