/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/backend/executor.h"
#include "daemon/backend/fdreserve.h"
#include "daemon/backend/forkserver.h"
#include "daemon/backend/frame_policy.h"
#include "daemon/backend/procpool.h"
#include "daemon/backend/wire.h"
#include "daemon/backend/worklog.h"
#include "daemon/core/alloc.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/jobs/reaper.h"
#include "proto/frame.h"

/* Workers dying before they are ready this many times in a row: a crash loop. */
#define CRASH_LOOP_LIMIT 5
#define BACKOFF_FIRST 0.1
#define BACKOFF_MAX 30.0
/* Descriptors come back as soon as clients leave: a worker short of them is tried often. */
#define DESCRIPTOR_BACKOFF_MAX 5.0
/* How long a dead worker's run waits for the exit status before it is answered without it. */
#define STATUS_WAIT 2.0
/* At most this many queued runs of a lease travel to a worker in one frame. */
#define RUNS_PER_FRAME 16
/* A frame's jobs follow an array 32 header. */
#define FRAME_HEAD_BYTES 5
/* Room over the message limit in a frame: its header, and a safe margin. */
#define FRAME_SLACK_BYTES 4096

enum worker_state {
	WORKER_SPAWNING, /* asked of the fork server (maybe after a backoff) */
	WORKER_STARTING, /* forked; not ready yet */
	WORKER_IDLE,
	WORKER_BUSY,
	WORKER_DEAD, /* gone; waiting for its exit status */
};

struct pexec;

struct worker {
	struct pexec *pe; /* NULL once dead */
	struct pool *pool;
	unsigned slot;
	uint32_t token;
	pid_t pid;
	int to_fd;   /* frames to it; -1 once it is gone */
	int from_fd; /* its results */
	enum worker_state state;
	struct event *ev_read;
	struct event *ev_write;
	struct event *ev_timer; /* backoff, job timeout, or status wait */
	double timer_at;	/* when ev_timer fires, while it is pending */
	double job_deadline;	/* when the running job's timeout passes */
	struct evbuffer *in;
	struct evbuffer *out;
	/* bytes still to come of a result refused for its size */
	uint32_t discard;
	/*
	 * The jobs of the frames it was sent, in order (es): runs of a lease,
	 * or a batch of the feed.  batch[done] is running; BUSY until all are
	 * answered, and DEAD while the unanswered ones wait for the exit status.
	 * A second frame of runs may follow the first (next_frame: where it
	 * starts in batch; 0: none), sent while the first one's last job runs.
	 */
	struct exec_slot es;
	/* 1 + the index of the job killed for its timeout, or cancelled; 0: none */
	unsigned timed_out;
	/* cancelled: SIGTERM was sent, SIGKILL follows at the timer */
	bool terminating;
	/* its grinder batch was recalled; no WIRE_RECALLED yet */
	bool recalling;
	bool broke_protocol; /* killed for what it wrote: its run is told so */
	uint32_t job_id;     /* of the frame batch[done] is in */
	unsigned next_frame;
	uint32_t next_job_id;
	unsigned jobs;		     /* answered, for max_jobs_per_worker */
	struct worker_limits limits; /* what it was forked with */
	unsigned limits_reload; /* pp.reloads when they were last current */
	/* Recycling: started before this one stops, it takes the slot once ready. */
	struct worker *successor;
	struct worklog *log;
	/* output may arrive just after the job */
	char last_fn[LP_NAME_MAX + 1];
	char last_owner[LP_OWNER_MAX + 1];
	LIST_ENTRY(worker) link;
};

/* The backend's half of an executor. */
struct pexec {
	struct engine e; /* first: the engine frees it (executors_stop) */
	unsigned nready;
	bool announced;
	struct worker *workers[];
};

struct ppool {
	unsigned start_failures;       /* in a row */
	unsigned short_of_descriptors; /* starts in a row; no crash, so apart */
};

static struct {
	struct event_base *base;
	const struct config *cfg;
	struct lease_table *leases;
	void (*input)(double now);
	LIST_HEAD(, worker) workers; /* every worker, dead ones included */
	uint32_t next_token;
	uint32_t next_job;
	unsigned reloads; /* a worker's limits may be stale after one */
	/*
	 * From a fork server's death until none of its workers, nor anything
	 * they left, is alive: the daemon's children are theirs to look after.
	 */
	bool adopted;
} pp;

static const struct executor_ops pexec_ops;
static void spawn_slot(struct pexec *pe, unsigned slot, double delay);
static void worker_readable(evutil_socket_t fd, short what, void *arg);
static void worker_writable(evutil_socket_t fd, short what, void *arg);
static void worker_timer(evutil_socket_t fd, short what, void *arg);
static void kill_worker(struct worker *w);

static struct ppool *
ppool_of(struct pool *p)
{
	return executor_pool_state(p, sizeof(struct ppool));
}

static const char *
worker_label(const struct worker *w)
{
	static char buf[96];

	snprintf(buf, sizeof buf, "worker %d of pool %s", (int)w->pid,
	    w->pool->cfg.name);
	return buf;
}

static void
describe_status(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(status));
	else
		snprintf(buf, len, "ended (status unknown)");
}

static void
timer_start(struct worker *w, double seconds)
{
	struct timeval tv;

	w->timer_at = clock_now() + seconds;
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(w->ev_timer, &tv);
}

static struct worker *
worker_new(struct pexec *pe, unsigned slot)
{
	struct worker *w = xcalloc(1, sizeof *w);

	w->pe = pe;
	w->pool = pe->e.ex->pool;
	w->slot = slot;
	w->to_fd = w->from_fd = -1;
	w->ev_timer = evtimer_new(pp.base, worker_timer, w);
	if (w->ev_timer == NULL)
		fatalx("out of memory");
	LIST_INSERT_HEAD(&pp.workers, w, link);
	return w;
}

