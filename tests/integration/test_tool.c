/* SPDX-License-Identifier: ISC */
/*
 * The leasepool tool as scripts use it: a separate program against a real
 * daemon, judged by its stdout, its stderr and its exit status.
 */
#include <check.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/integration/program.h"
#include "tests/suites.h"

/* The exit statuses documented in `leasepool help`. */
enum {
	OK = 0,
	JOB_FAILED = 1,
	USAGE = 2,
	UNREACHABLE = 3,
	BUSY = 4,
	REFUSED = 5,
	DENIED = 7,
	EXEC_TIMED_OUT = 124,
	EXEC_FAILED = 125,
	EXEC_CANNOT_START = 127,
};

#define ARGS_MAX 16

/* One executor, so that a test can hold all of them; exec allowed but on noexec. */
#define POOLS \
	"[pool cpu]\n" \
	"executors_min = 1\n" \
	"executors_max = 1\n" \
	"workers = 2\n" \
	"exec = yes\n" \
	"[pool noexec]\n" \
	"executors_min = 0\n" \
	"executors_max = 1\n" \
	"workers = 1\n"

static struct program p;

static void
start(void)
{
	daemon_start(&d, POOLS);
}

/* The same pools, with a socket other users may reach. */
static void
start_shared(void)
{
	daemon_start(&d, "[daemon]\nsocket_mode = 0666\n" POOLS);
	daemon_open_to_others(&d);
}

/* Runs `leasepool -s SOCKET args...` with len bytes of input, its stdout to out (-1: p.out). */
static int
tool_va(const char *input, size_t len, int out, const char *arg, va_list ap)
{
	char *argv[ARGS_MAX] = { (char *)program_tool(), "-s", d.socket };
	int argc = 3;

	for (; arg != NULL; arg = va_arg(ap, const char *)) {
		ck_assert_int_lt(argc, ARGS_MAX - 1);
		argv[argc++] = (char *)arg;
	}
	argv[argc] = NULL;
	return program_run_bytes(&p, argv, NULL, input, len, out);
}

/* The same (the list ends with NULL) with a string on stdin. */
static int
tool_input(const char *input, const char *arg, ...)
{
	va_list ap;
	int status;

	va_start(ap, arg);
	status = tool_va(input, input != NULL ? strlen(input) : 0, -1, arg, ap);
	va_end(ap);
	return status;
}

/* The same with any bytes on stdin, and stdout to the file out. */
static int
tool_bytes(const char *input, size_t len, int out, const char *arg, ...)
{
	va_list ap;
	int status;

	va_start(ap, arg);
	status = tool_va(input, len, out, arg, ap);
	va_end(ap);
	return status;
}

#define tool(...) tool_input(NULL, __VA_ARGS__, (const char *)NULL)

static void
assert_error(int status, int want, const char *code)
{
	char prefix[64];

	snprintf(prefix, sizeof prefix, "leasepool: %s: ", code);
	ck_assert_msg(status == want, "exit status %d, wanted %d; stderr: %s",
	    status, want, p.err);
	ck_assert_msg(strncmp(p.err, prefix, strlen(prefix)) == 0, "stderr: %s",
	    p.err);
	ck_assert_str_eq(p.out, "");
}

static uint64_t
hold_lease(struct lp_client *c)
{
	struct lp_acquire_opts opts = { .owner = "held by the test" };
	struct lp_lease lease;
	struct lp_error err;

	ck_assert_msg(lp_acquire(c, &opts, &lease, &err) == LP_OK,
	    "acquire: %s", err.message);
	return lease.id;
}

START_TEST(ping_through_the_environment)
{
	char *argv[] = { (char *)program_tool(), "ping", NULL };
	char pid[32];

	ck_assert_int_eq(program_run(&p, argv, d.socket, NULL), OK);
	snprintf(pid, sizeof pid, "pid %d,", (int)d.pid);
	ck_assert_msg(strstr(p.out, "protocol 1, ") != NULL, "%s", p.out);
	ck_assert_msg(strstr(p.out, pid) != NULL, "%s", p.out);
	ck_assert_msg(
	    strstr(p.out, " ms\npools: cpu (exec) noexec\nfunctions: ") != NULL,
	    "%s", p.out);
	ck_assert_str_eq(p.err, "");
}
END_TEST

START_TEST(stats_table_shows_pools_and_leases)
{
	struct lp_client *c = daemon_connect(&d);

	hold_lease(c);
	ck_assert_int_eq(tool("stats"), OK);
	ck_assert_msg(strstr(p.out, "POOL    BACKEND  WORKERS") != NULL, "%s",
	    p.out);
	ck_assert_msg(strstr(p.out, "\ncpu     process        2") != NULL, "%s",
	    p.out);
	ck_assert_msg(strstr(p.out, "\nGRINDER  QUEUED  RUNNING  BATCHES") !=
		NULL,
	    "%s", p.out);
	ck_assert_msg(strstr(p.out, "FAILED  BATCH  WAIT  OLDEST\n") != NULL,
	    "%s", p.out);
	ck_assert_msg(strstr(p.out, "held by the test  active") != NULL, "%s",
	    p.out);
	lp_client_free(c);
}
END_TEST

