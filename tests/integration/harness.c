/* SPDX-License-Identifier: ISC */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/rpc.h"
#include "tests/integration/harness.h"

#define POLL_NS (5 * 1000 * 1000)

double
monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
pause_briefly(void)
{
	struct timespec ts = { 0, POLL_NS };

	nanosleep(&ts, NULL);
}

bool
file_exists(void *arg)
{
	return access(arg, F_OK) == 0;
}

bool
process_gone(void *arg)
{
	pid_t pid = *(pid_t *)arg;

	return kill(pid, 0) == -1 && errno == ESRCH;
}

pid_t
started_pid(const char *path)
{
	long pid = 0;
	FILE *f;

	ck_assert_msg(wait_until(file_exists, (void *)path),
	    "the job never started: no %s", path);
	/* The file is created, then written: wait for the whole number. */
	for (int tries = 0; pid <= 0 && tries < 1000; tries++) {
		ck_assert_ptr_nonnull(f = fopen(path, "r"));
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
		if (pid <= 0)
			pause_briefly();
	}
	ck_assert_int_gt(pid, 0);
	return (pid_t)pid;
}

int64_t
run_pid(struct lp_client *c, uint64_t lease, const char *fn)
{
	struct lp_value *v = NULL;
	struct lp_error err;
	int64_t pid;

	ck_assert_msg(lp_run(c, lease, fn, NULL, &v, &err) == LP_OK, "%s: %s",
	    fn, err.message);
	pid = lp_value_int(v);
	lp_value_free(v);
	ck_assert_int_gt(pid, 0);
	return pid;
}

void
wait_new_worker(struct lp_client *c, uint64_t lease, const char *fn,
    int64_t old)
{
	double until = monotonic() + HARNESS_WAIT_SECONDS;

	while (run_pid(c, lease, fn) == old)
		ck_assert_msg(monotonic() < until,
		    "worker %lld was never replaced", (long long)old);
}

bool
daemon_wrapped(void)
{
	return getenv("LP_DAEMON_WRAPPER") != NULL;
}

bool
wait_until(bool (*cond)(void *arg), void *arg)
{
	/* Under valgrind everything the daemon does takes many times longer. */
	double bound =
	    daemon_wrapped() ? 6 * HARNESS_WAIT_SECONDS : HARNESS_WAIT_SECONDS;
	double until = monotonic() + bound;

	while (!cond(arg)) {
		if (monotonic() > until)
			return false;
		pause_briefly();
	}
	return true;
}

const char *
daemon_path(void)
{
	const char *p = getenv("LP_DAEMON");

	return p != NULL ? p : "build/leasepoold";
}

const char *
test_modules_dir(void)
{
	static char dir[512];
	const char *env = getenv("LP_TEST_MODULES");
	char cwd[400];

	if (env != NULL)
		return env;
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	snprintf(dir, sizeof dir, "%s/build/tests/modules", cwd);
	return dir;
}

