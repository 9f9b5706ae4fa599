/* SPDX-License-Identifier: ISC */
/*
 * The one lease that run and exec need: acquired with the command line's
 * options, used for one run, released.
 *
 * The acquire is asynchronous so that a person at a terminal is told why
 * nothing happens: a stats request goes alongside, and once the daemon
 * reports the pool full, or after NOTICE_DELAY without a lease, stderr
 * says which pool we wait for and how many of its executors are leased.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/tool/tool.h"
#include "proto/rpc.h"
#include "proto/text.h"

/* docs/protocol.md: an owner label holds at most 128 bytes. */
#define OWNER_MAX 128

/* Long enough that an executor starting for us goes unmentioned. */
#define NOTICE_DELAY 1.0

struct acquiring {
	struct tool *t;
	bool done; /* the acquire was answered */
	uint64_t lease;
	struct lp_error err;
	bool notice;	  /* a person may want to know, and has not been told */
	bool asking;	  /* a stats request is in flight */
	double notice_at; /* tell them from then on, full pool or not */
};

/* Without -o, stats shows the lease as "leasepool run echo". */
void
tool_owner(struct tool *t, const char *command, const char *name)
{
	static char owner[OWNER_MAX + 1];

	if (t->acquire.owner != NULL)
		return;
	snprintf(owner, sizeof owner, "leasepool %s %s", command, name);
	/* The daemon takes UTF-8 only; a program's path need not be, nor stay whole when cut. */
	lp_utf8_repair(owner, strlen(owner));
	t->acquire.owner = owner;
}

double
monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The pool we wait for in a stats answer: -p's, else the daemon's default. */
static json_t *
waited_pool(json_t *stats, const char *named, const char **name)
{
	*name = named != NULL ?
	    named :
	    json_string_value(json_object_get(stats, "default_pool"));
	return *name != NULL ?
	    json_object_get(json_object_get(stats, "pools"), *name) :
	    NULL;
}

/* Says it once; false when it is too early to say it of a pool that is not full. */
static bool
tell_waiting(struct acquiring *a, json_t *stats)
{
	json_t *pool, *executors;
	const char *name;
	json_int_t leased, max;

	if ((pool = waited_pool(stats, a->t->acquire.pool, &name)) == NULL) {
		/* A daemon older than default_pool: the pool is all we cannot say. */
		fputs("leasepool: waiting for an executor...\n", stderr);
		return true;
	}
	executors = json_object_get(pool, "executors");
	leased = json_integer_value(json_object_get(executors, "leased"));
	max = json_integer_value(json_object_get(executors, "max"));
	if (leased < max && monotonic() < a->notice_at)
		return false;
	fprintf(stderr,
	    "leasepool: waiting for an executor of pool %s (%" JSON_INTEGER_FORMAT
	    " of %" JSON_INTEGER_FORMAT " leased)...\n",
	    name, leased, max);
	return true;
}

static void
stats_answered(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct acquiring *a = arg;
	json_t *stats;

	a->asking = false;
	if (code != LP_OK) {
		/* the acquire's own answer will say what went wrong */
		a->notice = false;
		return;
	}
	stats = json_from_msgpack(lp_value_object(result));
	lp_value_free(result);
	if (stats != NULL && a->notice && !a->done && tell_waiting(a, stats))
		a->notice = false;
	json_decref(stats);
}

static void
ask_stats(struct acquiring *a)
{
	struct tool *t = a->t;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, t->acquire.pool != NULL);
	if (t->acquire.pool != NULL)
		lp_pack_kv_str(&pk, "pool", t->acquire.pool);
	a->asking = lp_call_async(t->client, "stats", sb.data, sb.size,
			stats_answered, a, NULL) == LP_OK;
	a->notice = a->asking;
	msgpack_sbuffer_destroy(&sb);
}

static void
acquired(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct acquiring *a = arg;
	const msgpack_object *id = lp_value_get(result, "lease");

	a->done = true;
	a->err = *err;
	if (code == LP_OK &&
	    (id == NULL || id->type != MSGPACK_OBJECT_POSITIVE_INTEGER)) {
		a->err.code = LP_ERR_PROTOCOL;
		snprintf(a->err.message, sizeof a->err.message,
		    "leasepoold sent a malformed acquire result");
	} else if (code == LP_OK)
		a->lease = id->via.u64;
	lp_value_free(result);
}

static enum lp_err
send_acquire(struct acquiring *a)
{
	const struct lp_acquire_opts *o = &a->t->acquire;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	enum lp_err rc;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk,
	    (o->pool != NULL) + (o->owner != NULL) + o->nowait +
		(o->timeout > 0));
	if (o->pool != NULL)
		lp_pack_kv_str(&pk, "pool", o->pool);
	if (o->owner != NULL)
		lp_pack_kv_str(&pk, "owner", o->owner);
	if (o->nowait)
		lp_pack_kv_bool(&pk, "wait", false);
	if (o->timeout > 0)
		lp_pack_kv_double(&pk, "timeout", o->timeout);
	rc = lp_call_async(a->t->client, "acquire", sb.data, sb.size, acquired,
	    a, &a->err);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}

/* Until the next answer, or until it is time to ask how the pool fares. */
static void
wait_for_answers(struct acquiring *a)
{
	struct lp_client *c = a->t->client;
	struct pollfd pfd = { .fd = lp_client_fd(c), .events = POLLIN };
	int timeout = -1;

	if (lp_client_want_write(c))
		pfd.events |= POLLOUT;
	if (a->notice && !a->asking) {
		double left = a->notice_at - monotonic();

		timeout = left > 0 ? (int)(left * 1000) + 1 : 0;
	}
	/*
	 * Whatever poll says, processing finds out: an error there fails every
	 * request, the acquire included, whose answer then says what happened.
	 */
	poll(&pfd, 1, timeout);
	lp_client_process(c, NULL);
	if (a->notice && !a->asking && !a->done && monotonic() >= a->notice_at)
		ask_stats(a);
}

static enum lp_err
acquire(struct tool *t, uint64_t *lease, struct lp_error *err)
{
	struct acquiring a = { .t = t,
		.notice_at = monotonic() + NOTICE_DELAY };

	if (send_acquire(&a) == LP_OK) {
		if (!t->acquire.nowait && isatty(STDERR_FILENO))
			ask_stats(&a);
		while (!a.done || a.asking)
			wait_for_answers(&a);
	}
	*lease = a.lease;
	*err = a.err;
	return err->code;
}

enum lp_err
lease_and_run(struct tool *t, const char *fn, const struct lp_args *args,
    struct lp_value **result, struct lp_error *err)
{
	struct job job;
	uint64_t lease;
	enum lp_err rc;

	if ((rc = acquire(t, &lease, err)) != LP_OK)
		return rc;
	job_begin(&job);
	rc = lp_run_start(t->client, lease, fn, args, t->job_timeout,
	    job_answered, &job, &job.call, err);
	if (rc == LP_OK)
		rc = job_wait(t, &job, result, err);
	/* Nothing to report: the lease is gone either way, and the run's outcome is what counts. */
	lp_release(t->client, lease, NULL);
	return rc;
}