static void
close_channel(struct worker *w)
{
	if (w->to_fd != -1)
		close(w->to_fd);
	if (w->from_fd != -1)
		close(w->from_fd);
	w->to_fd = w->from_fd = -1;
}

static void
worker_free(struct worker *w)
{
	LIST_REMOVE(w, link);
	if (w->ev_read != NULL)
		event_free(w->ev_read);
	if (w->ev_write != NULL)
		event_free(w->ev_write);
	event_free(w->ev_timer);
	if (w->in != NULL)
		evbuffer_free(w->in);
	if (w->out != NULL)
		evbuffer_free(w->out);
	close_channel(w);
	worklog_close(w->log);
	free(w->es.batch);
	free(w);
}

static void
procpool_init(const struct backend_env *env)
{
	pp.base = env->base;
	pp.cfg = env->cfg;
	pp.leases = env->leases;
	pp.input = env->input;
	LIST_INIT(&pp.workers);
}

/*
 * The most bytes of jobs in one frame: any one run's job fits, since a
 * request carries its job; a frame of many stops short of it.
 */
static size_t
frame_bytes_max(void)
{
	return (size_t)pp.cfg->max_message_bytes + FRAME_SLACK_BYTES;
}

static bool
runs_program(const struct pool *p)
{
	return p->cfg.worker_program[0] != '\0';
}

/*
 * Read at each spawn; a reload that changes them replaces the running
 * workers (recycle_if_due).  The frame size a worker accepts, and the
 * result it may send, are the ceilings of every configuration, not this
 * one's: a reload may change those limits for workers already running, so
 * the daemon applies them.
 */
static struct worker_limits
pool_limits(const struct pool *p)
{
	struct worker_limits l = {
		.max_job_bytes =
		    (uint64_t)LP_MESSAGE_BYTES_CEILING + FRAME_SLACK_BYTES,
		.max_result_bytes = LP_RESULT_BYTES_CEILING,
		.memory_limit = p->cfg.memory_limit,
		.exec_output_max = p->cfg.exec_output_max,
		.sched_batch = p->cfg.sched_batch,
		.busy_poll_ns = (uint64_t)(pp.cfg->busy_poll * 1e9),
		.exec = p->cfg.exec,
		.program_result_bytes =
		    runs_program(p) ? pp.cfg->max_result_bytes : 0,
	};

	/* Whole arrays, NUL padding included, for limits_stale's memcmp. */
	memcpy(l.pool, p->cfg.name, sizeof l.pool);
	memcpy(l.program, p->cfg.worker_program, sizeof l.program);
	return l;
}

static bool
in_slot(const struct worker *w)
{
	return w->pe != NULL && w->pe->workers[w->slot] == w;
}

static void
procpool_start_executor(struct executor *ex)
{
	unsigned n = ex->pool->cfg.workers;
	struct pexec *pe = xcalloc(1, sizeof *pe + n * sizeof pe->workers[0]);

	executor_init(&pe->e, ex, &pexec_ops, n);
	ex->backend = pe;
	for (unsigned i = 0; i < n; i++)
		spawn_slot(pe, i, 0);
}

static void
spawn_now(struct worker *w)
{
	w->limits = pool_limits(w->pool);
	w->limits_reload = pp.reloads;
	w->token = ++pp.next_token;
	forkserver_spawn(w->token, &w->limits);
}

static void
spawn_slot(struct pexec *pe, unsigned slot, double delay)
{
	struct worker *w = worker_new(pe, slot);

	pe->workers[slot] = w;
	w->state = WORKER_SPAWNING;
	if (delay > 0)
		timer_start(w, delay);
	else
		spawn_now(w);
}

static double
backoff(unsigned failures, double max)
{
	double d;

	if (failures <= 1)
		return 0;
	d = BACKOFF_FIRST * pow(2, failures - 2);
	return d < max ? d : max;
}

static void
start_failed(struct pexec *pe, unsigned slot, const char *why)
{
	struct pool *pool = pe->e.ex->pool;
	struct ppool *st = ppool_of(pool);
	double delay;

	st->start_failures++;
	delay = backoff(st->start_failures, BACKOFF_MAX);
	log_err("pool %s: a worker failed to start (%s); retrying in %.1f s",
	    pool->cfg.name, why, delay);
	if (st->start_failures == CRASH_LOOP_LIMIT) {
		log_msg(LOG_CRIT,
		    "pool %s: CRASH LOOP: %u workers in a row died before they "
		    "were ready, the last one %s; acquires fail until one starts (retrying up "
		    "to every %.0f s)",
		    pool->cfg.name, st->start_failures, why, BACKOFF_MAX);
		lease_pool_failing(pool,
		    "workers die at start-up (crash loop)");
	}
	spawn_slot(pe, slot, delay);
}

/*
 * Not a crash: the worker was forked, but the daemon (or the fork server)
 * had no descriptor left for its channel, every one being held by clients.
 * Acquires wait rather than fail, and the start is tried again after a
 * backoff that stays short.
 */
static void
start_short_of_descriptors(struct pexec *pe, unsigned slot, int error,
    const char *where)
{
	struct pool *pool = pe->e.ex->pool;
	struct ppool *st = ppool_of(pool);
	double delay =
	    backoff(++st->short_of_descriptors + 1, DESCRIPTOR_BACKOFF_MAX);

	log_warn(
	    "pool %s: no descriptor left in %s for a new worker's channel: %s; not a "
	    "crash: starting it again in %.1f s (backing off to %.0f s) until clients free some",
	    pool->cfg.name, where, fdreserve_why(error), delay,
	    DESCRIPTOR_BACKOFF_MAX);
	spawn_slot(pe, slot, delay);
}

/* Not one killed for a timeout whose last result came in after the kill. */
static struct worker *
idle_worker(struct pexec *pe)
{
	for (unsigned i = 0; i < pe->e.nslots; i++)
		if (pe->workers[i]->state == WORKER_IDLE &&
		    pe->workers[i]->timed_out == 0)
			return pe->workers[i];
	return NULL;
}

