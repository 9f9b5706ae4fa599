/*
 * The worker process: a plain blocking loop that reads a job, runs it and
 * writes the result.  Started by the fork server; never returns.
 */
#ifndef LP_DAEMON_WORKER_H
#define LP_DAEMON_WORKER_H

#include <stddef.h>

struct worker_limits {
	size_t max_job_bytes;		/* a job message larger than this is a daemon bug */
	size_t max_result_bytes;	/* larger results become LIMIT_EXCEEDED */
};

void worker_main(int fd, const struct worker_limits *limits) __attribute__((noreturn));

#endif
