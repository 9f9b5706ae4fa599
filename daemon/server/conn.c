/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/core/alloc.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/server/conn.h"
#include "daemon/server/dispatch.h"
#include "daemon/server/grinder.h"
#include "daemon/server/loop.h"
#include "daemon/server/server.h"
#include "proto/params.h"

#define READ_CHUNK (64u * 1024)
/* Stop reading a client whose unsent output passes OUT_HIGH; resume below OUT_LOW. */
#define OUT_HIGH (1u << 20)
#define OUT_LOW (256u * 1024)

static void conn_readable(evutil_socket_t fd, short what, void *arg);
static void conn_writable(evutil_socket_t fd, short what, void *arg);
static void conn_hung_up(evutil_socket_t fd, short what, void *arg);
static void conn_process(struct conn *c);
static void conn_write(struct conn *c);
static void read_peer_groups(struct conn *c);

const char *
conn_label(const struct conn *c)
{
	static char buf[96];

	snprintf(buf, sizeof buf, "client %llu (pid %d, uid %u)",
	    (unsigned long long)c->id, (int)c->holder.pid,
	    (unsigned)c->holder.uid);
	return buf;
}

static void
refuse(int fd, enum lp_err code, const char *message)
{
	struct lp_error err = { .code = code };

	snprintf(err.message, sizeof err.message, "%s", message);
	msgpack_sbuffer_clear(&server.scratch);
	lp_pack_error_notification(&server.packer, &err);
	(void)!send(fd, server.scratch.data, server.scratch.size,
	    MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

void
conn_accept(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	struct user *u;
	struct conn *c;

	/* Peer credentials fail closed: no identity, no service. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("refusing a connection: SO_PEERCRED: %s",
		    strerror(errno));
		close(fd);
		return;
	}
	if (server.nconns >= server.cfg.max_connections) {
		log_warn(
		    "refusing a connection from pid %d uid %u: %u connection%s (max_connections)",
		    (int)cred.pid, (unsigned)cred.uid, server.nconns,
		    lp_plural(server.nconns));
		refuse(fd, LP_ERR_LIMIT_EXCEEDED, "too many connections");
		return;
	}
	if ((u = user_find(cred.uid)) != NULL &&
	    u->nconns >= server.cfg.max_connections_per_user) {
		log_warn(
		    "refusing a connection from pid %d uid %u: that user has %u connections "
		    "(max_connections_per_user)",
		    (int)cred.pid, (unsigned)cred.uid, u->nconns);
		refuse(fd, LP_ERR_LIMIT_EXCEEDED,
		    "too many connections of this user (max_connections_per_user)");
		return;
	}
	if (evutil_make_socket_nonblocking(fd) == -1 ||
	    (c = calloc(1, sizeof *c)) == NULL) {
		close(fd);
		return;
	}
	c->id = ++server.next_conn_id;
	c->fd = fd;
	c->connected = clock_now();
	lease_holder_init(&c->holder, c);
	c->holder.pid = cred.pid;
	c->holder.uid = cred.uid;
	c->holder.gid = cred.gid;
	read_peer_groups(c);
	TAILQ_INIT(&c->runs);
	LIST_INIT(&c->grinds);
	lp_framer_init(&c->framer, server.cfg.max_message_bytes,
	    server.cfg.max_depth);
	c->out = evbuffer_new();
	c->ev_read =
	    event_new(server.base, fd, EV_READ | EV_PERSIST, conn_readable, c);
	c->ev_write =
	    event_new(server.base, fd, EV_WRITE | EV_PERSIST, conn_writable, c);
	c->ev_hangup = event_new(server.base, fd, EV_CLOSED, conn_hung_up, c);
	if (c->out == NULL || c->ev_read == NULL || c->ev_write == NULL ||
	    c->ev_hangup == NULL) {
		conn_free(c);
		close(fd);
		return;
	}
	c->user = user_attach(cred.uid);
	TAILQ_INSERT_TAIL(&server.conns, c, link);
	server.nconns++;
	event_add(c->ev_read, NULL);
	log_debug("%s connected", conn_label(c));
}

/*
 * The msgid table grows with the runs in flight, keeping its chains this
 * long on average, and is never shrunk: a connection that ran something
 * will likely run more.  One that never ran anything (most idle ones)
 * has none.
 */
#define MSGID_CHAIN_AVERAGE 2
#define MSGID_BUCKETS_FIRST 8

static struct run_chain *
msgid_chain(const struct conn *c, uint32_t msgid)
{
	return &c->runs_by_msgid[msgid & (c->nbuckets - 1)];
}

/* A table four times as large, every run in flight in it again. */
static void
msgid_table_grow(struct conn *c)
{
	unsigned n = c->nbuckets == 0 ? MSGID_BUCKETS_FIRST : 4 * c->nbuckets;
	struct run *r;

	free(c->runs_by_msgid);
	c->runs_by_msgid = xcalloc(n, sizeof *c->runs_by_msgid);
	c->nbuckets = n;
	for (unsigned i = 0; i < n; i++)
		LIST_INIT(&c->runs_by_msgid[i]);
	TAILQ_FOREACH (r, &c->runs, conn_link)
		LIST_INSERT_HEAD(msgid_chain(c, r->msgid), r, msgid_link);
}

void
conn_add_run(struct conn *c, struct run *r)
{
	if (c->nruns >= MSGID_CHAIN_AVERAGE * c->nbuckets)
		msgid_table_grow(c);
	TAILQ_INSERT_TAIL(&c->runs, r, conn_link);
	LIST_INSERT_HEAD(msgid_chain(c, r->msgid), r, msgid_link);
	c->nruns++;
}

void
conn_remove_run(struct conn *c, struct run *r)
{
	TAILQ_REMOVE(&c->runs, r, conn_link);
	LIST_REMOVE(r, msgid_link);
	c->nruns--;
}

struct run *
conn_run_of(const struct conn *c, uint32_t msgid)
{
	struct run *r;

	if (c->nbuckets == 0)
		return NULL;
	LIST_FOREACH (r, msgid_chain(c, msgid), msgid_link)
		if (r->msgid == msgid)
			return r;
	return NULL;
}

/* A connection waits for few acquires at once: its waiters are looked at one by one. */
bool
conn_acquire_waits(const struct conn *c, uint32_t msgid)
{
	const struct waiter *w;

	TAILQ_FOREACH (w, &c->holder.waiters, holder_link)
		if (w->tag == msgid)
			return true;
	return false;
}

bool
conn_msgid_in_flight(const struct conn *c, uint32_t msgid)
{
	return conn_run_of(c, msgid) != NULL || conn_acquire_waits(c, msgid);
}

struct run_caller
conn_caller(struct conn *c)
{
	return (struct run_caller){ .conn = c,
		.user = c->user,
		.uid = c->holder.uid,
		.gid = c->holder.gid,
		.groups = c->groups,
		.ngroups = c->ngroups };
}

void
conn_answer_result(struct run *r, struct evbuffer *src, size_t len)
{
	if (r->conn == NULL) {
		evbuffer_drain(src, len);
		return;
	}
	conn_remove_run(r->conn, r);
	conn_send_result(r->conn, r->msgid, src, len);
}

void
conn_answer_error(struct run *r, const struct lp_error *err)
{
	if (r->conn == NULL)
		return;
	conn_remove_run(r->conn, r);
	conn_send_error(r->conn, r->msgid, err);
}

const struct run_owner conn_run_owner = {
	.result = conn_answer_result,
	.error = conn_answer_error,
	.charge = user_charge,
	.uncharge = user_uncharge,
};

bool
conn_has_group(const struct conn *c, gid_t gid)
{
	if (c->holder.gid == gid)
		return true;
	for (unsigned i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

bool
conn_is_admin(const struct conn *c)
{
	return c->holder.uid == 0 || c->holder.uid == geteuid();
}

/* Supplementary groups count for allow_groups; a peer with too many keeps the first ones. */
static void
read_peer_groups(struct conn *c)
{
	socklen_t len = sizeof c->groups;

	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &len) == 0)
		c->ngroups = len / sizeof c->groups[0];
}

void
conn_free(struct conn *c)
{
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->ev_hangup != NULL)
		event_free(c->ev_hangup);
	if (c->out != NULL)
		evbuffer_free(c->out);
	free(c->in);
	free(c->runs_by_msgid);
	free(c);
}

static unsigned
count_leases(const struct conn *c)
{
	const struct lease *l;
	unsigned n = 0;

	TAILQ_FOREACH (l, &c->holder.leases, holder_link)
		n++;
	return n;
}

void
conn_close(struct conn *c, const char *why)
{
	struct run *r;
	double now = clock_now();
	unsigned leases;

	if (c->closed)
		return;
	c->closed = true;
	leases = count_leases(c);
	log_debug("%s disconnected: %s (%u lease%s released)", conn_label(c),
	    why, leases, lp_plural(leases));
	/* Whatever bytes are still queued get one last chance, e.g. the error notification. */
	if (evbuffer_get_length(c->out) > 0)
		(void)evbuffer_write(c->out, c->fd);
	event_del(c->ev_read);
	event_del(c->ev_write);
	event_del(c->ev_hangup);
	if (c->flush_queued) {
		TAILQ_REMOVE(&server.flushing, c, flush_link);
		c->flush_queued = false;
	}
	close(c->fd);
	c->fd = -1;
	user_detach(c);
	grinder_drop_conn(c); /* queued items go unrun */
	while ((r = TAILQ_FIRST(&c->runs)) != NULL) {
		conn_remove_run(c, r);
		r->conn = NULL; /* it still runs; its answer is dropped */
	}
	lease_holder_drop(&c->holder, now);
	TAILQ_REMOVE(&server.conns, c, link);
	server.nconns--;
	TAILQ_INSERT_TAIL(&server.closed, c, link);
	event_active(server.ev_reap, 0, 0);
	server_schedule();
	server_check_drained();
}

static void
pause_reading(struct conn *c)
{
	c->read_paused = true;
	event_del(c->ev_read);
}

static void
resume_reading(struct conn *c)
{
	c->read_paused = false;
	if (!c->budget_paused)
		event_add(c->ev_read, NULL);
	conn_process(c); /* requests already buffered */
}

/* Responses of one loop turn leave in one write: conn_flush() only queues the connection. */
static void
conn_flush(struct conn *c)
{
	user_account(c);
	if (c->closed || c->flush_queued)
		return;
	c->flush_queued = true;
	TAILQ_INSERT_TAIL(&server.flushing, c, flush_link);
	event_active(server.ev_flush, 0, 0);
}

void
conn_flush_queued(void)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&server.flushing)) != NULL) {
		TAILQ_REMOVE(&server.flushing, c, flush_link);
		c->flush_queued = false;
		conn_write(c);
	}
}

