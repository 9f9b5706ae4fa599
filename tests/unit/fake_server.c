/* SPDX-License-Identifier: ISC */
/*
 * The fakes of tests/unit/fake_server.h: what conn.c, user.c and server.c
 * are to grinder.c and dispatch.c, as little of it as they need.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "daemon/backend/backend.h"
#include "daemon/core/alloc.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/server/dispatch.h"
#include "daemon/server/grinder.h"
#include "tests/unit/fake_server.h"

struct server server;
struct fake_answers fake_answers;

#define FAKE_CONNS_MAX 8

static struct conn *conns[FAKE_CONNS_MAX];

/* ---- server.c ---- */

void
server_schedule(void)
{
}

void
server_schedule_soon(void)
{
}

int
server_reload(struct reload_result *r)
{
	ck_abort_msg("no unit test reloads");
	return -1;
}

/* ---- user.c: a user's bytes only count ---- */

void
user_charge(struct user *u, size_t n)
{
	u->bytes += n;
}

void
user_uncharge(struct user *u, size_t n)
{
	ck_assert_uint_ge(u->bytes, n);
	u->bytes -= n;
}

/* ---- conn.c: answers are recorded ---- */

static void
record(struct conn *c, uint32_t msgid, enum lp_err code, const char *message)
{
	struct fake_answer *a;

	ck_assert_uint_lt(fake_answers.n, FAKE_ANSWERS_MAX);
	a = &fake_answers.a[fake_answers.n++];
	a->conn = c;
	a->msgid = msgid;
	a->code = code;
	snprintf(a->message, sizeof a->message, "%s", message);
}

void
conn_add_run(struct conn *c, struct run *r)
{
	TAILQ_INSERT_TAIL(&c->runs, r, conn_link);
	c->nruns++;
}

void
conn_remove_run(struct conn *c, struct run *r)
{
	TAILQ_REMOVE(&c->runs, r, conn_link);
	c->nruns--;
}

struct run *
conn_run_of(const struct conn *c, uint32_t msgid)
{
	struct run *r;

	TAILQ_FOREACH (r, &c->runs, conn_link)
		if (r->msgid == msgid)
			return r;
	return NULL;
}

bool
conn_acquire_waits(const struct conn *c, uint32_t msgid)
{
	const struct waiter *w;

	TAILQ_FOREACH (w, &c->holder.waiters, holder_link)
		if (w->tag == msgid)
			return true;
	return false;
}

bool
conn_msgid_in_flight(const struct conn *c, uint32_t msgid)
{
	return conn_run_of(c, msgid) != NULL || conn_acquire_waits(c, msgid);
}

struct run_caller
conn_caller(struct conn *c)
{
	return (struct run_caller){ .conn = c,
		.user = c->user,
		.uid = c->holder.uid,
		.gid = c->holder.gid };
}

/* r is answered on its connection, if it still has one. */
static void
answer_run(struct run *r, enum lp_err code, const char *message)
{
	if (r->conn == NULL)
		return;
	conn_remove_run(r->conn, r);
	record(r->conn, r->msgid, code, message);
}

void
conn_answer_result(struct run *r, struct evbuffer *src, size_t len)
{
	evbuffer_drain(src, len);
	answer_run(r, LP_OK, "");
}

void
conn_answer_error(struct run *r, const struct lp_error *err)
{
	answer_run(r, err->code, err->message);
}

const struct run_owner conn_run_owner = {
	.charge = user_charge,
	.uncharge = user_uncharge,
	.result = conn_answer_result,
	.error = conn_answer_error,
};

bool
conn_has_group(const struct conn *c, gid_t gid)
{
	return c->holder.gid == gid;
}

bool
conn_is_admin(const struct conn *c)
{
	return c->holder.uid == 0;
}

const char *
conn_label(const struct conn *c)
{
	return "a fake client";
}

msgpack_packer *
conn_packer(void)
{
	msgpack_sbuffer_clear(&server.scratch);
	return &server.packer;
}

