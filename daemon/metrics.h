/*
 * The Prometheus endpoint: with `metrics_listen = HOST:PORT` in [daemon],
 * GET /metrics answers the stats map (stats.c) in the text format
 * (proto/prometheus.c), the text `leasepool stats --prometheus` prints.
 * Off by default: it is a TCP port, and the service unit only allows
 * AF_UNIX until a drop-in says otherwise.
 */
#ifndef LP_DAEMON_METRICS_H
#define LP_DAEMON_METRICS_H

#include <event2/event.h>

/* Listens on address (a metrics_listen value); stops the daemon when it cannot. */
void metrics_start(struct event_base *base, const char *address);
void metrics_stop(void);

#endif
