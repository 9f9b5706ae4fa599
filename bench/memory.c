/* SPDX-License-Identifier: ISC */
/*
 * The daemon's footprint: resident memory when idle, and what idle
 * connections cost, first silent (connected, nothing sent) and then after
 * each has made one request (a hello), since what a connection keeps after
 * its first request is what a real idle client costs.  Figures are of the
 * daemon's main process only: the fork server and the workers are other
 * processes.
 */
#include <sys/resource.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "bench/bench.h"

/* Descriptors this process keeps for itself besides the connections. */
#define FD_MARGIN 64
#define SETTLE_SECONDS 30.0
/* Longer than the daemon's QUIET_SECONDS, after which an idle daemon trims its heap. */
#define IDLE_SECONDS 3.0

struct footprint {
	double rss_kib;
	double pss_kib;
	double anon_kib;
};

/* The figures of one number of connections. */
struct level {
	unsigned n;
	struct figure_def rss;
	struct figure_def per_conn;
	struct figure_def per_conn_hello;
};

static const struct figure_def fresh_defs[] = {
	{ "memory.fresh.rss_kib", "daemon RSS, idle, fresh", UNIT_KIB, NULL,
	    TARGET_AT_MOST, 4096 },
	{ "memory.fresh.pss_kib", "daemon PSS, idle, fresh", UNIT_KIB, NULL,
	    TARGET_NONE, 0 },
	{ "memory.fresh.anon_kib", "daemon anonymous memory, idle, fresh",
	    UNIT_KIB, NULL, TARGET_NONE, 0 },
};

static const struct figure_def idle_defs[] = {
	{ "memory.idle.rss_kib", "daemon RSS, idle, after the load", UNIT_KIB,
	    NULL, TARGET_AT_MOST, 4096 },
	{ "memory.idle.pss_kib", "daemon PSS, idle, after the load", UNIT_KIB,
	    NULL, TARGET_NONE, 0 },
	{ "memory.idle.anon_kib",
	    "daemon anonymous memory, idle, after the load", UNIT_KIB, NULL,
	    TARGET_NONE, 0 },
};

static const struct level levels[] = {
	{ 1000,
	    { "memory.conns1000.rss_kib", "daemon RSS, 1000 idle connections",
		UNIT_KIB, NULL, TARGET_NONE, 0 },
	    { "memory.conns1000.per_conn_kib", "per connection (1000, silent)",
		UNIT_KIB, NULL, TARGET_AT_MOST, 8 },
	    { "memory.conns1000.per_conn_hello_kib",
		"per connection (1000, after a hello)", UNIT_KIB, NULL,
		TARGET_AT_MOST, 8 } },
	{ 10000,
	    { "memory.conns10000.rss_kib", "daemon RSS, 10000 idle connections",
		UNIT_KIB, NULL, TARGET_NONE, 0 },
	    { "memory.conns10000.per_conn_kib",
		"per connection (10000, silent)", UNIT_KIB, NULL,
		TARGET_AT_MOST, 8 },
	    { "memory.conns10000.per_conn_hello_kib",
		"per connection (10000, after a hello)", UNIT_KIB, NULL,
		TARGET_AT_MOST, 8 } },
};

static const struct figure_def held_def = { "memory.connections_held",
	"idle connections held", UNIT_COUNT, NULL, TARGET_AT_LEAST, 10000 };

static void
footprint_read(pid_t pid, struct footprint *fp)
{
	fp->rss_kib = proc_kib(pid, "status", "VmRSS");
	fp->pss_kib = proc_kib(pid, "smaps_rollup", "Pss");
	fp->anon_kib = proc_kib(pid, "smaps_rollup", "Anonymous");
	if (isnan(fp->rss_kib))
		bench_fatal("cannot read /proc/%d/status", (int)pid);
}

static void
footprint_record(const struct figure_def *defs, const struct footprint *fp)
{
	report_record(&defs[0], fp->rss_kib);
	if (!isnan(fp->pss_kib))
		report_record(&defs[1], fp->pss_kib);
	if (!isnan(fp->anon_kib))
		report_record(&defs[2], fp->anon_kib);
}

static long long
daemon_connections(struct lp_client *control)
{
	const msgpack_object *o;
	struct lp_value *v;
	struct lp_error err;
	long long n;

	if (lp_stats(control, NULL, &v, &err) != LP_OK)
		bench_fatal("stats: %s", err.message);
	o = lp_value_get(v, "connections");
	n = o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
	    (long long)o->via.u64 :
	    -1;
	lp_value_free(v);
	return n;
}

