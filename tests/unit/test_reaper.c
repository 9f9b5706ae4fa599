/* SPDX-License-Identifier: ISC */
/*
 * reaper_stop's count of what it could not end.  A process that SIGKILL
 * cannot end at once is one the kernel holds: here, one frozen by the
 * cgroup v1 freezer, which keeps it until it is thawed.  The case is
 * registered only where that freezer is mounted and ours to use (root).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "daemon/jobs/reaper.h"
#include "tests/integration/harness.h"
#include "tests/suites.h"

#define FREEZER "/sys/fs/cgroup/freezer"

static char group[128];

static void
write_file(const char *name, const char *text)
{
	char path[192];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", group, name);
	ck_assert_msg((f = fopen(path, "w")) != NULL, "%s: %s", path,
	    strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static bool
frozen(void *arg)
{
	char path[192], state[32] = "";
	FILE *f;

	snprintf(path, sizeof path, "%s/freezer.state", group);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	(void)!fgets(state, sizeof state, f);
	fclose(f);
	return strncmp(state, "FROZEN", 6) == 0;
}

START_TEST(a_stop_counts_the_children_that_would_not_die)
{
	char pid_text[16];
	unsigned stuck;
	pid_t child;

	snprintf(group, sizeof group, FREEZER "/leasepool-test-%d",
	    (int)getpid());
	ck_assert_msg(mkdir(group, 0700) == 0, "%s: %s", group,
	    strerror(errno));
	if ((child = fork()) == 0) {
		for (;;)
			pause();
	}
	ck_assert_int_gt(child, 0);
	snprintf(pid_text, sizeof pid_text, "%d", (int)child);
	write_file("cgroup.procs", pid_text);
	write_file("freezer.state", "FROZEN");
	ck_assert_msg(wait_until(frozen, NULL), "%s did not freeze", group);

	stuck = reaper_stop(NULL, NULL, 0.2);
	/* Thawed first: a failed check must not leave it frozen. */
	write_file("freezer.state", "THAWED");
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	ck_assert_int_eq(rmdir(group), 0);
	/* Killed at once, yet still there at the bound: it is counted, not forgotten. */
	ck_assert_uint_eq(stuck, 1);
}
END_TEST

Suite *
reaper_suite(void)
{
	Suite *s = suite_create("reaper");
	TCase *tc = unit_case(s, "stop", NULL, NULL);

	if (geteuid() == 0 && access(FREEZER "/cgroup.procs", W_OK) == 0)
		tcase_add_test(tc,
		    a_stop_counts_the_children_that_would_not_die);
	return s;
}
