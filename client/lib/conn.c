/* SPDX-License-Identifier: ISC */
/*
 * The connection: finding and opening the socket, writing queued requests,
 * reading the daemon's stream and cutting it into messages, and the one
 * path by which a connection ends, whatever the reason.
 *
 * The socket is non-blocking so that one process step never stalls; the
 * blocking API waits in poll() between steps (lpc_conn_wait).  Callbacks run
 * in the middle of a step and may start blocking calls of their own, so
 * all reading state lives in the client, never in locals across a message.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/lib/client.h"
#include "proto/path_trust.h"

/* Room for each read; also the smallest message worth moving, not copying. */
#define READ_MIN (64u << 10)

/* The daemon's user under the shipped unit: its socket is as trusted as root's. */
#define DAEMON_USER "leasepool"

static void
trusted_uids(struct lp_trusted_uids *t)
{
	struct passwd pw, *found = NULL;
	char buf[1024];

	t->uid[0] = getuid();
	t->uid[1] = 0;
	t->n = 2;
	if (getpwnam_r(DAEMON_USER, &pw, buf, sizeof buf, &found) == 0 &&
	    found != NULL)
		t->uid[t->n++] = found->pw_uid;
}

/*
 * lp_connect(NULL)'s socket: $LEASEPOOL_SOCKET as it is, else the first
 * trusted socket of the system's, the user's runtime directory's and the
 * user's in /tmp (path_trust.h).  Nothing there: the system's path, and
 * an error that lists what was tried.  Only a distrusted socket there: an
 * error that says why, for a socket in a shared place may be a trap that
 * another user laid.
 */
static enum lp_err
default_socket(char *path, size_t size, struct lp_error *err)
{
	const char *env = getenv(LP_ENV_SOCKET),
		   *runtime = getenv("XDG_RUNTIME_DIR");
	char candidates[3][PATH_MAX], why[512] = "", tried[512] = "";
	struct lp_trusted_uids trusted;
	size_t n = 0;

	if (env != NULL && *env != '\0') {
		snprintf(path, size, "%s", env);
		return lpc_error_ok(err);
	}
	trusted_uids(&trusted);
	snprintf(candidates[n++], PATH_MAX, "%s", LP_SYSTEM_SOCKET);
	if (runtime != NULL && *runtime == '/')
		snprintf(candidates[n++], PATH_MAX, "%s/leasepool.sock",
		    runtime);
	snprintf(candidates[n++], PATH_MAX, "/tmp/leasepool-%u.sock",
	    (unsigned)getuid());
	snprintf(path, size, "%s", LP_SYSTEM_SOCKET);
	for (size_t i = 0; i < n; i++) {
		char reason[sizeof why];

		switch (lp_path_check(candidates[i], S_IFSOCK, &trusted, reason,
		    sizeof reason)) {
		case LP_PATH_TRUSTED:
			snprintf(path, size, "%s", candidates[i]);
			return lpc_error_ok(err);
		case LP_PATH_WRONG_TYPE:
		case LP_PATH_UNTRUSTED:
			if (why[0] == '\0') {
				snprintf(path, size, "%s", candidates[i]);
				memcpy(why, reason, sizeof why);
			}
			break;
		case LP_PATH_ABSENT:
		case LP_PATH_NO_DIR:
			break;
		}
		snprintf(tried + strlen(tried), sizeof tried - strlen(tried),
		    "%s%s", i == 0 ? "" : ", ", candidates[i]);
	}
	if (why[0] != '\0')
		return lpc_error_set(err, LP_ERR_PERMISSION_DENIED,
		    "not using %s: %s "
		    "(set " LP_ENV_SOCKET " to the socket to use)",
		    path, why);
	return lpc_error_set(err, LP_ERR_SYSTEM,
	    "no leasepoold socket at %s: start leasepoold, "
	    "or set " LP_ENV_SOCKET " to its socket",
	    tried);
}

const char *
lp_default_socket(void)
{
	static char path[PATH_MAX];

	default_socket(path, sizeof path, NULL);
	return path;
}

