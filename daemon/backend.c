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

void
backends_stop(void)
{
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		backends[i]->stop();
}
