/* SPDX-License-Identifier: ISC */
/*
 * Worker log forwarding: what a worker, or a program it runs, writes to its
 * stdout and stderr reaches the daemon's log line by line, tagged with who
 * wrote it.  The pipe is always drained, so a worker never blocks on it;
 * overlong lines are cut and floods are dropped (and counted), so a chatty
 * job cannot drown the log or stall the loop.
 */
#ifndef LP_DAEMON_WORKLOG_H
#define LP_DAEMON_WORKLOG_H

#include <stddef.h>

struct event_base;
struct worklog;

/* Writes the tag of the lines about to be logged ("worker 12 of pool cpu ...") into buf. */
typedef void worklog_tag_fn(void *arg, char *buf, size_t len);

/* Takes ownership of fd, the read end of the worker's output pipe. */
struct worklog *worklog_open(struct event_base *base, int fd,
    worklog_tag_fn *tag, void *arg);
/* Logs what is left, closes the pipe, frees. */
void worklog_close(struct worklog *wl);

#endif
