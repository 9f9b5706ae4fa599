/* The exec built-in (runs in a worker process). */
#ifndef LP_DAEMON_EXEC_H
#define LP_DAEMON_EXEC_H

#include <stdint.h>

#include "leasepool/job.h"

#define EXEC_FUNCTION "exec"

/* The pool's exec_output_max, given to the worker when it starts. */
void exec_set_output_max(uint64_t bytes);

int job_exec(struct lp_job *job, const msgpack_object *args, const msgpack_object *kwargs);

#endif
