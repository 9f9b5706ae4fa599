/* SPDX-License-Identifier: ISC */
/*
 * The exec built-in: runs a program on a worker with kwargs argv, stdin,
 * env and cwd, and returns {status, signal, stdout, stderr, truncated}.
 *
 * The program runs as the client that asked (its uid, gid and groups, which
 * the daemon adds to the job), started by the worker's spawner (spawner.h),
 * with an environment that starts clean as sudo's does: a standard PATH,
 * the caller's HOME, USER and LOGNAME, then the env given.  It stays in
 * the worker's process group, which is its own: a job timeout kills the
 * group, and what of it the daemon may not signal comes to the fork
 * server (reaper.h).  Its stdin is written as the pipe takes it, between reads of
 * its output, so a program that writes while it reads (cat) never waits on
 * us while we wait on it, whatever the sizes.  Output beyond
 * exec_output_max is read and dropped, so a chatty program can neither
 * block on a full pipe nor fill our memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/jobs/exec.h"
#include "daemon/jobs/jobs.h"
#include "daemon/jobs/spawner.h"
#include "proto/rpc.h"
#include "proto/text.h"

#define ARGV_MAX 4096
/* sudo's secure_path on Debian. */
#define EXEC_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* PATH, HOME, USER and LOGNAME, where env does not give them. */
#define ENV_DEFAULTS 4

static uint64_t output_max = 1u << 20;
/* Who the job being run is for; has_caller false: not an exec. */
static struct spawn_user caller;
static bool has_caller;
static volatile sig_atomic_t program_runs;

bool
exec_program_runs(void)
{
	return program_runs != 0;
}

bool
exec_is(struct lp_str fn)
{
	return fn.len == strlen(EXEC_FUNCTION) &&
	    memcmp(fn.ptr, EXEC_FUNCTION, fn.len) == 0;
}

void
exec_set_output_max(uint64_t bytes)
{
	output_max = bytes;
}

struct exec_request {
	char **argv;
	char **envp;
	char *cwd;
	const char *input;
	size_t input_len;
};

struct capture {
	char *data;
	size_t len;
	bool truncated;
};

static char *
str_dup(const msgpack_object *o)
{
	char *s = malloc(o->via.str.size + 1);

	if (s != NULL) {
		memcpy(s, o->via.str.ptr, o->via.str.size);
		s[o->via.str.size] = '\0';
	}
	return s;
}

static bool
is_clean_str(const msgpack_object *o)
{
	return o->type == MSGPACK_OBJECT_STR &&
	    memchr(o->via.str.ptr, '\0', o->via.str.size) == NULL;
}

static void
free_strv(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void
request_free(struct exec_request *r)
{
	free_strv(r->argv);
	free_strv(r->envp);
	free(r->cwd);
}

static int
parse_argv(struct lp_job *job, const msgpack_object *o, struct exec_request *r)
{
	uint32_t n = o->via.array.size;

	if (o->type != MSGPACK_OBJECT_ARRAY || n == 0 || n > ARGV_MAX)
		return jobs_refuse(job,
		    "exec: argv must be a non-empty array of at most %d strings",
		    ARGV_MAX);
	if ((r->argv = calloc(n + 1, sizeof *r->argv)) == NULL)
		return lp_job_fail(job, "exec: out of memory");
	for (uint32_t i = 0; i < n; i++) {
		if (!is_clean_str(&o->via.array.ptr[i]))
			return jobs_refuse(job,
			    "exec: argv[%u] must be a string without NUL bytes",
			    i);
		if ((r->argv[i] = str_dup(&o->via.array.ptr[i])) == NULL)
			return lp_job_fail(job, "exec: out of memory");
	}
	return 0;
}

static int
parse_env(struct lp_job *job, const msgpack_object *o, struct exec_request *r)
{
	uint32_t n = o->via.map.size;

	if (o->type != MSGPACK_OBJECT_MAP || n > ARGV_MAX)
		return jobs_refuse(job,
		    "exec: env must be a map of strings to strings");
	if ((r->envp = calloc(n + ENV_DEFAULTS + 1, sizeof *r->envp)) == NULL)
		return lp_job_fail(job, "exec: out of memory");
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key,
				     *v = &o->via.map.ptr[i].val;

		if (!is_clean_str(k) || !is_clean_str(v) ||
		    k->via.str.size == 0 ||
		    memchr(k->via.str.ptr, '=', k->via.str.size) != NULL)
			return jobs_refuse(job,
			    "exec: env must map names (no '=') to strings");
		if (asprintf(&r->envp[i], "%.*s=%.*s", (int)k->via.str.size,
			k->via.str.ptr, (int)v->via.str.size,
			v->via.str.ptr) == -1) {
			r->envp[i] = NULL;
			return lp_job_fail(job, "exec: out of memory");
		}
	}
	return 0;
}

