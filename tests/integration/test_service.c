/* SPDX-License-Identifier: ISC */
/*
 * leasepoold as a system service: what it tells systemd (readiness, status,
 * reloads, stopping, watchdog) on a NOTIFY_SOCKET the test binds; the socket
 * systemd passes, through systemd-socket-activate; the Prometheus endpoint,
 * scraped over plain HTTP on the loopback and checked line by line against
 * stats; and the installed configuration, man page and unit against the
 * key table.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/core/config.h"
#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/integration/program.h"
#include "tests/suites.h"

/* The line at p, without its newline, into buf; returns the next line, or NULL after the last. */
static const char *
take_line(const char *p, char *buf, size_t size)
{
	size_t len;

	if (p == NULL || *p == '\0')
		return NULL;
	len = strcspn(p, "\n");
	ck_assert_msg(len < size, "a line longer than %zu bytes", size);
	memcpy(buf, p, len);
	buf[len] = '\0';
	return p[len] == '\n' ? p + len + 1 : p + len;
}

/* ---- a NOTIFY_SOCKET of our own ---- */

struct notify {
	char dir[64];
	char path[108];
	char env[128]; /* NOTIFY_SOCKET=path, for the daemon's environment */
	int fd;
	char last[1024];    /* the last datagram */
	unsigned nstatus;   /* STATUS= lines received */
	unsigned nwatchdog; /* WATCHDOG=1 received */
};

static struct notify n;

