/* SPDX-License-Identifier: ISC */
/*
 * The job-module ABI of leasepoold: how to give the daemon functions of
 * your own.  leasepool-job(3) is the manual page, with a complete example.
 *
 * A job module is a shared object that exports one table, named by
 * LP_JOB_MODULE_SYMBOL:
 *
 *	static int
 *	add(struct lp_job *job, const msgpack_object *args, const msgpack_object *kwargs)
 *	{
 *		const msgpack_object *a = args->via.array.ptr;
 *
 *		if (args->via.array.size != 2 ||
 *		    a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
 *		    a[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
 *			return lp_job_fail(job, "add takes two integers >= 0");
 *		msgpack_pack_uint64(lp_job_result(job), a[0].via.u64 + a[1].via.u64);
 *		return 0;
 *	}
 *
 *	static const struct lp_job_function functions[] = {
 *		{ "add", add, LP_JOB_THREAD_SAFE },
 *		{ NULL, NULL, 0 },
 *	};
 *
 *	const struct lp_job_module leasepool_job_module = {
 *		.abi_version = LP_JOB_ABI_VERSION,
 *		.name = "arith",
 *		.functions = functions,
 *	};
 *
 * Build it with `cc -shared -fPIC -o arith.so arith.c $(pkg-config --cflags
 * msgpack)`, list its absolute path in `[daemon] modules = ...`, and clients
 * run "arith.add".  The daemon loads every module at start-up (a module it
 * cannot use stops the start, and `leasepoold -t` reports it), before it
 * forks any worker, so every worker inherits them.
 *
 * Calls: a function receives its positional args as a msgpack array and its
 * keyword args as a msgpack map, both already checked to be of those types
 * (empty when the client sent none).  These objects, and every string, bin
 * and nested object inside them, belong to the daemon and are valid only
 * during the call: copy what must outlive it.  A function then does exactly
 * one of:
 *  - packs exactly one msgpack object (a map or an array counts as one,
 *    whatever it holds) with the packer lp_job_result() returns, and returns
 *    0: the client receives those bytes as the result;
 *  - calls lp_job_fail() and returns what it returns (-1): the client gets
 *    JOB_FAILED with that message, and anything packed is discarded.
 * Packing no object, or more than one, or returning non-zero without a
 * message, is a bug of the module: the client gets JOB_FAILED naming the
 * function.  On a process pool, a function that crashes or calls exit()
 * takes its worker with it: the client gets WORKER_CRASHED and the daemon
 * starts another worker; one that runs past its timeout is killed with
 * everything it started (JOB_TIMEOUT).
 *
 * Processes: each worker is a process that runs one job at a time, so a
 * function may block, keep global state between jobs (per worker, not
 * shared between workers) and call non-reentrant code.  What it writes to
 * stdout or stderr goes to the daemon's log, tagged with the worker.  A
 * worker keeps no process between jobs: what a function (or init) started
 * and still runs when it returns is killed, with all it started in turn,
 * even in a session of its own; a function that needs a process waits for
 * it.
 *
 * Threads: on a pool with backend = thread, workers are threads of the
 * daemon itself, and only functions flagged LP_JOB_THREAD_SAFE may run
 * there (others are refused with INVALID_ARGUMENT).  Such a function runs
 * inside the daemon: a crash there takes the daemon down, and a thread
 * cannot be killed, so one past its timeout is answered JOB_TIMEOUT at
 * once while its thread stays busy until the function returns.
 */
#ifndef LEASEPOOL_JOB_H
#define LEASEPOOL_JOB_H

#include <msgpack.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The version of this ABI: a module records the one it was built for in
 * its table, and the daemon refuses a module of another version.
 */
#define LP_JOB_ABI_VERSION 1

/* The name of the table every module exports. */
#define LP_JOB_MODULE_SYMBOL "leasepool_job_module"

/*
 * lp_job_function.flags: the function may run concurrently with itself
 * and with the module's other functions on several threads of one process
 * (no unguarded global state, only reentrant calls).  Thread pools run
 * only functions that carry it; process pools run every function.  Set it
 * only on functions that deserve it, and that cannot crash.
 */
#define LP_JOB_THREAD_SAFE 0x1

/* The job in progress: opaque, and valid only during the call. */
struct lp_job;

typedef int lp_job_fn(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs);

/*
 * The packer for the one result object.  Use it during the call only; the
 * daemon owns the buffer behind it.
 */
msgpack_packer *lp_job_result(struct lp_job *job);

/*
 * Makes the job fail with a printf-formatted message (cut at 511 bytes;
 * any byte that is not UTF-8, or of a character the cut split, is sent as
 * '?'), which the client receives with JOB_FAILED; returns -1, so a
 * function can `return lp_job_fail(job, "...")`.  A later call replaces
 * the message.
 */
int lp_job_fail(struct lp_job *job, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct lp_job_function {
	/*
	 * "count": clients call "MODULE.count".  Letters, digits, '_' and
	 * '-'; with the module's name and the dot, 255 bytes at most.
	 */
	const char *name;
	lp_job_fn *fn;
	unsigned flags; /* LP_JOB_THREAD_SAFE, or 0; other bits must be 0 */
};

struct lp_job_module {
	unsigned abi_version; /* LP_JOB_ABI_VERSION */
	/*
	 * The prefix of its functions' names: 1 to 64 letters, digits, '_'
	 * and '-' (no '.', which separates MODULE from FUNCTION).  Unique
	 * among the daemon's modules.
	 */
	const char *name;
	/* At least one function; ended by an entry whose name is NULL.  Unique names. */
	const struct lp_job_function *functions;
	/*
	 * Optional (may be NULL).  Called once in each worker process after
	 * it starts and before its first job, in the order the modules are
	 * configured: the place to open files, seed generators or warm
	 * caches, per worker.  Non-zero means this worker cannot work: it
	 * exits, and the daemon treats that as a failed start (it retries
	 * with a growing delay, and when every start fails it logs a crash
	 * loop and acquires on the pool fail with UNAVAILABLE).  Never called
	 * in the daemon's own process.
	 */
	int (*init)(void);
	/*
	 * Optional.  Called when a worker exits normally (the daemon stops,
	 * or replaces an idle worker); not after a crash, a kill or a failed
	 * init.
	 */
	void (*fini)(void);
};

/*
 * The name of a msgpack type, for messages such as "count takes an
 * integer, got a string".
 */
static inline const char *
lp_job_type_name(msgpack_object_type type)
{
	switch (type) {
	case MSGPACK_OBJECT_NIL:
		return "nil";
	case MSGPACK_OBJECT_BOOLEAN:
		return "a boolean";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return "an integer";
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return "a float";
	case MSGPACK_OBJECT_STR:
		return "a string";
	case MSGPACK_OBJECT_BIN:
		return "a bin";
	case MSGPACK_OBJECT_ARRAY:
		return "an array";
	case MSGPACK_OBJECT_MAP:
		return "a map";
	case MSGPACK_OBJECT_EXT:
		return "an ext";
	}
	return "an unknown type";
}

/*
 * What every module defines (this declaration lets the compiler check its
 * type):
 *	const struct lp_job_module leasepool_job_module = { ... };
 */
extern const struct lp_job_module leasepool_job_module;

#ifdef __cplusplus
}
#endif
#endif
