/*
 * Runs on one lease: sequential echo latency (blocking API), pipelined
 * echo throughput and CPU-bound spin throughput (asynchronous API, a fixed
 * number of runs kept in flight).  Every result is checked: a run that
 * failed fast must never pass for a fast run.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

#define BIG_BYTES (64u * 1024)
#define SPIN_MICROS 1000

static const struct figure_def echo16_defs[] = {
	{ "run.echo16.p50_us", "run echo 16 B p50", UNIT_USEC,
	    "baseline.rtt.p50_us", TARGET_RATIO_AT_MOST, 1.5 },
	{ "run.echo16.p99_us", "run echo 16 B p99", UNIT_USEC,
	    "baseline.rtt.p99_us", TARGET_NONE, 0 },
	{ "run.echo16.p999_us", "run echo 16 B p99.9", UNIT_USEC,
	    "baseline.rtt.p999_us", TARGET_NONE, 0 },
};

static const struct figure_def echo64k_defs[] = {
	{ "run.echo64k.p50_us", "run echo 64 KiB p50", UNIT_USEC,
	    "baseline.rtt.p50_us", TARGET_NONE, 0 },
	{ "run.echo64k.p99_us", "run echo 64 KiB p99", UNIT_USEC,
	    "baseline.rtt.p99_us", TARGET_NONE, 0 },
	{ "run.echo64k.p999_us", "run echo 64 KiB p99.9", UNIT_USEC,
	    "baseline.rtt.p999_us", TARGET_NONE, 0 },
};

static const struct figure_def pipelined_defs[] = {
	{ "run.pipelined.runs_per_s", "runs pipelined, echo 16 B (64 in flight)",
	    UNIT_PER_SEC, "baseline.pipelined.msgs_per_s", TARGET_RATIO_AT_LEAST, 0.75 },
	{ "run.pipelined.daemon_cpu_us", "daemon CPU per run, pipelined", UNIT_USEC,
	    "baseline.pipelined.relay_cpu_us", TARGET_NONE, 0 },
};

/* The daemon's CPU time per run, kernel included, against the relay's. */
static const struct figure_def echo16_cpu_def = {
	"run.echo16.daemon_cpu_us", "daemon CPU per run echo 16 B", UNIT_USEC,
	"baseline.rtt.relay_cpu_us", TARGET_NONE, 0
};

static const struct figure_def echo64k_cpu_def = {
	"run.echo64k.daemon_cpu_us", "daemon CPU per run echo 64 KiB", UNIT_USEC,
	"baseline.rtt.relay_cpu_us", TARGET_NONE, 0
};

static const struct figure_def spin_defs[] = {
	{ "spin.runs_per_s", "spin 1 ms, workers in flight", UNIT_PER_SEC,
	    NULL, TARGET_NONE, 0 },
	{ "spin.percent_of_ideal", "spin 1 ms, workers in flight: of ideal", UNIT_PERCENT,
	    NULL, TARGET_AT_LEAST, 95 },
	{ "spin_queued.percent_of_ideal", "spin 1 ms, 2x workers in flight: of ideal",
	    UNIT_PERCENT, NULL, TARGET_NONE, 0 },
};

struct echo_op {
	struct lp_client *c;
	uint64_t lease;
	struct lp_args *args;
	size_t len;
};

/* Runs kept in flight on one lease (or submissions to pool), counted as they complete. */
struct pipeline {
	struct lp_client *c;
	uint64_t lease;
	const char *pool;		/* submit to this pool's grinder instead */
	const char *fn;
	struct lp_args *args;
	unsigned depth;
	uint64_t completed;
	uint64_t failed;
	struct lp_error first_error;
};

static void
echo_once(void *arg)
{
	struct echo_op *op = arg;
	struct lp_value *v;
	struct lp_error err;
	size_t len = 0;

	if (lp_run(op->c, op->lease, "echo", op->args, &v, &err) != LP_OK)
		bench_fatal("run echo: %s", err.message);
	if (lp_value_str(v, &len) == NULL || len != op->len)
		bench_fatal("run echo: %zu bytes back instead of %zu", len, op->len);
	lp_value_free(v);
}