/*
 * Another user's table lists its own leases and counts ours, and its
 * Prometheus text counts them all (it listed ours: owner, pid, uid).
 */
START_TEST(stats_of_another_user_count_our_leases)
{
	char *as_nobody[] = { "/usr/bin/setpriv", "--reuid=nobody",
		"--regid=nogroup", "--clear-groups", (char *)program_tool(),
		"-s", d.socket, "stats", NULL, NULL };
	struct lp_client *c = daemon_connect(&d);

	hold_lease(c);
	ck_assert_int_eq(program_run(&p, as_nobody, NULL, NULL), OK);
	ck_assert_msg(strstr(p.out, "held by the test") == NULL, "%s", p.out);
	ck_assert_msg(strstr(p.out,
			  "\nno live leases of yours\n"
			  "1 lease of other users, not shown\n") != NULL,
	    "%s", p.out);
	as_nobody[8] = "--prometheus";
	ck_assert_int_eq(program_run(&p, as_nobody, NULL, NULL), OK);
	ck_assert_msg(
	    strstr(p.out,
		"\nleasepool_leases{pool=\"cpu\",state=\"active\"} 1\n") !=
		NULL,
	    "%s", p.out);
	lp_client_free(c);
}
END_TEST

/* The tool's own JSON parser (jansson) reads it back: echo returns the same object. */
START_TEST(stats_json_is_json)
{
	char json[sizeof p.out];

	ck_assert_int_eq(tool("stats", "--json"), OK);
	ck_assert_int_eq(p.out[0], '{');
	snprintf(json, sizeof json, "%s", p.out);
	ck_assert_int_eq(tool("run", "echo", json), OK);
	ck_assert_msg(strncmp(p.out, "{\"version\":\"", 12) == 0, "%s", p.out);
	ck_assert_msg(
	    strstr(p.out, ",\"pools\":{\"cpu\":{\"backend\":\"process\",") !=
		NULL,
	    "%s", p.out);
}
END_TEST

