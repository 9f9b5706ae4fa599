/* SPDX-License-Identifier: ISC */
/*
 * marker: a module whose constructor leaves PATH.loaded next to its own
 * file PATH, so a test can tell whether anything dlopen()ed it, which runs
 * the constructor before the daemon sees the module's table.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include <leasepool/job.h>

static __attribute__((constructor)) void
leave_mark(void)
{
	char mark[PATH_MAX];
	Dl_info self;
	int fd;

	if (dladdr((void *)leave_mark, &self) == 0 || self.dli_fname == NULL)
		return;
	snprintf(mark, sizeof mark, "%s.loaded", self.dli_fname);
	if ((fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) != -1)
		close(fd);
}

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

const struct lp_job_module leasepool_job_module = {
	.abi_version = LP_JOB_ABI_VERSION,
	.name = "marker",
	.functions = functions,
};
