#include <stdlib.h>
#include <string.h>

#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/run.h"
#include "daemon/server.h"

struct run *
run_new(struct conn *c, uint32_t msgid, struct lp_lease *lease,
    const struct lp_run_params *p, double timeout)
{
	static msgpack_sbuffer job;
	static msgpack_packer pk;
	struct run *r;

	if (pk.data == NULL)
		msgpack_packer_init(&pk, &job, msgpack_sbuffer_write);
	msgpack_sbuffer_clear(&job);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_str_with_body(&pk, p->fn.ptr, p->fn.len);
	if (p->args != NULL)
		msgpack_pack_object(&pk, *p->args);
	else
		msgpack_pack_array(&pk, 0);
	if (p->kwargs != NULL)
		msgpack_pack_object(&pk, *p->kwargs);
	else
		msgpack_pack_map(&pk, 0);

	if ((r = malloc(sizeof *r + job.size)) == NULL)
		fatalx("out of memory");
	memset(r, 0, sizeof *r);
	r->conn = c;
	r->msgid = msgid;
	r->lease = lease;
	snprintf(r->fn, sizeof r->fn, "%.*s", (int)p->fn.len, p->fn.ptr);
	r->timeout = timeout;
	r->accepted = server_now();
	r->len = job.size;
	memcpy(r->payload, job.data, job.size);
	return r;
}

static void
run_end(struct run *r)
{
	if (r->conn != NULL)
		TAILQ_REMOVE(&r->conn->runs, r, conn_link);
	server.runs_in_flight--;
	lease_run_end(r->lease, server_now());
	free(r);
	server_schedule();
	server_check_drained();
}

void
run_answer_result(struct run *r, struct evbuffer *src, size_t len)
{
	r->lease->pool->counters.runs_completed++;
	if (r->conn != NULL)
		conn_send_result(r->conn, r->msgid, src, len);
	else
		evbuffer_drain(src, len);
	run_end(r);
}

void
run_answer_error(struct run *r, const struct lp_error *err)
{
	struct lp_pool_counters *n = &r->lease->pool->counters;

	switch (err->code) {
	case LP_ERR_JOB_TIMEOUT:
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
	run_end(r);
}
