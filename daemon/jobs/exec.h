/* SPDX-License-Identifier: ISC */
/* The exec built-in (runs in a worker process). */
#ifndef LP_DAEMON_EXEC_H
#define LP_DAEMON_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "leasepool/job.h"
#include "proto/rpc.h"

#define EXEC_FUNCTION "exec"

/* fn is the exec built-in, which runs as the client that asked (struct run_job's as_caller). */
bool exec_is(struct lp_str fn);

/* The pool's exec_output_max, given to the worker when it starts. */
void exec_set_output_max(uint64_t bytes);

/* Whether a program of exec runs now: safe in a signal handler. */
bool exec_program_runs(void);

/*
 * Before each job: o is the [uid, gid, [groups]] the daemon added to an
 * exec's job (NULL: none).  False when it is malformed.
 */
bool exec_set_caller(const msgpack_object *o);

int job_exec(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs);

#endif