static void
conn_write(struct conn *c)
{
	if (evbuffer_get_length(c->out) > 0 &&
	    evbuffer_write(c->out, c->fd) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		conn_close(c, strerror(errno));
		return;
	}
	user_account(c);
	if (evbuffer_get_length(c->out) > 0) {
		event_add(c->ev_write, NULL);
		if (!c->read_paused && evbuffer_get_length(c->out) > OUT_HIGH)
			pause_reading(c);
	} else {
		event_del(c->ev_write);
	}
}

static void
conn_writable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_write(c);
	if (!c->closed && c->read_paused &&
	    evbuffer_get_length(c->out) < OUT_LOW)
		resume_reading(c);
}

msgpack_packer *
conn_packer(void)
{
	msgpack_sbuffer_clear(&server.scratch);
	return &server.packer;
}

void
conn_send(struct conn *c)
{
	if (c->closed)
		return;
	if (evbuffer_add(c->out, server.scratch.data, server.scratch.size) ==
	    -1) {
		conn_close(c, "out of memory for its output");
		return;
	}
	conn_flush(c);
}

void
conn_send_error(struct conn *c, uint32_t msgid, const struct lp_error *err)
{
	lp_pack_response_error(conn_packer(), msgid, err, c->error_form);
	conn_send(c);
}

