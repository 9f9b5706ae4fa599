/* SPDX-License-Identifier: ISC */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/harness.h"
#include "tests/integration/program.h"

struct capture {
	int fd;
	char *buf;
	size_t size;
	size_t used;
};

static const char *
env_or(const char *name, const char *otherwise)
{
	const char *p = getenv(name);

	return p != NULL ? p : otherwise;
}

const char *
program_tool(void)
{
	return env_or("LP_TOOL", "build/leasepool");
}

const char *
program_examples(void)
{
	return env_or("LP_EXAMPLES", "build/examples");
}

const char *
program_readme(void)
{
	return env_or("LP_README", "build/readme");
}

static double
seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A memory file, so the child reads its input at its own pace and we never block on it. */
static int
input_file(const char *input, size_t len)
{
	int fd = memfd_create("stdin", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, input, len), (ssize_t)len);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static __attribute__((noreturn)) void
child(char *const argv[], const char *socket, int in, int out, int err,
    pid_t parent)
{
	/* Never outlive the test process, however it ends. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	dup2(in, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(err, STDERR_FILENO);
	if (socket != NULL)
		setenv("LEASEPOOL_SOCKET", socket, 1);
	else
		unsetenv("LEASEPOOL_SOCKET");
	execv(argv[0], argv);
	dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Keeps what fits of each stream, and reads on to EOF so that the child never blocks. */
static bool
read_some(struct capture *c)
{
	char scratch[4096];
	ssize_t n = read(c->fd, scratch, sizeof scratch);
	size_t keep;

	if (n == -1 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	keep = (size_t)n < c->size - 1 - c->used ? (size_t)n :
						   c->size - 1 - c->used;
	memcpy(c->buf + c->used, scratch, keep);
	c->used += keep;
	c->buf[c->used] = '\0';
	return true;
}

/* Both streams to EOF; false when the bound passed first. */
static bool
collect(struct capture *caps)
{
	double until = seconds_now() + HARNESS_WAIT_SECONDS;
	struct pollfd pfd[2] = { { .fd = caps[0].fd, .events = POLLIN },
		{ .fd = caps[1].fd, .events = POLLIN } };

	while (pfd[0].fd != -1 || pfd[1].fd != -1) {
		double left = until - seconds_now();

		if (left <= 0)
			return false;
		if (poll(pfd, 2, (int)(left * 1000) + 1) == -1 &&
		    errno != EINTR)
			ck_abort_msg("poll: %s", strerror(errno));
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd != -1 && pfd[i].revents != 0 &&
			    !read_some(&caps[i]))
				pfd[i].fd = -1;
		}
	}
	return true;
}

int
program_run(struct program *p, char *const argv[], const char *socket,
    const char *input)
{
	return program_run_bytes(p, argv, socket, input,
	    input != NULL ? strlen(input) : 0, -1);
}

/* out -1: stdout into p->out. */
int
program_run_bytes(struct program *p, char *const argv[], const char *socket,
    const char *input, size_t len, int out)
{
	struct capture caps[2] = { { -1, p->out, sizeof p->out, 0 },
		{ -1, p->err, sizeof p->err, 0 } };
	int in = input_file(input, len), pipe_out[2] = { -1, -1 }, err[2],
	    status;
	pid_t parent = getpid(), pid;
	bool finished;

	if (out == -1) {
		ck_assert_int_eq(pipe2(pipe_out, O_CLOEXEC), 0);
		out = pipe_out[1];
	}
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	p->out[0] = p->err[0] = '\0';
	if ((pid = fork()) == 0)
		child(argv, socket, in, out, err[1], parent);
	ck_assert_int_ge(pid, 0);
	close(in);
	close(pipe_out[1]);
	close(err[1]);
	caps[0].fd = pipe_out[0]; /* -1 when out is a file: poll skips it */
	caps[1].fd = err[0];
	finished = collect(caps);
	close(pipe_out[0]);
	close(err[0]);
	if (!finished)
		kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(finished,
	    "%s was still running after %.0f s; it said: %s%s", argv[0],
	    HARNESS_WAIT_SECONDS, p->out, p->err);
	p->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return p->status;
}
