/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/backend/fdreserve.h"
#include "daemon/backend/forkserver.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"
#include "daemon/jobs/modules.h"
#include "daemon/jobs/privs.h"
#include "daemon/jobs/reaper.h"

/*
 * A fork server that dies this soon after its start is restarted after a
 * growing delay, so that one that cannot start (its exec fails, a module
 * is gone) does not spin.
 */
#define RESTART_STABLE 5.0
#define RESTART_DELAY_FIRST 0.1
#define RESTART_DELAY_MAX 30.0
/* At a stop, how long workers get to end on their own before they are killed. */
#define STOP_WAIT 5.0

enum fs_msg_type {
	FS_SPAWN = 1,	 /* daemon -> fork server */
	FS_SPAWNED,	 /* with the worker's channel and log: SPAWNED_FDS */
	FS_SPAWN_FAILED, /* status holds errno */
	FS_EXITED,	 /* status as from waitpid() */
	/* status processes killed that the worker pid (0: unknown) left */
	FS_LEFTOVERS,
};

/* Of FS_SPAWNED: frames to the worker, its results, its stdout and stderr. */
#define SPAWNED_FDS 3

struct fs_msg {
	uint32_t type;
	uint32_t token;
	int32_t pid;
	int32_t status;
	struct worker_limits limits; /* FS_SPAWN */
};

/* ---- the fork server process ---- */

/*
 * The workers it forked that it has not reaped yet: its other children are
 * leftovers of jobs.  A worker program does not clean up after its jobs as
 * the built-in worker does, so what it leaves is killed however it ends.
 */
struct fs_worker {
	pid_t pid;
	bool program;
};

static struct {
	struct fs_worker *workers;
	size_t n, cap;
} fsw;

static void
workers_add(pid_t pid, bool program)
{
	if (fsw.n == fsw.cap) {
		size_t cap = fsw.cap ? fsw.cap * 2 : 64;
		struct fs_worker *w = reallocarray(fsw.workers, cap, sizeof *w);

		if (w == NULL)
			_exit(1); /* the daemon restarts us */
		fsw.workers = w;
		fsw.cap = cap;
	}
	fsw.workers[fsw.n++] = (struct fs_worker){ pid, program };
}

static bool
is_worker(pid_t pid, void *arg)
{
	for (size_t i = 0; i < fsw.n; i++)
		if (fsw.workers[i].pid == pid)
			return true;
	return false;
}

/* False for a child that is no worker; else *removed is what it was. */
static bool
workers_remove(pid_t pid, struct fs_worker *removed)
{
	for (size_t i = 0; i < fsw.n; i++) {
		if (fsw.workers[i].pid == pid) {
			*removed = fsw.workers[i];
			fsw.workers[i] = fsw.workers[--fsw.n];
			return true;
		}
	}
	return false;
}

/* Closes every descriptor above stderr but a and b. */
static void
close_all_but(int a, int b)
{
	unsigned lo = (unsigned)(a < b ? a : b), hi = (unsigned)(a < b ? b : a);

	if (lo > 3)
		close_range(3, lo - 1, 0);
	if (hi > lo + 1)
		close_range(lo + 1, hi - 1, 0);
	close_range(hi + 1, ~0U, 0);
}

static void
reset_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
}

/* Sends m, with SPAWNED_FDS descriptors when fds is not NULL. */
static void
fs_send(int chan, const struct fs_msg *m, const int *fds)
{
	char control[CMSG_SPACE(SPAWNED_FDS * sizeof(int))];
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof *m };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fds != NULL) {
		struct cmsghdr *c;

		memset(control, 0, sizeof control);
		msg.msg_control = control;
		msg.msg_controllen = sizeof control;
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(SPAWNED_FDS * sizeof(int));
		memcpy(CMSG_DATA(c), fds, SPAWNED_FDS * sizeof(int));
	}
	while (sendmsg(chan, &msg, MSG_NOSIGNAL) == -1) {
		if (errno != EINTR)
			_exit(0); /* the daemon is gone */
	}
}

