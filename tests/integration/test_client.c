/* SPDX-License-Identifier: ISC */
/*
 * libleasepool against a fake daemon: a thread that serves a Unix socket in
 * a temporary directory, checks every request with the protocol layer's
 * strict decoder and answers from a script keyed by the job function's
 * name, so that a test can ask for an answer out of order, any error, a
 * hang-up, a broken stream or a huge result.  The real daemon's tests come
 * on top of these; here the client's own behaviour is pinned down.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>
#include <msgpack.h>

#include "client/lib/client.h"
#include "leasepool/leasepool-event.h"
#include "leasepool/leasepool.h"
#include "proto/frame.h"
#include "proto/params.h"
#include "proto/rpc.h"
#include "proto/path_trust.h"
#include "tests/suites.h"

/* ---- the fake daemon ---- */

#define FAKE_LEASES 128
#define FAKE_HELD 4096
#define HUGE_BYTES (100u << 20)

struct held {
	uint32_t msgid;
	int64_t value;
};

struct fake {
	char dir[32];
	char path[64];
	int listen_fd;
	pthread_t thread;

	/* The current connection, touched by the server thread only. */
	int fd;
	bool leases[FAKE_LEASES];
	struct held held[FAKE_HELD];
	size_t nheld;
	msgpack_sbuffer last; /* {method, params, requests} */
	unsigned requests;
};

static struct fake fake;

/* Check's assertions belong to the test's thread; the server aborts. */
#define fake_assert(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "fake daemon: %s:%d: %s\n", __FILE__, \
			    __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