int
raw_connect(const struct daemon *d)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", d->socket);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool
daemon_answers(void *arg)
{
	struct daemon *d = arg;
	int fd;

	if (waitpid(d->pid, NULL, WNOHANG) == d->pid)
		ck_abort_msg("leasepoold exited during start-up; see %s",
		    d->log);
	if ((fd = raw_connect(d)) == -1)
		return false;
	close(fd);
	return true;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

/* A private directory with the paths of d, and the configuration file. */
static void
daemon_prepare(struct daemon *d, const char *config_text)
{
	memset(d, 0, sizeof *d);
	snprintf(d->dir, sizeof d->dir, "/tmp/lp-test-XXXXXX");
	ck_assert_msg(mkdtemp(d->dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(d->socket, sizeof d->socket, "%s/leasepool.sock", d->dir);
	snprintf(d->config, sizeof d->config, "%s/leasepoold.conf", d->dir);
	snprintf(d->log, sizeof d->log, "%s/leasepoold.log", d->dir);
	if (config_text != NULL)
		write_file(d->config, config_text);
}

/*
 * LP_DAEMON_WRAPPER, e.g. "valgrind --error-exitcode=99", runs the daemon
 * under another program; its words come before the daemon's.
 */
static __attribute__((noreturn)) void
exec_daemon(const struct daemon *d, bool with_config, const char *user)
{
	char wrapper[1024], *argv[64], *save;
	const char *env = getenv("LP_DAEMON_WRAPPER");
	int argc = 0;

	if (env != NULL) {
		snprintf(wrapper, sizeof wrapper, "%s", env);
		for (char *w = strtok_r(wrapper, " ", &save);
		     w != NULL && argc < 48; w = strtok_r(NULL, " ", &save))
			argv[argc++] = w;
	}
	argv[argc++] = (char *)daemon_path();
	argv[argc++] = "-v";
	if (with_config) {
		argv[argc++] = "-c";
		argv[argc++] = (char *)d->config;
	}
	if (user != NULL) {
		argv[argc++] = "-u";
		argv[argc++] = (char *)user;
	}
	argv[argc++] = "-s";
	argv[argc++] = (char *)d->socket;
	argv[argc] = NULL;
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

bool
in_path(const char *program)
{
	const char *dirs = getenv("PATH");
	char path[4096];

	if (dirs == NULL)
		dirs = "/usr/bin:/bin";
	while (*dirs != '\0') {
		size_t len = strcspn(dirs, ":");

		snprintf(path, sizeof path, "%.*s/%s", (int)len, dirs, program);
		if (access(path, X_OK) == 0)
			return true;
		dirs += len + (dirs[len] == ':');
	}
	return false;
}

#define ACTIVATE_ARGS_MAX 64

/*
 * The child under systemd-socket-activate: it binds d->socket, passes env
 * on with -E (it passes no other variable), and execs leasepoold on the
 * first connection, so the pid stays the daemon's.
 */
static __attribute__((noreturn)) void
exec_activated(const struct daemon *d, bool with_config, const char *const *env)
{
	const char *argv[ACTIVATE_ARGS_MAX];
	int argc = 0;

	argv[argc++] = "systemd-socket-activate";
	argv[argc++] = "-l";
	argv[argc++] = d->socket;
	for (; env != NULL && *env != NULL && argc < ACTIVATE_ARGS_MAX - 12;
	     env++) {
		argv[argc++] = "-E";
		argv[argc++] = *env;
	}
	argv[argc++] = daemon_path();
	argv[argc++] = "-v";
	if (with_config) {
		argv[argc++] = "-c";
		argv[argc++] = d->config;
	}
	argv[argc++] = "-s";
	argv[argc++] = d->socket;
	argv[argc] = NULL;
	execvp(argv[0], (char *const *)argv);
	dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* How a daemon is started: its environment, socket activation, a descriptor limit, -u. */
struct start_opts {
	const char *const *env;
	bool activated;
	rlim_t nofile;	  /* RLIMIT_NOFILE; 0: the test's own */
	const char *user; /* -u user, by root; NULL: none */
};

/* The directory of d becomes user's, for a daemon that becomes user before it makes its socket. */
static void
give_dir(const struct daemon *d, const char *user)
{
	struct passwd *pw = getpwnam(user);

	ck_assert_msg(pw != NULL, "no user %s", user);
	ck_assert_int_eq(chown(d->dir, pw->pw_uid, pw->pw_gid), 0);
}

static void
start(struct daemon *d, const char *config_text, const struct start_opts *o)
{
	pid_t parent = getpid();

	if (o->activated)
		ck_assert_msg(in_path("systemd-socket-activate"),
		    "systemd-socket-activate is not installed: it comes with the systemd "
		    "package (apt-get install systemd; .ci/run installs it)");
	daemon_prepare(d, config_text);
	if (o->user != NULL)
		give_dir(d, o->user);

	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		int log = open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);

		/* Never outlive the test process, however it ends. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		dup2(log, STDERR_FILENO);
		/* Workers crash on purpose here; their cores (and valgrind's) are not wanted. */
		setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
		if (o->nofile != 0)
			setrlimit(RLIMIT_NOFILE,
			    &(struct rlimit){ o->nofile, o->nofile });
		if (o->activated)
			exec_activated(d, config_text != NULL, o->env);
		for (const char *const *e = o->env; e != NULL && *e != NULL;
		     e++)
			putenv((char *)*e);
		exec_daemon(d, config_text != NULL, o->user);
	}
	ck_assert_msg(wait_until(daemon_answers, d),
	    "leasepoold did not answer on %s", d->socket);
}

void
daemon_start(struct daemon *d, const char *config_text)
{
	start(d, config_text, &(struct start_opts){ 0 });
}

void
daemon_start_env(struct daemon *d, const char *config_text,
    const char *const *env)
{
	start(d, config_text, &(struct start_opts){ .env = env });
}

void
daemon_start_nofile(struct daemon *d, const char *config_text, unsigned nofile)
{
	start(d, config_text, &(struct start_opts){ .nofile = nofile });
}

void
daemon_start_activated(struct daemon *d, const char *config_text,
    const char *const *env)
{
	start(d, config_text,
	    &(struct start_opts){ .env = env, .activated = true });
}

void
daemon_start_as(struct daemon *d, const char *config_text, const char *user)
{
	start(d, config_text, &(struct start_opts){ .user = user });
}

int
daemon_stop(struct daemon *d)
{
	int status = -1;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	if (waitpid(d->pid, &status, 0) == -1)
		status = -1;
	d->pid = 0;
	return status;
}

struct exit_wait {
	pid_t pid;
	int status;
};

static bool
exited(void *arg)
{
	struct exit_wait *w = arg;

	return waitpid(w->pid, &w->status, WNOHANG) == w->pid;
}

bool
wait_exit(pid_t pid, int *status)
{
	struct exit_wait w = { pid, -1 };
	bool ended = wait_until(exited, &w);

	*status = w.status;
	return ended;
}

/*
 * Every test's daemon is stopped as an operator would (a second SIGTERM
 * means "now"), and must exit 0: sanitizers and valgrind report their
 * findings through that status.
 */
void
daemon_cleanup(struct daemon *d)
{
	int status;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		kill(d->pid, SIGTERM);
		/* A test that failed while it held the daemon stopped (SIGSTOP). */
		kill(d->pid, SIGCONT);
		if (!wait_exit(d->pid, &status)) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, NULL, 0);
		}
		d->pid = 0;
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "leasepoold did not stop cleanly (status %#x); see %s",
		    status, d->log);
	}
	unlink(d->socket);
	unlink(d->config);
	unlink(d->log);
	rmdir(d->dir);
}

