/* SPDX-License-Identifier: ISC */
#include "daemon/backend/backend.h"
#include "daemon/backend/procpool.h"
#include "daemon/backend/threadpool.h"

static const struct backend_ops *const backends[] = {
	[LP_BACKEND_PROCESS] = &procpool_ops,
	[LP_BACKEND_THREAD] = &threadpool_ops,
};

const struct backend_ops *
backend_of(const struct lp_pool *p)
{
	return backends[p->cfg.backend];
}

/*
 * Last to first: procpool_stop() frees the backend state of every
 * executor that still has some, so the other backends free theirs first.
 */
void
backends_stop(void)
{
	for (size_t i = sizeof backends / sizeof backends[0]; i > 0; i--)
		if (backends[i - 1] != NULL)
			backends[i - 1]->stop();
}
