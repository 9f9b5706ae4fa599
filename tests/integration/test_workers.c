/* SPDX-License-Identifier: ISC */
/*
 * What workers do beyond running a function: exec, recycling after N jobs,
 * and configuration reloads that reach them, against a real daemon.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/rpc.h"
#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/suites.h"

static const char exec_pool[] =
    "[pool cpu]\n"
    "executors_max = 1\n"
    "workers = 1\n"
    "exec = yes\n"
    "exec_output_max = 64\n"
    "max_jobs_per_worker = 3\n";

/* Room for a MiB of output and more, so that the sizes around a pipe's come back whole. */
#define BIG_OUTPUT_MAX (2u << 20)

static const char big_exec_pool[] =
    "[pool cpu]\n"
    "executors_max = 1\n"
    "workers = 1\n"
    "exec = yes\n"
    "exec_output_max = 2M\n";

/* Well before the default job_timeout, so that a stuck exec fails as JOB_TIMEOUT. */
#define STDIN_TIMEOUT 10.0

static const char no_exec_pool[] =
    "[pool cpu]\n"
    "executors_max = 1\n"
    "workers = 1\n";

/* A pool with the test module, and maybe a memory limit. */
static void
module_pool_config(char *buf, size_t len, const char *memory_limit)
{
	snprintf(buf, len,
	    "[daemon]\nmodules = %s/testjobs.so\n"
	    "[pool cpu]\nexecutors_max = 1\nworkers = 1\nmemory_limit = %s\n",
	    test_modules_dir(), memory_limit);
}

static void
start_module_pool_limited(const char *memory_limit)
{
	char config[512];

	module_pool_config(config, sizeof config, memory_limit);
	daemon_start(&d, config);
}

static void
start_module_pool(void)
{
	start_module_pool_limited("0");
}

static void
start_recycling_pool(void)
{
	char config[512];

	snprintf(config, sizeof config,
	    "[daemon]\nmodules = %s/testjobs.so\n"
	    "[pool cpu]\nexecutors_max = 1\nworkers = 2\nmax_jobs_per_worker = 3\n",
	    test_modules_dir());
	daemon_start(&d, config);
}

#ifndef LP_ASAN
static void
start_limited_pool(void)
{
	start_module_pool_limited("256M");
}

static void
start_tiny_pool(void)
{
	start_module_pool_limited("64K");
}
#endif

static void
start_exec_pool(void)
{
	daemon_start(&d, exec_pool);
}

static void
start_big_exec_pool(void)
{
	daemon_start(&d, big_exec_pool);
}

static void
start_no_exec_pool(void)
{
	daemon_start(&d, no_exec_pool);
}

/* Runs argv (NULL-terminated) through exec with len bytes of stdin; input may be NULL (none). */
static enum lp_err
run_exec(struct lp_client *c, uint64_t lease, const char *const argv[],
    const char *input, size_t len, double timeout, struct lp_value **out,
    struct lp_error *err)
{
	struct lp_args *a = exec_args(argv, input, len);
	enum lp_err rc;

	rc = lp_run_timeout(c, lease, "exec", a, timeout, out, err);
	lp_args_free(a);
	return rc;
}

/* Runs `sh -c script` through exec; stdin may be NULL. */
static enum lp_err
run_sh(struct lp_client *c, uint64_t lease, const char *script,
    const char *input, double timeout, struct lp_value **out,
    struct lp_error *err)
{
	const char *argv[] = { "sh", "-c", script, NULL };

	return run_exec(c, lease, argv, input,
	    input != NULL ? strlen(input) : 0, timeout, out, err);
}

static int64_t
result_int(const struct lp_value *v, const char *key)
{
	const msgpack_object *o = lp_value_get(v, key);

	ck_assert_ptr_nonnull(o);
	return o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? o->via.i64 :
							    (int64_t)o->via.u64;
}

static void
assert_bytes(const struct lp_value *v, const char *key, const char *want)
{
	const msgpack_object *o = lp_value_get(v, key);

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(o->type, MSGPACK_OBJECT_BIN);
	ck_assert_int_eq(o->via.bin.size, strlen(want));
	ck_assert(memcmp(o->via.bin.ptr, want, o->via.bin.size) == 0);
}

START_TEST(exec_returns_output_and_status)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_value *v;
	struct lp_error err;

	ck_assert(run_sh(c, id, "tr a-z A-Z; echo oops >&2; exit 3", "shout", 0,
		      &v, &err) == LP_OK);
	ck_assert_int_eq(result_int(v, "status"), 3);
	ck_assert_int_eq(result_int(v, "signal"), 0);
	assert_bytes(v, "stdout", "SHOUT");
	assert_bytes(v, "stderr", "oops\n");
	ck_assert(!lp_value_get(v, "truncated")->via.boolean);
	lp_value_free(v);

	ck_assert(run_sh(c, id, "kill -TERM $$", NULL, 0, &v, &err) == LP_OK);
	ck_assert_int_eq(result_int(v, "signal"), SIGTERM);
	ck_assert_int_eq(result_int(v, "status"), 128 + SIGTERM);
	lp_value_free(v);
	lp_client_free(c);
}
END_TEST