static void
notify_open(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memset(&n, 0, sizeof n);
	snprintf(n.dir, sizeof n.dir, "/tmp/lp-notify-XXXXXX");
	ck_assert_msg(mkdtemp(n.dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(n.path, sizeof n.path, "%s/notify.sock", n.dir);
	snprintf(n.env, sizeof n.env, "NOTIFY_SOCKET=%s", n.path);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", n.path);
	n.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(n.fd, 0);
	ck_assert_int_eq(bind(n.fd, (struct sockaddr *)&sun, sizeof sun), 0);
}

static void
notify_close(void)
{
	daemon_cleanup(&d);
	close(n.fd);
	unlink(n.path);
	rmdir(n.dir);
}

/* True when the datagram has a line starting with prefix. */
static bool
has_line(const char *msg, const char *prefix)
{
	size_t len = strlen(prefix);

	for (const char *line = msg; line != NULL; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (strncmp(line, prefix, len) == 0)
			return true;
	}
	return false;
}

/* Receives one datagram within seconds into n.last, counting what it says; false if none came. */
static bool
notify_receive(double seconds)
{
	struct pollfd pfd = { .fd = n.fd, .events = POLLIN };
	ssize_t len;

	if (poll(&pfd, 1, (int)(seconds * 1000)) != 1)
		return false;
	len = recv(n.fd, n.last, sizeof n.last - 1, 0);
	ck_assert_int_gt(len, 0);
	n.last[len] = '\0';
	n.nstatus += has_line(n.last, "STATUS=");
	n.nwatchdog += has_line(n.last, "WATCHDOG=1");
	return true;
}

/* Waits for a datagram with a line starting with prefix; fails the test when none comes. */
static void
notify_expect(const char *prefix)
{
	double until = monotonic() + HARNESS_WAIT_SECONDS;

	do {
		if (notify_receive(until - monotonic()) &&
		    has_line(n.last, prefix))
			return;
	} while (monotonic() < until);
	ck_abort_msg("no \"%s\" from the daemon; the last message was \"%s\"",
	    prefix, n.last);
}

/* Two pools, so that READY=1 has to wait for both. */
static const char two_pools[] =
    "[pool cpu]\n"
    "executors_min = 2\n"
    "executors_max = 3\n"
    "workers = 1\n"
    "[pool spare]\n"
    "executors_min = 1\n"
    "executors_max = 1\n"
    "workers = 2\n";

static void
start_notified(void)
{
	const char *env[] = { n.env, NULL };

	notify_open();
	daemon_start_env(&d, two_pools, env);
}

START_TEST(ready_once_every_pool_is_warm)
{
	struct lp_client *c;

	notify_expect("READY=1");
	ck_assert_msg(
	    has_line(n.last, "STATUS=leases: 0, waiters: 0, runs in flight: 0"),
	    "READY=1 came with \"%s\"", n.last);
	/* Warm executors only grow while nothing is leased: what stats says now held at READY=1. */
	c = daemon_connect(&d);
	ck_assert_int_ge(stats_int(c, "pools.cpu.executors.warm"), 2);
	ck_assert_int_ge(stats_int(c, "pools.spare.executors.warm"), 1);
	lp_client_free(c);
	ck_assert(daemon_log_contains(&d, "every pool is warm"));
}
END_TEST

START_TEST(status_follows_leases_at_most_once_a_second)
{
	struct lp_client *c = daemon_connect(&d);
	struct lp_lease lease;
	struct lp_error err;
	unsigned before;
	double began;

	notify_expect("READY=1");
	ck_assert_int_eq(lp_acquire(c, NULL, &lease, &err), LP_OK);
	notify_expect("STATUS=leases: 1, waiters: 0");
	ck_assert_int_eq(lp_release(c, lease.id, &err), LP_OK);
	notify_expect("STATUS=leases: 0, waiters: 0");

	/* Hundreds of changes in a burst: STATUS= still comes at most once a second. */
	before = n.nstatus;
	began = monotonic();
	for (int i = 0; i < 300; i++) {
		ck_assert_int_eq(lp_acquire(c, NULL, &lease, &err), LP_OK);
		ck_assert_int_eq(lp_release(c, lease.id, &err), LP_OK);
	}
	while (notify_receive(1.5))
		;
	ck_assert_msg(n.nstatus - before <= (unsigned)(monotonic() - began) + 2,
	    "%u STATUS= lines in %.1f s", n.nstatus - before,
	    monotonic() - began);
	ck_assert_msg(
	    has_line(n.last, "STATUS=leases: 0, waiters: 0, runs in flight: 0"),
	    "the last status was \"%s\"", n.last);
	lp_client_free(c);
}
END_TEST

START_TEST(reload_is_announced)
{
	notify_expect("READY=1");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	notify_expect("RELOADING=1");
	ck_assert_msg(has_line(n.last, "MONOTONIC_USEC="),
	    "RELOADING=1 came with \"%s\"", n.last);
	notify_expect("READY=1");
	ck_assert(daemon_log_contains(&d, "configuration reloaded"));
}
END_TEST

START_TEST(stop_is_announced)
{
	int status;

	notify_expect("READY=1");
	ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
	notify_expect("STOPPING=1");
	ck_assert_msg(has_line(n.last, "STATUS=stopping"),
	    "STOPPING=1 came with \"%s\"", n.last);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	d.pid = 0;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

START_TEST(watchdog_is_pinged_every_half_period)
{
	const char *env[] = { n.env, "WATCHDOG_USEC=200000", NULL };
	double began;

	daemon_cleanup(&d);
	daemon_start_env(&d, two_pools, env);
	began = monotonic();
	n.nwatchdog = 0;
	while (n.nwatchdog < 5 && monotonic() - began < HARNESS_WAIT_SECONDS)
		notify_receive(1);
	ck_assert_uint_ge(n.nwatchdog, 5);
	ck_assert(
	    daemon_log_contains(&d, "systemd watchdog: a ping every 0.100 s"));
}
END_TEST

/* systemd's NOTIFY_SOCKET may be in the abstract namespace, written "@name". */
START_TEST(notifies_an_abstract_socket)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char env[128];
	const char *envp[] = { env, NULL };
	socklen_t len;

	daemon_cleanup(&d);
	snprintf(sun.sun_path + 1, sizeof sun.sun_path - 1, "lp-notify-%d",
	    (int)getpid());
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(sun.sun_path + 1));
	close(n.fd);
	n.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(n.fd, 0);
	ck_assert_int_eq(bind(n.fd, (struct sockaddr *)&sun, len), 0);
	snprintf(env, sizeof env, "NOTIFY_SOCKET=@%s", sun.sun_path + 1);
	daemon_start_env(&d, two_pools, envp);
	notify_expect("READY=1");
}
END_TEST

/* ---- socket activation ---- */

START_TEST(takes_the_socket_systemd_passes)
{
	const char *env[] = { n.env, NULL };
	char message[256];
	struct lp_client *c;
	struct lp_value *v;
	struct lp_error err;
	struct stat st;
	int status;

	daemon_start_activated(&d, two_pools, env);
	c = daemon_connect(&d);
	ck_assert_int_eq(lp_hello(c, "test", &v, &err), LP_OK);
	lp_value_free(v);
	lp_client_free(c);
	notify_expect("READY=1");
	snprintf(message, sizeof message,
	    "listening on the socket systemd passed: %s", d.socket);
	ck_assert_msg(daemon_log_contains(&d, message),
	    "the log does not say \"%s\"", message);

	/* The socket is systemd's: it stays when the daemon goes. */
	status = daemon_stop(&d);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(stat(d.socket, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
}
END_TEST

/* ---- the metrics endpoint ---- */

static int
free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

struct http_reply {
	int status;
	char headers[4096];
	char body[65536];
};

static int metrics_port;

/* One HTTP/1.0 request on the loopback; the server closes when it has answered. */
static void
http_request(const char *method, const char *path, struct http_reply *r)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons((uint16_t)metrics_port) };
	static char reply[sizeof r->headers + sizeof r->body];
	size_t used = 0;
	char request[256], *end;
	ssize_t got;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0,
	    "connect 127.0.0.1:%d: %s", metrics_port, strerror(errno));
	snprintf(request, sizeof request,
	    "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
	ck_assert_int_eq(write(fd, request, strlen(request)),
	    (ssize_t)strlen(request));
	while (used < sizeof reply - 1 &&
	    (got = read(fd, reply + used, sizeof reply - 1 - used)) > 0)
		used += (size_t)got;
	close(fd);
	reply[used] = '\0';
	ck_assert_msg(sscanf(reply, "HTTP/1.%*d %d", &r->status) == 1,
	    "no status line: %s", reply);
	end = strstr(reply, "\r\n\r\n");
	ck_assert_msg(end != NULL, "no end of headers: %s", reply);
	ck_assert_uint_lt((size_t)(end - reply), sizeof r->headers);
	memcpy(r->headers, reply, (size_t)(end - reply));
	r->headers[end - reply] = '\0';
	ck_assert_uint_lt(strlen(end + 4), sizeof r->body);
	memcpy(r->body, end + 4, strlen(end + 4) + 1);
}

static void
start_metrics(void)
{
	char config[256];

	metrics_port = free_port();
	snprintf(config, sizeof config,
	    "[daemon]\n"
	    "metrics_listen = 127.0.0.1:%d\n"
	    "[pool cpu]\n"
	    "executors_min = 1\n"
	    "executors_max = 1\n"
	    "workers = 1\n",
	    metrics_port);
	daemon_start(&d, config);
}

/* Past the labels of a sample, {name="value",...}, at p; fails the test on bad syntax. */
static const char *
skip_labels(const char *p, const char *line)
{
	for (p++;; p++) {
		size_t name = strspn(p, "abcdefghijklmnopqrstuvwxyz_");

		ck_assert_msg(name > 0 && p[name] == '=' && p[name + 1] == '"',
		    "bad label: %s", line);
		for (p += name + 2; *p != '"'; p++) {
			ck_assert_msg(*p != '\0' && *p != '\n',
			    "unterminated label value: %s", line);
			if (*p == '\\')
				p++;
		}
		if (*++p == '}')
			return p + 1;
		ck_assert_msg(*p == ',', "bad labels: %s", line);
	}
}

/* A sample's name belongs to the family: its own, or a histogram's _bucket, _sum or _count. */
static bool
in_family(const char *name, const char *family, const char *type)
{
	static const char *const parts[] = { "_bucket", "_sum", "_count" };
	size_t len = strlen(family);

	if (strcmp(type, "histogram") != 0)
		return strcmp(name, family) == 0;
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (strncmp(name, family, len) == 0 &&
		    strcmp(name + len, parts[i]) == 0)
			return true;
	return false;
}

/*
 * Checks the text format line by line: every line is a HELP or TYPE
 * comment, or NAME{LABELS} VALUE of the family the last TYPE declared.
 * Returns how many samples there were.
 */
static unsigned
check_exposition(const char *text)
{
	char family[128] = "", help[128] = "", type[16] = "", line[1024];
	unsigned samples = 0;

	ck_assert_msg(*text != '\0' && text[strlen(text) - 1] == '\n',
	    "the text must end with a newline");
	for (const char *p = take_line(text, line, sizeof line); p != NULL;
	     p = take_line(p, line, sizeof line)) {
		char name[128], *end;
		const char *value;

		if (strncmp(line, "# HELP ", 7) == 0) {
			ck_assert_msg(sscanf(line, "# HELP %127s %*s", help) ==
				1,
			    "bad HELP: %s", line);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			ck_assert_msg(sscanf(line, "# TYPE %127s %15s", family,
					  type) == 2,
			    "bad TYPE: %s", line);
			ck_assert_msg(strcmp(family, help) == 0,
			    "TYPE %s without its HELP", family);
			ck_assert_msg(strcmp(type, "gauge") == 0 ||
				strcmp(type, "counter") == 0 ||
				strcmp(type, "histogram") == 0,
			    "type %s of %s", type, family);
			ck_assert_msg(strcmp(type, "counter") != 0 ||
				strcmp(family + strlen(family) - 6, "_total") ==
				    0,
			    "counter %s without _total", family);
			continue;
		}
		ck_assert_msg(sscanf(line, "%127[a-zA-Z0-9_:]", name) == 1,
		    "neither a comment nor a sample: '%s'", line);
		ck_assert_msg(in_family(name, family, type),
		    "%s is not in family %s", line, family);
		value = line + strlen(name);
		if (*value == '{')
			value = skip_labels(value, line);
		ck_assert_msg(*value == ' ', "no value: %s", line);
		(void)strtod(value + 1, &end);
		ck_assert_msg(end != value + 1 && *end == '\0', "bad value: %s",
		    line);
		samples++;
	}
	return samples;
}

/* The value of the sample whose name and labels are series, e.g. leasepool_connections. */
static double
sample(const char *text, const char *series)
{
	size_t len = strlen(series);
	char line[1024];

	for (const char *p = take_line(text, line, sizeof line); p != NULL;
	     p = take_line(p, line, sizeof line))
		if (strncmp(line, series, len) == 0 && line[len] == ' ')
			return strtod(line + len + 1, NULL);
	ck_abort_msg("no sample %s", series);
	return -1;
}

/* Acquires a lease of the default pool and runs echo on it that many times; its id. */
static uint64_t
acquire_and_run(struct lp_client *c, int runs)
{
	struct lp_lease lease;
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	struct lp_error err;

	lp_args_int(a, 7);
	ck_assert_int_eq(lp_acquire(c, NULL, &lease, &err), LP_OK);
	for (int i = 0; i < runs; i++) {
		ck_assert_int_eq(lp_run(c, lease.id, "echo", a, &v, &err),
		    LP_OK);
		lp_value_free(v);
	}
	lp_args_free(a);
	return lease.id;
}

START_TEST(scrape_parses_and_agrees_with_stats)
{
	static struct http_reply r;
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire_and_run(c, 3);
	struct lp_error err;

	http_request("GET", "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.headers,
			  "Content-Type: text/plain; version=0.0.4") != NULL,
	    "headers: %s", r.headers);
	ck_assert_uint_ge(check_exposition(r.body), 30);

	ck_assert(sample(r.body, "leasepool_connections") ==
	    stats_int(c, "connections"));
	ck_assert(sample(r.body, "leasepool_stopping") == 0);
	ck_assert(
	    sample(r.body, "leasepool_info{version=\"" LP_VERSION "\"}") == 1);
	ck_assert(
	    sample(r.body,
		"leasepool_pool_executors{pool=\"cpu\",state=\"busy\"}") ==
	    stats_int(c, "pools.cpu.executors.leased"));
	ck_assert(
	    sample(r.body,
		"leasepool_pool_executors{pool=\"cpu\",state=\"idle\"}") ==
	    stats_int(c, "pools.cpu.executors.available"));
	ck_assert(
	    sample(r.body,
		"leasepool_pool_executors{pool=\"cpu\",state=\"starting\"}") ==
	    stats_int(c, "pools.cpu.executors.starting"));
	ck_assert(
	    sample(r.body,
		"leasepool_pool_workers_per_executor{pool=\"cpu\"}") == 1);
	ck_assert(sample(r.body,
		      "leasepool_leases{pool=\"cpu\",state=\"active\"}") == 1);
	ck_assert(
	    sample(r.body, "leasepool_leases_granted_total{pool=\"cpu\"}") ==
	    stats_int(c, "pools.cpu.counters.granted"));
	ck_assert(
	    sample(r.body,
		"leasepool_runs_total{pool=\"cpu\",result=\"completed\"}") ==
	    3);
	ck_assert(
	    sample(r.body,
		"leasepool_runs_total{pool=\"cpu\",result=\"completed\"}") ==
	    stats_int(c, "pools.cpu.counters.completed"));
	ck_assert(
	    sample(r.body,
		"leasepool_runs_total{pool=\"cpu\",result=\"crashed\"}") == 0);
	ck_assert(sample(r.body, "leasepool_pool_waiters{pool=\"cpu\"}") == 0);
	ck_assert_int_eq(lp_release(c, lease, &err), LP_OK);
	lp_client_free(c);
}
END_TEST

