/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/core/alloc.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/core/run.h"

static unsigned in_flight;
static void (*on_drained)(void);

/*
 * Arguments go to the worker as the client encoded them: the daemon never
 * reads them, so it neither decodes nor packs them again.  Absent ones are
 * the empty array or map they stand for.
 */
static struct lp_raw
raw_or(struct lp_raw given, const char *empty)
{
	return given.len > 0 ?
	    given :
	    (struct lp_raw){ .ptr = empty, .len = 1, .depth = 1 };
}

/*
 * An exec runs as the client that asked: [uid, gid, [groups]] from
 * SO_PEERCRED and SO_PEERGROUPS, after its arguments (exec.c).
 */
static size_t
pack_caller(msgpack_sbuffer *buf, const struct run_caller *caller)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, buf, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint32(&pk, caller->uid);
	msgpack_pack_uint32(&pk, caller->gid);
	msgpack_pack_array(&pk, caller->ngroups);
	for (unsigned i = 0; i < caller->ngroups; i++)
		msgpack_pack_uint32(&pk, caller->groups[i]);
	return buf->size;
}

struct run *
run_new(const struct run_owner *owner, const struct run_caller *caller,
    uint32_t msgid, struct pool *pool, struct lease *lease,
    const struct run_job *job)
{
	static msgpack_sbuffer head, identity;
	static msgpack_packer pk;
	struct lp_raw args = raw_or(job->args, "\x90"),
		      kwargs = raw_or(job->kwargs, "\x80");
	size_t owner_len = lease != NULL ? 0 : job->owner.len, len;
	struct run *r;

	if (pk.data == NULL)
		msgpack_packer_init(&pk, &head, msgpack_sbuffer_write);
	msgpack_sbuffer_clear(&head);
	msgpack_sbuffer_clear(&identity);
	msgpack_pack_array(&pk, job->as_caller ? 4 : 3);
	msgpack_pack_str_with_body(&pk, job->fn.ptr, job->fn.len);
	len = head.size + args.len + kwargs.len;
	if (job->as_caller)
		len += pack_caller(&identity, caller);

	/* One allocation: the run, its packed job, and an item's owner after it. */
	r = xmalloc(sizeof *r + len + owner_len + 1);
	memset(r, 0, sizeof *r);
	r->owned_by = owner;
	r->conn = caller->conn;
	r->msgid = msgid;
	r->pool = pool;
	r->lease = lease;
	/* Validated to fit; memset ended it.  snprintf here showed in profiles (bench/README.md). */
	memcpy(r->fn, job->fn.ptr,
	    job->fn.len < sizeof r->fn ? job->fn.len : sizeof r->fn - 1);
	r->timeout = job->timeout;
	r->accepted = clock_now();
	r->len = len;
	memcpy(r->payload, head.data, head.size);
	memcpy(r->payload + head.size, args.ptr, args.len);
	memcpy(r->payload + head.size + args.len, kwargs.ptr, kwargs.len);
	if (identity.size > 0)
		memcpy(r->payload + head.size + args.len + kwargs.len,
		    identity.data, identity.size);
	if (lease != NULL) {
		r->owner = lease->owner;
	} else {
		memcpy(r->payload + r->len, job->owner.ptr, owner_len);
		r->payload[r->len + owner_len] = '\0';
		r->owner = r->payload + r->len;
	}
	r->user = caller->user;
	owner->charge(r->user, sizeof *r + r->len);
	in_flight++;
	return r;
}

void
run_free(struct run *r)
{
	r->owned_by->uncharge(r->user, sizeof *r + r->len);
	free(r);
	if (--in_flight == 0 && on_drained != NULL)
		on_drained();
}

static void
run_end(struct run *r, bool ok)
{
	double now = clock_now();

	histogram_add(&r->pool->counters.run_duration, now - r->accepted);
	if (r->lease != NULL)
		lease_run_end(r->lease, now);
	if (r->owned_by->ended != NULL)
		r->owned_by->ended(r, ok);
	run_free(r);
}

void
run_answer_result(struct run *r, struct evbuffer *src, size_t len)
{
	if (!r->cancelled)
		r->pool->counters.runs_completed++;
	r->owned_by->result(r, src, len);
	run_end(r, true);
}

void
run_answer_error(struct run *r, const struct lp_error *err)
{
	struct pool_counters *n = &r->pool->counters;

	switch (r->cancelled ? LP_OK : err->code) {
	case LP_OK:
		break;
	case LP_ERR_JOB_TIMEOUT:
	case LP_ERR_TIMEOUT: /* a submission no worker took in time */
		n->runs_timed_out++;
		break;
	case LP_ERR_WORKER_CRASHED:
		n->runs_crashed++;
		break;
	default:
		n->runs_failed++;
	}
	r->owned_by->error(r, err);
	run_end(r, false);
}

void
run_answer_cancelled(struct run *r, enum run_cancel how)
{
	static const char *const says[] = {
		[RUN_WITHDRAWN] = "cancelled before it started",
		[RUN_STOPPED] = "cancelled while it ran; its worker is stopped",
		[RUN_DISCARDED] =
		    "cancelled while it ran, which it goes on doing "
		    "(a thread, or a batch of the grinder); its "
		    "result is discarded",
	};
	struct lp_error err = { .code = LP_ERR_CANCELLED };

	snprintf(err.message, sizeof err.message, "'%s' %s", r->fn, says[how]);
	if (how == RUN_WITHDRAWN)
		r->pool->counters.cancelled_queued++;
	else
		r->pool->counters.cancelled_running++;
	r->cancelled = true;
	r->owned_by->error(r, &err);
	r->conn = NULL;
}

void
run_discard(struct run *r)
{
	run_end(r, false);
}

unsigned
runs_in_flight(void)
{
	return in_flight;
}

void
runs_on_drained(void (*drained)(void))
{
	on_drained = drained;
}
