/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/backend/backend.h"
#include "daemon/backend/fdreserve.h"
#include "daemon/backend/forkserver.h"
#include "daemon/backend/procpool.h"
#include "daemon/backend/threadpool.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/core/run.h"
#include "daemon/server/conn.h"
#include "daemon/server/dispatch.h"
#include "daemon/server/grinder.h"
#include "daemon/server/listen_path.h"
#include "daemon/server/loop.h"
#include "daemon/server/metrics.h"
#include "daemon/server/notify.h"
#include "daemon/server/reload.h"
#include "daemon/server/server.h"

struct server server;

/* After EMFILE, accept again this much later instead of spinning. */
#define ACCEPT_PAUSE_MS 100
/* Idle this long after the last run, the daemon gives memory back. */
#define QUIET_SECONDS 2

int
server_log_level(void)
{
	int level = server.cfg.log_level + server.verbosity;

	return level > LOG_DEBUG ? LOG_DEBUG :
	    level < LOG_ERR	 ? LOG_ERR :
				   level;
}

static struct timeval
seconds_tv(double s)
{
	struct timeval tv;

	if (s < 0)
		s = 0;
	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6);
	return tv;
}

void
server_schedule(void)
{
	double now = clock_now();
	double next = lease_table_advance(&server.leases, now);
	struct timeval tv;

	notify_changed(now);
	if (next == 0) {
		evtimer_del(server.ev_deadline);
		return;
	}
	tv = seconds_tv(next - now);
	evtimer_add(server.ev_deadline, &tv);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	server_schedule();
}

/* Once for all the runs that end in this loop turn, not once for each. */
void
server_schedule_soon(void)
{
	event_active(server.ev_deadline, EV_TIMEOUT, 0);
}

/* No run in flight (run.c calls it when the last one is freed). */
static void
runs_drained(void)
{
	static const struct timeval quiet = { QUIET_SECONDS, 0 };

	if (server.stopping)
		event_base_loopexit(server.base, NULL);
	/* re-armed at every drain: a daemon whose runs keep ending is not trimmed */
	else
		evtimer_add(server.ev_quiet, &quiet);
}

void
server_check_drained(void)
{
	if (runs_in_flight() == 0)
		runs_drained();
}

/*
 * A burst's queues, runs and buffers are freed by now, but malloc keeps
 * their pages: an idle daemon gives them back (bench/README.md, T,
 * measures what that saves).
 */
static void
on_quiet(evutil_socket_t fd, short what, void *arg)
{
	if (runs_in_flight() == 0)
		malloc_trim(0);
}

static void
on_shutdown_timeout(evutil_socket_t fd, short what, void *arg)
{
	log_warn(
	    "shutdown_timeout passed with %u run%s in flight; stopping them",
	    runs_in_flight(), lp_plural(runs_in_flight()));
	event_base_loopexit(server.base, NULL);
}

static void
begin_stop(int sig)
{
	struct timeval tv;

	if (server.stopping) {
		log_notice("%s again: stopping now", strsignal(sig));
		event_base_loopexit(server.base, NULL);
		return;
	}
	server.stopping = true;
	notify_stopping();
	log_notice("%s: stopping; %u run%s in flight may finish within %.1f s",
	    strsignal(sig), runs_in_flight(), lp_plural(runs_in_flight()),
	    server.cfg.shutdown_timeout);
	lease_table_stop(&server.leases);
	grinder_stop(&server.leases);
	tv = seconds_tv(server.cfg.shutdown_timeout);
	evtimer_add(server.ev_shutdown, &tv);
	server_check_drained();
}

int
server_reload(struct reload_result *r)
{
	int rc;

	notify_reloading();
	rc = reload_config(r);
	notify_reloaded();
	return rc;
}

static void
log_unsafe(void *arg, const char *text)
{
	log_warn("%s", text);
}

void
server_warn_unsafe(void)
{
	config_warnings(&server.cfg, geteuid(), !server.socket_from_systemd,
	    log_unsafe, NULL);
}

