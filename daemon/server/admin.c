/* SPDX-License-Identifier: ISC */
/*
 * The administrator's methods: reload, drain, resume and config, for root
 * and the daemon's own user only (conn_is_admin()).  The configuration is
 * theirs too: it holds no client's data, but it names the users and groups
 * each pool admits, and the file itself may be readable by its owner only;
 * the daemon shows it to no one the file would not.
 */
#include <string.h>
#include <unistd.h>

#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/server/admin.h"
#include "daemon/server/conn.h"
#include "daemon/server/reload.h"
#include "daemon/server/server.h"
#include "proto/text.h"

/* True for an administrator; anyone else is answered PERMISSION_DENIED, saying who may. */
static bool
admin_only(struct conn *c, const struct lp_request *req)
{
	const char *method = lp_method_name(req->method);
	struct lp_error err;

	if (conn_is_admin(c))
		return true;
	log_warn("%s: refused %s: not root or the daemon's user", conn_label(c),
	    method);
	if (geteuid() == 0)
		lp_error_set(&err, LP_ERR_PERMISSION_DENIED,
		    "%s is for root, the daemon's "
		    "user; uid %u may not",
		    method, (unsigned)c->holder.uid);
	else
		lp_error_set(&err, LP_ERR_PERMISSION_DENIED,
		    "%s is for root and uid %u, the "
		    "daemon's user; uid %u may not",
		    method, (unsigned)geteuid(), (unsigned)c->holder.uid);
	conn_send_error(c, req->msgid, &err);
	return false;
}

void
admin_reload(struct conn *c, const struct lp_request *req)
{
	struct reload_result r;
	struct lp_error err;
	msgpack_packer *pk;

	if (!admin_only(c, req))
		return;
	log_notice("%s asked for a reload", conn_label(c));
	if (server_reload(&r) == -1) {
		lp_error_set(&err, LP_ERR_INVALID_ARGUMENT,
		    "the running configuration stays: %s", r.error);
		conn_send_error(c, req->msgid, &err);
		return;
	}
	pk = conn_packer();
	lp_pack_response_ok(pk, req->msgid);
	msgpack_pack_map(pk, 3);
	lp_pack_kv_str(pk, "source", server.cfg.source);
	lp_pack_kv_u64(pk, "changed", r.changed);
	lp_pack_kv_u64(pk, "restart", r.restart);
	conn_send(c);
}

/* The pool named, or every pool: [*first, *end); false (answered) for an unknown name. */
static bool
chosen_pools(struct conn *c, const struct lp_request *req, struct pool **first,
    struct pool **end)
{
	const struct lp_drain_params *p = &req->p.drain;
	char buf[LP_QUOTE_SIZE];
	struct lp_error err;

	*first = server.leases.pools;
	*end = *first + server.leases.npools;
	if (!p->has_pool)
		return true;
	if ((*first = lease_table_pool(&server.leases, p->pool.ptr,
		 p->pool.len)) == NULL) {
		lp_error_set(&err, LP_ERR_NO_SUCH_POOL, "no pool named '%s'",
		    lp_quote(p->pool.ptr, p->pool.len, buf));
		conn_send_error(c, req->msgid, &err);
		return false;
	}
	*end = *first + 1;
	return true;
}

/* {pools: [names], leased: executors the pools still have leased} */
static void
answer_pools(struct conn *c, uint32_t msgid, const struct pool *first,
    const struct pool *end)
{
	msgpack_packer *pk = conn_packer();
	unsigned leased = 0;

	lp_pack_response_ok(pk, msgid);
	msgpack_pack_map(pk, 2);
	lp_pack_cstr(pk, "pools");
	msgpack_pack_array(pk, (uint32_t)(end - first));
	for (const struct pool *p = first; p < end; p++) {
		lp_pack_cstr(pk, p->cfg.name);
		leased += lease_pool_leased(p);
	}
	lp_pack_kv_u64(pk, "leased", leased);
	conn_send(c);
}

static void
resume(struct pool *p)
{
	lease_pool_resume(p, clock_now());
}

/* Drains or resumes the pools chosen, saying so in the log and the answer. */
static void
change_pools(struct conn *c, const struct lp_request *req,
    void (*change)(struct pool *), const char *what)
{
	struct pool *first, *end;

	if (!admin_only(c, req) || !chosen_pools(c, req, &first, &end))
		return;
	for (struct pool *p = first; p < end; p++) {
		change(p);
		log_notice(
		    "pool %s %s by %s: %u executors leased, %u acquires waiting",
		    p->cfg.name, what, conn_label(c), lease_pool_leased(p),
		    p->nwaiters);
	}
	server_schedule();
	answer_pools(c, req->msgid, first, end);
}

void
admin_drain(struct conn *c, const struct lp_request *req)
{
	change_pools(c, req, lease_pool_drain,
	    "drained (no lease is granted until it is resumed)");
}

void
admin_resume(struct conn *c, const struct lp_request *req)
{
	change_pools(c, req, resume, "resumed");
}

static void
pack_section(void *arg, const struct pool_config *pool, unsigned nkeys)
{
	msgpack_packer *pk = arg;

	if (pool == NULL) {
		lp_pack_cstr(pk, "daemon");
	} else {
		if (pool == server.cfg.pools) {
			lp_pack_cstr(pk, "pools");
			msgpack_pack_map(pk, (uint32_t)server.cfg.npools);
		}
		lp_pack_cstr(pk, pool->name);
	}
	msgpack_pack_map(pk, nkeys);
}

static void
pack_value(void *arg, const char *key, const char *value)
{
	lp_pack_kv_str(arg, key, value);
}

void
admin_config(struct conn *c, const struct lp_request *req)
{
	msgpack_packer *pk;

	if (!admin_only(c, req))
		return;
	pk = conn_packer();
	lp_pack_response_ok(pk, req->msgid);
	msgpack_pack_map(pk, 3);
	lp_pack_kv_str(pk, "source", server.cfg.source);
	config_each_value(&server.cfg, pack_section, pack_value, pk);
	conn_send(c);
}
