/* SPDX-License-Identifier: ISC */
/*
 * leasepool(1): leasepoold from a shell.  main.c reads the command line and
 * dispatches; each command has its own file; json.c converts between the
 * JSON of the command line and the msgpack of the wire.
 */
#ifndef LP_TOOL_H
#define LP_TOOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "leasepool/leasepool.h"

/*
 * Exit statuses that scripts can rely on; usage() and
 * docs/leasepool-tool.md say the same.  exec passes the program's status
 * through and reports its own failures with the EXEC_ ones, as timeout(1)
 * does.
 */
enum tool_exit {
	TOOL_OK = 0,
	TOOL_JOB_FAILED = 1, /* the job's problem: failed, timed out, crashed */
	TOOL_USAGE = 2,
	TOOL_UNREACHABLE = 3, /* no daemon there, or it went away */
	TOOL_BUSY = 4,	      /* worth retrying later */
	TOOL_REFUSED = 5,     /* will never work as asked */
	TOOL_BROKEN = 6,      /* protocol or internal error */
	TOOL_DENIED = 7,      /* the daemon's socket is not ours to use */
	EXEC_TIMED_OUT = 124,
	TOOL_INTERRUPTED = 130, /* Ctrl-C: 128 + SIGINT, as a shell says it */
	EXEC_FAILED = 125,
	EXEC_CANNOT_START = 127,
};

/* The global options, and the connection once a command opened it. */
struct tool {
	const char *socket; /* NULL: $LEASEPOOL_SOCKET or the default */
	struct lp_acquire_opts acquire;
	double job_timeout; /* 0: the pool's */
	struct lp_client *client;
};

/* A command: argv[0] is its name; returns the exit status. */
typedef int tool_command(struct tool *, int argc, char **argv);

tool_command cmd_ping, cmd_stats, cmd_run, cmd_submit, cmd_exec;
tool_command cmd_reload, cmd_drain, cmd_resume, cmd_config;

/* main.c: prints the problem and the synopsis; returns TOOL_USAGE. */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* error.c */
enum tool_exit exit_status(enum lp_err code);
enum tool_exit report(const struct lp_error *err);
enum tool_exit report_oom(void);
enum tool_exit tool_connect(struct tool *t);

/* call.c: method called with {pool} when pool is given, else {}; returns an exit status. */
int tool_call(struct tool *t, const char *method, const char *pool,
    json_t **result);

/* cancel.c: a job that Ctrl-C cancels on the daemon. */
struct job {
	uint64_t call;
	bool done;
	struct lp_value *result;
	struct lp_error err;
};

/* job_begin, then lp_run_start or lp_submit_start(..., job_answered, job, &job->call, err). */
void job_begin(struct job *job);
lp_done_cb job_answered;
enum lp_err job_wait(struct tool *t, struct job *job, struct lp_value **result,
    struct lp_error *err);
/* main's last step: after a Ctrl-C, ends the tool by SIGINT; else returns status. */
int interrupt_exit(int status);

/* lease.c */
double monotonic(void);
void tool_owner(struct tool *t, const char *command, const char *name);
enum lp_err lease_and_run(struct tool *t, const char *fn,
    const struct lp_args *args, struct lp_value **result, struct lp_error *err);

/* args.c: [--kw key=value]... fn [arg...]; returns an exit status. */
int job_call(int argc, char **argv, const char **fn, struct lp_args **args);

/* json.c */
int json_pack_arg(msgpack_packer *pk, const char *text);
json_t *json_from_msgpack(const msgpack_object *o);
char *json_text(json_t *j, size_t flags);
int print_json(json_t *j, size_t flags);

/* base64.c */
char *base64_encode(const void *data, size_t len);
void *base64_decode(const char *text, size_t len, size_t *outlen);

/* table.c */
void stats_table(FILE *f, json_t *stats);

#endif
