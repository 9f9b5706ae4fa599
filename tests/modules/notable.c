/* SPDX-License-Identifier: ISC */
/* notable: a module whose table has a misspelt name, so the daemon finds none. */
#include <leasepool/job.h>

const struct lp_job_module leasepool_job_modul;

static int
job_noop(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	msgpack_pack_nil(lp_job_result(job));
	return 0;
}

static const struct lp_job_function functions[] = {
	{ "noop", job_noop, 0 },
	{ NULL, NULL, 0 },
};

const struct lp_job_module leasepool_job_modul = {
	.abi_version = LP_JOB_ABI_VERSION,
	.name = "notable",
	.functions = functions,
};
