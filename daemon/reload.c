/*
 * SIGHUP: parse the file again into a new configuration, validate it, then
 * swap in what can change without dropping work (timeouts, limits, pool
 * sizes, log level, who may use a pool).  Keys that need a restart are
 * named in the log and keep their running value; a bad file is reported
 * and changes nothing.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/dispatch.h"
#include "daemon/log.h"
#include "daemon/procpool.h"
#include "daemon/reload.h"
#include "daemon/server.h"

static void
needs_restart(void *arg, const char *section, const char *key)
{
	unsigned *n = arg;

	(*n)++;
	log_warn("reload: %s %s changed; that takes effect only after a restart", section, key);
}

void
reload_config(void)
{
	static struct lp_config next;
	char err[1024], default_pool[sizeof server.cfg.default_pool];
	unsigned changed, restart = 0;

	if (server.config_path == NULL) {
		log_notice("SIGHUP: running on the embedded configuration; nothing to reload");
		return;
	}
	if (config_load(&next, server.config_path, err, sizeof err) == -1) {
		log_err("reload failed, the running configuration stays: %s", err);
		return;
	}
	if (server.socket_override != NULL)
		memcpy(next.socket_path, server.cfg.socket_path, sizeof next.socket_path);
	memcpy(default_pool, server.cfg.default_pool, sizeof default_pool);
	changed = config_reload(&server.cfg, &next, needs_restart, &restart);
	if (config_pool(&server.cfg, server.cfg.default_pool, strlen(server.cfg.default_pool)) == NULL) {
		log_warn("reload: default_pool '%s' is a pool added by this reload; "
		    "keeping '%s' until a restart", server.cfg.default_pool, default_pool);
		memcpy(server.cfg.default_pool, default_pool, sizeof default_pool);
	}
	for (size_t i = 0; i < server.leases.npools; i++) {
		struct lp_pool *p = &server.leases.pools[i];

		p->cfg = *config_pool(&server.cfg, p->cfg.name, strlen(p->cfg.name));
		/* Leases of users let out end at their next run or renew. */
		lease_pool_refuse_waiters(p, dispatch_may_use);
	}
	log_set_level(server_log_level());
	procpool_reload();
	lease_table_warm(&server.leases, server_now());
	server_schedule();
	log_notice("configuration reloaded from %s: %u key%s changed, restart needed for %u",
	    server.config_path, changed, lp_plural(changed), restart);
}
