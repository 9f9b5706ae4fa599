/* SPDX-License-Identifier: ISC */
/*
 * The daemon's one event loop and the state it owns: configuration, lease
 * table, listener, connections.  Single-threaded: everything here is
 * touched only from the loop, so nothing needs a lock.
 */
#ifndef LP_DAEMON_SERVER_H
#define LP_DAEMON_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <msgpack.h>

#include "daemon/core/config.h"
#include "daemon/core/lease.h"

struct conn;
struct reload_result;

struct server {
	struct event_base *base;
	struct config cfg;
	const char *config_path;     /* NULL: the embedded default */
	const char *socket_override; /* -s */
	int verbosity;		     /* -v minus -q */
	struct lease_table leases;
	int listen_fd;
	bool socket_from_systemd; /* socket activation: never unlinked */
	struct event *ev_accept;
	struct event *ev_accept_pause; /* EMFILE: accept again a little later */
	struct event *ev_deadline;     /* the lease table's next deadline */
	struct event *ev_shutdown;     /* the drain's deadline */
	struct event *ev_reap;	       /* frees connections closed this turn */
	struct event *ev_flush;	       /* writes the responses of this turn */
	struct event *ev_quiet; /* QUIET_SECONDS after the last run ended */
	struct event *ev_signals[5];
	TAILQ_HEAD(, conn) conns;
	TAILQ_HEAD(, conn) closed;
	TAILQ_HEAD(, conn) flushing;
	unsigned nconns;
	uint64_t next_conn_id;
	bool stopping;
	double started;
	double started_unix; /* the same moment in Unix time, for stats */
	/* Responses are packed here, then appended to a connection in one piece. */
	msgpack_sbuffer scratch;
	msgpack_packer packer;
};

extern struct server server;

/* The configured log level moved by -v and -q. */
int server_log_level(void);

/* Re-arms the deadline timer after the lease table changed. */
void server_schedule(void);
/* The same, at the end of this loop turn: once for all the runs it ends. */
void server_schedule_soon(void);

/* A connection went, or the stop began: maybe the drain is over, or the daemon idle. */
void server_check_drained(void);

/* SIGHUP, or the reload method: reads the file again, telling systemd (reload.h). */
int server_reload(struct reload_result *r);

/* Logs what makes the running configuration unsafe (config_warnings()): at start and reload. */
void server_warn_unsafe(void);

/* The backends, before the fork server starts: they run executors on this loop. */
void server_backends_init(struct event_base *base);

/* Starts the listener, signals and timers; the config is in server.cfg. */
void server_init(struct event_base *base);
void server_free(void);

#endif
