/* SPDX-License-Identifier: ISC */
/*
 * Requests in flight: the table of callbacks keyed by msgid, queueing a
 * request, completing it when its answer arrives (in completion order, not
 * request order), and the blocking call built on top.
 *
 * The table is indexed by id & (ncalls - 1) and kept at most half full.
 * A new request takes the next id whose slot is free, which also skips
 * every msgid still pending once the ids pass 2^32 and msgids (their low 32
 * bits) come round again.  Doubling the table never collides: ids apart in
 * the low bits stay apart in more of them.
 *
 * Every queued request's callback runs exactly once: with its answer, or
 * with the error that ended the connection, or when the client is freed.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "client/lib/client.h"
#include "proto/rpc.h"

#define CALLS_MIN 16

static bool
calls_grow(struct lp_client *c)
{
	uint32_t n = c->ncalls == 0 ? CALLS_MIN : c->ncalls * 2, i;
	struct call *calls;

	if (n == 0 || (calls = calloc(n, sizeof *calls)) == NULL)
		return false;
	for (i = 0; i < c->ncalls; i++) {
		if (c->calls[i].used)
			calls[c->calls[i].id & (n - 1)] = c->calls[i];
	}
	free(c->calls);
	c->calls = calls;
	c->ncalls = n;
	return true;
}

static struct call *
calls_add(struct lp_client *c, lp_done_cb *done, void *arg)
{
	struct call *call;

	if (c->pending >= c->ncalls / 2 && !calls_grow(c))
		return NULL;
	while (c->calls[c->next_call & (c->ncalls - 1)].used)
		c->next_call++;
	call = &c->calls[c->next_call & (c->ncalls - 1)];
	*call = (struct call){ c->next_call++, true, done, arg };
	c->pending++;
	return call;
}

/* Takes the request out of the table before its callback can run. */
static bool
calls_take(struct lp_client *c, uint32_t msgid, struct call *out)
{
	struct call *call;

	if (c->ncalls == 0)
		return false;
	call = &c->calls[msgid & (c->ncalls - 1)];
	if (!call->used || (uint32_t)call->id != msgid)
		return false;
	*out = *call;
	call->used = false;
	c->pending--;
	return true;
}

static bool
calls_pending(const struct lp_client *c, uint64_t id)
{
	const struct call *call;

	if (c->ncalls == 0)
		return false;
	call = &c->calls[id & (c->ncalls - 1)];
	return call->used && call->id == id;
}

static void
call_done(struct lp_client *c, const struct call *call, enum lp_err code,
    struct lp_value *result, const struct lp_error *err)
{
	if (call->done != NULL)
		call->done(c, code, result, err, call->arg);
	else
		lp_value_free(result);
}

void
lpc_call_fail_all(struct lp_client *c, const struct lp_error *why)
{
	struct call call;
	uint32_t i;

	/* Callbacks cannot add to the table: the connection is dead. */
	for (i = 0; i < c->ncalls; i++) {
		if (calls_take(c, (uint32_t)c->calls[i].id, &call))
			call_done(c, &call, why->code, NULL, why);
	}
}

void
lpc_calls_free(struct lp_client *c)
{
	free(c->calls);
	c->calls = NULL;
	c->ncalls = 0;
}

/* *id (may be NULL) gets the request's id, or 0 when it was not queued. */
enum lp_err
lpc_call_queue(struct lp_client *c, const char *method, const struct params *ps,
    lp_done_cb *done, void *arg, uint64_t *id, struct lp_error *err)
{
	bool was_idle = !lp_client_want_write(c);
	size_t mark = c->out.len;
	msgpack_packer pk;
	struct call *call, dropped;

	if (id != NULL)
		*id = 0;
	if (c->dead)
		return lpc_conn_dead_error(c, err);
	if (ps->failed)
		return lpc_error_set(err, LP_ERR_SYSTEM,
		    "out of memory for the arguments");
	if ((call = calls_add(c, done, arg)) == NULL)
		return lpc_error_set(err, LP_ERR_SYSTEM,
		    "out of memory for a request");

	msgpack_packer_init(&pk, &c->out, lpc_buf_write);
	lp_pack_request(&pk, (uint32_t)call->id, method, ps->entries);
	lpc_params_pack(&pk, ps);
	if (c->out.failed) {
		c->out.len = mark;
		c->out.failed = false;
		calls_take(c, (uint32_t)call->id, &dropped);
		return lpc_error_set(err, LP_ERR_SYSTEM,
		    "out of memory for a request");
	}
	if (id != NULL)
		*id = call->id;
	if (was_idle && c->queue_cb != NULL)
		c->queue_cb(c, c->queue_arg);
	return lpc_error_ok(err);
}