/* strlcpy: this is on every run's path, where snprintf's formatting showed in profiles. */
static void
copy_name(char *dst, size_t size, const char *src)
{
	if (memccpy(dst, src, '\0', size) == NULL)
		dst[size - 1] = '\0';
}

/*
 * The job timer is only ever moved closer: one still armed for an earlier
 * job of the stream fires early and re-arms itself for this one's deadline
 * (worker_timer).  Re-arming it for every run, and removing it at every
 * result, was two timer-heap operations per run.
 */
static void
note_running(struct worker *w, const struct run *r)
{
	copy_name(w->last_fn, sizeof w->last_fn, r->fn);
	copy_name(w->last_owner, sizeof w->last_owner, r->owner);
	w->job_deadline = clock_now() + r->timeout;
	if (!evtimer_pending(w->ev_timer, NULL) ||
	    w->job_deadline < w->timer_at)
		timer_start(w, r->timeout);
}

static void
add_header(struct worker *w, const struct wire_header *h)
{
	unsigned char bytes[WIRE_HEADER_BYTES];

	wire_encode(h, bytes);
	evbuffer_add(w->out, bytes, sizeof bytes);
}

/*
 * One frame, [job, job, ...] with each job as its run packed it (already
 * in w's batch); returns its id.  ahead: sent while w still runs another
 * frame.  A frame whose jobs may wait there can be recalled (a cancel, or
 * another user's turn at the grinder).
 */
static uint32_t
frame_send(struct worker *w, struct run **runs, unsigned n, bool ahead)
{
	struct wire_header h = { .type = WIRE_JOB };
	unsigned char head[FRAME_HEAD_BYTES];
	size_t len = 0, headlen;

	head[0] = 0xdd; /* array 32: simple, and the worker does not care */
	head[1] = (unsigned char)(n >> 24);
	head[2] = (unsigned char)(n >> 16);
	head[3] = (unsigned char)(n >> 8);
	head[4] = (unsigned char)n;
	headlen = sizeof head;
	for (unsigned i = 0; i < n; i++)
		len += runs[i]->len;
	h.len = (uint32_t)(headlen + len);
	h.job = ++pp.next_job;
	if (policy_stream_frame(n, runs[0]->grinder != NULL))
		h.flags = WIRE_STREAM;
	if (n > 1 || ahead)
		h.flags |= WIRE_RECALLABLE;
	add_header(w, &h);
	evbuffer_add(w->out, head, headlen);
	for (unsigned i = 0; i < n; i++)
		evbuffer_add(w->out, runs[i]->payload, runs[i]->len);
	worker_writable(w->to_fd, EV_WRITE, w);
	return h.job;
}

/*
 * A worker that always has a second frame never goes idle, so its batch
 * would otherwise grow by one run pointer per run for as long as the
 * stream lasts.  One being killed for a timeout keeps its indices.
 */
static void
batch_forget_answered(struct worker *w)
{
	if (w->timed_out == 0)
		exec_slot_forget_done(&w->es);
}

/* An idle worker's frame. */
static void
worker_give(struct engine *e, struct exec_slot *s, struct run **runs,
    unsigned n)
{
	struct worker *w = EXEC_SLOT_OWNER(s, struct worker);

	w->recalling = false;
	w->state = WORKER_BUSY;
	w->job_id = frame_send(w, runs, n, false);
	note_running(w, runs[0]);
}

/* How many more jobs it may be sent before max_jobs_per_worker retires it. */
static unsigned
job_budget(const struct worker *w)
{
	unsigned max = w->pool->cfg.max_jobs_per_worker;
	unsigned sent = w->jobs + (w->es.nbatch - w->es.done);

	if (max == 0)
		return UINT_MAX;
	return sent < max ? max - sent : 0;
}

/*
 * A busy worker running the last job of its frame may take the next frame
 * of its lease's runs now, so that it starts them without waiting for the
 * daemon: not one that is to be recycled or was killed, and not a grinder's
 * (its batches wait for an idle worker).
 */
static bool
takes_next_frame(struct worker *w)
{
	return w->state == WORKER_BUSY && w->timed_out == 0 && !w->recalling &&
	    w->next_frame == 0 && w->es.done + 1 == w->es.nbatch &&
	    w->es.batch[w->es.done]->grinder == NULL && w->successor == NULL &&
	    job_budget(w) > 0;
}

/*
 * An idle worker takes its share of the lease's queued runs in one frame,
 * the queue split over all ready workers (busy ones too, so that one about
 * to finish is not left without work): while it runs one, the next is
 * already there, and a pipelining client costs one round trip per frame
 * rather than per run.
 */
static unsigned
frame_share(const struct pexec *pe)
{
	unsigned ready = pe->nready > 0 ? pe->nready : 1;
	unsigned share = (pe->e.nqueued + ready - 1) / ready;

	return share < RUNS_PER_FRAME ? share : RUNS_PER_FRAME;
}

static bool
worker_takes_more(struct engine *e, struct exec_slot *s)
{
	return takes_next_frame(EXEC_SLOT_OWNER(s, struct worker));
}

/* The next frame of a worker running the last job of its frame. */
static void
worker_hand_more(struct engine *e, struct exec_slot *s, struct run **runs,
    unsigned n)
{
	struct worker *w = EXEC_SLOT_OWNER(s, struct worker);

	w->next_frame = s->nbatch - n;
	w->next_job_id = frame_send(w, runs, n, true);
}

/*
 * w's share of the queue in one frame.  One past its budget waits for its
 * successor, meanwhile taking one at a time.  Big runs make a frame
 * shorter: it must fit what the worker reads (batch_bytes).
 */
static unsigned
worker_share(struct engine *e, struct exec_slot *s)
{
	unsigned n = frame_share((struct pexec *)e),
		 budget = job_budget(EXEC_SLOT_OWNER(s, struct worker));

	if (n > budget)
		n = budget > 0 ? budget : 1;
	return n;
}