/* Sequential runs of echo with args (len bytes to come back) on a fresh lease. */
static void
echo_latency(struct bench_ctx *ctx, struct lp_args *args, size_t len, size_t warmup,
    size_t n, const struct figure_def *defs, const struct figure_def *cpu_def)
{
	struct lp_client *c = daemon_connect(ctx->daemon);
	struct echo_op op = { .c = c, .args = args, .len = len };
	struct lp_lease lease;
	struct samples s;
	double cpu;

	daemon_acquire(c, BENCH_POOL_CPU, &lease);
	op.lease = lease.id;
	samples_init(&s, n);
	cpu = time_ops(&s, warmup, n, echo_once, &op, ctx->daemon->pid);
	report_latency(defs, &s);
	report_record(cpu_def, cpu);
	samples_free(&s);
	daemon_release(c, &lease);
	lp_client_free(c);
}

static struct lp_args *
args_new(void)
{
	struct lp_args *a = lp_args_new();

	if (a == NULL)
		bench_fatal("out of memory");
	return a;
}

void
measure_echo_small(struct bench_ctx *ctx)
{
	struct lp_args *args = args_new();

	lp_args_str(args, BENCH_SMALL_STRING);
	echo_latency(ctx, args, BENCH_SMALL_BYTES, bench_count(ctx, BENCH_SEQ_WARMUP),
	    bench_count(ctx, BENCH_SEQ_SAMPLES), echo16_defs, &echo16_cpu_def);
	lp_args_free(args);
}

void
measure_echo_big(struct bench_ctx *ctx)
{
	struct lp_args *args = args_new();
	char *big = malloc(BIG_BYTES);

	if (big == NULL)
		bench_fatal("out of memory");
	memset(big, 'x', BIG_BYTES);
	lp_args_bin(args, big, BIG_BYTES);
	echo_latency(ctx, args, BIG_BYTES, bench_count(ctx, 200), bench_count(ctx, 3000),
	    echo64k_defs, &echo64k_cpu_def);
	free(big);
	lp_args_free(args);
}

static void
pipeline_done(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct pipeline *p = arg;

	p->completed++;
	if (code != LP_OK && p->failed++ == 0)
		p->first_error = *err;
	lp_value_free(result);
}

/* Keeps p->depth runs in flight; w counts those completed inside its window. */
static void
pipeline_run(struct pipeline *p, struct rate_window *w)
{
	struct lp_error err;
	struct pollfd pfd;

	while (!window_update(w, p->completed)) {
		while (lp_client_pending(p->c) < p->depth) {
			enum lp_err rc = p->pool != NULL ?
			    lp_submit_async(p->c, p->pool, p->fn, p->args, pipeline_done, p, &err) :
			    lp_run_async(p->c, p->lease, p->fn, p->args, pipeline_done, p, &err);

			if (rc != LP_OK)
				bench_fatal("run %s: %s", p->fn, err.message);
		}
		pfd.fd = lp_client_fd(p->c);
		pfd.events = POLLIN | (lp_client_want_write(p->c) ? POLLOUT : 0);
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			bench_fatal("poll: %s", strerror(errno));
		if (lp_client_process(p->c, &err) != LP_OK)
			bench_fatal("run %s: %s", p->fn, err.message);
	}
	if (lp_client_wait_all(p->c, &err) != LP_OK)
		bench_fatal("run %s: %s", p->fn, err.message);
	if (p->failed > 0)
		bench_fatal("%llu runs of %s failed, the first with: %s",
		    (unsigned long long)p->failed, p->fn, p->first_error.message);
}

/*
 * A pipeline on a fresh lease of the cpu pool, fixed_depth deep or else
 * depth_per_worker per worker of the lease; w gets the figures.
 */