START_TEST(exec_output_is_bounded)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_value *v;
	struct lp_error err;

	/* Far more than the pipe holds: the worker must keep draining, not block. */
	ck_assert(run_sh(c, id, "head -c 1000000 /dev/zero | tr '\\0' x", NULL,
		      0, &v, &err) == LP_OK);
	ck_assert_int_eq(result_int(v, "status"), 0);
	ck_assert_int_eq(lp_value_get(v, "stdout")->via.bin.size, 64);
	ck_assert(lp_value_get(v, "truncated")->via.boolean);
	lp_value_free(v);
	lp_client_free(c);
}
END_TEST

START_TEST(exec_reports_what_cannot_run)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_args *a = lp_args_new();
	struct lp_value *v;
	struct lp_error err;

	lp_kwargs_raw(a, "argv", "\x91\xa9/no/such!", 11);
	ck_assert_int_eq(lp_run(c, id, "exec", a, &v, &err), LP_ERR_JOB_FAILED);
	ck_assert_ptr_nonnull(strstr(err.message, "/no/such!"));
	lp_args_clear(a);
	lp_kwargs_str(a, "argv", "not an array");
	ck_assert_int_eq(lp_run(c, id, "exec", a, &v, &err),
	    LP_ERR_INVALID_ARGUMENT);
	ck_assert_ptr_nonnull(strstr(err.message, "argv"));
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

/* Empty, one byte, around a pipe's 64 KiB, a MiB, and one byte over exec_output_max. */
static const size_t stdin_sizes[] = {
	0,
	1,
	65535,
	65536,
	65537,
	1u << 20,
	BIG_OUTPUT_MAX + 1,
};

static const char *const cat[] = { "cat", NULL };

START_TEST(exec_stdin_of_any_size_comes_back_through_cat)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	size_t len = stdin_sizes[_i],
	       want = len < BIG_OUTPUT_MAX ? len : BIG_OUTPUT_MAX;
	char *input = malloc(len + 1);
	const msgpack_object *o;
	struct lp_value *v;
	struct lp_error err;
	enum lp_err rc;

	ck_assert_ptr_nonnull(input);
	fill_pattern(input, len);
	rc = run_exec(c, id, cat, input, len, STDIN_TIMEOUT, &v, &err);
	ck_assert_msg(rc == LP_OK, "%zu bytes through cat: %s: %s", len,
	    lp_err_name(rc), err.message);
	ck_assert_int_eq(result_int(v, "status"), 0);
	ck_assert_ptr_nonnull(o = lp_value_get(v, "stdout"));
	ck_assert_int_eq(o->type, MSGPACK_OBJECT_BIN);
	ck_assert_uint_eq(o->via.bin.size, want);
	ck_assert_msg(memcmp(o->via.bin.ptr, input, want) == 0,
	    "%zu bytes through cat differ", len);
	ck_assert(lp_value_get(v, "truncated")->via.boolean ==
	    (len > BIG_OUTPUT_MAX));
	lp_value_free(v);
	free(input);
	lp_client_free(c);
}
END_TEST

START_TEST(exec_answers_a_program_that_leaves_its_stdin_unread)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	const char *const head[] = { "head", "-c", "5", NULL };
	const char *const quit[] = { "sh", "-c", "exit 7", NULL };
	const char *const talk[] = { "sh", "-c",
		"head -c 100000 /dev/zero; exit 7", NULL };
	size_t len = 1u << 20;
	char *input = malloc(len);
	struct lp_value *v;
	struct lp_error err;

	ck_assert_ptr_nonnull(input);
	fill_pattern(input, len);
	/* Reads a little, then closes its stdin and exits. */
	ck_assert(run_exec(c, id, head, input, len, STDIN_TIMEOUT, &v, &err) ==
	    LP_OK);
	ck_assert_int_eq(result_int(v, "status"), 0);
	ck_assert_int_eq(lp_value_get(v, "stdout")->via.bin.size, 5);
	ck_assert(
	    memcmp(lp_value_get(v, "stdout")->via.bin.ptr, input, 5) == 0);
	lp_value_free(v);
	/* Reads nothing. */
	ck_assert(run_exec(c, id, quit, input, len, STDIN_TIMEOUT, &v, &err) ==
	    LP_OK);
	ck_assert_int_eq(result_int(v, "status"), 7);
	lp_value_free(v);
	/* Reads nothing, and writes more than its stdout pipe holds before it exits. */
	ck_assert(run_exec(c, id, talk, input, len, STDIN_TIMEOUT, &v, &err) ==
	    LP_OK);
	ck_assert_int_eq(result_int(v, "status"), 7);
	ck_assert_int_eq(lp_value_get(v, "stdout")->via.bin.size, 100000);
	lp_value_free(v);
	free(input);
	lp_client_free(c);
}
END_TEST

START_TEST(exec_timeout_kills_what_it_started)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	char script[256], path[160];
	struct lp_value *v;
	struct lp_error err;
	pid_t child = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/child.pid", d.dir);
	snprintf(script, sizeof script, "sleep 300 & echo $! > %s; wait", path);
	ck_assert_int_eq(run_sh(c, id, script, NULL, 0.5, &v, &err),
	    LP_ERR_JOB_TIMEOUT);
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_int_eq(fscanf(f, "%d", &child), 1);
	fclose(f);
	unlink(path);
	ck_assert_msg(wait_until(process_gone, &child),
	    "the background child %d survived", (int)child);
	/* And the lease works on the replacement worker. */
	ck_assert(run_sh(c, id, "exit 0", NULL, 0, &v, &err) == LP_OK);
	lp_value_free(v);
	lp_client_free(c);
}
END_TEST

