/* SPDX-License-Identifier: ISC */
/*
 * exec runs as the user who asked, with a clean environment, and what it
 * starts cannot reach the worker nor outlive the job.
 *
 * Another uid takes root to create (CI runs as root): those cases use
 * nobody, through setpriv and the leasepool tool, against a root daemon on
 * a socket anyone may reach, and are only registered as root.  As an
 * ordinary user the daemon cannot switch and there is no second user: the
 * clean environment is tested either way.
 */
#include <check.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/integration/program.h"
#include "tests/suites.h"

#define TIMEOUT_SECONDS "1"

static const char shared_exec_pool[] =
    "[daemon]\n"
    "socket_mode = 0666\n"
    "[pool cpu]\n"
    "executors_max = 2\n"
    "workers = 1\n"
    "exec = yes\n";

static struct program p;

static void
start_shared(void)
{
	daemon_start(&d, shared_exec_pool);
	daemon_open_to_others(&d);
}

/* The daemon, with CAP_SETUID, CAP_SETGID and CAP_KILL out of its reach even as root. */
static void
start_unable_to_switch(void)
{
	const char *outer = getenv("LP_DAEMON_WRAPPER");
	char wrapper[1024];

	snprintf(wrapper, sizeof wrapper,
	    "setpriv --inh-caps=-all "
	    "--bounding-set=-setuid,-setgid,-kill%s%s",
	    outer != NULL ? " " : "", outer != NULL ? outer : "");
	setenv("LP_DAEMON_WRAPPER", wrapper, 1);
	start_shared();
	if (outer != NULL)
		setenv("LP_DAEMON_WRAPPER", outer, 1);
	else
		unsetenv("LP_DAEMON_WRAPPER");
}

static const struct passwd *
nobody(void)
{
	const struct passwd *pw = getpwnam("nobody");

	ck_assert_msg(pw != NULL, "no user nobody");
	return pw;
}

/* `leasepool exec sh -c script` from /, as nobody (with its gid and no other group) or as we are. */
static int
exec_sh(bool as_nobody, const char *script, const char *timeout)
{
	char regid[32];
	char *argv[] = { "/usr/bin/setpriv", "--reuid=nobody", regid,
		"--clear-groups", (char *)program_tool(), "-s", d.socket, "-j",
		(char *)timeout, "exec", "-C", "/", "--", "sh", "-c",
		(char *)script, NULL };

	snprintf(regid, sizeof regid, "--regid=%u", (unsigned)nobody()->pw_gid);
	if (timeout == NULL)
		memmove(&argv[7], &argv[9], 8 * sizeof *argv);
	return program_run(&p, as_nobody ? argv : argv + 4, NULL, NULL);
}

