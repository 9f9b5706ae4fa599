/* SPDX-License-Identifier: ISC */
/*
 * leasepool-bench: what its files share.
 *
 * main.c runs a table of measurements, each a function that records
 * figures (report.c) from repeated runs; stats.c turns samples into
 * percentiles; daemon.c owns the leasepoold under test; baseline.c is the
 * raw relay every leasepool figure is compared with.
 */
#ifndef LP_BENCH_H
#define LP_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "leasepool/leasepool.h"

/* Repetitions of each measurement; the median of them is reported. */
#define BENCH_REPS_DEFAULT 5
#define BENCH_REPS_MAX 50

/* The messages of the baseline and the payload of the small echo. */
#define BENCH_SMALL_BYTES 16
#define BENCH_SMALL_STRING "0123456789abcdef"
/* Requests in flight in the pipelined figures, baseline and leasepool alike. */
#define BENCH_PIPELINE_DEPTH 64
#define BENCH_SUBMIT_DEPTH 1024 /* submissions in flight: batches fill up */
/* Connections of the many-clients figures: contended acquires, submissions. */
#define BENCH_CROWD 16
/* Sequential round trips, and the pipelined window, shared by both sides. */
#define BENCH_SEQ_WARMUP 2000
#define BENCH_SEQ_SAMPLES 20000
#define BENCH_RATE_WARMUP 0.2
#define BENCH_RATE_SECONDS 1.0

struct bench_opts {
	const char *daemon;
	const char *json;
	const char *only;
	bool quick;
	double scale; /* of every count and duration */
	unsigned reps;
};

/* The leasepoold under test: its own directory, socket, config and log. */
struct bench_daemon {
	char dir[64];
	char socket[100]; /* fits sun_path */
	char config[128];
	char log[128];
	pid_t pid;
	bool python; /* it has BENCH_POOL_PYTHON */
};

struct bench_ctx {
	const struct bench_opts *opts;
	struct bench_daemon *daemon;
	unsigned ncpu;
	unsigned rep; /* 0 .. opts->reps - 1 */
};

/* One measurement: a row of main.c's table. */
struct measurement {
	const char *name; /* for --only */
	const char *what;
	void (*run)(struct bench_ctx *);
	/* the measurement its figures are compared with, or NULL */
	const char *baseline;
	bool once; /* not repeated: its figures do not vary by run */
	/* only with --only: its many figures would crowd the table */
	bool on_request;
};

/* The pool names of the configuration daemon.c writes. */
#define BENCH_POOL_CPU "cpu"
#define BENCH_POOL_PAIR "pair" /* two executors, for contended acquires */
/* One grinder pool per batch size, each an executor of all CPUs. */
#define BENCH_POOL_GRIND1 "grind1"
#define BENCH_POOL_GRIND16 "grind16"
#define BENCH_POOL_GRIND64 "grind64"
#define BENCH_POOL_GRIND256 "grind256"
/* The thread backend: one executor of many threads, which mostly sleep. */
#define BENCH_POOL_THREADS "threads"
/*
 * Python workers serving examples/python/primes.py of the source tree the
 * bench was built from (BENCH_SOURCE), one executor of all CPUs; only
 * when /usr/bin/python3 has msgpack.
 */
#define BENCH_POOL_PYTHON "python"

/* ---- stats.c: the clock, samples, percentiles ---- */

uint64_t now_ns(void);
double seconds_since(uint64_t start_ns);
void sleep_seconds(double seconds);

/* Latency samples in nanoseconds; percentiles sort them first. */
struct samples {
	uint64_t *v;
	size_t n;
	size_t cap;
	bool sorted;
};

void samples_init(struct samples *s, size_t expected);
void samples_add(struct samples *s, uint64_t ns);
void samples_free(struct samples *s);
/* Nearest-rank percentile (0 < p <= 100), in microseconds. */
double samples_percentile_us(struct samples *s, double p);
/* The median of n values (sorts them in place). */
double median(double *v, size_t n);
/*
 * Times n calls of op, after warmup calls that are not timed; returns the
 * CPU time process watch used during the n calls, in microseconds per
 * call (NaN when watch is 0).
 */
double time_ops(struct samples *s, size_t warmup, size_t n, void (*op)(void *),
    void *arg, pid_t watch);