#define BUCKETS_MAX 32

/*
 * The _bucket samples of a histogram for the pool, in the order of the
 * text, into le (+Inf as infinity) and count; how many there are.
 */
static unsigned
buckets_of(const char *text, const char *histogram, const char *pool,
    double *le, double *count)
{
	char prefix[128], line[1024];
	unsigned nbuckets = 0;

	snprintf(prefix, sizeof prefix, "%s_bucket{pool=\"%s\",le=\"",
	    histogram, pool);
	for (const char *p = take_line(text, line, sizeof line); p != NULL;
	     p = take_line(p, line, sizeof line)) {
		char *end;

		if (strncmp(line, prefix, strlen(prefix)) != 0)
			continue;
		ck_assert_uint_lt(nbuckets, BUCKETS_MAX);
		le[nbuckets] = strtod(line + strlen(prefix), &end);
		ck_assert_msg(strncmp(end, "\"} ", 3) == 0, "bad bucket: %s",
		    line);
		count[nbuckets++] = strtod(end + 3, NULL);
	}
	return nbuckets;
}

/* Buckets rise in le and in count, end at +Inf, and +Inf counts every sample. */
static void
assert_histogram(const char *text, const char *histogram, double samples)
{
	double le[BUCKETS_MAX], count[BUCKETS_MAX];
	unsigned nbuckets = buckets_of(text, histogram, "cpu", le, count);
	char series[256];

	ck_assert_uint_ge(nbuckets, 2);
	for (unsigned i = 1; i < nbuckets; i++) {
		ck_assert_msg(le[i - 1] < le[i], "%s: le %g after %g",
		    histogram, le[i], le[i - 1]);
		ck_assert_msg(count[i - 1] <= count[i],
		    "%s: bucket le=%g holds %g, le=%g %g", histogram, le[i - 1],
		    count[i - 1], le[i], count[i]);
	}
	ck_assert_msg(isinf(le[nbuckets - 1]) && le[nbuckets - 1] > 0,
	    "%s: the last bucket is not +Inf", histogram);
	snprintf(series, sizeof series, "%s_count{pool=\"cpu\"}", histogram);
	ck_assert(sample(text, series) == samples);
	ck_assert(count[nbuckets - 1] == samples);
	snprintf(series, sizeof series, "%s_sum{pool=\"cpu\"}", histogram);
	ck_assert(sample(text, series) >= 0 &&
	    sample(text, series) < samples * HARNESS_WAIT_SECONDS);
}

#define HISTOGRAM_RUNS 5

START_TEST(histograms_count_every_grant_and_run)
{
	static struct http_reply r;
	struct lp_client *c = daemon_connect(&d);
	struct lp_error err;
	double started;

	ck_assert_int_eq(
	    lp_release(c, acquire_and_run(c, HISTOGRAM_RUNS), &err), LP_OK);
	http_request("GET", "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	check_exposition(r.body);
	assert_histogram(r.body, "leasepool_run_duration_seconds",
	    HISTOGRAM_RUNS);
	assert_histogram(r.body, "leasepool_acquire_wait_seconds",
	    (double)stats_int(c, "pools.cpu.counters.granted"));
	ck_assert_int_eq(stats_int(c, "pools.cpu.counters.granted"), 1);
	/* The daemon started with this test's fixture, a moment ago by the test's own clock. */
	started = sample(r.body, "process_start_time_seconds");
	ck_assert_msg(started > (double)time(NULL) - 600 &&
		started < (double)time(NULL) + 5,
	    "process_start_time_seconds %f, now %lld", started,
	    (long long)time(NULL));
	lp_client_free(c);
}
END_TEST

START_TEST(only_get_and_head_of_metrics)
{
	static struct http_reply r;

	http_request("GET", "/elsewhere", &r);
	ck_assert_int_eq(r.status, 404);
	http_request("HEAD", "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "");
	http_request("POST", "/metrics", &r);
	ck_assert_int_ge(r.status, 400);
}
END_TEST

/* The lines of text without their values: names, labels, HELP and TYPE. */
static void
series_of(const char *text, char *out, size_t size)
{
	char line[1024];
	size_t used = 0;

	for (const char *p = take_line(text, line, sizeof line); p != NULL;
	     p = take_line(p, line, sizeof line)) {
		char *value = strrchr(line, ' ');

		if (line[0] != '#' && value != NULL)
			*value = '\0';
		ck_assert_uint_lt(used + strlen(line) + 1, size);
		used += (size_t)snprintf(out + used, size - used, "%s\n", line);
	}
}

START_TEST(tool_prints_what_the_endpoint_serves)
{
	static struct http_reply r;
	static struct program p;
	static char from_tool[65536], from_http[65536];
	char *argv[] = { (char *)program_tool(), "-s", d.socket, "stats",
		"--prometheus", NULL };

	ck_assert_int_eq(program_run(&p, argv, NULL, NULL), 0);
	http_request("GET", "/metrics", &r);
	check_exposition(p.out);
	series_of(p.out, from_tool, sizeof from_tool);
	series_of(r.body, from_http, sizeof from_http);
	ck_assert_str_eq(from_tool, from_http);
}
END_TEST

struct log_line {
	const char *text;
	unsigned seen; /* lines holding it before */
};

static bool
logged_again(void *arg)
{
	const struct log_line *l = arg;

	return daemon_log_count(&d, l->text) > l->seen;
}

/* ---- what the metrics endpoint may take ---- */

#define METRICS_CONNECTIONS_MAX 16 /* metrics.c's cap */
/* well past the cap, and past the daemon's descriptors */
#define IDLE_CONNECTIONS 200
#define DAEMON_FILES 160      /* the daemon's RLIMIT_NOFILE in that test */
#define METRICS_BACKLOG 16    /* metrics.c's listen() backlog */
#define TCP_LISTEN_STATE 0x0A /* in /proc/net/tcp */

static int
daemon_fds(void)
{
	return proc_fd_count(d.pid);
}

/*
 * Whether the metrics port's accept queue is full (/proc/net/tcp's rx_queue
 * of a listening socket): the daemon has stopped accepting.
 */
static bool
metrics_backlog_full(void *arg)
{
	char line[512];
	unsigned port, state, queued, max = 0;
	FILE *f = fopen("/proc/net/tcp", "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, " %*u: %*x:%x %*x:%*x %x %*x:%x", &port,
			&state, &queued) == 3 &&
		    port == (unsigned)metrics_port &&
		    state == TCP_LISTEN_STATE && queued > max)
			max = queued;
	fclose(f);
	return max >= METRICS_BACKLOG;
}

/* A connection to the metrics port that sends nothing; the connect need not be accepted yet. */
static int
idle_connection(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons((uint16_t)metrics_port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0 ||
		errno == EINPROGRESS,
	    "connect: %s", strerror(errno));
	return fd;
}

START_TEST(idle_metrics_connections_leave_the_socket_alone)
{
	static struct http_reply r;
	static int idle[IDLE_CONNECTIONS];
	struct rlimit ours, low;
	struct lp_client *warm, *c;
	int before, capped;

	/* A daemon with few descriptors, as one under a low LimitNOFILE= would have. */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &ours), 0);
	ck_assert_uint_gt(ours.rlim_cur, IDLE_CONNECTIONS + 64);
	low = ours;
	low.rlim_cur = DAEMON_FILES;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	start_metrics();
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &ours), 0);
	/* Counted once the pool's worker and its pipes are there. */
	warm = daemon_connect(&d);
	ck_assert(wait_stats(warm, "pools.cpu.executors.available", 1));

	before = daemon_fds();
	capped = before + METRICS_CONNECTIONS_MAX;
	for (int i = 0; i < IDLE_CONNECTIONS; i++)
		idle[i] = idle_connection();
	ck_assert_msg(wait_until(metrics_backlog_full, NULL),
	    "the daemon still accepts, holding %d descriptors", daemon_fds());
	ck_assert_int_eq(daemon_fds(), capped);
	/* The Unix socket's clients are served, on descriptors the idle ones could not take. */
	c = daemon_connect(&d);
	ck_assert_int_ge(stats_int(c, "connections"), 1);
	ck_assert_int_le(daemon_fds(), capped + 1);
	lp_client_free(c);
	lp_client_free(warm);

	/* Once they go, a scrape is served. */
	for (int i = 0; i < IDLE_CONNECTIONS; i++)
		close(idle[i]);
	http_request("GET", "/metrics", &r);
	ck_assert_int_eq(r.status, 200);
}
END_TEST

