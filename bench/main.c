/* SPDX-License-Identifier: ISC */
/*
 * leasepool-bench: starts its own leasepoold, measures it against a raw
 * relay in the same run, and reports a table and JSON.
 *
 * Repetitions are interleaved (baseline, runs, pipelined, ... then again)
 * rather than one measurement five times in a row, so that a machine that
 * gets busier half-way through shifts the baseline and leasepool alike and
 * their ratios stay honest.
 */
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"

/* --quick: one repetition, and this fraction of every count and duration. */
#define QUICK_FRACTION 0.25
/* --scale: from a quick look to a window long enough to profile. */
#define SCALE_MIN 0.01
#define SCALE_MAX 100.0

/*
 * The relay's pipelined rate is measured right before ours, and its round
 * trip before the sequential runs: on this noisy VM a ratio is steadier
 * the closer in time its two halves are.
 */
static const struct measurement measurements[] = {
	{ "baseline", "raw relay: sequential round trips", measure_baseline,
	    NULL, false, false },
	{ "echo16", "sequential runs of echo, 16 B", measure_echo_small,
	    "baseline", false, false },
	{ "echo64k", "sequential runs of echo, 64 KiB", measure_echo_big,
	    "baseline", false, false },
	{ "relay64", "raw relay: 64 messages in flight",
	    measure_baseline_pipelined, NULL, false, false },
	{ "pipelined", "pipelined runs of echo on one lease", measure_pipelined,
	    "relay64", false, false },
	{ "acquire", "acquire + release cycle", measure_acquire, "baseline",
	    false, false },
	{ "contended", "16 clients acquiring 2 executors", measure_contended,
	    "relay64", false, false },
	{ "spin", "CPU-bound runs of spin 1 ms", measure_spin, NULL, false,
	    false },
	{ "threads", "sleep 1 ms on the thread backend, 64 workers",
	    measure_threads, NULL, false, false },
	{ "python",
	    "echo and count_primes on Python workers, against the C echo",
	    measure_python, NULL, false, false },
	{ "submit", "submissions of echo through the grinder, batch 1 to 256",
	    measure_submit, NULL, false, false },
	{ "submit16", "the same from 16 connections at once",
	    measure_submit_crowd, NULL, false, false },
	{ "cancel",
	    "cancel of a running spin on a process worker, beside sequential echo",
	    measure_cancel, NULL, false, false },
	{ "memory", "daemon RSS idle and with 1,000 and 10,000 connections",
	    measure_memory, NULL, true, false },
	{ "load",
	    "echo latency at 1 to 64 in flight, for bench/plot-latency.sh "
	    "(only when named)",
	    measure_load, "baseline", false, true },
};

#define NMEASUREMENTS (sizeof measurements / sizeof measurements[0])

static struct bench_daemon *running;

void
bench_fatal(const char *fmt, ...)
{
	static atomic_flag failing = ATOMIC_FLAG_INIT;
	va_list ap;

	/* Another thread already fails: it stops the daemon and exits for us. */
	if (atomic_flag_test_and_set(&failing))
		for (;;)
			pause();
	fflush(stdout);
	fprintf(stderr, "leasepool-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (running != NULL) {
		daemon_stop(running);
		fprintf(stderr,
		    "leasepool-bench: the daemon's log is kept in %s\n",
		    running->log);
	}
	exit(1);
}

size_t
bench_count(const struct bench_ctx *ctx, size_t normal)
{
	return (size_t)(normal * ctx->opts->scale);
}

double
bench_seconds(const struct bench_ctx *ctx, double normal)
{
	return normal * ctx->opts->scale;
}

static __attribute__((noreturn)) void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: leasepool-bench --daemon PATH [--quick] [--scale F] [--reps N] [--json FILE]\n"
	    "                       [--only NAME]\n"
	    "  --daemon PATH  the leasepoold to start and measure (required)\n"
	    "  --quick        one repetition of shorter measurements (--scale 0.25)\n"
	    "  --scale F      every count and duration times F, 0.01 to 100: e.g. 10 for\n"
	    "                 a window long enough to profile the daemon with perf\n"
	    "  --reps N       repetitions of each measurement (default %d; median reported)\n"
	    "  --json FILE    write the figures there (default: leasepool-bench.json\n"
	    "                 next to this program)\n"
	    "  --only NAME    one measurement (and the baseline when its ratios need it):\n",
	    BENCH_REPS_DEFAULT);
	for (size_t i = 0; i < NMEASUREMENTS; i++)
		fprintf(status ? stderr : stdout,
		    "                   %-10s %s\n", measurements[i].name,
		    measurements[i].what);
	exit(status);
}

