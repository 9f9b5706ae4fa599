/* SPDX-License-Identifier: ISC */
/* The built-in jobs of docs/protocol.md: echo, sleep, spin, and exec (in exec.c). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

#include "daemon/core/clock.h"
#include "daemon/jobs/exec.h"
#include "daemon/jobs/jobs.h"
#include "proto/params.h"

/* The one positional argument these built-ins take, or NULL when given more, fewer or keywords. */
static const msgpack_object *
only_arg(const msgpack_object *args, const msgpack_object *kwargs)
{
	if (args->type != MSGPACK_OBJECT_ARRAY || args->via.array.size != 1 ||
	    (kwargs->type == MSGPACK_OBJECT_MAP && kwargs->via.map.size != 0))
		return NULL;
	return &args->via.array.ptr[0];
}

static bool
number_arg(const msgpack_object *o, double *v)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*v = (double)o->via.u64;
		return true;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*v = (double)o->via.i64;
		return true;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*v = o->via.f64;
		return true;
	default:
		return false;
	}
}

static int
job_echo(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	const msgpack_object *v = only_arg(args, kwargs);

	if (v == NULL)
		return jobs_refuse(job, "echo takes exactly one argument");
	msgpack_pack_object(lp_job_result(job), *v);
	return 0;
}

static int
job_sleep(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	const msgpack_object *v = only_arg(args, kwargs);
	struct timespec ts;
	double seconds;

	/* Capped like every duration of the protocol: beyond it, time_t may not hold it. */
	if (v == NULL || !number_arg(v, &seconds) || !isfinite(seconds) ||
	    seconds < 0 || seconds > LP_DURATION_MAX)
		return jobs_refuse(job,
		    "sleep takes one number of seconds from 0 to %g",
		    LP_DURATION_MAX);
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
	msgpack_pack_nil(lp_job_result(job));
	return 0;
}

static int
job_spin(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	const msgpack_object *v = only_arg(args, kwargs);
	volatile uint64_t iterations = 0;
	double micros, until;

	if (v == NULL || !number_arg(v, &micros) || !isfinite(micros) ||
	    micros < 0)
		return jobs_refuse(job,
		    "spin takes one number of microseconds >= 0");
	until = monotonic_now() + micros / 1e6;
	/* Read the clock every 1024 iterations: cheap, and a spin ends at most that many late. */
	do {
		for (int i = 0; i < 1024; i++)
			iterations++;
	} while (monotonic_now() < until);
	msgpack_pack_uint64(lp_job_result(job), iterations);
	return 0;
}

/*
 * exec forks: it runs on processes only, never on a thread of the daemon.
 * What its program leaves is the spawner's to kill, not the worker's.
 */
const struct lp_job_function builtin_functions[] = {
	{ "echo", job_echo, LP_JOB_THREAD_SAFE | JOB_NO_PROCESSES },
	{ "sleep", job_sleep, LP_JOB_THREAD_SAFE | JOB_NO_PROCESSES },
	{ "spin", job_spin, LP_JOB_THREAD_SAFE | JOB_NO_PROCESSES },
	{ EXEC_FUNCTION, job_exec, JOB_NO_PROCESSES },
	{ NULL, NULL, 0 },
};
