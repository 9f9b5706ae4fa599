/* SPDX-License-Identifier: ISC */
/*
 * The `stats` map (docs/protocol.md) in the Prometheus text exposition
 * format, version 0.0.4.  One formatter serves the daemon's metrics
 * endpoint and `leasepool stats --prometheus`: both decode the same map
 * and print it here, so a scrape and the textfile collector see the same
 * names, labels and help texts.  No I/O: text goes out through a sink.
 */
#ifndef LP_PROTO_PROMETHEUS_H
#define LP_PROTO_PROMETHEUS_H

#include <stddef.h>
#include <msgpack.h>

/* The Content-Type of the text, for HTTP. */
#define LP_PROMETHEUS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Takes len bytes of text; returns 0, or -1 to stop the formatter. */
typedef int lp_text_sink(void *arg, const char *text, size_t len);

/*
 * Writes every metric of stats (a decoded stats map): each family's HELP
 * and TYPE lines, then its samples.  Values missing from the map (an
 * older daemon) are left out.  Returns 0, or -1 when the sink failed or
 * stats is not a map.
 */
int lp_prometheus_write(const msgpack_object *stats, lp_text_sink *sink,
    void *arg);

#endif