/* What echo gives back for an argument: the same JSON, or the plain word as a string. */
static const struct {
	const char *arg;
	const char *out;
} echoes[] = {
	{ "42", "42" },
	{ "-7", "-7" },
	{ "9223372036854775807", "9223372036854775807" },
	{ "-9223372036854775808", "-9223372036854775808" },
	{ "1.5", "1.5" },
	{ "0.1", "0.1" },
	{ "1e300", "1e300" },
	{ "2.0", "2.0" },
	{ "true", "true" },
	{ "null", "null" },
	{ "\"42\"", "\"42\"" },
	{ "hello", "\"hello\"" },
	{ "hello world", "\"hello world\"" },
	{ "", "\"\"" },
	{ "-x", "\"-x\"" },
	{ "--kw", "\"--kw\"" },
	{ "{not json", "\"{not json\"" },
	{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
	{ "\"tab\\tquote\\\"\"", "\"tab\\tquote\\\"\"" },
	{ "[1,[2,[3,[]]],{\"a\":null}]", "[1,[2,[3,[]]],{\"a\":null}]" },
	{ "{\"k\":\"v\",\"n\":[1,2.5,-3],\"o\":{},\"b\":false}",
	    "{\"k\":\"v\",\"n\":[1,2.5,-3],\"o\":{},\"b\":false}" },
	{ "{\"$base64\":\"AAEC/w==\"}", "{\"$base64\":\"AAEC/w==\"}" },
	{ "{\"$base64\":\"aGk=\"}", "\"hi\"" },
	{ "{\"$base64\":\"no base64!\"}", "{\"$base64\":\"no base64!\"}" },
};

START_TEST(run_echo_round_trips)
{
	char want[256];

	snprintf(want, sizeof want, "%s\n", echoes[_i].out);
	ck_assert_msg(tool("run", "echo", echoes[_i].arg) == OK, "%s: %s",
	    echoes[_i].arg, p.err);
	ck_assert_str_eq(p.out, want);
	ck_assert_str_eq(p.err, "");
}
END_TEST

/* echo takes exactly one argument: its refusals show what reached it. */
START_TEST(run_passes_kwargs_and_only_the_first_word_is_fn)
{
	assert_error(tool("run", "echo", "3", "4"), REFUSED,
	    "INVALID_ARGUMENT");
	ck_assert_msg(strstr(p.err, "echo takes exactly one argument") != NULL,
	    "%s", p.err);
	assert_error(tool("run", "--kw", "n=[1]", "--kw", "s=x=y", "echo", "3"),
	    REFUSED, "INVALID_ARGUMENT");
	ck_assert_int_eq(tool("run", "echo", "3"), OK);
	ck_assert_str_eq(p.out, "3\n");
}
END_TEST

START_TEST(submit_prints_the_result)
{
	ck_assert_int_eq(tool("submit", "echo", "{\"a\":[1]}"), OK);
	ck_assert_str_eq(p.out, "{\"a\":[1]}\n");
}
END_TEST

/* drain, resume, reload, config: what an administrator types, as the daemon's own user. */
START_TEST(drain_stops_the_pool_until_resume)
{
	ck_assert_int_eq(tool("drain"), OK);
	ck_assert_str_eq(p.out,
	    "pools cpu, noexec: draining (no new lease until resumed); "
	    "0 executors leased\n");
	assert_error(tool("-n", "run", "echo", "1"), BUSY, "UNAVAILABLE");
	ck_assert_msg(strstr(p.err, "pool 'cpu' is draining") != NULL, "%s",
	    p.err);
	ck_assert_int_eq(tool("stats"), OK);
	ck_assert_msg(strstr(p.out, "\ncpu (draining)  ") != NULL, "%s", p.out);
	ck_assert_int_eq(tool("-p", "cpu", "resume"), OK);
	ck_assert_str_eq(p.out,
	    "pools cpu: granting leases; 0 executors leased\n");
	/* Granted again, if perhaps not at once: an executor may still be starting. */
	ck_assert_int_eq(tool("-t", "20", "run", "echo", "1"), OK);
	assert_error(tool("-p", "nowhere", "drain"), REFUSED, "NO_SUCH_POOL");
}
END_TEST

START_TEST(reload_says_what_changed)
{
	char want[256];

	ck_assert_int_eq(tool("reload"), OK);
	snprintf(want, sizeof want, "reloaded %s: 0 keys changed\n", d.config);
	ck_assert_str_eq(p.out, want);
}
END_TEST

/* The running configuration in the file's own form: every pool, every key. */
START_TEST(config_prints_the_running_configuration)
{
	char want[512];

	ck_assert_int_eq(tool("config"), OK);
	snprintf(want, sizeof want,
	    "# the configuration of a running leasepoold, from %s\n"
	    "[daemon]\nsocket = %s\nsocket_mode = 0600\n",
	    d.config, d.socket);
	ck_assert_msg(strncmp(p.out, want, strlen(want)) == 0, "%s", p.out);
	ck_assert_msg(strstr(p.out, "\nmodules =\n") != NULL, "%s", p.out);
	ck_assert_msg(strstr(p.out, "\n\n[pool cpu]\nbackend = process\n") !=
		NULL,
	    "%s", p.out);
	ck_assert_msg(strstr(p.out, "\nworkers = 2\n") != NULL, "%s", p.out);
	ck_assert_msg(strstr(p.out, "\nexec = yes\n") != NULL, "%s", p.out);
	ck_assert_msg(strstr(p.out, "\n\n[pool noexec]\n") != NULL, "%s",
	    p.out);
	ck_assert_int_eq(tool("config", "--json"), OK);
	ck_assert_msg(strstr(p.out, "\"exec\": \"no\"") != NULL, "%s", p.out);
}
END_TEST

/* The error names the command that the user types to look, not the protocol's method. */
START_TEST(unknown_function_is_refused)
{
	assert_error(tool("run", "no.such.function"), REFUSED,
	    "NO_SUCH_FUNCTION");
	ck_assert_str_eq(p.err,
	    "leasepool: NO_SUCH_FUNCTION: no function named 'no.such.function' "
	    "(leasepool ping lists them)\n");
	assert_error(tool("-p", "nowhere", "run", "echo", "1"), REFUSED,
	    "NO_SUCH_POOL");
	ck_assert_str_eq(p.err,
	    "leasepool: NO_SUCH_POOL: no pool named 'nowhere' "
	    "(leasepool ping lists them)\n");
}
END_TEST

START_TEST(failed_job_is_the_jobs_problem)
{
	assert_error(tool("-j", "0.2", "run", "sleep", "30"), JOB_FAILED,
	    "JOB_TIMEOUT");
	/* A built-in's bad argument is the caller's, not the job's: refused. */
	assert_error(tool("run", "sleep", "-1"), REFUSED, "INVALID_ARGUMENT");
}
END_TEST

/* Every one of these is a mistake on the command line. */
static const char *const usages[][4] = {
	{ NULL },
	{ "frobnicate", NULL },
	{ "run", NULL },
	{ "run", "--kw", NULL },
	{ "run", "--kw", "novalue", "echo" },
	{ "run", "--bogus", "echo", NULL },
	{ "-t", "0", "ping", NULL },
	{ "-j", "soon", "ping", NULL },
	{ "-x", "ping", NULL },
	{ "ping", "extra", NULL },
	{ "stats", "--table", NULL },
	{ "exec", NULL },
	{ "exec", "-Z", "true", NULL },
	{ "--pool", NULL },
	{ "--bogus", "ping", NULL },
	{ "exec", "--directory", NULL },
	/* Options that the command would ignore. */
	{ "-j", "5", "ping", NULL },
	{ "-j", "5", "stats", NULL },
	{ "-p", "cpu", "ping", NULL },
	{ "-t", "5", "stats", NULL },
	{ "-n", "stats", NULL },
	{ "-o", "x", "stats", NULL },
	{ "-n", "submit", "echo", NULL },
	{ "-t", "5", "submit", "echo" },
	{ "-j", "5", "submit", "echo" },
	{ "--owner=x", "submit", "echo", NULL },
	{ "-p", "cpu", "help", NULL },
	{ "drain", "cpu", NULL },
	{ "resume", "cpu", NULL },
	{ "reload", "now", NULL },
	{ "config", "--ini", NULL },
	{ "-n", "drain", NULL },
	{ "-j", "5", "resume", NULL },
	{ "-p", "cpu", "reload", NULL },
	{ "-p", "cpu", "config", NULL },
};

START_TEST(bad_usage_exits_2)
{
	const char *const *u = usages[_i];

	assert_error(
	    tool_input(NULL, u[0], u[1], u[2], u[3], (const char *)NULL), USAGE,
	    "USAGE");
}
END_TEST

START_TEST(ignored_option_is_named)
{
	assert_error(tool("--job-timeout", "5", "ping"), USAGE, "USAGE");
	ck_assert_msg(
	    strncmp(p.err,
		"leasepool: USAGE: ping takes no -j (--job-timeout)\n",
		strlen(
		    "leasepool: USAGE: ping takes no -j (--job-timeout)\n")) ==
		0,
	    "%s", p.err);
	ck_assert_int_eq(tool("-p", "cpu", "stats", "--json"), OK);
	ck_assert_int_eq(tool("-p", "cpu", "submit", "echo", "1"), OK);
}
END_TEST

START_TEST(help_documents_the_exit_statuses)
{
	ck_assert_int_eq(tool("help"), OK);
	ck_assert_msg(
	    strstr(p.out,
		"exit status:\n  0    success\n  1    the job failed") != NULL,
	    "%s", p.out);
	ck_assert_msg(
	    strstr(p.out,
		"  6    protocol or internal error\n  7    the daemon's socket may "
		"not be used") != NULL,
	    "%s", p.out);
	ck_assert_msg(strstr(p.out, "\n  130  interrupted: Ctrl-C") != NULL,
	    "%s", p.out);
}
END_TEST

START_TEST(help_and_version_long_and_short)
{
	ck_assert_int_eq(tool("--version"), OK);
	ck_assert_str_eq(p.out, "leasepool " LP_VERSION "\n");
	ck_assert_int_eq(tool("-V"), OK);
	ck_assert_str_eq(p.out, "leasepool " LP_VERSION "\n");
	ck_assert_int_eq(tool("--help"), OK);
	ck_assert_msg(strstr(p.out, "\n  -V, --version ") != NULL, "%s", p.out);
	ck_assert_msg(strstr(p.out, "\n  -j, --job-timeout=seconds ") != NULL,
	    "%s", p.out);
	ck_assert_msg(strstr(p.out, "\n       leasepool -h | -V\n") != NULL,
	    "%s", p.out);
	ck_assert_str_eq(p.err, "");
}
END_TEST

START_TEST(long_options_mean_the_short_ones)
{
	char *argv[] = { (char *)program_tool(), "--socket", d.socket,
		"--pool=cpu", "--timeout", "20", "--job-timeout=10", "--owner",
		"long options", "run", "echo", "1", NULL };
	struct lp_client *c = daemon_connect(&d);

	ck_assert_msg(program_run(&p, argv, NULL, NULL) == OK, "%s", p.err);
	ck_assert_str_eq(p.out, "1\n");
	ck_assert_int_eq(tool("exec", "--directory=/", "pwd"), OK);
	ck_assert_str_eq(p.out, "/\n");
	hold_lease(c);
	assert_error(tool("--nowait", "run", "echo", "1"), BUSY, "UNAVAILABLE");
	lp_client_free(c);
}
END_TEST

/* Where the socket came from, and how to choose another. */
START_TEST(no_daemon_exits_3)
{
	char dir[] = "/tmp/lp-runtime.XXXXXX", want[512];
	char *plain[] = { (char *)program_tool(), "ping", NULL };
	char *given[] = { (char *)program_tool(), "-s",
		"/nonexistent/leasepool.sock", "ping", NULL };

	ck_assert_int_eq(program_run(&p, given, NULL, NULL), UNREACHABLE);
	ck_assert_str_eq(p.err,
	    "leasepool: SYSTEM: cannot connect to leasepoold: "
	    "/nonexistent/leasepool.sock: No such file or directory (given by -s)\n");
	ck_assert_int_eq(
	    program_run(&p, plain, "/nonexistent/leasepool.sock", NULL),
	    UNREACHABLE);
	ck_assert_str_eq(p.err,
	    "leasepool: SYSTEM: cannot connect to leasepoold: "
	    "/nonexistent/leasepool.sock: No such file or directory "
	    "(given by LEASEPOOL_SOCKET; -s chooses another)\n");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("XDG_RUNTIME_DIR", dir, 1);
	ck_assert_int_eq(program_run(&p, plain, NULL, NULL), UNREACHABLE);
	snprintf(want, sizeof want,
	    "leasepool: SYSTEM: cannot connect to leasepoold: no leasepoold "
	    "socket at /run/leasepool/leasepool.sock, %s/leasepool.sock, /tmp/leasepool-%u.sock: "
	    "start leasepoold, or set -s or LEASEPOOL_SOCKET to its socket\n",
	    dir, (unsigned)getuid());
	ck_assert_str_eq(p.err, want);
	rmdir(dir);
}
END_TEST

/* A socket with nobody listening: enough for connect() to say what it thinks of us. */
static void
bind_at(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
}

START_TEST(permission_denied_has_its_own_status)
{
	char dir[] = "/tmp/lp-denied.XXXXXX", path[64], want[256];
	/* root may connect anywhere: nobody may not. */
	char *as_nobody[] = { "/usr/bin/setpriv", "--reuid=nobody",
		"--regid=nogroup", "--clear-groups", (char *)program_tool(),
		"-s", path, "ping", NULL };
	char *plain[] = { (char *)program_tool(), "ping", NULL };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/leasepool.sock", dir);
	bind_at(path);
	ck_assert_int_eq(chmod(path, 0), 0);
	ck_assert_int_eq(program_run(&p,
			     getuid() == 0 ? as_nobody : as_nobody + 4, NULL,
			     NULL),
	    DENIED);
	snprintf(want, sizeof want,
	    "leasepool: PERMISSION_DENIED: may not use leasepoold's socket: "
	    "%s: Permission denied (given by -s)\n",
	    path);
	ck_assert_str_eq(p.err, want);

	/* A default socket in a directory that anyone may write to could be anyone's. */
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	setenv("XDG_RUNTIME_DIR", dir, 1);
	ck_assert_int_eq(program_run(&p, plain, NULL, NULL), DENIED);
	snprintf(want, sizeof want,
	    "leasepool: PERMISSION_DENIED: may not use leasepoold's socket: "
	    "not using %s: ",
	    path);
	ck_assert_msg(strncmp(p.err, want, strlen(want)) == 0, "%s", p.err);
	ck_assert_msg(
	    strstr(p.err,
		"(set -s or LEASEPOOL_SOCKET to the socket to use)\n") != NULL,
	    "%s", p.err);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(full_pool_is_busy)
{
	struct lp_client *c = daemon_connect(&d);

	hold_lease(c);
	assert_error(tool("-n", "run", "echo", "1"), BUSY, "UNAVAILABLE");
	assert_error(tool("-t", "0.2", "run", "echo", "1"), BUSY, "TIMEOUT");
	lp_client_free(c);
	ck_assert_int_eq(tool("-t", "20", "run", "echo", "1"), OK);
}
END_TEST

/* What a program run on a pseudo-terminal has written to it so far. */
struct terminal {
	int fd; /* the master side, non-blocking */
	pid_t pid;
	char text[4096];
	size_t len;
	const char *needle;
};

static void
terminal_run(struct terminal *term, char *const argv[])
{
	pid_t parent = getpid();

	term->len = 0;
	term->text[0] = '\0';
	term->pid = forkpty(&term->fd, NULL, NULL, NULL);
	ck_assert_int_ge(term->pid, 0);
	if (term->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_eq(fcntl(term->fd, F_SETFL, O_NONBLOCK), 0);
}

static bool
terminal_shows(void *arg)
{
	struct terminal *term = arg;
	ssize_t n;

	while (term->len < sizeof term->text - 1 &&
	    (n = read(term->fd, term->text + term->len,
		 sizeof term->text - 1 - term->len)) > 0) {
		term->len += (size_t)n;
		term->text[term->len] = '\0';
	}
	return strstr(term->text, term->needle) != NULL;
}

static void
terminal_wait_for(struct terminal *term, const char *needle)
{
	term->needle = needle;
	ck_assert_msg(wait_until(terminal_shows, term),
	    "the terminal shows: %s", term->text);
}

static unsigned
count(const char *text, const char *needle)
{
	unsigned n = 0;

	for (; (text = strstr(text, needle)) != NULL; text++)
		n++;
	return n;
}

START_TEST(run_says_on_a_terminal_that_it_waits)
{
	char *argv[] = { (char *)program_tool(), "-s", d.socket, "run", "echo",
		"1", NULL };
	struct lp_client *c = daemon_connect(&d);
	uint64_t lease = hold_lease(c);
	struct terminal term;
	int status;

	terminal_run(&term, argv);
	terminal_wait_for(&term,
	    "leasepool: waiting for an executor of pool cpu (1 of 1 leased)..."
	    "\r\n");
	ck_assert_int_eq(lp_release(c, lease, NULL), LP_OK);
	terminal_wait_for(&term, "...\r\n1\r\n");
	ck_assert_int_eq(waitpid(term.pid, &status, 0), term.pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == OK,
	    "status %#x: %s", status, term.text);
	ck_assert_uint_eq(count(term.text, "waiting for"), 1);
	close(term.fd);
	lp_client_free(c);
}
END_TEST

/* Longer than the tool waits before it says so of a pool that is not full. */
START_TEST(run_waits_quietly_without_a_terminal)
{
	struct lp_client *c = daemon_connect(&d);

	hold_lease(c);
	assert_error(tool("-t", "1.5", "run", "echo", "1"), BUSY, "TIMEOUT");
	ck_assert_msg(strstr(p.err, "waiting") == NULL, "%s", p.err);
	assert_error(tool("-t", "1.5", "exec", "true"), EXEC_FAILED, "TIMEOUT");
	ck_assert_msg(strstr(p.err, "waiting") == NULL, "%s", p.err);
	lp_client_free(c);
}
END_TEST

START_TEST(exec_is_a_program_run_elsewhere)
{
	ck_assert_int_eq(tool_input("some input\n", "exec", "--", "sh", "-c",
			     "cat; echo oops >&2; exit 3", (const char *)NULL),
	    3);
	ck_assert_str_eq(p.out, "some input\n");
	ck_assert_str_eq(p.err, "oops\n");
}
END_TEST

/* The daemon's default exec_output_max. */
#define OUTPUT_MAX (1u << 20)

/* Empty, one byte, around a pipe's 64 KiB, and around exec_output_max. */
static const size_t stdin_sizes[] = { 0, 1, 65535, 65536, 65537, OUTPUT_MAX,
	OUTPUT_MAX + 1 };

START_TEST(exec_passes_stdin_of_any_size)
{
	size_t len = stdin_sizes[_i],
	       want = len < OUTPUT_MAX ? len : OUTPUT_MAX;
	char *input = malloc(len + 1), *output = malloc(want + 1);
	int out = memfd_create("stdout", MFD_CLOEXEC);

	ck_assert_ptr_nonnull(input);
	ck_assert_ptr_nonnull(output);
	ck_assert_int_ge(out, 0);
	fill_pattern(input, len);
	/* A job timeout well inside the harness's bound: a stuck exec shows as one. */
	ck_assert_msg(tool_bytes(input, len, out, "-j", "10", "exec", "cat",
			  (const char *)NULL) == OK,
	    "%zu bytes: exit status %d; stderr: %s", len, p.status, p.err);
	ck_assert_int_eq(pread(out, output, want + 1, 0), (ssize_t)want);
	ck_assert_msg(memcmp(output, input, want) == 0,
	    "%zu bytes through cat differ", len);
	if (len > OUTPUT_MAX)
		ck_assert_msg(
		    strstr(p.err,
			"kept only the first exec_output_max bytes") != NULL,
		    "stderr: %s", p.err);
	else
		ck_assert_str_eq(p.err, "");
	close(out);
	free(output);
	free(input);
}
END_TEST

START_TEST(exec_status_follows_the_program)
{
	char cwd[1024];

	ck_assert_int_eq(tool("exec", "sh", "-c", "kill -KILL $$"), 128 + 9);
	ck_assert_int_eq(tool("exec", "true"), OK);
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd - 1));
	strcat(cwd, "\n");
	ck_assert_int_eq(tool("exec", "pwd"), OK);
	ck_assert_str_eq(p.out, cwd);
	ck_assert_int_eq(tool("exec", "-C", "/", "pwd"), OK);
	ck_assert_str_eq(p.out, "/\n");
}
END_TEST

/* Issue 29, item 6: the paths an exec failure names are cut and cleaned as every name. */
START_TEST(exec_failures_quote_the_path)
{
	char path[256] = "/nonexistent/";

	assert_error(tool("exec", "--", "/nonexistent/\x01\xff", "x"),
	    EXEC_CANNOT_START, "JOB_FAILED");
	ck_assert_msg(strstr(p.err, "cannot run '/nonexistent/?\?': ") != NULL,
	    "%s", p.err);
	assert_error(tool("exec", "-C", "/nonexistent/\x1b[2J", "true"),
	    EXEC_CANNOT_START, "JOB_FAILED");
	ck_assert_msg(
	    strstr(p.err, "cannot change to directory '/nonexistent/?[2J': ") !=
		NULL,
	    "%s", p.err);
	memset(path + strlen(path), 'p', 200);
	assert_error(tool("exec", "--", path), EXEC_CANNOT_START, "JOB_FAILED");
	path[64] = '\0';
	strcat(path, "...': ");
	ck_assert_msg(strstr(p.err, path) != NULL, "%s", p.err);
}
END_TEST

/*
 * A program's path need not be UTF-8, and the default owner "leasepool
 * exec PATH", which the daemon takes in UTF-8 only, is cut at 128 bytes:
 * here inside a two-byte character.
 */
START_TEST(exec_runs_a_program_named_in_any_bytes)
{
	size_t start =
	    strlen("leasepool exec ") + strlen(d.dir) + strlen("/\xff");
	char path[512];
	int status;

	snprintf(path, sizeof path, "%s/\xff%s", d.dir,
	    (128 - start) % 2 == 0 ? "x" : "");
	for (int i = 0; i < 60; i++)
		strcat(path, "\xc3\xa9");
	ck_assert_int_eq(symlink("/bin/echo", path), 0);
	status = tool("exec", path, "hi");
	/* before any assertion: the harness removes only its own files */
	unlink(path);
	ck_assert_msg(status == OK, "stderr: %s", p.err);
	ck_assert_str_eq(p.out, "hi\n");
}
END_TEST

/* stats' counters row of pool ends with its runs cancelled before they started and while they ran. */
static void
assert_cancelled_runs(const char *pool, int queued, int running)
{
	static const char header[] = "CANCELLED QUEUED  CANCELLED RUNNING\n";
	char row[64], want[64];
	const char *at, *end;

	ck_assert_int_eq(tool("stats"), OK);
	snprintf(row, sizeof row, "%s%s ", header, pool);
	ck_assert_msg((at = strstr(p.out, row)) != NULL, "%s", p.out);
	at += sizeof header - 1;
	end = strchr(at, '\n');
	snprintf(want, sizeof want, "%*d  %*d", (int)strlen("CANCELLED QUEUED"),
	    queued, (int)strlen("CANCELLED RUNNING"), running);
	ck_assert_msg((size_t)(end - at) > strlen(want) &&
		strncmp(end - strlen(want), want, strlen(want)) == 0,
	    "%s", p.out);
}

/*
 * Issue 32: Ctrl-C, typed on the tool's terminal while the program runs,
 * stops the program on its worker: it never gets to its last command.
 * The tool reports the daemon's CANCELLED and ends by SIGINT; its stats
 * table counts the run cancelled while it ran.
 */
START_TEST(exec_interrupted_stops_the_program)
{
	char started[128], marker[128], script[512];
	char *argv[] = { (char *)program_tool(), "-s", d.socket, "exec", "sh",
		"-c", script, NULL };
	struct terminal term;
	pid_t job;
	int status;

	snprintf(started, sizeof started, "%s/started", d.dir);
	snprintf(marker, sizeof marker, "%s/marker", d.dir);
	snprintf(script, sizeof script, "echo $$ > %s && sleep 3 && touch %s",
	    started, marker);
	terminal_run(&term, argv);
	job = started_pid(started);
	ck_assert_int_eq(write(term.fd, "\x03", 1), 1);
	terminal_wait_for(&term, "leasepool: CANCELLED: ");
	ck_assert(wait_exit(term.pid, &status));
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT,
	    "status %#x: %s", status, term.text);
	/* Gone, by the end of its sleep at the latest: it had no time to touch the marker. */
	ck_assert(wait_until(process_gone, &job));
	ck_assert_msg(access(marker, F_OK) == -1, "the program ran to its end");
	close(term.fd);
	assert_cancelled_runs("cpu", 0, 1);
}
END_TEST

