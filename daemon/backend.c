#include "daemon/backend.h"
#include "daemon/procpool.h"

static const struct backend_ops *const backends[] = {
	[LP_BACKEND_PROCESS] = &procpool_ops,
};

const struct backend_ops *
backend_of(const struct lp_pool *p)
{
	return backends[p->cfg.backend];
}

const char *
backends_check(const struct lp_config *cfg)
{
	for (size_t i = 0; i < cfg->npools; i++) {
		enum lp_backend b = cfg->pools[i].backend;

		if ((size_t)b >= sizeof backends / sizeof backends[0] || backends[b] == NULL)
			return cfg->pools[i].name;
	}
	return NULL;
}

void
backends_stop(void)
{
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (backends[i] != NULL)
			backends[i]->stop();
}