START_TEST(metrics_warns_of_an_address_beyond_the_loopback)
{
	static const char *const exposed[] = { "0.0.0.0:9464", "[::]:9464",
		"192.0.2.1:9464" };
	static const char *const loopback[] = { "127.0.0.1:9464",
		"127.1.2.3:9464", "[::1]:9464", "[::ffff:127.0.0.1]:9464" };
	struct log_line warning = { "is not a loopback address", 0 };
	char config[128], output[4096], want[128];

	/* -t binds nothing: any address may be checked. */
	for (size_t i = 0; i < sizeof exposed / sizeof exposed[0]; i++) {
		snprintf(config, sizeof config,
		    "[daemon]\nmetrics_listen = %s\n", exposed[i]);
		ck_assert_int_eq(
		    daemon_run_once(config, true, output, sizeof output), 0);
		snprintf(want, sizeof want,
		    "warning: metrics_listen %s is not a loopback address",
		    exposed[i]);
		ck_assert_msg(strstr(output, want) != NULL, "%s: %s",
		    exposed[i], output);
	}
	for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++) {
		snprintf(config, sizeof config,
		    "[daemon]\nmetrics_listen = %s\n", loopback[i]);
		ck_assert_int_eq(
		    daemon_run_once(config, true, output, sizeof output), 0);
		ck_assert_msg(strstr(output, "warning") == NULL, "%s: %s",
		    loopback[i], output);
	}
	/* A daemon listening on every address says so in its log (only the loopback is used here). */
	snprintf(config, sizeof config,
	    "[daemon]\nmetrics_listen = 0.0.0.0:%d\n", free_port());
	daemon_start(&d, config);
	ck_assert_msg(wait_until(logged_again, &warning), "no warning in %s",
	    d.log);
}
END_TEST

START_TEST(metrics_listen_takes_numeric_addresses_only)
{
	static const char *const bad[] = { "localhost:9464", "127.0.0.1",
		"127.0.0.1:0", "[::1]", "nonsense" };
	char config[128], output[4096];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(config, sizeof config,
		    "[daemon]\nmetrics_listen = %s\n", bad[i]);
		ck_assert_int_ne(
		    daemon_run_once(config, true, output, sizeof output), 0);
		ck_assert_msg(
		    strstr(output,
			"metrics_listen: must be empty, or a numeric address") !=
			NULL,
		    "%s: %s", bad[i], output);
	}
	snprintf(config, sizeof config,
	    "[daemon]\nmetrics_listen = [::1]:9464\n");
	ck_assert_int_eq(daemon_run_once(config, true, output, sizeof output),
	    0);
}
END_TEST

START_TEST(metrics_port_in_use_stops_the_start)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sin;
	char config[128], output[4096], want[64];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), status;

	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(config, sizeof config,
	    "[daemon]\nmetrics_listen = 127.0.0.1:%d\n", ntohs(sin.sin_port));
	status = daemon_run_once(config, false, output, sizeof output);
	close(fd);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	snprintf(want, sizeof want,
	    "metrics_listen 127.0.0.1:%d: ", ntohs(sin.sin_port));
	ck_assert_msg(strstr(output, want) != NULL, "%s", output);
}
END_TEST

/*
 * ---- lines as long as the documented values need ----
 * A modules value of 1,000 bytes, 32 uids of 32 digits each: lines that
 * Debian's inih cut after 199 bytes, reading the rest as another line.
 */

#define NOBODY_UID 4000000000u

/* The built bytes module after as many slashes as make len bytes, into buf. */
static void
padded_module(char *buf, size_t len)
{
	const char *dir = getenv("LP_MODULES");
	char path[512];
	size_t size;

	snprintf(path, sizeof path, "%s/bytes.so",
	    dir != NULL ? dir : "build/modules");
	size = strlen(path);
	ck_assert_uint_le(size, len);
	memset(buf, '/', len - size);
	memcpy(buf + len - size, path, size + 1);
}

/* count uids of 32 digits, space-separated, NOBODY_UID but for the last, into buf. */
static void
uid_list(char *buf, size_t len, unsigned count, unsigned last)
{
	size_t used = 0;

	for (unsigned i = 0; i < count; i++) {
		used += (size_t)snprintf(buf + used, len - used, "%s%032u",
		    i > 0 ? " " : "", i + 1 < count ? NOBODY_UID : last);
		ck_assert_uint_lt(used, len);
	}
}

/* A pool of one worker for the users on line 7, with the modules on line 2. */
static void
long_lines_config(char *buf, size_t len, const char *users)
{
	char modules[1001];

	padded_module(modules, sizeof modules - 1);
	snprintf(buf, len,
	    "[daemon]\nmodules = %s\n[pool cpu]\nexecutors_min = 1\n"
	    "executors_max = 1\nworkers = 1\nallow_users = %s\n",
	    modules, users);
}

static char long_config[4 * LP_CONFIG_LINE_MAX],
    long_users[2 * LP_CONFIG_LINE_MAX];

START_TEST(check_reads_lines_as_long_as_documented)
{
	char output[4096];

	uid_list(long_users, sizeof long_users, LP_IDS_MAX, getuid());
	long_lines_config(long_config, sizeof long_config, long_users);
	ck_assert_msg(
	    daemon_run_once(long_config, true, output, sizeof output) == 0,
	    "%s", output);
	ck_assert_msg(strstr(output, "is valid") != NULL, "%s", output);

	uid_list(long_users, sizeof long_users, 200, NOBODY_UID);
	long_lines_config(long_config, sizeof long_config, long_users);
	ck_assert_int_ne(
	    daemon_run_once(long_config, true, output, sizeof output), 0);
	ck_assert_msg(
	    strstr(output, "leasepoold.conf:7: [pool cpu] allow_users") !=
		    NULL &&
		strstr(output, "4096 bytes") != NULL,
	    "%s", output);
}
END_TEST

static enum lp_err
acquire_and_release(struct lp_client *c)
{
	struct lp_acquire_opts patient = { .timeout = HARNESS_WAIT_SECONDS };
	struct lp_lease lease;
	struct lp_error err;
	enum lp_err rc = lp_acquire(c, &patient, &lease, &err);

	if (rc == LP_OK)
		ck_assert_int_eq(lp_release(c, lease.id, &err), LP_OK);
	return rc;
}