/* The pid a job wrote to NAME in the daemon's directory. */
static pid_t
read_pid(const char *name)
{
	char path[160];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof path, "%s/%s", d.dir, name);
	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s: %s", path,
	    strerror(errno));
	ck_assert_int_eq(fscanf(f, "%d", &pid), 1);
	fclose(f);
	unlink(path);
	return (pid_t)pid;
}

/* The fields of /proc/NAME/stat after the process's name; NULL when there is no such process. */
static const char *
proc_stat(const char *name, char *buf, size_t len)
{
	char path[300];
	const char *p = NULL;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%s/stat", name);
	if (name[0] < '1' || name[0] > '9' || (f = fopen(path, "r")) == NULL)
		return NULL;
	/* The name, in parentheses, may hold anything: the fields follow the last ')'. */
	if (fgets(buf, (int)len, f) != NULL && (p = strrchr(buf, ')')) != NULL)
		p++;
	fclose(f);
	return p;
}

/* No process, not even a zombie, is in the session or process group id. */
static bool
session_gone(void *arg)
{
	pid_t id = *(pid_t *)arg;
	struct dirent *e;
	bool gone = true;
	char buf[512];
	const char *p;
	int pgrp, sid;
	DIR *dir;

	ck_assert_ptr_nonnull(dir = opendir("/proc"));
	while (gone && (e = readdir(dir)) != NULL)
		if ((p = proc_stat(e->d_name, buf, sizeof buf)) != NULL &&
		    sscanf(p, " %*c %*d %d %d", &pgrp, &sid) == 2)
			gone = pgrp != id && sid != id;
	closedir(dir);
	return gone;
}

/*
 * A script that leaves a process in a session of its own (setsid), which
 * is no longer in the worker's process group, and waits until it runs.
 */
static void
setsid_script(char *buf, size_t len, const char *then)
{
	snprintf(buf, len,
	    "exec >/dev/null 2>&1; "
	    "setsid sh -c 'echo $$ > %s/sid.tmp && mv %s/sid.tmp %s/sid.pid; exec sleep 300' & "
	    "while [ ! -e %s/sid.pid ]; do sleep 0.01; done; %s",
	    d.dir, d.dir, d.dir, d.dir, then);
}

static void
assert_session_ends(pid_t sid)
{
	ck_assert_int_gt(sid, 1);
	ck_assert_msg(wait_until(session_gone, &sid),
	    "session %d of the job survived", (int)sid);
}

/* The script: a background process with no output to wait for. */
START_TEST(a_job_leaves_no_process_behind_its_answer)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	char script[512];
	struct lp_value *v;
	struct lp_error err;
	pid_t bg;

	snprintf(script, sizeof script,
	    "exec >/dev/null 2>&1; sleep 300 & echo $! > %s/bg.pid; echo x",
	    d.dir);
	ck_assert(run_sh(c, id, script, NULL, 0, &v, &err) == LP_OK);
	lp_value_free(v);
	bg = read_pid("bg.pid");
	ck_assert_msg(wait_until(process_gone, &bg),
	    "the background child %d survived", (int)bg);
	daemon_wait_log(&d,
	    "exec left 1 process running; the worker killed it");
	lp_client_free(c);
}
END_TEST

/*
 * The spawner kills what an exec's program leaves (a test above): the
 * worker does not also look through /proc after each exec.  Its start
 * still does, which shows the debug line reaches the log; the stop drains
 * every worker's output into it first.
 */
START_TEST(an_exec_job_is_not_followed_by_a_search_for_processes)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_value *v;
	struct lp_error err;
	int status;

	for (int i = 0; i < 2; i++) {
		ck_assert(run_sh(c, id, "exit 0", NULL, 0, &v, &err) == LP_OK);
		lp_value_free(v);
	}
	lp_client_free(c);
	status = daemon_stop(&d);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_msg(daemon_log_contains(&d,
			  "looking for processes the modules' init left"),
	    "no search at the worker's start in %s", d.log);
	ck_assert_msg(
	    !daemon_log_contains(&d, "looking for processes exec left"),
	    "a search after an exec in %s", d.log);
}
END_TEST

/* Runs a job that leaves a session of its own (then running `then`): the session's id. */
static pid_t
run_leaving_session(struct lp_client *c, uint64_t lease, const char *then,
    double timeout, enum lp_err want)
{
	struct lp_value *v = NULL;
	char script[512];
	struct lp_error err;

	setsid_script(script, sizeof script, then);
	ck_assert_int_eq(run_sh(c, lease, script, NULL, timeout, &v, &err),
	    want);
	lp_value_free(v);
	return read_pid("sid.pid");
}

START_TEST(a_job_leaves_no_session_behind_its_answer)
{
	struct lp_client *c = daemon_connect(&d);

	assert_session_ends(
	    run_leaving_session(c, acquire(c), "echo done", 0, LP_OK));
	lp_client_free(c);
}
END_TEST

static bool
log_has_either(void *arg)
{
	const char *const *texts = arg;

	return daemon_log_contains(&d, texts[0]) ||
	    daemon_log_contains(&d, texts[1]);
}