/* The machine's CPU time so far, in /proc/stat's ticks. */
struct cpu_times {
	uint64_t total;
	uint64_t idle;
	uint64_t steal;
	uint64_t switches; /* context switches since boot, all CPUs */
};

/*
 * A rate over a window that opens after a warm-up: feed it the running
 * count of completions as they happen; it says when the window has closed.
 */
struct rate_window {
	pid_t watch;	/* whose CPU time to count, or 0 */
	uint64_t opens; /* ns */
	uint64_t closes;
	uint64_t opened_at;
	uint64_t closed_at;
	uint64_t count_opened;
	uint64_t count_closed;
	uint64_t cpu_opened; /* ns of CPU time of watch */
	uint64_t cpu_closed;
	struct cpu_times machine_opened;
	struct cpu_times machine_closed;
	bool open;
	bool closed;
};

void window_start(struct rate_window *w, double warmup, double seconds,
    pid_t watch);
bool window_update(struct rate_window *w, uint64_t count);
/* Completions per second inside the window. */
double window_rate(const struct rate_window *w);
/* CPU time of watch per completion inside the window, in microseconds. */
double window_cpu_us(const struct rate_window *w);
/* The share (0 to 1) of the machine's CPU time the hypervisor took inside the window. */
double window_steal(const struct rate_window *w);
/* The share (0 to 1) of the machine's CPU time left idle inside the window. */
double window_idle(const struct rate_window *w);
/* The machine's context switches per 1,000 completions inside the window. */
double window_switches_per_k(const struct rate_window *w);

/* ---- io.c: whole reads and writes on blocking descriptors ---- */

bool write_full(int fd, const void *p, size_t len);
/* False at EOF or on an error before len bytes came. */
bool read_full(int fd, void *p, size_t len);

/* ---- proc.c: /proc of a process ---- */

/* A "Key:   123 kB" line of /proc/PID/file, in KiB; NaN when absent. */
double proc_kib(pid_t pid, const char *file, const char *key);
/* CPU time used so far, user and system, in ns; 0 when unknown. */
uint64_t proc_cpu_ns(pid_t pid);
/* False when /proc/stat cannot be read. */
bool cpu_times_read(struct cpu_times *t);
/* The share (0 to 1) of all CPUs' time between from and to stolen by the hypervisor; NaN if unknown. */
double cpu_steal_share(const struct cpu_times *from,
    const struct cpu_times *to);
/* The share (0 to 1) of all CPUs' time between from and to left idle; NaN if unknown. */
double cpu_idle_share(const struct cpu_times *from, const struct cpu_times *to);
/* The share (0 to 1) of all CPUs' time not idle over the next `seconds`; NaN if unknown. */
double machine_busy(double seconds);
/* The 1-minute load average; NaN if unknown. */
double machine_load(void);
/* The haltpoll driver's guest_halt_poll_ns; NaN when it is not loaded. */
double machine_halt_poll_ns(void);

/* ---- report.c: figures, the table, JSON ---- */

enum unit {
	UNIT_USEC,
	UNIT_PER_SEC,
	UNIT_PERCENT,
	UNIT_KIB,
	UNIT_COUNT,
	UNIT_RATIO,
};

enum target_kind {
	TARGET_NONE,
	TARGET_RATIO_AT_MOST,  /* figure / baseline <= value */
	TARGET_RATIO_AT_LEAST, /* figure / baseline >= value */
	TARGET_AT_MOST,
	TARGET_AT_LEAST,
};

/*
 * What a figure is; measurements keep these as static tables.  baseline
 * names the key of the baseline figure it is divided by: a latency by the
 * same percentile of the raw round trip, a rate by the raw pipelined rate.
 */
struct figure_def {
	const char *key;
	const char *label;
	enum unit unit;
	const char *baseline;
	enum target_kind target;
	double target_value;
};

void report_record(const struct figure_def *def, double value);
/* defs[0..2]: the p50, p99 and p99.9 of s. */
void report_latency(const struct figure_def *defs, struct samples *s);
void report_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A fact about the conditions of the run, for the JSON. */
void report_context(const char *key, double value);
void report_print(const struct bench_ctx *ctx);
/* False when the file cannot be written. */
bool report_json(const struct bench_ctx *ctx, const char *path);