static size_t
frame_jobs_max(void)
{
	return frame_bytes_max() - FRAME_HEAD_BYTES;
}

/*
 * What w has not started is wanted back: a run of it was cancelled, or a
 * feed's batch of one user's items would hold another user's for more than
 * one item's time.  Its worker is told to end the frame before its next
 * job; it says so with WIRE_RECALLED, after the results of what it ran,
 * and the rest go back to the queue then.  A frame sent ahead is the one
 * recalled: the one before it runs its last job.
 */
static void
worker_recall(struct engine *e, struct exec_slot *s)
{
	struct worker *w = EXEC_SLOT_OWNER(s, struct worker);
	struct wire_header h = { .type = WIRE_RECALL,
		.job = w->next_frame != 0 ? w->next_job_id : w->job_id };

	if (w->state != WORKER_BUSY || w->recalling || w->timed_out != 0)
		return;
	w->recalling = true;
	add_header(w, &h);
	worker_writable(w->to_fd, EV_WRITE, w);
}

static struct exec_slot *
worker_slot(struct engine *e, unsigned i)
{
	return &((struct pexec *)e)->workers[i]->es;
}

static struct exec_slot *
idle_slot(struct engine *e)
{
	struct worker *w = idle_worker((struct pexec *)e);

	return w != NULL ? &w->es : NULL;
}

/*
 * The built-in worker is told which job the SIGTERM is for, counted by
 * results as it counts them: should that job answer before the signal
 * lands, the worker ignores it instead of ending the job after it.  A
 * worker program's process group gets it plainly (docs/worker-protocol.md),
 * as does the built-in worker's should the signal not queue.
 */
static void
signal_cancel(const struct worker *w)
{
	union sigval job = { .sival_int = (int)(w->jobs + 1) };

	if (w->limits.program[0] == '\0' && sigqueue(w->pid, SIGTERM, job) == 0)
		return;
	kill(-w->pid, SIGTERM);
	kill(w->pid, SIGTERM);
}

/*
 * Its running job was cancelled: the worker's process group gets SIGTERM,
 * so that a program may clean up, and SIGKILL after cancel_grace, or as
 * soon as the job answers.  Then it is settled and replaced as after a
 * timeout: what it never started runs elsewhere.
 */
static void
worker_interrupt(struct engine *e, struct exec_slot *s)
{
	struct worker *w = EXEC_SLOT_OWNER(s, struct worker);
	double grace = w->pool->cfg.cancel_grace;

	if (w->state != WORKER_BUSY || w->timed_out != 0)
		return;
	log_info("%s: '%s' was cancelled; stopping the worker", worker_label(w),
	    w->es.batch[w->es.done]->fn);
	/* Should it live through the grace, it starts nothing more of this. */
	if (w->es.done + 1 < w->es.nbatch)
		worker_recall(e, s);
	w->timed_out = w->es.done + 1;
	if (grace == 0) {
		kill_worker(w);
		timer_start(w, STATUS_WAIT);
		return;
	}
	signal_cancel(w);
	w->terminating = true;
	timer_start(w, grace);
}

static const struct executor_ops pexec_ops = {
	.slot = worker_slot,
	.idle_slot = idle_slot,
	.share = worker_share,
	.batch_bytes = frame_jobs_max,
	.give = worker_give,
	.takes_more = worker_takes_more,
	.hand_more = worker_hand_more,
	.recall = worker_recall,
	.interrupt = worker_interrupt,
};

static void
pump(struct pexec *pe)
{
	executor_pump(&pe->e);
}

/* The job it was running: the others of its frame were answered or went back. */
static void
answer_crash(struct worker *w, int status, bool known)
{
	struct lp_error err = { .code = LP_ERR_WORKER_CRASHED };
	char how[96];
	struct run *r;

	if ((r = exec_slot_next(&w->es)) == NULL)
		return;
	if (known) {
		describe_status(status, how, sizeof how);
		if (WIFSIGNALED(status))
			err.signal = WTERMSIG(status);
	} else {
		snprintf(how, sizeof how, "died (exit status unknown)");
	}
	if (w->broke_protocol)
		snprintf(how, sizeof how,
		    "was killed for a protocol error (the log says which)");
	snprintf(err.message, sizeof err.message, "%s %s while running '%s'",
	    worker_label(w), how, r->fn);
	log_warn("%s", err.message);
	run_answer_error(r, &err);
}

static void
answer_timeout(struct worker *w, struct run *r)
{
	struct lp_error err = { .code = LP_ERR_JOB_TIMEOUT };

	snprintf(err.message, sizeof err.message,
	    "'%s' ran longer than its timeout of %.3f s; %s was killed", r->fn,
	    r->timeout, worker_label(w));
	run_answer_error(r, &err);
}

/*
 * A lost worker's frame, once its channel has been read to the end: the
 * jobs after the running one never started, so they go back, in order, to
 * run elsewhere rather than fail with it; the one it was killed for (a
 * timeout) is answered so.  Only the running job can still be a crash.
 */
static void
settle_frame(struct worker *w, struct pexec *pe)
{
	executor_requeue(&pe->e, &w->es, w->es.done + 1);
	if (w->timed_out == w->es.done + 1 && w->es.done < w->es.nbatch)
		answer_timeout(w, exec_slot_next(&w->es));
}

/* A worker that ended, whatever the cause, waits for its exit status (to answer its run). */
static void
worker_bury(struct worker *w, int status, bool status_known)
{
	w->state = WORKER_DEAD;
	w->pe = NULL;
	event_del(w->ev_read);
	event_del(w->ev_write);
	evtimer_del(w->ev_timer);
	close_channel(w);
	if (status_known) {
		answer_crash(w, status, true);
		worker_free(w);
	} else {
		timer_start(w, STATUS_WAIT);
	}
}

/*
 * The one path for a worker that is gone, whatever the cause: its slot gets
 * its successor if one is on the way, else a replacement at once (or after
 * a backoff when it never became ready).
 */