START_TEST(exec_failures_of_its_own)
{
	assert_error(tool("exec", "--", "/nonexistent/program"),
	    EXEC_CANNOT_START, "JOB_FAILED");
	assert_error(tool("-j", "0.2", "exec", "sleep", "30"), EXEC_TIMED_OUT,
	    "JOB_TIMEOUT");
	assert_error(tool("-p", "noexec", "exec", "true"), EXEC_FAILED,
	    "PERMISSION_DENIED");
}
END_TEST

/*
 * What bash offers for the command line words... (the last one the word
 * being completed), from the completion script that make install installs.
 */
static void
complete_va(const char *word, ...)
{
	static const char script[] =
	    "source \"$1\" && shift && COMP_WORDS=(\"$@\") && "
	    "COMP_CWORD=$(($# - 1)) && $(complete -p leasepool | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p') "
	    "; printf '%s\\n' \"${COMPREPLY[@]}\"";
	const char *source = getenv("LP_SOURCE");
	char path[1024],
	    *argv[ARGS_MAX] = { "/bin/bash", "-c", (char *)script, "bash",
		    path };
	int argc = 5;
	va_list ap;

	snprintf(path, sizeof path, "%s/client/tool/leasepool.bash",
	    source != NULL ? source : ".");
	va_start(ap, word);
	for (; word != NULL; word = va_arg(ap, const char *)) {
		ck_assert_int_lt(argc, ARGS_MAX - 1);
		argv[argc++] = (char *)word;
	}
	va_end(ap);
	argv[argc] = NULL;
	ck_assert_msg(program_run(&p, argv, NULL, NULL) == 0, "%s", p.err);
	ck_assert_str_eq(p.err, "");
}