static void
call_response(struct lp_client *c, msgpack_zone *zone,
    const struct lp_message *m)
{
	struct lp_value *v = NULL;
	struct lp_error e;
	struct call call;

	if (!calls_take(c, m->msgid, &call)) {
		lpc_zone_free(zone);
		lpc_conn_fail(c, LP_ERR_PROTOCOL,
		    "leasepoold answered request %u, which was not asked",
		    (unsigned)m->msgid);
		return;
	}
	if (m->error->type != MSGPACK_OBJECT_NIL)
		lp_response_error(m->error, &e);
	else if ((v = lpc_value_new(zone, m->result)) == NULL)
		lpc_error_set(&e, LP_ERR_SYSTEM, "out of memory for a result");
	else
		lpc_error_ok(&e);
	if (v == NULL)
		lpc_zone_free(zone);
	call_done(c, &call, e.code, v, &e);
}

/* An "error" notification: the daemon found our stream bad and hangs up. */
static void
call_notification(struct lp_client *c, const struct lp_message *m)
{
	static const char error[] = "error";
	struct lp_error e;

	/* Other notifications are for newer clients. */
	if (m->method.len != sizeof error - 1 ||
	    memcmp(m->method.ptr, error, sizeof error - 1) != 0)
		return;
	lp_response_error(m->params, &e);
	lpc_conn_fail(c, e.code, "%s", e.message);
}

/* Takes ownership of zone, which holds o. */
void
lpc_call_dispatch(struct lp_client *c, msgpack_zone *zone,
    const msgpack_object *o)
{
	struct lp_message m;
	struct lp_error e;
	bool known;

	if (lp_message_parse(o, &m, &e, &known) != LP_OK)
		lpc_conn_fail(c, LP_ERR_PROTOCOL,
		    "leasepoold sent a bad message: %s", e.message);
	else if (m.kind == LP_MSG_REQUEST)
		lpc_conn_fail(c, LP_ERR_PROTOCOL, "leasepoold sent a request");
	else if (m.kind == LP_MSG_RESPONSE) {
		call_response(c, zone, &m);
		return;
	} else
		call_notification(c, &m);
	lpc_zone_free(zone);
}

struct waiter {
	bool done;
	struct lp_value *result;
	struct lp_error err;
};

static void
waiter_done(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct waiter *w = arg;

	w->done = true;
	w->result = result;
	w->err = *err;
}

/* Other requests may complete while this one waits: that is their turn. */
enum lp_err
lpc_call_wait(struct lp_client *c, const char *method, const struct params *ps,
    struct lp_value **result, struct lp_error *err)
{
	struct waiter w = { 0 };
	enum lp_err code;

	if (result != NULL)
		*result = NULL;
	code = lpc_call_queue(c, method, ps, waiter_done, &w, NULL, err);
	if (code != LP_OK)
		return code;
	while (!w.done)
		lpc_conn_wait(c);
	if (result != NULL)
		*result = w.result;
	else
		lp_value_free(w.result);
	return lpc_error_copy(err, &w.err);
}

enum lp_err
lp_call_async(struct lp_client *c, const char *method, const void *params,
    size_t params_len, lp_done_cb *done, void *arg, struct lp_error *err)
{
	return lp_call_start(c, method, params, params_len, done, arg, NULL,
	    err);
}

enum lp_err
lp_call_start(struct lp_client *c, const char *method, const void *params,
    size_t params_len, lp_done_cb *done, void *arg, uint64_t *call,
    struct lp_error *err)
{
	struct params ps = { 0 };
	enum lp_err code;

	if (call != NULL)
		*call = 0;
	if ((code = lpc_params_raw(&ps, params, params_len, err)) != LP_OK)
		return code;
	return lpc_call_queue(c, method, &ps, done, arg, call, err);
}

/*
 * An id this client never gave is the caller's mistake; one it gave that
 * is no longer in the table was answered (or failed with the connection),
 * and its callback has run: nothing is left to cancel, and the daemon would
 * only count it finished.  Otherwise the daemon answers the cancelled
 * request before the cancel, so once the cancel's answer is in, the
 * request's callback has run, with CANCELLED or with its answer; a
 * refusal (an acquire is no run) leaves the request as it was.
 */
enum lp_err
lp_cancel(struct lp_client *c, uint64_t call, struct lp_error *err)
{
	struct params ps = { 0 };

	if (call == 0 || call >= c->next_call)
		return lpc_error_set(err, LP_ERR_INVALID_ARGUMENT,
		    "this client never started a request %" PRIu64, call);
	if (!calls_pending(c, call))
		return lpc_error_ok(err);
	lpc_params_u64(&ps, "msgid", (uint32_t)call);
	return lpc_call_wait(c, "cancel", &ps, NULL, err);
}

enum lp_err
lp_call(struct lp_client *c, const char *method, const void *params,
    size_t params_len, struct lp_value **result, struct lp_error *err)
{
	struct params ps = { 0 };
	enum lp_err code;

	if ((code = lpc_params_raw(&ps, params, params_len, err)) != LP_OK)
		return code;
	return lpc_call_wait(c, method, &ps, result, err);
}

size_t
lp_client_pending(const struct lp_client *c)
{
	return c->pending;
}

enum lp_err
lp_client_wait_all(struct lp_client *c, struct lp_error *err)
{
	while (c->pending > 0)
		lpc_conn_wait(c);
	if (c->dead)
		return lpc_conn_dead_error(c, err);
	return lpc_error_ok(err);
}