/* A response packed in server.scratch, [1, msgid, error, result]: only a result is sent this way. */
void
conn_send(struct conn *c)
{
	msgpack_unpacked msg;
	const msgpack_object *o;

	msgpack_unpacked_init(&msg);
	ck_assert_int_eq(msgpack_unpack_next(&msg, server.scratch.data,
			     server.scratch.size, NULL),
	    MSGPACK_UNPACK_SUCCESS);
	o = msg.data.via.array.ptr;
	ck_assert_int_eq(o[2].type, MSGPACK_OBJECT_NIL);
	record(c, (uint32_t)o[1].via.u64, LP_OK, "");
	msgpack_unpacked_destroy(&msg);
}

void
conn_send_error(struct conn *c, uint32_t msgid, const struct lp_error *err)
{
	ck_assert_int_ne(err->code, LP_OK);
	record(c, msgid, err->code, err->message);
}

struct conn *
fake_conn_new(struct user *u, uid_t uid)
{
	struct conn *c = xcalloc(1, sizeof *c);
	unsigned i;

	for (i = 0; conns[i] != NULL; i++)
		ck_assert_uint_lt(i + 1, FAKE_CONNS_MAX);
	conns[i] = c;
	lease_holder_init(&c->holder, c);
	c->holder.uid = uid;
	c->holder.gid = uid;
	c->holder.pid = getpid();
	TAILQ_INIT(&c->runs);
	LIST_INIT(&c->grinds);
	c->user = u;
	return c;
}

void
fake_conn_close(struct conn *c)
{
	struct run *r;
	unsigned i;

	for (i = 0; conns[i] != c; i++)
		ck_assert_uint_lt(i + 1, FAKE_CONNS_MAX);
	conns[i] = NULL;
	grinder_drop_conn(c);
	while ((r = TAILQ_FIRST(&c->runs)) != NULL) {
		conn_remove_run(c, r);
		r->conn = NULL;
	}
	lease_holder_drop(&c->holder, clock_now());
	free(c);
}

/* ---- a backend whose workers hold what they are handed ---- */

struct fake_engine {
	struct engine e; /* first, as a backend's: the stop frees it */
	struct fake_worker workers[];
};

#define FAKE_EXECUTORS_MAX 8

/* Executors asked for and not yet up. */
static struct executor *starting[FAKE_EXECUTORS_MAX];
static unsigned nstarting;

static struct exec_slot *
worker_at(struct engine *e, unsigned i)
{
	return &((struct fake_engine *)e)->workers[i].es;
}

static struct exec_slot *
idle_worker(struct engine *e)
{
	struct fake_engine *fe = (struct fake_engine *)e;

	for (unsigned i = 0; i < e->nslots; i++)
		if (!fe->workers[i].busy)
			return &fe->workers[i].es;
	return NULL;
}

static unsigned
share(struct engine *e, struct exec_slot *s)
{
	return 1;
}

static size_t
batch_bytes(void)
{
	return SIZE_MAX;
}

static void
give(struct engine *e, struct exec_slot *s, struct run **runs, unsigned n)
{
	struct fake_worker *w = EXEC_SLOT_OWNER(s, struct fake_worker);

	ck_assert(!w->busy);
	w->busy = true;
	w->batches++;
}

/* As a thread's: it ends its batch after the run it runs. */
static void
recall(struct engine *e, struct exec_slot *s)
{
	EXEC_SLOT_OWNER(s, struct fake_worker)->recalls++;
	executor_requeue(e, s, s->done + 1);
}

static void
release(struct engine *e)
{
	struct fake_engine *fe = (struct fake_engine *)e;

	for (unsigned i = 0; i < e->nslots; i++)
		free(fe->workers[i].es.batch);
}

static const struct executor_ops fake_executor_ops = {
	.slot = worker_at,
	.idle_slot = idle_worker,
	.share = share,
	.batch_bytes = batch_bytes,
	.give = give,
	.recall = recall,
	.release = release,
};

