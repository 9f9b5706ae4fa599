/* SPDX-License-Identifier: ISC */
/*
 * The job registry: every function the daemon can run, by name: the
 * built-ins (builtins.c), then the functions of each job module (modules.c)
 * as "MODULE.FUNCTION".  It is filled in the main thread (the modules as
 * modules_load adds them at start-up, the built-ins then or on first use,
 * which is before any job can run) and only read afterwards; a lookup is a
 * binary search.
 */
#ifndef LP_DAEMON_JOBS_H
#define LP_DAEMON_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <msgpack.h>

#include "leasepool/job.h"
#include "leasepool/errors.h"

struct lp_job {
	msgpack_sbuffer result;
	msgpack_packer packer;
	bool failed;
	/* failed: JOB_FAILED, or INVALID_ARGUMENT (jobs_refuse) */
	enum lp_err error;
	bool out_of_memory; /* the result could not grow: it failed for that */
	char message[512];
};

/*
 * lp_job_function.flags of a built-in that leaves no process of the
 * worker's own: it starts none, or, as exec, through the spawner, which
 * kills what is left (spawner.h).  So a worker need not look for any
 * after it (modules cannot set it: modules.c refuses flags the ABI does
 * not define).
 */
#define JOB_NO_PROCESSES 0x100

/*
 * The function named name (len bytes, not NUL-terminated), or NULL.  The
 * name of what it returns is the full one ("primes.count").
 */
const struct lp_job_function *jobs_find(const char *name, size_t len);

/*
 * Adds the functions of a module as "MODULE.FUNCTION", at start-up only.
 * The caller has checked the names (modules.c); the registry keeps its own
 * copies of them.
 */
void jobs_add_module(const char *module,
    const struct lp_job_function *functions);

/* Forgets every module's functions and frees the registry (the built-ins come back). */
void jobs_clear(void);

/*
 * A built-in refuses its arguments: the run is answered INVALID_ARGUMENT,
 * as the daemon answers parameters it refuses, not JOB_FAILED.  Returns -1.
 */
int jobs_refuse(struct lp_job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Calls f with args and kwargs (nil objects stand for [] and {}). */
void jobs_call(const struct lp_job_function *f, struct lp_job *job,
    const msgpack_object *args, const msgpack_object *kwargs);

void jobs_init(struct lp_job *job);
void jobs_reset(struct lp_job *job);
void jobs_destroy(struct lp_job *job);

/* Every function, for hello: built-ins first, then the modules in load order. */
size_t jobs_count(void);
const char *jobs_name(size_t i);

extern const struct lp_job_function builtin_functions[];

#endif
