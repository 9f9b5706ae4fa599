/* SPDX-License-Identifier: ISC */
/*
 * Prometheus text from the stats map.  The metrics are one table: a row is
 * one sample per pool (or one for the daemon), rows of a family follow each
 * other and the first of them carries the family's type and help text.
 * Names follow Prometheus conventions: a leasepool_ prefix, _total on
 * counters, base units (seconds), and a label where the stats map has
 * several keys that add up to one whole (executors by state, runs by result).
 * The stats map's latency histograms become Prometheus histograms: their
 * cumulative buckets as _bucket{le=...}, then _sum and _count.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "proto/prometheus.h"
#include "proto/rpc.h"

enum source {
	DAEMON_VALUE, /* stats[key][subkey] */
	POOL_VALUE,   /* pool[key][subkey], for each pool */
	DAEMON_INFO,  /* 1, with stats[key] as the label's value */
	/* pool[key]: {count, sum, buckets: [[le, count], ...]} */
	POOL_HISTOGRAM,
};

struct metric {
	const char *name;
	const char *type;
	const char *help;
	enum source source;
	const char *key, *subkey;	 /* subkey NULL: stats[key] itself */
	const char *label, *label_value; /* an extra label, or NULL */
};

#define GAUGE "gauge"
#define COUNTER "counter"
#define HISTOGRAM "histogram"

