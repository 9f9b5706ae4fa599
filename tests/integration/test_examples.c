/* SPDX-License-Identifier: ISC */
/*
 * Every example program, run as a user would run it against a real daemon
 * (the socket in LEASEPOOL_SOCKET), must exit 0: each one checks what it
 * demonstrates.  The daemon's grace period is short so that 06_expiry
 * does not wait out the default ten seconds.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "tests/integration/fixture.h"
#include "tests/integration/harness.h"
#include "tests/integration/program.h"
#include "tests/suites.h"

static const char config[] =
    "[pool cpu]\n"
    "executors_min = 1\n"
    "executors_max = 2\n"
    "workers = 2\n"
    "grace_seconds = 0.5\n";

static const char *const examples[] = {
	"01_basic",
	"02_acquire_release",
	"03_backpressure",
	"04_cpu_parallel",
	"05_stats",
	"06_expiry",
	"07_async_libevent",
	"08_batched_submit",
	"09_cancel",
};

#define NEXAMPLES (sizeof examples / sizeof examples[0])

static struct program p;

static void
start(void)
{
	daemon_start(&d, config);
}

START_TEST(example_succeeds)
{
	char path[1024];
	char *argv[] = { path, NULL };

	snprintf(path, sizeof path, "%s/%s", program_examples(), examples[_i]);
	ck_assert_msg(program_run(&p, argv, d.socket, NULL) == 0,
	    "%s exited with %d; it said:\n%s%s", examples[_i], p.status, p.out,
	    p.err);
}
END_TEST

static bool
known(const char *name)
{
	for (size_t i = 0; i < NEXAMPLES; i++) {
		if (strcmp(examples[i], name) == 0)
			return true;
	}
	return false;
}

/* A new example gets a test by being added to the list above. */
START_TEST(every_example_is_tested)
{
	DIR *dir = opendir(program_examples());
	struct dirent *e;
	size_t found = 0;

	ck_assert_msg(dir != NULL, "%s: cannot open", program_examples());
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		ck_assert_msg(known(e->d_name), "example %s has no test",
		    e->d_name);
		found++;
	}
	closedir(dir);
	ck_assert_uint_eq(found, NEXAMPLES);
}
END_TEST

/* The programs of a directory (examples, README's), each run as run() says. */
static void
run_each(const char *dir_path, void (*run)(const char *path))
{
	DIR *dir = opendir(dir_path);
	struct dirent *e;
	char path[1024];
	size_t found = 0;

	ck_assert_msg(dir != NULL, "%s: cannot open", dir_path);
	while ((e = readdir(dir)) != NULL) {
		if (e->d_type != DT_REG || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
		run(path);
		found++;
	}
	closedir(dir);
	ck_assert_uint_gt(found, 0);
}

static void
succeeds(const char *path)
{
	char *argv[] = { (char *)path, NULL };

	ck_assert_msg(program_run(&p, argv, d.socket, NULL) == 0,
	    "%s exited with %d; it said:\n%s%s", path, p.status, p.out, p.err);
}

/* With no daemon a program says so and exits: no crash, no hang. */
static void
fails_cleanly(const char *path)
{
	char *argv[] = { (char *)path, NULL };

	program_run(&p, argv, "/nonexistent/leasepool.sock", NULL);
	ck_assert_msg(p.status > 0 &&
		strstr(p.err, "/nonexistent/leasepool.sock") != NULL,
	    "%s without a daemon: status %d, stderr: %s", path, p.status,
	    p.err);
}

/* What the README shows is what runs: scripts/readme-programs.sh built each block. */
START_TEST(readme_programs_succeed)
{
	run_each(program_readme(), succeeds);
}
END_TEST

START_TEST(every_program_fails_cleanly_without_a_daemon)
{
	run_each(program_readme(), fails_cleanly);
	run_each(program_examples(), fails_cleanly);
}
END_TEST

Suite *
examples_suite(void)
{
	Suite *s = suite_create("examples");
	TCase *tc;

	tc = integration_case(s, "run", start, stop_daemon);
	tcase_add_loop_test(tc, example_succeeds, 0, NEXAMPLES);
	tcase_add_test(tc, every_example_is_tested);
	tcase_add_test(tc, readme_programs_succeed);
	tcase_add_test(tc, every_program_fails_cleanly_without_a_daemon);
	return s;
}