static void
reap_children(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == forkserver_pid()) {
			if (!server.stopping)
				forkserver_died(status);
		} else {
			procpool_child_exited(pid, status);
		}
	}
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct reload_result reloaded;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		begin_stop((int)sig);
		break;
	case SIGHUP:
		server_reload(&reloaded);
		break;
	case SIGCHLD:
		reap_children();
		break;
	}
}

static void
on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&server.closed)) != NULL) {
		TAILQ_REMOVE(&server.closed, c, link);
		conn_free(c);
	}
}

static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	conn_flush_queued();
}

/* Set while the listener is paused: since when, and the connections accepted by its retries. */
static struct {
	double since;
	unsigned accepted;
} accept_pause;

/*
 * Once per pause, not once per retry: a daemon out of descriptors for a
 * minute would otherwise say so 600 times.
 */
static void
pause_accepting(int error, unsigned accepted)
{
	static const struct timeval retry = { 0, ACCEPT_PAUSE_MS * 1000 };

	event_del(server.ev_accept);
	evtimer_add(server.ev_accept_pause, &retry);
	if (accept_pause.since != 0) {
		accept_pause.accepted += accepted;
		return;
	}
	accept_pause.since = clock_now();
	log_warn(
	    "accept: %s, with %u connections open and %d descriptors kept for "
	    "starting workers; new connections wait in the listen backlog until there is "
	    "room (tried every %.1f s)",
	    fdreserve_why(error), server.nconns, FDRESERVE_COUNT,
	    ACCEPT_PAUSE_MS / 1000.0);
}

static void
accepting_again(unsigned accepted)
{
	if (accept_pause.since == 0)
		return;
	log_notice(
	    "accepting connections again after %.1f s paused; %u waited in the backlog",
	    clock_now() - accept_pause.since, accept_pause.accepted + accepted);
	accept_pause.since = 0;
	accept_pause.accepted = 0;
}

static void
on_accept(evutil_socket_t lfd, short what, void *arg)
{
	unsigned accepted = 0;
	int fd;

	/* Before any client: the descriptors a worker's start needs are never theirs. */
	if (!fdreserve_refill()) {
		pause_accepting(errno, 0);
		return;
	}
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd != -1) {
			conn_accept(fd);
			accepted++;
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			pause_accepting(errno, accepted);
			return;
		}
		if (errno != EAGAIN)
			log_err("accept: %s", strerror(errno));
		accepting_again(accepted);
		return;
	}
}

/* Tried at once, not when the next client connects: the log says when the pause ended. */
static void
on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	event_add(server.ev_accept, NULL);
	on_accept(server.listen_fd, EV_READ, NULL);
}

/*
 * Takes over a socket of ours that no daemon answers on any more; refuses
 * anything else (listen_path.h).
 */
static void
remove_stale_socket(const struct sockaddr_un *sun)
{
	char why[512];
	int fd;

	if (listen_path_check(sun->sun_path, true, why, sizeof why) == -1)
		fatalx("%s: will not listen there: %s", sun->sun_path, why);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatalx("socket: %s", strerror(errno));
	if (connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0)
		fatalx("%s: another leasepoold is listening there",
		    sun->sun_path);
	close(fd);
	if (unlink(sun->sun_path) == -1 && errno != ENOENT)
		fatalx("%s: cannot remove the old socket: %s", sun->sun_path,
		    strerror(errno));
}

static int
listen_on(const char *path, mode_t mode)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	mode_t old;
	int fd;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	remove_stale_socket(&sun);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		 0)) == -1)
		fatalx("socket: %s", strerror(errno));
	/* The mode is right from the first moment: no window between bind and chmod. */
	old = umask(~mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		fatalx("%s: bind: %s", path, strerror(errno));
	umask(old);
	if (listen(fd, SOMAXCONN) == -1)
		fatalx("%s: listen: %s", path, strerror(errno));
	return fd;
}

static struct event *
new_event(evutil_socket_t fd, short what, event_callback_fn cb)
{
	struct event *ev = event_new(server.base, fd, what, cb, NULL);

	if (ev == NULL)
		fatalx("out of memory");
	return ev;
}

