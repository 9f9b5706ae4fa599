/* SPDX-License-Identifier: ISC */
/*
 * Job arguments from the command line: [--kw key=value]... and then
 * positional words.  Options stop at the first word that is not one, so
 * every word after it is a value, "-5" and "--kw" included.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "client/tool/tool.h"

/* Adds one value, JSON or plain text, as the next arg, or as kwarg key when key is set. */
static int
job_value(struct lp_args *a, const char *key, const char *text)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rc = TOOL_OK;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (json_pack_arg(&pk, text) != 0)
		rc = report_oom();
	else if (key != NULL)
		lp_kwargs_raw(a, key, sb.data, sb.size);
	else
		lp_args_raw(a, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

static int
add_kwarg(struct lp_args *a, const char *command, const char *spec)
{
	const char *eq = strchr(spec, '=');
	char *key;
	int rc;

	if (eq == NULL || eq == spec)
		return usage_error("%s: --kw takes key=value, not '%s'",
		    command, spec);
	if ((key = strndup(spec, (size_t)(eq - spec))) == NULL)
		return report_oom();
	rc = job_value(a, key, eq + 1);
	free(key);
	return rc;
}

/*
 * Reads the --kw options of argv (argv[0] names the command) into a new
 * *args; *first gets the index of the first word after them.
 */
static int
job_options(int argc, char **argv, struct lp_args **args, int *first)
{
	static const struct option options[] = {
		{ "kw", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct lp_args *a;
	int ch, rc = TOOL_OK;

	if ((a = lp_args_new()) == NULL)
		return report_oom();
	optind = 0; /* glibc: start afresh on this vector */
	while (rc == TOOL_OK &&
	    (ch = getopt_long(argc, argv, "+:", options, NULL)) != -1) {
		if (ch == 'k')
			rc = add_kwarg(a, argv[0], optarg);
		else
			rc = usage_error(
			    "%s: unknown option or missing value: '%s'",
			    argv[0], argv[optind - 1]);
	}
	if (rc != TOOL_OK) {
		lp_args_free(a);
		return rc;
	}
	*args = a;
	*first = optind;
	return TOOL_OK;
}

/* run and submit: [--kw key=value]... fn [arg...]. */
int
job_call(int argc, char **argv, const char **fn, struct lp_args **args)
{
	int first = 0, rc;

	if ((rc = job_options(argc, argv, args, &first)) != TOOL_OK)
		return rc;
	if (first == argc) {
		lp_args_free(*args);
		return usage_error("%s needs a function name", argv[0]);
	}
	*fn = argv[first];
	for (int i = first + 1; rc == TOOL_OK && i < argc; i++)
		rc = job_value(*args, NULL, argv[i]);
	if (rc != TOOL_OK)
		lp_args_free(*args);
	return rc;
}
