/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/jobs/privs.h"
#include "daemon/jobs/reaper.h"
#include "daemon/jobs/spawner.h"

/* A program to start: strings follow, argc of argv, envc of env, then cwd if has_cwd. */
struct spawn_request {
	struct spawn_user who;
	uint32_t argc;
	uint32_t envc;
	uint32_t has_cwd;
	uint32_t len; /* bytes of strings, each ended by NUL */
};

struct spawn_answer {
	int32_t status;	 /* as from waitpid() */
	uint32_t killed; /* processes it left, killed */
};

static pid_t spawner = -1;
static int chan = -1;
static unsigned killed;

static bool
io_full(int fd, void *buf, size_t len, bool out)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n =
		    out ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* ---- the spawner process ---- */

/* The NUL-ended strings in len bytes: vector() must find no more than were sent. */
static uint64_t
count_strings(const char *p, uint32_t len)
{
	uint64_t n = 0;

	for (const char *end = p + len;
	     (p = memchr(p, '\0', (size_t)(end - p))) != NULL; p++)
		n++;
	return n;
}

/* Reads and drops len bytes: the strings of a request there is no memory for. */
static bool
skip(int sock, uint32_t len)
{
	static char sink[4096];

	for (size_t n; len > 0; len -= (uint32_t)n) {
		n = len < sizeof sink ? len : sizeof sink;
		if (!io_full(sock, sink, n, false))
			return false;
	}
	return true;
}

/*
 * Receives a request, its strings and SPAWN_FDS descriptors; false when the
 * worker is gone, or sent strings that do not match their counts.  *strings
 * NULL: there was no memory for them (they were read all the same, so that
 * the next request is where it should be).
 */
static bool
receive(int sock, struct spawn_request *r, char **strings, int fds[SPAWN_FDS])
{
	char control[CMSG_SPACE(SPAWN_FDS * sizeof(int))];
	struct iovec iov = { .iov_base = r, .iov_len = sizeof *r };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof control,
	};
	struct cmsghdr *c;
	ssize_t n;

	while (
	    (n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) == -1 && errno == EINTR)
		continue;
	c = CMSG_FIRSTHDR(&msg);
	if (n <= 0 || c == NULL || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(SPAWN_FDS * sizeof(int)))
		return false;
	memcpy(fds, CMSG_DATA(c), SPAWN_FDS * sizeof(int));
	if (!io_full(sock, (char *)r + n, sizeof *r - (size_t)n, false) ||
	    r->who.ngroups > SPAWN_GROUPS_MAX)
		return false;
	if ((*strings = malloc((size_t)r->len + 1)) == NULL)
		return skip(sock, r->len);
	(*strings)[r->len] = '\0';
	return io_full(sock, *strings, r->len, false) && r->argc > 0 &&
	    count_strings(*strings, r->len) ==
	    (uint64_t)r->argc + r->envc + r->has_cwd;
}

/* The n strings that start at *p, as a NULL-ended vector; *p moves past them. */
static char **
vector(char **p, uint32_t n)
{
	char **v = calloc((size_t)n + 1, sizeof *v);

	for (uint32_t i = 0; v != NULL && i < n; i++) {
		v[i] = *p;
		*p += strlen(*p) + 1;
	}
	return v;
}

static __attribute__((noreturn)) void
report(int fd, enum spawn_stage stage)
{
	struct spawn_report rep = { .stage = stage, .error = errno };

	(void)!write(fd, &rep, sizeof rep);
	_exit(127);
}

/*
 * The caller's groups, gid and uid, and no capability left, whatever
 * uid it is: from a non-root spawner a new uid keeps them, and ambient
 * ones would survive the exec.  A daemon that cannot switch was asked
 * only for its own uid (dispatch.c), and keeps its own groups.
 */
