/* SPDX-License-Identifier: ISC */
/*
 * The thread backend: each executor of a `backend = thread` pool is
 * `workers` threads of the daemon, for jobs that mostly wait (I/O), where
 * a waiting job should cost a thread, not a process.  Only functions that
 * carry LP_JOB_THREAD_SAFE run here (dispatch.c refuses the others).
 *
 * The lease state never leaves the event loop: the loop queues an
 * executor's runs and hands a run, or a batch of the grinder, to an idle
 * thread; the thread runs it on its own copy of the jobs and posts one
 * completion per item to a list the loop drains when an eventfd says so.
 * A job past its timeout is answered JOB_TIMEOUT at once, but a thread
 * cannot be killed: its slot stays busy ("stuck", counted in stats) until
 * the function returns, and what it returns then is dropped.  A job that
 * crashes takes the daemon with it: that is the price of running in it.
 *
 * Stats show a thread pool's workers as thread numbers within their
 * executor, 0 to workers - 1.
 */
#ifndef LP_DAEMON_THREADPOOL_H
#define LP_DAEMON_THREADPOOL_H

#include "daemon/backend/backend.h"

/* The thread backend's operations (backend.h). */
extern const struct backend_ops threadpool_ops;

/*
 * After stop(): threads that were still inside a job function and were
 * left running (detached), since nothing can make them return.  While
 * any is, the job modules must stay loaded: their code is still running.
 */
unsigned threadpool_abandoned(void);

#endif
