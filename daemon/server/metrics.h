/* SPDX-License-Identifier: ISC */
/*
 * The Prometheus endpoint: with `metrics_listen = HOST:PORT` in [daemon],
 * GET /metrics answers the stats map (stats.c) in the text format
 * (proto/prometheus.c), the text `leasepool stats --prometheus` prints.
 * Off by default: it is a TCP port, and the service unit only allows
 * AF_UNIX until a drop-in says otherwise.
 */
#ifndef LP_DAEMON_METRICS_H
#define LP_DAEMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

/*
 * Listens on address (a metrics_listen value), warning when it is not a
 * loopback address; stops the daemon when it cannot.
 */
void metrics_start(struct event_base *base, const char *address);
void metrics_stop(void);

/* Whether address (a valid metrics_listen value) reaches past this host; why says so. */
bool metrics_exposed(const char *address, char *why, size_t len);

#endif