/* Writes config over d's file, sends SIGHUP and waits for a new line holding logged. */
static void
reload_with(const char *config, const char *logged)
{
	struct log_line l = { logged, daemon_log_count(&d, logged) };
	FILE *f = fopen(d.config, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(config, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	ck_assert_msg(wait_until(logged_again, &l), "no new '%s' in %s", logged,
	    d.log);
}

START_TEST(reload_reads_lines_as_long_as_documented)
{
	struct lp_args *a = lp_args_new();
	struct lp_client *c;
	struct lp_lease lease;
	struct lp_value *v;
	struct lp_error err;
	char where[256];

	uid_list(long_users, sizeof long_users, LP_IDS_MAX, NOBODY_UID);
	long_lines_config(long_config, sizeof long_config, long_users);
	daemon_start(&d, long_config);
	c = daemon_connect(&d);
	ck_assert_int_eq(acquire_and_release(c), LP_ERR_PERMISSION_DENIED);

	/* The 32nd uid, the test's own, is past byte 1,000 of its line. */
	uid_list(long_users, sizeof long_users, LP_IDS_MAX, getuid());
	long_lines_config(long_config, sizeof long_config, long_users);
	reload_with(long_config, "configuration reloaded");
	ck_assert_int_eq(acquire_and_release(c), LP_OK);

	/* Refused whole: the running configuration stays. */
	uid_list(long_users, sizeof long_users, 200, NOBODY_UID);
	long_lines_config(long_config, sizeof long_config, long_users);
	reload_with(long_config, "reload failed");
	snprintf(where, sizeof where, "%s:7: [pool cpu] allow_users", d.config);
	ck_assert_msg(daemon_log_contains(&d, where), "no '%s' in %s", where,
	    d.log);
	ck_assert(daemon_log_contains(&d, "4096 bytes"));
	ck_assert_int_eq(acquire_and_release(c), LP_OK);

	/* The module at the end of the 1,000-byte modules line was loaded at the start. */
	ck_assert(lp_acquire(c, NULL, &lease, &err) == LP_OK);
	lp_args_str(a, "abc");
	ck_assert_msg(lp_run(c, lease.id, "bytes.reverse", a, &v, &err) ==
		LP_OK,
	    "%s", err.message);
	lp_value_free(v);
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

/* ---- the installed files against the key table ---- */

static char *
source_file(const char *relative)
{
	const char *root = getenv("LP_SOURCE");
	static char path[4096];
	static char text[65536];
	FILE *f;
	size_t len;

	snprintf(path, sizeof path, "%s/%s", root != NULL ? root : ".",
	    relative);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s (make check sets LP_SOURCE)", path,
	    strerror(errno));
	len = fread(text, 1, sizeof text - 1, f);
	ck_assert_msg(feof(f), "%s: larger than %zu bytes", path,
	    sizeof text - 1);
	fclose(f);
	text[len] = '\0';
	return text;
}

struct key_check {
	const char *text;
	const char *file;
};

/*
 * etc/leasepoold.conf: a commented "#key = default" line for every key, in
 * its commented section; keys computed from the machine may show any value.
 */
static void
check_config_key(void *arg, const char *section, const char *name,
    const char *def)
{
	const struct key_check *k = arg;
	char line[256], current[16] = "";
	size_t keylen = strlen(name);

	for (const char *p = take_line(k->text, line, sizeof line); p != NULL;
	     p = take_line(p, line, sizeof line)) {
		const char *value;

		if (strncmp(line, "#[", 2) == 0)
			snprintf(current, sizeof current, "%s",
			    strncmp(line, "#[pool ", 7) == 0   ? "pool" :
				strcmp(line, "#[daemon]") == 0 ? "daemon" :
								 "?");
		if (line[0] != '#' || strncmp(line + 1, name, keylen) != 0 ||
		    strncmp(line + 1 + keylen, " =", 2) != 0)
			continue;
		ck_assert_msg(strcmp(current, section) == 0,
		    "%s: %s is under [%s], not [%s]", k->file, name, current,
		    section);
		value = line + 1 + keylen + 2;
		value += *value == ' ';
		if (def != NULL)
			ck_assert_msg(strcmp(value, def) == 0,
			    "%s: #%s = %s, but the default is '%s'", k->file,
			    name, value, def);
		return;
	}
	ck_abort_msg("%s has no line \"#%s = %s\"", k->file, name,
	    def != NULL ? def : "...");
}

START_TEST(installed_config_lists_every_key_at_its_default)
{
	struct key_check k = { source_file("etc/leasepoold.conf"),
		"etc/leasepoold.conf" };

	config_each_key(check_config_key, &k);
}
END_TEST

/*
 * Removing every '#' of a key or section line gives a valid file that
 * means the defaults: those of [daemon], and of a pool that sets nothing.
 */
START_TEST(installed_config_uncommented_means_the_defaults)
{
	static struct config file, defaults;
	static char text[65536];
	const char *src = source_file("etc/leasepoold.conf");
	char err[1024];
	size_t used = 0;

	for (const char *p = src; *p != '\0'; p++) {
		bool line_start = p == src || p[-1] == '\n';

		if (line_start && p[0] == '#' &&
		    (p[1] == '[' || (p[1] >= 'a' && p[1] <= 'z')))
			continue;
		text[used++] = *p;
	}
	text[used] = '\0';
	ck_assert_msg(config_load_string(&file, text, "uncommented", err,
			  sizeof err) == 0,
	    "%s", err);
	ck_assert_msg(config_load_string(&defaults, "[pool cpu]\n", "defaults",
			  err, sizeof err) == 0,
	    "%s", err);
	ck_assert_uint_eq(file.npools, 1);
	/* What the machine decides: the socket path and the workers per executor. */
	memcpy(file.source, defaults.source, sizeof file.source);
	memcpy(file.socket_path, defaults.socket_path, sizeof file.socket_path);
	file.pools[0].workers = defaults.pools[0].workers;
	ck_assert_msg(memcmp(&file, &defaults, sizeof file) == 0,
	    "etc/leasepoold.conf, uncommented, differs from the built-in defaults");
}
END_TEST

/* leasepoold.conf(5): an entry ".It Cm key ..." for every key. */
static void
check_man_key(void *arg, const char *section, const char *name, const char *def)
{
	const struct key_check *k = arg;
	char entry[128];
	const char *p;

	snprintf(entry, sizeof entry, "\n.It Cm %s ", name);
	p = strstr(k->text, entry);
	ck_assert_msg(p != NULL, "%s does not describe %s", k->file, name);
}

START_TEST(man_page_describes_every_key)
{
	struct key_check k = { source_file("docs/leasepoold.conf.5"),
		"docs/leasepoold.conf.5" };

	config_each_key(check_man_key, &k);
}
END_TEST

/* systemd must not kill the daemon before its own drain deadline passes. */
START_TEST(unit_waits_longer_than_the_drain)
{
	static struct config defaults;
	const char *unit = source_file("systemd/leasepoold.service");
	const char *stop = strstr(unit, "\nTimeoutStopSec=");
	char err[1024];

	ck_assert_msg(stop != NULL, "the unit sets no TimeoutStopSec=");
	ck_assert_msg(
	    config_load_string(&defaults, "", "defaults", err, sizeof err) == 0,
	    "%s", err);
	ck_assert_double_gt(strtod(stop + strlen("\nTimeoutStopSec="), NULL),
	    defaults.shutdown_timeout);
}
END_TEST

/* ---- the command line ---- */

START_TEST(daemon_options_long_and_short)
{
	char *version[] = { (char *)daemon_path(), "--version", NULL };
	char *help[] = { (char *)daemon_path(), "--help", NULL };
	char *check[] = { (char *)daemon_path(), "--check", "--socket",
		"/tmp/lp-options.sock", "--quiet", "--verbose", NULL };
	char *bogus[] = { (char *)daemon_path(), "--bogus", NULL };
	static struct program p;

	ck_assert_int_eq(program_run(&p, version, NULL, NULL), 0);
	ck_assert_str_eq(p.out, "leasepoold " LP_VERSION " (protocol 1)\n");
	version[1] = "-V";
	ck_assert_int_eq(program_run(&p, version, NULL, NULL), 0);
	ck_assert_str_eq(p.out, "leasepoold " LP_VERSION " (protocol 1)\n");
	ck_assert_int_eq(program_run(&p, help, NULL, NULL), 0);
	ck_assert_msg(strstr(p.out, "\n  -V, --version ") != NULL, "%s", p.out);
	ck_assert_msg(strstr(p.out, "\n  -c, --config=file ") != NULL, "%s",
	    p.out);
	ck_assert_msg(program_run(&p, check, NULL, NULL) == 0, "%s%s", p.out,
	    p.err);
	ck_assert_msg(
	    strstr(p.out, "\n# socket /tmp/lp-options.sock (mode 0600)") !=
		NULL,
	    "%s", p.out);
	ck_assert_int_eq(program_run(&p, bogus, NULL, NULL), 2);
	ck_assert_msg(strstr(p.err, "usage: leasepoold") != NULL, "%s", p.err);
}
END_TEST

/*
 * Root's first run by hand, on a machine where the service never ran: no
 * XDG_RUNTIME_DIR, no /run/leasepool.  In a mount namespace of its own with
 * an empty /run, so the machine's /run is left alone: -t says the directory
 * will be made, the daemon makes it and listens there, and the tool finds
 * it with no -s, the system socket being the first it tries.
 */
static const char first_run_script[] =
    "set -e\n"
    "mount -t tmpfs lp-test-run /run\n"
    "unset XDG_RUNTIME_DIR RUNTIME_DIRECTORY LEASEPOOL_SOCKET\n"
    "\"$0\" -t | grep '^# socket directory: /run/leasepool will be made$'\n"
    "\"$0\" 2>/dev/null &\n"
    "daemon=$!\n"
    "tries=0\n"
    "until [ -S /run/leasepool/leasepool.sock ]; do\n"
    "	tries=$((tries + 1)); [ $tries -lt 400 ] || exit 3; sleep 0.05\n"
    "done\n"
    "stat -c 'mode %a' /run/leasepool\n"
    "\"$1\" ping\n"
    "kill $daemon; wait $daemon\n";

START_TEST(first_run_as_root_makes_the_runtime_directory)
{
	char *argv[] = { "/usr/bin/unshare", "--map-root-user", "--mount", "sh",
		"-c", (char *)first_run_script, (char *)daemon_path(),
		(char *)program_tool(), NULL };
	static struct program p;

	ck_assert_msg(program_run(&p, argv, NULL, NULL) == 0, "status %d: %s%s",
	    p.status, p.out, p.err);
	ck_assert_msg(strstr(p.out, "mode 755\n") != NULL, "%s", p.out);
	ck_assert_msg(strstr(p.out, "/run/leasepool/leasepool.sock") != NULL,
	    "%s", p.out);
}
END_TEST

/* Two pools and values away from the defaults, of every kind of key. */
static const char varied_config[] =
    "[daemon]\n"
    "socket_mode = 0640\n"
    "default_pool = io\n"
    "busy_poll = 0.0001\n"
    "log_level = debug\n"
    "max_result_bytes = 2M\n"
    "[pool cpu]\n"
    "workers = 3\n"
    "exec = yes\n"
    "memory_limit = 512M\n"
    "allow_users = 0 12345\n"
    "batch_wait = 0.125\n"
    "[pool io]\n"
    "backend = thread\n"
    "allow_groups = 0\n";

struct key_count {
	const char *text;
	unsigned npools;
};

/* A "key = value" line for each [daemon] key once, for each pool key once a pool. */
static void
check_printed_key(void *arg, const char *section, const char *name,
    const char *def)
{
	const struct key_count *k = arg;
	unsigned want = strcmp(section, "daemon") == 0 ? 1 : k->npools,
		 times = 0;
	char line[128];

	snprintf(line, sizeof line, "\n%s =", name);
	for (const char *p = strstr(k->text, line); p != NULL;
	     p = strstr(p + 1, line))
		times++;
	ck_assert_msg(times == want, "-t prints %s %u times, not %u:\n%s", name,
	    times, want, k->text);
}

/* The lines of text but those the daemon says to stderr ("leasepoold: ..."), into buf. */
static void
stdout_lines(const char *text, char *buf, size_t size)
{
	char line[4096];
	size_t used = 0;

	buf[0] = '\0';
	for (const char *p = take_line(text, line, sizeof line); p != NULL;
	     p = take_line(p, line, sizeof line))
		if (strncmp(line, "leasepoold: ", 12) != 0)
			used += (size_t)snprintf(buf + used, size - used,
			    "%s\n", line);
	ck_assert_uint_lt(used, size);
}

/* -t prints every key of the table, and what it prints is the same configuration. */
START_TEST(check_prints_every_key_as_a_file_that_reads_back)
{
	static struct config printed, original;
	static char output[32768], text[32768];
	struct key_count k = { text, 2 };
	char err[1024];

	ck_assert_msg(
	    daemon_run_once(varied_config, true, output, sizeof output) == 0,
	    "%s", output);
	stdout_lines(output, text, sizeof text);
	ck_assert_msg(strncmp(text, "# configuration ", 16) == 0, "%s", text);
	config_each_key(check_printed_key, &k);
	ck_assert_msg(strstr(text, "\nallow_users = 0 12345\n") != NULL, "%s",
	    text);
	ck_assert_msg(
	    config_load_string(&printed, text, "printed", err, sizeof err) == 0,
	    "%s:\n%s", err, text);
	ck_assert_msg(config_load_string(&original, varied_config, "printed",
			  err, sizeof err) == 0,
	    "%s", err);
	/* The socket is the harness's (-s). */
	memcpy(original.socket_path, printed.socket_path,
	    sizeof original.socket_path);
	ck_assert_msg(memcmp(&printed, &original, sizeof printed) == 0,
	    "-t printed a different configuration:\n%s", text);
}
END_TEST

/* ---- where the daemon listens ---- */

START_TEST(daemon_replaces_only_a_socket)
{
	char dir[] = "/tmp/lp-place.XXXXXX", path[64], output[4096],
	     text[16] = "";
	int status;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/important", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("important\n", f);
	fclose(f);
	status = daemon_run_once_at(path, "", false, output, sizeof output);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	ck_assert_msg(strstr(output, "is not a socket") != NULL, "%s", output);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(text, sizeof text, f));
	fclose(f);
	ck_assert_str_eq(text, "important\n");
	/* -t says the same before anything starts. */
	ck_assert_int_ne(
	    daemon_run_once_at(path, "", true, output, sizeof output), 0);
	ck_assert_msg(strstr(output, "is not a socket") != NULL, "%s", output);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(daemon_refuses_a_directory_others_may_write)
{
	char dir[] = "/tmp/lp-place.XXXXXX", path[64], output[4096];
	int status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0777), 0);
	snprintf(path, sizeof path, "%s/leasepool.sock", dir);
	status = daemon_run_once_at(path, "", false, output, sizeof output);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	ck_assert_msg(strstr(output, "writable by others") != NULL, "%s",
	    output);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_ne(
	    daemon_run_once_at(path, "", true, output, sizeof output), 0);
	ck_assert_msg(strstr(output, "writable by others") != NULL, "%s",
	    output);
	rmdir(dir);
}
END_TEST

