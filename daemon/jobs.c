#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/jobs.h"
#include "proto/frame.h"

static size_t
builtin_count(void)
{
	size_t n = 0;

	while (builtin_functions[n].name != NULL)
		n++;
	return n;
}

const struct lp_job_function *
jobs_find(const char *name, size_t len)
{
	for (size_t i = 0; builtin_functions[i].name != NULL; i++) {
		const char *n = builtin_functions[i].name;

		if (strlen(n) == len && memcmp(n, name, len) == 0)
			return &builtin_functions[i];
	}
	return NULL;
}

size_t
jobs_count(void)
{
	return builtin_count();
}

const char *
jobs_name(size_t i)
{
	return builtin_functions[i].name;
}

void
jobs_init(struct lp_job *job)
{
	msgpack_sbuffer_init(&job->result);
	msgpack_packer_init(&job->packer, &job->result, msgpack_sbuffer_write);
	job->failed = false;
	job->message[0] = '\0';
}

void
jobs_reset(struct lp_job *job)
{
	msgpack_sbuffer_clear(&job->result);
	job->failed = false;
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

int
lp_job_fail(struct lp_job *job, const char *fmt, ...)
{
	va_list ap;

	job->failed = true;
	va_start(ap, fmt);
	vsnprintf(job->message, sizeof job->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* Counts the objects a function packed: the ABI says exactly one. */
static size_t
packed_objects(const struct lp_job *job)
{
	struct lp_framer f;
	size_t off = 0, used, n = 0;

	lp_framer_init(&f, job->result.size + 1, LP_FRAME_DEPTH_MAX);
	while (off < job->result.size) {
		if (lp_framer_feed(&f, job->result.data + off, job->result.size - off,
		    &used) != LP_FRAME_DONE)
			return 0;
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
	if (rc != 0 || job->failed) {
		if (!job->failed)
			lp_job_fail(job, "%s failed without a message", f->name);
		msgpack_sbuffer_clear(&job->result);
		return;
	}
	if ((n = packed_objects(job)) != 1) {
		msgpack_sbuffer_clear(&job->result);
		lp_job_fail(job, "%s packed %zu result objects instead of one", f->name, n);
	}
}
