/* The `stats` method's answer: gauges and counters of the daemon and its pools. */
#ifndef LP_DAEMON_STATS_H
#define LP_DAEMON_STATS_H

#include <msgpack.h>

#include "daemon/lease.h"

/* Packs the stats map; only one pool when `only` is not NULL. */
void stats_pack(msgpack_packer *pk, const struct lp_pool *only, double now);

#endif
