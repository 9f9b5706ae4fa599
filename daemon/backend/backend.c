/* SPDX-License-Identifier: ISC */
#include <stddef.h>

#include "daemon/backend/backend.h"

/* The last kind of enum backend (config.h). */
#define NBACKENDS (LP_BACKEND_THREAD + 1)

/* Filled by backend_register(): this file knows no backend by name. */
static const struct backend_ops *backends[NBACKENDS];

void
backend_register(enum backend kind, const struct backend_ops *ops)
{
	backends[kind] = ops;
}

const struct backend_ops *
backend_of(const struct pool *p)
{
	return backends[p->cfg.backend];
}

void
backends_init(const struct backend_env *env)
{
	for (size_t i = 0; i < NBACKENDS; i++)
		if (backends[i] != NULL)
			backends[i]->init(env);
}

/*
 * Last to first: procpool_stop() frees the backend state of every
 * executor that still has some, so the other backends free theirs first.
 */
void
backends_stop(void)
{
	for (size_t i = NBACKENDS; i > 0; i--)
		if (backends[i - 1] != NULL)
			backends[i - 1]->stop();
}