static bool
env_has(char **envp, const char *name)
{
	size_t len = strlen(name);

	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
			return true;
	return false;
}

/* The clean environment's entries that env did not give; envp has room for them. */
static int
add_defaults(struct lp_job *job, struct exec_request *r)
{
	const struct passwd *pw = getpwuid(caller.uid);
	const char *names[ENV_DEFAULTS] = { "PATH", "HOME", "USER", "LOGNAME" };
	const char *values[ENV_DEFAULTS] = {
		EXEC_PATH,
		pw ? pw->pw_dir : NULL,
		pw ? pw->pw_name : NULL,
		pw ? pw->pw_name : NULL,
	};
	size_t n = 0;

	if (r->envp == NULL &&
	    (r->envp = calloc(ENV_DEFAULTS + 1, sizeof *r->envp)) == NULL)
		return lp_job_fail(job, "exec: out of memory");
	while (r->envp[n] != NULL)
		n++;
	for (int i = 0; i < ENV_DEFAULTS; i++) {
		if (values[i] == NULL || env_has(r->envp, names[i]))
			continue;
		if (asprintf(&r->envp[n], "%s=%s", names[i], values[i]) == -1) {
			r->envp[n] = NULL;
			return lp_job_fail(job, "exec: out of memory");
		}
		n++;
	}
	return 0;
}

static int
parse_request(struct lp_job *job, const msgpack_object *kwargs,
    struct exec_request *r)
{
	const msgpack_object *argv = NULL;

	for (uint32_t i = 0; i < kwargs->via.map.size; i++) {
		const msgpack_object *k = &kwargs->via.map.ptr[i].key,
				     *v = &kwargs->via.map.ptr[i].val;
		int rc = 0;

		if (lp_obj_is_str(k, "argv")) {
			argv = v;
		} else if (lp_obj_is_str(k, "env")) {
			rc = parse_env(job, v, r);
		} else if (lp_obj_is_str(k, "cwd")) {
			if (!is_clean_str(v))
				return jobs_refuse(job,
				    "exec: cwd must be a string");
			if ((r->cwd = str_dup(v)) == NULL)
				return lp_job_fail(job, "exec: out of memory");
		} else if (lp_obj_is_str(k, "stdin")) {
			if (v->type != MSGPACK_OBJECT_BIN &&
			    v->type != MSGPACK_OBJECT_STR)
				return jobs_refuse(job,
				    "exec: stdin must be bin or str");
			r->input = v->via.bin.ptr;
			r->input_len = v->via.bin.size;
		} else {
			return jobs_refuse(job,
			    "exec: unknown keyword argument (expected argv, "
			    "stdin, env, cwd)");
		}
		if (rc != 0)
			return rc;
	}
	if (argv == NULL)
		return jobs_refuse(job,
		    "exec: the argv keyword argument is required");
	if (parse_argv(job, argv, r) != 0)
		return -1;
	return add_defaults(job, r);
}

