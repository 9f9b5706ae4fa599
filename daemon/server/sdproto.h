/* SPDX-License-Identifier: ISC */
/*
 * systemd's service protocols, without libsystemd: what notify.c needs of
 * sd_notify(), sd_listen_fds(), sd_is_socket_unix() and
 * sd_watchdog_enabled().
 */
#ifndef LP_DAEMON_SDPROTO_H
#define LP_DAEMON_SDPROTO_H

#include <stdbool.h>
#include <stdint.h>

#define SD_PROTO_LISTEN_FDS_START 3

/* Sends text to $NOTIFY_SOCKET: 1 when sent, 0 without one, -errno on failure. */
int sd_proto_notify(const char *text);

/*
 * How many sockets systemd passed this process, from fd 3 up, each made
 * close-on-exec; 0 for none, -errno when they cannot be taken.  The
 * LISTEN_* variables are unset either way.
 */
int sd_proto_listen_fds(void);

/* True when fd is a listening AF_UNIX SOCK_STREAM socket. */
bool sd_proto_is_listening_unix_stream(int fd);

/* The unit's watchdog period in microseconds, 0 for none; WATCHDOG_* are unset. */
uint64_t sd_proto_watchdog_usec(void);

#endif
