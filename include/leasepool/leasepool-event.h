/* SPDX-License-Identifier: ISC */
/*
 * Driving a struct lp_client from a libevent loop.  Header only, so that
 * libleasepool itself needs nothing but libc and msgpack-c.
 *
 *	struct lp_event ev;
 *	lp_event_attach(&ev, base, c);
 *	lp_run_async(c, lease, "echo", args, done, NULL, NULL);
 *	event_base_dispatch(base);	(returns once every answer is in)
 *	lp_event_detach(&ev);
 *	lp_client_free(c);
 *
 * The fd is watched for reading only while requests are pending and for
 * writing only while requests wait to be sent, so a loop with nothing else
 * to do ends when the last answer has arrived.  When the connection is
 * lost the pending callbacks receive LP_ERR_DISCONNECTED and the events
 * are removed.  Detach before freeing the client, and never from one of
 * its completion callbacks.
 */
#ifndef LEASEPOOL_LEASEPOOL_EVENT_H
#define LEASEPOOL_LEASEPOOL_EVENT_H

#include <event2/event.h>

#include "leasepool/leasepool.h"

struct lp_event {
	struct lp_client *client;
	struct event *read;
	struct event *write;
};

static inline void
lp_event_update(struct lp_event *ev)
{
	if (lp_client_pending(ev->client) > 0)
		event_add(ev->read, NULL);
	else
		event_del(ev->read);
	if (lp_client_want_write(ev->client))
		event_add(ev->write, NULL);
	else
		event_del(ev->write);
}

/* A lost connection has nothing pending and nothing to write: both go. */
static inline void
lp_event_io(evutil_socket_t fd, short what, void *arg)
{
	struct lp_event *ev = (struct lp_event *)arg;

	(void)fd;
	(void)what;
	lp_client_process(ev->client, NULL);
	lp_event_update(ev);
}

static inline void
lp_event_queued(struct lp_client *c, void *arg)
{
	(void)c;
	lp_event_update((struct lp_event *)arg);
}

static inline void
lp_event_detach(struct lp_event *ev)
{
	if (ev->client != NULL)
		lp_client_on_queue(ev->client, NULL, NULL);
	if (ev->read != NULL)
		event_free(ev->read);
	if (ev->write != NULL)
		event_free(ev->write);
	ev->client = NULL;
	ev->read = ev->write = NULL;
}

/* Returns 0, or -1 when libevent could not allocate its events. */
static inline int
lp_event_attach(struct lp_event *ev, struct event_base *base,
    struct lp_client *c)
{
	int fd = lp_client_fd(c);

	ev->client = c;
	ev->read = event_new(base, fd, EV_READ | EV_PERSIST, lp_event_io, ev);
	ev->write = event_new(base, fd, EV_WRITE, lp_event_io, ev);
	if (ev->read == NULL || ev->write == NULL) {
		lp_event_detach(ev);
		return -1;
	}
	lp_client_on_queue(c, lp_event_queued, ev);
	lp_event_update(ev);
	return 0;
}

#endif
