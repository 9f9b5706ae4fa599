/* SPDX-License-Identifier: ISC */
/*
 * What one user (a uid, from SO_PEERCRED) holds in the daemon: its
 * connections, and the bytes buffered on its behalf: unfinished requests,
 * runs and submissions until they are answered, answers not yet sent.  Past
 * max_user_buffer_bytes its connections are not read until the bytes fall
 * under it again: that user waits, nobody else does, and nothing accepted
 * is lost.  When nothing else can free a byte, all the user holds being
 * requests half read, one connection of the user may still finish its
 * request, and one only, so that a user whose every connection stopped
 * mid-request is not stuck for ever: the daemon holds at most the budget,
 * plus one message, plus one read.
 */
#ifndef LP_DAEMON_USER_H
#define LP_DAEMON_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/types.h>

struct conn;

struct user {
	uid_t uid;
	unsigned nconns;
	size_t bytes; /* buffered on its behalf */
	size_t input; /* of them, its connections' input not yet taken */
	struct conn *finisher; /* read past the budget to finish one request */
	TAILQ_HEAD(, conn) waiting; /* not read while the budget is spent */
	struct event *ev_wake;	    /* reading resumes in its own loop turn */
	LIST_ENTRY(user) hash_link;
};

/* The user of uid, NULL when it holds nothing. */
struct user *user_find(uid_t uid);

/* A new connection of uid: its user, created on the first. */
struct user *user_attach(uid_t uid);
/* c closed: it is read no more, and its user may go. */
void user_detach(struct conn *c);

/* Bytes buffered for u, and freed. */
void user_charge(struct user *u, size_t n);
void user_uncharge(struct user *u, size_t n);
/* Charges c's user for what c's input and output buffers hold now. */
void user_account(struct conn *c);
/* c took a whole message from its input: past the budget, it read its share. */
void user_message_taken(struct conn *c);

/* Whether c may be read now; if not, it waits (reading stops) until its user's bytes free. */
bool user_may_read(struct conn *c);

/* max_user_buffer_bytes changed: users that wait try again. */
void user_budget_changed(void);

#endif