/* ---- who may write the configuration ---- */

/* leasepoold -c d's file, with -t or else as a start on d's socket: it must refuse the file. */
static void
assert_config_refused(bool check_only, const char *want)
{
	char *argv[] = { (char *)daemon_path(), check_only ? "-t" : "-v", "-c",
		d.config, "-s", d.socket, NULL };
	struct program p;

	ck_assert_int_eq(program_run(&p, argv, NULL, NULL), 1);
	ck_assert_msg(strstr(p.err, want) != NULL, "'%s' does not say '%s'",
	    p.err, want);
	ck_assert_int_eq(access(d.socket, F_OK), -1);
}

START_TEST(daemon_refuses_a_configuration_others_may_write)
{
	char *check[] = { (char *)daemon_path(), "-t", "-c", d.config, NULL };
	struct program p;
	char want[256];

	daemon_start(&d, "[pool cpu]\nworkers = 1\n");
	ck_assert_int_eq(chmod(d.config, 0666), 0);
	snprintf(want, sizeof want,
	    "not reading the configuration: %s is writable by others "
	    "(mode 0666)",
	    d.config);
	/* A reload reads nothing, and says so. */
	reload_with("[pool cpu]\nworkers = 2\n", "reload failed");
	ck_assert_msg(daemon_log_contains(&d, want), "no '%s' in %s", want,
	    d.log);
	ck_assert_int_eq(daemon_stop(&d), 0);
	assert_config_refused(true, want);
	assert_config_refused(false, want);
	/* Once only its owner may write it, the same file is read. */
	ck_assert_int_eq(chmod(d.config, 0644), 0);
	ck_assert_int_eq(program_run(&p, check, NULL, NULL), 0);
}
END_TEST

