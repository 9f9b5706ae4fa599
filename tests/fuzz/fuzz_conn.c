/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the daemon's connection handling: each input is
 * what one client sends, written into a socketpair whose other end goes to
 * conn_accept() of a real daemon (its loop, lease table, grinder, a thread
 * pool and a pool of worker processes).  Then the client hangs up, and
 * whatever it did, the daemon must come back to rest: no connection, run,
 * lease or waiter left, every executor free.  On the way, everything the
 * daemon sends must frame and parse as responses and error notifications
 * with known codes, and no worker may crash.
 *
 * The first byte of an input is not sent.  Its low seven bits are the size
 * of each write (0: the whole stream in one), and the loop turns between
 * writes, so the daemon's framing resumes at every split.  Its top bit
 * makes the client wait until its runs are answered before it hangs up;
 * without it the client hangs up at once, with its work in flight.
 *
 * corpus-conn/ holds the seeds: a control byte and a request stream each,
 * written with python3-msgpack by
 *
 *	import msgpack
 *	def req(i, m, **p): return msgpack.packb([0, i, m, [p]])
 *	def seed(name, ctl, *msgs):
 *		open("tests/fuzz/corpus-conn/" + name, "wb").write(bytes([ctl]) + b"".join(msgs))
 *
 * (the calls are in the commit that added them).  Lease ids start at 1 in
 * every input, so a stream can name the leases it acquires.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <msgpack.h>

#include "daemon/backend/forkserver.h"
#include "daemon/backend/procpool.h"
#include "daemon/core/clock.h"
#include "daemon/core/config.h"
#include "daemon/core/log.h"
#include "daemon/core/run.h"
#include "daemon/jobs/modules.h"
#include "daemon/server/conn.h"
#include "daemon/server/server.h"
#include "proto/frame.h"
#include "proto/rpc.h"

/* Runs take milliseconds here: anything much slower is the daemon stuck. */
#define SETTLE_SECONDS 10.0
/* How long a waiting client gives its runs; a deadlock of its own making is not the daemon's. */
#define LINGER_SECONDS 0.05
#define TICK_USEC 10000
#define SLEEP_MAX_NSEC 5000000L
#define READ_CHUNK 65536

/*
 * Both backends, a grinder on each, a per-client lease limit, a request
 * limit and a pool this uid may not use; small limits so that inputs reach
 * them.  The process pool never allows exec: inputs choose its argv.
 */
static const char config_fmt[] =
    "[daemon]\n"
    "socket = %s/leasepool.sock\n"
    "log_level = %s\n"
    "default_pool = cpu\n"
    "max_message_bytes = 2048\n"
    "max_result_bytes = 1K\n"
    "max_requests_per_connection = 8\n"
    "[pool cpu]\n"
    "backend = process\n"
    "workers = 1\n"
    "executors_max = 2\n"
    "max_leases_per_client = 1\n"
    "idle_seconds = 1\n"
    "job_timeout = 1\n"
    "[pool io]\n"
    "backend = thread\n"
    "workers = 2\n"
    "executors_max = 2\n"
    "idle_seconds = 1\n"
    "job_timeout = 1\n"
    "[pool locked]\n"
    "backend = thread\n"
    "workers = 1\n"
    "executors_min = 0\n"
    "executors_max = 1\n"
    "allow_users = %u\n";

struct client {
	int fd;
	struct event *ev;
	bool eof;
	char *buf; /* the daemon's bytes not yet framed whole */
	size_t len, cap;
	struct lp_framer framer;
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int __real_nanosleep(const struct timespec *req, struct timespec *rem);
int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);

static uint64_t first_lease_id;
static msgpack_zone zone;

static __attribute__((format(printf, 1, 2), noreturn)) void
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz_conn: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (connections %u, runs in flight %u)\n", server.nconns,
	    runs_in_flight());
	abort();
}

/*
 * The built-in sleep, through -Wl,--wrap=nanosleep, sleeps SLEEP_MAX_NSEC
 * at most.  A thread of the daemon cannot be stopped at its job's timeout,
 * so a long sleep would keep one busy long after its input, and later
 * inputs would find runs stuck behind it.  A short one still lets a
 * client's timeout go off.
 */
int
__wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
	static const struct timespec most = { 0, SLEEP_MAX_NSEC };

	if (req->tv_sec != 0 || req->tv_nsec > most.tv_nsec)
		req = &most;
	return __real_nanosleep(req, rem);
}

/* Only for EVLOOP_ONCE to come back now and then: every wait here has a deadline. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
}

static void
turn(double deadline, const char *waiting_for)
{
	if (clock_now() > deadline)
		fail("the daemon is stuck: %s after %.0f s", waiting_for,
		    SETTLE_SECONDS);
	event_base_loop(server.base, EVLOOP_ONCE);
}

static bool
starting(void)
{
	for (size_t i = 0; i < server.leases.npools; i++)
		if (server.leases.pools[i].nstarting > 0)
			return true;
	return false;
}

/* What the daemon owes a client that left: nothing. */
static bool
at_rest(void)
{
	if (server.nconns > 0 || !TAILQ_EMPTY(&server.closed) ||
	    runs_in_flight() > 0 || !TAILQ_EMPTY(&server.leases.leases) ||
	    starting())
		return false;
	for (size_t i = 0; i < server.leases.npools; i++)
		if (server.leases.pools[i].nwaiters > 0)
			return false;
	return true;
}

