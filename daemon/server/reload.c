/* SPDX-License-Identifier: ISC */
/*
 * SIGHUP: parse the file again into a new configuration, validate it, then
 * swap in what can change without dropping work (timeouts, limits, pool
 * sizes, log level, who may use a pool).  Keys that need a restart are
 * named in the log and keep their running value; a bad file is reported
 * and changes nothing.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/backend/procpool.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/server/dispatch.h"
#include "daemon/server/reload.h"
#include "daemon/server/server.h"
#include "daemon/server/user.h"

static void
needs_restart(void *arg, const char *section, const char *key)
{
	unsigned *n = arg;

	(*n)++;
	log_warn(
	    "reload: %s %s changed; that takes effect only after a restart",
	    section, key);
}

int
reload_config(struct reload_result *r)
{
	static struct config next;
	char default_pool[sizeof server.cfg.default_pool];

	memset(r, 0, sizeof *r);
	if (server.config_path == NULL) {
		log_notice(
		    "reload: running on the embedded configuration; nothing to reload");
		return 0;
	}
	if (config_load(&next, server.config_path, r->error, sizeof r->error) ==
	    -1) {
		log_err("reload failed, the running configuration stays: %s",
		    r->error);
		return -1;
	}
	if (server.socket_override != NULL)
		memcpy(next.socket_path, server.cfg.socket_path,
		    sizeof next.socket_path);
	memcpy(default_pool, server.cfg.default_pool, sizeof default_pool);
	r->changed =
	    config_reload(&server.cfg, &next, needs_restart, &r->restart);
	if (config_pool(&server.cfg, server.cfg.default_pool,
		strlen(server.cfg.default_pool)) == NULL) {
		log_warn(
		    "reload: default_pool '%s' is a pool added by this reload; "
		    "keeping '%s' until a restart",
		    server.cfg.default_pool, default_pool);
		memcpy(server.cfg.default_pool, default_pool,
		    sizeof default_pool);
	}
	for (size_t i = 0; i < server.leases.npools; i++) {
		struct pool *p = &server.leases.pools[i];

		p->cfg =
		    *config_pool(&server.cfg, p->cfg.name, strlen(p->cfg.name));
		/* Leases of users let out end at their next run or renew. */
		lease_pool_refuse_waiters(p, dispatch_may_use);
	}
	user_budget_changed();
	log_set_level(server_log_level());
	procpool_reload();
	lease_table_warm(&server.leases, clock_now());
	server_schedule();
	log_notice(
	    "configuration reloaded from %s: %u key%s changed, restart needed for %u",
	    server.config_path, r->changed, lp_plural(r->changed), r->restart);
	server_warn_unsafe();
	return 0;
}