static void
worker_lost(struct worker *w, const char *why, int status, bool status_known)
{
	struct pexec *pe = w->pe;
	bool was_ready = w->state == WORKER_IDLE || w->state == WORKER_BUSY;

	if (w->state == WORKER_DEAD)
		return;
	if (!in_slot(w)) {
		/* A successor that died: the worker it was to replace carries on. */
		log_warn("%s died before it could take over (%s)",
		    worker_label(w), why);
		pe->workers[w->slot]->successor = NULL;
		worker_bury(w, status, status_known);
		return;
	}
	if (was_ready)
		pe->nready--;
	if (w->successor != NULL) {
		pe->workers[w->slot] = w->successor;
		if (w->successor->state == WORKER_IDLE)
			pe->nready++;
		w->successor = NULL;
	} else if (!pp.leases->stopping) {
		if (was_ready)
			spawn_slot(pe, w->slot, 0);
		else
			start_failed(pe, w->slot, why);
	}
	settle_frame(w, pe);
	worker_bury(w, status, status_known);
	pump(pe);
}

/*
 * A reload changed what it was forked with (memory_limit, sched_batch,
 * ...).  Asked whenever a worker goes idle, so not compared again until
 * the next reload: the limits are kilobytes, the program's path among
 * them.
 */
static bool
limits_stale(struct worker *w)
{
	struct worker_limits now;

	if (w->limits_reload == pp.reloads)
		return false;
	now = pool_limits(w->pool);
	if (memcmp(&now, &w->limits, sizeof now) != 0)
		return true;
	w->limits_reload = pp.reloads;
	return false;
}

/* The successor is ready and old is idle: old leaves, its channel closes, it exits. */
static void
worker_retire(struct worker *old)
{
	struct pexec *pe = old->pe;
	struct worker *s = old->successor;

	if (limits_stale(old))
		log_debug(
		    "%s retired for the reloaded limits; worker %d takes over",
		    worker_label(old), (int)s->pid);
	else
		log_debug("%s retired after %u job%s; worker %d takes over",
		    worker_label(old), old->jobs, lp_plural(old->jobs),
		    (int)s->pid);
	pe->workers[old->slot] = s;
	old->successor = NULL;
	worker_bury(old, 0, false);
	pump(pe);
}

/*
 * max_jobs_per_worker, or limits a reload changed: start the replacement
 * first; the swap waits until both allow it.
 */
static void
recycle_if_due(struct worker *w)
{
	unsigned max = w->pool->cfg.max_jobs_per_worker;
	struct worker *s;

	if (w->successor != NULL || pp.leases->stopping || !in_slot(w) ||
	    ((max == 0 || w->jobs < max) && !limits_stale(w)))
		return;
	s = worker_new(w->pe, w->slot);
	s->state = WORKER_SPAWNING;
	w->successor = s;
	spawn_now(s);
}

static void
worker_ready(struct worker *w)
{
	struct pexec *pe = w->pe;
	struct ppool *st = ppool_of(w->pool);

	w->state = WORKER_IDLE;
	evtimer_del(w->ev_timer); /* worker_start_timeout */
	if (!in_slot(w)) {
		struct worker *old = pe->workers[w->slot];

		if (old->state == WORKER_IDLE)
			worker_retire(old);
		return;
	}
	pe->nready++;
	log_debug("%s ready (executor %u)", worker_label(w), pe->e.ex->id);
	if (st->start_failures >= CRASH_LOOP_LIMIT) {
		log_notice("pool %s: workers start again; crash loop over",
		    w->pool->cfg.name);
		lease_pool_recovered(w->pool);
	}
	if (st->short_of_descriptors > 0)
		log_notice(
		    "pool %s: workers start again; %u starts before found no descriptor",
		    w->pool->cfg.name, st->short_of_descriptors);
	st->start_failures = 0;
	st->short_of_descriptors = 0;
	if (!pe->announced && pe->nready == pe->e.nslots) {
		pe->announced = true;
		lease_executor_ready(pe->e.ex, clock_now());
	}
	recycle_if_due(w); /* a reload while it started */
	pump(pe);
}

/* The worker, or its fork server once it died, killed what a job left running. */
static void
log_leftovers(const struct worker *w, const char *fn, const char *owner,
    unsigned count, const char *killer)
{
	log_warn("%s: %s%s%s left %u process%s running; the %s killed %s",
	    worker_label(w), fn, owner[0] != '\0' ? " for " : "", owner, count,
	    lp_plural_es(count), killer, count == 1 ? "it" : "them");
}

/*
 * It wrote what the channel does not allow (docs/worker-protocol.md): it
 * cannot be trusted with more.  A worker_program's bug, or the daemon's:
 * its run is answered WORKER_CRASHED, and the pool carries on.
 */