/*
 * A job that leaves a session and runs past its timeout: the session ends
 * all the same, and its killer says so.  The session's parent is the
 * program's spawner, a subreaper killed with the worker: when the spawner
 * outlives the worker for a moment, the kill comes at the spawner's end
 * and is counted for "workers that ended", not for the worker; and a
 * spawner or shell still on its way out may be counted with the session.
 */
static void
assert_timeout_ends_session(bool kill_the_fork_server, const char *logged[2])
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);

	if (kill_the_fork_server)
		kill_fork_server(&d);
	assert_session_ends(
	    run_leaving_session(c, id, "sleep 300", 1.0, LP_ERR_JOB_TIMEOUT));
	ck_assert_msg(wait_until(log_has_either, logged),
	    "no '%s' nor '%s' in %s", logged[0], logged[1], d.log);
	lp_client_free(c);
}

/* The worker is killed at the timeout: what left its group goes to the fork server. */
START_TEST(a_job_leaves_no_session_behind_its_timeout)
{
	assert_timeout_ends_session(false,
	    (const char *[2]){ "running; the fork server killed",
		"left running by workers that ended" });
}
END_TEST

/* With its fork server dead, the worker is the daemon's child, and so is what it leaves. */
START_TEST(a_job_leaves_no_session_behind_a_worker_the_daemon_adopted)
{
	assert_timeout_ends_session(true,
	    (const char *[2]){ "running; the daemon killed",
		"left running by workers of a fork server that died" });
}
END_TEST

/* max_jobs_per_worker = 3: each job leaves a session, and the worker that ran them is retired. */
START_TEST(a_recycled_worker_leaves_no_process_behind)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	pid_t sids[3];

	for (int i = 0; i < 3; i++)
		sids[i] = run_leaving_session(c, id, "echo done", 0, LP_OK);
	daemon_wait_log(&d, "retired after 3 jobs");
	for (int i = 0; i < 3; i++)
		assert_session_ends(sids[i]);
	lp_client_free(c);
}
END_TEST

/* Up to max children of parent, by a scan of /proc. */
static unsigned
children_of(pid_t parent, pid_t *pids, unsigned max)
{
	struct dirent *e;
	unsigned n = 0;
	char buf[512];
	const char *p;
	int ppid;
	DIR *dir;

	ck_assert_ptr_nonnull(dir = opendir("/proc"));
	while (n < max && (e = readdir(dir)) != NULL)
		if ((p = proc_stat(e->d_name, buf, sizeof buf)) != NULL &&
		    sscanf(p, " %*c %d", &ppid) == 1 && ppid == parent)
			pids[n++] = (pid_t)atoi(e->d_name);
	closedir(dir);
	return n;
}

static bool
sid_written(void *arg)
{
	char path[160];

	snprintf(path, sizeof path, "%s/sid.pid", d.dir);
	return access(path, F_OK) == 0;
}

static const char stopping_pool[] =
    "[daemon]\nshutdown_timeout = 0.2\n"
    "[pool cpu]\nexecutors_max = 1\nworkers = 2\nexec = yes\n";

static void
start_stopping_pool(void)
{
	daemon_start(&d, stopping_pool);
}

/*
 * The daemon's stop waits until its workers and what their jobs left are
 * gone: not one process of theirs, not even a zombie, outlives it.
 */
START_TEST(the_stop_leaves_no_worker_or_process_behind)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	pid_t fork_server = fork_server_of(&d), workers[8], sid;
	char script[512];
	const char *argv[] = { "sh", "-c", script, NULL };
	struct lp_args *a;
	struct lp_error err;
	unsigned n;
	int status;

	ck_assert_int_gt(fork_server, 0);
	setsid_script(script, sizeof script, "sleep 300");
	a = exec_args(argv, NULL, 0);
	ck_assert(lp_run_async(c, id, "exec", a, NULL, NULL, &err) == LP_OK);
	ck_assert(lp_client_process(c, &err) == LP_OK);
	ck_assert(wait_until(sid_written, NULL));
	sid = read_pid("sid.pid");
	n = children_of(fork_server, workers, 8);
	ck_assert_uint_eq(n, 2);
	status = daemon_stop(&d);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_msg(proc_state(fork_server) == '?',
	    "the fork server %d outlived the daemon", (int)fork_server);
	for (unsigned i = 0; i < n; i++)
		ck_assert_msg(proc_state(workers[i]) == '?',
		    "worker %d outlived the daemon (%c)", (int)workers[i],
		    proc_state(workers[i]));
	ck_assert_msg(session_gone(&sid),
	    "session %d of the job outlived the daemon", (int)sid);
	lp_args_free(a);
	lp_client_free(c);
}
END_TEST

START_TEST(exec_needs_a_pool_that_allows_it)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	struct lp_value *v;
	struct lp_error err;

	ck_assert_int_eq(run_sh(c, id, "exit 0", NULL, 0, &v, &err),
	    LP_ERR_PERMISSION_DENIED);
	ck_assert_ptr_nonnull(strstr(err.message, "'cpu'"));
	ck_assert(daemon_log_contains(&d, "exec refused"));
	lp_client_free(c);
}
END_TEST