struct lp_client *
daemon_connect(const struct daemon *d)
{
	struct lp_error err;
	struct lp_client *c = lp_connect(d->socket, &err);

	ck_assert_msg(c != NULL, "lp_connect(%s): %s", d->socket, err.message);
	return c;
}

uint64_t
acquire_with(struct lp_client *c, const struct lp_acquire_opts *opts)
{
	struct lp_lease lease;
	struct lp_error err;

	ck_assert_msg(lp_acquire(c, opts, &lease, &err) == LP_OK,
	    "acquire %s: %s",
	    opts != NULL && opts->pool != NULL ? opts->pool :
						 "(the default pool)",
	    err.message);
	return lease.id;
}

uint64_t
acquire_from(struct lp_client *c, const char *pool)
{
	struct lp_acquire_opts opts = { .pool = pool };

	return acquire_with(c, &opts);
}

uint64_t
acquire(struct lp_client *c)
{
	return acquire_with(c, NULL);
}

unsigned
daemon_log_count(const struct daemon *d, const char *needle)
{
	FILE *f = fopen(d->log, "r");
	char line[4096];
	unsigned n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL)
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

bool
daemon_log_contains(const struct daemon *d, const char *needle)
{
	return daemon_log_count(d, needle) > 0;
}

struct log_wait {
	const struct daemon *d;
	const char *needle;
};