static void broke_protocol(struct worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
broke_protocol(struct worker *w, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	log_err("%s: protocol error: %s; killing it", worker_label(w), what);
	w->broke_protocol = true;
	kill_worker(w);
	worker_lost(w, "protocol error", 0, false);
}

/* It answered for a job it was not running. */
static void
protocol_error(struct worker *w, const struct wire_header *h, const char *what)
{
	broke_protocol(w, "it sent %s for job %u it was not running", what,
	    h->job);
}

/* Done with its frame: its successor takes over, or it takes the next work. */
static void
worker_idle(struct worker *w, struct pexec *pe)
{
	w->state = WORKER_IDLE;
	if (w->successor != NULL && w->successor->state == WORKER_IDLE) {
		worker_retire(w);
		return;
	}
	recycle_if_due(w);
	pump(pe);
}

/*
 * A result goes to the client as it came, so one of a worker_program must
 * be what the built-in worker sends: a known code and, for LP_OK, exactly
 * one msgpack object.  NULL when it is; else what is wrong.
 */
static const char *
result_fault(struct worker *w, const struct wire_header *h)
{
	struct lp_framer f;
	size_t used = 0;

	if (h->code > LP_ERR_INTERNAL)
		return "a result code it has no meaning for";
	if (w->limits.program[0] == '\0' || h->code != LP_OK || w->discard > 0)
		return NULL;
	lp_framer_init(&f, h->len > 0 ? h->len : 1, LP_FRAME_DEPTH_MAX - 1);
	if (h->len == 0 ||
	    lp_framer_feed(&f, evbuffer_pullup(w->in, h->len), h->len, &used) !=
		LP_FRAME_DONE ||
	    used != h->len)
		return "a result that is not exactly one msgpack object";
	return NULL;
}

static void
worker_result(struct worker *w, const struct wire_header *h)
{
	struct pexec *pe = w->pe;
	const char *fault;
	struct run *r;

	if (w->state != WORKER_BUSY || h->job != w->job_id) {
		protocol_error(w, h, "a result");
		return;
	}
	if ((fault = result_fault(w, h)) != NULL) {
		broke_protocol(w,
		    "it answered '%s' with %s (code %u, %u bytes)",
		    w->es.batch[w->es.done]->fn, fault, h->code, h->len);
		return;
	}
	r = exec_slot_next(&w->es);
	if (h->flags != 0)
		log_leftovers(w, r->fn, r->owner, h->flags, "worker");
	/*
	 * Its cancelled job ended within the grace, and the worker lives (an
	 * exec's program cleaned up): it carries on, and SIGKILL is off.
	 */
	if (w->terminating && w->es.done == w->timed_out) {
		w->terminating = false;
		w->timed_out = 0;
		evtimer_del(w->ev_timer);
	}
	/* Its first frame is answered: the results that follow are the next one's. */
	if (w->next_frame != 0 && w->es.done == w->next_frame) {
		w->job_id = w->next_job_id;
		w->next_frame = 0;
		batch_forget_answered(w);
	}
	if (w->es.done == w->es.nbatch)
		w->state = WORKER_IDLE;
	else if (w->timed_out == 0)
		note_running(w, w->es.batch[w->es.done]);
	if (w->discard > 0) {
		struct lp_error err = { .code = LP_ERR_LIMIT_EXCEEDED };

		snprintf(err.message, sizeof err.message,
		    "%s returned %u bytes, more than the limit of %u", r->fn,
		    h->len, pp.cfg->max_result_bytes);
		run_answer_error(r, &err);
	} else if (h->code == LP_OK) {
		run_answer_result(r, w->in, h->len);
	} else {
		struct lp_error err = { .code = (enum lp_err)h->code };
		size_t n = h->len < sizeof err.message - 1 ?
		    h->len :
		    sizeof err.message - 1;

		evbuffer_remove(w->in, err.message, n);
		err.message[n] = '\0';
		evbuffer_drain(w->in, h->len - n);
		run_answer_error(r, &err);
	}
	w->jobs++;
	if (w->state != WORKER_IDLE) {
		/* On the last job of its frame now, it may take the next one. */
		if (w->pe != NULL && w->pe->e.nqueued > 0 &&
		    takes_next_frame(w))
			pump(w->pe);
		return;
	}
	worker_idle(w, pe);
}

/*
 * It ended its recalled grinder batch before batch[done]: those left go
 * back to the feed (while it is still busy, so that it takes no batch
 * of them before it is idle).
 */
static void
worker_recalled(struct worker *w, const struct wire_header *h)
{
	if (w->state != WORKER_BUSY || !w->recalling || h->job != w->job_id ||
	    w->es.done == w->es.nbatch) {
		protocol_error(w, h, "the end of a recall");
		return;
	}
	executor_requeue(&w->pe->e, &w->es, w->es.done);
	w->recalling = false;
	worker_idle(w, w->pe);
}

/* Drops what has come of a refused result; true once none of it is still to come. */
static bool
discarded(struct worker *w)
{
	size_t n = evbuffer_get_length(w->in);

	if (n > w->discard)
		n = w->discard;
	evbuffer_drain(w->in, n);
	w->discard -= (uint32_t)n;
	return w->discard == 0;
}

static void
worker_frames(struct worker *w)
{
	unsigned char bytes[WIRE_HEADER_BYTES];
	struct wire_header h;

	while (w->state != WORKER_DEAD && discarded(w) &&
	    evbuffer_copyout(w->in, bytes, sizeof bytes) ==
		(ssize_t)sizeof bytes) {
		wire_decode(bytes, &h);
		if (h.len > w->limits.max_result_bytes + LP_ERROR_MESSAGE_MAX) {
			broke_protocol(w,
			    "it sent a frame of %u bytes (type %u)", h.len,
			    h.type);
			return;
		}
		/*
		 * The worker was forked under the ceiling, the limit is today's:
		 * a result over it is answered at once and never held whole.
		 */
		if (h.type == WIRE_RESULT && h.code == LP_OK &&
		    h.len > pp.cfg->max_result_bytes) {
			evbuffer_drain(w->in, sizeof bytes);
			w->discard = h.len;
			worker_result(w, &h);
			continue;
		}
		if (evbuffer_get_length(w->in) < sizeof bytes + h.len)
			return;
		evbuffer_drain(w->in, sizeof bytes);
		switch (h.type) {
		case WIRE_READY:
			if (h.flags != 0)
				log_leftovers(w, "the modules' init", "",
				    h.flags, "worker");
			if (w->state == WORKER_STARTING)
				worker_ready(w);
			break;
		case WIRE_RESULT:
			worker_result(w, &h);
			break;
		case WIRE_RECALLED:
			worker_recalled(w, &h);
			break;
		default:
			broke_protocol(w, "it sent a frame of unknown type %u",
			    h.type);
		}
	}
}

/*
 * One read of up to 64 KiB: evbuffer_read() would ask FIONREAD first and
 * then read 4 KiB at most, a loop turn for every 4 KiB of a large result.
 * Returns the bytes read, 0 for none now, -1 when the channel is gone (and
 * so is the worker).
 */
static ssize_t
worker_read(struct worker *w)
{
	static char buf[64 * 1024];
	ssize_t n;

	do
		n = read(w->from_fd, buf, sizeof buf);
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		if (evbuffer_add(w->in, buf, (size_t)n) == -1)
			fatalx("out of memory");
		return n;
	}
	if (n == -1 && errno == EAGAIN)
		return 0;
	worker_lost(w, n == 0 ? "closed its channel" : strerror(errno), 0,
	    false);
	return -1;
}

