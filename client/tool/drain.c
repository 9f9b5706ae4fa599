/* SPDX-License-Identifier: ISC */
/*
 * drain: the pool (-p) or every pool grants no more leases, while the
 * leases held run to their end; resume: they grant again.  Both say which
 * pools, and how many executors are still leased: 0 means drained.
 */
#include "client/tool/tool.h"

static int
pool_state(struct tool *t, int argc, char **argv, const char *state)
{
	json_t *r, *name;
	size_t i;
	int rc;

	if (argc > 1)
		return usage_error(
		    "%s takes no arguments (-p names one pool, else every pool)",
		    argv[0]);
	if ((rc = tool_call(t, argv[0], t->acquire.pool, &r)) != TOOL_OK)
		return rc;
	json_array_foreach(json_object_get(r, "pools"), i, name)
	    printf("%s%s", i > 0 ? ", " : "pools ", json_string_value(name));
	printf(": %s; %" JSON_INTEGER_FORMAT " executors leased\n", state,
	    json_integer_value(json_object_get(r, "leased")));
	json_decref(r);
	return TOOL_OK;
}

int
cmd_drain(struct tool *t, int argc, char **argv)
{
	return pool_state(t, argc, argv,
	    "draining (no new lease until resumed)");
}

int
cmd_resume(struct tool *t, int argc, char **argv)
{
	return pool_state(t, argc, argv, "granting leases");
}
