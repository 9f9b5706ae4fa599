/* SPDX-License-Identifier: ISC */
/*
 * The worker process: a plain blocking loop that reads a job, runs it and
 * writes the result.  Started by the fork server; never returns.
 *
 * Its channel to the daemon is two pipes, one each way.  A pipe merges
 * small writes into one page and wakes its reader only when it was empty,
 * so a busy worker's results cost the daemon one read, not one socket
 * buffer each, and still outlive a worker that dies after writing them.
 */
#ifndef LP_DAEMON_WORKER_H
#define LP_DAEMON_WORKER_H

#include <stdint.h>

#include "daemon/core/config.h"

/* What a worker is told when it is forked: it travels in the spawn request. */
struct worker_limits {
	/* a job message larger than this is a daemon bug */
	uint64_t max_job_bytes;
	uint64_t max_result_bytes; /* larger results become LIMIT_EXCEEDED */
	uint64_t memory_limit;	   /* RLIMIT_AS; 0: none */
	/* bytes of stdout, and of stderr, an exec keeps */
	uint64_t exec_output_max;
	uint64_t sched_batch;  /* nonzero: run under SCHED_BATCH */
	uint64_t busy_poll_ns; /* how long it may poll for its next frame */
	/* nonzero: the pool allows exec, the worker forks a spawner */
	uint64_t exec;
	/*
	 * A worker_program's: the configured max_result_bytes, which it is
	 * told in its environment; 0 for the built-in worker, which is held
	 * to max_result_bytes above.
	 */
	uint64_t program_result_bytes;
	char pool[LP_POOL_NAME_MAX + 1];
	/* The pool's worker_program as configured; "": the built-in worker (worker_main). */
	char program[LP_PROGRAM_MAX];
};

void worker_main(int in, int out, const struct worker_limits *limits)
    __attribute__((noreturn));

#endif
