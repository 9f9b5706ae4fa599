/*
 * Leases: the cost of an acquire + release cycle when an executor is free,
 * and acquires under contention: many clients, few executors, each client
 * cycling acquire / run echo / release.  Fairness is max/min grants per
 * client: waiters are served first come, first served, so it should stay
 * near 1.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"

#define CONTENDERS 16

static const struct figure_def cycle_defs[] = {
	{ "acquire_release.p50_us", "acquire + release p50", UNIT_USEC,
	    "baseline.rtt.p50_us", TARGET_NONE, 0 },
	{ "acquire_release.p99_us", "acquire + release p99", UNIT_USEC,
	    "baseline.rtt.p99_us", TARGET_NONE, 0 },
	{ "acquire_release.p999_us", "acquire + release p99.9", UNIT_USEC,
	    "baseline.rtt.p999_us", TARGET_NONE, 0 },
};

static const struct figure_def cycle_cpu_def = {
	"acquire_release.daemon_cpu_us", "daemon CPU per acquire + release", UNIT_USEC,
	"baseline.rtt.relay_cpu_us", TARGET_NONE, 0
};

static const struct figure_def contended_defs[] = {
	{ "contended.grants_per_s", "contended: 16 clients, 2 executors: grants", UNIT_PER_SEC,
	    "baseline.pipelined.msgs_per_s", TARGET_NONE, 0 },
	{ "contended.fairness", "contended: max/min grants per client", UNIT_RATIO,
	    NULL, TARGET_NONE, 0 },
};

struct contender {
	pthread_t thread;
	struct lp_client *c;
	char owner[32];
	atomic_uint_fast64_t grants;
	const atomic_bool *stop;
};

static void
cycle_once(void *arg)
{
	struct lp_lease lease;

	daemon_acquire(arg, BENCH_POOL_CPU, &lease);
	daemon_release(arg, &lease);
}

void
measure_acquire(struct bench_ctx *ctx)
{
	struct lp_client *c = daemon_connect(ctx->daemon);
	struct samples s;
	size_t n = bench_count(ctx, 5000);
	double cpu;

	samples_init(&s, n);
	cpu = time_ops(&s, bench_count(ctx, 500), n, cycle_once, c, ctx->daemon->pid);
	report_latency(cycle_defs, &s);
	report_record(&cycle_cpu_def, cpu);
	samples_free(&s);
	lp_client_free(c);
}

static void *
contender_main(void *arg)
{
	struct contender *ct = arg;
	struct lp_acquire_opts opts = { .pool = BENCH_POOL_PAIR, .owner = ct->owner };
	struct lp_args *args = lp_args_new();
	struct lp_lease lease;
	struct lp_value *v;
	struct lp_error err;

	if (args == NULL)
		bench_fatal("out of memory");
	lp_args_str(args, BENCH_SMALL_STRING);
	while (!atomic_load(ct->stop)) {
		if (lp_acquire(ct->c, &opts, &lease, &err) != LP_OK)
			bench_fatal("%s: acquire: %s", ct->owner, err.message);
		atomic_fetch_add(&ct->grants, 1);
		if (lp_run(ct->c, lease.id, "echo", args, &v, &err) != LP_OK)
			bench_fatal("%s: run echo: %s", ct->owner, err.message);
		lp_value_free(v);
		daemon_release(ct->c, &lease);
	}
	lp_args_free(args);
	return NULL;
}

void
measure_contended(struct bench_ctx *ctx)
{
	static struct contender cts[CONTENDERS];
	uint64_t before[CONTENDERS], got, total = 0, most = 0, fewest = UINT64_MAX, start;
	atomic_bool stop = false;
	double elapsed;
	int rc;

	for (size_t i = 0; i < CONTENDERS; i++) {
		cts[i].c = daemon_connect(ctx->daemon);
		snprintf(cts[i].owner, sizeof cts[i].owner, "contender %zu", i);
		atomic_init(&cts[i].grants, 0);
		cts[i].stop = &stop;
		if ((rc = pthread_create(&cts[i].thread, NULL, contender_main, &cts[i])) != 0)
			bench_fatal("pthread_create: %s", strerror(rc));
	}
	sleep_seconds(bench_seconds(ctx, BENCH_RATE_WARMUP));
	start = now_ns();
	for (size_t i = 0; i < CONTENDERS; i++)
		before[i] = atomic_load(&cts[i].grants);
	sleep_seconds(bench_seconds(ctx, BENCH_RATE_SECONDS));
	for (size_t i = 0; i < CONTENDERS; i++) {
		got = atomic_load(&cts[i].grants) - before[i];
		total += got;
		most = got > most ? got : most;
		fewest = got < fewest ? got : fewest;
	}
	elapsed = seconds_since(start);
	atomic_store(&stop, true);
	for (size_t i = 0; i < CONTENDERS; i++) {
		pthread_join(cts[i].thread, NULL);
		lp_client_free(cts[i].c);
	}
	report_record(&contended_defs[0], (double)total / elapsed);
	report_record(&contended_defs[1], fewest == 0 ? INFINITY : (double)most / (double)fewest);
}