static void
worker_readable(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	pp.input(clock_hold());
	if (worker_read(w) > 0)
		worker_frames(w);
	clock_release();
}

/* A worker reaped before its channel ended: what it wrote last still counts. */
static void
worker_drain(struct worker *w)
{
	while (w->state != WORKER_DEAD && worker_read(w) > 0)
		worker_frames(w);
}

static void
worker_writable(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	if (evbuffer_write(w->out, w->to_fd) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		worker_lost(w, strerror(errno), 0, false);
		return;
	}
	if (evbuffer_get_length(w->out) > 0)
		event_add(w->ev_write, NULL);
}

static void
kill_worker(struct worker *w)
{
	/* The whole group: whatever the job started dies with it. */
	kill(-w->pid, SIGKILL);
	kill(w->pid, SIGKILL);
}

/*
 * A job past its timeout: the worker is killed, and the job is answered
 * when the channel ends, once whatever the worker wrote before it died has
 * been read, so that no job of the frame is answered twice or run twice.
 */
static void
worker_timer(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	const struct run *r;
	double now;

	switch (w->state) {
	case WORKER_SPAWNING: /* the backoff is over */
		spawn_now(w);
		break;
	/* a start that does not end: a crash at start-up */
	case WORKER_STARTING:
		log_err(
		    "%s sent no READY within worker_start_timeout (%g s); killing it",
		    worker_label(w), w->pool->cfg.worker_start_timeout);
		kill_worker(w);
		worker_lost(w, "no READY within worker_start_timeout", 0,
		    false);
		break;
	case WORKER_IDLE:
	case WORKER_BUSY:
		if (w->terminating) { /* cancel_grace is over */
			w->terminating = false;
			kill_worker(w);
			timer_start(w, STATUS_WAIT);
			break;
		}
		if (w->timed_out != 0) {
			worker_lost(w, "killed after a job timeout or a cancel",
			    0, false);
			break;
		}
		if (w->state == WORKER_IDLE)
			break;
		/* armed for an earlier job */
		if ((now = clock_now()) < w->job_deadline) {
			timer_start(w, w->job_deadline - now);
			break;
		}
		r = w->es.batch[w->es.done];
		log_warn(
		    "'%s' ran longer than its timeout of %.3f s; %s is killed",
		    r->fn, r->timeout, worker_label(w));
		w->timed_out = w->es.done + 1;
		kill_worker(w);
		timer_start(w, STATUS_WAIT);
		break;
	case WORKER_DEAD: /* no exit status came: answer without it */
		answer_crash(w, 0, false);
		worker_free(w);
		break;
	default:
		break;
	}
}

static struct worker *
find_worker(bool by_pid, uint32_t key)
{
	struct worker *w;

	LIST_FOREACH (w, &pp.workers, link) {
		if (by_pid ?
			(w->pid == (pid_t)key && w->state != WORKER_SPAWNING) :
			(w->token == key && w->state == WORKER_SPAWNING))
			return w;
	}
	return NULL;
}

static void
log_tag(void *arg, char *buf, size_t len)
{
	const struct worker *w = arg;

	if (w->last_fn[0] == '\0')
		snprintf(buf, len, "%s", worker_label(w));
	else
		snprintf(buf, len, "%s, %s%s%s", worker_label(w), w->last_fn,
		    w->last_owner[0] ? " for " : "", w->last_owner);
}

static void
on_spawned(uint32_t token, pid_t pid, int to, int from, int logfd)
{
	struct worker *w = find_worker(false, token);

	if (w == NULL || pp.leases->stopping) {
		close(to);
		close(from);
		close(logfd);
		kill(pid, SIGKILL);
		return;
	}
	w->pid = pid;
	w->to_fd = to;
	w->from_fd = from;
	w->log = worklog_open(pp.base, logfd, log_tag, w);
	w->state = WORKER_STARTING;
	evutil_make_socket_nonblocking(to);
	evutil_make_socket_nonblocking(from);
	w->in = evbuffer_new();
	w->out = evbuffer_new();
	w->ev_read =
	    event_new(pp.base, from, EV_READ | EV_PERSIST, worker_readable, w);
	w->ev_write = event_new(pp.base, to, EV_WRITE, worker_writable, w);
	if (w->in == NULL || w->out == NULL || w->ev_read == NULL ||
	    w->ev_write == NULL)
		fatalx("out of memory");
	event_add(w->ev_read, NULL);
	timer_start(w, w->pool->cfg.worker_start_timeout);
	log_debug("%s forked for executor %u", worker_label(w),
	    w->pe->e.ex->id);
}

static void
on_spawn_failed(uint32_t token, int error, const char *where)
{
	struct worker *w = find_worker(false, token);
	struct pexec *pe;
	unsigned slot;

	if (w == NULL)
		return;
	pe = w->pe;
	slot = w->slot;
	if (!in_slot(w)) {
		/* A successor: the worker it was to replace carries on, and asks again after its next job. */
		log_warn(
		    "pool %s: a successor worker failed to start (%s in %s); %s carries on",
		    w->pool->cfg.name, fdreserve_why(error), where,
		    worker_label(pe->workers[slot]));
		pe->workers[slot]->successor = NULL;
		worker_free(w);
		return;
	}
	worker_free(w);
	if (error == EMFILE || error == ENFILE)
		start_short_of_descriptors(pe, slot, error, where);
	else
		start_failed(pe, slot, strerror(error));
}