static void
check_rest(void)
{
	if (!TAILQ_EMPTY(&server.conns) || !TAILQ_EMPTY(&server.flushing))
		fail("a closed connection is still listed");
	/* Every byte charged to the user was given back, so it is gone with its last connection. */
	if (user_find(getuid()) != NULL)
		fail("uid %u: %zu bytes still counted as buffered",
		    (unsigned)getuid(), user_find(getuid())->bytes);
	for (size_t i = 0; i < server.leases.npools; i++) {
		const struct pool *p = &server.leases.pools[i];

		if (!TAILQ_EMPTY(&p->waiters) || !TAILQ_EMPTY(&p->users))
			fail(
			    "pool %s: %u waiters counted, but some are still queued",
			    p->cfg.name, p->nwaiters);
		if (lease_pool_leased(p) > 0)
			fail("pool %s: %u executors leased with no lease left",
			    p->cfg.name, lease_pool_leased(p));
		if (p->failing)
			fail("pool %s: a client made it fail: %s", p->cfg.name,
			    p->failing_reason);
		/* Nothing here kills workers: a crash is a bug in one (LP_FUZZ_LOG=info shows its report). */
		if (p->counters.runs_crashed > 0)
			fail("pool %s: a worker crashed", p->cfg.name);
	}
}

static void
check_error(const msgpack_object *map)
{
	struct lp_error err;

	lp_response_error(map, &err);
	if (err.code == LP_ERR_PROTOCOL)
		fail("the daemon sent an error without a code and a message");
	/* INTERNAL stands for any code a client does not know, too. */
	if (err.code == LP_ERR_INTERNAL || err.code == LP_ERR_WORKER_CRASHED)
		fail("the daemon sent %s: %s", lp_err_name(err.code),
		    err.message);
}

/*
 * A response whose error is in a form a hello's errors asked for,
 * "CODE: message" or [code, message] (protocol.md), which
 * lp_message_parse(), for the map, refuses.
 */
static bool
other_error_form(const msgpack_object *o)
{
	const msgpack_object *e;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4 ||
	    o->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->via.array.ptr[0].via.u64 != LP_MSG_RESPONSE)
		return false;
	e = &o->via.array.ptr[2];
	return e->type == MSGPACK_OBJECT_STR ||
	    (e->type == MSGPACK_OBJECT_ARRAY && e->via.array.size == 2 &&
		e->via.array.ptr[0].type == MSGPACK_OBJECT_STR &&
		e->via.array.ptr[1].type == MSGPACK_OBJECT_STR);
}

static void
check_message(const char *msg, size_t len)
{
	struct lp_message m;
	struct lp_error err;
	msgpack_object obj;
	size_t off = 0;
	bool known;

	if (msgpack_unpack(msg, len, &off, &zone, &obj) !=
		MSGPACK_UNPACK_SUCCESS ||
	    off != len)
		fail("the daemon sent a message that does not decode");
	if (other_error_form(&obj)) {
		msgpack_zone_clear(&zone);
		return;
	}
	if (lp_message_parse(&obj, &m, &err, &known) != LP_OK)
		fail("the daemon sent a malformed message: %s", err.message);
	switch (m.kind) {
	case LP_MSG_RESPONSE:
		if (m.error->type != MSGPACK_OBJECT_NIL)
			check_error(m.error);
		break;
	case LP_MSG_NOTIFY:
		if (m.method.len != 5 || memcmp(m.method.ptr, "error", 5) != 0)
			fail("the daemon sent a notification other than error");
		check_error(m.params);
		break;
	default:
		fail("the daemon sent a request");
	}
	msgpack_zone_clear(&zone);
}

/* Frames what the daemon sent so far; a message cut by the daemon's hang-up may stay. */
static void
client_frames(struct client *cl)
{
	size_t start = 0, pos = 0, used;
	enum lp_frame_status st;

	while (pos < cl->len) {
		st = lp_framer_feed(&cl->framer, cl->buf + pos, cl->len - pos,
		    &used);
		pos += used;
		if (st == LP_FRAME_MORE)
			break;
		if (st == LP_FRAME_ERROR)
			fail(
			    "the daemon sent a stream that cannot be framed: %s",
			    lp_frame_error_string(cl->framer.error));
		check_message(cl->buf + start, pos - start);
		start = pos;
	}
	memmove(cl->buf, cl->buf + start, cl->len - start);
	cl->len -= start;
}