static void
pipeline_measure(struct bench_ctx *ctx, const char *fn, struct lp_args *args,
    unsigned depth_per_worker, unsigned fixed_depth, unsigned *workers,
    struct rate_window *w)
{
	struct lp_client *c = daemon_connect(ctx->daemon);
	struct pipeline p = { .c = c, .fn = fn, .args = args };
	struct lp_lease lease;

	daemon_acquire(c, BENCH_POOL_CPU, &lease);
	p.lease = lease.id;
	p.depth = fixed_depth > 0 ? fixed_depth : depth_per_worker * lease.workers;
	window_start(w, bench_seconds(ctx, BENCH_RATE_WARMUP),
	    bench_seconds(ctx, BENCH_RATE_SECONDS), ctx->daemon->pid);
	pipeline_run(&p, w);
	daemon_release(c, &lease);
	lp_client_free(c);
	if (workers != NULL)
		*workers = lease.workers;
}

void
measure_pipelined(struct bench_ctx *ctx)
{
	struct lp_args *args = args_new();

	struct rate_window w;

	lp_args_str(args, BENCH_SMALL_STRING);
	pipeline_measure(ctx, "echo", args, 0, BENCH_PIPELINE_DEPTH, NULL, &w);
	report_record(&pipelined_defs[0], window_rate(&w));
	report_record(&pipelined_defs[1], window_cpu_us(&w));
	lp_args_free(args);
}

/* The grinder at each batch size, against runs pipelined on a lease. */
static const struct figure_def submit_defs[] = {
	{ "submit.b1.jobs_per_s", "submit echo, batch 1 (1024 in flight)", UNIT_PER_SEC,
	    "run.pipelined.runs_per_s", TARGET_NONE, 0 },
	{ "submit.b16.jobs_per_s", "submit echo, batch 16", UNIT_PER_SEC,
	    "run.pipelined.runs_per_s", TARGET_NONE, 0 },
	{ "submit.b64.jobs_per_s", "submit echo, batch 64", UNIT_PER_SEC,
	    "run.pipelined.runs_per_s", TARGET_NONE, 0 },
	{ "submit.b256.jobs_per_s", "submit echo, batch 256", UNIT_PER_SEC,
	    "run.pipelined.runs_per_s", TARGET_NONE, 0 },
};

void
measure_submit(struct bench_ctx *ctx)
{
	static const char *const pools[] = { BENCH_POOL_GRIND1, BENCH_POOL_GRIND16,
	    BENCH_POOL_GRIND64, BENCH_POOL_GRIND256 };
	struct lp_args *args = args_new();

	lp_args_str(args, BENCH_SMALL_STRING);
	for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) {
		struct lp_client *c = daemon_connect(ctx->daemon);
		struct pipeline p = { .c = c, .pool = pools[i], .fn = "echo", .args = args,
		    .depth = BENCH_SUBMIT_DEPTH };
		struct rate_window w;

		window_start(&w, bench_seconds(ctx, BENCH_RATE_WARMUP),
		    bench_seconds(ctx, BENCH_RATE_SECONDS), ctx->daemon->pid);
		pipeline_run(&p, &w);
		report_record(&submit_defs[i], window_rate(&w));
		lp_client_free(c);
	}
	lp_args_free(args);
}

/*
 * Ideal: every worker spins all the time, workers x 1000 runs/s.  With
 * exactly `workers` in flight a worker idles for each round trip to the
 * client; with twice as many the next run already waits in the daemon.
 */
void
measure_spin(struct bench_ctx *ctx)
{
	struct lp_args *args = args_new();
	struct rate_window w;
	unsigned workers;
	double ideal;

	lp_args_int(args, SPIN_MICROS);
	pipeline_measure(ctx, "spin", args, 1, 0, &workers, &w);
	ideal = workers * (1e6 / SPIN_MICROS);
	report_record(&spin_defs[0], window_rate(&w));
	report_record(&spin_defs[1], 100 * window_rate(&w) / ideal);
	pipeline_measure(ctx, "spin", args, 2, 0, &workers, &w);
	report_record(&spin_defs[2], 100 * window_rate(&w) / ideal);
	lp_args_free(args);
}
