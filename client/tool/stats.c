/* stats: the daemon's statistics, as a table for people or as JSON for scripts. */
#include <getopt.h>

#include "client/tool/tool.h"

int
cmd_stats(struct tool *t, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct lp_value *v;
	struct lp_error err;
	bool as_json = false;
	json_t *stats;
	int ch, rc;

	optind = 0;	/* glibc: start afresh on this vector */
	while ((ch = getopt_long(argc, argv, "+:", options, NULL)) != -1) {
		if (ch != 'j')
			return usage_error("stats: unknown option '%s'", argv[optind - 1]);
		as_json = true;
	}
	if (optind != argc)
		return usage_error("stats takes no arguments but --json");
	if ((rc = tool_connect(t)) != TOOL_OK)
		return rc;
	if (lp_stats(t->client, t->acquire.pool, &v, &err) != LP_OK)
		return report(&err);
	stats = json_from_msgpack(lp_value_object(v));
	lp_value_free(v);
	if (stats == NULL)
		return report_oom();
	if (as_json)
		rc = print_json(stats, JSON_INDENT(2));
	else
		stats_table(stdout, stats);
	json_decref(stats);
	return rc;
}