static void
fs_spawn_failed(int chan, uint32_t token, int error)
{
	struct fs_msg m = { .type = FS_SPAWN_FAILED,
		.token = token,
		.status = error };

	fs_send(chan, &m, NULL);
}

/* Where a worker program finds its channel (docs/worker-protocol.md). */
#define PROGRAM_IN_FD 3
#define PROGRAM_OUT_FD 4
#define PROGRAM_FDS_ENV "3,4"

/*
 * In the new worker of a pool with a worker_program: the program, with its
 * channel on descriptors 3 and 4 and no capability.  One that cannot be run
 * says so in the log and dies before it is ready, which the crash-loop
 * guard counts.
 */
static __attribute__((noreturn)) void
exec_program(int in, int out, const struct worker_limits *limits)
{
	char words[LP_PROGRAM_MAX], *argv[LP_PROGRAM_MAX / 2 + 1], bytes[32];
	long len = config_program_words(limits->program, words, sizeof words);
	size_t argc = 0;

	for (long i = 0; i < len; i += (long)strlen(words + i) + 1)
		argv[argc++] = words + i;
	argv[argc] = NULL;
	/* Above 4 first, so that placing one does not close the other. */
	in = fcntl(in, F_DUPFD_CLOEXEC, PROGRAM_OUT_FD + 1);
	out = fcntl(out, F_DUPFD_CLOEXEC, PROGRAM_OUT_FD + 1);
	if (len == -1 || in == -1 || out == -1 ||
	    dup2(in, PROGRAM_IN_FD) == -1 || dup2(out, PROGRAM_OUT_FD) == -1) {
		fprintf(stderr,
		    "leasepoold: worker_program '%s': cannot set up its channel: %s\n",
		    limits->program, strerror(errno));
		_exit(127);
	}
	close_range(PROGRAM_OUT_FD + 1, ~0U, 0);
	privs_drop();
	snprintf(bytes, sizeof bytes, "%llu",
	    (unsigned long long)limits->program_result_bytes);
	setenv("LEASEPOOL_WORKER_FDS", PROGRAM_FDS_ENV, 1);
	setenv("LEASEPOOL_POOL", limits->pool, 1);
	setenv("LEASEPOOL_MAX_RESULT_BYTES", bytes, 1);
	execv(argv[0], argv);
	fprintf(stderr, "leasepoold: worker_program %s: %s\n", argv[0],
	    strerror(errno));
	_exit(127);
}

/* In the new worker: the standard descriptors, its limits, nothing else inherited. */
static __attribute__((noreturn)) void
worker_start(int in, int out, int log, const struct worker_limits *limits)
{
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* Its own process group, so a timeout kills what the job started too. */
	setpgid(0, 0);
	reset_signals();
	if (devnull != -1)
		dup2(devnull, STDIN_FILENO);
	/* What it, or a program it runs, prints goes to the daemon's log. */
	dup2(log, STDOUT_FILENO);
	dup2(log, STDERR_FILENO);
	close_all_but(in, out);
	if (limits->memory_limit > 0) {
		struct rlimit rl = { limits->memory_limit,
			limits->memory_limit };

		setrlimit(RLIMIT_AS, &rl);
	}
	/*
	 * A batch task's wake-up does not preempt the running task: a worker
	 * handed a job lets the daemon's loop finish its turn, which then
	 * hands out more, instead of taking its CPU at every frame.  Always
	 * permitted from SCHED_OTHER, so there is no failure to report.
	 */
	if (limits->sched_batch) {
		struct sched_param none = { .sched_priority = 0 };

		sched_setscheduler(0, SCHED_BATCH, &none);
	}
	if (limits->program[0] != '\0')
		exec_program(in, out, limits);
	worker_main(in, out, limits);
}