static bool
log_has(void *arg)
{
	const struct log_wait *w = arg;

	return daemon_log_contains(w->d, w->needle);
}

void
daemon_wait_log(const struct daemon *d, const char *needle)
{
	struct log_wait w = { d, needle };

	ck_assert_msg(wait_until(log_has, &w), "no '%s' in %s", needle, d->log);
}

struct reload_wait {
	const struct daemon *d;
	unsigned before; /* reloads logged before this one */
};

static bool
reloaded_again(void *arg)
{
	const struct reload_wait *w = arg;

	return daemon_log_count(w->d, "configuration reloaded") > w->before;
}

void
daemon_write_config(const struct daemon *d, const char *config_text)
{
	write_file(d->config, config_text);
}

void
daemon_reload(const struct daemon *d, const char *config_text)
{
	struct reload_wait w = { d,
		daemon_log_count(d, "configuration reloaded") };

	daemon_write_config(d, config_text);
	ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	ck_assert_msg(wait_until(reloaded_again, &w),
	    "the reload was not logged");
}

static const msgpack_object *
map_lookup(const msgpack_object *m, const char *key, size_t len)
{
	if (m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
		    memcmp(k->via.str.ptr, key, len) == 0)
			return &m->via.map.ptr[i].val;
	}
	return NULL;
}

const msgpack_object *
object_at(const msgpack_object *o, const char *path)
{
	while (o != NULL && *path != '\0') {
		const char *dot = strchr(path, '.');
		size_t len = dot != NULL ? (size_t)(dot - path) : strlen(path);

		o = map_lookup(o, path, len);
		path += len + (dot != NULL);
	}
	return o;
}

