/*
 * The one lease that run and exec need: acquired with the command line's
 * options, used for one run, released.
 */
#include <stdio.h>
#include <string.h>

#include "client/tool/tool.h"
#include "proto/text.h"

/* PROTOCOL.md: an owner label holds at most 128 bytes. */
#define OWNER_MAX 128

/* Without -o, stats shows the lease as "leasepool run echo". */
void
tool_owner(struct tool *t, const char *command, const char *name)
{
	static char owner[OWNER_MAX + 1];

	if (t->acquire.owner != NULL)
		return;
	snprintf(owner, sizeof owner, "leasepool %s %s", command, name);
	/* The daemon takes UTF-8 only; a program's path need not be, nor stay whole when cut. */
	lp_utf8_repair(owner, strlen(owner));
	t->acquire.owner = owner;
}

enum lp_err
lease_and_run(struct tool *t, const char *fn, const struct lp_args *args,
    struct lp_value **result, struct lp_error *err)
{
	struct lp_lease lease;
	enum lp_err rc;

	if ((rc = lp_acquire(t->client, &t->acquire, &lease, err)) != LP_OK)
		return rc;
	rc = lp_run_timeout(t->client, lease.id, fn, args, t->job_timeout, result, err);
	/* Nothing to report: the lease is gone either way, and the run's outcome is what counts. */
	lp_release(t->client, lease.id, NULL);
	return rc;
}