static pid_t
pid_from_sh(struct lp_client *c, uint64_t id, const char *script)
{
	struct lp_value *v;
	struct lp_error err;
	pid_t pid;

	ck_assert(run_sh(c, id, script, NULL, 0, &v, &err) == LP_OK);
	pid = (pid_t)strtol(lp_value_get(v, "stdout")->via.bin.ptr, NULL, 10);
	lp_value_free(v);
	return pid;
}

/* The pid of the spawner that started the shell: its parent. */
static pid_t
spawner_pid(struct lp_client *c, uint64_t id)
{
	return pid_from_sh(c, id, "echo $PPID");
}

/* The pid of the worker that ran the job: the parent of the shell's spawner. */
static pid_t
worker_pid(struct lp_client *c, uint64_t id)
{
	return pid_from_sh(c, id, "set -- $(cat /proc/$PPID/stat); echo $4");
}

struct recycled {
	struct lp_client *c;
	uint64_t lease;
	pid_t old;
};

static bool
new_worker_serves(void *arg)
{
	struct recycled *r = arg;

	return worker_pid(r->c, r->lease) != r->old;
}

enum {
	STREAM_PAIRS = 40
};

/* One half of a stream: STREAM_PAIRS of a pid then a 2 ms spin. */
struct stream_half {
	struct outcome pids[STREAM_PAIRS], spins[STREAM_PAIRS];
};

static void
send_half(struct lp_client *c, uint64_t lease, struct stream_half *h,
    const struct lp_args *two_ms)
{
	struct lp_error err;

	memset(h, 0, sizeof *h);
	for (int i = 0; i < STREAM_PAIRS; i++) {
		ck_assert(lp_run_async(c, lease, "testjobs.pid", NULL, record,
			      &h->pids[i], &err) == LP_OK);
		ck_assert(lp_run_async(c, lease, "spin", two_ms, record,
			      &h->spins[i], &err) == LP_OK);
	}
}

/* Waits for h's answers, all of them OK; adds the workers' pids to seen. */
static void
collect_half(struct lp_client *c, struct stream_half *h, pid_t *seen,
    unsigned *nseen)
{
	for (int i = 0; i < STREAM_PAIRS; i++) {
		bool known = false;

		wait_outcome(c, &h->pids[i]);
		wait_outcome(c, &h->spins[i]);
		ck_assert_int_eq(h->pids[i].code, LP_OK);
		ck_assert_int_eq(h->spins[i].code, LP_OK);
		for (unsigned j = 0; j < *nseen; j++)
			known = known || seen[j] == (pid_t)h->pids[i].value;
		if (!known && *nseen < 3)
			seen[(*nseen)++] = (pid_t)h->pids[i].value;
	}
}

/*
 * Runs queued on a lease reach its workers in frames, the next one sent
 * while the last job of the one before runs: a worker under a steady
 * stream need never be idle, and must still be retired.  The next half of
 * the stream is queued before the last is answered, so the queue never
 * runs dry, until a third worker has run a job.  How soon one does
 * depends on how fast a successor starts, so the stream is bounded only
 * by its length.
 */
START_TEST(workers_are_recycled_under_a_stream_of_runs)
{
	enum {
		HALVES_MAX = 200
	};
	struct lp_client *c = daemon_connect(&d);
	static struct stream_half halves[2];
	struct lp_args *two_ms = lp_args_new();
	uint64_t lease = acquire(c);
	pid_t seen[3];
	unsigned nseen = 0, sent = 1;

	lp_args_int(two_ms, 2000);
	send_half(c, lease, &halves[0], two_ms);
	for (unsigned waited = 0; nseen <= 2 && sent < HALVES_MAX; waited++) {
		send_half(c, lease, &halves[sent++ % 2], two_ms);
		collect_half(c, &halves[waited % 2], seen, &nseen);
	}
	collect_half(c, &halves[(sent - 1) % 2], seen, &nseen);
	/* Jobs at 3 a worker: two workers that never went idle would have been all. */
	ck_assert_uint_gt(nseen, 2);
	ck_assert(daemon_log_contains(&d, "retired after"));
	ck_assert_int_eq(stats_int(c, "pools.cpu.counters.crashed"), 0);
	lp_args_free(two_ms);
	lp_client_free(c);
}
END_TEST

START_TEST(worker_holds_only_its_channel)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);

	/*
	 * stdin (/dev/null), stdout and stderr (the log pipe), the channel's
	 * two pipes and its spawner's socket: nothing of the daemon's.  The
	 * spawner: the standard three and that socket.
	 */
	ck_assert_int_eq(proc_fd_count(worker_pid(c, id)), 6);
	ck_assert_int_eq(proc_fd_count(spawner_pid(c, id)), 4);
	lp_client_free(c);
}
END_TEST

START_TEST(worker_is_recycled_after_max_jobs)
{
	struct lp_client *c = daemon_connect(&d);
	struct recycled r = { c, acquire(c), 0 };

	r.old = worker_pid(c, r.lease);
	ck_assert_int_eq(worker_pid(c, r.lease), r.old);
	ck_assert_int_eq(worker_pid(c, r.lease), r.old);
	/* Three jobs done: a successor starts, and takes over once ready. */
	ck_assert(wait_until(new_worker_serves, &r));
	ck_assert(daemon_log_contains(&d, "retired after"));
	ck_assert_int_eq(stats_int(c, "pools.cpu.counters.crashed"), 0);
	lp_client_free(c);
}
END_TEST