/*
 * ---- the log ----
 * The harness starts every daemon with -v, one level above the file's
 * log_level: "notice" in the file is the default level, info.
 */

#define ONE_SMALL_POOL \
	"[pool cpu]\nexecutors_min = 1\nexecutors_max = 1\nworkers = 1\ngrace_seconds = 0\n"

/*
 * A client acquires, runs, releases, lets a second lease expire and goes;
 * returns once the daemon saw it go.
 */
static void
serve_leases(void)
{
	struct lp_client *c = daemon_connect(&d), *watcher;
	struct lp_acquire_opts brief = { .lease_seconds = 0.05 };
	struct lp_lease lease;
	struct lp_error err;

	ck_assert_int_eq(lp_release(c, acquire_and_run(c, 1), &err), LP_OK);
	ck_assert_int_eq(lp_acquire(c, &brief, &lease, &err), LP_OK);
	ck_assert(wait_stats(c, "pools.cpu.counters.expired", 1));
	lp_client_free(c);
	watcher = daemon_connect(&d);
	ck_assert(wait_stats(watcher, "connections", 1));
	lp_client_free(watcher);
}

/* What leases and their client leave in the log at debug. */
static const char *const per_lease_lines[] = {
	"lease 1 granted to",
	"lease 1 released by",
	"lease 2 of",
	"expired (0 runs in flight)",
	"disconnected",
};

START_TEST(default_log_has_no_per_lease_line)
{
	daemon_start(&d, "[daemon]\nlog_level = notice\n" ONE_SMALL_POOL);
	serve_leases();
	ck_assert(daemon_log_contains(&d, "listening on"));
	for (size_t i = 0;
	     i < sizeof per_lease_lines / sizeof per_lease_lines[0]; i++)
		ck_assert_msg(!daemon_log_contains(&d, per_lease_lines[i]),
		    "'%s' at the default level in %s", per_lease_lines[i],
		    d.log);
}
END_TEST

START_TEST(debug_log_follows_every_lease)
{
	daemon_start(&d, "[daemon]\nlog_level = info\n" ONE_SMALL_POOL);
	serve_leases();
	for (size_t i = 0;
	     i < sizeof per_lease_lines / sizeof per_lease_lines[0]; i++)
		ck_assert_msg(daemon_log_contains(&d, per_lease_lines[i]),
		    "no '%s' at debug in %s", per_lease_lines[i], d.log);
}
END_TEST

/* The first line of the daemon's log, into buf. */
static void
first_log_line(char *buf, size_t size)
{
	FILE *f = fopen(d.log, "r");

	ck_assert_msg(f != NULL, "%s: %s", d.log, strerror(errno));
	ck_assert_msg(fgets(buf, (int)size, f) != NULL, "%s is empty", d.log);
	fclose(f);
}

static bool
logged_its_start(void *arg)
{
	return daemon_log_contains(&d, "listening on");
}

START_TEST(log_counts_agree_with_their_nouns)
{
	daemon_start(&d, ONE_SMALL_POOL);
	/* The socket answers a moment before the line that says so is written. */
	ck_assert(wait_until(logged_its_start, NULL));
	ck_assert_msg(daemon_log_contains(&d, ", 1 pool)"), "no '1 pool' in %s",
	    d.log);
}
END_TEST

START_TEST(log_lines_carry_an_iso_8601_time)
{
	/* POSIX TZ: five and a half hours east of UTC, an offset with minutes. */
	const char *env[] = { "TZ=LPT-05:30", NULL };
	int year, month, day, hour, minute, second, millis, off_hours,
	    off_minutes;
	struct tm tm = { 0 };
	char line[4096], sign;
	regex_t shape;
	time_t when;

	daemon_start_env(&d, ONE_SMALL_POOL, env);
	first_log_line(line, sizeof line);
	ck_assert_int_eq(
	    regcomp(&shape,
		"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
		"\\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} leasepoold\\[[0-9]+\\] [a-z]+: ",
		REG_EXTENDED | REG_NOSUB),
	    0);
	ck_assert_msg(regexec(&shape, line, 0, NULL, 0) == 0,
	    "not an ISO 8601 time: %s", line);
	regfree(&shape);
	ck_assert_int_eq(sscanf(line, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c%2d:%2d",
			     &year, &month, &day, &hour, &minute, &second,
			     &millis, &sign, &off_hours, &off_minutes),
	    10);
	ck_assert_msg(sign == '+' && off_hours == 5 && off_minutes == 30,
	    "offset in %s", line);
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	when = timegm(&tm) - (off_hours * 3600 + off_minutes * 60);
	ck_assert_msg(labs((long)(when - time(NULL))) < 600,
	    "%s is not about now", line);
}
END_TEST

/* ---- safety warnings, and -u ---- */

/* exec, and a socket every local user may connect to. */
static const char unsafe_config[] =
    "[daemon]\n"
    "socket_mode = 0666\n"
    "[pool cpu]\n"
    "executors_min = 1\n"
    "executors_max = 1\n"
    "workers = 1\n"
    "exec = yes\n";

#define EXEC_AS_ROOT \
	"warning: [pool cpu] exec = yes while the daemon runs as root"
#define OPEN_SOCKET \
	"warning: [daemon] socket_mode 0666 lets every local user connect"

/* -t, the start and every reload say what is unsafe; exec only matters as root. */
START_TEST(unsafe_settings_are_warned_of)
{
	static char output[32768];
	bool root = geteuid() == 0;
	struct lp_client *c;

	ck_assert_int_eq(
	    daemon_run_once(unsafe_config, true, output, sizeof output), 0);
	ck_assert_msg(strstr(output, "leasepoold: " OPEN_SOCKET) != NULL, "%s",
	    output);
	ck_assert_msg((strstr(output, "leasepoold: " EXEC_AS_ROOT) != NULL) ==
		root,
	    "%s", output);

	daemon_start(&d, unsafe_config);
	ck_assert_uint_eq(daemon_log_count(&d, OPEN_SOCKET), 1);
	ck_assert_uint_eq(daemon_log_count(&d, EXEC_AS_ROOT), root);
	c = daemon_connect(&d);
	ck_assert(lp_call(c, "reload", NULL, 0, NULL,
		      &(struct lp_error){ 0 }) == LP_OK);
	ck_assert_uint_eq(daemon_log_count(&d, OPEN_SOCKET), 2);
	ck_assert_uint_eq(daemon_log_count(&d, EXEC_AS_ROOT), 2 * root);
	lp_client_free(c);
}
END_TEST

/* util-linux's setpriv, where Debian and others install it. */
static char *
setpriv_path(void)
{
	static char *const paths[] = { "/usr/bin/setpriv", "/bin/setpriv" };

	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	ck_abort_msg("setpriv is not installed (apt-get install util-linux)");
	return NULL;
}

/* leasepoold with args, as the test's user, or as nobody when as_nobody; its exit status. */
static int
run_daemon(struct program *p, bool as_nobody, const char *arg, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	if (as_nobody) {
		argv[argc++] = setpriv_path();
		argv[argc++] = "--reuid=nobody";
		argv[argc++] = "--regid=nogroup";
		argv[argc++] = "--clear-groups";
	}
	argv[argc++] = (char *)daemon_path();
	va_start(ap, arg);
	for (; arg != NULL && argc < 15; arg = va_arg(ap, const char *))
		argv[argc++] = (char *)arg;
	va_end(ap);
	argv[argc] = NULL;
	return program_run(p, argv, NULL, NULL);
}