/* Only connecting blocks: a busy daemon's backlog is worth waiting for. */
static int
conn_open(const char *path, struct lp_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sun.sun_path) {
		lpc_error_set(err, LP_ERR_SYSTEM, "%s: %s", path,
		    strerror(ENAMETOOLONG));
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		lpc_error_set(err, LP_ERR_SYSTEM, "socket: %s",
		    strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		/* Not a daemon that is down: the socket is not ours to use. */
		lpc_error_set(err,
		    errno == EACCES || errno == EPERM ?
			LP_ERR_PERMISSION_DENIED :
			LP_ERR_SYSTEM,
		    "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct lp_client *
lp_connect(const char *path, struct lp_error *err)
{
	char def[PATH_MAX];
	struct lp_client *c;

	if (path == NULL) {
		if (default_socket(def, sizeof def, err) != LP_OK)
			return NULL;
		path = def;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		lpc_error_set(err, LP_ERR_SYSTEM, "%s", strerror(errno));
		return NULL;
	}
	if ((c->fd = conn_open(path, err)) == -1) {
		free(c);
		return NULL;
	}
	c->next_call = 1;
	lp_framer_init(&c->framer, LP_CLIENT_MESSAGE_MAX, LP_FRAME_DEPTH_MAX);
	lpc_error_ok(err);
	return c;
}

void
lp_client_free(struct lp_client *c)
{
	if (c == NULL)
		return;
	lpc_conn_fail(c, LP_ERR_DISCONNECTED, "the client was freed");
	close(c->fd);
	lpc_buf_free(&c->in);
	lpc_buf_free(&c->out);
	lpc_calls_free(c);
	free(c);
}

/*
 * The only way a connection ends.  The descriptor stays open (shut down)
 * until lp_client_free(), so that an event loop watching it never sees
 * its number reused by another file.
 */
void
lpc_conn_fail(struct lp_client *c, enum lp_err code, const char *fmt, ...)
{
	va_list ap;

	if (c->dead)
		return;
	c->dead = true;
	va_start(ap, fmt);
	lpc_error_vset(&c->fail, code, fmt, ap);
	va_end(ap);
	shutdown(c->fd, SHUT_RDWR);
	c->out.len = c->out_sent = 0;
	lpc_call_fail_all(c, &c->fail);
}

/* Later calls fail fast, saying why the connection ended. */
enum lp_err
lpc_conn_dead_error(const struct lp_client *c, struct lp_error *err)
{
	if (c->fail.code == LP_ERR_DISCONNECTED)
		return lpc_error_set(err, LP_ERR_DISCONNECTED, "%s",
		    c->fail.message);
	return lpc_error_set(err, LP_ERR_DISCONNECTED,
	    "disconnected after %s: %s", lp_err_name(c->fail.code),
	    c->fail.message);
}

static void
conn_flush(struct lp_client *c)
{
	ssize_t n;

	while (c->out_sent < c->out.len) {
		n = send(c->fd, c->out.data + c->out_sent,
		    c->out.len - c->out_sent, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				lpc_conn_fail(c, LP_ERR_DISCONNECTED,
				    "lost the connection to leasepoold: %s",
				    strerror(errno));
			break;
		}
		c->out_sent += n;
	}
	/* Move the rest down only once that is cheaper than letting it grow. */
	if (c->out_sent == c->out.len)
		c->out.len = c->out_sent = 0;
	else if (c->out_sent > c->out.len / 2) {
		c->out.len -= c->out_sent;
		memmove(c->out.data, c->out.data + c->out_sent, c->out.len);
		c->out_sent = 0;
	}
}

/*
 * Moves the message's bytes into its zone, which the caller's lp_value will
 * own: a big message at the start of the buffer takes the whole buffer
 * (the rest is copied to a new one), a small one is copied.
 */
static const char *
conn_take_message(struct lp_client *c, msgpack_zone *zone, size_t len)
{
	struct buf rest = { 0 };
	char *p;

	if (c->in_msg == 0 && len >= READ_MIN) {
		if (lpc_buf_write(&rest, c->in.data + len, c->in.len - len) ==
			-1 ||
		    !msgpack_zone_push_finalizer(zone, free, c->in.data)) {
			lpc_buf_free(&rest);
			return NULL;
		}
		p = c->in.data;
		c->in = rest;
		c->in_msg = c->in_scan = 0;
		return p;
	}
	if ((p = msgpack_zone_malloc(zone, len)) == NULL)
		return NULL;
	memcpy(p, c->in.data + c->in_msg, len);
	c->in_msg = c->in_scan;
	return p;
}

/* The message in_msg..in_scan is complete: decode it and hand it on. */
static void
conn_unpack(struct lp_client *c)
{
	size_t len = c->in_scan - c->in_msg, off = 0;
	msgpack_unpack_return r;
	msgpack_zone *zone;
	msgpack_object o;
	const char *p;

	if ((zone = lpc_zone_new()) == NULL ||
	    (p = conn_take_message(c, zone, len)) == NULL) {
		if (zone != NULL)
			lpc_zone_free(zone);
		lpc_conn_fail(c, LP_ERR_SYSTEM, "out of memory for a message");
		return;
	}
	if ((r = msgpack_unpack(p, len, &off, zone, &o)) !=
	    MSGPACK_UNPACK_SUCCESS) {
		lpc_zone_free(zone);
		lpc_conn_fail(c,
		    r == MSGPACK_UNPACK_NOMEM_ERROR ? LP_ERR_SYSTEM :
						      LP_ERR_PROTOCOL,
		    "cannot decode a message from leasepoold");
		return;
	}
	lpc_call_dispatch(c, zone, &o);
}

static void
conn_deliver(struct lp_client *c)
{
	size_t used;

	while (!c->dead && c->in_scan < c->in.len) {
		switch (lp_framer_feed(&c->framer, c->in.data + c->in_scan,
		    c->in.len - c->in_scan, &used)) {
		case LP_FRAME_MORE:
			c->in_scan = c->in.len;
			break;
		case LP_FRAME_DONE:
			c->in_scan += used;
			conn_unpack(c);
			break;
		case LP_FRAME_ERROR:
			lpc_conn_fail(c, LP_ERR_PROTOCOL,
			    "leasepoold sent a broken stream: %s",
			    lp_frame_error_string(c->framer.error));
			break;
		}
	}
}

static bool
conn_make_room(struct lp_client *c)
{
	if (c->in_msg > 0) {
		c->in.len -= c->in_msg;
		memmove(c->in.data, c->in.data + c->in_msg, c->in.len);
		c->in_scan -= c->in_msg;
		c->in_msg = 0;
	}
	if (!lpc_buf_reserve(&c->in, READ_MIN)) {
		lpc_conn_fail(c, LP_ERR_SYSTEM, "out of memory for reading");
		return false;
	}
	return true;
}

/* Reads until the socket is empty, handing on each message as it completes. */
static void
conn_read(struct lp_client *c)
{
	size_t room;
	ssize_t n;

	while (!c->dead && conn_make_room(c)) {
		room = c->in.cap - c->in.len;
		n = recv(c->fd, c->in.data + c->in.len, room, 0);
		if (n == 0) {
			lpc_conn_fail(c, LP_ERR_DISCONNECTED,
			    "leasepoold closed the connection");
			return;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				lpc_conn_fail(c, LP_ERR_DISCONNECTED,
				    "lost the connection to leasepoold: %s",
				    strerror(errno));
			return;
		}
		c->in.len += n;
		conn_deliver(c);
		if ((size_t)n < room)
			return;
	}
}

static void
conn_step(struct lp_client *c)
{
	conn_flush(c);
	if (!c->dead)
		conn_read(c);
	/* Callbacks may have queued more. */
	if (!c->dead)
		conn_flush(c);
}

/*
 * One turn of a blocking call: send, wait for the socket, then step.
 * Sending first spares a request its round trip through poll() just to
 * learn that the socket is writable: send, poll, recv is the whole call.
 */
void
lpc_conn_wait(struct lp_client *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	conn_flush(c);
	if (c->dead)
		return;
	if (lp_client_want_write(c))
		pfd.events |= POLLOUT;
	if (poll(&pfd, 1, -1) == -1) {
		if (errno != EINTR)
			lpc_conn_fail(c, LP_ERR_SYSTEM, "poll: %s",
			    strerror(errno));
		return;
	}
	conn_step(c);
}

enum lp_err
lp_client_process(struct lp_client *c, struct lp_error *err)
{
	if (!c->dead)
		conn_step(c);
	if (c->dead)
		return lpc_conn_dead_error(c, err);
	return lpc_error_ok(err);
}

int
lp_client_fd(const struct lp_client *c)
{
	return c->fd;
}

bool
lp_client_want_write(const struct lp_client *c)
{
	return !c->dead && c->out_sent < c->out.len;
}

void
lp_client_on_queue(struct lp_client *c, lp_queue_cb *cb, void *arg)
{
	c->queue_cb = cb;
	c->queue_arg = arg;
}
