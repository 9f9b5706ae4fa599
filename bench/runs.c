/* SPDX-License-Identifier: ISC */
/*
 * Runs on one lease: sequential echo latency (blocking API), pipelined
 * echo throughput, CPU-bound spin throughput and the thread backend's
 * sleep (asynchronous API, a fixed number of runs kept in flight), and the
 * same on Python workers.  Every
 * result is checked: a run that failed fast must never pass for a fast run.
 */
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

#define BIG_BYTES (64u * 1024)
#define SPIN_MICROS 1000
#define SLEEP_MILLIS 1
#define SLEEP_SAMPLES 200

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
	{ "run.pipelined.runs_per_s",
	    "runs pipelined, echo 16 B (64 in flight)", UNIT_PER_SEC,
	    "baseline.pipelined.msgs_per_s", TARGET_RATIO_AT_LEAST, 0.75 },
	{ "run.pipelined.daemon_cpu_us", "daemon CPU per run, pipelined",
	    UNIT_USEC, "baseline.pipelined.relay_cpu_us", TARGET_NONE, 0 },
	{ "run.pipelined.switches_per_k",
	    "context switches per 1k runs, pipelined", UNIT_COUNT,
	    "baseline.pipelined.switches_per_k", TARGET_NONE, 0 },
	{ "run.pipelined.idle_percent", "CPUs idle, pipelined", UNIT_PERCENT,
	    "baseline.pipelined.idle_percent", TARGET_NONE, 0 },
};

/* The daemon's CPU time per run, kernel included, against the relay's. */
static const struct figure_def echo16_cpu_def = { "run.echo16.daemon_cpu_us",
	"daemon CPU per run echo 16 B", UNIT_USEC, "baseline.rtt.relay_cpu_us",
	TARGET_NONE, 0 };

static const struct figure_def echo64k_cpu_def = { "run.echo64k.daemon_cpu_us",
	"daemon CPU per run echo 64 KiB", UNIT_USEC,
	"baseline.rtt.relay_cpu_us", TARGET_NONE, 0 };

/*
 * The target is on the pool kept fed.  With exactly `workers` in flight
 * each job also waits one client round trip, which is the relay's own
 * p50 at least (80 to 100 us on the VM of bench/README.md: 8 to 10 % of
 * 1 ms before leasepool adds anything).
 */
static const struct figure_def spin_defs[] = {
	{ "spin.runs_per_s", "spin 1 ms, workers in flight", UNIT_PER_SEC, NULL,
	    TARGET_NONE, 0 },
	{ "spin.percent_of_ideal", "spin 1 ms, workers in flight: of ideal",
	    UNIT_PERCENT, NULL, TARGET_NONE, 0 },
	{ "spin_queued.percent_of_ideal",
	    "spin 1 ms, 2x workers in flight: of ideal", UNIT_PERCENT, NULL,
	    TARGET_AT_LEAST, 95 },
	{ "spin_queued.steal_percent",
	    "spin 1 ms, 2x in flight: CPU stolen by host", UNIT_PERCENT, NULL,
	    TARGET_NONE, 0 },
};

static const struct figure_def threads_defs[] = {
	{ "threads.sleep.runs_per_s", "thread sleep 1 ms, workers in flight",
	    UNIT_PER_SEC, NULL, TARGET_NONE, 0 },
	{ "threads.sleep.efficiency", "thread sleep 1 ms: parallel efficiency",
	    UNIT_PERCENT, NULL, TARGET_NONE, 0 },
	{ "threads.sleep_queued.efficiency",
	    "thread sleep 1 ms, 2x in flight: efficiency", UNIT_PERCENT, NULL,
	    TARGET_NONE, 0 },
	{ "threads.sleep_queued.steal_percent",
	    "thread sleep 1 ms, 2x: CPU stolen by host", UNIT_PERCENT, NULL,
	    TARGET_NONE, 0 },
	{ "threads.nanosleep_us", "sleep 1 ms in the bench: p50", UNIT_USEC,
	    NULL, TARGET_NONE, 0 },
};

/* Echo 16 B on one lease at each of these numbers of runs in flight. */
#define NLOADS 7
static const unsigned load_depths[NLOADS] = { 1, 2, 4, 8, 16, 32, 64 };