static bool
become(const struct spawn_user *who, bool can_switch)
{
	struct __user_cap_header_struct h = { .version =
						  _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (can_switch || who->uid != getuid()) {
		if (setgroups(who->ngroups, who->groups) == -1 ||
		    setresgid(who->gid, who->gid, who->gid) == -1 ||
		    setresuid(who->uid, who->uid, who->uid) == -1)
			return false;
	}
	return syscall(SYS_capset, &h, none) == 0;
}

/* The program that runs now, when it is another user's: a cancel's SIGTERM is passed on to it. */
static volatile pid_t foreign_program;

/*
 * The worker's process group got SIGTERM: its job was cancelled.  The
 * spawner stays to wait for the program, which the signal reached unless
 * it runs as another user, which only the spawner may signal.
 */
static void
on_sigterm(int sig)
{
	if (foreign_program > 0)
		kill(foreign_program, sig);
}

/* In the program's process: wire the pipes, become the caller, then the program. */
static __attribute__((noreturn)) void
program(const struct spawn_request *r, char *strings, const int fds[SPAWN_FDS],
    bool can_switch)
{
	extern char **environ;
	char **argv = vector(&strings, r->argc),
	     **envp = vector(&strings, r->envc);
	int rep = fds[3];

	/* the worker ignores it, the spawner passes it on; the program must not */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	/* only the worker's end of its stdin is non-blocking */
	fcntl(fds[0], F_SETFL, 0);
	for (int i = 0; i < 3; i++)
		dup2(fds[i], i);
	if (rep > 3)
		close_range(3, (unsigned)rep - 1, 0);
	close_range((unsigned)rep + 1, ~0U, 0);
	errno = ENOMEM;
	if (argv == NULL || envp == NULL)
		report(rep, SPAWN_EXEC);
	if (!become(&r->who, can_switch))
		report(rep, SPAWN_USER);
	if (r->has_cwd && chdir(strings) == -1)
		report(rep, SPAWN_CWD);
	/* execvp looks argv[0] up in the PATH of the environment it gives. */
	environ = envp;
	execvp(argv[0], argv);
	report(rep, SPAWN_EXEC);
}

static pid_t
start(int sock, bool can_switch)
{
	struct spawn_request r;
	char *strings = NULL;
	int fds[SPAWN_FDS] = { -1, -1, -1, -1 };
	pid_t pid;

	if (!receive(sock, &r, &strings, fds))
		_exit(0); /* the worker is gone, or is not itself */
	/* No memory, or no process, for the program: the worker is told which. */
	errno = ENOMEM;
	if (strings == NULL || (pid = fork()) == -1) {
		struct spawn_report rep = { .stage = SPAWN_EXEC,
			.error = errno };

		(void)!write(fds[3], &rep, sizeof rep);
		pid = -1;
	} else if (pid == 0) {
		program(&r, strings, fds, can_switch);
	} else if (r.who.uid != getuid()) {
		foreign_program = pid;
	}
	for (int i = 0; i < SPAWN_FDS; i++)
		close(fds[i]);
	free(strings);
	return pid;
}

static __attribute__((noreturn)) void
spawner_main(int sock, pid_t worker)
{
	struct spawn_answer a;
	bool can_switch = privs_can_switch();
	char done;
	pid_t pid;

	prctl(PR_SET_NAME, "leasepool-exec");
	sigaction(SIGTERM,
	    &(struct sigaction){ .sa_handler = on_sigterm,
		.sa_flags = SA_RESTART },
	    NULL);
	/* What a program leaves stays ours to kill, setsid or not (reaper.h). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != worker)
		_exit(0);
	if (sock > 3)
		close_range(3, (unsigned)sock - 1, 0);
	close_range((unsigned)sock + 1, ~0U, 0);
	for (;;) {
		pid = start(sock, can_switch);
		/* The worker has read the program's output, or is gone. */
		if (!io_full(sock, &done, 1, false))
			break;
		a.status = 127 << 8;
		if (pid > 0)
			while (
			    waitpid(pid, &a.status, 0) == -1 && errno == EINTR)
				continue;
		foreign_program = 0;
		a.killed = reaper_kill_all(NULL, NULL);
		if (!io_full(sock, &a, sizeof a, true))
			break;
	}
	reaper_kill_all(NULL, NULL);
	_exit(0);
}

bool
spawner_start(void)
{
	pid_t worker = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    (spawner = fork()) == -1)
		return false;
	if (spawner == 0)
		spawner_main(sv[1], worker);
	close(sv[1]);
	chan = sv[0];
	return true;
}

bool
spawner_is(pid_t pid, void *arg)
{
	return pid == spawner;
}

/* ---- the worker's side ---- */

static size_t
strings_len(char *const *v, uint32_t *n)
{
	size_t len = 0;

	for (*n = 0; v[*n] != NULL; (*n)++)
		len += strlen(v[*n]) + 1;
	return len;
}

static char *
put_strings(char *p, char *const *v)
{
	for (; *v != NULL; v++)
		p = stpcpy(p, *v) + 1;
	return p;
}

static int
lost(void)
{
	close(chan);
	chan = -1;
	return EPIPE;
}

static int
send_request(const struct spawn_request *r, const int fds[SPAWN_FDS])
{
	char control[CMSG_SPACE(SPAWN_FDS * sizeof(int))];
	struct iovec iov = { .iov_base = (void *)r, .iov_len = sizeof *r };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof control,
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	memset(control, 0, sizeof control);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(SPAWN_FDS * sizeof(int));
	memcpy(CMSG_DATA(c), fds, SPAWN_FDS * sizeof(int));
	while ((n = sendmsg(chan, &msg, MSG_NOSIGNAL)) == -1 && errno == EINTR)
		continue;
	if (n <= 0 ||
	    !io_full(chan, (char *)r + n, sizeof *r - (size_t)n, true))
		return lost();
	return 0;
}

int
spawner_run(const struct spawn_user *who, char *const *argv, char *const *envp,
    const char *cwd, const int fds[SPAWN_FDS])
{
	struct spawn_request r = { .who = *who, .has_cwd = cwd != NULL };
	size_t len;
	char *strings, *p;
	int e;

	if (chan == -1)
		return EPIPE;
	len = strings_len(argv, &r.argc) + strings_len(envp, &r.envc) +
	    (cwd != NULL ? strlen(cwd) + 1 : 0);
	if (len > UINT32_MAX || (strings = malloc(len)) == NULL)
		return ENOMEM;
	r.len = (uint32_t)len;
	p = put_strings(strings, argv);
	p = put_strings(p, envp);
	if (cwd != NULL)
		strcpy(p, cwd);
	if ((e = send_request(&r, fds)) == 0 &&
	    !io_full(chan, strings, len, true))
		e = lost();
	free(strings);
	return e;
}

int
spawner_wait(int *status)
{
	struct spawn_answer a;
	char done = 1;

	if (chan == -1)
		return EPIPE;
	if (!io_full(chan, &done, 1, true) ||
	    !io_full(chan, &a, sizeof a, false))
		return lost();
	*status = a.status;
	killed += a.killed;
	return 0;
}

unsigned
spawner_take_killed(void)
{
	unsigned n = killed;

	killed = 0;
	return n;
}

bool
spawner_alive(void)
{
	return spawner <= 0 || chan != -1;
}
