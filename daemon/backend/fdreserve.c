/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon/backend/fdreserve.h"
#include "daemon/core/log.h"

static struct {
	int fds[FDRESERVE_COUNT];
	unsigned held;
	bool wanted; /* from fdreserve_init() to fdreserve_free() */
} reserve;

void
fdreserve_init(void)
{
	reserve.wanted = true;
	if (!fdreserve_refill())
		fatalx("cannot hold %d descriptors in reserve: %s",
		    FDRESERVE_COUNT, fdreserve_why(errno));
}

void
fdreserve_release(void)
{
	while (reserve.held > 0)
		close(reserve.fds[--reserve.held]);
}

/* The first is /dev/null, the others its duplicates: no path lookup each. */
bool
fdreserve_refill(void)
{
	int fd;

	if (!reserve.wanted)
		return true;
	while (reserve.held < FDRESERVE_COUNT) {
		if (reserve.held == 0)
			fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		else
			fd = fcntl(reserve.fds[0], F_DUPFD_CLOEXEC, 0);
		if (fd == -1)
			return false;
		reserve.fds[reserve.held++] = fd;
	}
	return true;
}

void
fdreserve_free(void)
{
	fdreserve_release();
	reserve.wanted = false;
}

const char *
fdreserve_why(int error)
{
	static char buf[128];
	const char *name = strerrorname_np(error);
	char limit[48] = "";
	struct rlimit rl;

	if (error == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0)
		snprintf(limit, sizeof limit, "; RLIMIT_NOFILE %llu",
		    (unsigned long long)rl.rlim_cur);
	snprintf(buf, sizeof buf, "%s (%s%s)", strerror(error),
	    name != NULL ? name : "?", limit);
	return buf;
}
