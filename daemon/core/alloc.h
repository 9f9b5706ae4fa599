/* SPDX-License-Identifier: ISC */
#ifndef LP_DAEMON_ALLOC_H
#define LP_DAEMON_ALLOC_H

#include <stddef.h>

/*
 * Allocation that cannot fail: the daemon's small, bounded structures have
 * no sensible answer to ENOMEM but to stop loudly.  What a client sends is
 * bounded by the configuration before it reaches these.  One file, so that
 * a test can replace it to make allocations fail.
 */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);

#endif