static const struct metric metrics[] = {
	{ "leasepool_info", GAUGE,
	    "The daemon's version, as a label; always 1.", DAEMON_INFO,
	    "version", NULL, "version", NULL },
	{ "leasepool_uptime_seconds", GAUGE,
	    "Seconds since the daemon started.", DAEMON_VALUE, "uptime", NULL,
	    NULL, NULL },
	{ "process_start_time_seconds", GAUGE,
	    "Start time of the process since unix epoch in seconds.",
	    DAEMON_VALUE, "started", NULL, NULL, NULL },
	{ "leasepool_connections", GAUGE, "Clients connected now.",
	    DAEMON_VALUE, "connections", NULL, NULL, NULL },
	{ "leasepool_runs_in_flight", GAUGE,
	    "Runs and submitted items accepted and not yet answered, all pools.",
	    DAEMON_VALUE, "runs_in_flight", NULL, NULL, NULL },
	{ "leasepool_stopping", GAUGE, "1 once the daemon was told to stop.",
	    DAEMON_VALUE, "stopping", NULL, NULL, NULL },

	{ "leasepool_pool_executors", GAUGE,
	    "Executors of the pool: idle (free), busy (leased or draining), starting.",
	    POOL_VALUE, "executors", "available", "state", "idle" },
	{ "leasepool_pool_executors", NULL, NULL, POOL_VALUE, "executors",
	    "leased", "state", "busy" },
	{ "leasepool_pool_executors", NULL, NULL, POOL_VALUE, "executors",
	    "starting", "state", "starting" },
	{ "leasepool_pool_executors_min", GAUGE, "Configured executors_min.",
	    POOL_VALUE, "executors", "min", NULL, NULL },
	{ "leasepool_pool_executors_max", GAUGE, "Configured executors_max.",
	    POOL_VALUE, "executors", "max", NULL, NULL },
	{ "leasepool_pool_executors_target", GAUGE,
	    "Executors the pool keeps warm now: executors_min, raised by scale.",
	    POOL_VALUE, "executors", "target", NULL, NULL },
	{ "leasepool_pool_workers_per_executor", GAUGE,
	    "Workers of each executor.", POOL_VALUE, "workers", NULL, NULL,
	    NULL },
	{ "leasepool_pool_units", GAUGE,
	    "Load announced by the last scale request.", POOL_VALUE, "units",
	    NULL, NULL, NULL },
	{ "leasepool_pool_waiters", GAUGE, "Acquirers waiting for an executor.",
	    POOL_VALUE, "waiting", NULL, NULL, NULL },
	{ "leasepool_pool_runs_in_flight", GAUGE,
	    "Runs on the pool's leases accepted and not yet answered.",
	    POOL_VALUE, "runs_in_flight", NULL, NULL, NULL },
	{ "leasepool_pool_failing", GAUGE,
	    "1 while the pool's workers cannot start (crash-loop guard).",
	    POOL_VALUE, "failing", NULL, NULL, NULL },
	{ "leasepool_pool_draining", GAUGE,
	    "1 while an administrator's drain keeps the pool from granting leases.",
	    POOL_VALUE, "draining", NULL, NULL, NULL },
	{ "leasepool_pool_stuck_workers", GAUGE,
	    "Workers still busy with a job already answered as timed out.",
	    POOL_VALUE, "stuck_workers", NULL, NULL, NULL },

	{ "leasepool_leases", GAUGE,
	    "Leases holding an executor: active, grace (past soft expiry), "
	    "draining (released, runs in flight), expired.",
	    POOL_VALUE, "leases_by_state", "active", "state", "active" },
	{ "leasepool_leases", NULL, NULL, POOL_VALUE, "leases_by_state",
	    "grace", "state", "grace" },
	{ "leasepool_leases", NULL, NULL, POOL_VALUE, "leases_by_state",
	    "draining", "state", "draining" },
	{ "leasepool_leases", NULL, NULL, POOL_VALUE, "leases_by_state",
	    "expired", "state", "expired" },
	{ "leasepool_leases_granted_total", COUNTER, "Leases granted.",
	    POOL_VALUE, "counters", "granted", NULL, NULL },
	{ "leasepool_leases_ended_total", COUNTER,
	    "Leases ended: released by their holder, or expired and revoked.",
	    POOL_VALUE, "counters", "released", "reason", "released" },
	{ "leasepool_leases_ended_total", NULL, NULL, POOL_VALUE, "counters",
	    "expired", "reason", "expired" },
	{ "leasepool_acquire_failures_total", COUNTER,
	    "Acquires that got no lease: the timeout passed, or none was available.",
	    POOL_VALUE, "counters", "acquire_timeouts", "reason", "timeout" },
	{ "leasepool_acquire_failures_total", NULL, NULL, POOL_VALUE,
	    "counters", "unavailable", "reason", "unavailable" },
	{ "leasepool_runs_total", COUNTER,
	    "Runs and submitted items answered, by result.", POOL_VALUE,
	    "counters", "completed", "result", "completed" },
	{ "leasepool_runs_total", NULL, NULL, POOL_VALUE, "counters", "failed",
	    "result", "failed" },
	{ "leasepool_runs_total", NULL, NULL, POOL_VALUE, "counters",
	    "timed_out", "result", "timed_out" },
	{ "leasepool_runs_total", NULL, NULL, POOL_VALUE, "counters", "crashed",
	    "result", "crashed" },
	{ "leasepool_runs_cancelled_total", COUNTER,
	    "Runs and submitted items cancelled: before they started (queued), "
	    "or while they ran (running).",
	    POOL_VALUE, "cancelled", "queued", "stage", "queued" },
	{ "leasepool_runs_cancelled_total", NULL, NULL, POOL_VALUE, "cancelled",
	    "running", "stage", "running" },
	{ "leasepool_acquire_wait_seconds", HISTOGRAM,
	    "Seconds from an acquire to its lease; 0 when an executor was free.",
	    POOL_HISTOGRAM, "acquire_wait_seconds", NULL, NULL, NULL },
	{ "leasepool_run_duration_seconds", HISTOGRAM,
	    "Seconds from a run's or submitted item's acceptance to its answer, "
	    "whatever the result: waiting for a worker, then the job.",
	    POOL_HISTOGRAM, "run_duration_seconds", NULL, NULL, NULL },

	{ "leasepool_grinder_queued", GAUGE,
	    "Submitted items waiting in the grinder.", POOL_VALUE, "grinder",
	    "queue", NULL, NULL },
	{ "leasepool_grinder_running", GAUGE, "Submitted items running now.",
	    POOL_VALUE, "grinder", "running", NULL, NULL },
	{ "leasepool_grinder_batches_total", COUNTER,
	    "Batches the grinder dispatched.", POOL_VALUE, "grinder", "batches",
	    NULL, NULL },
	{ "leasepool_grinder_items_total", COUNTER,
	    "Submitted items answered, with a result or with an error.",
	    POOL_VALUE, "grinder", "completed", "result", "completed" },
	{ "leasepool_grinder_items_total", NULL, NULL, POOL_VALUE, "grinder",
	    "failed", "result", "failed" },
};

/* A sample line is built here; names and labels are short, values shorter. */
struct line {
	char text[1024];
	size_t len;
	bool overflow;
};

