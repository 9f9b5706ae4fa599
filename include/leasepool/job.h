/*
 * The job-module ABI of leasepoold.
 *
 * A job function receives its positional args (a msgpack array) and keyword
 * args (a msgpack map) and either packs exactly one result object with the
 * packer that lp_job_result() returns and returns 0, or calls lp_job_fail()
 * and returns its -1: the client then gets JOB_FAILED with that message.
 *
 *	static int
 *	add(struct lp_job *job, const msgpack_object *args, const msgpack_object *kwargs)
 *	{
 *		if (args->via.array.size != 2)
 *			return lp_job_fail(job, "add takes two integers");
 *		msgpack_pack_int64(lp_job_result(job),
 *		    args->via.array.ptr[0].via.i64 + args->via.array.ptr[1].via.i64);
 *		return 0;
 *	}
 *
 * Functions run in pre-forked worker processes: one job at a time per
 * process, so they may block, use global state and call non-reentrant code.
 */
#ifndef LEASEPOOL_JOB_H
#define LEASEPOOL_JOB_H

#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LP_JOB_ABI_VERSION 1

struct lp_job;

typedef int lp_job_fn(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs);

/* The packer for the one result object. */
msgpack_packer *lp_job_result(struct lp_job *job);

/* Reports failure with a printf-formatted message; returns -1. */
int lp_job_fail(struct lp_job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct lp_job_function {
	const char *name;	/* "count": clients call "MODULE.count" */
	lp_job_fn *fn;
	unsigned flags;		/* reserved; 0 */
};

#ifdef __cplusplus
}
#endif
#endif
