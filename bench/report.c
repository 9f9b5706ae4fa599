/* SPDX-License-Identifier: ISC */
/*
 * Figures and how they are shown.  A measurement records one value per
 * repetition; the report shows their median, their spread, the ratio to
 * the matching baseline figure (only ratios are stable on a shared
 * machine) and the target, as a table and as JSON.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "bench/bench.h"

/* The default run records about 75; --only load adds 21. */
#define FIGURES_MAX 128
#define NOTES_MAX 16
#define CONTEXT_MAX 8

struct figure {
	const struct figure_def *def;
	double values[BENCH_REPS_MAX];
	size_t n;
};

static struct figure figures[FIGURES_MAX];
static size_t nfigures;
static char notes[NOTES_MAX][256];
static size_t nnotes;
static struct {
	const char *key;
	double value;
} context[CONTEXT_MAX];
static size_t ncontext;

static struct figure *
figure_find(const char *key)
{
	for (size_t i = 0; i < nfigures; i++)
		if (strcmp(figures[i].def->key, key) == 0)
			return &figures[i];
	return NULL;
}

void
report_record(const struct figure_def *def, double value)
{
	struct figure *f = figure_find(def->key);

	if (f == NULL) {
		if (nfigures == FIGURES_MAX)
			bench_fatal("more than %d figures", FIGURES_MAX);
		f = &figures[nfigures++];
		f->def = def;
	}
	if (f->n < BENCH_REPS_MAX)
		f->values[f->n++] = value;
}

void
report_note(const char *fmt, ...)
{
	va_list ap;

	if (nnotes == NOTES_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(notes[nnotes++], sizeof notes[0], fmt, ap);
	va_end(ap);
}

void
report_context(const char *key, double value)
{
	if (ncontext < CONTEXT_MAX) {
		context[ncontext].key = key;
		context[ncontext++].value = value;
	}
}

static double
figure_median(const struct figure *f)
{
	double v[BENCH_REPS_MAX];

	memcpy(v, f->values, f->n * sizeof v[0]);
	return median(v, f->n);
}

static void
figure_spread(const struct figure *f, double *lo, double *hi)
{
	*lo = *hi = f->values[0];
	for (size_t i = 1; i < f->n; i++) {
		if (f->values[i] < *lo)
			*lo = f->values[i];
		if (f->values[i] > *hi)
			*hi = f->values[i];
	}
}

/*
 * The figure over its baseline's, or NaN when there is none to compare.
 * Both halves of a pair are measured seconds apart in each repetition, so
 * that the machine's phase (the host's load, where the scheduler put each
 * process) cancels out: the median of those per-repetition ratios, not the
 * ratio of two medians that may come from different repetitions.  A
 * baseline measured a different number of times is compared by medians.
 */
static double
figure_ratio(const struct figure *f)
{
	const struct figure *b;
	double r[BENCH_REPS_MAX];
	size_t n = 0;

	if (f->def->baseline == NULL ||
	    (b = figure_find(f->def->baseline)) == NULL)
		return NAN;
	if (b->n != f->n)
		return figure_median(f) / figure_median(b);
	for (size_t i = 0; i < f->n; i++)
		if (!isnan(f->values[i]) && !isnan(b->values[i]) &&
		    b->values[i] != 0)
			r[n++] = f->values[i] / b->values[i];
	return median(r, n);
}

static bool
ratio_target(enum target_kind k)
{
	return k == TARGET_RATIO_AT_MOST || k == TARGET_RATIO_AT_LEAST;
}

/* 1 met, 0 missed, -1 no target or nothing to judge it by. */
static int
figure_verdict(const struct figure *f)
{
	const struct figure_def *d = f->def;
	double v = ratio_target(d->target) ? figure_ratio(f) : figure_median(f);

	if (d->target == TARGET_NONE || isnan(v))
		return -1;
	if (d->target == TARGET_RATIO_AT_MOST || d->target == TARGET_AT_MOST)
		return v <= d->target_value;
	return v >= d->target_value;
}

static const char *
unit_name(enum unit u)
{
	static const char *const names[] = {
		[UNIT_USEC] = "us",
		[UNIT_PER_SEC] = "/s",
		[UNIT_PERCENT] = "%",
		[UNIT_KIB] = "KiB",
		[UNIT_COUNT] = "",
		[UNIT_RATIO] = "x",
	};

	return names[u];
}

static void
format_value(char *buf, size_t len, enum unit u, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (isinf(v))
		snprintf(buf, len, "inf");
	else if (u == UNIT_PER_SEC || u == UNIT_COUNT)
		snprintf(buf, len, "%.0f", v);
	else if (u == UNIT_RATIO)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "%.1f", v);
}

static void
format_target(char *buf, size_t len, const struct figure_def *d)
{
	const char *op =
	    d->target == TARGET_RATIO_AT_MOST || d->target == TARGET_AT_MOST ?
	    "<=" :
	    ">=";

	if (d->target == TARGET_NONE)
		snprintf(buf, len, "-");
	else if (ratio_target(d->target))
		snprintf(buf, len, "%s %.2fx", op, d->target_value);
	else
		snprintf(buf, len, "%s %g %s", op, d->target_value,
		    unit_name(d->unit));
}