static void
procpool_reaped(pid_t pid, int status)
{
	struct worker *w = find_worker(true, (uint32_t)pid);
	char how[96];

	if (w == NULL)
		return;
	describe_status(status, how, sizeof how);
	if (w->from_fd != -1)
		worker_drain(w);
	if (w->state == WORKER_DEAD) {
		answer_crash(w, status, true);
		worker_free(w);
		return;
	}
	/* The status came before the end of its channel. */
	worker_lost(w, how, status, true);
}

static void
on_leftovers(pid_t pid, unsigned count)
{
	const struct worker *w =
	    pid != 0 ? find_worker(true, (uint32_t)pid) : NULL;

	if (w != NULL)
		log_leftovers(w, w->last_fn, w->last_owner, count,
		    "fork server");
	else
		log_warn(
		    "fork server: killed %u process%s left running by workers that ended",
		    count, lp_plural_es(count));
}

static bool
expected_child(pid_t pid, void *arg)
{
	return forkserver_is(pid, NULL) ||
	    find_worker(true, (uint32_t)pid) != NULL;
}

/*
 * Outside of an adoption, the daemon's only children are the fork server
 * and what thread jobs start, which are not ours to kill.
 */
void
procpool_child_exited(pid_t pid, int status)
{
	const struct worker *w = find_worker(true, (uint32_t)pid);
	pid_t pids[REAPER_BATCH];
	unsigned n;

	if (pp.adopted && (w == NULL || !reaper_clean_exit(status)) &&
	    (n = reaper_kill(expected_child, NULL, pids, REAPER_BATCH)) > 0) {
		if (w != NULL)
			log_leftovers(w, w->last_fn, w->last_owner, n,
			    "daemon");
		else
			log_warn(
			    "killed %u process%s left running by workers of a fork server "
			    "that died",
			    n, lp_plural_es(n));
	}
	/* The last adopted worker, and all it left, are gone: so is the need to look. */
	if (pp.adopted && reaper_living(forkserver_is, NULL) == 0) {
		pp.adopted = false;
		log_debug(
		    "no worker of a fork server that died is left, nor anything it started");
	}
	procpool_reaped(pid, status);
}

void
procpool_reload(void)
{
	struct worker *w;

	pp.reloads++;
	LIST_FOREACH (w, &pp.workers, link)
		if (w->state == WORKER_IDLE || w->state == WORKER_BUSY)
			recycle_if_due(w);
}

static void
on_died(void)
{
	pp.adopted = true;
}

static void
on_restarted(void)
{
	struct worker *w;

	LIST_FOREACH (w, &pp.workers, link)
		if (w->state == WORKER_SPAWNING &&
		    !evtimer_pending(w->ev_timer, NULL))
			spawn_now(w);
}

/*
 * Every worker that waited for the fork server fails to start, as if it
 * had said so.  Tokens first: a failure may free or start other workers.
 */
static void
on_forkserver_unavailable(int error)
{
	struct worker *w;
	uint32_t *tokens;
	size_t n = 0, cap = 0;

	LIST_FOREACH (w, &pp.workers, link)
		cap++;
	tokens = xcalloc(cap, sizeof *tokens);
	LIST_FOREACH (w, &pp.workers, link)
		if (w->state == WORKER_SPAWNING &&
		    !evtimer_pending(w->ev_timer, NULL))
			tokens[n++] = w->token;
	for (size_t i = 0; i < n; i++)
		on_spawn_failed(tokens[i], error, "the daemon");
	free(tokens);
}

const struct forkserver_events procpool_forkserver_events = {
	.spawned = on_spawned,
	.spawn_failed = on_spawn_failed,
	.exited = procpool_reaped,
	.leftovers = on_leftovers,
	.died = on_died,
	.restarted = on_restarted,
	.unavailable = on_forkserver_unavailable,
};

static unsigned
procpool_worker_pids(const struct executor *ex, int64_t *pids, unsigned max)
{
	const struct pexec *pe = ex->backend;
	unsigned n = 0;

	for (unsigned i = 0; pe != NULL && i < pe->e.nslots && n < max; i++) {
		const struct worker *w = pe->workers[i];

		if (w->state == WORKER_IDLE || w->state == WORKER_BUSY)
			pids[n++] = w->pid;
	}
	return n;
}

static void
procpool_stop(void)
{
	struct run_queue stopped = TAILQ_HEAD_INITIALIZER(stopped);
	struct worker *w;

	executors_stop(pp.leases, LP_BACKEND_PROCESS, &stopped);
	while ((w = LIST_FIRST(&pp.workers)) != NULL) {
		exec_slot_stop(&w->es, &stopped);
		/* Idle workers exit when their channel closes; busy ones are past the drain. */
		if (w->state == WORKER_BUSY || w->state == WORKER_STARTING)
			kill_worker(w);
		worker_free(w);
	}
	executors_answer_stopped(&stopped);
}

/* Closing its channel ends an idle worker; one not forked yet is simply forgotten. */
static void
let_go(struct worker *w)
{
	if (w->state == WORKER_SPAWNING) {
		/* a late answer of the fork server finds no token */
		worker_free(w);
		return;
	}
	if (w->state != WORKER_IDLE)
		kill_worker(w);
	worker_bury(w, 0, false);
}

/* Retired while free (idle workers), or withdrawn by the stop while starting (let_go). */
static void
procpool_stop_executor(struct executor *ex)
{
	struct pexec *pe = ex->backend;

	for (unsigned i = 0; pe != NULL && i < pe->e.nslots; i++) {
		if (pe->workers[i]->successor != NULL)
			let_go(pe->workers[i]->successor);
		let_go(pe->workers[i]);
	}
	free(pe);
	ex->backend = NULL;
}

const struct backend_ops procpool_ops = {
	.init = procpool_init,
	.start_executor = procpool_start_executor,
	.stop_executor = procpool_stop_executor,
	.worker_ids = procpool_worker_pids,
	.stop = procpool_stop,
};
