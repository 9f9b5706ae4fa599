/* SPDX-License-Identifier: ISC */
/*
 * Submissions through the grinder: tiny echo jobs to four pools that
 * differ only in batch_size, with BENCH_SUBMIT_DEPTH submissions in
 * flight in all, from one connection or shared out among BENCH_CROWD.
 * Many connections are what the grinder is for: batches fill from all of
 * them, and the target (250,000 jobs/s at batch 256) is theirs.
 * Rates are compared with runs pipelined on a lease: the same echo
 * without the grinder.
 */
#include "bench/bench.h"

#define NGRINDERS 4

static const char *const grinder_pools[NGRINDERS] = {
	BENCH_POOL_GRIND1,
	BENCH_POOL_GRIND16,
	BENCH_POOL_GRIND64,
	BENCH_POOL_GRIND256,
};

static const struct figure_def one_defs[NGRINDERS] = {
	{ "submit.b1.jobs_per_s", "submit echo, batch 1 (1024 in flight)",
	    UNIT_PER_SEC, "run.pipelined.runs_per_s", TARGET_NONE, 0 },
	{ "submit.b16.jobs_per_s", "submit echo, batch 16", UNIT_PER_SEC,
	    "run.pipelined.runs_per_s", TARGET_NONE, 0 },
	{ "submit.b64.jobs_per_s", "submit echo, batch 64", UNIT_PER_SEC,
	    "run.pipelined.runs_per_s", TARGET_NONE, 0 },
	{ "submit.b256.jobs_per_s", "submit echo, batch 256", UNIT_PER_SEC,
	    "run.pipelined.runs_per_s", TARGET_NONE, 0 },
};

static const struct figure_def one_cpu_def = { "submit.b256.daemon_cpu_us",
	"daemon CPU per job, batch 256", UNIT_USEC,
	"run.pipelined.daemon_cpu_us", TARGET_NONE, 0 };

/* The rate and the fairness of a batch size, from BENCH_CROWD connections. */
/* clang-format 14 garbles a braced initializer in a macro. */
/* clang-format off */
#define CROWD_DEFS(batch, target, target_value) { \
	{ "submit16.b" #batch ".jobs_per_s", \
	    "submit echo, 16 conns, batch " #batch, \
	    UNIT_PER_SEC, "run.pipelined.runs_per_s", target, target_value }, \
	{ "submit16.b" #batch ".fairness", \
	    "submit 16 conns, batch " #batch ": max/min per conn", \
	    UNIT_RATIO, NULL, TARGET_NONE, 0 } }
/* clang-format on */

static const struct figure_def crowd_defs[NGRINDERS][2] = {
	CROWD_DEFS(1, TARGET_NONE, 0),
	CROWD_DEFS(16, TARGET_NONE, 0),
	CROWD_DEFS(64, TARGET_NONE, 0),
	CROWD_DEFS(256, TARGET_AT_LEAST, 250000),
};

static const struct figure_def crowd_cpu_def = { "submit16.b256.daemon_cpu_us",
	"daemon CPU per job, 16 conns, batch 256", UNIT_USEC,
	"run.pipelined.daemon_cpu_us", TARGET_NONE, 0 };

/* What every member of a crowd submits, and its share of what is in flight. */
struct submission {
	const char *pool;
	const struct lp_args *args;
	unsigned depth;
};

static void
submit_member(struct crowd_member *m)
{
	const struct submission *s = m->arg;
	struct pipeline p = { .c = m->c,
		.pool = s->pool,
		.fn = "echo",
		.args = s->args,
		.depth = s->depth };

	while (!atomic_load(m->stop)) {
		pipeline_step(&p);
		atomic_store(&m->done, p.completed);
	}
	pipeline_finish(&p);
}

/* f[i]: the figures of grinder_pools[i], from n connections. */
static void
submit_from(struct bench_ctx *ctx, unsigned n,
    struct crowd_figures f[NGRINDERS])
{
	struct lp_args *args = lp_args_new();

	if (args == NULL)
		bench_fatal("out of memory");
	lp_args_str(args, BENCH_SMALL_STRING);
	for (size_t i = 0; i < NGRINDERS; i++) {
		struct submission s = { grinder_pools[i], args,
			BENCH_SUBMIT_DEPTH / n };

		crowd_run(ctx, n, submit_member, &s, &f[i]);
	}
	lp_args_free(args);
}

void
measure_submit(struct bench_ctx *ctx)
{
	struct crowd_figures f[NGRINDERS];

	submit_from(ctx, 1, f);
	for (size_t i = 0; i < NGRINDERS; i++)
		report_record(&one_defs[i], f[i].per_s);
	report_record(&one_cpu_def, f[NGRINDERS - 1].daemon_cpu_us);
}

void
measure_submit_crowd(struct bench_ctx *ctx)
{
	struct crowd_figures f[NGRINDERS];

	submit_from(ctx, BENCH_CROWD, f);
	for (size_t i = 0; i < NGRINDERS; i++) {
		report_record(&crowd_defs[i][0], f[i].per_s);
		report_record(&crowd_defs[i][1], f[i].fairness);
	}
	report_record(&crowd_cpu_def, f[NGRINDERS - 1].daemon_cpu_us);
}