static void
capture_add(struct capture *c, const char *p, size_t n)
{
	size_t room = output_max > c->len ? (size_t)(output_max - c->len) : 0;
	size_t take = n < room ? n : room;
	char *grown;

	if (take < n)
		c->truncated = true;
	if (take == 0)
		return;
	if ((grown = realloc(c->data, c->len + take)) == NULL) {
		c->truncated = true;
		return;
	}
	c->data = grown;
	memcpy(c->data + c->len, p, take);
	c->len += take;
}

/* Reads what a pipe holds; false at its end. */
static bool
drain_some(int fd, struct capture *c)
{
	char buf[16384];
	ssize_t n = read(fd, buf, sizeof buf);

	if (n > 0)
		capture_add(c, buf, (size_t)n);
	return n > 0 || (n == -1 && errno == EINTR);
}

/*
 * Writes what the non-blocking pipe takes; false once stdin is done: all of
 * it written, or the program closed it or exited (EPIPE, as SIGPIPE is
 * ignored in the worker).
 */
static bool
feed_some(int fd, const char **next, size_t *left)
{
	ssize_t n = write(fd, *next, *left);

	if (n == -1)
		return errno == EAGAIN || errno == EINTR;
	*next += n;
	*left -= (size_t)n;
	return *left > 0;
}

static void
close_polled(struct pollfd *p)
{
	close(p->fd);
	p->fd = -1;
}

/* Feeds stdin and drains stdout and stderr until all three are done. */
static void
pump_pipes(int in, int out, int err, const struct exec_request *r,
    struct capture *cout, struct capture *cerr)
{
	struct pollfd p[3] = {
		{ .fd = out, .events = POLLIN },
		{ .fd = err, .events = POLLIN },
		{ .fd = in, .events = POLLOUT },
	};
	struct capture *caps[2] = { cout, cerr };
	const char *next = r->input;
	size_t left = r->input_len;

	if (left == 0)
		close_polled(&p[2]);
	while (p[0].fd != -1 || p[1].fd != -1 || p[2].fd != -1) {
		if (poll(p, 3, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd != -1 && p[i].revents != 0 &&
			    !drain_some(p[i].fd, caps[i]))
				close_polled(&p[i]);
		}
		if (p[2].fd != -1 && p[2].revents != 0 &&
		    !feed_some(p[2].fd, &next, &left))
			close_polled(&p[2]);
	}
	for (int i = 0; i < 3; i++) {
		if (p[i].fd != -1)
			close(p[i].fd);
	}
}

static void
pack_result(struct lp_job *job, int status, const struct capture *out,
    const struct capture *err)
{
	msgpack_packer *pk = lp_job_result(job);
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;

	msgpack_pack_map(pk, 5);
	lp_pack_kv_i64(pk, "status", sig ? 128 + sig : WEXITSTATUS(status));
	lp_pack_kv_i64(pk, "signal", sig);
	lp_pack_cstr(pk, "stdout");
	msgpack_pack_bin_with_body(pk, out->data, out->len);
	lp_pack_cstr(pk, "stderr");
	msgpack_pack_bin_with_body(pk, err->data, err->len);
	lp_pack_kv_bool(pk, "truncated", out->truncated || err->truncated);
}

