/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/backend/executor.h"
#include "daemon/backend/fdreserve.h"
#include "daemon/backend/threadpool.h"
#include "daemon/core/alloc.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/jobs/jobs.h"
#include "proto/text.h"

/* pthread_create failed: the executor tries again this much later. */
#define START_RETRY_SECONDS 1.0
/* An item number that is none: the end of a batch the loop gave up on. */
#define NO_ITEM UINT_MAX

/*
 * Who may touch what.  The loop owns every struct run, the executors and
 * the slots' loop-side fields; a thread owns its job state.  What they
 * share is under tp.lock, which is held only to read or set a few fields
 * or splice a list, never while a job runs: the loop cannot block behind
 * a job.
 */

enum slot_state {
	SLOT_IDLE,
	SLOT_BUSY, /* running a batch; batch[done] has the timer */
	/* its job was answered JOB_TIMEOUT; the function has not returned */
	SLOT_STUCK,
};

struct texec;

/* One thread of an executor, and the work it is given. */
struct slot {
	/* The loop's. */
	/* NULL once its executor is gone: a stuck slot outlives it */
	struct texec *te;
	struct pool *pool;
	unsigned number; /* within its executor, for stats and logs */
	enum slot_state state;
	struct exec_slot es;	/* what the work is for, in order */
	struct event *ev_timer; /* the timeout of batch[done] */
	LIST_ENTRY(slot) link;	/* tp.slots */

	/* Shared, under tp.lock. */
	pthread_t thread;
	pthread_cond_t wake;
	/* set by the loop; cleared by the thread when done with it */
	bool has_work;
	bool cancelled; /* the loop gave up on the batch: start no more of it */
	bool quit;
	unsigned posted; /* items of the batch whose completion was posted */
	/* the batch's items, fewer once the loop recalled the rest */
	unsigned njobs;

	/*
	 * The work: a copy of each job of the batch, item i at
	 * jobs[ends[i] .. ends[i + 1]).  The loop writes it while the thread
	 * has no work; the thread reads it until it clears has_work.  The
	 * thread never touches a struct run, which the loop may answer and
	 * free (a timeout) while its function still runs.
	 */
	char *jobs;
	size_t jobs_cap;
	size_t *ends;
	unsigned ends_cap;
	uint64_t max_result_bytes;
};

/* What a thread hands back for one item. */
struct completion {
	STAILQ_ENTRY(completion) link;
	struct slot *slot;
	unsigned item; /* NO_ITEM: nothing ran, the batch just ends */
	bool last;     /* the thread is done with the batch's work */
	enum lp_err code;
	size_t len; /* the packed result, or the error message */
	char data[];
};

STAILQ_HEAD(completion_list, completion);

/* The backend's half of an executor. */
struct texec {
	struct engine e; /* first: the engine frees it (executors_stop) */
	/* starts the threads, then says ready (or retries) */
	struct event *ev_start;
	struct slot *slots[]; /* NULL until its thread exists */
};

struct tpool {
	bool failing; /* threads cannot be created */
};

static struct {
	pthread_mutex_t lock;
	/* posted by threads, drained by the loop */
	struct completion_list done;
	int efd; /* says that done is not empty */
	struct event *ev_done;
	LIST_HEAD(, slot) slots; /* every slot with a thread */
	/* a result on its way to run_answer_result() */
	struct evbuffer *result;
	unsigned abandoned;
	bool ready;
	struct event_base *base;
	const struct config *cfg;
	struct lease_table *leases;
} tp = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.done = STAILQ_HEAD_INITIALIZER(tp.done),
	.efd = -1,
};

/* ---- the threads ---- */

static struct completion *
completion_new(struct slot *s, unsigned item, enum lp_err code,
    const void *data, size_t len)
{
	struct completion *c = malloc(sizeof *c + len);

	if (c == NULL)
		fatalx("out of memory");
	c->slot = s;
	c->item = item;
	c->last = false;
	c->code = code;
	c->len = len;
	if (len > 0)
		memcpy(c->data, data, len);
	return c;
}

