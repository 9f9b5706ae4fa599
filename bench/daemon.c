/* SPDX-License-Identifier: ISC */
/*
 * The leasepoold under test: started from the --daemon path on a
 * configuration of our own, in a private directory that also holds its
 * socket and its log, and stopped the way an operator would (SIGTERM).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"

#define START_SECONDS 10.0
#define STOP_SECONDS 15.0

/* A pool whose grinder dispatches batches of batch items, on one executor of all CPUs. */
#define GRINDER_POOL(name, batch) \
	"\n[pool " name \
	"]\nworkers = %u\nexecutors_min = 1\nexecutors_max = 1\n" \
	"batch_size = " batch "\nbatch_wait = 0.002\njob_timeout = 600\n"

/*
 * Threads of the thread backend: sleep needs no CPU, so far more of them
 * than CPUs can be kept busy, and it takes that many to load the daemon.
 * They exist only while leased (executors_min 0, a short idle_seconds):
 * idle, their stacks would be counted in the daemon's idle footprint.
 */
#define THREAD_WORKERS "64"

/*
 * The python pool: the package and the jobs from the source tree, so that
 * nothing need be installed (the workers inherit the daemon's PYTHONPATH).
 */
#define PYTHON_PROBE "/usr/bin/python3 -c 'import msgpack' >/dev/null 2>&1"

static void
write_python_pool(FILE *f, unsigned ncpu)
{
	fprintf(f,
	    "\n[pool " BENCH_POOL_PYTHON
	    "]\n"
	    "worker_program = /usr/bin/python3 -m leasepoold.worker "
	    "--path '" BENCH_SOURCE
	    "/examples/python' primes\n"
	    "workers = %u\n"
	    "executors_min = 0\n"
	    "executors_max = 1\n"
	    "job_timeout = 600\n",
	    ncpu);
}

/*
 * One pool sized to the machine, as the issue asks, a second one of
 * exactly two single-worker executors for the contended acquires, one
 * grinder pool per batch size measured, and one of many threads.
 * job_timeout is generous: no figure should ever be a timeout.
 */
static void
write_config(const char *path, unsigned ncpu, bool python)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		bench_fatal("%s: %s", path, strerror(errno));
	fprintf(f,
	    "# written by leasepool-bench\n"
	    "[daemon]\n"
	    "max_connections = 20000\n"
	    "max_connections_per_user = 20000\n"
	    "shutdown_timeout = 5\n"
	    "\n"
	    "[pool " BENCH_POOL_CPU "]\n"
	    "workers = %u\n"
	    "executors_min = 1\n"
	    "executors_max = 4\n"
	    "job_timeout = 600\n"
	    "\n"
	    "[pool " BENCH_POOL_PAIR "]\n"
	    "workers = 1\n"
	    "executors_min = 2\n"
	    "executors_max = 2\n"
	    "job_timeout = 600\n"
	    GRINDER_POOL(BENCH_POOL_GRIND1, "1")
	    GRINDER_POOL(BENCH_POOL_GRIND16, "16")
	    GRINDER_POOL(BENCH_POOL_GRIND64, "64")
	    GRINDER_POOL(BENCH_POOL_GRIND256, "256")
	    "\n"
	    "[pool " BENCH_POOL_THREADS "]\n"
	    "backend = thread\n"
	    "workers = " THREAD_WORKERS "\n"
	    "executors_min = 0\n"
	    "executors_max = 1\n"
	    "idle_seconds = 0.5\n"
	    "job_timeout = 600\n", ncpu, ncpu, ncpu, ncpu, ncpu);
	if (python)
		write_python_pool(f, ncpu);
	if (fclose(f) != 0)
		bench_fatal("%s: %s", path, strerror(errno));
}

static __attribute__((noreturn)) void
exec_daemon(const struct bench_daemon *d, const char *path)
{
	int logfd =
	    open(d->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (logfd == -1 || null == -1)
		_exit(126);
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO);
	dup2(logfd, STDERR_FILENO);
	setenv("PYTHONPATH", BENCH_SOURCE "/client/python", 1);
	setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
	execl(path, path, "-c", d->config, "-s", d->socket, (char *)NULL);
	dprintf(STDERR_FILENO, "leasepool-bench: exec %s: %s\n", path,
	    strerror(errno));
	_exit(127);
}

