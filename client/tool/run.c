/* SPDX-License-Identifier: ISC */
/*
 * run: acquire, run one job, release.  submit: one job through the daemon's
 * grinder, without a lease.  Both print the job's result as one line of
 * JSON on stdout.
 */
#include "client/tool/tool.h"

typedef enum lp_err job_caller(struct tool *, const char *fn,
    const struct lp_args *, struct lp_value **, struct lp_error *);

static enum lp_err
submit(struct tool *t, const char *fn, const struct lp_args *args,
    struct lp_value **result, struct lp_error *err)
{
	struct job job;

	job_begin(&job);
	if (lp_submit_start(t->client, t->acquire.pool, fn, args, job_answered,
		&job, &job.call, err) != LP_OK)
		return err->code;
	return job_wait(t, &job, result, err);
}

static int
print_result(struct lp_value *v)
{
	json_t *j = json_from_msgpack(lp_value_object(v));
	int rc;

	lp_value_free(v);
	if (j == NULL)
		return report_oom();
	rc = print_json(j, JSON_COMPACT);
	json_decref(j);
	return rc;
}

static int
call_job(struct tool *t, int argc, char **argv, job_caller *call)
{
	struct lp_args *args;
	struct lp_value *v;
	struct lp_error err;
	const char *fn;
	int rc;

	if ((rc = job_call(argc, argv, &fn, &args)) != TOOL_OK)
		return rc;
	tool_owner(t, argv[0], fn);
	if ((rc = tool_connect(t)) == TOOL_OK) {
		if (call(t, fn, args, &v, &err) == LP_OK)
			rc = print_result(v);
		else
			rc = report(&err);
	}
	lp_args_free(args);
	return rc;
}

int
cmd_run(struct tool *t, int argc, char **argv)
{
	return call_job(t, argc, argv, lease_and_run);
}

int
cmd_submit(struct tool *t, int argc, char **argv)
{
	return call_job(t, argc, argv, submit);
}