static struct completion *completion_error(struct slot *s, unsigned item,
    enum lp_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static struct completion *
completion_error(struct slot *s, unsigned item, enum lp_err code,
    const char *fmt, ...)
{
	char message[LP_ERROR_MESSAGE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	return completion_new(s, item, code, message,
	    (size_t)n < sizeof message ? (size_t)n : sizeof message - 1);
}

/*
 * Hands c to the loop.  True when the batch is over for the thread (its
 * last item, or the loop gave up on it): the work is the loop's again.
 */
static bool
post(struct slot *s, struct completion *c)
{
	bool was_empty, last;

	pthread_mutex_lock(&tp.lock);
	if (c->item != NO_ITEM)
		s->posted++;
	last = c->item == NO_ITEM || c->item + 1 == s->njobs || s->cancelled;
	if (last)
		s->has_work = false;
	c->last = last;
	/* The loop reads the eventfd before it splices: one write per non-empty list is enough. */
	was_empty = STAILQ_EMPTY(&tp.done);
	STAILQ_INSERT_TAIL(&tp.done, c, link);
	pthread_mutex_unlock(&tp.lock);
	/* c is the loop's from here: it may be freed already. */
	if (was_empty)
		(void)eventfd_write(tp.efd, 1);
	return last;
}

static bool
cancelled(struct slot *s)
{
	bool v;

	pthread_mutex_lock(&tp.lock);
	v = s->cancelled;
	pthread_mutex_unlock(&tp.lock);
	return v;
}

/* The loop packed [fn, args, kwargs] (run.c); anything else is its bug. */
static bool
job_parts(const msgpack_object *o, const msgpack_object **fn,
    const msgpack_object **args, const msgpack_object **kwargs)
{
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3)
		return false;
	*fn = &o->via.array.ptr[0];
	*args = &o->via.array.ptr[1];
	*kwargs = &o->via.array.ptr[2];
	return (*fn)->type == MSGPACK_OBJECT_STR &&
	    (*args)->type == MSGPACK_OBJECT_ARRAY &&
	    (*kwargs)->type == MSGPACK_OBJECT_MAP;
}

static struct completion *
run_item(struct slot *s, unsigned i, struct lp_job *job, msgpack_zone *zone)
{
	const msgpack_object *fn, *args, *kwargs;
	const struct lp_job_function *f;
	char buf[LP_QUOTE_SIZE];
	struct completion *c;
	msgpack_object o;
	size_t off = 0;

	msgpack_zone_clear(zone);
	if (msgpack_unpack(s->jobs + s->ends[i], s->ends[i + 1] - s->ends[i],
		&off, zone, &o) != MSGPACK_UNPACK_SUCCESS ||
	    !job_parts(&o, &fn, &args, &kwargs))
		return completion_error(s, i, LP_ERR_INTERNAL,
		    "the daemon handed a thread a malformed job");
	if ((f = jobs_find(fn->via.str.ptr, fn->via.str.size)) == NULL)
		return completion_error(s, i, LP_ERR_NO_SUCH_FUNCTION,
		    "no function named '%s'",
		    lp_quote(fn->via.str.ptr, fn->via.str.size, buf));
	/* dispatch.c refused it already; a thread must never run one anyway. */
	if ((f->flags & LP_JOB_THREAD_SAFE) == 0)
		return completion_error(s, i, LP_ERR_INTERNAL,
		    "function '%s' is not marked thread-safe", f->name);
	jobs_reset(job);
	jobs_call(f, job, args, kwargs);
	if (job->failed)
		c = completion_error(s, i, job->error, "%s", job->message);
	else if (job->result.size > s->max_result_bytes)
		c = completion_error(s, i, LP_ERR_LIMIT_EXCEEDED,
		    "%s returned %zu bytes, more than the limit of %llu",
		    f->name, job->result.size,
		    (unsigned long long)s->max_result_bytes);
	else
		c = completion_new(s, i, LP_OK, job->result.data,
		    job->result.size);
	/* A huge result should not pin its memory for the thread's whole life. */
	if (job->result.alloc > (1u << 20)) {
		jobs_destroy(job);
		jobs_init(job);
	}
	return c;
}

/* The items in order, each answered as it ends; the loop may give up on the rest. */
static void
run_batch(struct slot *s, struct lp_job *job, msgpack_zone *zone)
{
	for (unsigned i = 0;; i++) {
		if (cancelled(s)) {
			post(s, completion_new(s, NO_ITEM, LP_OK, NULL, 0));
			return;
		}
		if (post(s, run_item(s, i, job, zone)))
			return;
	}
}

static void *
slot_main(void *arg)
{
	struct slot *s = arg;
	struct lp_job job;
	msgpack_zone zone;

	jobs_init(&job);
	msgpack_zone_init(&zone, 4096);
	pthread_mutex_lock(&tp.lock);
	for (;;) {
		while (!s->has_work && !s->quit)
			pthread_cond_wait(&s->wake, &tp.lock);
		if (!s->has_work)
			break;
		pthread_mutex_unlock(&tp.lock);
		run_batch(s, &job, &zone);
		pthread_mutex_lock(&tp.lock);
	}
	pthread_mutex_unlock(&tp.lock);
	msgpack_zone_destroy(&zone);
	jobs_destroy(&job);
	return NULL;
}

/* ---- the loop's side ---- */

static void
threadpool_init(const struct backend_env *env)
{
	tp.base = env->base;
	tp.cfg = env->cfg;
	tp.leases = env->leases;
}

static const struct executor_ops texec_ops;
static void on_completions(evutil_socket_t fd, short what, void *arg);

/* Once, when the first thread pool starts an executor. */
static void
tp_init(void)
{
	int error;

	if (tp.ready)
		return;
	/*
	 * One malloc arena for every thread.  glibc would give each thread that
	 * allocates an arena of its own, and malloc_trim() cannot give back the
	 * free top of those: after the bench's load an idle daemon kept them
	 * (bench/README.md, T, measures what this and the trims save).  Jobs on
	 * threads allocate little (a result, a completion), and most of that
	 * from their per-thread cache.
	 */
	mallopt(M_ARENA_MAX, 1);
	LIST_INIT(&tp.slots);
	/* Out of the reserve: clients may hold every other descriptor by now. */
	fdreserve_release();
	tp.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	error = errno;
	fdreserve_refill();
	if (tp.efd == -1)
		fatalx("thread backend: eventfd: %s", fdreserve_why(error));
	tp.ev_done = event_new(tp.base, tp.efd, EV_READ | EV_PERSIST,
	    on_completions, NULL);
	tp.result = evbuffer_new();
	if (tp.ev_done == NULL || tp.result == NULL ||
	    event_add(tp.ev_done, NULL) == -1)
		fatalx("thread backend: out of memory");
	tp.ready = true;
}

static const char *
slot_label(const struct slot *s)
{
	static char buf[128];

	if (s->te != NULL)
		snprintf(buf, sizeof buf, "thread %u of executor %u of pool %s",
		    s->number, s->te->e.ex->id, s->pool->cfg.name);
	else
		snprintf(buf, sizeof buf,
		    "thread %u of a retired executor of pool %s", s->number,
		    s->pool->cfg.name);
	return buf;
}

static void
timer_start(struct event *ev, double seconds)
{
	struct timeval tv;

	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(ev, &tv);
}

static void slot_timeout(evutil_socket_t fd, short what, void *arg);

/* A thread for slot i of te; 0, or the error of pthread_create. */
static int
slot_start(struct texec *te, unsigned i)
{
	struct slot *s = xcalloc(1, sizeof *s);
	sigset_t all, old;
	char name[16];
	int error;

	s->te = te;
	s->pool = te->e.ex->pool;
	s->number = i;
	s->state = SLOT_IDLE;
	if ((s->ev_timer = evtimer_new(tp.base, slot_timeout, s)) == NULL)
		fatalx("out of memory");
	pthread_cond_init(&s->wake, NULL);
	/* Signals are the loop's: a thread born with all of them blocked never takes one. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(&s->thread, NULL, slot_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		pthread_cond_destroy(&s->wake);
		event_free(s->ev_timer);
		free(s);
		return error;
	}
	/* For top -H and debuggers; cut to the 15 bytes the kernel keeps. */
	snprintf(name, sizeof name, "lp-%.12s", s->pool->cfg.name);
	pthread_setname_np(s->thread, name);
	LIST_INSERT_HEAD(&tp.slots, s, link);
	te->slots[i] = s;
	return 0;
}

/* The thread of an idle slot leaves; it holds no job, so the join is short. */
static void
slot_end(struct slot *s)
{
	pthread_mutex_lock(&tp.lock);
	s->quit = true;
	pthread_mutex_unlock(&tp.lock);
	pthread_cond_signal(&s->wake);
	pthread_join(s->thread, NULL);
	LIST_REMOVE(s, link);
	pthread_cond_destroy(&s->wake);
	event_free(s->ev_timer);
	free(s->es.batch);
	free(s->jobs);
	free(s->ends);
	free(s);
}

/*
 * Starts the missing threads, then tells the lease table the executor is
 * ready.  On a later loop turn than start_executor(), which the lease
 * table calls from inside lease_acquire(): saying ready there would
 * re-enter it.
 */
static void
executor_start(evutil_socket_t fd, short what, void *arg)
{
	struct texec *te = arg;
	struct pool *p = te->e.ex->pool;
	struct tpool *st = executor_pool_state(p, sizeof *st);
	int error = 0;

	for (unsigned i = 0; i < te->e.nslots && error == 0; i++)
		if (te->slots[i] == NULL)
			error = slot_start(te, i);
	if (error != 0) {
		log_err(
		    "pool %s: cannot start a thread for executor %u: %s; retrying in %.0f s",
		    p->cfg.name, te->e.ex->id, strerror(error),
		    START_RETRY_SECONDS);
		if (!st->failing)
			lease_pool_failing(p, "threads cannot be created");
		st->failing = true;
		timer_start(te->ev_start, START_RETRY_SECONDS);
		return;
	}
	if (st->failing) {
		log_notice("pool %s: threads start again", p->cfg.name);
		lease_pool_recovered(p);
		st->failing = false;
	}
	log_debug("pool %s: executor %u has %u thread%s", p->cfg.name,
	    te->e.ex->id, te->e.nslots, lp_plural(te->e.nslots));
	lease_executor_ready(te->e.ex, clock_now());
}

static void
threadpool_start_executor(struct executor *ex)
{
	unsigned n = ex->pool->cfg.workers;
	struct texec *te = xcalloc(1, sizeof *te + n * sizeof te->slots[0]);

	tp_init();
	executor_init(&te->e, ex, &texec_ops, n);
	if ((te->ev_start = evtimer_new(tp.base, executor_start, te)) == NULL)
		fatalx("out of memory");
	ex->backend = te;
	event_active(te->ev_start, EV_TIMEOUT, 0);
}

/* Gives an idle slot's thread the runs, in order; it runs them one after the other. */
static void
slot_give(struct engine *e, struct exec_slot *es, struct run **runs, unsigned n)
{
	struct slot *s = EXEC_SLOT_OWNER(es, struct slot);
	size_t len = 0;

	if (n + 1 > s->ends_cap) {
		s->ends = xreallocarray(s->ends, n + 1, sizeof *s->ends);
		s->ends_cap = n + 1;
	}
	for (unsigned i = 0; i < n; i++)
		len += runs[i]->len;
	if (len > s->jobs_cap) {
		s->jobs = xreallocarray(s->jobs, len, 1);
		s->jobs_cap = len;
	}
	/* The thread has no work: these are ours to write until has_work says otherwise. */
	s->ends[0] = 0;
	for (unsigned i = 0; i < n; i++) {
		memcpy(s->jobs + s->ends[i], runs[i]->payload, runs[i]->len);
		s->ends[i + 1] = s->ends[i] + runs[i]->len;
	}
	s->state = SLOT_BUSY;
	timer_start(s->ev_timer, runs[0]->timeout);

	pthread_mutex_lock(&tp.lock);
	s->njobs = n;
	s->posted = 0;
	s->cancelled = false;
	s->max_result_bytes = tp.cfg->max_result_bytes;
	s->has_work = true;
	pthread_mutex_unlock(&tp.lock);
	pthread_cond_signal(&s->wake);
}

/*
 * Every thread is busy: a feed's batch of one user's items would hold
 * another user's for more than one item's time.  Its thread ends the batch
 * after the item it runs, or the one it is about to start (it may have
 * posted the one before and not started it yet); the rest go back to the
 * feed.
 */
static void
slot_recall(struct engine *e, struct exec_slot *es)
{
	struct slot *s = EXEC_SLOT_OWNER(es, struct slot);
	unsigned keep;

	pthread_mutex_lock(&tp.lock);
	keep = s->posted + 1;
	if (keep < s->njobs)
		s->njobs = keep;
	pthread_mutex_unlock(&tp.lock);
	executor_requeue(e, es, keep);
}

static struct exec_slot *
slot_at(struct engine *e, unsigned i)
{
	struct slot *s = ((struct texec *)e)->slots[i];

	return s != NULL ? &s->es : NULL;
}

static struct exec_slot *
idle_slot(struct engine *e)
{
	const struct texec *te = (const struct texec *)e;

	for (unsigned i = 0; i < e->nslots; i++)
		if (te->slots[i] != NULL && te->slots[i]->state == SLOT_IDLE)
			return &te->slots[i]->es;
	return NULL;
}

/* Lease runs go one at a time: a thread runs one job at a time anyway. */
static unsigned
one_run(struct engine *e, struct exec_slot *s)
{
	return 1;
}

static size_t
no_byte_limit(void)
{
	return SIZE_MAX;
}

static void
texec_release(struct engine *e)
{
	event_free(((struct texec *)e)->ev_start);
}

static const struct executor_ops texec_ops = {
	.slot = slot_at,
	.idle_slot = idle_slot,
	.share = one_run,
	.batch_bytes = no_byte_limit,
	.give = slot_give,
	.recall = slot_recall,
	.release = texec_release,
};

static void
answer(struct run *r, const struct completion *c)
{
	struct lp_error err = { .code = c->code };

	if (c->code == LP_OK) {
		if (evbuffer_add(tp.result, c->data, c->len) == -1)
			fatalx("out of memory");
		run_answer_result(r, tp.result, c->len);
		return;
	}
	snprintf(err.message, sizeof err.message, "%.*s", (int)c->len, c->data);
	run_answer_error(r, &err);
}

/* The thread is done with its work: the slot takes more, or its thread leaves with its executor. */
static void
slot_released(struct slot *s)
{
	if (s->state == SLOT_STUCK)
		log_notice("%s is free again: its timed-out job returned",
		    slot_label(s));
	s->state = SLOT_IDLE;
	if (s->te == NULL)
		slot_end(s);
	else
		executor_pump(&s->te->e);
}

/*
 * The run is answered last: answering may end a lease, free an executor
 * and start or stop others, so nothing of ours is touched after it.
 */
static void
complete(struct completion *c)
{
	struct slot *s = c->slot;
	struct run *r = NULL;

	/* Anything else is the late end of a job already answered (JOB_TIMEOUT): dropped. */
	if (c->item != NO_ITEM && s->state == SLOT_BUSY &&
	    c->item == s->es.done) {
		evtimer_del(s->ev_timer);
		r = s->es.batch[s->es.done++];
		if (s->es.done < s->es.nbatch)
			timer_start(s->ev_timer,
			    s->es.batch[s->es.done]->timeout);
	}
	if (c->last)
		slot_released(s);
	if (r != NULL)
		answer(r, c);
	free(c);
}

static void
on_completions(evutil_socket_t fd, short what, void *arg)
{
	struct completion_list done = STAILQ_HEAD_INITIALIZER(done);
	struct completion *c;
	eventfd_t n;

	(void)eventfd_read(tp.efd, &n);
	pthread_mutex_lock(&tp.lock);
	STAILQ_CONCAT(&done, &tp.done);
	pthread_mutex_unlock(&tp.lock);
	while ((c = STAILQ_FIRST(&done)) != NULL) {
		STAILQ_REMOVE_HEAD(&done, link);
		complete(c);
	}
}

/*
 * batch[done] ran past its timeout.  It is answered now; the thread cannot
 * be stopped, so the slot is stuck until the function returns, and the
 * items of the batch it never started go back to the feed.
 */
static void
slot_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct slot *s = arg;
	struct lp_error err = { .code = LP_ERR_JOB_TIMEOUT };
	struct run *r;
	bool finished;

	if (s->state != SLOT_BUSY)
		return;
	pthread_mutex_lock(&tp.lock);
	/* It ended just in time: its completion is on the list, the eventfd says so. */
	finished = s->posted > s->es.done;
	if (!finished)
		s->cancelled = true;
	pthread_mutex_unlock(&tp.lock);
	if (finished)
		return;
	r = s->es.batch[s->es.done++];
	s->state = SLOT_STUCK;
	snprintf(err.message, sizeof err.message,
	    "'%s' ran longer than its timeout of %.3f s; %s stays busy until it returns",
	    r->fn, r->timeout, slot_label(s));
	log_warn("%s", err.message);
	executor_requeue(&s->te->e, &s->es, s->es.done);
	run_answer_error(r, &err);
}