static void line_printf(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
line_printf(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->text + l->len, sizeof l->text - l->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof l->text - l->len)
		l->overflow = true;
	else
		l->len += (size_t)n;
}

/*
 * One label, opening the braces or continuing them: *sep is "{" before the
 * first label and "," after.  The value's backslashes, double quotes and
 * newlines are escaped.
 */
static void
line_label(struct line *l, const char **sep, const char *name,
    const char *value, size_t len)
{
	line_printf(l, "%s%s=\"", *sep, name);
	*sep = ",";
	for (size_t i = 0; i < len; i++) {
		switch (value[i]) {
		case '\\':
			line_printf(l, "\\\\");
			break;
		case '"':
			line_printf(l, "\\\"");
			break;
		case '\n':
			line_printf(l, "\\n");
			break;
		default:
			line_printf(l, "%c", value[i]);
		}
	}
	line_printf(l, "\"");
}

/* False for a value Prometheus has no number for (a string, a map...). */
static bool
line_value(struct line *l, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		line_printf(l, " %" PRIu64 "\n", o->via.u64);
		return true;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		line_printf(l, " %" PRId64 "\n", o->via.i64);
		return true;
	case MSGPACK_OBJECT_BOOLEAN:
		line_printf(l, " %d\n", o->via.boolean ? 1 : 0);
		return true;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (isnan(o->via.f64))
			line_printf(l, " NaN\n");
		else if (isinf(o->via.f64))
			line_printf(l, " %cInf\n", o->via.f64 > 0 ? '+' : '-');
		else
			line_printf(l, " %.15g\n", o->via.f64);
		return true;
	default:
		return false;
	}
}

static const msgpack_object *
value_at(const msgpack_object *map, const struct metric *m)
{
	const msgpack_object *o = lp_map_get(map, m->key);

	return m->subkey != NULL && o != NULL ? lp_map_get(o, m->subkey) : o;
}

static int
emit(struct line *l, lp_text_sink *sink, void *arg)
{
	if (l->overflow)
		/* a label too long for any sane name: leave the sample out */
		return 0;
	return sink(arg, l->text, l->len);
}

/* A sample's name, with a histogram's suffix, and its pool label (none for the daemon's). */
static void
begin_sample(struct line *l, const char **sep, const char *name,
    const char *suffix, const msgpack_object *pool_name)
{
	line_printf(l, "%s%s", name, suffix);
	if (pool_name != NULL)
		line_label(l, sep, "pool", pool_name->via.str.ptr,
		    pool_name->via.str.size);
}

/* Closes the labels and writes the sample; none for a value Prometheus has no number for. */
static int
end_sample(struct line *l, const char *sep, const msgpack_object *value,
    lp_text_sink *sink, void *arg)
{
	if (sep[0] == ',')
		line_printf(l, "}");
	if (value == NULL || !line_value(l, value))
		return 0;
	return emit(l, sink, arg);
}

/* One sample of m: the daemon's (pool NULL) or one pool's; none when the map lacks it. */
static int
write_sample(const struct metric *m, const msgpack_object *stats,
    const msgpack_object *pool_name, const msgpack_object *pool,
    lp_text_sink *sink, void *arg)
{
	struct line l = { .len = 0 };
	const msgpack_object *value = NULL, *version;
	msgpack_object number;
	const char *sep = "{";

	begin_sample(&l, &sep, m->name, "", pool_name);
	switch (m->source) {
	case DAEMON_INFO:
		version = lp_map_get(stats, m->key);
		if (version == NULL || version->type != MSGPACK_OBJECT_STR)
			return 0;
		line_label(&l, &sep, m->label, version->via.str.ptr,
		    version->via.str.size);
		number.type = MSGPACK_OBJECT_POSITIVE_INTEGER;
		number.via.u64 = 1;
		value = &number;
		break;
	case DAEMON_VALUE:
	case POOL_VALUE:
		value = value_at(pool != NULL ? pool : stats, m);
		if (m->label != NULL)
			line_label(&l, &sep, m->label, m->label_value,
			    strlen(m->label_value));
		break;
	case POOL_HISTOGRAM:
		return 0; /* write_histogram()'s */
	}
	return end_sample(&l, sep, value, sink, arg);
}

static bool
is_number(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    o->type == MSGPACK_OBJECT_FLOAT32 ||
	    o->type == MSGPACK_OBJECT_FLOAT64;
}

