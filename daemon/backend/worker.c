/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "daemon/backend/frame_policy.h"
#include "daemon/backend/wire.h"
#include "daemon/backend/worker.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/jobs/exec.h"
#include "daemon/jobs/jobs.h"
#include "daemon/jobs/modules.h"
#include "daemon/jobs/privs.h"
#include "daemon/jobs/reaper.h"
#include "daemon/jobs/spawner.h"
#include "leasepool/errors.h"

static bool
read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n == 0)
			return false;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* The next frame's header; false at end of file (the daemon is done) or an error. */
static bool
read_header(int fd, struct wire_header *h)
{
	unsigned char bytes[WIRE_HEADER_BYTES];

	if (!read_full(fd, bytes, sizeof bytes))
		return false;
	wire_decode(bytes, h);
	return true;
}

/*
 * The results this worker has sent, and the number of the job that runs
 * now (that count plus one; 0 between jobs): a cancel's SIGTERM names the
 * job it is for, counted the same way by the daemon, and one that comes
 * after that job answered must not end the next.
 */
static unsigned results_sent;
static volatile sig_atomic_t job_running;

static void
send_frame(int fd, uint32_t job, enum wire_type type, enum lp_err code,
    uint16_t killed, const void *payload, size_t len)
{
	struct wire_header h = {
		.len = (uint32_t)len,
		.job = job,
		.type = type,
		.code = code,
		.flags = killed,
	};
	unsigned char bytes[WIRE_HEADER_BYTES];
	struct iovec iov[2] = {
		{ .iov_base = bytes, .iov_len = sizeof bytes },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	int cnt = len > 0 ? 2 : 1;

	wire_encode(&h, bytes);
	if (type == WIRE_RESULT) {
		job_running = 0;
		results_sent++;
	}
	while (cnt > 0) {
		ssize_t n = writev(fd, iov, cnt);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			_exit(0); /* the daemon is gone */
		}
		for (int i = 0; i < cnt && n > 0; i++) {
			size_t take = (size_t)n < iov[i].iov_len ?
			    (size_t)n :
			    iov[i].iov_len;

			iov[i].iov_base = (char *)iov[i].iov_base + take;
			iov[i].iov_len -= take;
			n -= (ssize_t)take;
		}
		while (cnt > 0 && iov[0].iov_len == 0) {
			iov[0] = iov[1];
			cnt--;
		}
	}
}

static void
send_error(int fd, uint32_t job, enum lp_err code, uint16_t killed,
    const char *message)
{
	send_frame(fd, job, WIRE_RESULT, code, killed, message,
	    strlen(message));
}

