/* SPDX-License-Identifier: ISC */
/*
 * ping: is the daemon there, what is it, and how long does an answer take.
 * A pool that allows exec is marked so; the program of a pool whose
 * workers run one is named.
 */
#include <stdio.h>
#include <string.h>

#include "client/tool/tool.h"

static bool
json_array_has(json_t *list, const char *text)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
	{
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), text) == 0)
			return true;
	}
	return false;
}

/* "title: a b c", each word marked "(mark)" when it is in marked too. */
static void
print_list(const char *title, json_t *list, json_t *marked, const char *mark)
{
	json_t *v;
	size_t i;

	printf("%s:", title);
	json_array_foreach(list, i, v)
	{
		printf(" %s", json_string_value(v));
		if (json_array_has(marked, json_string_value(v)))
			printf(" (%s)", mark);
	}
	putchar('\n');
}

/* "worker program of POOL: PROGRAM", a line each; an older daemon sends none. */
static void
print_programs(json_t *programs)
{
	const char *pool;
	json_t *v;

	json_object_foreach(programs, pool, v)
	    printf("worker program of %s: %s\n", pool, json_string_value(v));
}

static void
print_hello(json_t *hello, const char *socket, double seconds)
{
	printf("%s on %s: protocol %" JSON_INTEGER_FORMAT
	       ", pid %" JSON_INTEGER_FORMAT ", time %.3f ms\n",
	    json_string_value(json_object_get(hello, "server")), socket,
	    json_integer_value(json_object_get(hello, "protocol")),
	    json_integer_value(json_object_get(hello, "pid")), seconds * 1e3);
	print_list("pools", json_object_get(hello, "pools"),
	    json_object_get(hello, "exec_pools"), "exec");
	print_list("functions", json_object_get(hello, "functions"), NULL,
	    NULL);
	print_programs(json_object_get(hello, "worker_programs"));
}

int
cmd_ping(struct tool *t, int argc, char **argv)
{
	struct lp_value *v;
	struct lp_error err;
	double started, seconds;
	json_t *hello;
	int rc;

	if (argc > 1)
		return usage_error("ping takes no arguments");
	if ((rc = tool_connect(t)) != TOOL_OK)
		return rc;
	started = monotonic();
	if (lp_hello(t->client, "leasepool ping", &v, &err) != LP_OK)
		return report(&err);
	seconds = monotonic() - started;
	hello = json_from_msgpack(lp_value_object(v));
	lp_value_free(v);
	if (hello == NULL)
		return report_oom();
	print_hello(hello, t->socket != NULL ? t->socket : lp_default_socket(),
	    seconds);
	json_decref(hello);
	return TOOL_OK;
}