/* The daemon answers hello: it is listening and its pools are configured. */
static bool
daemon_answers(const struct bench_daemon *d)
{
	struct lp_client *c = lp_connect(d->socket, NULL);
	bool ok;

	if (c == NULL)
		return false;
	ok = lp_hello(c, "leasepool-bench", NULL, NULL) == LP_OK;
	lp_client_free(c);
	return ok;
}

void
daemon_start(struct bench_daemon *d, const char *path, unsigned ncpu)
{
	uint64_t start;
	int status;

	memset(d, 0, sizeof *d);
	snprintf(d->dir, sizeof d->dir, "/tmp/leasepool-bench.XXXXXX");
	if (mkdtemp(d->dir) == NULL)
		bench_fatal("mkdtemp: %s", strerror(errno));
	snprintf(d->socket, sizeof d->socket, "%s/leasepool.sock", d->dir);
	snprintf(d->config, sizeof d->config, "%s/leasepoold.conf", d->dir);
	snprintf(d->log, sizeof d->log, "%s/leasepoold.log", d->dir);
	d->python = system(PYTHON_PROBE) == 0;
	if (!d->python)
		report_note(
		    "no /usr/bin/python3 with msgpack (python3-msgpack): "
		    "no Python pool, no python figures");
	write_config(d->config, ncpu, d->python);

	switch (d->pid = fork()) {
	case -1:
		bench_fatal("fork: %s", strerror(errno));
	case 0:
		exec_daemon(d, path);
	}
	start = now_ns();
	while (!daemon_answers(d)) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			bench_fatal("%s stopped at start-up (status %d)", path,
			    status);
		}
		if (seconds_since(start) > START_SECONDS)
			bench_fatal("%s did not answer within %.0f s", path,
			    START_SECONDS);
		sleep_seconds(0.01);
	}
}

/* SIGTERM and a graceful drain; SIGKILL when it takes too long. */
void
daemon_stop(struct bench_daemon *d)
{
	uint64_t start = now_ns();
	int status;
	pid_t pid;

	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	while ((pid = waitpid(d->pid, &status, WNOHANG)) == 0) {
		if (seconds_since(start) > STOP_SECONDS) {
			report_note(
			    "leasepoold did not stop within %.0f s of SIGTERM; killed",
			    STOP_SECONDS);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			break;
		}
		sleep_seconds(0.005);
	}
	d->pid = 0;
	if (pid == -1)
		return;
	if (WIFSIGNALED(status))
		report_note("leasepoold was killed by signal %d",
		    WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		report_note("leasepoold exited with status %d",
		    WEXITSTATUS(status));
}

struct lp_client *
daemon_connect(const struct bench_daemon *d)
{
	struct lp_error err;
	struct lp_client *c = lp_connect(d->socket, &err);

	if (c == NULL)
		bench_fatal("connect %s: %s", d->socket, err.message);
	return c;
}

void
daemon_acquire(struct lp_client *c, const char *pool, struct lp_lease *lease)
{
	struct lp_acquire_opts opts = { .pool = pool,
		.owner = "leasepool-bench" };
	struct lp_error err;

	if (lp_acquire(c, &opts, lease, &err) != LP_OK)
		bench_fatal("acquire on pool %s: %s", pool, err.message);
}

void
daemon_release(struct lp_client *c, const struct lp_lease *lease)
{
	struct lp_error err;

	if (lp_release(c, lease->id, &err) != LP_OK)
		bench_fatal("release of lease %llu: %s",
		    (unsigned long long)lease->id, err.message);
}

int
daemon_raw_connect(const struct bench_daemon *d)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", d->socket);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

void
daemon_remove_files(const struct bench_daemon *d)
{
	unlink(d->socket);
	unlink(d->config);
	unlink(d->log);
	rmdir(d->dir);
}
