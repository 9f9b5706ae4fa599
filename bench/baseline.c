/* SPDX-License-Identifier: ISC */
/*
 * The baseline: the path of a run with no leasepool code on it.  This
 * process is the client; a middle process runs one libevent loop and
 * relays bytes both ways, as the daemon stands between a client and a
 * worker; a worker process echoes.  Socketpairs throughout, 16-byte
 * messages.  Whatever leasepool adds (encoding, validation, dispatch,
 * bookkeeping) is what its figures have over these.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "bench/bench.h"

/* One direction of the middle's relay. */
struct relay_dir {
	struct event_base *base;
	int from;
	int to;
	struct evbuffer *buf;
	struct event *ev_read;
	struct event *ev_write;
};

struct relay {
	int fd; /* our end, blocking */
	pid_t middle;
	pid_t worker;
};

static const struct figure_def rtt_defs[] = {
	{ "baseline.rtt.p50_us", "baseline round trip p50", UNIT_USEC, NULL,
	    TARGET_NONE, 0 },
	{ "baseline.rtt.p99_us", "baseline round trip p99", UNIT_USEC, NULL,
	    TARGET_NONE, 0 },
	{ "baseline.rtt.p999_us", "baseline round trip p99.9", UNIT_USEC, NULL,
	    TARGET_NONE, 0 },
};

static const struct figure_def pipelined_def = {
	"baseline.pipelined.msgs_per_s", "baseline pipelined (64 in flight)",
	UNIT_PER_SEC, NULL, TARGET_NONE, 0
};

/* The middle's CPU time, kernel included: what a relay costs at the least. */
static const struct figure_def cpu_defs[] = {
	{ "baseline.rtt.relay_cpu_us", "baseline relay CPU per round trip",
	    UNIT_USEC, NULL, TARGET_NONE, 0 },
	{ "baseline.pipelined.relay_cpu_us",
	    "baseline relay CPU per message, pipelined", UNIT_USEC, NULL,
	    TARGET_NONE, 0 },
};

/*
 * What keeps a pipeline of small messages from the machine's limit is
 * mostly waiting: the CPUs left idle, and the context switches (a sleep,
 * a wake-up, a yield) each message costs across the whole machine.
 */
static const struct figure_def scheduling_defs[] = {
	{ "baseline.pipelined.switches_per_k",
	    "baseline context switches per 1k messages", UNIT_COUNT, NULL,
	    TARGET_NONE, 0 },
	{ "baseline.pipelined.idle_percent", "baseline CPUs idle, pipelined",
	    UNIT_PERCENT, NULL, TARGET_NONE, 0 },
};

