#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/forkserver.h"
#include "daemon/log.h"

enum fs_msg_type {
	FS_SPAWN = 1,		/* daemon -> fork server */
	FS_SPAWNED,		/* with the worker's socket */
	FS_SPAWN_FAILED,	/* status holds errno */
	FS_EXITED,		/* status as from waitpid() */
};

struct fs_msg {
	uint32_t type;
	uint32_t token;
	int32_t pid;
	int32_t status;
	struct worker_limits limits;	/* FS_SPAWN */
};

/* ---- the fork server process ---- */

static void
close_all_but(int keep)
{
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	close_range((unsigned)keep + 1, ~0U, 0);
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

/* Sends m, with the worker's channel and log pipe when fds is not NULL. */
static void
fs_send(int chan, const struct fs_msg *m, const int *fds)
{
	char control[CMSG_SPACE(2 * sizeof(int))];
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
		c->cmsg_len = CMSG_LEN(2 * sizeof(int));
		memcpy(CMSG_DATA(c), fds, 2 * sizeof(int));
	}
	while (sendmsg(chan, &msg, MSG_NOSIGNAL) == -1) {
		if (errno != EINTR)
			_exit(0);	/* the daemon is gone */
	}
}

static void
fs_spawn_failed(int chan, uint32_t token, int error)
{
	struct fs_msg m = { .type = FS_SPAWN_FAILED, .token = token, .status = error };

	fs_send(chan, &m, NULL);
}

/* In the new worker: the standard descriptors, its limits, nothing else inherited. */
static void __attribute__((noreturn))
worker_start(int channel, int log, const struct worker_limits *limits)
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
	close_all_but(channel);
	if (limits->memory_limit > 0) {
		struct rlimit rl = { limits->memory_limit, limits->memory_limit };

		setrlimit(RLIMIT_AS, &rl);
	}
	worker_main(channel, limits);
}

static void
fs_spawn(int chan, uint32_t token, const struct worker_limits *limits)
{
	struct fs_msg m = { .type = FS_SPAWNED, .token = token };
	int sv[2], log[2], fds[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		fs_spawn_failed(chan, token, errno);
		return;
	}
	if (pipe2(log, O_CLOEXEC) == -1) {
		fs_spawn_failed(chan, token, errno);
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if ((pid = fork()) == -1) {
		fs_spawn_failed(chan, token, errno);
		close(sv[0]);
		close(sv[1]);
		close(log[0]);
		close(log[1]);
		return;
	}
	if (pid == 0)
		worker_start(sv[1], log[1], limits);
	close(sv[1]);
	close(log[1]);
	m.pid = pid;
	fds[0] = sv[0];
	fds[1] = log[0];
	fs_send(chan, &m, fds);
	close(sv[0]);
	close(log[0]);
}

static void
fs_reap(int chan)
{
	struct fs_msg m = { .type = FS_EXITED };
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		m.pid = pid;
		m.status = status;
		fs_send(chan, &m, NULL);
	}
}

static void __attribute__((noreturn))
fs_main(int chan, pid_t daemon_pid)
{
	struct pollfd pfd[2];
	struct signalfd_siginfo si;
	struct fs_msg m;
	sigset_t chld;
	int sfd;

	prctl(PR_SET_NAME, "leasepool-fork");
	/* Die with the daemon; it may already be gone. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != daemon_pid)
		_exit(0);
	close_all_but(chan);
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

			if (n == 0 || (n == -1 && errno != EINTR && errno != EAGAIN))
				_exit(0);
			if (n == (ssize_t)sizeof m && m.type == FS_SPAWN)
				fs_spawn(chan, m.token, &m.limits);
		}
	}
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
	struct event *ev_read;
	struct event *ev_write;
	struct fs_request *queue;
	size_t qlen, qcap;
} fs = { .fd = -1 };

static void fs_readable(evutil_socket_t fd, short what, void *arg);
static void fs_writable(evutil_socket_t fd, short what, void *arg);

static void
fs_fork(void)
{
	pid_t parent = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatalx("fork server: socketpair: %s", strerror(errno));
	if ((fs.pid = fork()) == -1)
		fatalx("fork server: fork: %s", strerror(errno));
	if (fs.pid == 0) {
		close(sv[0]);
		fs_main(sv[1], parent);
	}
	close(sv[1]);
	fs.fd = sv[0];
	evutil_make_socket_nonblocking(fs.fd);
	fs.ev_read = event_new(fs.base, fs.fd, EV_READ | EV_PERSIST, fs_readable, NULL);
	fs.ev_write = event_new(fs.base, fs.fd, EV_WRITE, fs_writable, NULL);
	if (fs.ev_read == NULL || fs.ev_write == NULL)
		fatalx("fork server: out of memory");
	event_add(fs.ev_read, NULL);
	log_info("fork server started, pid %d", (int)fs.pid);
}

void
forkserver_start(struct event_base *base, const struct forkserver_events *events)
{
	fs.base = base;
	fs.events = events;
	/* Workers outlive a dead fork server: make the daemon their new parent. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	fs_fork();
}

pid_t
forkserver_pid(void)
{
	return fs.pid;
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
	fs_close();
	free(fs.queue);
	fs.queue = NULL;
	fs.qcap = 0;
}

void
forkserver_died(int status)
{
	if (WIFSIGNALED(status))
		log_err("fork server %d was killed by signal %d; starting a new one",
		    (int)fs.pid, WTERMSIG(status));
	else
		log_err("fork server %d exited with status %d; starting a new one",
		    (int)fs.pid, WEXITSTATUS(status));
	fs_close();
	fs_fork();
	fs.events->restarted();
}

static bool
fs_send_now(const struct fs_request *r)
{
	struct fs_msg m = { .type = FS_SPAWN, .token = r->token, .limits = r->limits };

	return send(fs.fd, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof m;
}

void
forkserver_spawn(uint32_t token, const struct worker_limits *limits)
{
	struct fs_request r = { .token = token, .limits = *limits };

	if (fs.fd == -1)
		return;		/* stopping */
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
close_fds(const int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

static void
fs_readable(evutil_socket_t fd, short what, void *arg)
{
	char control[CMSG_SPACE(2 * sizeof(int))];
	struct fs_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof m };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control, .msg_controllen = sizeof control,
	};
	struct cmsghdr *c;
	ssize_t n;
	int fds[2];

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
		fds[0] = fds[1] = -1;
		for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
			    c->cmsg_len == CMSG_LEN(2 * sizeof(int)))
				memcpy(fds, CMSG_DATA(c), sizeof fds);
		if (n != (ssize_t)sizeof m || (m.type == FS_SPAWNED && fds[1] == -1)) {
			log_err("fork server sent a malformed message (%zd bytes)", n);
			close_fds(fds);
			if (m.type == FS_SPAWNED && n == (ssize_t)sizeof m)
				fs.events->spawn_failed(m.token, EPROTO);
			continue;
		}
		switch (m.type) {
		case FS_SPAWNED:
			fs.events->spawned(m.token, m.pid, fds[0], fds[1]);
			break;
		case FS_SPAWN_FAILED:
			fs.events->spawn_failed(m.token, m.status);
			break;
		case FS_EXITED:
			fs.events->exited(m.pid, m.status);
			break;
		default:
			log_err("fork server sent an unknown message type %u", m.type);
			close_fds(fds);
		}
	}
}