START_TEST(exec_runs_as_the_caller)
{
	const struct passwd *pw = nobody();
	char want[512];

	ck_assert_int_eq(exec_sh(true,
			     "id -u; id -g; id -G; echo $HOME $USER $LOGNAME",
			     NULL),
	    0);
	snprintf(want, sizeof want, "%u\n%u\n%u\n%s %s %s\n",
	    (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, (unsigned)pw->pw_gid,
	    pw->pw_dir, pw->pw_name, pw->pw_name);
	ck_assert_str_eq(p.out, want);
	/* Root's own exec still runs as root. */
	ck_assert_int_eq(exec_sh(false, "id -u", NULL), 0);
	ck_assert_str_eq(p.out, "0\n");
}
END_TEST

START_TEST(exec_reads_only_the_callers_files)
{
	char path[160], script[200];
	FILE *f;

	snprintf(path, sizeof path, "%s/secret", d.dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("root's\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0600), 0);
	snprintf(script, sizeof script, "cat %s", path);
	ck_assert_int_eq(exec_sh(false, script, NULL), 0);
	ck_assert_str_eq(p.out, "root's\n");
	ck_assert_int_eq(exec_sh(true, script, NULL), 1);
	ck_assert_str_eq(p.out, "");
	ck_assert_ptr_nonnull(strstr(p.err, "Permission denied"));
}
END_TEST

/*
 * Neither the worker that holds every user's jobs nor its spawner may be
 * read by a program: the shell's parent is the spawner, its parent the
 * worker.
 */
START_TEST(programs_cannot_read_the_worker)
{
	ck_assert_int_eq(exec_sh(true, "cat /proc/$PPID/environ", NULL), 1);
	ck_assert_ptr_nonnull(strstr(p.err, "Permission denied"));
	ck_assert_int_eq(exec_sh(true,
			     "set -- $(cat /proc/$PPID/stat); "
			     "exec 3</proc/$4/mem",
			     NULL),
	    2);
	ck_assert_ptr_nonnull(strstr(p.err, "Permission denied"));
}
END_TEST

/* The socket's directory is the daemon's: a program cannot put a proxy in its place. */
START_TEST(programs_cannot_replace_the_socket)
{
	char script[256];

	snprintf(script, sizeof script, "mv %s %s.old", d.socket, d.socket);
	ck_assert_int_eq(exec_sh(true, script, NULL), 1);
	ck_assert_ptr_nonnull(strstr(p.err, "Permission denied"));
	ck_assert_int_eq(exec_sh(true, "id -u", NULL), 0);
}
END_TEST

static bool
gone(void *arg)
{
	return proc_state(*(pid_t *)arg) == '?';
}

/* A program's setsid child, of another uid than the daemon's, ends with the job's timeout. */
START_TEST(a_callers_setsid_child_ends_at_the_timeout)
{
	char path[160], script[512];
	unsigned uid;
	pid_t pid;
	FILE *f;

	snprintf(path, sizeof path, "%s/pids", d.dir);
	ck_assert_int_eq(mkdir(path, 0777), 0);
	ck_assert_int_eq(chmod(path, 0777), 0);
	snprintf(script, sizeof script,
	    "setsid sh -c 'echo $(id -u) $$ > %s/child; "
	    "exec sleep 1000' </dev/null >/dev/null 2>&1 & "
	    "while [ ! -s %s/child ]; do sleep 0.01; done; sleep 1000",
	    path, path);
	ck_assert_int_eq(exec_sh(true, script, TIMEOUT_SECONDS), 124);
	snprintf(path + strlen(path), sizeof path - strlen(path), "/child");
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_int_eq(fscanf(f, "%u %d", &uid, &pid), 2);
	fclose(f);
	ck_assert_uint_eq(uid, nobody()->pw_uid);
	ck_assert_msg(wait_until(gone, &pid),
	    "the setsid child %d outlived its job", (int)pid);
}
END_TEST

START_TEST(a_daemon_that_cannot_switch_runs_only_its_own_users_programs)
{
	ck_assert_msg(exec_sh(true, "id -u", NULL) == 125, "%s", p.err);
	ck_assert_str_eq(p.err,
	    "leasepool: PERMISSION_DENIED: exec runs programs as the user "
	    "who asks, and this daemon (uid 0) cannot switch users (it has no CAP_SETUID, "
	    "CAP_SETGID and CAP_KILL): only uid 0 may exec here\n");
	ck_assert_int_eq(exec_sh(false, "id -u", NULL), 0);
	ck_assert_str_eq(p.out, "0\n");
}
END_TEST

/* The environment starts clean, as sudo's does: a standard PATH, the caller's HOME, USER, LOGNAME. */
START_TEST(exec_starts_with_a_clean_environment)
{
	static const char *const env[] = { "LP_TEST_SECRET=daemon's", NULL };
	const struct passwd *pw = getpwuid(getuid());
	char want[512];

	ck_assert_ptr_nonnull(pw);
	daemon_start_env(&d, shared_exec_pool, env);
	ck_assert_int_eq(exec_sh(false,
			     "echo $PATH $HOME $USER $LOGNAME "
			     "${LP_TEST_SECRET-none}",
			     NULL),
	    0);
	snprintf(want, sizeof want,
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
	    "%s %s %s none\n",
	    pw->pw_dir, pw->pw_name, pw->pw_name);
	ck_assert_str_eq(p.out, want);
}
END_TEST

Suite *
exec_users_suite(void)
{
	Suite *s = suite_create("exec_users");
	TCase *tc;

	tc = integration_case(s, "clean environment", NULL, stop_daemon);
	tcase_add_test(tc, exec_starts_with_a_clean_environment);

	/* Only root can be another user: CI runs as root. */
	tc = integration_case(s, "as the caller", start_shared, stop_daemon);
	add_root_test(tc, exec_runs_as_the_caller);
	add_root_test(tc, exec_reads_only_the_callers_files);
	add_root_test(tc, programs_cannot_read_the_worker);
	add_root_test(tc, programs_cannot_replace_the_socket);
	add_root_test(tc, a_callers_setsid_child_ends_at_the_timeout);

	tc = integration_case(s, "unable to switch", start_unable_to_switch,
	    stop_daemon);
	add_root_test(tc,
	    a_daemon_that_cannot_switch_runs_only_its_own_users_programs);
	return s;
}
