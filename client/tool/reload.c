/* SPDX-License-Identifier: ISC */
/* reload: the daemon reads its configuration file again, as on SIGHUP, and says what changed. */
#include "client/tool/tool.h"

int
cmd_reload(struct tool *t, int argc, char **argv)
{
	json_t *r;
	json_int_t restart;
	int rc;

	if (argc > 1)
		return usage_error("reload takes no arguments");
	if ((rc = tool_call(t, "reload", NULL, &r)) != TOOL_OK)
		return rc;
	restart = json_integer_value(json_object_get(r, "restart"));
	printf("reloaded %s: %" JSON_INTEGER_FORMAT " keys changed",
	    json_string_value(json_object_get(r, "source")),
	    json_integer_value(json_object_get(r, "changed")));
	if (restart > 0)
		printf(", %" JSON_INTEGER_FORMAT
		       " wait for a restart (the daemon's log names "
		       "them)",
		    restart);
	putchar('\n');
	json_decref(r);
	return TOOL_OK;
}
