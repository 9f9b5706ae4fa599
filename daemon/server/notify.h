/* SPDX-License-Identifier: ISC */
/*
 * What the daemon tells systemd and takes from it: readiness, status lines,
 * reloads, stopping and watchdog pings through $NOTIFY_SOCKET, and its
 * listening socket through $LISTEN_FDS (sdproto.h speaks the protocols).
 * Outside systemd every notification does nothing.
 *
 * Readiness: the daemon is ready once the socket listens and every pool
 * has executors_min executors warm.  Executors come up asynchronously;
 * every time the lease table changes the server calls notify_changed()
 * (from server_schedule(), which the backends call right after
 * lease_executor_ready()), and that is where READY=1 is decided.  The same
 * call keeps STATUS= current, at most once per STATUS_INTERVAL.
 */
#ifndef LP_DAEMON_NOTIFY_H
#define LP_DAEMON_NOTIFY_H

#include <stddef.h>

#include <event2/event.h>

/*
 * The listening Unix stream socket systemd passed (socket activation), its
 * path written to path; -1 when none was passed.  Stops the daemon when
 * what was passed is not one listening Unix stream socket.
 */
int notify_listen_fd(char *path, size_t len);

/* Once the listener and the lease table exist: the watchdog starts, and readiness is watched. */
void notify_init(struct event_base *base);
void notify_free(void);

/* The lease table, the runs or the connections changed at now (monotonic seconds). */
void notify_changed(double now);

/* Around a reload of the configuration (SIGHUP). */
void notify_reloading(void);
void notify_reloaded(void);

/* The drain has begun. */
void notify_stopping(void);

#endif