static bool
str_is(struct lp_str s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

static void
reply_error(msgpack_packer *pk, uint32_t msgid, enum lp_err code, int sig,
    const char *message)
{
	struct lp_error e;

	lp_error_set(&e, code, "%s", message);
	e.signal = sig;
	lp_pack_response_error(pk, msgid, &e, LP_ERRORS_MAP);
}

static const msgpack_object *
first_arg(const msgpack_object *args)
{
	if (args == NULL || args->via.array.size == 0)
		return NULL;
	return &args->via.array.ptr[0];
}

static int64_t
first_int(const msgpack_object *args)
{
	const msgpack_object *a = first_arg(args);

	if (a == NULL)
		return 0;
	return a->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? a->via.i64 :
							    (int64_t)a->via.u64;
}

static void
pack_obj_or_nil(msgpack_packer *pk, const msgpack_object *o)
{
	if (o == NULL)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_object(pk, *o);
}

static void
pack_big(msgpack_packer *pk, size_t n)
{
	char *p = malloc(n);
	size_t i;

	fake_assert(p != NULL);
	for (i = 0; i < n; i++)
		p[i] = (char)(i * 7);
	msgpack_pack_bin(pk, n);
	msgpack_pack_bin_body(pk, p, n);
	free(p);
}

/* Answers held requests last first: completion order is not request order. */
static void
flush_held(struct fake *f, msgpack_packer *pk)
{
	while (f->nheld > 0) {
		f->nheld--;
		lp_pack_response_ok(pk, f->held[f->nheld].msgid);
		msgpack_pack_int64(pk, f->held[f->nheld].value);
	}
}

/* A job: run or submit.  Returns false to hang up. */
static bool
fake_job(struct fake *f, msgpack_packer *pk, uint32_t msgid, struct lp_str fn,
    const msgpack_object *args, const msgpack_object *kwargs)
{
	char name[64];
	size_t held;

	if (str_is(fn, "echo")) {
		lp_pack_response_ok(pk, msgid);
		pack_obj_or_nil(pk, first_arg(args));
	} else if (str_is(fn, "args")) {
		lp_pack_response_ok(pk, msgid);
		pack_obj_or_nil(pk, args);
	} else if (str_is(fn, "kwargs")) {
		lp_pack_response_ok(pk, msgid);
		pack_obj_or_nil(pk, kwargs);
	} else if (str_is(fn, "shape")) {
		lp_pack_response_ok(pk, msgid);
		msgpack_pack_array(pk, 2);
		msgpack_pack_int64(pk, args != NULL);
		msgpack_pack_int64(pk, kwargs != NULL);
	} else if (fn.len > 5 && memcmp(fn.ptr, "fail:", 5) == 0) {
		snprintf(name, sizeof name, "job says %.*s", (int)fn.len - 5,
		    fn.ptr + 5);
		reply_error(pk, msgid, lp_err_from_name(fn.ptr + 5, fn.len - 5),
		    0, name);
	} else if (str_is(fn, "crash")) {
		reply_error(pk, msgid, LP_ERR_WORKER_CRASHED, 9, "worker died");
	} else if (str_is(fn, "hold")) {
		fake_assert(f->nheld < FAKE_HELD);
		f->held[f->nheld++] = (struct held){ msgid, first_int(args) };
	} else if (str_is(fn, "flush")) {
		held = f->nheld;
		flush_held(f, pk);
		lp_pack_response_ok(pk, msgid);
		msgpack_pack_uint64(pk, held);
	} else if (str_is(fn, "big")) {
		lp_pack_response_ok(pk, msgid);
		pack_big(pk, (size_t)first_int(args));
	} else if (str_is(fn, "huge")) {
		lp_pack_response_ok(pk, msgid);
		msgpack_pack_bin(pk, HUGE_BYTES);
	} else if (str_is(fn, "close")) {
		return false;
	} else if (str_is(fn, "notify")) {
		struct lp_error e;

		lp_error_set(&e, LP_ERR_LIMIT_EXCEEDED, "fake: too big");
		lp_pack_error_notification(pk, &e);
		return false;
	} else if (str_is(fn, "garbage")) {
		pk->callback(pk->data, "\xc1", 1);
	} else if (str_is(fn, "envelope")) {
		msgpack_pack_array(pk, 4);
		msgpack_pack_uint8(pk, LP_MSG_RESPONSE);
		lp_pack_cstr(pk, "not a msgid");
		msgpack_pack_nil(pk);
		msgpack_pack_nil(pk);
	} else if (str_is(fn, "stray")) {
		lp_pack_response_ok(pk, msgid + 1000000);
		msgpack_pack_nil(pk);
	} else if (str_is(fn, "request")) {
		lp_pack_request(pk, 7, "hello", 0);
	} else if (str_is(fn, "ping")) {
		msgpack_pack_array(pk, 3);
		msgpack_pack_uint8(pk, LP_MSG_NOTIFY);
		lp_pack_cstr(pk, "progress");
		msgpack_pack_array(pk, 1);
		msgpack_pack_map(pk, 0);
		lp_pack_response_ok(pk, msgid);
		msgpack_pack_nil(pk);
	} else
		reply_error(pk, msgid, LP_ERR_NO_SUCH_FUNCTION, 0,
		    "no such function");
	return true;
}

static void
fake_acquire(struct fake *f, msgpack_packer *pk, uint32_t msgid,
    const struct lp_acquire_params *p)
{
	unsigned id;

	if (p->has_pool && str_is(p->pool, "busy") && !p->wait) {
		reply_error(pk, msgid, LP_ERR_UNAVAILABLE, 0, "all busy");
		return;
	}
	/* The lowest free id: released ids come back, as they may. */
	for (id = 1; id < FAKE_LEASES && f->leases[id]; id++)
		continue;
	fake_assert(id < FAKE_LEASES);
	f->leases[id] = true;
	lp_pack_response_ok(pk, msgid);
	if (p->has_pool && str_is(p->pool, "bad")) {
		msgpack_pack_map(pk, 1);
		lp_pack_kv_u64(pk, "lease", id);
		return;
	}
	msgpack_pack_map(pk, 6);
	lp_pack_kv_u64(pk, "lease", id);
	lp_pack_cstr(pk, "pool");
	if (p->has_pool) {
		msgpack_pack_str(pk, p->pool.len);
		msgpack_pack_str_body(pk, p->pool.ptr, p->pool.len);
	} else
		lp_pack_cstr(pk, "cpu");
	lp_pack_kv_str(pk, "backend", "process");
	lp_pack_kv_u64(pk, "workers", 2);
	lp_pack_kv_double(pk, "lease_seconds",
	    p->has_lease_seconds ? p->lease_seconds : 30);
	/* Seconds may come as an integer. */
	lp_pack_kv_u64(pk, "grace_seconds", 5);
}

static void
no_lease(msgpack_packer *pk, uint32_t msgid)
{
	reply_error(pk, msgid, LP_ERR_NO_SUCH_LEASE, 0, "no lease");
}

static bool
fake_lease(struct fake *f, uint64_t id)
{
	return id < FAKE_LEASES && f->leases[id];
}

static void
fake_renew(msgpack_packer *pk, uint32_t msgid, const struct lp_renew_params *p)
{
	lp_pack_response_ok(pk, msgid);
	/* 7 asks for a broken answer. */
	if (p->lease_seconds == 7) {
		msgpack_pack_map(pk, 0);
		return;
	}
	msgpack_pack_map(pk, 1);
	lp_pack_kv_double(pk, "lease_seconds",
	    p->has_lease_seconds ? p->lease_seconds : 30);
}

/*
 * A held job is withdrawn as queued, answered CANCELLED before the cancel
 * itself; any other msgid counts as finished, as the daemon counts it.
 */
static void
fake_cancel(struct fake *f, msgpack_packer *pk, uint32_t msgid,
    const struct lp_cancel_params *p)
{
	bool withdrawn;
	size_t i;

	fake_assert(p->has_msgid);
	for (i = 0; i < f->nheld && f->held[i].msgid != p->msgid; i++)
		continue;
	if ((withdrawn = i < f->nheld)) {
		reply_error(pk, p->msgid, LP_ERR_CANCELLED, 0,
		    "cancelled before it started");
		memmove(f->held + i, f->held + i + 1,
		    (--f->nheld - i) * sizeof *f->held);
	}
	lp_pack_response_ok(pk, msgid);
	msgpack_pack_map(pk, 3);
	lp_pack_kv_u64(pk, "queued", withdrawn);
	lp_pack_kv_u64(pk, "running", 0);
	lp_pack_kv_u64(pk, "finished", !withdrawn);
}

/* m is r as an object, for the jobs that read their arguments. */
static bool
fake_request(struct fake *f, msgpack_packer *pk, const struct lp_request *r,
    const struct lp_message *m)
{
	uint32_t id = r->msgid;

	switch (r->method) {
	case LP_METHOD_HELLO:
		lp_pack_response_ok(pk, id);
		msgpack_pack_map(pk, 3);
		lp_pack_kv_str(pk, "server", "fake");
		lp_pack_kv_u64(pk, "protocol", LP_PROTOCOL_VERSION);
		lp_pack_kv_i64(pk, "pid", getpid());
		break;
	case LP_METHOD_ACQUIRE:
		fake_acquire(f, pk, id, &r->p.acquire);
		break;
	case LP_METHOD_RELEASE:
		if (!fake_lease(f, r->p.release.lease)) {
			no_lease(pk, id);
			break;
		}
		f->leases[r->p.release.lease] = false;
		lp_pack_response_ok(pk, id);
		msgpack_pack_true(pk);
		break;
	case LP_METHOD_RENEW:
		if (!fake_lease(f, r->p.renew.lease)) {
			no_lease(pk, id);
			break;
		}
		fake_renew(pk, id, &r->p.renew);
		break;
	case LP_METHOD_STATS:
		lp_pack_response_ok(pk, id);
		msgpack_pack_map(pk, 2);
		lp_pack_kv_double(pk, "uptime", 1.5);
		lp_pack_kv_u64(pk, "connections", 1);
		break;
	case LP_METHOD_RUN:
		if (!fake_lease(f, r->p.run.lease)) {
			no_lease(pk, id);
			break;
		}
		return fake_job(f, pk, id, r->p.run.fn,
		    lp_map_get(m->params, "args"),
		    lp_map_get(m->params, "kwargs"));
	case LP_METHOD_SUBMIT:
		return fake_job(f, pk, id, r->p.submit.fn,
		    lp_map_get(m->params, "args"),
		    lp_map_get(m->params, "kwargs"));
	case LP_METHOD_SCALE:
		lp_pack_response_ok(pk, id);
		msgpack_pack_map(pk, 1);
		lp_pack_kv_u64(pk, "target", r->p.scale.units);
		break;
	case LP_METHOD_CANCEL:
		fake_cancel(f, pk, id, &r->p.cancel);
		break;
	case LP_METHOD_RELOAD:
	case LP_METHOD_DRAIN:
	case LP_METHOD_RESUME:
	case LP_METHOD_CONFIG:
	case LP_METHOD_PING:
	case LP_METHOD__COUNT:
		break;
	}
	return true;
}

/* Remembers a request so that the "last" method can show it to the test. */
static void
fake_remember(struct fake *f, const struct lp_message *m)
{
	msgpack_packer pk;

	f->last.size = 0;
	f->requests++;
	msgpack_packer_init(&pk, &f->last, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	lp_pack_cstr(&pk, "method");
	msgpack_pack_str(&pk, m->method.len);
	msgpack_pack_str_body(&pk, m->method.ptr, m->method.len);
	lp_pack_cstr(&pk, "params");
	msgpack_pack_object(&pk, *m->params);
}

static bool
fake_message(struct fake *f, msgpack_packer *pk, const char *msg, size_t len,
    const msgpack_object *o)
{
	struct lp_request req;
	struct lp_message m;
	struct lp_error e;
	bool known;

	fake_assert(lp_message_parse(o, &m, &e, &known) == LP_OK);
	fake_assert(m.kind == LP_MSG_REQUEST);
	if (str_is(m.method, "last")) {
		lp_pack_response_ok(pk, m.msgid);
		msgpack_pack_map(pk, 2);
		lp_pack_kv_u64(pk, "requests", f->requests);
		lp_pack_cstr(pk, "last");
		pk->callback(pk->data, f->last.data, f->last.size);
		return true;
	}
	fake_remember(f, &m);
	if (lp_request_decode(msg, len, &req, &e, &known) != LP_OK) {
		lp_pack_response_error(pk, m.msgid, &e, LP_ERRORS_MAP);
		return true;
	}
	return fake_request(f, pk, &req, &m);
}

static bool
fake_send(int fd, msgpack_sbuffer *out)
{
	size_t off = 0;
	ssize_t n;

	while (off < out->size) {
		if ((n = send(fd, out->data + off, out->size - off,
			 MSG_NOSIGNAL)) == -1)
			return false;
		off += n;
	}
	out->size = 0;
	return true;
}

/* Serves one connection until the client hangs up or a script says so. */
static void
fake_serve(struct fake *f)
{
	size_t len = 0, start = 0, scan = 0, used, off, cap = 1 << 16;
	char *buf = malloc(cap);
	msgpack_sbuffer out;
	msgpack_packer pk;
	struct lp_framer fr;
	msgpack_object o;
	msgpack_zone zone;
	bool alive = true;
	ssize_t n;

	fake_assert(buf != NULL);
	msgpack_sbuffer_init(&out);
	msgpack_packer_init(&pk, &out, msgpack_sbuffer_write);
	lp_framer_init(&fr, 256u << 20, LP_FRAME_DEPTH_MAX);
	memset(f->leases, 0, sizeof f->leases);
	f->nheld = 0;
	while (alive && (n = recv(f->fd, buf + len, cap - len, 0)) > 0) {
		len += n;
		while (alive &&
		    lp_framer_feed(&fr, buf + scan, len - scan, &used) ==
			LP_FRAME_DONE) {
			scan += used;
			msgpack_zone_init(&zone, 4096);
			off = 0;
			fake_assert(
			    msgpack_unpack(buf + start, scan - start, &off,
				&zone, &o) == MSGPACK_UNPACK_SUCCESS);
			alive =
			    fake_message(f, &pk, buf + start, scan - start, &o);
			msgpack_zone_destroy(&zone);
			start = scan;
		}
		fake_assert(fr.error == LP_FRAME_OK);
		len -= start;
		memmove(buf, buf + start, len);
		scan = len;
		start = 0;
		if (!fake_send(f->fd, &out))
			break;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			fake_assert(buf != NULL);
		}
	}
	fake_send(f->fd, &out);
	msgpack_sbuffer_destroy(&out);
	free(buf);
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;

	while ((f->fd = accept(f->listen_fd, NULL, NULL)) != -1) {
		fake_serve(f);
		close(f->fd);
	}
	return NULL;
}

static void
fake_start(struct fake *f)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/lp-client-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/leasepool.sock", f->dir);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", f->path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(f->listen_fd, -1);
	ck_assert_int_eq(
	    bind(f->listen_fd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(f->listen_fd, 8), 0);
	msgpack_sbuffer_init(&f->last);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void
fake_stop(struct fake *f)
{
	shutdown(f->listen_fd, SHUT_RDWR); /* wakes accept() */
	ck_assert_int_eq(pthread_join(f->thread, NULL), 0);
	close(f->listen_fd);
	msgpack_sbuffer_destroy(&f->last);
	unlink(f->path);
	rmdir(f->dir);
}

/* ---- fixture and helpers ---- */

static struct lp_client *c;
static struct lp_error err;
static struct lp_value *last;
static struct lp_args *scratch;
static int completions; /* answers so far, to tell their order */

static void
setup(void)
{
	completions = 0;
	fake_start(&fake);
	c = lp_connect(fake.path, &err);
	ck_assert_msg(c != NULL, "%s", err.message);
	ck_assert_int_eq(err.code, LP_OK);
}

static void
teardown(void)
{
	lp_value_free(last);
	last = NULL;
	lp_args_free(scratch);
	scratch = NULL;
	lp_client_free(c);
	c = NULL;
	fake_stop(&fake);
}

/* The previous request as the fake daemon decoded it. */
static const msgpack_object *
last_request(const char *method, unsigned *requests)
{
	const msgpack_object *m;
	uint64_t n;

	lp_value_free(last);
	ck_assert_int_eq(lp_call(c, "last", NULL, 0, &last, &err), LP_OK);
	ck_assert(lpc_obj_u64(lp_value_get(last, "requests"), &n));
	if (requests != NULL)
		*requests = (unsigned)n;
	m = lp_map_get(lp_value_get(last, "last"), "method");
	ck_assert(m != NULL && lp_obj_is_str(m, method));
	return lp_map_get(lp_value_get(last, "last"), "params");
}

static uint32_t
map_size(const msgpack_object *o)
{
	ck_assert(o != NULL && o->type == MSGPACK_OBJECT_MAP);
	return o->via.map.size;
}

static double
get_double(const msgpack_object *map, const char *key)
{
	double d = -1;

	ck_assert_msg(lpc_obj_double(lp_map_get(map, key), &d), "%s", key);
	return d;
}

static void
assert_str(const msgpack_object *o, const char *s)
{
	ck_assert_msg(o != NULL && lp_obj_is_str(o, s), "expected '%s'", s);
}

#define assert_code(call, want) \
	do { \
		enum lp_err got_ = (call); \
		ck_assert_msg(got_ == (want), "%s: got %s (%s), want %s", \
		    #call, lp_err_name(got_), err.message, lp_err_name(want)); \
		ck_assert_int_eq(err.code, got_); \
	} while (0)

static uint64_t
acquire(void)
{
	struct lp_lease lease;

	assert_code(lp_acquire(c, NULL, &lease, &err), LP_OK);
	return lease.id;
}

/* What one asynchronous request saw. */
struct seen {
	int fired;
	enum lp_err code;
	int64_t value;
	int order;
	struct lp_error err;
};

static void
record(struct lp_client *cl, enum lp_err code, struct lp_value *v,
    const struct lp_error *e, void *arg)
{
	struct seen *s = arg;

	ck_assert_ptr_eq(cl, c);
	ck_assert(code == LP_OK ? v != NULL : v == NULL);
	ck_assert_int_eq(e->code, code);
	s->fired++;
	s->code = code;
	s->value = lp_value_int(v);
	s->order = completions++;
	s->err = *e;
	lp_value_free(v);
}

static struct lp_args *
int_args(int64_t v)
{
	if (scratch == NULL)
		scratch = lp_args_new();
	ck_assert_ptr_nonnull(scratch);
	lp_args_clear(scratch);
	lp_args_int(scratch, v);
	return scratch;
}

static void
submit_async(const char *fn, int64_t v, struct seen *s)
{
	assert_code(lp_submit_async(c, NULL, fn, int_args(v), record, s, &err),
	    LP_OK);
}

/* The same, and the request's id, for lp_cancel. */
static uint64_t
submit_start(const char *fn, int64_t v, struct seen *s)
{
	uint64_t id;

	assert_code(
	    lp_submit_start(c, NULL, fn, int_args(v), record, s, &id, &err),
	    LP_OK);
	return id;
}

static void
assert_seen(const struct seen *s, enum lp_err code)
{
	ck_assert_int_eq(s->fired, 1);
	ck_assert_msg(s->code == code, "got %s (%s), want %s",
	    lp_err_name(s->code), s->err.message, lp_err_name(code));
}

/* ---- connecting ---- */

START_TEST(test_connect_errors)
{
	char path[200];
	struct lp_error e;

	ck_assert_ptr_null(lp_connect("/nonexistent/leasepool.sock", &e));
	ck_assert_int_eq(e.code, LP_ERR_SYSTEM);
	ck_assert_ptr_nonnull(strstr(e.message, "/nonexistent/leasepool.sock"));
	ck_assert_ptr_nonnull(strstr(e.message, strerror(ENOENT)));

	memset(path, 'x', sizeof path - 1);
	path[sizeof path - 1] = '\0';
	ck_assert_ptr_null(lp_connect(path, &e));
	ck_assert_int_eq(e.code, LP_ERR_SYSTEM);
	ck_assert_ptr_nonnull(strstr(e.message, strerror(ENAMETOOLONG)));

	ck_assert_ptr_null(lp_connect(fake.dir, NULL));
}
END_TEST

/* The tests below choose among the defaults: no system daemon may be in the way. */
static void
assert_no_system_socket(void)
{
	ck_assert_msg(access(LP_SYSTEM_SOCKET, F_OK) == -1,
	    "%s exists: a system daemon would be chosen first",
	    LP_SYSTEM_SOCKET);
}

static const char *
tmp_socket(void)
{
	static char path[64];

	snprintf(path, sizeof path, "/tmp/leasepool-%u.sock",
	    (unsigned)getuid());
	return path;
}

START_TEST(test_default_socket)
{
	setenv(LP_ENV_SOCKET, "/somewhere/else.sock", 1);
	ck_assert_str_eq(lp_default_socket(), "/somewhere/else.sock");

	unsetenv(LP_ENV_SOCKET);
	assert_no_system_socket();
	setenv("XDG_RUNTIME_DIR", fake.dir, 1);
	ck_assert_str_eq(lp_default_socket(), fake.path);

	/* The first that exists: here not the runtime directory's. */
	setenv("XDG_RUNTIME_DIR", "/nonexistent", 1);
	ck_assert_str_eq(lp_default_socket(),
	    access(tmp_socket(), F_OK) == 0 ? tmp_socket() : LP_SYSTEM_SOCKET);

	/* lp_connect(NULL) follows the same path. */
	lp_client_free(c);
	setenv(LP_ENV_SOCKET, fake.path, 1);
	c = lp_connect(NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.message);
	assert_code(lp_hello(c, NULL, NULL, &err), LP_OK);
	unsetenv(LP_ENV_SOCKET);
}
END_TEST

/* A listening socket at dir/leasepool.sock, as another user could plant one. */
static int
plant_socket(const char *dir)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s/leasepool.sock", dir);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	return fd;
}

static void
assert_refused(const char *why)
{
	struct lp_error e;

	ck_assert_ptr_null(lp_connect(NULL, &e));
	ck_assert_msg(e.code == LP_ERR_PERMISSION_DENIED &&
		strstr(e.message, why) != NULL,
	    "%s: %s", lp_err_name(e.code), e.message);
	ck_assert_ptr_nonnull(strstr(e.message, LP_ENV_SOCKET));
}

START_TEST(test_default_socket_must_be_trusted)
{
	char dir[] = "/tmp/lp-planted.XXXXXX", link_path[64];
	int planted;

	unsetenv(LP_ENV_SOCKET);
	assert_no_system_socket();
	ck_assert_msg(access(tmp_socket(), F_OK) == -1, "%s exists",
	    tmp_socket());
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("XDG_RUNTIME_DIR", dir, 1);

	/* In a directory anyone may write to, a socket may be anyone's trap. */
	planted = plant_socket(dir);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	assert_refused("writable by others");
	ck_assert_int_eq(accept(planted, NULL, NULL), -1);
	ck_assert_int_eq(errno, EAGAIN);
	/* The path it names is the one it refuses. */
	snprintf(link_path, sizeof link_path, "%s/leasepool.sock", dir);
	ck_assert_str_eq(lp_default_socket(), link_path);

	/* With the sticky bit only its owner, here the user, could have put it there. */
	ck_assert_int_eq(chmod(dir, 01777), 0);
	lp_client_free(lp_connect(NULL, &err));
	ck_assert_msg(err.code == LP_OK, "%s", err.message);
	close(planted);

	/* Something that is not a socket is not followed, a link neither. */
	ck_assert_int_eq(chmod(dir, 0700), 0);
	ck_assert_int_eq(unlink(link_path), 0);
	ck_assert_int_eq(symlink(fake.path, link_path), 0);
	assert_refused("is not a socket");
	ck_assert_int_eq(unlink(link_path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_no_default_socket_says_what_was_tried)
{
	struct lp_error e;

	unsetenv(LP_ENV_SOCKET);
	assert_no_system_socket();
	ck_assert_msg(access(tmp_socket(), F_OK) == -1, "%s exists",
	    tmp_socket());
	setenv("XDG_RUNTIME_DIR", "/nonexistent", 1);
	ck_assert_ptr_null(lp_connect(NULL, &e));
	ck_assert_int_eq(e.code, LP_ERR_SYSTEM);
	ck_assert_msg(strstr(e.message, LP_SYSTEM_SOCKET) != NULL &&
		strstr(e.message, "/nonexistent/leasepool.sock") != NULL &&
		strstr(e.message, tmp_socket()) != NULL &&
		strstr(e.message, LP_ENV_SOCKET) != NULL,
	    "%s", e.message);
}
END_TEST

/* ---- the methods ---- */

START_TEST(test_hello)
{
	struct lp_value *v;
	const msgpack_object *p;

	assert_code(lp_hello(c, "tester", &v, &err), LP_OK);
	assert_str(lp_value_get(v, "server"), "fake");
	lp_value_free(v);
	p = last_request("hello", NULL);
	ck_assert_uint_eq(map_size(p), 1);
	assert_str(lp_map_get(p, "client"), "tester");

	/* No name, no result wanted, no error wanted. */
	ck_assert_int_eq(lp_hello(c, NULL, NULL, NULL), LP_OK);
	ck_assert_uint_eq(map_size(last_request("hello", NULL)), 0);
}
END_TEST

START_TEST(test_acquire)
{
	struct lp_lease lease;

	assert_code(lp_acquire(c, NULL, &lease, &err), LP_OK);
	ck_assert_uint_eq(lease.id, 1);
	ck_assert_str_eq(lease.pool, "cpu");
	ck_assert_str_eq(lease.backend, "process");
	ck_assert_uint_eq(lease.workers, 2);
	ck_assert_double_eq(lease.lease_seconds, 30);
	ck_assert_double_eq(lease.grace_seconds, 5);
	ck_assert_uint_eq(map_size(last_request("acquire", NULL)), 0);
}
END_TEST

START_TEST(test_acquire_opts)
{
	struct lp_acquire_opts opts = {
		.pool = "io",
		.owner = "me",
		.lease_seconds = 2.5,
		.nowait = true,
		.timeout = 1.5,
	};
	struct lp_lease lease;
	const msgpack_object *p;

	assert_code(lp_acquire(c, &opts, &lease, &err), LP_OK);
	ck_assert_str_eq(lease.pool, "io");
	ck_assert_double_eq(lease.lease_seconds, 2.5);
	p = last_request("acquire", NULL);
	ck_assert_uint_eq(map_size(p), 5);
	assert_str(lp_map_get(p, "pool"), "io");
	assert_str(lp_map_get(p, "owner"), "me");
	ck_assert_double_eq(get_double(p, "lease_seconds"), 2.5);
	ck_assert_double_eq(get_double(p, "timeout"), 1.5);
	ck_assert_int_eq(lp_map_get(p, "wait")->type, MSGPACK_OBJECT_BOOLEAN);
	ck_assert(!lp_map_get(p, "wait")->via.boolean);

	/* Waiting is the default: "wait" is only ever sent as false. */
	opts = (struct lp_acquire_opts){ .pool = "io" };
	assert_code(lp_acquire(c, &opts, &lease, &err), LP_OK);
	p = last_request("acquire", NULL);
	ck_assert_uint_eq(map_size(p), 1);
	ck_assert_ptr_null(lp_map_get(p, "wait"));
}
END_TEST

START_TEST(test_acquire_unavailable)
{
	struct lp_acquire_opts opts = { .pool = "busy", .nowait = true };
	struct lp_lease lease;

	assert_code(lp_acquire(c, &opts, &lease, &err), LP_ERR_UNAVAILABLE);
	ck_assert_str_eq(err.message, "all busy");
}
END_TEST

START_TEST(test_acquire_malformed)
{
	struct lp_acquire_opts opts = { .pool = "bad" };
	struct lp_lease lease;

	assert_code(lp_acquire(c, &opts, &lease, &err), LP_ERR_PROTOCOL);
	/* The connection is still good. */
	assert_code(lp_hello(c, NULL, NULL, &err), LP_OK);
}
END_TEST

START_TEST(test_release_twice)
{
	uint64_t lease = acquire();
	unsigned before, after;

	assert_code(lp_release(c, lease, &err), LP_OK);
	last_request("release", &before);
	assert_code(lp_release(c, lease, &err), LP_OK);
	last_request("release", &after);
	ck_assert_uint_eq(after, before); /* answered without asking */
	assert_code(lp_run(c, lease, "echo", NULL, NULL, &err),
	    LP_ERR_NO_SUCH_LEASE);
}
END_TEST

START_TEST(test_release_unknown)
{
	assert_code(lp_release(c, 999, &err), LP_ERR_NO_SUCH_LEASE);
	ck_assert_str_eq(err.message, "no lease");
	assert_code(lp_release(c, 999, &err), LP_ERR_NO_SUCH_LEASE);
}
END_TEST

/* The client remembers its last LP_RELEASED_MAX releases, no more. */
START_TEST(test_release_many)
{
	unsigned i, before, after;

	for (i = 1; i <= 100; i++)
		ck_assert_uint_eq(acquire(), i);
	for (i = 1; i <= 100; i++)
		assert_code(lp_release(c, i, &err), LP_OK);
	last_request("release", &before);
	for (i = 100 - LP_RELEASED_MAX + 1; i <= 100; i++)
		assert_code(lp_release(c, i, &err), LP_OK);
	last_request("release", &after);
	ck_assert_uint_eq(after, before);
	assert_code(lp_release(c, 1, &err), LP_ERR_NO_SUCH_LEASE);
}
END_TEST

/* A daemon may hand out a released id again: that lease gets released. */
START_TEST(test_release_reused_id)
{
	uint64_t lease = acquire();
	unsigned before, after;

	assert_code(lp_release(c, lease, &err), LP_OK);
	ck_assert_uint_eq(acquire(), lease);
	last_request("acquire", &before);
	assert_code(lp_release(c, lease, &err), LP_OK);
	last_request("release", &after);
	ck_assert_uint_eq(after, before + 1);
	assert_code(lp_run(c, lease, "echo", NULL, NULL, &err),
	    LP_ERR_NO_SUCH_LEASE);
}
END_TEST

START_TEST(test_renew)
{
	uint64_t lease = acquire();
	double granted = 0;

	assert_code(lp_renew(c, lease, 0, &granted, &err), LP_OK);
	ck_assert_double_eq(granted, 30);
	ck_assert_uint_eq(map_size(last_request("renew", NULL)), 1);
	assert_code(lp_renew(c, lease, 12.5, &granted, &err), LP_OK);
	ck_assert_double_eq(granted, 12.5);
	ck_assert_double_eq(
	    get_double(last_request("renew", NULL), "lease_seconds"), 12.5);
	assert_code(lp_renew(c, lease, 1, NULL, &err), LP_OK);
	assert_code(lp_renew(c, lease + 1, 1, &granted, &err),
	    LP_ERR_NO_SUCH_LEASE);
	assert_code(lp_renew(c, lease, 7, &granted, &err), LP_ERR_PROTOCOL);
}
END_TEST

START_TEST(test_run_args)
{
	static const char packed[] = "\x92\x01\xc0"; /* [1, nil] */
	uint64_t lease = acquire();
	struct lp_args *a = lp_args_new();
	const msgpack_object *o, *e;
	struct lp_value *v;
	size_t len;

	lp_args_nil(a);
	lp_args_bool(a, true);
	lp_args_int(a, -42);
	lp_args_double(a, 0.25);
	lp_args_str(a, "text");
	lp_args_str(a, NULL);
	lp_args_bin(a, "\0b", 2);
	lp_args_bin(a, NULL, 0);
	lp_args_raw(a, packed, sizeof packed - 1);
	assert_code(lp_run(c, lease, "args", a, &v, &err), LP_OK);
	o = lp_value_object(v);
	ck_assert_int_eq(o->type, MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_eq(o->via.array.size, 9);
	e = o->via.array.ptr;
	ck_assert_int_eq(e[0].type, MSGPACK_OBJECT_NIL);
	ck_assert(e[1].type == MSGPACK_OBJECT_BOOLEAN && e[1].via.boolean);
	ck_assert_int_eq(e[2].via.i64, -42);
	ck_assert_double_eq(e[3].via.f64, 0.25);
	assert_str(&e[4], "text");
	ck_assert_int_eq(e[5].type, MSGPACK_OBJECT_NIL);
	ck_assert(e[6].type == MSGPACK_OBJECT_BIN && e[6].via.bin.size == 2 &&
	    memcmp(e[6].via.bin.ptr, "\0b", 2) == 0);
	ck_assert(e[7].type == MSGPACK_OBJECT_BIN && e[7].via.bin.size == 0);
	ck_assert(e[8].type == MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_eq(e[8].via.array.size, 2);
	lp_value_free(v);

	lp_args_clear(a);
	lp_kwargs_bool(a, "b", false);
	lp_kwargs_int(a, "i", 7);
	lp_kwargs_double(a, "d", -1.5);
	lp_kwargs_str(a, "s", "str");
	lp_kwargs_bin(a, "x", "bin", 3);
	lp_kwargs_raw(a, "r", packed, sizeof packed - 1);
	assert_code(lp_run(c, lease, "kwargs", a, &v, &err), LP_OK);
	o = lp_value_object(v);
	ck_assert_uint_eq(map_size(o), 6);
	ck_assert(!lp_map_get(o, "b")->via.boolean);
	ck_assert_int_eq(lp_map_get(o, "i")->via.u64, 7);
	ck_assert_double_eq(get_double(o, "d"), -1.5);
	assert_str(lp_map_get(o, "s"), "str");
	ck_assert_uint_eq(lp_map_get(o, "x")->via.bin.size, 3);
	ck_assert_uint_eq(lp_map_get(o, "r")->via.array.size, 2);
	lp_value_free(v);

	/* Empty args and kwargs are left out, not sent as [] and {}. */
	assert_code(lp_run(c, lease, "shape", a, &v, &err), LP_OK);
	ck_assert_int_eq(lp_value_object(v)->via.array.ptr[0].via.u64, 0);
	ck_assert_int_eq(lp_value_object(v)->via.array.ptr[1].via.u64, 1);
	lp_value_free(v);
	lp_args_clear(a);
	assert_code(lp_run(c, lease, "shape", a, &v, &err), LP_OK);
	ck_assert_int_eq(lp_value_object(v)->via.array.ptr[1].via.u64, 0);
	lp_value_free(v);
	ck_assert_uint_eq(map_size(last_request("run", NULL)), 2);
	assert_code(lp_run(c, lease, "echo", NULL, &v, &err), LP_OK);
	ck_assert(lp_value_is_nil(v));
	lp_value_free(v);

	lp_args_str(a, "hi");
	assert_code(lp_run(c, lease, "echo", a, &v, &err), LP_OK);
	ck_assert(memcmp(lp_value_str(v, &len), "hi", 2) == 0);
	ck_assert_uint_eq(len, 2);
	lp_value_free(v);
	lp_args_free(a);
}
END_TEST

START_TEST(test_run_timeout)
{
	uint64_t lease = acquire();
	const msgpack_object *p;

	assert_code(lp_run_timeout(c, lease, "echo", NULL, 2.5, NULL, &err),
	    LP_OK);
	p = last_request("run", NULL);
	ck_assert_uint_eq(map_size(p), 3);
	ck_assert_uint_eq(lp_map_get(p, "lease")->via.u64, lease);
	assert_str(lp_map_get(p, "fn"), "echo");
	ck_assert_double_eq(get_double(p, "timeout"), 2.5);
}
END_TEST

/*
 * The codes the daemon can send: those up to LP_ERR_INTERNAL, then those
 * added after the client's own, from LP_ERR_CANCELLED on.
 */
#define WIRE_CODES \
	(LP_ERR_INTERNAL - LP_ERR_INVALID_REQUEST + 1 + LP_ERR__COUNT - \
	    LP_ERR_CANCELLED)

/* Every code the daemon can send arrives as itself, with its message. */
START_TEST(test_error_codes)
{
	enum lp_err code = LP_ERR_INVALID_REQUEST + _i;
	char fn[64], msg[64];
	struct lp_value *v = (struct lp_value *)&v;

	if (code > LP_ERR_INTERNAL)
		code = LP_ERR_CANCELLED + (code - LP_ERR_INTERNAL - 1);
	snprintf(fn, sizeof fn, "fail:%s", lp_err_name(code));
	snprintf(msg, sizeof msg, "job says %s", lp_err_name(code));
	assert_code(lp_submit(c, NULL, fn, NULL, &v, &err), code);
	ck_assert_str_eq(err.message, msg);
	ck_assert_int_eq(err.signal, 0);
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(test_worker_crashed)
{
	assert_code(lp_submit(c, NULL, "crash", NULL, NULL, &err),
	    LP_ERR_WORKER_CRASHED);
	ck_assert_int_eq(err.signal, 9);
	ck_assert_str_eq(err.message, "worker died");
	/* The next answer carries no stale signal. */
	assert_code(lp_submit(c, NULL, "echo", NULL, NULL, &err), LP_OK);
	ck_assert_int_eq(err.signal, 0);
}
END_TEST

START_TEST(test_submit)
{
	struct lp_value *v;
	const msgpack_object *p;

	assert_code(lp_submit(c, NULL, "echo", int_args(5), &v, &err), LP_OK);
	ck_assert_int_eq(lp_value_int(v), 5);
	lp_value_free(v);
	ck_assert_uint_eq(map_size(last_request("submit", NULL)), 2);
	assert_code(lp_submit(c, "io", "echo", NULL, NULL, &err), LP_OK);
	p = last_request("submit", NULL);
	ck_assert_uint_eq(map_size(p), 2);
	assert_str(lp_map_get(p, "pool"), "io");
	assert_code(lp_submit(c, NULL, "nosuch", NULL, NULL, &err),
	    LP_ERR_NO_SUCH_FUNCTION);
}
END_TEST

START_TEST(test_stats)
{
	struct lp_value *v;

	assert_code(lp_stats(c, NULL, &v, &err), LP_OK);
	ck_assert_double_eq(get_double(lp_value_object(v), "uptime"), 1.5);
	lp_value_free(v);
	ck_assert_uint_eq(map_size(last_request("stats", NULL)), 0);
	assert_code(lp_stats(c, "cpu", NULL, &err), LP_OK);
	assert_str(lp_map_get(last_request("stats", NULL), "pool"), "cpu");
}
END_TEST

START_TEST(test_call_raw)
{
	static const char params[] =
	    "\x81\xa6"
	    "client"
	    "\xa3"
	    "raw";
	struct seen s = { 0 };
	struct lp_value *v;

	assert_code(lp_call(c, "hello", params, sizeof params - 1, &v, &err),
	    LP_OK);
	assert_str(lp_value_get(v, "server"), "fake");
	lp_value_free(v);
	assert_str(lp_map_get(last_request("hello", NULL), "client"), "raw");

	/* A daemon's strictness shows through: unknown keys, methods. */
	assert_code(lp_call(c, "stats", "\x81\xa1x\x01", 4, NULL, &err),
	    LP_ERR_INVALID_ARGUMENT);
	assert_code(lp_call(c, "nosuch", NULL, 0, NULL, &err),
	    LP_ERR_UNKNOWN_METHOD);
	/* The longer map headers. */
	assert_code(lp_call(c, "hello",
			"\xde\0\1\xa6"
			"client\xa2"
			"16",
			13, NULL, &err),
	    LP_OK);
	assert_str(lp_map_get(last_request("hello", NULL), "client"), "16");
	assert_code(lp_call(c, "hello",
			"\xdf\0\0\0\1\xa6"
			"client\xa2"
			"32",
			15, NULL, &err),
	    LP_OK);
	assert_str(lp_map_get(last_request("hello", NULL), "client"), "32");

	assert_code(lp_call(c, "hello", "\x90", 1, NULL, &err),
	    LP_ERR_INVALID_ARGUMENT);
	assert_code(lp_call(c, "hello", "", 0, NULL, &err),
	    LP_ERR_INVALID_ARGUMENT);

	assert_code(lp_call_async(c, "hello", params, sizeof params - 1, record,
			&s, &err),
	    LP_OK);
	assert_code(lp_client_wait_all(c, &err), LP_OK);
	assert_seen(&s, LP_OK);
}
END_TEST

START_TEST(test_values)
{
	/* {i: -5, u: 2^64 - 1, b: true, f: 1.5, s: ''} */
	static const char map[] =
	    "\x85"
	    "\xa1i\xd0\xfb"
	    "\xa1u\xcf\xff\xff\xff\xff\xff\xff\xff\xff"
	    "\xa1"
	    "b\xc3"
	    "\xa1"
	    "f\xcb\x3f\xf8\0\0\0\0\0\0"
	    "\xa1s\xa0";
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	size_t len;

	lp_args_raw(a, map, sizeof map - 1);
	assert_code(lp_submit(c, NULL, "echo", a, &v, &err), LP_OK);
	ck_assert_int_eq(lp_value_object(v)->type, MSGPACK_OBJECT_MAP);
	ck_assert_int_eq(lp_value_get(v, "i")->via.i64, -5);
	ck_assert(lp_value_get(v, "b")->via.boolean);
	ck_assert_ptr_null(lp_value_get(v, "nope"));
	/* Readers of the wrong type give zero values. */
	ck_assert_int_eq(lp_value_int(v), 0);
	ck_assert_double_eq(lp_value_double(v), 0);
	ck_assert(!lp_value_bool(v));
	ck_assert(!lp_value_is_nil(v));
	ck_assert_ptr_null(lp_value_str(v, &len));
	ck_assert_uint_eq(len, 0);
	lp_value_free(v);

	lp_args_clear(a);
	lp_args_int(a, 3);
	assert_code(lp_submit(c, NULL, "echo", a, &v, &err), LP_OK);
	ck_assert_int_eq(lp_value_int(v), 3);
	ck_assert_double_eq(lp_value_double(v), 3);
	lp_value_free(v);

	lp_args_clear(a);
	lp_args_int(a, -3);
	assert_code(lp_submit(c, NULL, "echo", a, &v, &err), LP_OK);
	ck_assert_int_eq(lp_value_int(v), -3);
	ck_assert_double_eq(lp_value_double(v), -3);
	lp_value_free(v);

	lp_args_clear(a);
	lp_args_raw(a, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9);
	assert_code(lp_submit(c, NULL, "echo", a, &v, &err), LP_OK);
	ck_assert_int_eq(lp_value_int(v), 0); /* does not fit */
	lp_value_free(v);

	lp_args_clear(a);
	lp_args_bool(a, true);
	assert_code(lp_submit(c, NULL, "echo", a, &v, &err), LP_OK);
	ck_assert(lp_value_bool(v));
	lp_value_free(v);

	ck_assert_ptr_null(lp_value_object(NULL));
	ck_assert_int_eq(lp_value_int(NULL), 0);
	ck_assert(!lp_value_is_nil(NULL));
	lp_value_free(NULL);
	lp_args_free(a);
	lp_args_free(NULL);
}
END_TEST

/* ---- many requests in flight ---- */

START_TEST(test_out_of_order)
{
	struct seen s[4] = { 0 };
	int i;

	for (i = 0; i < 3; i++)
		submit_async("hold", i, &s[i]);
	submit_async("flush", 0, &s[3]);
	ck_assert_uint_eq(lp_client_pending(c), 4);
	assert_code(lp_client_wait_all(c, &err), LP_OK);
	for (i = 0; i < 3; i++) {
		assert_seen(&s[i], LP_OK);
		ck_assert_int_eq(s[i].value, i);
		ck_assert_int_eq(s[i].order, 2 - i);
	}
	ck_assert_int_eq(s[3].value, 3);
	ck_assert_int_eq(s[3].order, 3);
}
END_TEST

/* Answers to other requests are delivered while a blocking call waits. */
START_TEST(test_blocking_while_pending)
{
	struct seen s[2] = { 0 };
	struct lp_value *v;

	submit_async("hold", 10, &s[0]);
	submit_async("hold", 11, &s[1]);
	assert_code(lp_submit(c, NULL, "flush", NULL, &v, &err), LP_OK);
	ck_assert_int_eq(lp_value_int(v), 2);
	lp_value_free(v);
	assert_seen(&s[0], LP_OK);
	assert_seen(&s[1], LP_OK);
	ck_assert_int_eq(s[0].value, 10);
	ck_assert_int_eq(s[1].value, 11);
	ck_assert_uint_eq(lp_client_pending(c), 0);
}
END_TEST

#define MANY 5000

START_TEST(test_pipelined)
{
	static struct seen s[MANY];
	int i;

	memset(s, 0, sizeof s);
	for (i = 0; i < MANY; i++)
		submit_async("echo", i, &s[i]);
	ck_assert_uint_eq(lp_client_pending(c), MANY);
	assert_code(lp_client_wait_all(c, &err), LP_OK);
	for (i = 0; i < MANY; i++) {
		assert_seen(&s[i], LP_OK);
		ck_assert_int_eq(s[i].value, i);
	}

	/* The same in reverse completion order, through the table's growth. */
	memset(s, 0, sizeof s);
	completions = 0;
	for (i = 0; i < FAKE_HELD - 1; i++)
		submit_async("hold", i, &s[i]);
	submit_async("flush", 0, &s[i]);
	assert_code(lp_client_wait_all(c, &err), LP_OK);
	for (i = 0; i < FAKE_HELD - 1; i++) {
		assert_seen(&s[i], LP_OK);
		ck_assert_int_eq(s[i].value, i);
		ck_assert_int_eq(s[i].order, FAKE_HELD - 2 - i);
	}
}
END_TEST

/* msgids, the ids' low 32 bits, wrap at 2^32 and never reuse one still pending. */
START_TEST(test_msgid_wrap)
{
	const uint64_t round = (uint64_t)1 << 32;
	struct seen s[6] = { 0 };
	int i;

	c->next_call = round - 2;
	for (i = 0; i < 4; i++)
		submit_async("hold", i, &s[i]);
	/*
	 * A round later, msgids UINT32_MAX - 1 up to 1 are still pending: the
	 * next free one is 2.
	 */
	c->next_call = 2 * round - 1;
	submit_async("hold", 4, &s[4]);
	ck_assert_uint_eq(c->next_call, 2 * round + 3);
	submit_async("flush", 0, &s[5]);
	assert_code(lp_client_wait_all(c, &err), LP_OK);
	for (i = 0; i < 5; i++) {
		assert_seen(&s[i], LP_OK);
		ck_assert_int_eq(s[i].value, i);
	}
	ck_assert_int_eq(s[5].value, 5);
}
END_TEST

/* A callback may make blocking calls of its own. */
static void
call_from_callback(struct lp_client *cl, enum lp_err code, struct lp_value *v,
    const struct lp_error *e, void *arg)
{
	struct lp_value *inner;
	int *value = arg;

	ck_assert_int_eq(code, LP_OK);
	ck_assert_int_eq(lp_submit(cl, NULL, "echo",
			     int_args(lp_value_int(v) + 1), &inner, NULL),
	    LP_OK);
	*value = (int)lp_value_int(inner);
	lp_value_free(inner);
	lp_value_free(v);
}

START_TEST(test_blocking_in_callback)
{
	int value = 0;
	struct seen s = { 0 };

	assert_code(lp_submit_async(c, NULL, "echo", int_args(41),
			call_from_callback, &value, &err),
	    LP_OK);
	submit_async("echo", 7, &s);
	assert_code(lp_client_wait_all(c, &err), LP_OK);
	ck_assert_int_eq(value, 42);
	assert_seen(&s, LP_OK);
}
END_TEST

/* The asynchronous API from the caller's own poll() loop. */
START_TEST(test_poll_loop)
{
	struct seen s[10] = { 0 };
	struct pollfd pfd;
	uint64_t lease = acquire();
	int i;

	ck_assert(!lp_client_want_write(c));
	for (i = 0; i < 10; i++)
		assert_code(lp_run_async(c, lease, "echo", int_args(i), record,
				&s[i], &err),
		    LP_OK);
	/* Nobody waits for this answer: it is dropped. */
	assert_code(
	    lp_submit_async(c, NULL, "echo", int_args(1), NULL, NULL, &err),
	    LP_OK);
	ck_assert(lp_client_want_write(c));
	while (lp_client_pending(c) > 0) {
		pfd.fd = lp_client_fd(c);
		pfd.events = POLLIN | (lp_client_want_write(c) ? POLLOUT : 0);
		ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
		assert_code(lp_client_process(c, &err), LP_OK);
	}
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(s[i].value, i);
}
END_TEST

/* ---- requests named by an id, and cancel ---- */

START_TEST(test_start_gives_ids)
{
	uint64_t lease = acquire(), ids[3];
	struct seen s[3] = { 0 };
	const msgpack_object *p;

	assert_code(lp_run_start(c, lease, "echo", int_args(1), 2.5, record,
			&s[0], &ids[0], &err),
	    LP_OK);
	assert_code(lp_submit_start(c, "io", "echo", int_args(2), record, &s[1],
			&ids[1], &err),
	    LP_OK);
	assert_code(
	    lp_call_start(c, "hello", NULL, 0, record, &s[2], &ids[2], &err),
	    LP_OK);
	/* They count up from 1. */
	ck_assert(ids[0] >= 1 && ids[1] > ids[0] && ids[2] > ids[1]);
	assert_code(lp_client_wait_all(c, &err), LP_OK);
	assert_seen(&s[0], LP_OK);
	ck_assert_int_eq(s[0].value, 1);
	assert_seen(&s[1], LP_OK);
	ck_assert_int_eq(s[1].value, 2);
	assert_seen(&s[2], LP_OK);

	/* The run's own timeout goes with it; 0 leaves it to the pool. */
	assert_code(
	    lp_run_start(c, lease, "echo", NULL, 2.5, NULL, NULL, NULL, &err),
	    LP_OK);
	p = last_request("run", NULL);
	ck_assert_double_eq(get_double(p, "timeout"), 2.5);
	assert_code(
	    lp_run_start(c, lease, "echo", NULL, 0, NULL, NULL, NULL, &err),
	    LP_OK);
	ck_assert_ptr_null(lp_map_get(last_request("run", NULL), "timeout"));

	/* A request that was not queued has no id. */
	assert_code(
	    lp_call_start(c, "hello", "\x90", 1, record, &s[0], &ids[0], &err),
	    LP_ERR_INVALID_ARGUMENT);
	ck_assert_uint_eq(ids[0], 0);
}
END_TEST

START_TEST(test_cancel_pending)
{
	uint64_t lease = acquire(), held;
	struct seen s[2] = { 0 };
	const msgpack_object *p;
	unsigned before, after;

	assert_code(lp_run_start(c, lease, "hold", int_args(1), 0, record,
			&s[0], &held, &err),
	    LP_OK);
	submit_start("hold", 2, &s[1]);
	assert_code(lp_cancel(c, held, &err), LP_OK);
	/* Answered by the time lp_cancel returns, with the daemon's message. */
	assert_seen(&s[0], LP_ERR_CANCELLED);
	ck_assert_str_eq(s[0].err.message, "cancelled before it started");
	ck_assert_uint_eq(lp_client_pending(c), 1);
	p = last_request("cancel", &before);
	ck_assert_uint_eq(map_size(p), 1);
	ck_assert_uint_eq(lp_map_get(p, "msgid")->via.u64, (uint32_t)held);

	/* Once only: a cancel of an answered request sends nothing. */
	assert_code(lp_cancel(c, held, &err), LP_OK);
	last_request("cancel", &after);
	ck_assert_uint_eq(after, before);
	ck_assert_int_eq(s[0].fired, 1);

	/* The other request was not touched. */
	ck_assert_int_eq(s[1].fired, 0);
	assert_code(lp_submit(c, NULL, "flush", NULL, NULL, &err), LP_OK);
	assert_seen(&s[1], LP_OK);
	ck_assert_int_eq(s[1].value, 2);
}
END_TEST

/* The daemon answered before the cancel reached it: that answer stands. */
START_TEST(test_cancel_after_the_answer)
{
	struct seen s = { 0 };
	uint64_t id = submit_start("echo", 5, &s);

	/* Not even sent yet: the cancel follows it on the connection. */
	assert_code(lp_cancel(c, id, &err), LP_OK);
	assert_seen(&s, LP_OK);
	ck_assert_int_eq(s.value, 5);
	/* The client could not know: it asked. */
	last_request("cancel", NULL);
}
END_TEST

START_TEST(test_cancel_unknown_id)
{
	struct seen s = { 0 };
	unsigned before, after;

	assert_code(lp_cancel(c, 0, &err), LP_ERR_INVALID_ARGUMENT);
	submit_start("echo", 0, &s);
	assert_code(lp_client_wait_all(c, &err), LP_OK);
	last_request("submit", &before);
	assert_code(lp_cancel(c, c->next_call, &err), LP_ERR_INVALID_ARGUMENT);
	ck_assert_msg(strstr(err.message, "never started") != NULL, "%s",
	    err.message);
	assert_code(lp_cancel(c, UINT64_MAX, &err), LP_ERR_INVALID_ARGUMENT);
	last_request("submit", &after);
	ck_assert_uint_eq(after, before);
}
END_TEST

/* An id kept a round of msgids too long names no later request. */
START_TEST(test_cancel_stale_id)
{
	struct seen s[2] = { 0 };
	uint64_t stale = submit_start("echo", 0, &s[0]);

	assert_code(lp_client_wait_all(c, &err), LP_OK);
	c->next_call = stale + ((uint64_t)1 << 32);
	ck_assert_uint_eq((uint32_t)submit_start("hold", 7, &s[1]),
	    (uint32_t)stale);
	assert_code(lp_cancel(c, stale, &err), LP_OK);
	assert_code(lp_submit(c, NULL, "flush", NULL, NULL, &err), LP_OK);
	assert_seen(&s[1], LP_OK);
	ck_assert_int_eq(s[1].value, 7);
}
END_TEST

/* A request that failed with the connection is answered too. */
START_TEST(test_cancel_disconnected)
{
	struct seen s = { 0 };
	uint64_t id = submit_start("hold", 0, &s);

	assert_code(lp_submit(c, NULL, "close", NULL, NULL, &err),
	    LP_ERR_DISCONNECTED);
	assert_seen(&s, LP_ERR_DISCONNECTED);
	assert_code(lp_cancel(c, id, &err), LP_OK);
	ck_assert_int_eq(s.fired, 1);
}
END_TEST

/* ---- the libevent adapter ---- */

struct chain {
	struct seen seen;
	int left;
};

/* Each answer queues the next request, from inside the loop. */
static void
chain_next(struct lp_client *cl, enum lp_err code, struct lp_value *v,
    const struct lp_error *e, void *arg)
{
	struct chain *ch = arg;

	ck_assert_int_eq(code, LP_OK);
	lp_value_free(v);
	if (--ch->left > 0)
		ck_assert_int_eq(lp_submit_async(cl, NULL, "echo", NULL,
				     chain_next, ch, NULL),
		    LP_OK);
}

START_TEST(test_libevent)
{
	struct event_base *base = event_base_new();
	struct seen s[100] = { 0 };
	struct chain ch = { .left = 10 };
	struct lp_event ev;
	int i;

	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(lp_event_attach(&ev, base, c), 0);
	for (i = 0; i < 100; i++)
		submit_async("echo", i, &s[i]);
	ck_assert_int_ne(event_base_dispatch(base), -1);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(s[i].value, i);

	ck_assert_int_eq(
	    lp_submit_async(c, NULL, "echo", NULL, chain_next, &ch, NULL),
	    LP_OK);
	ck_assert_int_ne(event_base_dispatch(base), -1);
	ck_assert_int_eq(ch.left, 0);

	/* A lost connection ends the loop too. */
	submit_async("hold", 0, &s[0]);
	submit_async("close", 0, &s[1]);
	ck_assert_int_ne(event_base_dispatch(base), -1);
	ck_assert_int_eq(s[0].code, LP_ERR_DISCONNECTED);
	ck_assert_int_eq(s[1].code, LP_ERR_DISCONNECTED);
	lp_event_detach(&ev);
	event_base_free(base);
}
END_TEST

/* ---- the end of a connection ---- */

static void
assert_dead(const char *why)
{
	struct seen s = { 0 };

	assert_code(lp_hello(c, NULL, NULL, &err), LP_ERR_DISCONNECTED);
	ck_assert_ptr_nonnull(strstr(err.message, why));
	assert_code(lp_submit_async(c, NULL, "echo", NULL, record, &s, &err),
	    LP_ERR_DISCONNECTED);
	ck_assert_int_eq(s.fired, 0);
	assert_code(lp_client_process(c, &err), LP_ERR_DISCONNECTED);
	assert_code(lp_client_wait_all(c, &err), LP_ERR_DISCONNECTED);
	ck_assert_uint_eq(lp_client_pending(c), 0);
	ck_assert(!lp_client_want_write(c));
	/* Releasing is harmless: the daemon released everything. */
	assert_code(lp_release(c, 1, &err), LP_OK);
	assert_code(lp_release(c, 12345, &err), LP_OK);
}

START_TEST(test_peer_closes)
{
	struct seen s[3] = { 0 };
	int i;

	acquire();
	for (i = 0; i < 3; i++)
		submit_async("hold", i, &s[i]);
	assert_code(lp_submit(c, NULL, "close", NULL, NULL, &err),
	    LP_ERR_DISCONNECTED);
	ck_assert_str_eq(err.message, "leasepoold closed the connection");
	for (i = 0; i < 3; i++) {
		assert_seen(&s[i], LP_ERR_DISCONNECTED);
		ck_assert_str_eq(s[i].err.message,
		    "leasepoold closed the connection");
	}
	assert_dead("leasepoold closed the connection");
}
END_TEST

/* A release that was waiting when the connection died succeeded too. */
START_TEST(test_release_in_flight)
{
	uint64_t lease = acquire();
	struct seen s = { 0 };

	submit_async("close", 0, &s);
	assert_code(lp_release(c, lease, &err), LP_OK);
	assert_seen(&s, LP_ERR_DISCONNECTED);
}
END_TEST

START_TEST(test_error_notification)
{
	struct seen s[2] = { 0 };

	submit_async("hold", 0, &s[0]);
	submit_async("hold", 1, &s[1]);
	assert_code(lp_submit(c, NULL, "notify", NULL, NULL, &err),
	    LP_ERR_LIMIT_EXCEEDED);
	ck_assert_str_eq(err.message, "fake: too big");
	assert_seen(&s[0], LP_ERR_LIMIT_EXCEEDED);
	assert_seen(&s[1], LP_ERR_LIMIT_EXCEEDED);
	ck_assert_str_eq(s[1].err.message, "fake: too big");
	assert_dead("LIMIT_EXCEEDED: fake: too big");
}
END_TEST

/* Whatever the daemon sends that cannot be understood ends the connection. */
static const char *const broken[] = {
	"garbage",
	"envelope",
	"stray",
	"request",
	"huge",
};

START_TEST(test_broken_stream)
{
	struct seen s = { 0 };

	submit_async("hold", 0, &s);
	assert_code(lp_submit(c, NULL, broken[_i], NULL, NULL, &err),
	    LP_ERR_PROTOCOL);
	assert_seen(&s, LP_ERR_PROTOCOL);
	assert_dead("PROTOCOL");
}
END_TEST

START_TEST(test_unknown_notification)
{
	assert_code(lp_submit(c, NULL, "ping", NULL, NULL, &err), LP_OK);
	assert_code(lp_hello(c, NULL, NULL, &err), LP_OK);
}
END_TEST

/* Writing to a closed socket is an error, never a SIGPIPE. */
START_TEST(test_no_sigpipe)
{
	struct pollfd pfd = { .fd = lp_client_fd(c), .events = POLLIN };
	struct seen s[2] = { 0 };

	enum lp_err rc;

	submit_async("close", 0, &s[0]);
	/*
	 * The fake daemon may hang up while this call still reads: then the
	 * library has seen the end already and writes nothing more.  Either
	 * way this process must still be alive, with every request answered.
	 */
	rc = lp_client_process(c, &err);
	ck_assert(rc == LP_OK || rc == LP_ERR_DISCONNECTED);
	if (rc == LP_OK) {
		ck_assert_int_eq(poll(&pfd, 1, 10000), 1); /* the hang-up */
		submit_async("echo", 0, &s[1]);
		assert_code(lp_client_process(c, &err), LP_ERR_DISCONNECTED);
		assert_seen(&s[1], LP_ERR_DISCONNECTED);
		ck_assert_ptr_nonnull(
		    strstr(s[1].err.message, "lost the connection"));
	}
	assert_seen(&s[0], LP_ERR_DISCONNECTED);
}
END_TEST

START_TEST(test_free_pending)
{
	struct seen s[4] = { 0 };
	int i;

	acquire();
	for (i = 0; i < 2; i++)
		submit_async("hold", i, &s[i]);
	assert_code(lp_client_process(c, &err), LP_OK); /* sent */
	for (; i < 4; i++)
		submit_async("hold", i, &s[i]); /* queued only */
	lp_client_free(c);
	c = NULL;
	for (i = 0; i < 4; i++) {
		assert_seen(&s[i], LP_ERR_DISCONNECTED);
		ck_assert_str_eq(s[i].err.message, "the client was freed");
	}
}
END_TEST

/* ---- big messages ---- */

static void
assert_big(size_t n)
{
	struct lp_value *v;
	const unsigned char *p;
	size_t len, i;

	assert_code(lp_submit(c, NULL, "big", int_args((int64_t)n), &v, &err),
	    LP_OK);
	p = (const unsigned char *)lp_value_str(v, &len);
	ck_assert_uint_eq(len, n);
	for (i = 0; i < n; i++) {
		if (p[i] != (unsigned char)(i * 7))
			ck_abort_msg("byte %zu of %zu", i, n);
	}
	lp_value_free(v);
}

START_TEST(test_big_results)
{
	struct seen s[3] = { 0 };
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	size_t len;
	char *p;

	assert_big(0);
	assert_big(100);
	assert_big(70000);
	assert_big(8u << 20);
	assert_big(63u << 20);

	/* Small answers around a big one, all in one stream. */
	submit_async("echo", 1, &s[0]);
	assert_code(lp_submit_async(c, NULL, "big", int_args(1 << 20), record,
			&s[1], &err),
	    LP_OK);
	submit_async("echo", 3, &s[2]);
	assert_code(lp_client_wait_all(c, &err), LP_OK);
	ck_assert_int_eq(s[0].value, 1);
	assert_seen(&s[1], LP_OK);
	ck_assert_int_eq(s[2].value, 3);

	/* A big argument, too. */
	ck_assert_ptr_nonnull(p = calloc(1, 16u << 20));
	lp_args_bin(a, p, 16u << 20);
	assert_code(lp_submit(c, NULL, "echo", a, &v, &err), LP_OK);
	ck_assert_ptr_nonnull(lp_value_str(v, &len));
	ck_assert_uint_eq(len, 16u << 20);
	lp_value_free(v);
	free(p);
	lp_args_free(a);
}
END_TEST

Suite *
client_suite(void)
{
	Suite *s = suite_create("client");
	TCase *tc;

	tc = integration_case(s, "connect", setup, teardown);
	tcase_add_test(tc, test_connect_errors);
	tcase_add_test(tc, test_default_socket);
	tcase_add_test(tc, test_default_socket_must_be_trusted);
	tcase_add_test(tc, test_no_default_socket_says_what_was_tried);

	tc = integration_case(s, "methods", setup, teardown);
	tcase_add_test(tc, test_hello);
	tcase_add_test(tc, test_acquire);
	tcase_add_test(tc, test_acquire_opts);
	tcase_add_test(tc, test_acquire_unavailable);
	tcase_add_test(tc, test_acquire_malformed);
	tcase_add_test(tc, test_release_twice);
	tcase_add_test(tc, test_release_unknown);
	tcase_add_test(tc, test_release_many);
	tcase_add_test(tc, test_release_reused_id);
	tcase_add_test(tc, test_renew);
	tcase_add_test(tc, test_run_args);
	tcase_add_test(tc, test_run_timeout);
	tcase_add_loop_test(tc, test_error_codes, 0, WIRE_CODES);
	tcase_add_test(tc, test_worker_crashed);
	tcase_add_test(tc, test_submit);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_call_raw);
	tcase_add_test(tc, test_values);

	tc = integration_case(s, "async", setup, teardown);
	tcase_add_test(tc, test_out_of_order);
	tcase_add_test(tc, test_blocking_while_pending);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_msgid_wrap);
	tcase_add_test(tc, test_blocking_in_callback);
	tcase_add_test(tc, test_poll_loop);
	tcase_add_test(tc, test_libevent);

	tc = integration_case(s, "cancel", setup, teardown);
	tcase_add_test(tc, test_start_gives_ids);
	tcase_add_test(tc, test_cancel_pending);
	tcase_add_test(tc, test_cancel_after_the_answer);
	tcase_add_test(tc, test_cancel_unknown_id);
	tcase_add_test(tc, test_cancel_stale_id);
	tcase_add_test(tc, test_cancel_disconnected);

	tc = integration_case(s, "disconnect", setup, teardown);
	tcase_add_test(tc, test_peer_closes);
	tcase_add_test(tc, test_release_in_flight);
	tcase_add_test(tc, test_error_notification);
	tcase_add_loop_test(tc, test_broken_stream, 0,
	    sizeof broken / sizeof broken[0]);
	tcase_add_test(tc, test_unknown_notification);
	tcase_add_test(tc, test_no_sigpipe);
	tcase_add_test(tc, test_free_pending);

	tc = integration_case(s, "big", setup, teardown);
	tcase_add_test(tc, test_big_results);
	return s;
}