static void
fake_start_executor(struct executor *ex)
{
	unsigned n = ex->pool->cfg.workers;
	struct fake_engine *fe =
	    xcalloc(1, sizeof *fe + n * sizeof fe->workers[0]);

	ck_assert_uint_lt(nstarting, FAKE_EXECUTORS_MAX);
	executor_init(&fe->e, ex, &fake_executor_ops, n);
	ex->backend = fe;
	starting[nstarting++] = ex;
}

static void
fake_stop_executor(struct executor *ex)
{
	if (ex->backend != NULL)
		release(ex->backend);
	free(ex->backend);
	ex->backend = NULL;
}

static const struct backend_ops fake_backend = {
	.start_executor = fake_start_executor,
	.stop_executor = fake_stop_executor,
};

struct fake_worker *
fake_worker(struct pool *p, unsigned i)
{
	struct fake_engine *fe = TAILQ_FIRST(&p->executors)->backend;

	ck_assert_uint_lt(i, fe->e.nslots);
	return &fe->workers[i];
}

void
fake_worker_finish(struct pool *p, unsigned i)
{
	struct fake_worker *w = fake_worker(p, i);
	struct evbuffer *out = evbuffer_new();
	struct run *r = exec_slot_next(&w->es);

	ck_assert_ptr_nonnull(r);
	/* As a backend's: idle first, the run answered last. */
	if (w->es.done == w->es.nbatch) {
		w->busy = false;
		executor_pump(TAILQ_FIRST(&p->executors)->backend);
	}
	evbuffer_add(out, "\xc0", 1); /* nil */
	run_answer_result(r, out, 1);
	evbuffer_free(out);
}

/* ---- the server ---- */

void
fake_server_start(const char *ini)
{
	char err[512];

	log_set_level(LOG_ERR);
	ck_assert_msg(config_load_string(&server.cfg, ini, "test.conf", err,
			  sizeof err) == 0,
	    "%s", err);
	server.base = event_base_new();
	ck_assert_ptr_nonnull(server.base);
	msgpack_sbuffer_init(&server.scratch);
	msgpack_packer_init(&server.packer, &server.scratch,
	    msgpack_sbuffer_write);
	backend_register(LP_BACKEND_PROCESS, &fake_backend);
	backend_register(LP_BACKEND_THREAD, &fake_backend);
	lease_table_init(&server.leases, &server.cfg, &dispatch_lease_events,
	    NULL);
	grinder_init(&server.leases);
	lease_table_warm(&server.leases, clock_now());
	while (nstarting > 0)
		lease_executor_ready(starting[--nstarting], clock_now());
}

/* What every worker holds, and every executor's queue, joins stopped; the engines go. */
static void
stop_backend(struct run_queue *stopped)
{
	for (size_t i = 0; i < server.leases.npools; i++) {
		struct executor *ex;

		TAILQ_FOREACH (ex, &server.leases.pools[i].executors, link) {
			struct fake_engine *fe = ex->backend;

			for (unsigned w = 0; fe != NULL && w < fe->e.nslots;
			     w++)
				exec_slot_stop(&fe->workers[w].es, stopped);
		}
	}
	executors_stop(&server.leases, LP_BACKEND_PROCESS, stopped);
	executors_stop(&server.leases, LP_BACKEND_THREAD, stopped);
}

void
fake_server_stop(void)
{
	struct run_queue stopped = TAILQ_HEAD_INITIALIZER(stopped);

	server.stopping = true;
	lease_table_stop(&server.leases);
	grinder_stop(&server.leases);
	stop_backend(&stopped);
	executors_answer_stopped(&stopped);
	for (unsigned i = 0; i < FAKE_CONNS_MAX; i++)
		if (conns[i] != NULL)
			fake_conn_close(conns[i]);
	ck_assert_uint_eq(runs_in_flight(), 0);
	grinder_free(&server.leases);
	lease_table_free(&server.leases);
	event_base_free(server.base);
	msgpack_sbuffer_destroy(&server.scratch);
	memset(&server, 0, sizeof server);
}