/*
 * The executor is free and retired.  Idle threads are joined.  A stuck
 * one may never return from its function, and joining it would block the
 * loop: its slot stays, without an executor, until the function returns
 * and its last completion comes in; the thread is joined then.
 */
static void
threadpool_stop_executor(struct executor *ex)
{
	struct texec *te = ex->backend;

	if (te == NULL)
		return;
	for (unsigned i = 0; i < te->e.nslots; i++) {
		struct slot *s = te->slots[i];

		if (s == NULL)
			continue;
		if (s->state == SLOT_IDLE) {
			slot_end(s);
			continue;
		}
		s->te = NULL;
		pthread_mutex_lock(&tp.lock);
		s->quit = true;
		pthread_mutex_unlock(&tp.lock);
	}
	/*
	 * Its threads' caches went back to the arena as they ended, and glibc
	 * keeps free pages, which an idle daemon would hold on to
	 * (bench/README.md, T).  An executor stopping is rare enough to give
	 * them back.
	 */
	malloc_trim(0);
	event_free(te->ev_start);
	free(te);
	ex->backend = NULL;
}

static unsigned
threadpool_worker_ids(const struct executor *ex, int64_t *ids, unsigned max)
{
	const struct texec *te = ex->backend;
	unsigned n = 0;

	for (unsigned i = 0; te != NULL && i < te->e.nslots && n < max; i++)
		if (te->slots[i] != NULL)
			ids[n++] = te->slots[i]->number;
	return n;
}

