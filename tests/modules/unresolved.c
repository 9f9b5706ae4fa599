/* SPDX-License-Identifier: ISC */
/*
 * unresolved: calls a function nothing defines.  The daemon loads modules
 * with RTLD_NOW, so this stops the start instead of killing a worker later.
 */
#include <leasepool/job.h>

int lp_job_no_such_function(struct lp_job *job);

static int
job_noop(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	return lp_job_no_such_function(job);
}

static const struct lp_job_function functions[] = {
	{ "noop", job_noop, 0 },
	{ NULL, NULL, 0 },
};

const struct lp_job_module leasepool_job_module = {
	.abi_version = LP_JOB_ABI_VERSION,
	.name = "unresolved",
	.functions = functions,
};
