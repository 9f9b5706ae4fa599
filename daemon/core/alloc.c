/* SPDX-License-Identifier: ISC */
#include <stdlib.h>

#include "daemon/core/alloc.h"
#include "daemon/core/log.h"

void *
xmalloc(size_t size)
{
	void *p = malloc(size > 0 ? size : 1);

	if (p == NULL)
		fatalx("out of memory (%zu bytes)", size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n > 0 ? n : 1, size > 0 ? size : 1);

	if (p == NULL)
		fatalx("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

/* Never frees: a zero count keeps a one-byte block, so NULL always means failure. */
void *
xreallocarray(void *p, size_t n, size_t size)
{
	void *q = reallocarray(p, n > 0 ? n : 1, size > 0 ? size : 1);

	if (q == NULL)
		fatalx("out of memory (%zu x %zu bytes)", n, size);
	return q;
}
