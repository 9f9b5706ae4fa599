/* SPDX-License-Identifier: ISC */
/*
 * Many clients at once: a thread and a connection each, all doing the
 * same work until told to stop.  The window is timed here rather than by
 * the members, so that none of them pays for the clock, and every member's
 * count is read at its opening and at its close: the rate, and how evenly
 * the daemon served them, come from the same two readings.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

static void *
member_main(void *arg)
{
	struct crowd_member *m = arg;

	m->work(m);
	return NULL;
}

/* The members' completions so far, each in counts[] and their sum. */
static uint64_t
crowd_count(struct crowd_member *m, unsigned n, uint64_t *counts)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += counts[i] = atomic_load(&m[i].done);
	return sum;
}

void
crowd_run(struct bench_ctx *ctx, unsigned n,
    void (*work)(struct crowd_member *), const void *arg,
    struct crowd_figures *f)
{
	struct crowd_member *m = calloc(n, sizeof *m);
	uint64_t *opened = calloc(n, sizeof *opened),
		 *closed = calloc(n, sizeof *closed);
	uint64_t got, most = 0, fewest = UINT64_MAX;
	atomic_bool stop = false;
	struct rate_window w;
	int rc;

	if (m == NULL || opened == NULL || closed == NULL)
		bench_fatal("out of memory");
	for (unsigned i = 0; i < n; i++) {
		m[i].c = daemon_connect(ctx->daemon);
		m[i].index = i;
		m[i].arg = arg;
		m[i].stop = &stop;
		atomic_init(&m[i].done, 0);
		m[i].work = work;
		if ((rc = pthread_create(&m[i].thread, NULL, member_main,
			 &m[i])) != 0)
			bench_fatal("pthread_create: %s", strerror(rc));
	}
	/* nanosleep never returns early, so each update below finds its moment past. */
	window_start(&w, bench_seconds(ctx, BENCH_RATE_WARMUP),
	    bench_seconds(ctx, BENCH_RATE_SECONDS), ctx->daemon->pid);
	sleep_seconds(bench_seconds(ctx, BENCH_RATE_WARMUP));
	window_update(&w, crowd_count(m, n, opened));
	sleep_seconds(bench_seconds(ctx, BENCH_RATE_SECONDS));
	window_update(&w, crowd_count(m, n, closed));
	atomic_store(&stop, true);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(m[i].thread, NULL);
		lp_client_free(m[i].c);
		got = closed[i] - opened[i];
		most = got > most ? got : most;
		fewest = got < fewest ? got : fewest;
	}
	f->per_s = window_rate(&w);
	f->fairness = fewest == 0 ? INFINITY : (double)most / (double)fewest;
	f->daemon_cpu_us = window_cpu_us(&w);
	free(closed);
	free(opened);
	free(m);
}