void
server_backends_init(struct event_base *base)
{
	backend_register(LP_BACKEND_PROCESS, &procpool_ops);
	backend_register(LP_BACKEND_THREAD, &threadpool_ops);
	backends_init(&(struct backend_env){ .base = base,
	    .cfg = &server.cfg,
	    .leases = &server.leases,
	    .input = loop_note_input });
}

void
server_init(struct event_base *base)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };

	server.base = base;
	server.started = clock_now();
	server.started_unix = unix_now();
	fdreserve_init();
	TAILQ_INIT(&server.conns);
	TAILQ_INIT(&server.closed);
	TAILQ_INIT(&server.flushing);
	msgpack_sbuffer_init(&server.scratch);
	msgpack_packer_init(&server.packer, &server.scratch,
	    msgpack_sbuffer_write);
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
		server.ev_signals[i] =
		    evsignal_new(base, signals[i], on_signal, NULL);
		if (server.ev_signals[i] == NULL ||
		    event_add(server.ev_signals[i], NULL) == -1)
			fatalx("cannot handle signal %d", signals[i]);
	}
	server.ev_deadline = new_event(-1, 0, on_deadline);
	server.ev_shutdown = new_event(-1, 0, on_shutdown_timeout);
	server.ev_reap = new_event(-1, 0, on_reap);
	server.ev_flush = new_event(-1, 0, on_flush);
	server.ev_quiet = new_event(-1, 0, on_quiet);
	runs_on_drained(runs_drained);
	server.ev_accept_pause = new_event(-1, 0, on_accept_resume);
	lease_table_init(&server.leases, &server.cfg, &dispatch_lease_events,
	    NULL);
	grinder_init(&server.leases);
	/* Socket activation: systemd's socket, or one of our own. */
	server.listen_fd = notify_listen_fd(server.cfg.socket_path,
	    sizeof server.cfg.socket_path);
	server.socket_from_systemd = server.listen_fd != -1;
	/* Before a client can connect: the first thing the log says after the start. */
	server_warn_unsafe();
	if (server.socket_from_systemd)
		log_info("listening on the socket systemd passed: %s",
		    server.cfg.socket_path);
	else
		server.listen_fd =
		    listen_on(server.cfg.socket_path, server.cfg.socket_mode);
	server.ev_accept =
	    new_event(server.listen_fd, EV_READ | EV_PERSIST, on_accept);
	event_add(server.ev_accept, NULL);
	if (server.cfg.metrics_listen[0] != '\0')
		metrics_start(base, server.cfg.metrics_listen);
	lease_table_warm(&server.leases, clock_now());
	notify_init(base);
}

/*
 * Freeing libevent's signal events restores the default actions, under
 * which the operator's second SIGTERM would kill the clean-up midway.  The
 * signals stay blocked (only this thread takes them) until they are
 * ignored, so none can land in between.
 */
static void
stop_signals_free(void)
{
	sigset_t stop, old;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	for (size_t i = 0;
	     i < sizeof server.ev_signals / sizeof server.ev_signals[0]; i++)
		if (server.ev_signals[i] != NULL)
			event_free(server.ev_signals[i]);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void
server_free(void)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&server.conns)) != NULL)
		conn_close(c, "the daemon stopped");
	on_reap(-1, 0, NULL);
	event_free(server.ev_accept);
	close(server.listen_fd);
	/* systemd's socket outlives us: leasepoold.socket keeps accepting while we restart. */
	if (!server.socket_from_systemd)
		unlink(server.cfg.socket_path);
	metrics_stop();
	notify_free();
	stop_signals_free();
	event_free(server.ev_deadline);
	event_free(server.ev_shutdown);
	event_free(server.ev_reap);
	event_free(server.ev_flush);
	event_free(server.ev_quiet);
	event_free(server.ev_accept_pause);
	fdreserve_free();
	grinder_free(&server.leases);
	lease_table_free(&server.leases);
	msgpack_sbuffer_destroy(&server.scratch);
}
