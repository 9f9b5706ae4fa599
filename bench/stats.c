/* SPDX-License-Identifier: ISC */
/*
 * The clock and the statistics: every latency sample is kept and sorted,
 * which is exact and, at tens of thousands of samples, cheaper than being
 * clever.  Percentiles use the nearest rank, so p99.9 is a sample that was
 * really observed, never an interpolation between two.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"

uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double
seconds_since(uint64_t start_ns)
{
	return (double)(now_ns() - start_ns) / 1e9;
}

void
sleep_seconds(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

void
samples_init(struct samples *s, size_t expected)
{
	memset(s, 0, sizeof *s);
	s->cap = expected > 0 ? expected : 1024;
	if ((s->v = malloc(s->cap * sizeof *s->v)) == NULL)
		bench_fatal("out of memory for %zu samples", s->cap);
}

void
samples_add(struct samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		uint64_t *v = realloc(s->v, 2 * s->cap * sizeof *v);

		if (v == NULL)
			bench_fatal("out of memory for %zu samples",
			    2 * s->cap);
		s->v = v;
		s->cap *= 2;
	}
	s->v[s->n++] = ns;
	s->sorted = false;
}

void
samples_free(struct samples *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
samples_percentile_us(struct samples *s, double p)
{
	size_t rank;

	if (s->n == 0)
		return NAN;
	if (!s->sorted) {
		qsort(s->v, s->n, sizeof *s->v, cmp_u64);
		s->sorted = true;
	}
	rank = (size_t)ceil(p / 100.0 * (double)s->n);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return (double)s->v[rank - 1] / 1e3;
}

double
median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	if (n % 2 == 1)
		return v[n / 2];
	return (v[n / 2 - 1] + v[n / 2]) / 2;
}

double
time_ops(struct samples *s, size_t warmup, size_t n, void (*op)(void *),
    void *arg, pid_t watch)
{
	uint64_t t, cpu = 0;

	for (size_t i = 0; i < warmup; i++)
		op(arg);
	if (watch > 0)
		cpu = proc_cpu_ns(watch);
	for (size_t i = 0; i < n; i++) {
		t = now_ns();
		op(arg);
		samples_add(s, now_ns() - t);
	}
	if (watch <= 0 || n == 0 || cpu == 0)
		return NAN;
	return (double)(proc_cpu_ns(watch) - cpu) / 1e3 / (double)n;
}

void
window_start(struct rate_window *w, double warmup, double seconds, pid_t watch)
{
	uint64_t now = now_ns();

	memset(w, 0, sizeof *w);
	w->watch = watch;
	w->opens = now + (uint64_t)(warmup * 1e9);
	w->closes = w->opens + (uint64_t)(seconds * 1e9);
}

bool
window_update(struct rate_window *w, uint64_t count)
{
	uint64_t now;

	if (w->closed)
		return true;
	now = now_ns();
	if (!w->open && now >= w->opens) {
		w->open = true;
		w->opened_at = now;
		w->count_opened = count;
		if (w->watch > 0)
			w->cpu_opened = proc_cpu_ns(w->watch);
		if (!cpu_times_read(&w->machine_opened))
			w->machine_opened.total = 0;
	}
	if (w->open && now >= w->closes) {
		w->closed = true;
		w->closed_at = now;
		w->count_closed = count;
		if (w->watch > 0)
			w->cpu_closed = proc_cpu_ns(w->watch);
		if (!cpu_times_read(&w->machine_closed))
			w->machine_closed.total = 0;
	}
	return w->closed;
}

double
window_rate(const struct rate_window *w)
{
	if (!w->closed || w->closed_at == w->opened_at)
		return NAN;
	return (double)(w->count_closed - w->count_opened) /
	    ((double)(w->closed_at - w->opened_at) / 1e9);
}

double
window_cpu_us(const struct rate_window *w)
{
	if (!w->closed || w->watch <= 0 || w->cpu_opened == 0 ||
	    w->count_closed == w->count_opened)
		return NAN;
	return (double)(w->cpu_closed - w->cpu_opened) / 1e3 /
	    (double)(w->count_closed - w->count_opened);
}

static bool
window_machine_known(const struct rate_window *w)
{
	return w->closed && w->machine_opened.total != 0 &&
	    w->machine_closed.total > w->machine_opened.total;
}

double
window_steal(const struct rate_window *w)
{
	if (!window_machine_known(w))
		return NAN;
	return cpu_steal_share(&w->machine_opened, &w->machine_closed);
}

double
window_idle(const struct rate_window *w)
{
	if (!window_machine_known(w))
		return NAN;
	return cpu_idle_share(&w->machine_opened, &w->machine_closed);
}

double
window_switches_per_k(const struct rate_window *w)
{
	if (!window_machine_known(w) || w->machine_opened.switches == 0 ||
	    w->count_closed == w->count_opened)
		return NAN;
	return 1e3 *
	    (double)(w->machine_closed.switches - w->machine_opened.switches) /
	    (double)(w->count_closed - w->count_opened);
}