static unsigned
threadpool_stuck_workers(const struct pool *p)
{
	const struct slot *s;
	unsigned n = 0;

	LIST_FOREACH (s, &tp.slots, link)
		n += s->pool == p && s->state == SLOT_STUCK;
	return n;
}

/*
 * Shutdown, after the loop: what is queued or running is answered
 * STOPPING, idle threads are joined, and everything is freed.  A thread
 * still inside a job function cannot be made to return, and joining it
 * could wait forever: it is detached and left to the process's exit, with
 * its slot, the lock and the eventfd it may still use.  The runs are
 * answered last, when nothing of ours is left for what an answer sets off
 * (a lease ends, an executor is retired) to find half torn down.
 */
static void
threadpool_stop(void)
{
	struct run_queue stopped = TAILQ_HEAD_INITIALIZER(stopped);
	struct completion *c;
	struct slot *s, *next;

	if (!tp.ready)
		return;
	executors_stop(tp.leases, LP_BACKEND_THREAD, &stopped);
	pthread_mutex_lock(&tp.lock);
	LIST_FOREACH (s, &tp.slots, link) {
		s->quit = true;
		s->cancelled = true;
	}
	/* What was not drained yet is for runs answered STOPPING below. */
	while ((c = STAILQ_FIRST(&tp.done)) != NULL) {
		STAILQ_REMOVE_HEAD(&tp.done, link);
		free(c);
	}
	pthread_mutex_unlock(&tp.lock);
	for (s = LIST_FIRST(&tp.slots); s != NULL; s = next) {
		bool running;

		next = LIST_NEXT(s, link);
		if (s->state == SLOT_BUSY)
			exec_slot_stop(&s->es, &stopped);
		pthread_mutex_lock(&tp.lock);
		running = s->has_work;
		pthread_mutex_unlock(&tp.lock);
		if (!running) {
			slot_end(s);
			continue;
		}
		pthread_detach(s->thread);
		event_free(s->ev_timer);
		s->ev_timer = NULL;
		s->te = NULL;
		tp.abandoned++;
	}
	event_free(tp.ev_done);
	tp.ev_done = NULL;
	evbuffer_free(tp.result);
	tp.result = NULL;
	if (tp.abandoned > 0) {
		log_warn(
		    "left running: %u thread%s still inside a job function",
		    tp.abandoned, lp_plural(tp.abandoned));
	} else {
		close(tp.efd);
		tp.efd = -1;
	}
	tp.ready = false;
	executors_answer_stopped(&stopped);
}

unsigned
threadpool_abandoned(void)
{
	return tp.abandoned;
}

const struct backend_ops threadpool_ops = {
	.init = threadpool_init,
	.start_executor = threadpool_start_executor,
	.stop_executor = threadpool_stop_executor,
	.worker_ids = threadpool_worker_ids,
	.stuck_workers = threadpool_stuck_workers,
	.stop = threadpool_stop,
};