long long
int_at(const msgpack_object *map, const char *path)
{
	const msgpack_object *o = object_at(map, path);
	long long result = -1;

	if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		result = (long long)o->via.u64;
	else if (o != NULL && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		result = o->via.i64;
	else if (o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN)
		result = o->via.boolean;
	return result;
}

long long
stats_int(struct lp_client *c, const char *path)
{
	struct lp_value *v;
	struct lp_error err;
	long long result;

	if (lp_stats(c, NULL, &v, &err) != LP_OK)
		ck_abort_msg("stats: %s", err.message);
	result = int_at(lp_value_object(v), path);
	lp_value_free(v);
	return result;
}

double
stats_double(struct lp_client *c, const char *path)
{
	const msgpack_object *o;
	struct lp_value *v;
	struct lp_error err;
	double result = NAN;

	if (lp_stats(c, NULL, &v, &err) != LP_OK)
		ck_abort_msg("stats: %s", err.message);
	o = object_at(lp_value_object(v), path);
	if (o != NULL &&
	    (o->type == MSGPACK_OBJECT_FLOAT64 ||
		o->type == MSGPACK_OBJECT_FLOAT32))
		result = o->via.f64;
	else if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		result = (double)o->via.u64;
	lp_value_free(v);
	return result;
}

struct stats_wait {
	struct lp_client *c;
	const char *path;
	long long want;
};

static bool
stats_reached(void *arg)
{
	struct stats_wait *w = arg;

	return stats_int(w->c, w->path) == w->want;
}

bool
wait_stats(struct lp_client *c, const char *path, long long want)
{
	struct stats_wait w = { c, path, want };

	return wait_until(stats_reached, &w);
}

/* Reads fd until EOF or the deadline, keeping what fits in buf (NUL-terminated); how much. */
static size_t
read_until_eof(int fd, char *buf, size_t len, double until)
{
	char scratch[4096];
	size_t used = 0;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double left = until - monotonic();
		size_t keep;
		ssize_t n;

		if (left <= 0 || poll(&pfd, 1, (int)(left * 1000) + 1) == 0)
			break;
		if ((n = read(fd, scratch, sizeof scratch)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		keep = (size_t)n < len - 1 - used ? (size_t)n : len - 1 - used;
		memcpy(buf + used, scratch, keep);
		used += keep;
	}
	buf[used] = '\0';
	return used;
}

struct reap {
	pid_t pid;
	int status;
};

static bool
reaped(void *arg)
{
	struct reap *r = arg;

	return waitpid(r->pid, &r->status, WNOHANG) == r->pid;
}

int
daemon_run_once(const char *config_text, bool check_only, char *output,
    size_t len)
{
	return daemon_run_once_at(NULL, config_text, check_only, output, len);
}

int
daemon_run_once_at(const char *socket, const char *config_text, bool check_only,
    char *output, size_t len)
{
	pid_t parent = getpid();
	struct daemon d;
	struct reap r;
	int out[2];

	daemon_prepare(&d, config_text);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	d.pid = fork();
	ck_assert_int_ge(d.pid, 0);
	if (d.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		execl(daemon_path(), "leasepoold", check_only ? "-t" : "-v",
		    "-c", d.config, "-s", socket != NULL ? socket : d.socket,
		    (char *)NULL);
		dprintf(STDERR_FILENO, "exec %s: %s\n", daemon_path(),
		    strerror(errno));
		_exit(127);
	}
	close(out[1]);
	/* EOF comes when it exits: a daemon that started keeps its stderr open. */
	read_until_eof(out[0], output, len, monotonic() + HARNESS_WAIT_SECONDS);
	close(out[0]);
	r = (struct reap){ .pid = d.pid, .status = -1 };
	if (!wait_until(reaped, &r)) {
		daemon_cleanup(&d);
		ck_abort_msg(
		    "leasepoold %s was still running after %.0f s; it said: %s",
		    check_only ? "-t" : "", HARNESS_WAIT_SECONDS, output);
	}
	d.pid = 0;
	daemon_cleanup(&d);
	return r.status;
}

/* The parent pid of pid from /proc/PID/stat, its name (comm) into name, its state into *state. */
static pid_t
proc_stat_head(pid_t pid, char *name, size_t len, char *state)
{
	char path[64], line[1024], *open, *close;
	FILE *f;
	pid_t ppid = 0;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
	if (fgets(line, sizeof line, f) != NULL &&
	    (open = strchr(line, '(')) != NULL &&
	    (close = strrchr(line, ')')) != NULL &&
	    sscanf(close + 1, " %c %d", state, &ppid) == 2)
		snprintf(name, len, "%.*s", (int)(close - open - 1), open + 1);
	fclose(f);
	return ppid;
}

pid_t
fork_server_of(const struct daemon *d)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	ck_assert_ptr_nonnull(dir);
	while (found == 0 && (e = readdir(dir)) != NULL) {
		pid_t pid = (pid_t)atoi(e->d_name);
		char name[64] = "", state;

		if (pid > 0 &&
		    proc_stat_head(pid, name, sizeof name, &state) == d->pid &&
		    strcmp(name, "leasepool-fork") == 0)
			found = pid;
	}
	closedir(dir);
	return found;
}

struct fork_server_change {
	const struct daemon *d;
	pid_t old;
};

static bool
fork_server_replaced(void *arg)
{
	struct fork_server_change *fc = arg;
	pid_t now = fork_server_of(fc->d);

	return now != 0 && now != fc->old;
}

void
kill_fork_server(const struct daemon *d)
{
	struct fork_server_change fc = { d, fork_server_of(d) };

	ck_assert_int_ne(fc.old, 0);
	kill(fc.old, SIGKILL);
	ck_assert_msg(wait_until(fork_server_replaced, &fc),
	    "the fork server %d was not replaced", (int)fc.old);
}

struct lp_args *
one_number(double v)
{
	struct lp_args *a = lp_args_new();

	lp_args_double(a, v);
	return a;
}

void
acquire_async(struct lp_client *c, double timeout, lp_done_cb *done, void *arg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct lp_error err;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, timeout > 0);
	if (timeout > 0) {
		lp_pack_cstr(&pk, "timeout");
		msgpack_pack_double(&pk, timeout);
	}
	ck_assert(lp_call_async(c, "acquire", sb.data, sb.size, done, arg,
		      &err) == LP_OK);
	ck_assert(lp_client_process(c, &err) == LP_OK);
	msgpack_sbuffer_destroy(&sb);
}

