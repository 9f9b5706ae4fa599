/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <msgpack.h>

#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/server/metrics.h"
#include "daemon/server/server.h"
#include "daemon/server/stats.h"
#include "proto/prometheus.h"

/* A scrape is one small GET: anything bigger or slower is not Prometheus. */
#define METRICS_TIMEOUT_SECONDS 10
#define METRICS_HEADERS_MAX 8192
#define METRICS_BODY_MAX 1024
/*
 * Connections served at once: a scraper or two, and someone with curl.
 * Past it the listener waits for one to close (or to time out, idle, after
 * METRICS_TIMEOUT_SECONDS): connections held open cannot take the
 * descriptors the Unix socket's clients need.
 */
#define METRICS_CONNECTIONS_MAX 16

static struct evhttp *http;
static struct evconnlistener *listener;
static unsigned open_connections;

static int
to_evbuffer(void *arg, const char *text, size_t len)
{
	return evbuffer_add(arg, text, len);
}

/*
 * The map a `stats` request gets, decoded, so that one formatter serves the
 * tool and us: as an anonymous viewer sees it, counts only, since anyone
 * who reaches the port may read it.
 */
static int
format_stats(struct evbuffer *body)
{
	msgpack_sbuffer packed;
	msgpack_packer pk;
	msgpack_unpacked stats;
	int rc = -1;

	msgpack_sbuffer_init(&packed);
	msgpack_packer_init(&pk, &packed, msgpack_sbuffer_write);
	stats_pack(&pk, NULL, NULL, clock_now());
	msgpack_unpacked_init(&stats);
	if (msgpack_unpack_next(&stats, packed.data, packed.size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS)
		rc = lp_prometheus_write(&stats.data, to_evbuffer, body);
	msgpack_unpacked_destroy(&stats);
	msgpack_sbuffer_destroy(&packed);
	return rc;
}

static void
serve_metrics(struct evhttp_request *req, void *arg)
{
	struct evbuffer *body;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", LP_PROMETHEUS_CONTENT_TYPE);
	/* libevent 2.1 would send a body even to HEAD. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		evhttp_send_reply(req, HTTP_OK, "OK", NULL);
		return;
	}
	if ((body = evbuffer_new()) == NULL || format_stats(body) == -1) {
		log_warn("metrics: out of memory");
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	} else {
		evhttp_send_reply(req, HTTP_OK, "OK", body);
	}
	if (body != NULL)
		evbuffer_free(body);
}

static void
connection_closed(struct evhttp_connection *evcon, void *arg)
{
	if (open_connections-- == METRICS_CONNECTIONS_MAX && listener != NULL)
		evconnlistener_enable(listener);
}

/*
 * Once evhttp has made a connection around bev: libevent 2.1 tells of a
 * connection's end only through its evhttp_connection, which evhttp makes
 * after new_connection() and passes as bev's callback argument.  bev is
 * ours until then (the reference new_connection() took); a connection
 * already gone has left bev without callbacks.
 */
static void
watch_connection(evutil_socket_t fd, short what, void *arg)
{
	struct bufferevent *bev = arg;
	bufferevent_event_cb eventcb;
	void *evcon;

	bufferevent_getcb(bev, NULL, NULL, &eventcb, &evcon);
	if (eventcb != NULL && evcon != NULL)
		evhttp_connection_set_closecb(evcon, connection_closed, NULL);
	else
		connection_closed(NULL, NULL);
	bufferevent_decref(bev);
}

/* evhttp's hook for each accepted connection: counts it, and stops accepting at the cap. */
static struct bufferevent *
new_connection(struct event_base *base, void *arg)
{
	static const struct timeval now = { 0, 0 };
	struct bufferevent *bev =
	    bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

	if (bev == NULL)
		/* evhttp makes one itself, uncounted: memory is short anyway */
		return NULL;
	bufferevent_incref(bev);
	if (event_base_once(base, -1, EV_TIMEOUT, watch_connection, bev,
		&now) == -1) {
		bufferevent_decref(bev);
		return bev; /* uncounted, as above */
	}
	if (++open_connections == METRICS_CONNECTIONS_MAX)
		evconnlistener_disable(listener);
	return bev;
}

bool
metrics_exposed(const char *address, char *why, size_t len)
{
	struct sockaddr_storage ss;
	int sslen = (int)sizeof ss;
	const struct in6_addr *in6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;

	if (address[0] == '\0' ||
	    evutil_parse_sockaddr_port(address, (struct sockaddr *)&ss,
		&sslen) != 0)
		return false;
	if (ss.ss_family == AF_INET &&
	    ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24 == 127)
		return false;
	if (ss.ss_family == AF_INET6 &&
	    (IN6_IS_ADDR_LOOPBACK(in6) ||
		(IN6_IS_ADDR_V4MAPPED(in6) && in6->s6_addr[12] == 127)))
		return false;
	snprintf(why, len,
	    "metrics_listen %s is not a loopback address: every host that can "
	    "reach it may read the daemon's statistics and hold its %d HTTP connections",
	    address, METRICS_CONNECTIONS_MAX);
	return true;
}

static int
listen_tcp(const char *address)
{
	struct sockaddr_storage ss;
	int sslen = (int)sizeof ss, one = 1, fd;

	/* config.c accepted it already; this is the same parser. */
	if (evutil_parse_sockaddr_port(address, (struct sockaddr *)&ss,
		&sslen) != 0)
		fatalx("metrics_listen %s: not an address and port", address);
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatalx("metrics_listen %s: socket: %s%s", address,
		    strerror(errno),
		    errno == EAFNOSUPPORT ?
			" (under systemd, RestrictAddressFamilies= must "
			"allow AF_INET or AF_INET6: see leasepoold.conf(5))" :
			"");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) == -1 ||
	    listen(fd, 16) == -1)
		fatalx("metrics_listen %s: %s", address, strerror(errno));
	return fd;
}

void
metrics_start(struct event_base *base, const char *address)
{
	int fd = listen_tcp(address);
	struct evhttp_bound_socket *bound;
	char why[256];

	if ((http = evhttp_new(base)) == NULL ||
	    (bound = evhttp_accept_socket_with_handle(http, fd)) == NULL)
		fatalx("metrics_listen %s: cannot serve HTTP", address);
	listener = evhttp_bound_socket_get_listener(bound);
	evhttp_set_bevcb(http, new_connection, NULL);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(http, METRICS_TIMEOUT_SECONDS);
	evhttp_set_max_headers_size(http, METRICS_HEADERS_MAX);
	evhttp_set_max_body_size(http, METRICS_BODY_MAX);
	evhttp_set_cb(http, "/metrics", serve_metrics, NULL);
	log_info("metrics on http://%s/metrics", address);
	if (metrics_exposed(address, why, sizeof why))
		log_warn("%s", why);
}

void
metrics_stop(void)
{
	/* evhttp_free() frees the listener before the connections it tells us of. */
	listener = NULL;
	if (http != NULL)
		evhttp_free(http);
	http = NULL;
}