static void
close_pipes(int (*p)[2], int n)
{
	for (int i = 0; i < n; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
}

static void
fs_spawn(int chan, uint32_t token, const struct worker_limits *limits)
{
	/* frames to the worker, its results, its output */
	enum {
		DOWN,
		UP,
		LOG,
		NPIPES
	};
	struct fs_msg m = { .type = FS_SPAWNED, .token = token };
	int p[NPIPES][2], made, fds[SPAWNED_FDS];
	pid_t pid;

	for (made = 0; made < NPIPES; made++)
		if (pipe2(p[made], O_CLOEXEC) == -1)
			break;
	if (made < NPIPES || (pid = fork()) == -1) {
		fs_spawn_failed(chan, token, errno);
		close_pipes(p, made);
		return;
	}
	if (pid == 0)
		worker_start(p[DOWN][0], p[UP][1], p[LOG][1], limits);
	workers_add(pid, limits->program[0] != '\0');
	m.pid = pid;
	fds[0] = p[DOWN][1];
	fds[1] = p[UP][0];
	fds[2] = p[LOG][0];
	fs_send(chan, &m, fds);
	close_pipes(p, NPIPES);
}

/*
 * What a worker that did not end its own way left running has come to us
 * (reaper.h): killed, and counted to the daemon, which knows the worker's
 * pool and job.  Their own children come to us when they die, and are
 * killed on that SIGCHLD.
 */
static void
fs_kill_leftovers(int chan, pid_t worker)
{
	struct fs_msg m = { .type = FS_LEFTOVERS, .pid = worker };
	pid_t pids[REAPER_BATCH];

	if ((m.status = (int32_t)reaper_kill(is_worker, NULL, pids,
		 REAPER_BATCH)) > 0)
		fs_send(chan, &m, NULL);
}

static void
fs_reap(int chan)
{
	struct fs_msg m = { .type = FS_EXITED };
	bool leftover_ended = false;
	struct fs_worker w;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0) {
		if (!workers_remove(pid, &w)) {
			leftover_ended = true;
			continue;
		}
		/* Before its exit status: the daemon still knows the worker then. */
		if (w.program || !reaper_clean_exit(status))
			fs_kill_leftovers(chan, pid);
		m.pid = pid;
		m.status = status;
		fs_send(chan, &m, NULL);
	}
	if (leftover_ended)
		fs_kill_leftovers(chan, 0);
}

static __attribute__((noreturn)) void
fs_main(int chan, pid_t daemon_pid)
{
	struct pollfd pfd[2];
	struct signalfd_siginfo si;
	struct fs_msg m;
	sigset_t chld;
	int sfd;

	prctl(PR_SET_NAME, "leasepool-fork");
	/* What a dying worker's jobs left comes to us, not to init (reaper.h). */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* Die with the daemon; it may already be gone. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != daemon_pid)
		_exit(0);
	close_all_but(chan, chan);
	reset_signals();
	/* Terminal signals are the daemon's to handle; it tells us by closing the channel. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((sfd = signalfd(-1, &chld, SFD_CLOEXEC)) == -1)
		_exit(1);

	pfd[0] = (struct pollfd){ .fd = chan, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pfd[1].revents & POLLIN) {
			(void)!read(sfd, &si, sizeof si);
			fs_reap(chan);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(chan, &m, sizeof m, 0);

			/* The daemon stops, and waits for us to end every worker and what they left. */
			if (n == 0 ||
			    (n == -1 && errno != EINTR && errno != EAGAIN)) {
				reaper_stop(is_worker, NULL, STOP_WAIT);
				_exit(0);
			}
			if (n == (ssize_t)sizeof m && m.type == FS_SPAWN)
				fs_spawn(chan, m.token, &m.limits);
		}
	}
}

static bool
parse_int(const char *s, long min, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *v >= min && *v <= max;
}

/*
 * A fork server that the daemon restarted with fork and exec: a fresh
 * image with none of the daemon's threads or their locks.  It loads the
 * job modules the daemon loaded at start-up, for its workers to inherit.
 */