void
sleep_async(struct lp_client *c, uint64_t lease, const char *pool,
    double seconds, double timeout, lp_done_cb *done, void *arg)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct lp_error err;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	if (lease != 0) {
		lp_pack_cstr(&pk, "lease");
		msgpack_pack_uint64(&pk, lease);
	} else {
		lp_pack_cstr(&pk, "pool");
		lp_pack_cstr(&pk, pool);
	}
	lp_pack_cstr(&pk, "fn");
	lp_pack_cstr(&pk, "sleep");
	lp_pack_cstr(&pk, "args");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_double(&pk, seconds);
	lp_pack_cstr(&pk, "timeout");
	msgpack_pack_double(&pk, timeout);
	ck_assert(lp_call_async(c, lease != 0 ? "run" : "submit", sb.data,
		      sb.size, done, arg, &err) == LP_OK);
	msgpack_sbuffer_destroy(&sb);
}

void
record(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	static int answered;
	struct outcome *o = arg;

	o->done++;
	o->code = code;
	o->order = ++answered;
	if (err != NULL) {
		o->signal = err->signal;
		snprintf(o->message, sizeof o->message, "%s", err->message);
	}
	if (result != NULL) {
		o->truth = lp_value_bool(result);
		o->value = lp_value_int(result);
		lp_value_free(result);
	}
}

struct pending {
	struct lp_client *c;
	const struct outcome *o;
};

static bool
completed(void *arg)
{
	struct pending *p = arg;
	struct lp_error err;

	lp_client_process(p->c, &err);
	return p->o->done > 0;
}

void
wait_outcome(struct lp_client *c, const struct outcome *o)
{
	struct pending p = { c, o };

	ck_assert_msg(wait_until(completed, &p), "no answer came");
}

char
proc_state(pid_t pid)
{
	char name[64], state = '?';

	proc_stat_head(pid, name, sizeof name, &state);
	return state;
}

long
proc_status_kib(pid_t pid, const char *name)
{
	char path[64], line[256];
	size_t len = strlen(name);
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s: %s", path,
	    strerror(errno));
	while (kib == -1 && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, name, len) == 0 && line[len] == ':')
			kib = strtol(line + len + 1, NULL, 10);
	fclose(f);
	ck_assert_msg(kib >= 0, "no %s in %s", name, path);
	return kib;
}

int
proc_fd_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	ck_assert_msg((dir = opendir(path)) != NULL, "%s: %s", path,
	    strerror(errno));
	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

void
fill_pattern(char *buf, size_t len)
{
	uint32_t state = 12345;

	for (size_t i = 0; i < len; i++) {
		state = state * 1103515245u + 12345u;
		buf[i] = (char)(state >> 16);
	}
}

void
daemon_open_to_others(const struct daemon *d)
{
	ck_assert_msg(chmod(d->dir, 0711) == 0, "chmod %s: %s", d->dir,
	    strerror(errno));
}

static void
write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(1);
		data += n;
		len -= (size_t)n;
	}
}

/*
 * The child of other_user_start: it answers on out with 'k' and what fn
 * packed, or 'e' and why not, then waits for hold to close.
 */
static __attribute__((noreturn)) void
be_other_user(const struct daemon *d, uid_t uid, gid_t gid, other_user_fn *fn,
    void *arg, int out, int hold)
{
	struct lp_error err = { .code = LP_OK };
	struct lp_client *c = NULL;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char byte;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		dprintf(out, "ecannot become uid %u gid %u: %s", (unsigned)uid,
		    (unsigned)gid, strerror(errno));
		_exit(1);
	}
	if ((c = lp_connect(d->socket, &err)) == NULL ||
	    !fn(c, &pk, arg, &err)) {
		dprintf(out, "e%s: %s", lp_err_name(err.code), err.message);
		_exit(1);
	}
	write_all(out, "k", 1);
	write_all(out, sb.data, sb.size);
	close(out);
	while (read(hold, &byte, 1) == -1 && errno == EINTR)
		continue;
	lp_client_free(c);
	_exit(0);
}

