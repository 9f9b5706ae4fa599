/* SPDX-License-Identifier: ISC */
/* dupfunc: one function name listed twice. */
#include <leasepool/job.h>

static int
job_noop(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	msgpack_pack_nil(lp_job_result(job));
	return 0;
}

static const struct lp_job_function functions[] = {
	{ "noop", job_noop, 0 },
	{ "other", job_noop, 0 },
	{ "noop", job_noop, 0 },
	{ NULL, NULL, 0 },
};

const struct lp_job_module leasepool_job_module = {
	.abi_version = LP_JOB_ABI_VERSION,
	.name = "dupfunc",
	.functions = functions,
};
