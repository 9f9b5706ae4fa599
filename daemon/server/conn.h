/* SPDX-License-Identifier: ISC */
/*
 * A client connection: reads requests (framed, decoded, validated by
 * proto/), hands them to dispatch, and writes responses in completion
 * order.  A client whose unsent output passes a bound is not read from
 * until it drains, so a client that never reads cannot grow our memory;
 * nor is one whose user holds too many bytes buffered (user.h).
 */
#ifndef LP_DAEMON_CONN_H
#define LP_DAEMON_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <event2/buffer.h>
#include <msgpack.h>

#include "daemon/core/lease.h"
#include "daemon/core/run.h"
#include "daemon/server/user.h"
#include "proto/frame.h"

#define LP_PEER_GROUPS_MAX 64

struct gqueue;

LIST_HEAD(run_chain, run);

struct conn {
	uint64_t id;
	int fd;
	struct event *ev_read;
	struct event *ev_write;
	/* while budget_paused: the client may go meanwhile */
	struct event *ev_hangup;
	char *in; /* received bytes not yet consumed */
	size_t in_len, in_cap, in_scanned;
	struct lp_framer framer;
	struct evbuffer *out;
	struct holder holder;  /* its leases and waiting acquires */
	struct run_queue runs; /* accepted, unanswered */
	unsigned nruns;
	/* the same, in nbuckets chains by msgid; none before its first run */
	struct run_chain *runs_by_msgid;
	unsigned nbuckets; /* a power of two */
	/* supplementary groups, from SO_PEERGROUPS */
	gid_t groups[LP_PEER_GROUPS_MAX];
	unsigned ngroups;
	LIST_HEAD(, gqueue) grinds; /* its items queued in grinders */
	char name[64];		    /* from hello */
	/* from hello: how its error responses look */
	enum lp_error_form error_form;
	struct user *user; /* NULL once closed */
	size_t charged;	   /* of its buffers, what its user's budget counts */
	size_t charged_input; /* of that, its input */
	bool read_paused;     /* its unsent output passed a bound */
	/* its user's buffered bytes passed max_user_buffer_bytes */
	bool budget_paused;
	bool closed;
	bool flush_queued;
	double connected;
	TAILQ_ENTRY(conn) link;
	TAILQ_ENTRY(conn) flush_link;
	/* its user's waiting, while budget_paused */
	TAILQ_ENTRY(conn) wait_link;
};

/* A run or submitted item of c is accepted, or answered. */
void conn_add_run(struct conn *c, struct run *r);
void conn_remove_run(struct conn *c, struct run *r);

/* Whether a run, submission or waiting acquire of c's with this msgid is unanswered. */
bool conn_msgid_in_flight(const struct conn *c, uint32_t msgid);
/* c's unanswered run or submission with this msgid, or NULL. */
struct run *conn_run_of(const struct conn *c, uint32_t msgid);
/* Whether c's acquire with this msgid waits for a lease. */
bool conn_acquire_waits(const struct conn *c, uint32_t msgid);

/* c asks for a run: its connection, its user's budget, and as whom an exec runs. */
struct run_caller conn_caller(struct conn *c);
/* A run of c's is answered: to c, or to nobody once c is gone (run_owner). */
void conn_answer_result(struct run *r, struct evbuffer *src, size_t len);
void conn_answer_error(struct run *r, const struct lp_error *err);
/* The owner of a run on a lease. */
extern const struct run_owner conn_run_owner;

/* True when the peer is uid, in gid, or in a supplementary group gid. */
bool conn_has_group(const struct conn *c, gid_t gid);

/*
 * True for root and for the daemon's own uid (its user once -u or User=
 * switched to it): who may administer the daemon (reload, drain, resume,
 * config).
 */
bool conn_is_admin(const struct conn *c);

/* Takes an accepted socket; closes it when the client cannot be served. */
void conn_accept(int fd);

/* The one teardown path: EOF, error, bad stream or daemon stop. */
void conn_close(struct conn *c, const char *why);
void conn_free(struct conn *c);

/* Packing a response: conn_packer() hands out a cleared packer, conn_send() queues what was packed. */
msgpack_packer *conn_packer(void);
void conn_send(struct conn *c);
void conn_send_error(struct conn *c, uint32_t msgid,
    const struct lp_error *err);
/* A result whose len packed bytes are moved out of src. */
void conn_send_result(struct conn *c, uint32_t msgid, struct evbuffer *src,
    size_t len);

/* Writes what every connection queued this loop turn (server's flush event). */
void conn_flush_queued(void);

/* "client 7 (pid 1234, uid 1000)" for log lines. */
const char *conn_label(const struct conn *c);

#endif