/* clang-format 14 garbles a braced initializer in a macro. */
/* clang-format off */
#define LOAD_DEFS(depth) { \
	{ "load.d" #depth ".p50_us", "echo 16 B, " #depth " in flight: p50", \
	    UNIT_USEC, "baseline.rtt.p50_us", TARGET_NONE, 0 }, \
	{ "load.d" #depth ".p99_us", "echo 16 B, " #depth " in flight: p99", \
	    UNIT_USEC, "baseline.rtt.p99_us", TARGET_NONE, 0 }, \
	{ "load.d" #depth ".p999_us", "echo 16 B, " #depth " in flight: p99.9", \
	    UNIT_USEC, "baseline.rtt.p999_us", TARGET_NONE, 0 } }
/* clang-format on */

static const struct figure_def load_defs[NLOADS][3] = {
	LOAD_DEFS(1),
	LOAD_DEFS(2),
	LOAD_DEFS(4),
	LOAD_DEFS(8),
	LOAD_DEFS(16),
	LOAD_DEFS(32),
	LOAD_DEFS(64),
};

struct echo_op {
	struct lp_client *c;
	uint64_t lease;
	const char *fn;
	struct lp_args *args;
	size_t len;
};

static void
echo_once(void *arg)
{
	struct echo_op *op = arg;
	struct lp_value *v;
	struct lp_error err;
	size_t len = 0;

	if (lp_run(op->c, op->lease, op->fn, op->args, &v, &err) != LP_OK)
		bench_fatal("run %s: %s", op->fn, err.message);
	if (lp_value_str(v, &len) == NULL || len != op->len)
		bench_fatal("run %s: %zu bytes back instead of %zu", op->fn,
		    len, op->len);
	lp_value_free(v);
}

/*
 * Sequential runs of fn, an echo, with args (len bytes to come back) on a
 * fresh lease of pool; cpu_def (if any) gets the daemon's CPU per run.
 * Returns the p50, in microseconds.
 */