static void
rewrite_config(const char *text)
{
	char tmp[160];
	FILE *f;

	/* Renamed into place, so the daemon never reads half a file. */
	snprintf(tmp, sizeof tmp, "%s.new", d.config);
	ck_assert_ptr_nonnull(f = fopen(tmp, "w"));
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(rename(tmp, d.config), 0);
}

static void
reload_and_wait(const char *marker)
{
	kill(d.pid, SIGHUP);
	daemon_wait_log(&d, marker);
}

/* sched_batch is set at each fork: a reload replaces the workers, and the next one has the new policy. */
START_TEST(workers_run_as_batch_tasks_unless_told_otherwise)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t id = acquire(c);
	pid_t first = worker_pid(c, id), next;
	char config[sizeof exec_pool + 32];

	ck_assert_int_eq(sched_getscheduler(first), SCHED_BATCH);
	snprintf(config, sizeof config, "%ssched_batch = no\n", exec_pool);
	rewrite_config(config);
	reload_and_wait("configuration reloaded");
	/* max_jobs_per_worker = 3: within a few jobs a new worker takes the slot. */
	for (int i = 0; (next = worker_pid(c, id)) == first; i++)
		ck_assert_int_lt(i, 10);
	ck_assert_int_eq(sched_getscheduler(next), SCHED_OTHER);
	lp_client_free(c);
}
END_TEST

START_TEST(reload_changes_sizes_and_timeouts_without_dropping_work)
{
	struct lp_client *a = daemon_connect(&d), *b = daemon_connect(&d);
	struct lp_acquire_opts patient = { .timeout = HARNESS_WAIT_SECONDS };
	struct lp_args *slow = lp_args_new();
	struct lp_lease second;
	struct lp_value *v;
	struct lp_error err;
	uint64_t id = acquire(a);

	lp_args_double(slow, 0.5);
	ck_assert(
	    lp_run_async(a, id, "sleep", slow, NULL, NULL, &err) == LP_OK);
	ck_assert(lp_client_process(a, &err) == LP_OK);
	ck_assert(wait_stats(b, "pools.cpu.runs_in_flight", 1));
	rewrite_config(
	    "[pool cpu]\nexecutors_max = 2\nworkers = 1\njob_timeout = 0.3\n"
	    "socket_mode = 0600\n");
	/* socket_mode is not a pool key: the whole file is refused, nothing changes. */
	reload_and_wait("reload failed");
	ck_assert_int_eq(stats_int(b, "pools.cpu.executors.max"), 1);
	rewrite_config(
	    "[daemon]\nsocket_mode = 0660\n"
	    "[pool cpu]\nexecutors_max = 2\nworkers = 1\njob_timeout = 0.3\n");
	reload_and_wait("configuration reloaded");
	ck_assert(daemon_log_contains(&d, "socket_mode changed"));
	/* The run accepted before the reload still finishes, and b gets a second executor. */
	ck_assert(lp_client_wait_all(a, &err) == LP_OK);
	ck_assert_int_eq(stats_int(b, "pools.cpu.counters.completed"), 1);
	ck_assert(lp_acquire(b, &patient, &second, &err) == LP_OK);
	ck_assert_int_eq(stats_int(b, "pools.cpu.executors.max"), 2);
	/* The new job_timeout applies to new runs. */
	lp_args_clear(slow);
	lp_args_double(slow, 30);
	ck_assert_int_eq(lp_run(b, second.id, "sleep", slow, &v, &err),
	    LP_ERR_JOB_TIMEOUT);
	lp_args_free(slow);
	lp_client_free(a);
	lp_client_free(b);
}
END_TEST

static enum lp_err
run_str(struct lp_client *c, uint64_t lease, const char *fn, const char *arg,
    int64_t num, struct lp_error *err)
{
	struct lp_args *a = lp_args_new();
	struct lp_value *v = NULL;
	enum lp_err rc;

	if (arg != NULL)
		lp_args_str(a, arg);
	else
		lp_args_int(a, num);
	rc = lp_run(c, lease, fn, a, &v, err);
	lp_value_free(v);
	lp_args_free(a);
	return rc;
}

START_TEST(worker_output_reaches_the_log_tagged)
{
	struct lp_client *c = daemon_connect(&d);
	struct lp_acquire_opts opts = { .owner = "alice" };
	struct lp_lease lease;
	struct lp_error err;
	char *flood, *longline;

	ck_assert(lp_acquire(c, &opts, &lease, &err) == LP_OK);
	ck_assert(run_str(c, lease.id, "testjobs.print", "hello from the job\n",
		      0, &err) == LP_OK);
	daemon_wait_log(&d, "testjobs.print for alice: hello from the job");
	/*
	 * An endless line is cut, not buffered without bound.  Before the
	 * flood: after it, the line would find the bucket empty and be dropped.
	 */
	ck_assert_ptr_nonnull(longline = malloc(5001));
	memset(longline, 'y', 5000);
	longline[5000] = '\0';
	ck_assert(
	    run_str(c, lease.id, "testjobs.print", longline, 0, &err) == LP_OK);
	daemon_wait_log(&d, "yyyy [...]");
	/* A flood is cut down to a burst, and what was dropped is counted. */
	ck_assert_ptr_nonnull(flood = malloc(2 * 2000 + 1));
	for (int i = 0; i < 2000; i++)
		memcpy(flood + 2 * i, "x\n", 2);
	flood[4000] = '\0';
	ck_assert(
	    run_str(c, lease.id, "testjobs.print", flood, 0, &err) == LP_OK);
	daemon_wait_log(&d, "lines of output dropped");
	free(flood);
	free(longline);
	lp_client_free(c);
}
END_TEST