void
report_print(const struct bench_ctx *ctx)
{
	static const char *const verdicts[] = { "MISSED", "met" };
	char value[32], lo_s[32], hi_s[32], spread[72], ratio[32], target[48];

	printf(
	    "\nleasepool-bench: %u CPUs, %u repetition%s (median shown, min..max beside it)\n\n",
	    ctx->ncpu, ctx->opts->reps, ctx->opts->reps == 1 ? "" : "s");
	printf("%-44s %12s %-4s %-25s %-8s %-14s %s\n", "figure", "median", "",
	    "spread", "vs base", "target", "");
	for (size_t i = 0; i < nfigures; i++) {
		const struct figure *f = &figures[i];
		const struct figure_def *d = f->def;
		double lo, hi, r = figure_ratio(f);
		int verdict = figure_verdict(f);

		format_value(value, sizeof value, d->unit, figure_median(f));
		figure_spread(f, &lo, &hi);
		format_value(lo_s, sizeof lo_s, d->unit, lo);
		format_value(hi_s, sizeof hi_s, d->unit, hi);
		if (f->n > 1)
			snprintf(spread, sizeof spread, "%s..%s", lo_s, hi_s);
		else
			snprintf(spread, sizeof spread, "-");
		if (isnan(r))
			snprintf(ratio, sizeof ratio, "-");
		else
			snprintf(ratio, sizeof ratio, "%.2fx", r);
		format_target(target, sizeof target, d);
		printf("%-44s %12s %-4s %-25s %-8s %-14s %s\n", d->label, value,
		    unit_name(d->unit), spread, ratio, target,
		    verdict < 0 ? "" : verdicts[verdict]);
	}
	for (size_t i = 0; i < nnotes; i++)
		printf("%snote: %s\n", i == 0 ? "\n" : "", notes[i]);
}

static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
json_number(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fprintf(f, "null");
	else
		fprintf(f, "%.6g", v);
}

static void
cpu_model(char *buf, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");
	char *colon;

	snprintf(buf, len, "unknown");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "model name", 10) == 0 &&
		    (colon = strchr(line, ':')) != NULL) {
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(buf, len, "%s", colon + 2);
			break;
		}
	}
	fclose(f);
}

static void
json_figure(FILE *f, const struct figure *fig, bool last)
{
	const struct figure_def *d = fig->def;
	static const char *const kinds[] = {
		[TARGET_NONE] = "none",
		[TARGET_RATIO_AT_MOST] = "ratio_at_most",
		[TARGET_RATIO_AT_LEAST] = "ratio_at_least",
		[TARGET_AT_MOST] = "at_most",
		[TARGET_AT_LEAST] = "at_least",
	};
	int verdict = figure_verdict(fig);

	fprintf(f, "    {\"key\": ");
	json_string(f, d->key);
	fprintf(f, ", \"label\": ");
	json_string(f, d->label);
	fprintf(f, ", \"unit\": ");
	json_string(f, unit_name(d->unit));
	fprintf(f, ", \"median\": ");
	json_number(f, figure_median(fig));
	fprintf(f, ", \"values\": [");
	for (size_t i = 0; i < fig->n; i++) {
		fprintf(f, "%s", i > 0 ? ", " : "");
		json_number(f, fig->values[i]);
	}
	fprintf(f, "], \"baseline\": ");
	if (d->baseline != NULL)
		json_string(f, d->baseline);
	else
		fprintf(f, "null");
	fprintf(f, ", \"ratio\": ");
	json_number(f, figure_ratio(fig));
	fprintf(f, ", \"target\": ");
	if (d->target == TARGET_NONE) {
		fprintf(f, "null");
	} else {
		fprintf(f, "{\"kind\": \"%s\", \"value\": ", kinds[d->target]);
		json_number(f, d->target_value);
		fprintf(f, ", \"met\": %s}",
		    verdict < 0 ? "null" :
			verdict ? "true" :
				  "false");
	}
	fprintf(f, "}%s\n", last ? "" : ",");
}

bool
report_json(const struct bench_ctx *ctx, const char *path)
{
	char model[128], when[32];
	struct utsname u;
	time_t t = time(NULL);
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		return false;
	if (uname(&u) == -1)
		snprintf(u.release, sizeof u.release, "unknown");
	cpu_model(model, sizeof model);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(f, "{\n  \"tool\": \"leasepool-bench\",\n  \"date\": \"%s\",\n",
	    when);
	fprintf(f, "  \"machine\": {\"cpus\": %u, \"kernel\": ", ctx->ncpu);
	json_string(f, u.release);
	fprintf(f, ", \"cpu\": ");
	json_string(f, model);
	fprintf(f, "},\n  \"context\": {");
	for (size_t i = 0; i < ncontext; i++) {
		fprintf(f, "%s", i > 0 ? ", " : "");
		json_string(f, context[i].key);
		fprintf(f, ": ");
		json_number(f, context[i].value);
	}
	fprintf(f,
	    "},\n  \"repetitions\": %u,\n  \"quick\": %s,\n  \"scale\": ",
	    ctx->opts->reps, ctx->opts->quick ? "true" : "false");
	json_number(f, ctx->opts->scale);
	fprintf(f, ",\n");
	fprintf(f, "  \"figures\": [\n");
	for (size_t i = 0; i < nfigures; i++)
		json_figure(f, &figures[i], i + 1 == nfigures);
	fprintf(f, "  ],\n  \"notes\": [");
	for (size_t i = 0; i < nnotes; i++) {
		fprintf(f, "%s", i > 0 ? ", " : "");
		json_string(f, notes[i]);
	}
	fprintf(f, "]\n}\n");
	return fclose(f) == 0;
}

void
report_latency(const struct figure_def *defs, struct samples *s)
{
	static const double percentiles[] = { 50, 99, 99.9 };

	for (size_t i = 0; i < 3; i++)
		report_record(&defs[i],
		    samples_percentile_us(s, percentiles[i]));
}