static double
echo_latency(struct bench_ctx *ctx, const char *pool, const char *fn,
    struct lp_args *args, size_t len, size_t warmup, size_t n,
    const struct figure_def *defs, const struct figure_def *cpu_def)
{
	struct lp_client *c = daemon_connect(ctx->daemon);
	struct echo_op op = { .c = c, .fn = fn, .args = args, .len = len };
	struct lp_lease lease;
	struct samples s;
	double cpu, p50;

	daemon_acquire(c, pool, &lease);
	op.lease = lease.id;
	samples_init(&s, n);
	cpu = time_ops(&s, warmup, n, echo_once, &op, ctx->daemon->pid);
	report_latency(defs, &s);
	if (cpu_def != NULL)
		report_record(cpu_def, cpu);
	p50 = samples_percentile_us(&s, 50);
	samples_free(&s);
	daemon_release(c, &lease);
	lp_client_free(c);
	return p50;
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
	echo_latency(ctx, BENCH_POOL_CPU, "echo", args, BENCH_SMALL_BYTES,
	    bench_count(ctx, BENCH_SEQ_WARMUP),
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
	echo_latency(ctx, BENCH_POOL_CPU, "echo", args, BIG_BYTES,
	    bench_count(ctx, 200), bench_count(ctx, 3000), echo64k_defs,
	    &echo64k_cpu_def);
	free(big);
	lp_args_free(args);
}

/*
 * A pipeline on a fresh lease of pool, fixed_depth deep or else
 * depth_per_worker per worker of the lease; w gets the figures.
 */
static void
pipeline_measure(struct bench_ctx *ctx, const char *pool, const char *fn,
    struct lp_args *args, unsigned depth_per_worker, unsigned fixed_depth,
    unsigned *workers, struct rate_window *w)
{
	struct lp_client *c = daemon_connect(ctx->daemon);
	struct pipeline p = { .c = c, .fn = fn, .args = args };
	struct lp_lease lease;

	daemon_acquire(c, pool, &lease);
	p.lease = lease.id;
	p.depth =
	    fixed_depth > 0 ? fixed_depth : depth_per_worker * lease.workers;
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
	pipeline_measure(ctx, BENCH_POOL_CPU, "echo", args, 0,
	    BENCH_PIPELINE_DEPTH, NULL, &w);
	report_record(&pipelined_defs[0], window_rate(&w));
	report_record(&pipelined_defs[1], window_cpu_us(&w));
	report_record(&pipelined_defs[2], window_switches_per_k(&w));
	report_record(&pipelined_defs[3], 100 * window_idle(&w));
	lp_args_free(args);
}

/*
 * Runs of fn(args), each of which keeps a worker busy for `seconds`, on a
 * lease of pool: ideal is every worker busy all the time, workers /
 * seconds runs/s.  With exactly `workers` in flight a worker idles for
 * each round trip to the client; with twice as many the next run already
 * waits in the daemon.  defs: the rate, then both as a percentage of ideal,
 * then the share of the CPUs the VM's host took in the second window: a
 * job preempted by the host past its end finishes late, so what is stolen
 * is lost from the ideal, whatever leasepool does.
 */
static void
parallel_efficiency(struct bench_ctx *ctx, const char *pool, const char *fn,
    struct lp_args *args, double seconds, const struct figure_def *defs)
{
	struct rate_window w;
	unsigned workers;
	double ideal;

	pipeline_measure(ctx, pool, fn, args, 1, 0, &workers, &w);
	ideal = workers / seconds;
	report_record(&defs[0], window_rate(&w));
	report_record(&defs[1], 100 * window_rate(&w) / ideal);
	pipeline_measure(ctx, pool, fn, args, 2, 0, &workers, &w);
	report_record(&defs[2], 100 * window_rate(&w) / ideal);
	report_record(&defs[3], 100 * window_steal(&w));
}

/* spin works on a CPU: as many workers as CPUs should keep them all busy. */
void
measure_spin(struct bench_ctx *ctx)
{
	struct lp_args *args = args_new();

	lp_args_int(args, SPIN_MICROS);
	parallel_efficiency(ctx, BENCH_POOL_CPU, "spin", args,
	    SPIN_MICROS / 1e6, spin_defs);
	lp_args_free(args);
}

static void
sleep_once(void *arg)
{
	sleep_seconds(*(const double *)arg);
}

/*
 * sleep on the thread backend needs no CPU, so many threads' worth of it
 * fit on two CPUs: what limits it is the daemon handing runs to threads
 * and answering for them.  nanosleep itself overruns (timer slack, the
 * wake-up), which caps the efficiency below 100 %: how long one sleep
 * lasts in this process shows by how much.
 */
void
measure_threads(struct bench_ctx *ctx)
{
	struct lp_args *args = args_new();
	double seconds = SLEEP_MILLIS / 1e3;
	struct samples s;

	lp_args_double(args, seconds);
	parallel_efficiency(ctx, BENCH_POOL_THREADS, "sleep", args, seconds,
	    threads_defs);
	lp_args_free(args);
	samples_init(&s, SLEEP_SAMPLES);
	time_ops(&s, 0, bench_count(ctx, SLEEP_SAMPLES), sleep_once, &seconds,
	    0);
	report_record(&threads_defs[4], samples_percentile_us(&s, 50));
	samples_free(&s);
}

/*
 * Latency against load: each run's time from the moment it is queued to
 * its answer, with more and more runs in flight on one lease of the cpu
 * pool, so that queueing in the client, the daemon and the workers shows.
 */
void
measure_load(struct bench_ctx *ctx)
{
	struct lp_client *c = daemon_connect(ctx->daemon);
	struct lp_args *args = args_new();
	size_t warmup = bench_count(ctx, BENCH_SEQ_WARMUP),
	       n = bench_count(ctx, BENCH_SEQ_SAMPLES);
	struct lp_lease lease;
	struct samples s;

	lp_args_str(args, BENCH_SMALL_STRING);
	daemon_acquire(c, BENCH_POOL_CPU, &lease);
	for (size_t i = 0; i < NLOADS; i++) {
		struct pipeline p = { .c = c,
			.lease = lease.id,
			.fn = "echo",
			.args = args,
			.depth = load_depths[i] };

		samples_init(&s, n + load_depths[i]);
		while (p.completed < warmup)
			pipeline_step(&p);
		p.latency = &s;
		while (s.n < n)
			pipeline_step(&p);
		pipeline_finish(&p);
		report_latency(load_defs[i], &s);
		samples_free(&s);
	}
	daemon_release(c, &lease);
	lp_args_free(args);
	lp_client_free(c);
}

/*
 * Python workers (issue 23).  The sequential echo of a Python worker,
 * primes:echo, against the built-in C echo measured just before it on the
 * same daemon.  Then primes:count_primes on the python pool (workers =
 * CPUs) kept fed: its ideal rate is workers / the time of one job, that
 * job's sequential round trip less primes:echo's, both measured in this
 * repetition.
 */
#define PYTHON_ECHO_WARMUP 500
#define PYTHON_ECHO_SAMPLES 5000
/* about 6.5 ms of Python on the VM of bench/README.md */
#define PRIMES_LIMIT 5000
#define PRIMES_WARMUP 5
#define PRIMES_SAMPLES 50

static const struct figure_def python_c_echo_defs[] = {
	{ "python.c_echo.p50_us", "C echo 16 B, beside Python: p50", UNIT_USEC,
	    NULL, TARGET_NONE, 0 },
	{ "python.c_echo.p99_us", "C echo 16 B, beside Python: p99", UNIT_USEC,
	    NULL, TARGET_NONE, 0 },
	{ "python.c_echo.p999_us", "C echo 16 B, beside Python: p99.9",
	    UNIT_USEC, NULL, TARGET_NONE, 0 },
};

static const struct figure_def python_echo_defs[] = {
	{ "python.echo.p50_us", "Python echo 16 B p50", UNIT_USEC,
	    "python.c_echo.p50_us", TARGET_RATIO_AT_MOST, 1.5 },
	{ "python.echo.p99_us", "Python echo 16 B p99", UNIT_USEC,
	    "python.c_echo.p99_us", TARGET_NONE, 0 },
	{ "python.echo.p999_us", "Python echo 16 B p99.9", UNIT_USEC,
	    "python.c_echo.p999_us", TARGET_NONE, 0 },
};

static const struct figure_def python_primes_job_def = {
	"python.count_primes.job_us", "Python count_primes(5000): one job",
	UNIT_USEC, NULL, TARGET_NONE, 0
};

static const struct figure_def python_primes_defs[] = {
	{ "python.count_primes.runs_per_s",
	    "Python count_primes, workers in flight", UNIT_PER_SEC, NULL,
	    TARGET_NONE, 0 },
	{ "python.count_primes.percent_of_ideal",
	    "Python count_primes, workers: of ideal", UNIT_PERCENT, NULL,
	    TARGET_NONE, 0 },
	{ "python_queued.count_primes.percent_of_ideal",
	    "Python count_primes, 2x workers: of ideal", UNIT_PERCENT, NULL,
	    TARGET_AT_LEAST, 95 },
	{ "python_queued.count_primes.steal_percent",
	    "Python count_primes, 2x: CPU stolen", UNIT_PERCENT, NULL,
	    TARGET_NONE, 0 },
};

struct primes_op {
	struct lp_client *c;
	uint64_t lease;
	struct lp_args *args;
};

static void
count_primes_once(void *arg)
{
	struct primes_op *op = arg;
	struct lp_value *v;
	struct lp_error err;

	if (lp_run(op->c, op->lease, "primes:count_primes", op->args, &v,
		&err) != LP_OK)
		bench_fatal("run primes:count_primes: %s", err.message);
	/* pi(5000) */
	if (lp_value_int(v) != 669)
		bench_fatal("primes:count_primes(%d) answered %lld",
		    PRIMES_LIMIT, (long long)lp_value_int(v));
	lp_value_free(v);
}

/* The p50 of count_primes' sequential round trip on a fresh lease, in microseconds. */
static double
count_primes_round_trip(struct bench_ctx *ctx, struct lp_args *args)
{
	struct lp_client *c = daemon_connect(ctx->daemon);
	struct primes_op op = { .c = c, .args = args };
	struct lp_lease lease;
	struct samples s;
	double p50;

	daemon_acquire(c, BENCH_POOL_PYTHON, &lease);
	op.lease = lease.id;
	samples_init(&s, PRIMES_SAMPLES);
	time_ops(&s, PRIMES_WARMUP, bench_count(ctx, PRIMES_SAMPLES),
	    count_primes_once, &op, 0);
	p50 = samples_percentile_us(&s, 50);
	samples_free(&s);
	daemon_release(c, &lease);
	lp_client_free(c);
	return p50;
}

void
measure_python(struct bench_ctx *ctx)
{
	struct lp_args *args = args_new();
	size_t warmup = bench_count(ctx, PYTHON_ECHO_WARMUP);
	size_t n = bench_count(ctx, PYTHON_ECHO_SAMPLES);
	double echo_us, job_us;

	if (!ctx->daemon->python)
		return;
	lp_args_str(args, BENCH_SMALL_STRING);
	echo_latency(ctx, BENCH_POOL_CPU, "echo", args, BENCH_SMALL_BYTES,
	    warmup, n, python_c_echo_defs, NULL);
	echo_us = echo_latency(ctx, BENCH_POOL_PYTHON, "primes:echo", args,
	    BENCH_SMALL_BYTES, warmup, n, python_echo_defs, NULL);
	lp_args_clear(args);
	lp_args_int(args, PRIMES_LIMIT);
	job_us = count_primes_round_trip(ctx, args) - echo_us;
	report_record(&python_primes_job_def, job_us);
	parallel_efficiency(ctx, BENCH_POOL_PYTHON, "primes:count_primes", args,
	    job_us / 1e6, python_primes_defs);
	lp_args_free(args);
}