/* What can be tested as any user: -u needs root, and a user that exists. */
START_TEST(user_option_needs_root_and_a_user)
{
	static struct program p;
	char want[128];

	ck_assert_int_eq(
	    run_daemon(&p, false, "-t", "-u", "no-such-user-lp", (char *)NULL),
	    1);
	ck_assert_str_eq(p.err,
	    "leasepoold: -u no-such-user-lp: no user named no-such-user-lp\n");
	/* As root, the daemon is run as nobody: root may do it. */
	ck_assert_int_eq(
	    run_daemon(&p, geteuid() == 0, "-t", "-u", "root", (char *)NULL),
	    1);
	snprintf(want, sizeof want,
	    "leasepoold: -u root: only root can become another user, "
	    "and leasepoold runs as uid ");
	ck_assert_msg(strncmp(p.err, want, strlen(want)) == 0, "%s", p.err);
	ck_assert_str_eq(p.out, "");
}
END_TEST

/* Uid:, Gid: or Groups: of /proc/PID/status, its values as they are written. */
static void
proc_ids(pid_t pid, const char *field, char *buf, size_t len)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	buf[0] = '\0';
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			snprintf(buf, len, "%s", line + strlen(field));
	fclose(f);
}

static void
assert_runs_as(pid_t pid, const struct passwd *pw)
{
	char ids[512], want[128];

	snprintf(want, sizeof want, "\t%u\t%u\t%u\t%u\n", (unsigned)pw->pw_uid,
	    (unsigned)pw->pw_uid, (unsigned)pw->pw_uid, (unsigned)pw->pw_uid);
	proc_ids(pid, "Uid:", ids, sizeof ids);
	ck_assert_str_eq(ids, want);
	snprintf(want, sizeof want, "\t%u\t%u\t%u\t%u\n", (unsigned)pw->pw_gid,
	    (unsigned)pw->pw_gid, (unsigned)pw->pw_gid, (unsigned)pw->pw_gid);
	proc_ids(pid, "Gid:", ids, sizeof ids);
	ck_assert_str_eq(ids, want);
	/* initgroups: nobody's groups, none of root's. */
	snprintf(want, sizeof want, "\t%u \n", (unsigned)pw->pw_gid);
	proc_ids(pid, "Groups:", ids, sizeof ids);
	ck_assert_str_eq(ids, want);
}

static bool
has_fork_server(void *arg)
{
	return fork_server_of(arg) != 0;
}

/*
 * Root starts it with -u nobody: the daemon, its fork server and the
 * programs its workers run are nobody, the socket is nobody's and goes at
 * the stop, and nobody, the daemon's user now, may administer it.  With
 * root it gave up the right to switch users: exec is nobody's alone.
 */
START_TEST(user_option_runs_everything_as_that_user)
{
	static struct program p;
	struct passwd pw = *getpwnam("nobody");
	char regid[32];
	char *tool[] = { "/usr/bin/setpriv", "--reuid=nobody", regid,
		"--clear-groups", (char *)program_tool(), "-s", d.socket, "run",
		"--kw", "argv=[\"id\",\"-u\"]", "exec", NULL };
	char want[64];
	struct stat st;
	pid_t pid;
	int status;

	daemon_start_as(&d, unsafe_config, "nobody");
	assert_runs_as(d.pid, &pw);
	ck_assert_msg(wait_until(has_fork_server, &d), "no fork server");
	assert_runs_as(fork_server_of(&d), &pw);
	ck_assert_int_eq(stat(d.socket, &st), 0);
	ck_assert_uint_eq(st.st_uid, pw.pw_uid);
	snprintf(regid, sizeof regid, "--regid=%u", (unsigned)pw.pw_gid);
	ck_assert_int_eq(program_run(&p, tool + 4, NULL, NULL), 5);
	ck_assert_msg(strstr(p.err, "cannot switch users") != NULL, "%s",
	    p.err);
	ck_assert_int_eq(program_run(&p, tool, NULL, NULL), 0);
	snprintf(want, sizeof want, "\"stdout\":\"%u\\n\"",
	    (unsigned)pw.pw_uid);
	ck_assert_msg(strstr(p.out, want) != NULL, "%s", p.out);
	ck_assert(!daemon_log_contains(&d, EXEC_AS_ROOT));

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct lp_error err;
		struct lp_client *c;

		if (setgroups(0, NULL) == -1 ||
		    setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) == -1 ||
		    setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) == -1 ||
		    (c = lp_connect(d.socket, &err)) == NULL)
			_exit(2);
		_exit(
		    lp_call(c, "drain", NULL, 0, NULL, &err) == LP_OK ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "status %#x", status);

	status = daemon_stop(&d);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(stat(d.socket, &st), -1);
}
END_TEST

Suite *
service_suite(void)
{
	Suite *s = suite_create("service");
	TCase *tc;

	tc = integration_case(s, "notify", start_notified, notify_close);
	tcase_add_test(tc, ready_once_every_pool_is_warm);
	tcase_add_test(tc, status_follows_leases_at_most_once_a_second);
	tcase_add_test(tc, reload_is_announced);
	tcase_add_test(tc, stop_is_announced);
	tcase_add_test(tc, watchdog_is_pinged_every_half_period);
	tcase_add_test(tc, notifies_an_abstract_socket);

	tc = integration_case(s, "activation", notify_open, notify_close);
	tcase_add_test(tc, takes_the_socket_systemd_passes);

	tc = integration_case(s, "metrics", start_metrics, stop_daemon);
	tcase_add_test(tc, scrape_parses_and_agrees_with_stats);
	tcase_add_test(tc, histograms_count_every_grant_and_run);
	tcase_add_test(tc, only_get_and_head_of_metrics);
	tcase_add_test(tc, tool_prints_what_the_endpoint_serves);

	tc = integration_case(s, "metrics limits", NULL, stop_daemon);
	tcase_add_test(tc, idle_metrics_connections_leave_the_socket_alone);
	tcase_add_test(tc, metrics_warns_of_an_address_beyond_the_loopback);

	tc = integration_case(s, "configuration", NULL, stop_daemon);
	tcase_add_test(tc, check_reads_lines_as_long_as_documented);
	tcase_add_test(tc, reload_reads_lines_as_long_as_documented);
	tcase_add_test(tc, metrics_listen_takes_numeric_addresses_only);
	tcase_add_test(tc, metrics_port_in_use_stops_the_start);
	tcase_add_test(tc, installed_config_lists_every_key_at_its_default);
	tcase_add_test(tc, installed_config_uncommented_means_the_defaults);
	tcase_add_test(tc, man_page_describes_every_key);
	tcase_add_test(tc, check_prints_every_key_as_a_file_that_reads_back);
	tcase_add_test(tc, unit_waits_longer_than_the_drain);
	tcase_add_test(tc, daemon_options_long_and_short);
	tcase_add_test(tc, first_run_as_root_makes_the_runtime_directory);
	tcase_add_test(tc, daemon_replaces_only_a_socket);
	tcase_add_test(tc, daemon_refuses_a_directory_others_may_write);
	tcase_add_test(tc, daemon_refuses_a_configuration_others_may_write);
	tcase_add_test(tc, unsafe_settings_are_warned_of);
	tcase_add_test(tc, user_option_needs_root_and_a_user);

	tc = integration_case(s, "logs", NULL, stop_daemon);
	tcase_add_test(tc, default_log_has_no_per_lease_line);
	tcase_add_test(tc, debug_log_follows_every_lease);
	tcase_add_test(tc, log_lines_carry_an_iso_8601_time);
	tcase_add_test(tc, log_counts_agree_with_their_nouns);

	/* Only root can start a daemon that becomes another user. */
	tc = integration_case(s, "user", NULL, stop_daemon);
	add_root_test(tc, user_option_runs_everything_as_that_user);
	return s;
}