void
forkserver_main(int argc, char **argv)
{
	char err[1024];
	long chan, daemon_pid;

	if (argc != 5 || strcmp(argv[1], FORKSERVER_ARG) != 0 ||
	    !parse_int(argv[2], 0, INT_MAX, &chan) ||
	    !parse_int(argv[3], 1, INT_MAX, &daemon_pid)) {
		fprintf(stderr,
		    "usage: leasepoold %s FD DAEMON_PID MODULES (the daemon runs it)\n",
		    FORKSERVER_ARG);
		_exit(2);
	}
	if (modules_load(argv[4], err, sizeof err) == -1) {
		fprintf(stderr, "leasepoold fork server: %s\n", err);
		_exit(1);
	}
	fs_main((int)chan, (pid_t)daemon_pid);
}

/* ---- the daemon's side ---- */

/* A spawn request not yet sent: the channel was full. */
struct fs_request {
	uint32_t token;
	struct worker_limits limits;
};

static struct {
	struct event_base *base;
	const struct forkserver_events *events;
	int fd;
	pid_t pid;
	double started;
	unsigned quick_deaths; /* in a row, each before RESTART_STABLE */
	/* ever: one restarted since lacks the capabilities the daemon dropped */
	bool died;
	struct event *ev_read;
	struct event *ev_write;
	struct event *ev_restart;
	struct fs_request *queue;
	size_t qlen, qcap;
	/* The command line of a restart, ready before the fork that needs it. */
	char *argv[6];
	char chan_arg[16];
	char pid_arg[16];
	char *modules;
} fs = { .fd = -1 };

static void fs_readable(evutil_socket_t fd, short what, void *arg);
static void fs_writable(evutil_socket_t fd, short what, void *arg);

/*
 * In the child of a fork of the daemon, which may run threads: any lock
 * one of them held at the fork stays held here, malloc's included, so
 * only async-signal-safe calls until the exec.
 */
static __attribute__((noreturn)) void
exec_fork_server(int chan)
{
	extern char **environ;

	/* The channel must survive the exec; every other descriptor is close-on-exec or closed by fs_main. */
	if (fcntl(chan, F_SETFD, 0) == 0)
		execve("/proc/self/exe", fs.argv, environ);
	_exit(127);
}

/*
 * At start-up no thread exists yet, and the child runs fs_main() straight
 * away.  A restart happens while the thread backend may be running jobs:
 * the child execs a fresh fork server instead (forkserver_main()).
 */
/* 0, or the errno of the socketpair or the fork that failed. */
static int
fs_fork(bool by_exec)
{
	pid_t parent = getpid();
	int sv[2], made, error;

	/* A restart must not fail for want of descriptors that clients took. */
	fdreserve_release();
	made = socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
	error = errno;
	fdreserve_refill();
	if (made == -1)
		return error;
	snprintf(fs.chan_arg, sizeof fs.chan_arg, "%d", sv[1]);
	snprintf(fs.pid_arg, sizeof fs.pid_arg, "%d", (int)parent);
	if ((fs.pid = fork()) == -1) {
		error = errno;
		close(sv[0]);
		close(sv[1]);
		return error;
	}
	if (fs.pid == 0) {
		if (by_exec)
			exec_fork_server(sv[1]);
		close(sv[0]);
		fs_main(sv[1], parent);
	}
	fs.started = monotonic_now();
	close(sv[1]);
	fs.fd = sv[0];
	evutil_make_socket_nonblocking(fs.fd);
	fs.ev_read =
	    event_new(fs.base, fs.fd, EV_READ | EV_PERSIST, fs_readable, NULL);
	fs.ev_write = event_new(fs.base, fs.fd, EV_WRITE, fs_writable, NULL);
	if (fs.ev_read == NULL || fs.ev_write == NULL)
		fatalx("fork server: out of memory");
	event_add(fs.ev_read, NULL);
	log_info("fork server started, pid %d", (int)fs.pid);
	return 0;
}

static void restart_later(void);

/*
 * A restart that cannot fork (no memory, no descriptors, the process limit)
 * is not the end of the daemon: the workers waiting for it fail to start,
 * which their pools' crash-loop guard reports, and it tries again later.
 */
