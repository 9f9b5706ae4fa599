/* SPDX-License-Identifier: ISC */
/*
 * Leases: the cost of an acquire + release cycle when an executor is free,
 * and acquires under contention: many clients, few executors, each client
 * cycling acquire / run echo / release.  Fairness is max/min grants per
 * client: waiters are served first come, first served, so it should stay
 * near 1.
 */
#include <stdio.h>

#include "bench/bench.h"

static const struct figure_def cycle_defs[] = {
	{ "acquire_release.p50_us", "acquire + release p50", UNIT_USEC,
	    "baseline.rtt.p50_us", TARGET_NONE, 0 },
	{ "acquire_release.p99_us", "acquire + release p99", UNIT_USEC,
	    "baseline.rtt.p99_us", TARGET_NONE, 0 },
	{ "acquire_release.p999_us", "acquire + release p99.9", UNIT_USEC,
	    "baseline.rtt.p999_us", TARGET_NONE, 0 },
};

static const struct figure_def cycle_cpu_def = {
	"acquire_release.daemon_cpu_us", "daemon CPU per acquire + release",
	UNIT_USEC, "baseline.rtt.relay_cpu_us", TARGET_NONE, 0
};

static const struct figure_def contended_defs[] = {
	{ "contended.grants_per_s",
	    "contended: 16 clients, 2 executors: grants", UNIT_PER_SEC,
	    "baseline.pipelined.msgs_per_s", TARGET_NONE, 0 },
	{ "contended.fairness", "contended: max/min grants per client",
	    UNIT_RATIO, NULL, TARGET_NONE, 0 },
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
	cpu = time_ops(&s, bench_count(ctx, 500), n, cycle_once, c,
	    ctx->daemon->pid);
	report_latency(cycle_defs, &s);
	report_record(&cycle_cpu_def, cpu);
	samples_free(&s);
	lp_client_free(c);
}

/* One client's cycle; the crowd counts its grants. */
static void
contend(struct crowd_member *m)
{
	char owner[32];
	struct lp_acquire_opts opts = { .pool = BENCH_POOL_PAIR,
		.owner = owner };
	struct lp_args *args = lp_args_new();
	struct lp_lease lease;
	struct lp_value *v;
	struct lp_error err;

	if (args == NULL)
		bench_fatal("out of memory");
	snprintf(owner, sizeof owner, "contender %u", m->index);
	lp_args_str(args, BENCH_SMALL_STRING);
	while (!atomic_load(m->stop)) {
		if (lp_acquire(m->c, &opts, &lease, &err) != LP_OK)
			bench_fatal("%s: acquire: %s", owner, err.message);
		atomic_fetch_add(&m->done, 1);
		if (lp_run(m->c, lease.id, "echo", args, &v, &err) != LP_OK)
			bench_fatal("%s: run echo: %s", owner, err.message);
		lp_value_free(v);
		daemon_release(m->c, &lease);
	}
	lp_args_free(args);
}

void
measure_contended(struct bench_ctx *ctx)
{
	struct crowd_figures f;

	crowd_run(ctx, BENCH_CROWD, contend, NULL, &f);
	report_record(&contended_defs[0], f.per_s);
	report_record(&contended_defs[1], f.fairness);
}