static void
client_readable(evutil_socket_t fd, short what, void *arg)
{
	struct client *cl = arg;
	ssize_t n;

	if (cl->cap - cl->len < READ_CHUNK) {
		cl->cap = cl->len + READ_CHUNK;
		if ((cl->buf = realloc(cl->buf, cl->cap)) == NULL)
			fail("out of memory");
	}
	n = read(fd, cl->buf + cl->len, cl->cap - cl->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	/* ECONNRESET: it hung up on bytes it had not read, after a broken message. */
	if (n == 0 || (n == -1 && errno == ECONNRESET)) {
		cl->eof = true;
		event_del(cl->ev);
		return;
	}
	if (n == -1)
		fail("read: %s", strerror(errno));
	cl->len += (size_t)n;
	client_frames(cl);
}

static void
client_send(struct client *cl, const uint8_t *p, size_t len, size_t piece,
    double deadline)
{
	while (len > 0 && !cl->eof) {
		ssize_t n = send(cl->fd, p,
		    piece > 0 && piece < len ? piece : len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			event_base_loop(server.base, EVLOOP_NONBLOCK);
		} else if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			turn(deadline, "reading the input");
		} else {
			return; /* EPIPE: it hung up on a broken stream */
		}
	}
}

/* Until the client's runs are answered; waiters and the grinder may wait for ever. */
static void
client_linger(struct client *cl)
{
	double until = clock_now() + LINGER_SECONDS;

	while (!cl->eof && (runs_in_flight() > 0 || starting()) &&
	    clock_now() < until)
		event_base_loop(server.base, EVLOOP_ONCE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client cl = { .fd = -1 };
	double deadline;
	int sv[2];

	/* spin has no bound like sleep's (see __wrap_nanosleep): inputs that name it are left out. */
	if (size == 0 || memmem(data, size, "spin", 4) != NULL)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		sv) == -1)
		fail("socketpair: %s", strerror(errno));
	conn_accept(sv[0]);
	if (server.nconns != 1)
		fail("conn_accept refused a client");
	cl.fd = sv[1];
	lp_framer_init(&cl.framer, 64u << 20, LP_FRAME_DEPTH_MAX);
	if ((cl.ev = event_new(server.base, cl.fd, EV_READ | EV_PERSIST,
		 client_readable, &cl)) == NULL ||
	    event_add(cl.ev, NULL) == -1)
		fail("out of memory");

	deadline = clock_now() + SETTLE_SECONDS;
	client_send(&cl, data + 1, size - 1, data[0] & 0x7f, deadline);
	if (data[0] & 0x80)
		client_linger(&cl);
	shutdown(cl.fd, SHUT_WR);
	while (!cl.eof || !at_rest())
		turn(deadline,
		    cl.eof ? "the client's work" : "the client's hang-up");
	event_free(cl.ev);
	close(cl.fd);
	free(cl.buf);
	check_rest();

	/* A client's scale outlives it, by design; every input meets the configured daemon. */
	for (size_t i = 0; i < server.leases.npools; i++)
		if (server.leases.pools[i].units > 0)
			lease_pool_scale(&server.leases.pools[i], 0,
			    clock_now());
	server.leases.next_lease_id = first_lease_id;
	return 0;
}

/* As main.c starts the daemon, on a configuration of our own, then until its executors are warm. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct timeval tick = { 0, TICK_USEC };
	char dir[] = "/tmp/lp-fuzz-conn.XXXXXX", config[2048], err[1024];
	const char *level = getenv("LP_FUZZ_LOG");
	struct event_base *base;
	struct event *ev;
	double deadline;

	/* A fork server the daemon restarts is this program again (forkserver.c). */
	if (*argc > 1 && strcmp((*argv)[1], FORKSERVER_ARG) == 0)
		forkserver_main(*argc, *argv);
	if (mkdtemp(dir) == NULL)
		fail("mkdtemp: %s", strerror(errno));
	snprintf(config, sizeof config, config_fmt, dir,
	    level != NULL ? level : "error", (unsigned)getuid() + 1);
	if (config_load_string(&server.cfg, config, "fuzz_conn", err,
		sizeof err) == -1 ||
	    modules_load(server.cfg.modules, err, sizeof err) == -1)
		fail("%s", err);
	log_init(server_log_level());

	if ((base = event_base_new()) == NULL)
		fail("cannot create the event loop");
	server_backends_init(base);
	forkserver_start(base, &procpool_forkserver_events, server.cfg.modules);
	server_init(base);
	/* Clients come through socketpairs: nothing needs the name, and a crash leaves nothing behind. */
	unlink(server.cfg.socket_path);
	rmdir(dir);
	if ((ev = event_new(base, -1, EV_PERSIST, on_tick, NULL)) == NULL ||
	    evtimer_add(ev, &tick) == -1)
		fail("out of memory");
	msgpack_zone_init(&zone, 4096);
	first_lease_id = server.leases.next_lease_id;

	deadline = clock_now() + SETTLE_SECONDS;
	while (starting())
		turn(deadline, "the executors' start");
	return 0;
}
