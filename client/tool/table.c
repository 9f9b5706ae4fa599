/* SPDX-License-Identifier: ISC */
/*
 * The stats table for people: a line about the daemon; per pool, a row for
 * its executors, one for its counters (runs cancelled among them, before
 * they started and while they ran) and one for its grinder; a row per
 * live lease.  Columns are as wide as their widest cell; numbers align on
 * the right.  A reader who is not root or the daemon's user is shown only
 * its own leases, and a count of the others'.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/tool/tool.h"
#include "proto/plural.h"

struct column {
	const char *title;
	bool number;
};

struct table {
	const struct column *cols;
	size_t ncols;
	char **cells; /* row after row; NULL where memory ran out */
	size_t ncells;
	size_t cap;
};

static void table_cell(struct table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
table_cell(struct table *t, const char *fmt, ...)
{
	char **grown, *cell;
	va_list ap;

	if (t->ncells == t->cap) {
		size_t cap = t->cap == 0 ? 64 : t->cap * 2;

		if ((grown = realloc(t->cells, cap * sizeof *grown)) == NULL)
			return;
		t->cells = grown;
		t->cap = cap;
	}
	va_start(ap, fmt);
	if (vasprintf(&cell, fmt, ap) == -1)
		cell = NULL;
	va_end(ap);
	t->cells[t->ncells++] = cell;
}

static void
print_row(FILE *f, const struct table *t, const size_t *width,
    char *const *cells, bool titles)
{
	for (size_t c = 0; c < t->ncols; c++) {
		const char *text = titles ? t->cols[c].title : cells[c];
		int w =
		    c + 1 < t->ncols || t->cols[c].number ? (int)width[c] : 0;

		fprintf(f, t->cols[c].number ? "%*s" : "%-*s", w,
		    text != NULL ? text : "");
		fputs(c + 1 < t->ncols ? "  " : "\n", f);
	}
}

/* Each column as wide as its widest cell, title included; NULL without memory. */
static size_t *
table_widths(const struct table *t, size_t rows)
{
	size_t *width = calloc(t->ncols, sizeof *width);

	for (size_t c = 0; width != NULL && c < t->ncols; c++)
		width[c] = strlen(t->cols[c].title);
	for (size_t i = 0; width != NULL && i < rows * t->ncols; i++) {
		size_t len = t->cells[i] != NULL ? strlen(t->cells[i]) : 0;

		if (len > width[i % t->ncols])
			width[i % t->ncols] = len;
	}
	return width;
}

/*
 * Prints the table and frees its cells.  Short of memory it prints less: a
 * row cut short is left out, a cell that could not be made is blank.
 */
static void
table_print(FILE *f, struct table *t)
{
	size_t rows = t->ncells / t->ncols, *width = table_widths(t, rows);

	if (width != NULL) {
		print_row(f, t, width, NULL, true);
		for (size_t r = 0; r < rows; r++)
			print_row(f, t, width, t->cells + r * t->ncols, false);
	}
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(width);
}

/* A member by dotted path ("executors.total"), or NULL. */
static json_t *
member(json_t *o, const char *path)
{
	while (o != NULL && *path != '\0') {
		size_t len = strcspn(path, ".");

		o = json_object_getn(o, path, len);
		path += len + (path[len] == '.');
	}
	return o;
}

static json_int_t
number(json_t *o, const char *path)
{
	return json_integer_value(member(o, path));
}

static const char *
text(json_t *o, const char *path)
{
	const char *s = json_string_value(member(o, path));

	return s != NULL ? s : "-";
}

/* 4.2s, 3m07s, 5h02m, 2d07h: precise when short, readable when long. */
static const char *
duration(json_t *o, const char *path, char *buf, size_t size)
{
	double s = json_number_value(member(o, path));
	long whole = (long)s;

	if (s < 60)
		snprintf(buf, size, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, size, "%ldm%02lds", whole / 60, whole % 60);
	else if (s < 86400)
		snprintf(buf, size, "%ldh%02ldm", whole / 3600,
		    whole / 60 % 60);
	else
		snprintf(buf, size, "%ldd%02ldh", whole / 86400,
		    whole / 3600 % 24);
	return buf;
}

static void
print_daemon(FILE *f, json_t *s)
{
	json_int_t conns = number(s, "connections"),
		   runs = number(s, "runs_in_flight");
	char up[32];

	fprintf(f,
	    "leasepoold %s, pid %" JSON_INTEGER_FORMAT
	    ", up %s, %" JSON_INTEGER_FORMAT
	    " connection%s, %" JSON_INTEGER_FORMAT " run%s in flight%s\n",
	    text(s, "version"), number(s, "pid"),
	    duration(s, "uptime", up, sizeof up), conns, lp_plural(conns), runs,
	    lp_plural(runs),
	    json_is_true(member(s, "stopping")) ? ", stopping" : "");
}

static void
print_executors(FILE *f, json_t *pools)
{
	static const struct column cols[] = {
		{ "POOL", false },
		{ "BACKEND", false },
		{ "WORKERS", true },
		{ "EXECUTORS", true },
		{ "MIN-MAX", true },
		{ "FREE", true },
		{ "LEASED", true },
		{ "STARTING", true },
		{ "WAITING", true },
		{ "RUNNING", true },
	};
	struct table t = { cols, sizeof cols / sizeof cols[0], NULL, 0, 0 };
	const char *name;
	json_t *p;

	json_object_foreach(pools, name, p)
	{
		table_cell(&t, "%s%s%s", name,
		    json_is_true(member(p, "failing")) ?
			" (cannot start workers)" :
			"",
		    json_is_true(member(p, "draining")) ? " (draining)" : "");
		table_cell(&t, "%s", text(p, "backend"));
		table_cell(&t, "%" JSON_INTEGER_FORMAT, number(p, "workers"));
		table_cell(&t, "%" JSON_INTEGER_FORMAT,
		    number(p, "executors.total"));
		table_cell(&t, "%" JSON_INTEGER_FORMAT "-%" JSON_INTEGER_FORMAT,
		    number(p, "executors.min"), number(p, "executors.max"));
		table_cell(&t, "%" JSON_INTEGER_FORMAT,
		    number(p, "executors.available"));
		table_cell(&t, "%" JSON_INTEGER_FORMAT,
		    number(p, "executors.leased"));
		table_cell(&t, "%" JSON_INTEGER_FORMAT,
		    number(p, "executors.starting"));
		table_cell(&t, "%" JSON_INTEGER_FORMAT, number(p, "waiting"));
		table_cell(&t, "%" JSON_INTEGER_FORMAT,
		    number(p, "runs_in_flight"));
	}
	table_print(f, &t);
}

static void
print_counters(FILE *f, json_t *pools)
{
	static const struct column cols[] = {
		{ "POOL", false },
		{ "GRANTED", true },
		{ "RELEASED", true },
		{ "EXPIRED", true },
		{ "TIMEOUTS", true },
		{ "UNAVAILABLE", true },
		{ "RUNS OK", true },
		{ "FAILED", true },
		{ "TIMED OUT", true },
		{ "CRASHED", true },
		{ "CANCELLED QUEUED", true },
		{ "CANCELLED RUNNING", true },
	};
	static const char *const counters[] = {
		"counters.granted",
		"counters.released",
		"counters.expired",
		"counters.acquire_timeouts",
		"counters.unavailable",
		"counters.completed",
		"counters.failed",
		"counters.timed_out",
		"counters.crashed",
		"cancelled.queued",
		"cancelled.running",
	};
	struct table t = { cols, sizeof cols / sizeof cols[0], NULL, 0, 0 };
	const char *name;
	json_t *p;

	json_object_foreach(pools, name, p)
	{
		table_cell(&t, "%s", name);
		for (size_t i = 0; i < sizeof counters / sizeof counters[0];
		     i++)
			table_cell(&t, "%" JSON_INTEGER_FORMAT,
			    number(p, counters[i]));
	}
	table_print(f, &t);
}

/* The first column names the pool; its title says what the table is about. */
static void
print_grinders(FILE *f, json_t *pools)
{
	static const struct column cols[] = {
		{ "GRINDER", false },
		{ "QUEUED", true },
		{ "RUNNING", true },
		{ "BATCHES", true },
		{ "MEAN BATCH", true },
		{ "OK", true },
		{ "FAILED", true },
		{ "BATCH", true },
		{ "WAIT", true },
		{ "OLDEST", true },
	};
	struct table t = { cols, sizeof cols / sizeof cols[0], NULL, 0, 0 };
	char wait[32], oldest[32];
	const char *name;
	json_t *p;

	json_object_foreach(pools, name, p)
	{
		json_t *g = member(p, "grinder");

		table_cell(&t, "%s", name);
		table_cell(&t, "%" JSON_INTEGER_FORMAT, number(g, "queue"));
		table_cell(&t, "%" JSON_INTEGER_FORMAT, number(g, "running"));
		table_cell(&t, "%" JSON_INTEGER_FORMAT, number(g, "batches"));
		table_cell(&t, "%.1f",
		    json_number_value(member(g, "mean_batch")));
		table_cell(&t, "%" JSON_INTEGER_FORMAT, number(g, "completed"));
		table_cell(&t, "%" JSON_INTEGER_FORMAT, number(g, "failed"));
		/* A batch starts at BATCH items queued, or once OLDEST reaches WAIT. */
		table_cell(&t, "%" JSON_INTEGER_FORMAT,
		    number(g, "batch_size"));
		table_cell(&t, "%s",
		    duration(g, "batch_wait", wait, sizeof wait));
		table_cell(&t, "%s",
		    duration(g, "oldest_wait", oldest, sizeof oldest));
	}
	table_print(f, &t);
}

static void
lease_row(struct table *t, const char *pool, json_t *l)
{
	char age[32], expires[32];

	table_cell(t, "%" JSON_INTEGER_FORMAT, number(l, "id"));
	table_cell(t, "%s", pool);
	table_cell(t, "%s", text(l, "owner"));
	table_cell(t, "%s", text(l, "state"));
	/* A lease still draining after its client left has pid -1. */
	if (number(l, "pid") < 0)
		table_cell(t, "-");
	else
		table_cell(t, "%" JSON_INTEGER_FORMAT, number(l, "pid"));
	table_cell(t, "%" JSON_INTEGER_FORMAT, number(l, "uid"));
	table_cell(t, "%s", duration(l, "age", age, sizeof age));
	/* Past its soft expiry (grace, draining, expired) a lease has no term left. */
	table_cell(t, "%s",
	    json_number_value(member(l, "expires_in")) > 0 ?
		duration(l, "expires_in", expires, sizeof expires) :
		"-");
	table_cell(t, "%" JSON_INTEGER_FORMAT, number(l, "runs"));
}

/*
 * Leases the daemon counts but does not list: other users', for a reader
 * who is neither root nor the daemon's user (none from a daemon that
 * lists them all, or that does not count them by state).
 */
static json_int_t
unlisted_leases(json_t *pools)
{
	json_int_t n = 0;
	const char *name, *state;
	json_t *p, *count;

	json_object_foreach(pools, name, p)
	{
		json_object_foreach(member(p, "leases_by_state"), state, count)
		    n += json_integer_value(count);
		n -= (json_int_t)json_array_size(member(p, "leases"));
	}
	return n;
}

static void
print_leases(FILE *f, json_t *pools)
{
	static const struct column cols[] = {
		{ "LEASE", true },
		{ "POOL", false },
		{ "OWNER", false },
		{ "STATE", false },
		{ "PID", true },
		{ "UID", true },
		{ "AGE", true },
		{ "EXPIRES IN", true },
		{ "RUNS", true },
	};
	struct table t = { cols, sizeof cols / sizeof cols[0], NULL, 0, 0 };
	json_int_t others = unlisted_leases(pools);
	const char *name;
	json_t *p, *l;
	size_t i;

	json_object_foreach(pools, name, p)
	{
		json_array_foreach(member(p, "leases"), i, l)
		    lease_row(&t, name, l);
	}
	if (t.ncells != 0)
		table_print(f, &t);
	else
		fputs(others > 0 ? "no live leases of yours\n" :
				   "no live leases\n",
		    f);
	if (others > 0)
		fprintf(f,
		    "%" JSON_INTEGER_FORMAT
		    " lease%s of other users, not shown\n",
		    others, lp_plural(others));
}

void
stats_table(FILE *f, json_t *stats)
{
	json_t *pools = member(stats, "pools");

	print_daemon(f, stats);
	fputc('\n', f);
	print_executors(f, pools);
	fputc('\n', f);
	print_counters(f, pools);
	fputc('\n', f);
	print_grinders(f, pools);
	fputc('\n', f);
	print_leases(f, pools);
}