static void
close_pipes(int (*p)[2], int n)
{
	for (int i = 0; i < n; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
}

/* What the program's start reported, or nothing: it runs. */
static int
start_failed(struct lp_job *job, const struct exec_request *r,
    const struct spawn_report *rep)
{
	char buf[LP_QUOTE_SIZE];

	switch (rep->stage) {
	case SPAWN_USER:
		return lp_job_fail(job,
		    "exec: cannot run as uid %u (gid %u): %s",
		    (unsigned)caller.uid, (unsigned)caller.gid,
		    strerror(rep->error));
	case SPAWN_CWD:
		return lp_job_fail(job,
		    "exec: cannot change to directory '%s': %s",
		    lp_quote(r->cwd, strlen(r->cwd), buf),
		    strerror(rep->error));
	default:
		return lp_job_fail(job, "exec: cannot run '%s': %s",
		    lp_quote(r->argv[0], strlen(r->argv[0]), buf),
		    strerror(rep->error));
	}
}

static int
run_program(struct lp_job *job, const struct exec_request *r)
{
	enum {
		IN,
		OUT,
		ERR,
		REPORT,
		NPIPES
	};
	struct capture cout = { 0 }, cerr = { 0 };
	struct spawn_report rep = { 0 };
	int p[NPIPES][2], made, e = 0, status;
	bool asked;

	for (made = 0; made < NPIPES; made++)
		if (pipe2(p[made], O_CLOEXEC | (made == IN ? O_NONBLOCK : 0)) ==
		    -1)
			break;
	if (made < NPIPES) {
		e = errno;
		close_pipes(p, made);
		return lp_job_fail(job, "exec: pipe: %s", strerror(e));
	}
	program_runs = 1;
	e = spawner_run(&caller, r->argv, r->envp, r->cwd,
	    (int[SPAWN_FDS]){ p[IN][0], p[OUT][1], p[ERR][1], p[REPORT][1] });
	close(p[IN][0]);
	close(p[OUT][1]);
	close(p[ERR][1]);
	close(p[REPORT][1]);
	asked = e == 0;
	/* No memory for the request: the spawner never heard of it, and serves the next one. */
	if (e == ENOMEM) {
		rep = (struct spawn_report){ .stage = SPAWN_EXEC, .error = e };
		e = 0;
	}
	/* Nothing comes back when exec succeeded: the report pipe just closes. */
	if (asked &&
	    read(p[REPORT][0], &rep, sizeof rep) != (ssize_t)sizeof rep)
		rep.stage = 0;
	close(p[REPORT][0]);
	if (e == 0 && rep.stage == 0) {
		pump_pipes(p[IN][1], p[OUT][0], p[ERR][0], r, &cout, &cerr);
	} else {
		close(p[IN][1]);
		close(p[OUT][0]);
		close(p[ERR][0]);
	}
	if (asked)
		e = spawner_wait(&status);
	program_runs = 0;
	if (e != 0)
		return lp_job_fail(job,
		    "exec: the worker cannot start programs any more (%s); "
		    "it is replaced",
		    strerror(e));
	if (rep.stage != 0)
		return start_failed(job, r, &rep);
	pack_result(job, status, &cout, &cerr);
	free(cout.data);
	free(cerr.data);
	return 0;
}

bool
exec_set_caller(const msgpack_object *o)
{
	const msgpack_object *v;

	if ((has_caller = o != NULL) == false)
		return true;
	v = o->via.array.ptr;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3 ||
	    v[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    v[0].via.u64 > UINT32_MAX ||
	    v[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    v[1].via.u64 > UINT32_MAX || v[2].type != MSGPACK_OBJECT_ARRAY ||
	    v[2].via.array.size > SPAWN_GROUPS_MAX)
		return false;
	caller.uid = (uint32_t)v[0].via.u64;
	caller.gid = (uint32_t)v[1].via.u64;
	caller.ngroups = v[2].via.array.size;
	for (uint32_t i = 0; i < caller.ngroups; i++) {
		const msgpack_object *g = &v[2].via.array.ptr[i];

		if (g->type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    g->via.u64 > UINT32_MAX)
			return false;
		caller.groups[i] = (uint32_t)g->via.u64;
	}
	return true;
}

int
job_exec(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	struct exec_request r = { 0 };
	int rc;

	if (args->via.array.size != 0)
		return jobs_refuse(job,
		    "exec takes keyword arguments only (argv, stdin, env, cwd)");
	if (!has_caller)
		return lp_job_fail(job,
		    "exec: the daemon did not say who the program runs as");
	rc = parse_request(job, kwargs, &r);
	if (rc == 0)
		rc = run_program(job, &r);
	request_free(&r);
	return rc;
}