static void
parse_options(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longopts[] = {
		{ "daemon", required_argument, NULL, 'd' },
		{ "quick", no_argument, NULL, 'q' },
		{ "scale", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "json", required_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool reps_given = false, scale_given = false;
	char *end;
	long n;
	int ch;

	memset(o, 0, sizeof *o);
	o->reps = BENCH_REPS_DEFAULT;
	o->scale = 1;
	while ((ch = getopt_long(argc, argv, "d:qs:r:j:o:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'd':
			o->daemon = optarg;
			break;
		case 'q':
			o->quick = true;
			break;
		case 's':
			o->scale = strtod(optarg, &end);
			if (*end != '\0' ||
			    !(o->scale >= SCALE_MIN && o->scale <= SCALE_MAX)) {
				fprintf(stderr,
				    "leasepool-bench: --scale takes %g to %g\n",
				    SCALE_MIN, SCALE_MAX);
				exit(2);
			}
			scale_given = true;
			break;
		case 'r':
			n = strtol(optarg, &end, 10);
			if (*end != '\0' || n < 1 || n > BENCH_REPS_MAX) {
				fprintf(stderr,
				    "leasepool-bench: --reps takes 1 to %d\n",
				    BENCH_REPS_MAX);
				exit(2);
			}
			o->reps = (unsigned)n;
			reps_given = true;
			break;
		case 'j':
			o->json = optarg;
			break;
		case 'o':
			o->only = optarg;
			break;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc || o->daemon == NULL)
		usage(2);
	if (o->quick && !reps_given)
		o->reps = 1;
	if (o->quick && !scale_given)
		o->scale = QUICK_FRACTION;
}

static const struct measurement *
find_measurement(const char *name)
{
	for (size_t i = 0; i < NMEASUREMENTS; i++)
		if (strcmp(measurements[i].name, name) == 0)
			return &measurements[i];
	return NULL;
}

static bool
selected(const struct measurement *m, const struct measurement *only)
{
	if (only == NULL)
		return !m->on_request;
	if (m == only)
		return true;
	return only->baseline != NULL && strcmp(m->name, only->baseline) == 0;
}

/* 10,000 connections need 10,000 descriptors, here and in the daemon, which inherits ours. */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			report_note("cannot raise the descriptor limit: %s",
			    strerror(errno));
	}
}

static void
default_json_path(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n <= 0) {
		snprintf(buf, len, "leasepool-bench.json");
		return;
	}
	exe[n] = '\0';
	snprintf(buf, len, "%s/leasepool-bench.json", dirname(exe));
}

/*
 * Other programs on the machine skew every figure, ratios less so: look
 * how busy the CPUs are just before we start, and say so when they are,
 * rather than let a reader guess.
 */
#define BUSY_SAMPLE 0.5
#define BUSY_WARN 0.15

static void
note_machine(void)
{
	double busy = machine_busy(BUSY_SAMPLE);

	report_context("cpu_busy_before", busy);
	report_context("load_average_before", machine_load());
	report_context("guest_halt_poll_ns", machine_halt_poll_ns());
	if (busy > BUSY_WARN)
		report_note(
		    "other programs kept %.0f %% of the CPUs busy just before the run: "
		    "trust the ratios more than the absolute figures",
		    100 * busy);
}

/*
 * On a VM the host may run something else on our CPUs ("steal"): every
 * figure tied to the clock loses about that share, and no program in the
 * guest can win it back.
 */
#define STEAL_WARN 0.01

static void
note_steal(const struct cpu_times *start)
{
	struct cpu_times end;
	double steal;

	if (!cpu_times_read(&end))
		return;
	steal = cpu_steal_share(start, &end);
	report_context("cpu_steal_during_run", steal);
	if (steal > STEAL_WARN)
		report_note(
		    "the VM's host took %.1f %% of the CPUs' time during the run "
		    "(steal): rates and the spin figures lose about as much",
		    100 * steal);
}

/* One pass over the selected measurements that are repeated, or those that are not. */
static void
run_pass(struct bench_ctx *ctx, const struct measurement *only, bool once,
    const char *label)
{
	uint64_t start;
	bool any = false;

	for (size_t i = 0; i < NMEASUREMENTS; i++) {
		const struct measurement *m = &measurements[i];

		if (m->once != once || !selected(m, only))
			continue;
		if (!any)
			fprintf(stderr, "%s:", label);
		any = true;
		fprintf(stderr, " %s", m->name);
		start = now_ns();
		m->run(ctx);
		fprintf(stderr, " (%.1fs)", seconds_since(start));
	}
	if (any)
		fprintf(stderr, "\n");
}

int
main(int argc, char **argv)
{
	const struct measurement *only = NULL;
	struct bench_daemon daemon;
	struct bench_opts opts;
	struct bench_ctx ctx = { .opts = &opts, .daemon = &daemon };
	char json[PATH_MAX], label[48];
	uint64_t start = now_ns();
	struct cpu_times machine_start;
	long ncpu;

	parse_options(argc, argv, &opts);
	if (opts.only != NULL && (only = find_measurement(opts.only)) == NULL) {
		fprintf(stderr, "leasepool-bench: no measurement named '%s'\n",
		    opts.only);
		usage(2);
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	ctx.ncpu = ncpu > 0 ? (unsigned)ncpu : 1;
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	note_machine();
	if (!cpu_times_read(&machine_start))
		machine_start.total = 0;
	daemon_start(&daemon, opts.daemon, ctx.ncpu);
	running = &daemon;
	if (selected(find_measurement("memory"), only))
		memory_take_fresh(&ctx);

	for (ctx.rep = 0; ctx.rep < opts.reps; ctx.rep++) {
		snprintf(label, sizeof label, "repetition %u/%u", ctx.rep + 1,
		    opts.reps);
		run_pass(&ctx, only, false, label);
	}
	run_pass(&ctx, only, true, "once");

	daemon_stop(&daemon);
	running = NULL;
	daemon_remove_files(&daemon);
	if (machine_start.total != 0)
		note_steal(&machine_start);

	report_print(&ctx);
	if (opts.json != NULL)
		snprintf(json, sizeof json, "%s", opts.json);
	else
		default_json_path(json, sizeof json);
	if (!report_json(&ctx, json)) {
		fprintf(stderr, "leasepool-bench: %s: %s\n", json,
		    strerror(errno));
		return 1;
	}
	printf("\nJSON: %s\ntotal time: %.1f s\n", json, seconds_since(start));
	return 0;
}
