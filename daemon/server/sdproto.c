/* SPDX-License-Identifier: ISC */
/*
 * The three systemd protocols the daemon speaks, read from their stable
 * interface descriptions (sd_notify(3), sd_listen_fds(3),
 * sd_watchdog_enabled(3)): a datagram to $NOTIFY_SOCKET, descriptors from
 * 3 up counted by $LISTEN_FDS, and $WATCHDOG_USEC.  Written here rather
 * than linked from libsystemd, which with the libraries it pulls in made
 * up much of the idle daemon's memory (bench/README.md, Memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/server/sdproto.h"

/* An environment variable that names this process: $*_PID unset, or our pid. */
static bool
meant_for_us(const char *pid_var)
{
	const char *pid = getenv(pid_var);
	char *end;
	long v;

	if (pid == NULL)
		return true;
	errno = 0;
	v = strtol(pid, &end, 10);
	return errno == 0 && end != pid && *end == '\0' && v == (long)getpid();
}

/* A decimal from the environment, or -1 when absent or not a number. */
static long long
env_number(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long long v;

	if (s == NULL)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || v < 0 ? -1 : v;
}

int
sd_proto_notify(const char *text)
{
	const char *where = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len;
	ssize_t n;
	int fd, saved;

	if (where == NULL || *where == '\0')
		return 0;
	len = strlen(where);
	/* A path, or '@' for the abstract namespace; others (vsock:) are not ours to reach. */
	if ((where[0] != '/' && where[0] != '@') || len >= sizeof sun.sun_path)
		return -EAFNOSUPPORT;
	memcpy(sun.sun_path, where, len);
	if (where[0] == '@')
		sun.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -errno;
	n = sendto(fd, text, strlen(text), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	saved = errno;
	close(fd);
	return n == -1 ? -saved : 1;
}

int
sd_proto_listen_fds(void)
{
	long long n = env_number("LISTEN_FDS");
	bool ours = meant_for_us("LISTEN_PID") && getenv("LISTEN_PID") != NULL;

	/* Whatever they say, they are not for the workers and programs we start. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (!ours || n <= 0)
		return 0;
	if (n > 1024)
		return -EINVAL;
	for (int fd = SD_PROTO_LISTEN_FDS_START;
	     fd < SD_PROTO_LISTEN_FDS_START + n; fd++)
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
			return -errno;
	return (int)n;
}

bool
sd_proto_is_listening_unix_stream(int fd)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof sun;
	int type, listening;
	socklen_t optlen = sizeof type;
	struct stat st;

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &optlen) == -1 ||
	    type != SOCK_STREAM)
		return false;
	optlen = sizeof listening;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) ==
		-1 ||
	    !listening)
		return false;
	return getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
	    sun.sun_family == AF_UNIX;
}

uint64_t
sd_proto_watchdog_usec(void)
{
	long long usec = env_number("WATCHDOG_USEC");
	bool ours = meant_for_us("WATCHDOG_PID");

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return ours && usec > 0 ? (uint64_t)usec : 0;
}
