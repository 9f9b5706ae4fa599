/* SPDX-License-Identifier: ISC */
/* The `stats` method's answer: gauges and counters of the daemon and its pools. */
#ifndef LP_DAEMON_STATS_H
#define LP_DAEMON_STATS_H

#include <msgpack.h>

#include "daemon/core/lease.h"

struct conn;

/*
 * Packs the stats map as viewer may see it (docs/protocol.md): root and the
 * daemon's user see every client and lease, another user its own and only
 * counts of the rest, an anonymous viewer (NULL) only counts.  Only one
 * pool when `only` is not NULL.
 */
void stats_pack(msgpack_packer *pk, const struct pool *only,
    const struct conn *viewer, double now);

#endif
