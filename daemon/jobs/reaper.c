/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon/core/clock.h"
#include "daemon/jobs/reaper.h"

/* How often a stop looks again for children that ended. */
#define STOP_POLL_NS (5 * 1000 * 1000)

/* Of /proc/PID/stat: the 26 fields between the parent (4th) and the pending signals (31st). */
#define STAT_SKIP \
	" %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s" \
	" %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"

/*
 * A living child of self: not a zombie, which is dead already (its
 * parent's waitpid() ends it).  *dying: SIGKILL is pending for it.
 */
static bool
living_child(pid_t pid, pid_t self, bool *dying)
{
	char path[32], buf[1024], *p, state;
	unsigned long pending;
	ssize_t n;
	int fd, ppid;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* The name, in parentheses, may hold anything: the fields follow the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %d" STAT_SKIP " %lu", &state, &ppid, &pending) !=
		3)
		return false;
	*dying = (pending & (1UL << (SIGKILL - 1))) != 0;
	return ppid == self && state != 'Z' && state != 'X';
}

/*
 * Calls visit for each pid in /proc, until it returns false.  getdents64()
 * into a buffer of its own rather than readdir(), which allocates: a
 * worker under a tight memory_limit must still find what its job left.
 */
static void
each_pid(bool (*visit)(pid_t pid, void *ctx), void *ctx)
{
	static char buf[4096];
	ssize_t len;
	int fd;

	if ((fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	while ((len = getdents64(fd, buf, sizeof buf)) > 0) {
		for (ssize_t off = 0; off < len;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			char *end;
			long pid = strtol(d->d_name, &end, 10);

			off += d->d_reclen;
			if (*end == '\0' && pid > 0 && !visit((pid_t)pid, ctx))
				goto done;
		}
	}
done:
	close(fd);
}

/* A walk over /proc for the children of self that expected does not claim (NULL: none). */
struct pass {
	pid_t self;
	reaper_expected_fn *expected;
	void *arg;
	pid_t *killed; /* reaper_kill's */
	unsigned n, max;
};

static bool
unclaimed(const struct pass *p, pid_t pid)
{
	return p->expected == NULL || !p->expected(pid, p->arg);
}

/*
 * Not one that nobody killed yet: one with SIGKILL pending is as good as
 * gone, and counting it again would double the count of a subtree whose
 * group was killed.
 */
static bool
kill_leftover(pid_t pid, void *ctx)
{
	struct pass *p = ctx;
	bool dying;

	if (!living_child(pid, p->self, &dying) || dying || !unclaimed(p, pid))
		return true;
	/* Its group too: a subtree that called setsid dies at once. */
	kill(-pid, SIGKILL);
	/* One we may not kill (a setuid program's) must not be waited for. */
	if (kill(pid, SIGKILL) == 0)
		p->killed[p->n++] = pid;
	return p->n < p->max;
}

unsigned
reaper_kill(reaper_expected_fn *expected, void *arg, pid_t *killed,
    unsigned max)
{
	struct pass p = {
		.self = getpid(),
		.expected = expected,
		.arg = arg,
		.killed = killed,
		.max = max,
	};

	if (max > 0)
		each_pid(kill_leftover, &p);
	return p.n;
}

static bool
count_living(pid_t pid, void *ctx)
{
	struct pass *p = ctx;
	bool dying;

	p->n += living_child(pid, p->self, &dying) && unclaimed(p, pid);
	return true;
}

unsigned
reaper_living(reaper_expected_fn *expected, void *arg)
{
	struct pass p = { .self = getpid(), .expected = expected, .arg = arg };

	each_pid(count_living, &p);
	return p.n;
}

static void
wait_for(pid_t pid)
{
	while (waitpid(pid, NULL, __WALL) == -1 && errno == EINTR)
		continue;
}

/* Reaps every child that ended; false when no child is left at all. */
static bool
children_left(void)
{
	pid_t pid;

	while ((pid = waitpid(-1, NULL, WNOHANG | __WALL)) > 0 ||
	    (pid == -1 && errno == EINTR))
		continue;
	return pid == 0;
}

/*
 * Generation by generation: the children of a killed child are re-parented
 * to us once it is dead, and found by the next pass.
 */
unsigned
reaper_kill_all(reaper_expected_fn *expected, void *arg)
{
	pid_t pids[REAPER_BATCH];
	unsigned n, killed = 0;

	while (children_left() &&
	    (n = reaper_kill(expected, arg, pids, REAPER_BATCH)) > 0) {
		for (unsigned i = 0; i < n; i++)
			wait_for(pids[i]);
		killed += n;
	}
	return killed;
}

unsigned
reaper_stop(reaper_expected_fn *expected, void *arg, double bound)
{
	struct timespec pause = { 0, STOP_POLL_NS };
	double started = monotonic_now(), waited;
	pid_t pids[REAPER_BATCH];

	while (children_left()) {
		waited = monotonic_now() - started;
		/* Those killed in an earlier pass and still there count too: they are stuck. */
		if (waited >= 2 * bound)
			return reaper_living(NULL, NULL);
		reaper_kill(waited < bound ? expected : NULL, arg, pids,
		    REAPER_BATCH);
		nanosleep(&pause, NULL);
	}
	return 0;
}

bool
reaper_clean_exit(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