static void
fs_restart(evutil_socket_t fd, short what, void *arg)
{
	int error = fs_fork(true);

	if (error != 0) {
		log_err("fork server: cannot start a new one: %s",
		    fdreserve_why(error));
		fs.events->unavailable(error);
		fs.quick_deaths++;
		restart_later();
		return;
	}
	fs.events->restarted();
}

void
forkserver_start(struct event_base *base,
    const struct forkserver_events *events, const char *modules)
{
	int error;

	fs.base = base;
	fs.events = events;
	if ((fs.modules = strdup(modules)) == NULL ||
	    (fs.ev_restart = evtimer_new(base, fs_restart, NULL)) == NULL)
		fatalx("fork server: out of memory");
	fs.argv[0] = "leasepoold";
	fs.argv[1] = FORKSERVER_ARG;
	fs.argv[2] = fs.chan_arg;
	fs.argv[3] = fs.pid_arg;
	fs.argv[4] = fs.modules;
	fs.argv[5] = NULL;
	/* Workers outlive a dead fork server: make the daemon their new parent. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	if ((error = fs_fork(false)) != 0)
		fatalx("fork server: %s", fdreserve_why(error));
}

pid_t
forkserver_pid(void)
{
	return fs.pid;
}

bool
forkserver_has_died(void)
{
	return fs.died;
}

bool
forkserver_is(pid_t pid, void *arg)
{
	return pid == fs.pid;
}

static void
fs_close(void)
{
	if (fs.fd == -1)
		return;
	event_free(fs.ev_read);
	event_free(fs.ev_write);
	close(fs.fd);
	fs.fd = -1;
	fs.qlen = 0;
}

void
forkserver_stop(void)
{
	unsigned stuck;

	fs_close();
	/* Our own children too: workers whose fork server died, and what they left. */
	if (fs.pid > 0 &&
	    (stuck = reaper_stop(forkserver_is, NULL, STOP_WAIT + 1)) > 0)
		log_err("stopping: %u process%s of workers would not die",
		    stuck, lp_plural_es(stuck));
	free(fs.queue);
	fs.queue = NULL;
	fs.qcap = 0;
	if (fs.ev_restart != NULL)
		event_free(fs.ev_restart);
	fs.ev_restart = NULL;
	free(fs.modules);
	fs.modules = NULL;
}

void
forkserver_died(int status)
{
	char how[64];

	if (WIFSIGNALED(status))
		snprintf(how, sizeof how, "was killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(how, sizeof how, "exited with status %d",
		    WEXITSTATUS(status));
	fs_close();
	fs.died = true;
	fs.events->died();
	if (monotonic_now() - fs.started >= RESTART_STABLE)
		fs.quick_deaths = 0;
	fs.quick_deaths++;
	/* Requests meanwhile are dropped; restarted() asks again for every one. */
	if (fs.quick_deaths == 1) {
		log_err("fork server %d %s; starting a new one", (int)fs.pid,
		    how);
		fs_restart(-1, 0, NULL);
		return;
	}
	log_err("fork server %d %s, %u times in a row soon after its start",
	    (int)fs.pid, how, fs.quick_deaths);
	restart_later();
}

/* The next restart, later the more quick deaths or failed starts in a row. */
static void
restart_later(void)
{
	double delay = RESTART_DELAY_FIRST * pow(2, fs.quick_deaths - 2);
	struct timeval tv;

	if (delay > RESTART_DELAY_MAX)
		delay = RESTART_DELAY_MAX;
	log_err("fork server: starting a new one in %.1f s", delay);
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = (suseconds_t)((delay - (double)tv.tv_sec) * 1e6);
	evtimer_add(fs.ev_restart, &tv);
}

static bool
fs_send_now(const struct fs_request *r)
{
	struct fs_msg m = { .type = FS_SPAWN,
		.token = r->token,
		.limits = r->limits };

	return send(fs.fd, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT) ==
	    (ssize_t)sizeof m;
}