void
conn_send_result(struct conn *c, uint32_t msgid, struct evbuffer *src,
    size_t len)
{
	lp_pack_response_ok(conn_packer(), msgid);
	if (c->closed ||
	    evbuffer_add(c->out, server.scratch.data, server.scratch.size) ==
		-1 ||
	    evbuffer_remove_buffer(src, c->out, len) != (int)len) {
		evbuffer_drain(src, len);
		conn_close(c, "out of memory for its output");
		return;
	}
	conn_flush(c);
}

/* The stream cannot be read any further: say why, once, and hang up. */
static void
conn_protocol_error(struct conn *c, enum lp_err code, const char *message)
{
	struct lp_error err = { .code = code };

	snprintf(err.message, sizeof err.message, "%s", message);
	log_warn("%s: %s", conn_label(c), message);
	lp_pack_error_notification(conn_packer(), &err);
	conn_send(c);
	conn_close(c, message);
}

/* A request is dispatched; a client's notification asks nothing of the daemon. */
static void
conn_request(struct conn *c, const struct lp_request *req)
{
	if (req->notification)
		log_debug("%s: ignoring its notification", conn_label(c));
	else
		dispatch(c, req);
}

static void
conn_message(struct conn *c, const char *msg, size_t len)
{
	struct lp_request req;
	struct lp_error err;
	bool msgid_known;

	if (lp_request_decode(msg, len, &req, &err, &msgid_known) != LP_OK) {
		log_debug("%s: %s", conn_label(c), err.message);
		if (msgid_known) {
			conn_send_error(c, req.msgid, &err);
		} else {
			/* The stream is still in step: answer with a notification and go on. */
			lp_pack_error_notification(conn_packer(), &err);
			conn_send(c);
		}
	} else {
		conn_request(c, &req);
	}
}