void
other_user_spawn(struct other_user *o, const struct daemon *d, uid_t uid,
    gid_t gid, other_user_fn *fn, void *arg)
{
	pid_t parent = getpid();
	int out[2], hold[2];

	/* Close on exec: a program the test runs meanwhile must not keep the child waiting. */
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
	o->pid = fork();
	ck_assert_int_ge(o->pid, 0);
	if (o->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		close(out[0]);
		close(hold[1]);
		be_other_user(d, uid, gid, fn, arg, out[1], hold[0]);
	}
	close(out[1]);
	close(hold[0]);
	o->uid = uid;
	o->out = out[0];
	o->hold = hold[1];
}

void
other_user_wait(struct other_user *o)
{
	size_t len;

	len = read_until_eof(o->out, o->data, sizeof o->data,
	    monotonic() + HARNESS_WAIT_SECONDS);
	close(o->out);
	ck_assert_msg(len > 0 && o->data[0] == 'k', "as uid %u: %s",
	    (unsigned)o->uid, len > 0 ? o->data + 1 : "no answer");
	ck_assert_msg(len < sizeof o->data - 1, "as uid %u: an answer too long",
	    (unsigned)o->uid);
	msgpack_unpacked_init(&o->reply);
	ck_assert(msgpack_unpack_next(&o->reply, o->data + 1, len - 1, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
}

void
other_user_start(struct other_user *o, const struct daemon *d, uid_t uid,
    gid_t gid, other_user_fn *fn, void *arg)
{
	other_user_spawn(o, d, uid, gid, fn, arg);
	other_user_wait(o);
}

void
other_user_end(struct other_user *o)
{
	struct reap r = { .pid = o->pid, .status = -1 };

	close(o->hold);
	ck_assert_msg(wait_until(reaped, &r),
	    "the other user's process %d did not exit", (int)o->pid);
	ck_assert_msg(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0,
	    "the other user's process ended with status %#x", r.status);
	msgpack_unpacked_destroy(&o->reply);
}

struct lp_args *
exec_args(const char *const argv[], const char *input, size_t len)
{
	struct lp_args *a = lp_args_new();
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t argc = 0;

	while (argv[argc] != NULL)
		argc++;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, argc);
	for (uint32_t i = 0; i < argc; i++)
		lp_pack_cstr(&pk, argv[i]);
	lp_kwargs_raw(a, "argv", sb.data, sb.size);
	if (input != NULL)
		lp_kwargs_bin(a, "stdin", input, len);
	msgpack_sbuffer_destroy(&sb);
	return a;
}

/* cancel with params {key: id}; the test fails unless it succeeds. */
struct cancelled
cancel_by(struct lp_client *c, const char *key, uint64_t id)
{
	struct cancelled got;
	struct lp_value *v;
	struct lp_error err;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	lp_pack_cstr(&pk, key);
	msgpack_pack_uint64(&pk, id);
	ck_assert_msg(lp_call(c, "cancel", sb.data, sb.size, &v, &err) == LP_OK,
	    "cancel: %s", err.message);
	msgpack_sbuffer_destroy(&sb);
	got.queued = int_at(lp_value_object(v), "queued");
	got.running = int_at(lp_value_object(v), "running");
	got.finished = int_at(lp_value_object(v), "finished");
	lp_value_free(v);
	return got;
}

void
assert_crash_loop(const struct daemon *d, struct lp_client *c, const char *pool)
{
	struct lp_acquire_opts opts = { .timeout = HARNESS_WAIT_SECONDS };
	struct lp_lease lease;
	struct lp_error err;
	char said[128];

	ck_assert_int_eq(lp_acquire(c, &opts, &lease, &err),
	    LP_ERR_UNAVAILABLE);
	ck_assert_msg(strstr(err.message, "crash loop") != NULL, "%s",
	    err.message);
	snprintf(said, sizeof said, "pool %s: CRASH LOOP", pool);
	daemon_wait_log(d, said);
}
