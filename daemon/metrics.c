#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/util.h>
#include <msgpack.h>

#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/server.h"
#include "daemon/stats.h"
#include "proto/prometheus.h"

/* A scrape is one small GET: anything bigger or slower is not Prometheus. */
#define METRICS_TIMEOUT_SECONDS 10
#define METRICS_HEADERS_MAX 8192
#define METRICS_BODY_MAX 1024

static struct evhttp *http;

static int
to_evbuffer(void *arg, const char *text, size_t len)
{
	return evbuffer_add(arg, text, len);
}

/* The same map a `stats` request gets, decoded, so that one formatter serves the tool and us. */
static int
format_stats(struct evbuffer *body)
{
	msgpack_sbuffer packed;
	msgpack_packer pk;
	msgpack_unpacked stats;
	int rc = -1;

	msgpack_sbuffer_init(&packed);
	msgpack_packer_init(&pk, &packed, msgpack_sbuffer_write);
	stats_pack(&pk, NULL, server_now());
	msgpack_unpacked_init(&stats);
	if (msgpack_unpack_next(&stats, packed.data, packed.size, NULL) == MSGPACK_UNPACK_SUCCESS)
		rc = lp_prometheus_write(&stats.data, to_evbuffer, body);
	msgpack_unpacked_destroy(&stats);
	msgpack_sbuffer_destroy(&packed);
	return rc;
}

static void
serve_metrics(struct evhttp_request *req, void *arg)
{
	struct evbuffer *body;

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    LP_PROMETHEUS_CONTENT_TYPE);
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

static int
listen_tcp(const char *address)
{
	struct sockaddr_storage ss;
	int sslen = (int)sizeof ss, one = 1, fd;

	/* config.c accepted it already; this is the same parser. */
	if (evutil_parse_sockaddr_port(address, (struct sockaddr *)&ss, &sslen) != 0)
		fatalx("metrics_listen %s: not an address and port", address);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		fatalx("metrics_listen %s: socket: %s%s", address, strerror(errno),
		    errno == EAFNOSUPPORT ? " (under systemd, RestrictAddressFamilies= must "
		    "allow AF_INET or AF_INET6: see leasepoold.conf(5))" : "");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) == -1 || listen(fd, 16) == -1)
		fatalx("metrics_listen %s: %s", address, strerror(errno));
	return fd;
}

void
metrics_start(struct event_base *base, const char *address)
{
	int fd = listen_tcp(address);

	if ((http = evhttp_new(base)) == NULL || evhttp_accept_socket(http, fd) == -1)
		fatalx("metrics_listen %s: cannot serve HTTP", address);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(http, METRICS_TIMEOUT_SECONDS);
	evhttp_set_max_headers_size(http, METRICS_HEADERS_MAX);
	evhttp_set_max_body_size(http, METRICS_BODY_MAX);
	evhttp_set_cb(http, "/metrics", serve_metrics, NULL);
	log_info("metrics on http://%s/metrics", address);
}

void
metrics_stop(void)
{
	if (http != NULL)
		evhttp_free(http);
	http = NULL;
}