/*
 * A whole request at the start of buf that is valid and within the
 * framer's limits is dispatched without being framed first: decoding it
 * finds where it ends, and framing it too was a large share of the
 * daemon's work per run (bench/README.md, U).  Anything else, a message
 * cut by the read or one that breaks a rule, takes the framer's way and
 * gets the answer it always did.
 */
static bool
conn_request_in_place(struct conn *c, const char *buf, size_t len, size_t *used)
{
	struct lp_request req;
	struct lp_error err;
	bool msgid_known;

	if (lp_request_decode(buf, len, &req, &err, &msgid_known) != LP_OK ||
	    req.len > c->framer.max_bytes || req.depth > c->framer.max_depth)
		return false;
	*used = req.len;
	conn_request(c, &req);
	return true;
}

/*
 * Dispatches the whole messages in buf, of which the first c->in_scanned
 * bytes were fed to the framer already; returns the bytes consumed.  It
 * stops early when the connection closes or pauses.
 */
static size_t
conn_frames(struct conn *c, const char *buf, size_t len)
{
	size_t start = 0, used;
	enum lp_frame_status st;

	while (!c->closed && !c->read_paused && c->in_scanned < len) {
		if (c->in_scanned == start &&
		    conn_request_in_place(c, buf + start, len - start, &used)) {
			start += used;
			c->in_scanned = start;
			user_message_taken(c);
		} else {
			st = lp_framer_feed(&c->framer, buf + c->in_scanned,
			    len - c->in_scanned, &used);
			c->in_scanned += used;
			if (st == LP_FRAME_MORE)
				break;
			if (st == LP_FRAME_ERROR) {
				conn_protocol_error(c,
				    c->framer.error == LP_FRAME_MALFORMED ?
					LP_ERR_INVALID_REQUEST :
					LP_ERR_LIMIT_EXCEEDED,
				    lp_frame_error_string(c->framer.error));
				return start;
			}
			conn_message(c, buf + start, c->in_scanned - start);
			start = c->in_scanned;
			user_message_taken(c);
		}
		if (evbuffer_get_length(c->out) > OUT_HIGH && !c->read_paused)
			pause_reading(c);
	}
	c->in_scanned -= start;
	return start;
}

/* Room for more bytes at the end of c->in. */
static bool
reserve_input(struct conn *c, size_t more)
{
	size_t want = c->in_len + more;
	char *p;

	if (want <= c->in_cap)
		return true;
	if (want < 2 * c->in_cap)
		want = 2 * c->in_cap;
	if ((p = realloc(c->in, want)) == NULL)
		return false;
	c->in = p;
	c->in_cap = want;
	return true;
}

/* After c->in's first used bytes were consumed: an idle connection keeps no buffer. */
static void
consume_input(struct conn *c, size_t used)
{
	c->in_len -= used;
	if (c->in_len == 0) {
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	} else if (used > 0) {
		memmove(c->in, c->in + used, c->in_len);
	}
}

/* The requests c->in holds: its part of the last read, or all of it when reading resumes. */
static void
conn_process(struct conn *c)
{
	consume_input(c, conn_frames(c, c->in, c->in_len));
	if (c->closed)
		return;
	server_schedule();
	conn_flush(c);
}

/*
 * Every connection reads into one shared buffer and keeps only what is
 * left of it (a message cut by the read, or requests behind a pause), so
 * thousands of idle clients cost no input buffers.
 */
static void
conn_read_requests(struct conn *c)
{
	static char shared[READ_CHUNK];
	char *buf = shared;
	size_t used;
	ssize_t n;

	if (c->in_len > 0) {
		if (!reserve_input(c, READ_CHUNK)) {
			conn_close(c, "out of memory for its input");
			return;
		}
		buf = c->in + c->in_len;
	}
	n = read(c->fd, buf, READ_CHUNK);
	if (n == 0) {
		conn_close(c, "closed by the client");
		return;
	}
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c, strerror(errno));
		return;
	}
	if (buf == shared) {
		used = conn_frames(c, shared, (size_t)n);
		if (c->closed)
			return;
		/* What is left of it, a message cut by the read or requests behind a pause, is kept. */
		n -= (ssize_t)used;
		if (n > 0) {
			if (!reserve_input(c, (size_t)n)) {
				conn_close(c, "out of memory for its input");
				return;
			}
			memcpy(c->in, shared + used, (size_t)n);
		}
	}
	c->in_len += (size_t)n;
	conn_process(c);
}

/* A connection that is not read sees no EOF: it would hold its user's bytes after its client went. */
static void
conn_hung_up(evutil_socket_t fd, short what, void *arg)
{
	conn_close(arg, "closed by the client");
}

static void
conn_readable(evutil_socket_t fd, short what, void *arg)
{
	if (!user_may_read(arg))
		return;
	loop_note_input(clock_hold());
	conn_read_requests(arg);
	clock_release();
}
