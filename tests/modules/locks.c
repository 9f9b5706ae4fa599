/* SPDX-License-Identifier: ISC */
/*
 * locks: a job module of process-global locks, for the thread backend's
 * tests.  Every function is thread-safe.
 *
 *	hold [seconds]		takes the lock and holds it until release, or
 *				until seconds pass; true when released, false
 *				when the time ran out
 *	held			whether some job holds the lock now
 *	release			ends a hold early; true
 *	take			takes the lock and lets it go; true.  In a
 *				process forked while another thread held it,
 *				it never returns
 *	rendezvous [n, seconds]	waits until n callers are waiting together, or
 *				until seconds pass; true when all n met, false
 *				on time out.  n jobs that all return true ran
 *				at the same time
 *
 * Each process has its own: the daemon's threads share one lock, and each
 * worker process has its copy.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <leasepool/job.h>

/* What hold holds and take takes. */
static pthread_mutex_t the_lock = PTHREAD_MUTEX_INITIALIZER;

/* Where hold waits for release, and rendezvous callers for each other. */
static struct {
	pthread_once_t once;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* on the monotonic clock */
	unsigned releases;	/* release calls so far */
	unsigned waiting;	/* rendezvous callers of the current round */
	unsigned rounds;	/* rendezvous rounds that met */
} meet = {
	.once = PTHREAD_ONCE_INIT,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

/* No init: the daemon never calls it, and its threads are who needs this. */
static void
meet_init(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&meet.changed, &attr);
	pthread_condattr_destroy(&attr);
}

static bool
seconds_arg(const msgpack_object *o, double *v)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*v = (double)o->via.u64;
		return true;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*v = o->via.f64;
		return *v >= 0 && *v < 1e6;
	default:
		return false;
	}
}

static struct timespec
deadline_after(double seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)seconds;
	ts.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static void
pack_bool(struct lp_job *job, bool v)
{
	if (v)
		msgpack_pack_true(lp_job_result(job));
	else
		msgpack_pack_false(lp_job_result(job));
}

/* Waits on meet.changed (meet.lock held) until it changes or the deadline; false at the deadline. */
static bool
meet_wait(const struct timespec *deadline)
{
	return pthread_cond_timedwait(&meet.changed, &meet.lock, deadline) !=
	    ETIMEDOUT;
}

static int
hold(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	struct timespec deadline;
	unsigned releases;
	double seconds;
	bool released;

	if (args->via.array.size != 1 ||
	    !seconds_arg(&args->via.array.ptr[0], &seconds))
		return lp_job_fail(job, "hold takes a number of seconds");
	pthread_once(&meet.once, meet_init);
	deadline = deadline_after(seconds);
	/* Counted before the lock is taken: a release seen by whoever saw it held is never missed. */
	pthread_mutex_lock(&meet.lock);
	releases = meet.releases;
	pthread_mutex_unlock(&meet.lock);

	pthread_mutex_lock(&the_lock);
	pthread_mutex_lock(&meet.lock);
	while (meet.releases == releases && meet_wait(&deadline))
		continue;
	released = meet.releases != releases;
	pthread_mutex_unlock(&meet.lock);
	pthread_mutex_unlock(&the_lock);
	pack_bool(job, released);
	return 0;
}

static int
held(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	bool busy = pthread_mutex_trylock(&the_lock) == EBUSY;

	if (!busy)
		pthread_mutex_unlock(&the_lock);
	pack_bool(job, busy);
	return 0;
}

static int
release(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	pthread_once(&meet.once, meet_init);
	pthread_mutex_lock(&meet.lock);
	meet.releases++;
	pthread_cond_broadcast(&meet.changed);
	pthread_mutex_unlock(&meet.lock);
	msgpack_pack_true(lp_job_result(job));
	return 0;
}

static int
take(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	pthread_mutex_lock(&the_lock);
	pthread_mutex_unlock(&the_lock);
	msgpack_pack_true(lp_job_result(job));
	return 0;
}

static int
rendezvous(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	const msgpack_object *a = args->via.array.ptr;
	struct timespec deadline;
	unsigned round;
	double seconds;
	bool met;

	if (args->via.array.size != 2 ||
	    a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[0].via.u64 > 1000000 || !seconds_arg(&a[1], &seconds))
		return lp_job_fail(job,
		    "rendezvous takes a number of callers and of seconds");
	pthread_once(&meet.once, meet_init);
	deadline = deadline_after(seconds);
	pthread_mutex_lock(&meet.lock);
	round = meet.rounds;
	if (++meet.waiting >= a[0].via.u64) {
		meet.waiting = 0;
		meet.rounds++;
		pthread_cond_broadcast(&meet.changed);
	} else {
		while (meet.rounds == round && meet_wait(&deadline))
			continue;
		/* A caller that gives up leaves the round, so the next ones are not miscounted. */
		if (meet.rounds == round)
			meet.waiting--;
	}
	met = meet.rounds != round;
	pthread_mutex_unlock(&meet.lock);
	pack_bool(job, met);
	return 0;
}

static const struct lp_job_function functions[] = {
	{ "hold", hold, LP_JOB_THREAD_SAFE },
	{ "held", held, LP_JOB_THREAD_SAFE },
	{ "release", release, LP_JOB_THREAD_SAFE },
	{ "take", take, LP_JOB_THREAD_SAFE },
	{ "rendezvous", rendezvous, LP_JOB_THREAD_SAFE },
	{ NULL, NULL, 0 },
};

const struct lp_job_module leasepool_job_module = {
	.abi_version = LP_JOB_ABI_VERSION,
	.name = "locks",
	.functions = functions,
};