void
forkserver_spawn(uint32_t token, const struct worker_limits *limits)
{
	struct fs_request r = { .token = token, .limits = *limits };

	if (fs.fd == -1)
		return; /* stopping */
	if (fs.qlen == 0 && fs_send_now(&r))
		return;
	if (fs.qlen == fs.qcap) {
		size_t cap = fs.qcap ? fs.qcap * 2 : 64;
		struct fs_request *q = reallocarray(fs.queue, cap, sizeof *q);

		if (q == NULL)
			fatalx("out of memory");
		fs.queue = q;
		fs.qcap = cap;
	}
	fs.queue[fs.qlen++] = r;
	event_add(fs.ev_write, NULL);
}

static void
fs_writable(evutil_socket_t fd, short what, void *arg)
{
	size_t sent = 0;

	while (sent < fs.qlen && fs_send_now(&fs.queue[sent]))
		sent++;
	memmove(fs.queue, fs.queue + sent, (fs.qlen - sent) * sizeof *fs.queue);
	fs.qlen -= sent;
	if (fs.qlen > 0)
		event_add(fs.ev_write, NULL);
}

static void
close_fds(const int fds[SPAWNED_FDS])
{
	for (int i = 0; i < SPAWNED_FDS; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

/* The descriptors of an SCM_RIGHTS message, as many as arrived; -1 for the others. */
static void
take_fds(struct msghdr *msg, int fds[SPAWNED_FDS])
{
	struct cmsghdr *c;
	size_t n;

	fds[0] = fds[1] = fds[2] = -1;
	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds, CMSG_DATA(c),
		    (n < SPAWNED_FDS ? n : SPAWNED_FDS) * sizeof(int));
	}
}

static void
fs_receive(void)
{
	char control[CMSG_SPACE(SPAWNED_FDS * sizeof(int))];
	struct fs_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof m };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof control,
	};
	ssize_t n;
	int fds[SPAWNED_FDS];

	for (;;) {
		msg.msg_controllen = sizeof control;
		n = recvmsg(fs.fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			/* It died: SIGCHLD reports how, and forkserver_died() restarts it. */
			event_del(fs.ev_read);
			return;
		}
		take_fds(&msg, fds);
		if (n == (ssize_t)sizeof m && m.type == FS_SPAWNED &&
		    (msg.msg_flags & MSG_CTRUNC)) {
			/* The kernel cut what it found no room for: every descriptor is in use. */
			close_fds(fds);
			kill(m.pid, SIGKILL);
			fs.events->spawn_failed(m.token, EMFILE, "the daemon");
			continue;
		}
		if (n != (ssize_t)sizeof m ||
		    (m.type == FS_SPAWNED && fds[2] == -1)) {
			log_err(
			    "fork server sent a malformed message (%zd byte%s)",
			    n, lp_plural((unsigned long long)n));
			close_fds(fds);
			if (m.type == FS_SPAWNED && n == (ssize_t)sizeof m)
				fs.events->spawn_failed(m.token, EPROTO,
				    "the fork server");
			continue;
		}
		switch (m.type) {
		case FS_SPAWNED:
			fs.events->spawned(m.token, m.pid, fds[0], fds[1],
			    fds[2]);
			break;
		case FS_SPAWN_FAILED:
			fs.events->spawn_failed(m.token, m.status,
			    "the fork server");
			break;
		case FS_EXITED:
			fs.events->exited(m.pid, m.status);
			break;
		case FS_LEFTOVERS:
			fs.events->leftovers(m.pid, (unsigned)m.status);
			break;
		default:
			log_err("fork server sent an unknown message type %u",
			    m.type);
			close_fds(fds);
		}
	}
}

/* Its messages may bring new workers' descriptors: the reserve makes room for them. */
static void
fs_readable(evutil_socket_t fd, short what, void *arg)
{
	fdreserve_release();
	fs_receive();
	fdreserve_refill();
}
