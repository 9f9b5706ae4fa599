/* SPDX-License-Identifier: ISC */
/*
 * Descriptors the daemon keeps for itself, so that clients cannot take
 * the last of them.  RLIMIT_NOFILE bounds every descriptor of the process,
 * connections and workers alike; a worker's start needs three in the
 * daemon (its channel and its log), received from the fork server, which
 * the kernel cuts (MSG_CTRUNC) when there is no room.  Counting what is
 * open would mean counting in every place that opens (libevent, the
 * listener, connections, workers, the fork server's channel); holding the
 * reserve open instead lets the kernel keep the count.  It is released
 * just before the daemon needs descriptors for itself and taken back just
 * after; the listener accepts only while it is whole.
 */
#ifndef LP_DAEMON_FDRESERVE_H
#define LP_DAEMON_FDRESERVE_H

#include <stdbool.h>

/*
 * Two workers' starts (a recycled worker's successor starts before its
 * predecessor leaves) and a new fork server's channel.
 */
#define FDRESERVE_COUNT 8

/* Opens the reserve: at start-up, before the listener. */
void fdreserve_init(void);
/* Closes it, to make room for what the daemon opens next. */
void fdreserve_release(void);
/* Opens what is missing of it; false (errno set) when it cannot be whole. */
bool fdreserve_refill(void);
void fdreserve_free(void);

/* "Too many open files (EMFILE; RLIMIT_NOFILE 64)": error, and the limit when it is the cause. */
const char *fdreserve_why(int error);

#endif
