#include <stdlib.h>
#include <string.h>

#include "daemon/core/alloc.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/core/run.h"
#include "daemon/jobs/exec.h"
#include "daemon/server/conn.h"
#include "daemon/server/grinder.h"
#include "daemon/server/server.h"
#include "daemon/server/user.h"

/*
 * Arguments go to the worker as the client encoded them: the daemon never
 * reads them, so it neither decodes nor packs them again.  Absent ones are
 * the empty array or map they stand for.
 */
static struct lp_raw
raw_or(struct lp_raw given, const char *empty)
{
	return given.len > 0 ? given : (struct lp_raw){ .ptr = empty, .len = 1, .depth = 1 };
}

bool
run_is_exec(struct lp_str fn)
{
	return fn.len == strlen(EXEC_FUNCTION) && memcmp(fn.ptr, EXEC_FUNCTION, fn.len) == 0;
}

/*
 * An exec runs as the client that asked: [uid, gid, [groups]] from
 * SO_PEERCRED and SO_PEERGROUPS, after its arguments (exec.c).
 */
static size_t
pack_caller(msgpack_sbuffer *buf, const struct conn *c)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, buf, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint32(&pk, c->holder.uid);
	msgpack_pack_uint32(&pk, c->holder.gid);
	msgpack_pack_array(&pk, c->ngroups);
	for (unsigned i = 0; i < c->ngroups; i++)
		msgpack_pack_uint32(&pk, c->groups[i]);
	return buf->size;
}

struct run *
run_new(struct conn *c, uint32_t msgid, struct lp_pool *pool, struct lp_lease *lease,
    const struct run_job *job)
{
	static msgpack_sbuffer head, caller;
	static msgpack_packer pk;
	struct lp_raw args = raw_or(job->args, "\x90"), kwargs = raw_or(job->kwargs, "\x80");
	size_t owner_len = lease != NULL ? 0 : job->owner.len, len;
	struct run *r;

	if (pk.data == NULL)
		msgpack_packer_init(&pk, &head, msgpack_sbuffer_write);
	msgpack_sbuffer_clear(&head);
	msgpack_sbuffer_clear(&caller);
	msgpack_pack_array(&pk, run_is_exec(job->fn) ? 4 : 3);
	msgpack_pack_str_with_body(&pk, job->fn.ptr, job->fn.len);
	len = head.size + args.len + kwargs.len;
	if (run_is_exec(job->fn))
		len += pack_caller(&caller, c);

	/* One allocation: the run, its packed job, and an item's owner after it. */
	r = xmalloc(sizeof *r + len + owner_len + 1);
	memset(r, 0, sizeof *r);
	r->conn = c;
	r->msgid = msgid;
	r->pool = pool;
	r->lease = lease;
	/* Validated to fit; memset ended it.  (snprintf here was 2 % of a pipelined run.) */
	memcpy(r->fn, job->fn.ptr, job->fn.len < sizeof r->fn ? job->fn.len : sizeof r->fn - 1);
	r->timeout = job->timeout;
	r->accepted = clock_now();
	r->len = len;
	memcpy(r->payload, head.data, head.size);
	memcpy(r->payload + head.size, args.ptr, args.len);
	memcpy(r->payload + head.size + args.len, kwargs.ptr, kwargs.len);
	if (caller.size > 0)
		memcpy(r->payload + head.size + args.len + kwargs.len, caller.data, caller.size);
	if (lease != NULL) {
		r->owner = lease->owner;
	} else {
		memcpy(r->payload + r->len, job->owner.ptr, owner_len);
		r->payload[r->len + owner_len] = '\0';
		r->owner = r->payload + r->len;
	}
	r->user = c->user;
	user_charge(r->user, sizeof *r + r->len);
	return r;
}

void
run_free(struct run *r)
{
	user_uncharge(r->user, sizeof *r + r->len);
	free(r);
}

static void
run_end(struct run *r, bool ok)
{
	struct grinder *g = r->grinder;
	double now = clock_now();

	if (r->conn != NULL)
		conn_remove_run(r->conn, r);
	server.runs_in_flight--;
	histogram_add(&r->pool->counters.run_duration, now - r->accepted);
	if (r->lease != NULL)
		lease_run_end(r->lease, now);
	run_free(r);
	if (g != NULL)
		grinder_item_done(g, ok);
	server_schedule_soon();
	server_check_drained();
}

void
run_answer_result(struct run *r, struct evbuffer *src, size_t len)
{
	r->pool->counters.runs_completed++;
	if (r->conn != NULL)
		conn_send_result(r->conn, r->msgid, src, len);
	else
		evbuffer_drain(src, len);
	run_end(r, true);
}

void
run_answer_error(struct run *r, const struct lp_error *err)
{
	struct lp_pool_counters *n = &r->pool->counters;

	switch (err->code) {
	case LP_ERR_JOB_TIMEOUT:
	case LP_ERR_TIMEOUT:		/* a submission no worker took in time */
		n->runs_timed_out++;
		break;
	case LP_ERR_WORKER_CRASHED:
		n->runs_crashed++;
		break;
	default:
		n->runs_failed++;
	}
	if (r->conn != NULL)
		conn_send_error(r->conn, r->msgid, err);
	run_end(r, false);
}