/* ---- daemon.c: the leasepoold under test ---- */

void daemon_start(struct bench_daemon *d, const char *path, unsigned ncpu);
void daemon_stop(struct bench_daemon *d);
/* Removes its directory: config, log, socket. */
void daemon_remove_files(const struct bench_daemon *d);
struct lp_client *daemon_connect(const struct bench_daemon *d);
/* A lease on pool, waiting as long as it takes. */
void daemon_acquire(struct lp_client *c, const char *pool,
    struct lp_lease *lease);
void daemon_release(struct lp_client *c, const struct lp_lease *lease);
/* A plain socket connected to the daemon, or -1 with errno set. */
int daemon_raw_connect(const struct bench_daemon *d);

/* ---- pipeline.c: requests kept in flight on one connection ---- */

/*
 * Runs on one lease, or submissions to one pool, counted as they complete;
 * while latency is set, each request's round trip is added to it.
 */
struct pipeline {
	struct lp_client *c;
	uint64_t lease;
	const char *pool; /* submit to this pool's grinder instead */
	const char *fn;
	const struct lp_args *args;
	unsigned depth;
	struct samples *latency;
	uint64_t completed;
	uint64_t failed;
	struct lp_error first_error;
	/* depth of them, for the requests in flight */
	struct pipeline_slot *slots;
	struct pipeline_slot *free; /* after a failure, or while draining */
	bool draining;		    /* answers send nothing more */
};

/* Tops p up to its depth, waits for the daemon, takes what has come back and sends as much. */
void pipeline_step(struct pipeline *p);
/* Waits for what is still in flight, frees p's slots; fatal if any request failed. */
void pipeline_finish(struct pipeline *p);
/* Steps until w has closed over p's completions, then finishes. */
void pipeline_run(struct pipeline *p, struct rate_window *w);

/* ---- crowd.c: many connections at once, a thread each ---- */

struct crowd_member {
	/* its own: a client is not shared between threads */
	struct lp_client *c;
	unsigned index;
	const void *arg; /* the measurement's, the same for every member */
	const atomic_bool *stop; /* work until it is set */
	/* Completions so far: the member counts, the crowd reads while it works. */
	atomic_uint_fast64_t done;
	void (*work)(struct crowd_member *);
	pthread_t thread;
};

struct crowd_figures {
	double per_s; /* all members' completions per second in the window */
	/* most completions of a member / fewest; inf if one had none */
	double fairness;
	/* the daemon's CPU time per completion in the window */
	double daemon_cpu_us;
};

/*
 * n members do work on their own connections at once; after a warm-up,
 * their completions are counted over a window.
 */
void crowd_run(struct bench_ctx *ctx, unsigned n,
    void (*work)(struct crowd_member *), const void *arg,
    struct crowd_figures *f);

/* ---- main.c ---- */

/* Says what went wrong, stops the daemon, exits. */
void bench_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* A measurement's size: as given, or a fraction of it with --quick. */
size_t bench_count(const struct bench_ctx *ctx, size_t normal);
double bench_seconds(const struct bench_ctx *ctx, double normal);

/* ---- the measurements ---- */

void measure_baseline(struct bench_ctx *); /* baseline.c */
void measure_baseline_pipelined(struct bench_ctx *);
void measure_echo_small(struct bench_ctx *);   /* runs.c */
void measure_echo_big(struct bench_ctx *);     /* runs.c */
void measure_pipelined(struct bench_ctx *);    /* runs.c */
void measure_spin(struct bench_ctx *);	       /* runs.c */
void measure_load(struct bench_ctx *);	       /* runs.c */
void measure_threads(struct bench_ctx *);      /* runs.c */
void measure_python(struct bench_ctx *);       /* runs.c */
void measure_submit(struct bench_ctx *);       /* submit.c */
void measure_submit_crowd(struct bench_ctx *); /* submit.c */
void measure_cancel(struct bench_ctx *);       /* cancel.c */
void measure_acquire(struct bench_ctx *);      /* leases.c */
void measure_contended(struct bench_ctx *);    /* leases.c */
void measure_memory(struct bench_ctx *);       /* memory.c */
/* Reads the daemon's footprint before any load, for measure_memory() (memory.c). */
void memory_take_fresh(struct bench_ctx *);

#endif