/* 65536 as "64K": the way memory_limit is written. */
static void
format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "GMK";

	for (int i = 0; units[i] != '\0'; i++) {
		uint64_t unit = 1ULL << (10 * (3 - i));

		if (bytes % unit == 0) {
			snprintf(buf, len, "%llu%c",
			    (unsigned long long)(bytes / unit), units[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
}

/*
 * Memory the worker itself could not get, to hold a job or its result.
 * Under a memory_limit that limit is the cause, and the client is told so;
 * the worker carries on with the next job.
 */
static void
send_out_of_memory(int fd, uint32_t job, uint16_t killed, const char *message,
    const struct worker_limits *limits)
{
	char msg[LP_ERROR_MESSAGE_MAX], limit[32];

	if (limits->memory_limit == 0) {
		send_error(fd, job, LP_ERR_JOB_FAILED, killed, message);
		return;
	}
	format_bytes(limits->memory_limit, limit, sizeof limit);
	snprintf(msg, sizeof msg, "%s (memory_limit %s)", message, limit);
	send_error(fd, job, LP_ERR_LIMIT_EXCEEDED, killed, msg);
}

/*
 * What the job started and left running ends with it, before its answer:
 * a client that has its answer has no process of it left on the worker.
 * The count travels in the result's header, for the daemon's log.  f NULL:
 * the modules' init.  The search of /proc is skipped for a function that
 * leaves no process of the worker's own (JOB_NO_PROCESSES): the spawner
 * has killed what an exec's program left, unless the spawner is gone, and
 * its orphans with it are the worker's.
 */
static uint16_t
end_job_processes(const struct lp_job_function *f)
{
	unsigned killed = spawner_take_killed();

	if (f == NULL || (f->flags & JOB_NO_PROCESSES) == 0 ||
	    !spawner_alive()) {
		log_debug("looking for processes %s left",
		    f != NULL ? f->name : "the modules' init");
		killed += reaper_kill_all(spawner_is, NULL);
	}
	return killed < UINT16_MAX ? (uint16_t)killed : UINT16_MAX;
}

/* The daemon packed [fn, args, kwargs], and the caller's ids for an exec; anything else is its bug. */
static bool
parse_job(const msgpack_object *o, const msgpack_object **fn,
    const msgpack_object **args, const msgpack_object **kwargs)
{
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 3 ||
	    o->via.array.size > 4 ||
	    !exec_set_caller(
		o->via.array.size == 4 ? &o->via.array.ptr[3] : NULL))
		return false;
	*fn = &o->via.array.ptr[0];
	*args = &o->via.array.ptr[1];
	*kwargs = &o->via.array.ptr[2];
	return (*fn)->type == MSGPACK_OBJECT_STR &&
	    (*args)->type == MSGPACK_OBJECT_ARRAY &&
	    (*kwargs)->type == MSGPACK_OBJECT_MAP;
}

/*
 * Writing a result wakes the daemon on this CPU (the kernel expects the
 * writer to sleep next), but a worker under SCHED_BATCH is not preempted
 * by that wake-up: if its next job is already here, the daemon waits for
 * the end of the worker's time slice, milliseconds, while the other
 * workers may starve.  After a long job, step aside once.
 */
#define YIELD_AFTER 100e-6

/*
 * Runs one job and answers it at once, so a crash later in the batch
 * loses no finished result.  Returns the time it ended, read anyway.
 */
static double
run_job(int fd, uint32_t id, const msgpack_object *o, struct lp_job *job,
    const struct worker_limits *limits)
{
	const msgpack_object *fn, *args, *kwargs;
	const struct lp_job_function *f;
	double started, ended;
	char msg[256];
	uint16_t killed;

	job_running = (sig_atomic_t)(results_sent + 1);
	if (!parse_job(o, &fn, &args, &kwargs)) {
		send_error(fd, id, LP_ERR_INTERNAL, 0,
		    "worker received a malformed job");
		return monotonic_now();
	}
	if ((f = jobs_find(fn->via.str.ptr, fn->via.str.size)) == NULL) {
		send_error(fd, id, LP_ERR_NO_SUCH_FUNCTION, 0,
		    "no such function in the worker");
		return monotonic_now();
	}
	jobs_reset(job);
	started = monotonic_now();
	jobs_call(f, job, args, kwargs);
	killed = end_job_processes(f);
	if (job->out_of_memory) {
		send_out_of_memory(fd, id, killed, job->message, limits);
	} else if (job->failed) {
		send_error(fd, id, job->error, killed, job->message);
	} else if (job->result.size > limits->max_result_bytes) {
		snprintf(msg, sizeof msg,
		    "%s returned %zu bytes, more than the limit of %llu",
		    f->name, job->result.size,
		    (unsigned long long)limits->max_result_bytes);
		send_error(fd, id, LP_ERR_LIMIT_EXCEEDED, killed, msg);
	} else {
		send_frame(fd, id, WIRE_RESULT, LP_OK, killed, job->result.data,
		    job->result.size);
	}
	if ((ended = monotonic_now()) - started >= YIELD_AFTER)
		sched_yield();
	/* A huge result should not pin its memory for the worker's whole life. */
	if (job->result.alloc > (1u << 20)) {
		jobs_destroy(job);
		jobs_init(job);
	}
	return ended;
}

/* How many jobs a frame holds, from the msgpack array header it starts with. */
static bool
frame_jobs(const unsigned char *p, size_t len, uint32_t *n)
{
	if (len >= 1 && (p[0] & 0xf0) == 0x90)
		*n = p[0] & 0x0f;
	else if (len >= 3 && p[0] == 0xdc)
		*n = (uint32_t)p[1] << 8 | p[2];
	else if (len >= 5 && p[0] == 0xdd)
		*n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		    (uint32_t)p[3] << 8 | p[4];
	else
		return false;
	return true;
}

/* A frame the worker has no memory to hold or unpack: each of its jobs is answered so. */
static void
refuse_frame(int fd, uint32_t id, const void *head, size_t headlen, size_t len,
    const struct worker_limits *limits)
{
	char msg[64];
	uint32_t n;

	if (!frame_jobs(head, headlen, &n))
		_exit(2); /* the daemon's bug: it will see us die */
	snprintf(msg, sizeof msg, "receiving a job (%zu bytes): out of memory",
	    len);
	for (uint32_t i = 0; i < n; i++)
		send_out_of_memory(fd, id, 0, msg, limits);
}

/*
 * A recall is looked for once this much of a batch has run since the last
 * look: a batch of quick jobs pays no poll per job, and the user who
 * recalled it waits this much longer at most.
 */
#define RECALL_LOOK_EVERY 100e-6

/*
 * The next frame's header, when a look for a recall read it: a frame may
 * follow the one that runs (the daemon sends the next one while the last
 * job of this one runs), and the recall of that next one comes after it.
 */
static struct wire_header next_header;
static bool has_next_header;

/* The next frame's header: the one a look read, or the next from the daemon. */
static bool
next_frame_header(int in, struct wire_header *h)
{
	if (has_next_header) {
		*h = next_header;
		has_next_header = false;
		return true;
	}
	return read_header(in, h);
}

/*
 * Before a job of a recallable frame, the first one too: whether the
 * daemon recalled the rest of it (a job was cancelled, or the grinder
 * gives another user's items a turn).  Only a RECALL, or the next frame,
 * can come while a frame runs.
 */
static bool
recalled(int in, uint32_t id, double now, double *looked)
{
	struct pollfd p = { .fd = in, .events = POLLIN };
	struct wire_header h;

	if (has_next_header || now - *looked < RECALL_LOOK_EVERY)
		return false;
	*looked = now;
	if (poll(&p, 1, 0) != 1)
		return false;
	if (!read_header(in, &h))
		_exit(0); /* the daemon is gone */
	if (h.type == WIRE_JOB) {
		next_header = h;
		has_next_header = true;
		return false;
	}
	if (h.type != WIRE_RECALL || h.len != 0)
		_exit(2); /* the daemon's bug: it will see us die */
	return h.job == id;
}

/*
 * A frame holds an array of jobs: runs of a lease, or a batch of the
 * grinder.  The daemon may recall a recallable one before any of its jobs.
 * now: the time the frame starts, then the time its last job ended.
 */
static void
run_jobs(int in, int fd, const struct wire_header *h, const char *payload,
    msgpack_zone *zone, struct lp_job *job, const struct worker_limits *limits,
    double now)
{
	uint32_t id = h->job;
	size_t len = h->len;
	msgpack_unpack_return rc;
	msgpack_object o;
	size_t off = 0;
	/* Since the last look, whichever frame it was in. */
	static double looked;

	rc = msgpack_unpack(payload, len, &off, zone, &o);
	if (rc == MSGPACK_UNPACK_NOMEM_ERROR) {
		refuse_frame(fd, id, payload, len, len, limits);
		return;
	}
	if (rc != MSGPACK_UNPACK_SUCCESS || o.type != MSGPACK_OBJECT_ARRAY)
		_exit(2); /* the daemon's bug: it will see us die */
	for (uint32_t i = 0; i < o.via.array.size; i++) {
		if ((h->flags & WIRE_RECALLABLE) &&
		    recalled(in, id, now, &looked)) {
			send_frame(fd, id, WIRE_RECALLED, LP_OK, 0, NULL, 0);
			return;
		}
		now = run_job(fd, id, &o.via.array.ptr[i], job, limits);
	}
}

/* Reads a frame there was no memory for through to its end, and refuses its jobs. */
static bool
skip_frame(int in, int out, const struct wire_header *h,
    const struct worker_limits *limits)
{
	static char sink[4096];
	unsigned char head[5];
	size_t headlen = h->len < sizeof head ? h->len : sizeof head,
	       left = h->len - headlen;

	if (!read_full(in, head, headlen))
		return false;
	while (left > 0) {
		size_t take = left < sizeof sink ? left : sizeof sink;

		if (!read_full(in, sink, take))
			return false;
		left -= take;
	}
	refuse_frame(out, h->job, head, headlen, h->len, limits);
	return true;
}

/* A yield that took this long ran another process: this CPU is shared. */
#define SHARED_YIELD 5e-6

/*
 * Polls for the next frame for up to busy_poll, yielding between polls,
 * so that the daemon's next frame finds this worker awake.  Otherwise the
 * daemon wakes a halted CPU to hand it over: on a VM, a third of its time
 * in a stream of short runs (bench/README.md).  Stops at the first yield
 * that let another process run: a polling worker must not take the CPU
 * that the daemon or a client needs, only one that would otherwise idle.
 */
static void
poll_for_frame(int in, double busy_poll)
{
	struct pollfd p = { .fd = in, .events = POLLIN };
	double started = monotonic_now(), t;

	while (poll(&p, 1, 0) == 0) {
		t = monotonic_now();
		if (t - started >= busy_poll)
			return;
		sched_yield();
		if (monotonic_now() - t >= SHARED_YIELD)
			return;
	}
}

/*
 * A cancel's SIGTERM ends the job (docs/worker-protocol.md): at once, as
 * by default, unless a program of exec runs, which gets it from its
 * spawner and may clean up; we wait for it as for any program.  The
 * daemon queues it to the worker alone, with the job's number: only while
 * that job runs does it go on to the whole process group, this worker
 * included, which then takes it as any other SIGTERM.
 */
static void
on_sigterm(int sig, siginfo_t *info, void *context)
{
	if (info->si_code == SI_QUEUE) {
		if (info->si_value.sival_int == job_running && job_running != 0)
			kill(0, sig);
		return;
	}
	if (!exec_program_runs())
		_exit(128 + sig);
}

void
worker_main(int in, int out, const struct worker_limits *limits)
{
	struct sigaction term = { .sa_sigaction = on_sigterm,
		.sa_flags = SA_RESTART | SA_SIGINFO };
	struct wire_header h;
	struct lp_job job;
	msgpack_zone zone;
	char *buf = NULL;
	size_t cap = 0;
	double started, busy_poll = limits->busy_poll_ns / 1e9;

	prctl(PR_SET_NAME, "leasepool-work");
	/*
	 * Neither ptrace nor /proc/PID/mem or environ for the programs of
	 * other users that run beside it: it holds their jobs and results.
	 * Its spawner inherits this.
	 */
	prctl(PR_SET_DUMPABLE, 0);
	if (limits->exec && !spawner_start())
		_exit(71);
	privs_drop();
	/* What a job starts stays ours to kill, even once its parent died (reaper.h). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* A program that exec quits early must not kill us through its stdin pipe. */
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &term, NULL);
	exec_set_output_max(limits->exec_output_max);
	jobs_init(&job);
	msgpack_zone_init(&zone, 4096);
	if (modules_worker_init() != 0)
		_exit(70);
	send_frame(out, 0, WIRE_READY, LP_OK, end_job_processes(NULL), NULL, 0);
	while (next_frame_header(in, &h)) {
		/* For a frame that ended before the recall came. */
		if (h.type == WIRE_RECALL && h.len == 0)
			continue;
		if (h.type != WIRE_JOB || h.len > limits->max_job_bytes)
			_exit(2);
		if (h.len > cap) {
			free(buf);
			cap = (buf = malloc(h.len)) != NULL ? h.len : 0;
		}
		if (h.len > cap) {
			if (!skip_frame(in, out, &h, limits))
				break;
			continue;
		}
		if (!read_full(in, buf, h.len))
			break;
		started = monotonic_now();
		run_jobs(in, out, &h, buf, &zone, &job, limits, started);
		msgpack_zone_clear(&zone);
		if (!spawner_alive())
			/* exec cannot work here any more: the daemon replaces us */
			break;
		if (!has_next_header &&
		    policy_worker_polls(h.flags & WIRE_STREAM,
			monotonic_now() - started, busy_poll))
			poll_for_frame(in, busy_poll);
	}
	modules_worker_fini();
	reaper_kill_all(NULL, NULL);
	_exit(0);
}