/* A histogram's buckets, when every one is [le, count] with numbers. */
static const msgpack_object *
histogram_buckets(const msgpack_object *h)
{
	const msgpack_object *buckets = lp_map_get(h, "buckets");

	if (buckets == NULL || buckets->type != MSGPACK_OBJECT_ARRAY)
		return NULL;
	for (uint32_t i = 0; i < buckets->via.array.size; i++) {
		const msgpack_object *b = &buckets->via.array.ptr[i];

		if (b->type != MSGPACK_OBJECT_ARRAY || b->via.array.size != 2 ||
		    !is_number(&b->via.array.ptr[0]) ||
		    !is_number(&b->via.array.ptr[1]))
			return NULL;
	}
	return buckets;
}

static int
write_histogram_line(const struct metric *m, const char *suffix,
    const msgpack_object *pool_name, const char *le,
    const msgpack_object *value, lp_text_sink *sink, void *arg)
{
	struct line l = { .len = 0 };
	const char *sep = "{";

	begin_sample(&l, &sep, m->name, suffix, pool_name);
	if (le != NULL)
		line_label(&l, &sep, "le", le, strlen(le));
	return end_sample(&l, sep, value, sink, arg);
}

/*
 * One pool's histogram: a _bucket sample per bound of the map, the +Inf
 * bucket (every sample), _sum and _count; none at all when a part is
 * missing or not a number, as a histogram with holes would mislead.
 */
static int
write_histogram(const struct metric *m, const msgpack_object *pool_name,
    const msgpack_object *pool, lp_text_sink *sink, void *arg)
{
	const msgpack_object *h = lp_map_get(pool, m->key), *buckets, *count,
			     *sum;
	char le[32];

	if (h == NULL || (buckets = histogram_buckets(h)) == NULL ||
	    (count = lp_map_get(h, "count")) == NULL || !is_number(count) ||
	    (sum = lp_map_get(h, "sum")) == NULL || !is_number(sum))
		return 0;
	for (uint32_t i = 0; i < buckets->via.array.size; i++) {
		const msgpack_object *bound =
		    &buckets->via.array.ptr[i].via.array.ptr[0];

		snprintf(le, sizeof le, "%.15g",
		    bound->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
			(double)bound->via.u64 :
			bound->via.f64);
		if (write_histogram_line(m, "_bucket", pool_name, le,
			&buckets->via.array.ptr[i].via.array.ptr[1], sink,
			arg) == -1)
			return -1;
	}
	if (write_histogram_line(m, "_bucket", pool_name, "+Inf", count, sink,
		arg) == -1 ||
	    write_histogram_line(m, "_sum", pool_name, NULL, sum, sink, arg) ==
		-1 ||
	    write_histogram_line(m, "_count", pool_name, NULL, count, sink,
		arg) == -1)
		return -1;
	return 0;
}

static int
write_family_header(const struct metric *m, lp_text_sink *sink, void *arg)
{
	struct line l = { .len = 0 };

	line_printf(&l, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help,
	    m->name, m->type);
	return emit(&l, sink, arg);
}

int
lp_prometheus_write(const msgpack_object *stats, lp_text_sink *sink, void *arg)
{
	const msgpack_object *pools;

	if (stats == NULL || stats->type != MSGPACK_OBJECT_MAP)
		return -1;
	pools = lp_map_get(stats, "pools");
	if (pools != NULL && pools->type != MSGPACK_OBJECT_MAP)
		pools = NULL;
	for (size_t i = 0; i < sizeof metrics / sizeof metrics[0]; i++) {
		const struct metric *m = &metrics[i];

		if (m->type != NULL && write_family_header(m, sink, arg) == -1)
			return -1;
		if (m->source == DAEMON_VALUE || m->source == DAEMON_INFO) {
			if (write_sample(m, stats, NULL, NULL, sink, arg) == -1)
				return -1;
			continue;
		}
		for (uint32_t p = 0; pools != NULL && p < pools->via.map.size;
		     p++) {
			const msgpack_object_kv *kv = &pools->via.map.ptr[p];

			if (kv->key.type != MSGPACK_OBJECT_STR)
				continue;
			if ((m->source == POOL_HISTOGRAM ?
				    write_histogram(m, &kv->key, &kv->val, sink,
					arg) :
				    write_sample(m, stats, &kv->key, &kv->val,
					sink, arg)) == -1)
				return -1;
		}
	}
	return 0;
}
