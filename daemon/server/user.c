/* SPDX-License-Identifier: ISC */
#include <stdlib.h>

#include <event2/event.h>

#include "daemon/core/log.h"
#include "daemon/server/conn.h"
#include "daemon/server/server.h"
#include "daemon/server/user.h"

/* A host has few users: a small table, chained, is enough. */
#define USER_BUCKETS 64

static LIST_HEAD(, user) users[USER_BUCKETS];

static void on_wake(evutil_socket_t fd, short what, void *arg);

struct user *
user_find(uid_t uid)
{
	struct user *u;

	LIST_FOREACH (u, &users[uid % USER_BUCKETS], hash_link)
		if (u->uid == uid)
			return u;
	return NULL;
}

struct user *
user_attach(uid_t uid)
{
	struct user *u = user_find(uid);

	if (u == NULL) {
		if ((u = calloc(1, sizeof *u)) == NULL ||
		    (u->ev_wake = event_new(server.base, -1, 0, on_wake, u)) ==
			NULL)
			fatalx("out of memory");
		u->uid = uid;
		TAILQ_INIT(&u->waiting);
		LIST_INSERT_HEAD(&users[uid % USER_BUCKETS], u, hash_link);
	}
	u->nconns++;
	return u;
}

/* Its last connection is gone and the last of its bytes freed. */
static void
user_maybe_free(struct user *u)
{
	if (u->nconns > 0 || u->bytes > 0)
		return;
	LIST_REMOVE(u, hash_link);
	event_free(u->ev_wake);
	free(u);
}

static bool
over_budget(const struct user *u)
{
	return u->bytes >= server.cfg.max_user_buffer_bytes;
}

/*
 * Waking is an event of its own: bytes free deep inside the answer of a
 * run or the write of a connection, where reading another is no business.
 */
static void
wake_soon(struct user *u)
{
	if (!TAILQ_EMPTY(&u->waiting))
		event_active(u->ev_wake, 0, 0);
}

static void
stop_waiting(struct conn *c)
{
	TAILQ_REMOVE(&c->user->waiting, c, wait_link);
	c->budget_paused = false;
	event_del(c->ev_hangup);
	if (!c->read_paused)
		event_add(c->ev_read, NULL);
}

/*
 * Under the budget every connection reads.  Over it, one with a request
 * half read may finish it, but only once nothing else can free a byte: all
 * the user holds is unread input, no run or answer is left to end.  Else a
 * client that always leaves a message half read would read on for ever.
 */
static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct user *u = arg;
	struct conn *c;

	if (!over_budget(u)) {
		while ((c = TAILQ_FIRST(&u->waiting)) != NULL)
			stop_waiting(c);
		return;
	}
	if (u->finisher != NULL || u->input < u->bytes)
		return;
	/* Not one paused for its unread output: it could keep the turn for ever. */
	TAILQ_FOREACH (c, &u->waiting, wait_link) {
		if (c->in_len > 0 && !c->read_paused) {
			u->finisher = c;
			stop_waiting(c);
			return;
		}
	}
}

static void
finisher_done(struct conn *c)
{
	if (c->user->finisher == c) {
		c->user->finisher = NULL;
		wake_soon(c->user);
	}
}

/* Connections that waited may read again, or one may finish its request. */
static void
give_back(struct user *u, size_t n)
{
	u->bytes -= n;
	wake_soon(u);
}

void
user_detach(struct conn *c)
{
	struct user *u = c->user;

	if (c->budget_paused) {
		TAILQ_REMOVE(&u->waiting, c, wait_link);
		c->budget_paused = false;
	}
	finisher_done(c);
	u->nconns--;
	u->input -= c->charged_input;
	give_back(u, c->charged);
	c->charged = 0;
	c->charged_input = 0;
	c->user = NULL;
	user_maybe_free(u);
}

void
user_charge(struct user *u, size_t n)
{
	u->bytes += n;
}

void
user_uncharge(struct user *u, size_t n)
{
	give_back(u, n);
	user_maybe_free(u);
}

void
user_account(struct conn *c)
{
	size_t now;

	if (c->closed)
		return;
	now = c->in_len + evbuffer_get_length(c->out);
	if (now > c->charged)
		user_charge(c->user, now - c->charged);
	else if (now < c->charged)
		give_back(c->user, c->charged - now);
	c->charged = now;
	c->user->input += c->in_len;
	c->user->input -= c->charged_input;
	c->charged_input = c->in_len;
}

void
user_message_taken(struct conn *c)
{
	if (!c->closed)
		finisher_done(c);
}

bool
user_may_read(struct conn *c)
{
	struct user *u = c->user;

	if (!over_budget(u) || u->finisher == c)
		return true;
	if (TAILQ_EMPTY(&u->waiting))
		log_info(
		    "uid %u has %zu bytes buffered (max_user_buffer_bytes): "
		    "its connections wait until some are sent or done",
		    (unsigned)u->uid, u->bytes);
	log_debug("%s waits for its user's buffered bytes", conn_label(c));
	c->budget_paused = true;
	event_del(c->ev_read);
	event_add(c->ev_hangup, NULL);
	TAILQ_INSERT_TAIL(&u->waiting, c, wait_link);
	wake_soon(u); /* it may be the last that could free a byte */
	return false;
}

void
user_budget_changed(void)
{
	struct user *u;

	for (size_t i = 0; i < USER_BUCKETS; i++)
		LIST_FOREACH (u, &users[i], hash_link)
			wake_soon(u);
}
