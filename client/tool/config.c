/* SPDX-License-Identifier: ISC */
/*
 * config: the running daemon's effective configuration, every key, in the
 * file's own form (what leasepoold -t prints for a file), or as JSON.
 */
#include <getopt.h>

#include "client/tool/tool.h"

/* An empty value without a blank after the '=': still "key =" for the file's parser. */
static void
config_line(const char *key, const char *value)
{
	printf("%s =%s%s\n", key, *value != '\0' ? " " : "", value);
}

static void
print_section(const char *header, json_t *keys)
{
	const char *key;
	json_t *value;

	printf("%s\n", header);
	json_object_foreach(keys, key, value)
	    config_line(key, json_string_value(value));
}

static void
print_ini(json_t *cfg)
{
	char header[128];
	const char *name;
	json_t *pool;

	printf("# the configuration of a running leasepoold, from %s\n",
	    json_string_value(json_object_get(cfg, "source")));
	print_section("[daemon]", json_object_get(cfg, "daemon"));
	json_object_foreach(json_object_get(cfg, "pools"), name, pool)
	{
		snprintf(header, sizeof header, "\n[pool %s]", name);
		print_section(header, pool);
	}
}

int
cmd_config(struct tool *t, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	bool as_json = false;
	json_t *cfg;
	int ch, rc;

	optind = 0; /* glibc: start afresh on this vector */
	while ((ch = getopt_long(argc, argv, "+:", options, NULL)) != -1) {
		if (ch != 'j')
			return usage_error("config: unknown option '%s'",
			    argv[optind - 1]);
		as_json = true;
	}
	if (optind != argc)
		return usage_error("config takes no arguments but --json");
	if ((rc = tool_call(t, "config", NULL, &cfg)) != TOOL_OK)
		return rc;
	if (as_json)
		rc = print_json(cfg, JSON_INDENT(2));
	else
		print_ini(cfg);
	json_decref(cfg);
	return rc;
}
