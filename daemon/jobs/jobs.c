/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/alloc.h"
#include "daemon/core/log.h"
#include "daemon/jobs/jobs.h"
#include "proto/frame.h"

/*
 * The registry.  entries keeps the order hello shows; by_name indexes it in
 * name order (memcmp, then length) for the binary search of jobs_find,
 * which runs for every run request in the daemon and every job in a worker.
 */
struct entry {
	struct lp_job_function f; /* f.name is the full name */
	size_t len;
	char *owned; /* f.name when the registry allocated it */
};

static struct {
	struct entry *entries;
	size_t n, cap;
	size_t *by_name;
	bool filled; /* the built-ins are in */
} reg;

static int
name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

static int
by_name_cmp(const void *x, const void *y)
{
	const struct entry *a = &reg.entries[*(const size_t *)x];
	const struct entry *b = &reg.entries[*(const size_t *)y];

	return name_cmp(a->f.name, a->len, b->f.name, b->len);
}

static void
add_entry(const struct lp_job_function *f, char *owned)
{
	struct entry *e;

	if (reg.n == reg.cap) {
		reg.cap = reg.cap == 0 ? 16 : reg.cap * 2;
		reg.entries =
		    xreallocarray(reg.entries, reg.cap, sizeof *reg.entries);
	}
	e = &reg.entries[reg.n++];
	e->f = *f;
	e->owned = owned;
	if (owned != NULL)
		e->f.name = owned;
	e->len = strlen(e->f.name);
}

/* Once per change, at start-up: lookups then never allocate or sort. */
static void
index_entries(void)
{
	reg.by_name = xreallocarray(reg.by_name, reg.n, sizeof *reg.by_name);
	for (size_t i = 0; i < reg.n; i++)
		reg.by_name[i] = i;
	qsort(reg.by_name, reg.n, sizeof *reg.by_name, by_name_cmp);
}

/* The built-ins are always there, even in a process that loaded no module. */
static void
registry_fill(void)
{
	if (reg.filled)
		return;
	reg.filled = true;
	for (size_t i = 0; builtin_functions[i].name != NULL; i++)
		add_entry(&builtin_functions[i], NULL);
	index_entries();
}

void
jobs_add_module(const char *module, const struct lp_job_function *functions)
{
	registry_fill();
	for (const struct lp_job_function *f = functions; f->name != NULL;
	     f++) {
		char *full;

		if (asprintf(&full, "%s.%s", module, f->name) == -1)
			fatalx("job registry: out of memory");
		add_entry(f, full);
	}
	index_entries();
}

void
jobs_clear(void)
{
	for (size_t i = 0; i < reg.n; i++)
		free(reg.entries[i].owned);
	free(reg.entries);
	free(reg.by_name);
	memset(&reg, 0, sizeof reg);
}

const struct lp_job_function *
jobs_find(const char *name, size_t len)
{
	size_t lo = 0, hi;

	registry_fill();
	hi = reg.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct entry *e = &reg.entries[reg.by_name[mid]];
		int c = name_cmp(name, len, e->f.name, e->len);

		if (c == 0)
			return &e->f;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t
jobs_count(void)
{
	registry_fill();
	return reg.n;
}

const char *
jobs_name(size_t i)
{
	registry_fill();
	return reg.entries[i].f.name;
}

/* The packer's writer: a result that cannot grow is remembered as out of memory. */
static int
result_write(void *data, const char *buf, size_t len)
{
	struct lp_job *job = data;

	if (msgpack_sbuffer_write(&job->result, buf, len) == 0)
		return 0;
	job->out_of_memory = true;
	return -1;
}

void
jobs_init(struct lp_job *job)
{
	msgpack_sbuffer_init(&job->result);
	msgpack_packer_init(&job->packer, job, result_write);
	jobs_reset(job);
}

void
jobs_reset(struct lp_job *job)
{
	msgpack_sbuffer_clear(&job->result);
	job->failed = false;
	job->out_of_memory = false;
	job->message[0] = '\0';
}

void
jobs_destroy(struct lp_job *job)
{
	msgpack_sbuffer_destroy(&job->result);
}

msgpack_packer *
lp_job_result(struct lp_job *job)
{
	return &job->packer;
}

static int
job_vfail(struct lp_job *job, enum lp_err error, const char *fmt, va_list ap)
{
	job->failed = true;
	job->error = error;
	vsnprintf(job->message, sizeof job->message, fmt, ap);
	return -1;
}

int
lp_job_fail(struct lp_job *job, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = job_vfail(job, LP_ERR_JOB_FAILED, fmt, ap);
	va_end(ap);
	return rc;
}

int
jobs_refuse(struct lp_job *job, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = job_vfail(job, LP_ERR_INVALID_ARGUMENT, fmt, ap);
	va_end(ap);
	return rc;
}

#define PACKED_INCOMPLETE SIZE_MAX

/*
 * Counts the objects a function packed (the ABI says exactly one), or
 * PACKED_INCOMPLETE when one is cut short, not msgpack, or too deep for
 * the daemon to relay.
 */
static size_t
packed_objects(const struct lp_job *job)
{
	struct lp_framer f;
	size_t off = 0, used, n = 0;

	lp_framer_init(&f, job->result.size + 1, LP_FRAME_DEPTH_MAX);
	while (off < job->result.size) {
		if (lp_framer_feed(&f, job->result.data + off,
			job->result.size - off, &used) != LP_FRAME_DONE)
			return PACKED_INCOMPLETE;
		off += used;
		n++;
	}
	return n;
}

void
jobs_call(const struct lp_job_function *f, struct lp_job *job,
    const msgpack_object *args, const msgpack_object *kwargs)
{
	size_t n;
	int rc;

	rc = f->fn(job, args, kwargs);
	if (job->out_of_memory) {
		msgpack_sbuffer_clear(&job->result);
		lp_job_fail(job, "%s, packing its result: out of memory",
		    f->name);
		return;
	}
	if (rc != 0 || job->failed) {
		if (!job->failed)
			lp_job_fail(job, "%s failed without a message",
			    f->name);
		msgpack_sbuffer_clear(&job->result);
		return;
	}
	if ((n = packed_objects(job)) == PACKED_INCOMPLETE) {
		msgpack_sbuffer_clear(&job->result);
		lp_job_fail(job,
		    "%s packed a result that is incomplete, not msgpack, or "
		    "nested more than %d deep",
		    f->name, LP_FRAME_DEPTH_MAX);
	} else if (n != 1) {
		msgpack_sbuffer_clear(&job->result);
		lp_job_fail(job, "%s packed %zu result objects instead of one",
		    f->name, n);
	}
}