#define complete(...) complete_va(__VA_ARGS__, (const char *)NULL)

START_TEST(bash_completes_commands_options_and_names)
{
	complete("leasepool", "s");
	ck_assert_str_eq(p.out, "stats\nsubmit\n");
	complete("leasepool", "-n", "--job");
	ck_assert_str_eq(p.out, "--job-timeout\n");
	complete("leasepool", "stats", "--");
	ck_assert_str_eq(p.out, "--json\n--prometheus\n");
	/* The daemon's names, from the socket on the command line. */
	complete(program_tool(), "-s", d.socket, "--pool", "");
	ck_assert_str_eq(p.out, "cpu\nnoexec\n");
	complete(program_tool(), "-s", d.socket, "run", "--kw", "a=1", "ec");
	ck_assert_str_eq(p.out, "echo\n");
	complete(program_tool(), "-s", d.socket, "run", "echo", "ec");
	ck_assert_str_eq(p.out, "\n");
}
END_TEST

Suite *
tool_suite(void)
{
	Suite *s = suite_create("tool");
	TCase *tc;

	tc = integration_case(s, "commands", start, stop_daemon);
	tcase_add_test(tc, ping_through_the_environment);
	tcase_add_test(tc, stats_table_shows_pools_and_leases);
	tcase_add_test(tc, stats_json_is_json);
	tcase_add_loop_test(tc, run_echo_round_trips, 0,
	    sizeof echoes / sizeof echoes[0]);
	tcase_add_test(tc, run_passes_kwargs_and_only_the_first_word_is_fn);
	tcase_add_test(tc, submit_prints_the_result);
	tcase_add_test(tc, help_documents_the_exit_statuses);
	tcase_add_test(tc, help_and_version_long_and_short);
	tcase_add_test(tc, long_options_mean_the_short_ones);
	tcase_add_test(tc, bash_completes_commands_options_and_names);

	tc = integration_case(s, "administration", start, stop_daemon);
	tcase_add_test(tc, drain_stops_the_pool_until_resume);
	tcase_add_test(tc, reload_says_what_changed);
	tcase_add_test(tc, config_prints_the_running_configuration);

	tc = integration_case(s, "exit statuses", start, stop_daemon);
	tcase_add_test(tc, unknown_function_is_refused);
	tcase_add_test(tc, failed_job_is_the_jobs_problem);
	tcase_add_loop_test(tc, bad_usage_exits_2, 0,
	    sizeof usages / sizeof usages[0]);
	tcase_add_test(tc, ignored_option_is_named);
	tcase_add_test(tc, no_daemon_exits_3);
	tcase_add_test(tc, permission_denied_has_its_own_status);
	tcase_add_test(tc, full_pool_is_busy);
	tcase_add_test(tc, run_says_on_a_terminal_that_it_waits);
	tcase_add_test(tc, run_waits_quietly_without_a_terminal);

	/* Only root can be another user. */
	tc = integration_case(s, "other user", start_shared, stop_daemon);
	add_root_test(tc, stats_of_another_user_count_our_leases);

	tc = integration_case(s, "exec", start, stop_daemon);
	tcase_add_test(tc, exec_is_a_program_run_elsewhere);
	tcase_add_test(tc, exec_status_follows_the_program);
	tcase_add_test(tc, exec_failures_of_its_own);
	tcase_add_loop_test(tc, exec_passes_stdin_of_any_size, 0,
	    sizeof stdin_sizes / sizeof stdin_sizes[0]);
	tcase_add_test(tc, exec_runs_a_program_named_in_any_bytes);
	tcase_add_test(tc, exec_failures_quote_the_path);
	tcase_add_test(tc, exec_interrupted_stops_the_program);
	return s;
}
