/*
 * The job registry: every function the daemon can run, by name.  The
 * built-ins live in builtins.c.
 */
#ifndef LP_DAEMON_JOBS_H
#define LP_DAEMON_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <msgpack.h>

#include "leasepool/job.h"

struct lp_job {
	msgpack_sbuffer result;
	msgpack_packer packer;
	bool failed;
	char message[512];
};

/* The function named name (len bytes), or NULL. */
const struct lp_job_function *jobs_find(const char *name, size_t len);

/* Calls f with args and kwargs (nil objects stand for [] and {}). */
void jobs_call(const struct lp_job_function *f, struct lp_job *job,
    const msgpack_object *args, const msgpack_object *kwargs);

void jobs_init(struct lp_job *job);
void jobs_reset(struct lp_job *job);
void jobs_destroy(struct lp_job *job);

size_t jobs_count(void);
const char *jobs_name(size_t i);

extern const struct lp_job_function builtin_functions[];

#endif