#ifndef LP_ASAN
/* Runs of spin kept STREAM_DEPTH deep on one lease: each answer sends the next. */
#define STREAM_DEPTH 256

struct stream {
	struct lp_client *c;
	uint64_t lease;
	struct lp_args *args;
	unsigned sent, answered, failed, total;
};

static void stream_send(struct stream *s);

static void
stream_answered(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct stream *s = arg;

	s->answered++;
	s->failed += code != LP_OK;
	lp_value_free(result);
	stream_send(s);
}

static void
stream_send(struct stream *s)
{
	struct lp_error err;

	for (; s->sent < s->total && s->sent - s->answered < STREAM_DEPTH;
	     s->sent++)
		ck_assert_msg(lp_run_async(s->c, s->lease, "spin", s->args,
				  stream_answered, s, &err) == LP_OK,
		    "run: %s", err.message);
}

static void
stream_more(struct stream *s, unsigned runs)
{
	struct lp_error err;

	s->total += runs;
	stream_send(s);
	ck_assert_msg(lp_client_wait_all(s->c, &err) == LP_OK, "wait: %s",
	    err.message);
	ck_assert_uint_eq(s->answered, s->total);
	ck_assert_uint_eq(s->failed, 0);
}

/*
 * One worker, and runs long enough (10 us) that the queue never empties:
 * it always has its next frame before it finishes one, so it is never
 * idle, and what the daemon keeps about it must not grow with the runs it
 * has answered.
 */
START_TEST(a_worker_that_is_never_idle_costs_no_memory_per_run)
{
	enum {
		RUNS = 300000
	};
	struct lp_client *c = daemon_connect(&d);
	struct stream s = { .c = c,
		.lease = acquire(c),
		.args = lp_args_new() };
	long before;

	lp_args_int(s.args, 10);
	stream_more(&s, 20000); /* the heap's working size */
	before = proc_status_kib(d.pid, "RssAnon");
	stream_more(&s, RUNS);
	/* A run pointer kept per run would be 2.3 MiB. */
	ck_assert_int_lt(proc_status_kib(d.pid, "RssAnon") - before, 1024);
	lp_args_free(s.args);
	lp_client_free(c);
}
END_TEST

START_TEST(memory_limit_contains_a_greedy_job)
{
	struct lp_client *c = daemon_connect(&d);
	struct lp_lease lease;
	struct lp_error err;
	enum lp_err rc;

	ck_assert(lp_acquire(c, NULL, &lease, &err) == LP_OK);
	/* 1 GiB against a 256 MiB address space: the job fails or its worker dies, nothing else. */
	rc = run_str(c, lease.id, "testjobs.alloc", NULL, 1024, &err);
	ck_assert_msg(rc == LP_ERR_JOB_FAILED || rc == LP_ERR_WORKER_CRASHED,
	    "alloc of 1 GiB: %s", lp_err_name(rc));
	ck_assert(
	    run_str(c, lease.id, "testjobs.alloc", NULL, 16, &err) == LP_OK);
	lp_client_free(c);
}
END_TEST

/* An echo of size bytes: LP_OK, or the code of its error with the message in err. */
static enum lp_err
echo_bytes(struct lp_client *c, uint64_t lease, size_t size,
    struct lp_error *err)
{
	char *big = malloc(size + 1);
	enum lp_err rc;

	ck_assert_ptr_nonnull(big);
	memset(big, 'm', size);
	big[size] = '\0';
	rc = run_str(c, lease, "echo", big, 0, err);
	free(big);
	return rc;
}

static void
assert_out_of_memory(struct lp_client *c, uint64_t lease, size_t size)
{
	struct lp_error err;

	ck_assert_int_eq(echo_bytes(c, lease, size, &err),
	    LP_ERR_LIMIT_EXCEEDED);
	ck_assert_msg(strstr(err.message, "out of memory (memory_limit 64K)") !=
		NULL,
	    "echo of %zu bytes: %s", size, err.message);
}

/*
 * 100 KB: the worker holds the job but cannot pack its result; 3 MB: it
 * cannot even hold the job.  Either way the answer says why, and the
 * worker carries on.
 */
START_TEST(memory_limit_failures_say_so)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct lp_error err;

	assert_out_of_memory(c, lease, 100 * 1000);
	assert_out_of_memory(c, lease, 3 * 1000 * 1000);
	ck_assert(echo_bytes(c, lease, 100, &err) == LP_OK);
	ck_assert_int_eq(stats_int(c, "pools.cpu.counters.crashed"), 0);
	lp_client_free(c);
}
END_TEST

static void
start_tiny_exec_pool(void)
{
	daemon_start(&d,
	    "[pool cpu]\nexecutors_max = 1\nworkers = 1\nexec = yes\n"
	    "memory_limit = 64K\n");
}

