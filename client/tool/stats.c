/* SPDX-License-Identifier: ISC */
/*
 * stats: the daemon's statistics, as a table for people, as JSON for
 * scripts, or in the Prometheus text format for the node exporter's
 * textfile collector (the same text as the daemon's metrics endpoint).
 */
#include <getopt.h>

#include "client/tool/tool.h"
#include "proto/prometheus.h"

static int
to_stdout(void *arg, const char *text, size_t len)
{
	return fwrite(text, 1, len, stdout) == len ? 0 : -1;
}

int
cmd_stats(struct tool *t, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct lp_value *v;
	struct lp_error err;
	bool as_json = false, as_prometheus = false;
	json_t *stats;
	int ch, rc;

	optind = 0; /* glibc: start afresh on this vector */
	while ((ch = getopt_long(argc, argv, "+:", options, NULL)) != -1) {
		if (ch == 'j')
			as_json = true;
		else if (ch == 'P')
			as_prometheus = true;
		else
			return usage_error("stats: unknown option '%s'",
			    argv[optind - 1]);
	}
	if (optind != argc)
		return usage_error(
		    "stats takes no arguments but --json or --prometheus");
	if (as_json && as_prometheus)
		return usage_error("stats: --json or --prometheus, not both");
	if ((rc = tool_connect(t)) != TOOL_OK)
		return rc;
	if (lp_stats(t->client, t->acquire.pool, &v, &err) != LP_OK)
		return report(&err);
	if (as_prometheus) {
		/* A write error is reported by main's last flush of stdout. */
		if (lp_prometheus_write(lp_value_object(v), to_stdout, NULL) ==
			-1 &&
		    !ferror(stdout)) {
			fprintf(stderr,
			    "leasepool: %s: stats: the answer is not a map\n",
			    lp_err_name(LP_ERR_PROTOCOL));
			rc = TOOL_BROKEN;
		}
		lp_value_free(v);
		return rc;
	}
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
