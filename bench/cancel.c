/* SPDX-License-Identifier: ISC */
/*
 * How long a cancel takes to stop a running job: from the cancel request
 * to the CANCELLED answer of a spin that runs on a process worker, next to
 * a sequential echo's round trip measured in the same pass.  Each cancel
 * stops its worker; the next sample waits until the replacement answers.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "proto/rpc.h"

/* Samples: each costs a worker's fork and start, so fewer than the echo's. */
#define CANCEL_SAMPLES 300
/* A spin that outlasts any cancel: the cancel, not the spin's end, answers it. */
#define CANCEL_SPIN_MICROS 10e6
/* Time for the spin's frame to reach its worker and start, before the cancel. */
#define CANCEL_START_SECONDS 0.002

static const struct figure_def cancel_defs[] = {
	{ "cancel.running.p50_us", "cancel of a running spin, p50", UNIT_USEC,
	    "cancel.echo16.p50_us", TARGET_NONE, 0 },
	{ "cancel.running.p99_us", "cancel of a running spin, p99", UNIT_USEC,
	    "cancel.echo16.p99_us", TARGET_NONE, 0 },
	{ "cancel.running.p999_us", "cancel of a running spin, p99.9",
	    UNIT_USEC, "cancel.echo16.p999_us", TARGET_NONE, 0 },
};

static const struct figure_def echo_defs[] = {
	{ "cancel.echo16.p50_us", "sequential echo beside it, p50", UNIT_USEC,
	    NULL, TARGET_NONE, 0 },
	{ "cancel.echo16.p99_us", "sequential echo beside it, p99", UNIT_USEC,
	    NULL, TARGET_NONE, 0 },
	{ "cancel.echo16.p999_us", "sequential echo beside it, p99.9",
	    UNIT_USEC, NULL, TARGET_NONE, 0 },
};

/* When a request was answered, and how. */
struct answer {
	bool done;
	enum lp_err code;
	uint64_t at_ns;
};

static void
answered(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct answer *a = arg;

	a->done = true;
	a->code = code;
	a->at_ns = now_ns();
	lp_value_free(result);
}

/* Sleeps in poll() between reads: a client spinning would take the CPU the daemon needs. */
static void
wait_for(struct lp_client *c, const struct answer *a)
{
	struct pollfd pfd = { .fd = lp_client_fd(c) };
	struct lp_error err;

	while (!a->done) {
		pfd.events = POLLIN | (lp_client_want_write(c) ? POLLOUT : 0);
		if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
			bench_fatal("poll: %s", strerror(errno));
		if (lp_client_process(c, &err) != LP_OK)
			bench_fatal("cancel: %s", err.message);
	}
}

struct echo_op {
	struct lp_client *c;
	uint64_t lease;
	struct lp_args *args;
};

static void
echo_once(void *arg)
{
	struct echo_op *op = arg;
	struct lp_value *v;
	struct lp_error err;

	if (lp_run(op->c, op->lease, "echo", op->args, &v, &err) != LP_OK)
		bench_fatal("echo: %s", err.message);
	lp_value_free(v);
}

/* One spin, cancelled once it runs: how long the CANCELLED answer took, in ns. */
static uint64_t
cancel_once(struct lp_client *c, uint64_t lease, const struct lp_args *spin,
    const void *params, size_t len)
{
	struct answer run = { 0 }, cancel = { 0 };
	struct lp_error err;
	uint64_t sent;

	if (lp_run_async(c, lease, "spin", spin, answered, &run, &err) !=
		LP_OK ||
	    lp_client_process(c, &err) != LP_OK)
		bench_fatal("spin: %s", err.message);
	sleep_seconds(CANCEL_START_SECONDS);
	sent = now_ns();
	if (lp_call_async(c, "cancel", params, len, answered, &cancel, &err) !=
	    LP_OK)
		bench_fatal("cancel: %s", err.message);
	wait_for(c, &run);
	wait_for(c, &cancel);
	if (run.code != LP_ERR_CANCELLED)
		bench_fatal("the cancelled spin was answered %s",
		    lp_err_name(run.code));
	return run.at_ns - sent;
}

void
measure_cancel(struct bench_ctx *ctx)
{
	struct lp_client *c = daemon_connect(ctx->daemon);
	struct lp_args *spin = lp_args_new(), *small = lp_args_new();
	size_t n = bench_count(ctx, CANCEL_SAMPLES);
	struct echo_op echo = { .c = c, .args = small };
	struct lp_lease lease;
	msgpack_sbuffer params;
	msgpack_packer pk;
	struct samples s;

	if (spin == NULL || small == NULL)
		bench_fatal("out of memory");
	lp_args_double(spin, CANCEL_SPIN_MICROS);
	lp_args_str(small, BENCH_SMALL_STRING);
	daemon_acquire(c, BENCH_POOL_CPU, &lease);
	echo.lease = lease.id;
	msgpack_sbuffer_init(&params);
	msgpack_packer_init(&pk, &params, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	lp_pack_cstr(&pk, "lease");
	msgpack_pack_uint64(&pk, lease.id);

	samples_init(&s, n);
	for (size_t i = 0; i < n; i++) {
		samples_add(&s,
		    cancel_once(c, lease.id, spin, params.data, params.size));
		/* The stopped worker's replacement is ready once it answers. */
		echo_once(&echo);
	}
	report_latency(cancel_defs, &s);
	samples_free(&s);

	samples_init(&s, bench_count(ctx, BENCH_SEQ_SAMPLES));
	time_ops(&s, bench_count(ctx, BENCH_SEQ_WARMUP),
	    bench_count(ctx, BENCH_SEQ_SAMPLES), echo_once, &echo, 0);
	report_latency(echo_defs, &s);
	samples_free(&s);

	msgpack_sbuffer_destroy(&params);
	daemon_release(c, &lease);
	lp_args_free(spin);
	lp_args_free(small);
	lp_client_free(c);
}