/*
 * Under a memory_limit the worker already exceeds, memory runs out
 * somewhere on the way to a program whose argument grows: in the worker
 * receiving the job, copying it, asking the spawner, in the spawner, or
 * in the program's exec.  Wherever it does, the client is told so, not
 * that the worker lost its spawner.
 */
START_TEST(exec_out_of_memory_says_so)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	static char arg[256 * 1024];
	const char *argv[] = { "true", arg, NULL };
	struct lp_value *v = NULL;
	struct lp_error err;
	unsigned failed = 0;

	for (size_t len = 1024; len < sizeof arg; len += len / 8) {
		memset(arg, 'x', len);
		arg[len] = '\0';
		if (run_exec(c, lease, argv, NULL, 0, 0, &v, &err) == LP_OK) {
			lp_value_free(v);
			continue;
		}
		failed++;
		ck_assert_msg(strstr(err.message, "out of memory") != NULL ||
			strstr(err.message, "Cannot allocate memory") != NULL,
		    "%zu bytes: %s", len, err.message);
		ck_assert_msg(strstr(err.message, "cannot start programs") ==
			NULL,
		    "%zu bytes: %s", len, err.message);
	}
	ck_assert_uint_gt(failed, 0);
	lp_client_free(c);
}
END_TEST

/* A reload of memory_limit replaces the running workers: the next job has the new limit. */
START_TEST(a_reload_of_memory_limit_reaches_running_workers)
{
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = acquire(c);
	struct lp_error err;
	char config[512];

	ck_assert(echo_bytes(c, lease, 100 * 1000, &err) == LP_OK);
	module_pool_config(config, sizeof config, "64K");
	rewrite_config(config);
	reload_and_wait("configuration reloaded");
	daemon_wait_log(&d, "retired for the reloaded limits");
	assert_out_of_memory(c, lease, 100 * 1000);
	lp_client_free(c);
}
END_TEST
#endif

Suite *
workers_suite(void)
{
	Suite *s = suite_create("workers");
	TCase *tc;

	tc = integration_case(s, "exec", start_exec_pool, stop_daemon);
	tcase_add_test(tc, exec_returns_output_and_status);
	tcase_add_test(tc, exec_output_is_bounded);
	tcase_add_test(tc, exec_reports_what_cannot_run);
	tcase_add_test(tc, exec_timeout_kills_what_it_started);
	tcase_add_test(tc, a_job_leaves_no_process_behind_its_answer);
	tcase_add_test(tc,
	    an_exec_job_is_not_followed_by_a_search_for_processes);
	tcase_add_test(tc, a_job_leaves_no_session_behind_its_answer);
	tcase_add_test(tc, a_job_leaves_no_session_behind_its_timeout);
	tcase_add_test(tc,
	    a_job_leaves_no_session_behind_a_worker_the_daemon_adopted);
	tcase_add_test(tc, a_recycled_worker_leaves_no_process_behind);
	tcase_add_test(tc, worker_is_recycled_after_max_jobs);
	tcase_add_test(tc, worker_holds_only_its_channel);
	tcase_add_test(tc, workers_run_as_batch_tasks_unless_told_otherwise);

	tc =
	    integration_case(s, "exec stdin", start_big_exec_pool, stop_daemon);
	tcase_add_loop_test(tc, exec_stdin_of_any_size_comes_back_through_cat,
	    0, sizeof stdin_sizes / sizeof stdin_sizes[0]);
	tcase_add_test(tc, exec_answers_a_program_that_leaves_its_stdin_unread);

	tc = integration_case(s, "stop", start_stopping_pool, stop_daemon);
	tcase_add_test(tc, the_stop_leaves_no_worker_or_process_behind);

	tc = integration_case(s, "module", start_module_pool, stop_daemon);
	tcase_add_test(tc, worker_output_reaches_the_log_tagged);
#ifndef LP_ASAN
	/*
	 * Not in AddressSanitizer builds: ASan maps terabytes of shadow memory,
	 * so no address-space limit can hold a sanitized worker.  `make check`
	 * runs it.
	 */
	tc = integration_case(s, "memory limit", start_limited_pool,
	    stop_daemon);
	tcase_add_test(tc, memory_limit_contains_a_greedy_job);
	tcase_add_test(tc, a_reload_of_memory_limit_reaches_running_workers);

	tc = integration_case(s, "tiny memory limit", start_tiny_pool,
	    stop_daemon);
	tcase_add_test(tc, memory_limit_failures_say_so);

	tc = integration_case(s, "tiny memory limit exec", start_tiny_exec_pool,
	    stop_daemon);
	tcase_add_test(tc, exec_out_of_memory_says_so);

	/* Nor under ASan: its quarantine holds on to freed memory. */
	tc = integration_case(s, "stream", start_no_exec_pool, stop_daemon);
	tcase_add_test(tc, a_worker_that_is_never_idle_costs_no_memory_per_run);
#endif

	tc =
	    integration_case(s, "recycling", start_recycling_pool, stop_daemon);
	tcase_add_test(tc, workers_are_recycled_under_a_stream_of_runs);

	tc = integration_case(s, "exec refused", start_no_exec_pool,
	    stop_daemon);
	tcase_add_test(tc, exec_needs_a_pool_that_allows_it);

	tc = integration_case(s, "reload", start_no_exec_pool, stop_daemon);
	tcase_add_test(tc,
	    reload_changes_sizes_and_timeouts_without_dropping_work);
	return s;
}