/* The worker's stream is whole messages; it echoes each as soon as it is whole. */
static __attribute__((noreturn)) void
worker_main(int fd)
{
	static char buf[64 * 1024];
	size_t have = 0, whole;
	ssize_t n;

	for (;;) {
		if ((n = read(fd, buf + have, sizeof buf - have)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			_exit(0);
		}
		have += (size_t)n;
		whole = have - have % BENCH_SMALL_BYTES;
		if (!write_full(fd, buf, whole))
			_exit(0);
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
}

static void
relay_flush(struct relay_dir *r)
{
	if (evbuffer_write(r->buf, r->to) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		event_base_loopbreak(r->base);
		return;
	}
	if (evbuffer_get_length(r->buf) > 0)
		event_add(r->ev_write, NULL);
}

static void
relay_readable(evutil_socket_t fd, short what, void *arg)
{
	struct relay_dir *r = arg;
	int n = evbuffer_read(r->buf, r->from, -1);

	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		event_base_loopbreak(r->base);
		return;
	}
	relay_flush(r);
}

static void
relay_writable(evutil_socket_t fd, short what, void *arg)
{
	relay_flush(arg);
}

static void
relay_dir_init(struct relay_dir *r, struct event_base *base, int from, int to)
{
	r->base = base;
	r->from = from;
	r->to = to;
	r->buf = evbuffer_new();
	r->ev_read =
	    event_new(base, from, EV_READ | EV_PERSIST, relay_readable, r);
	r->ev_write = event_new(base, to, EV_WRITE, relay_writable, r);
	if (r->buf == NULL || r->ev_read == NULL || r->ev_write == NULL)
		_exit(1);
	event_add(r->ev_read, NULL);
}

/* The middle: the same libevent calls the daemon uses between a client and a worker. */
static __attribute__((noreturn)) void
middle_main(int client, int worker)
{
	struct relay_dir up, down;
	struct event_base *base;

	if (evutil_make_socket_nonblocking(client) == -1 ||
	    evutil_make_socket_nonblocking(worker) == -1 ||
	    (base = event_base_new()) == NULL)
		_exit(1);
	relay_dir_init(&up, base, client, worker);
	relay_dir_init(&down, base, worker, client);
	event_base_dispatch(base);
	_exit(0);
}

static pid_t
fork_or_die(void)
{
	pid_t pid = fork();

	if (pid == -1)
		bench_fatal("fork: %s", strerror(errno));
	return pid;
}

/* Each child keeps only its own ends: an EOF must reach whoever waits for it. */
static void
relay_start(struct relay *r)
{
	int up[2], down[2]; /* client-middle, middle-worker */

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, up) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, down) == -1)
		bench_fatal("socketpair: %s", strerror(errno));
	if ((r->worker = fork_or_die()) == 0) {
		close(up[0]);
		close(up[1]);
		close(down[0]);
		worker_main(down[1]);
	}
	if ((r->middle = fork_or_die()) == 0) {
		close(up[0]);
		close(down[1]);
		middle_main(up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	close(down[1]);
	r->fd = up[0];
}

/* Closing our end ends the middle, whose exit ends the worker. */
static void
relay_stop(struct relay *r)
{
	close(r->fd);
	waitpid(r->middle, NULL, 0);
	waitpid(r->worker, NULL, 0);
}

static void
round_trip(void *arg)
{
	static const char msg[BENCH_SMALL_BYTES] =
	    "0123456789abcde"; /* and a NUL */
	const struct relay *r = arg;
	char back[BENCH_SMALL_BYTES];

	if (!write_full(r->fd, msg, sizeof msg) ||
	    !read_full(r->fd, back, sizeof back))
		bench_fatal("baseline relay: %s", strerror(errno));
	if (memcmp(msg, back, sizeof msg) != 0)
		bench_fatal(
		    "baseline relay: the echo differs from the message");
}

/* BENCH_PIPELINE_DEPTH messages in flight: each one back sends one more. */
static void
pipelined(const struct relay *r, double warmup, double seconds,
    struct rate_window *w)
{
	static char out[BENCH_PIPELINE_DEPTH * BENCH_SMALL_BYTES];
	static char in[64 * 1024];
	uint64_t sent = BENCH_PIPELINE_DEPTH, received = 0;
	size_t more;
	ssize_t n;

	memset(out, 'x', sizeof out);
	window_start(w, warmup, seconds, r->middle);
	if (!write_full(r->fd, out, sizeof out))
		bench_fatal("baseline relay: %s", strerror(errno));
	while (received < sent * BENCH_SMALL_BYTES) {
		if ((n = read(r->fd, in, sizeof in)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			bench_fatal("baseline relay: %s",
			    n == 0 ? "closed" : strerror(errno));
		}
		received += (uint64_t)n;
		if (window_update(w, received / BENCH_SMALL_BYTES))
			continue; /* drain what is still in flight */
		more =
		    received / BENCH_SMALL_BYTES + BENCH_PIPELINE_DEPTH - sent;
		if (!write_full(r->fd, out, more * BENCH_SMALL_BYTES))
			bench_fatal("baseline relay: %s", strerror(errno));
		sent += more;
	}
}

void
measure_baseline(struct bench_ctx *ctx)
{
	struct samples s;
	struct relay r;
	double cpu;

	relay_start(&r);
	samples_init(&s, bench_count(ctx, BENCH_SEQ_SAMPLES));
	cpu = time_ops(&s, bench_count(ctx, BENCH_SEQ_WARMUP),
	    bench_count(ctx, BENCH_SEQ_SAMPLES), round_trip, &r, r.middle);
	report_latency(rtt_defs, &s);
	report_record(&cpu_defs[0], cpu);
	samples_free(&s);
	relay_stop(&r);
}

void
measure_baseline_pipelined(struct bench_ctx *ctx)
{
	struct rate_window w;
	struct relay r;

	relay_start(&r);
	pipelined(&r, bench_seconds(ctx, BENCH_RATE_WARMUP),
	    bench_seconds(ctx, BENCH_RATE_SECONDS), &w);
	report_record(&pipelined_def, window_rate(&w));
	report_record(&cpu_defs[1], window_cpu_us(&w));
	report_record(&scheduling_defs[0], window_switches_per_k(&w));
	report_record(&scheduling_defs[1], 100 * window_idle(&w));
	relay_stop(&r);
}
