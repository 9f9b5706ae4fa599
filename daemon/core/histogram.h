/* SPDX-License-Identifier: ISC */
/*
 * Latency histograms of a pool (acquire wait, run duration) with fixed
 * buckets, for stats and the Prometheus histograms made of them.  One
 * sample is a few comparisons and two additions into counters the pool
 * already holds: cheap enough for every pipelined run.
 */
#ifndef LP_DAEMON_HISTOGRAM_H
#define LP_DAEMON_HISTOGRAM_H

#include <stdint.h>

/*
 * Upper bounds of the buckets, in seconds, 10 us to 5 minutes: a decade
 * each from what a pipelined run or a free executor takes up to what a
 * slow job or a long wait does, then the minute and the default
 * job_timeout.  Changing them changes the metrics: see leasepoold.conf(5).
 */
#define HISTOGRAM_BOUNDS 9
extern const double histogram_bounds[HISTOGRAM_BOUNDS];

struct histogram {
	/* [i]: samples above bounds[i - 1] and at most bounds[i]; the last, above them all. */
	uint64_t counts[HISTOGRAM_BOUNDS + 1];
	double sum;
};

void histogram_add(struct histogram *h, double seconds);

/* Samples at most bounds[i], as Prometheus counts them; i = HISTOGRAM_BOUNDS: every one. */
uint64_t histogram_cumulative(const struct histogram *h, unsigned i);
uint64_t histogram_count(const struct histogram *h);

#endif