/* The daemon accepted (or let go of) every connection: it counts want. */
static bool
settle(struct lp_client *control, long long want)
{
	uint64_t start = now_ns();

	while (daemon_connections(control) != want) {
		if (seconds_since(start) > SETTLE_SECONDS)
			return false;
		sleep_seconds(0.01);
	}
	/* Connections closed are freed on the daemon's next loop turn. */
	sleep_seconds(0.05);
	return true;
}

static struct footprint fresh;
static bool fresh_taken;

void
memory_take_fresh(struct bench_ctx *ctx)
{
	footprint_read(ctx->daemon->pid, &fresh);
	fresh_taken = true;
}

/* One hello each; the answer coming back means the daemon has dealt with it. */
static bool
hello_all(const int *fds, unsigned n)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char answer[512];
	bool ok = true;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_uint32(&pk, 0);
	msgpack_pack_uint32(&pk, 1);
	msgpack_pack_str_with_body(&pk, "hello", 5);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 0);
	for (unsigned i = 0; i < n && ok; i++)
		ok = write_full(fds[i], sb.data, sb.size);
	for (unsigned i = 0; i < n && ok; i++)
		ok = read(fds[i], answer, sizeof answer) > 0;
	msgpack_sbuffer_destroy(&sb);
	return ok;
}

static void
close_all(int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

/* Holds l->n idle connections and records what they cost over idle. */
static bool
hold_level(struct bench_ctx *ctx, struct lp_client *control,
    const struct level *l, const struct footprint *idle)
{
	struct rlimit rl;
	struct footprint fp;
	unsigned opened = 0;
	int *fds;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < l->n + FD_MARGIN) {
		report_note(
		    "%u idle connections not measured: the descriptor limit is %llu "
		    "(hard limit %llu); %u are needed",
		    l->n, (unsigned long long)rl.rlim_cur,
		    (unsigned long long)rl.rlim_max, l->n + FD_MARGIN);
		return false;
	}
	if ((fds = calloc(l->n, sizeof *fds)) == NULL)
		bench_fatal("out of memory");
	for (; opened < l->n; opened++) {
		if ((fds[opened] = daemon_raw_connect(ctx->daemon)) == -1) {
			report_note(
			    "%u idle connections: connection %u failed: %s",
			    l->n, opened + 1, strerror(errno));
			break;
		}
	}
	if (opened < l->n || !settle(control, (long long)l->n + 1)) {
		if (opened == l->n)
			report_note(
			    "%u idle connections: the daemon did not accept them all "
			    "within %.0f s",
			    l->n, SETTLE_SECONDS);
		close_all(fds, opened);
		settle(control, 1);
		return false;
	}
	footprint_read(ctx->daemon->pid, &fp);
	report_record(&l->rss, fp.rss_kib);
	report_record(&l->per_conn, (fp.rss_kib - idle->rss_kib) / l->n);
	if (!hello_all(fds, l->n)) {
		report_note("%u idle connections: a hello failed: %s", l->n,
		    strerror(errno));
		close_all(fds, l->n);
		settle(control, 1);
		return false;
	}
	footprint_read(ctx->daemon->pid, &fp);
	report_record(&l->per_conn_hello, (fp.rss_kib - idle->rss_kib) / l->n);
	close_all(fds, l->n);
	if (!settle(control, 1))
		bench_fatal("the daemon did not notice %u connections closing",
		    l->n);
	return true;
}

void
measure_memory(struct bench_ctx *ctx)
{
	struct lp_client *control = daemon_connect(ctx->daemon);
	struct footprint idle;
	unsigned held = 0;

	if (fresh_taken)
		footprint_record(fresh_defs, &fresh);
	if (!settle(control, 1))
		bench_fatal(
		    "connections of earlier measurements are still open");
	/* Idle means idle: the daemon gives freed memory back after QUIET_SECONDS (server.c) without runs. */
	sleep_seconds(IDLE_SECONDS);
	footprint_read(ctx->daemon->pid, &idle);
	footprint_record(idle_defs, &idle);
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		if (!hold_level(ctx, control, &levels[i], &idle))
			break;
		held = levels[i].n;
	}
	report_record(&held_def, held);
	lp_client_free(control);
}
