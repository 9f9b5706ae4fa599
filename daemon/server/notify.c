/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/core/run.h"
#include "daemon/server/notify.h"
#include "daemon/server/sdproto.h"
#include "daemon/server/server.h"

/* A busy daemon changes state thousands of times a second; systemctl status needs far fewer. */
#define STATUS_INTERVAL 1.0

static struct {
	bool enabled; /* NOTIFY_SOCKET was set */
	bool ready;   /* READY=1 was sent */
	bool warned;  /* a failed send was logged */
	/* the last STATUS= sent: pool names and reasons fit */
	char status[512];
	double status_sent; /* when, monotonic seconds */
	/* a change that came too soon after the last one */
	struct event *ev_status;
	struct event *ev_watchdog;
} notify;

static void
send_text(const char *text)
{
	int rc = sd_proto_notify(text);

	if (rc < 0 && !notify.warned) {
		notify.warned = true;
		log_warn("cannot notify systemd: %s", strerror(-rc));
	}
}

int
notify_listen_fd(char *path, size_t len)
{
	struct sockaddr_un sun;
	socklen_t sunlen = sizeof sun;
	int fd = SD_PROTO_LISTEN_FDS_START;
	int n;

	/* Unsets LISTEN_*, and marks the socket close-on-exec: no worker inherits it. */
	if ((n = sd_proto_listen_fds()) < 0)
		fatalx("systemd passed sockets the daemon cannot read: %s",
		    strerror(-n));
	if (n == 0)
		return -1;
	if (n > 1)
		fatalx(
		    "systemd passed %d sockets; leasepoold listens on one "
		    "(one ListenStream= in leasepoold.socket)",
		    n);
	if (!sd_proto_is_listening_unix_stream(fd))
		fatalx(
		    "the socket systemd passed is not a listening Unix stream socket "
		    "(ListenStream=/path in leasepoold.socket)");
	/* systemd passes it blocking; accept4() drains it in a loop. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		fatalx("the socket systemd passed: %s", strerror(errno));
	memset(&sun, 0, sizeof sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &sunlen) == -1)
		fatalx("the socket systemd passed: %s", strerror(errno));
	if (sun.sun_path[0] != '\0')
		snprintf(path, len, "%.*s", (int)sizeof sun.sun_path,
		    sun.sun_path);
	else
		snprintf(path, len, "@%.*s", (int)(sizeof sun.sun_path - 1),
		    sun.sun_path + 1);
	return fd;
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	send_text("WATCHDOG=1");
}

/* WatchdogSec= of the unit: a ping every half period, from the loop, so a stuck loop misses it. */
static void
watchdog_start(struct event_base *base)
{
	uint64_t usec = sd_proto_watchdog_usec();
	struct timeval tv;

	if (usec == 0)
		return;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	notify.ev_watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, NULL);
	if (notify.ev_watchdog == NULL ||
	    event_add(notify.ev_watchdog, &tv) == -1)
		fatalx("cannot start the watchdog timer");
	log_info("systemd watchdog: a ping every %.3f s", (double)usec / 1e6);
	send_text("WATCHDOG=1");
}

/* The first pool with fewer than executors_min executors warm, or NULL. */
static const struct pool *
cold_pool(void)
{
	for (size_t i = 0; i < server.leases.npools; i++) {
		const struct pool *p = &server.leases.pools[i];

		if (p->nexecutors - p->nstarting < p->cfg.executors_min)
			return p;
	}
	return NULL;
}

/* What `systemctl status` shows under the unit's name. */
static void
describe(char *buf, size_t len)
{
	const struct pool *cold;
	unsigned leases = 0, waiters = 0;

	if (server.stopping) {
		snprintf(buf, len, "stopping: runs in flight: %u",
		    runs_in_flight());
		return;
	}
	if (!notify.ready && (cold = cold_pool()) != NULL) {
		snprintf(buf, len,
		    "starting: pool %s has %u of %u executor%s warm%s%s",
		    cold->cfg.name, cold->nexecutors - cold->nstarting,
		    cold->cfg.executors_min, lp_plural(cold->cfg.executors_min),
		    cold->failing ? "; workers cannot start: " : "",
		    cold->failing ? cold->failing_reason : "");
		return;
	}
	for (size_t i = 0; i < server.leases.npools; i++) {
		leases += lease_pool_leased(&server.leases.pools[i]);
		waiters += server.leases.pools[i].nwaiters;
	}
	snprintf(buf, len,
	    "leases: %u, waiters: %u, runs in flight: %u, clients: %u", leases,
	    waiters, runs_in_flight(), server.nconns);
}

/* Sends prefix (may be empty) with the STATUS= line, when either is news. */
static void
send_with_status(const char *prefix, double now)
{
	char status[sizeof notify.status], text[sizeof status + 64];

	describe(status, sizeof status);
	if (*prefix == '\0' && strcmp(status, notify.status) == 0)
		return;
	snprintf(text, sizeof text, "%sSTATUS=%s", prefix, status);
	send_text(text);
	memcpy(notify.status, status, sizeof status);
	notify.status_sent = now;
}

static void
on_status_due(evutil_socket_t fd, short what, void *arg)
{
	send_with_status("", clock_now());
}

void
notify_changed(double now)
{
	struct timeval tv;
	double wait;

	if (!notify.enabled)
		return;
	if (!notify.ready && !server.stopping && cold_pool() == NULL) {
		notify.ready = true;
		log_info(
		    "every pool is warm: telling systemd the daemon is ready");
		send_with_status("READY=1\n", now);
		return;
	}
	if (evtimer_pending(notify.ev_status, NULL))
		return;
	wait = notify.status_sent + STATUS_INTERVAL - now;
	if (wait <= 0) {
		send_with_status("", now);
		return;
	}
	tv.tv_sec = (time_t)wait;
	tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
	evtimer_add(notify.ev_status, &tv);
}

void
notify_init(struct event_base *base)
{
	const char *notify_socket = getenv("NOTIFY_SOCKET");

	watchdog_start(base);
	notify.enabled = notify_socket != NULL && *notify_socket != '\0';
	if (!notify.enabled)
		return;
	if ((notify.ev_status = evtimer_new(base, on_status_due, NULL)) == NULL)
		fatalx("out of memory");
	notify_changed(clock_now());
}

void
notify_free(void)
{
	if (notify.ev_status != NULL)
		event_free(notify.ev_status);
	if (notify.ev_watchdog != NULL)
		event_free(notify.ev_watchdog);
	notify.ev_status = notify.ev_watchdog = NULL;
	notify.enabled = false;
}

void
notify_reloading(void)
{
	struct timespec ts;
	char text[64];

	if (!notify.enabled)
		return;
	/* MONOTONIC_USEC: what Type=notify-reload (systemd 253) wants with RELOADING=1. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(text, sizeof text, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
		(unsigned long long)ts.tv_nsec / 1000);
	send_text(text);
}

void
notify_reloaded(void)
{
	if (!notify.enabled)
		return;
	if (!notify.ready) {
		/* Reloaded while starting: READY=1 still waits for the warm pools. */
		notify_changed(clock_now());
		return;
	}
	send_with_status("READY=1\n", clock_now());
}

void
notify_stopping(void)
{
	if (!notify.enabled)
		return;
	send_with_status("STOPPING=1\n", clock_now());
}
