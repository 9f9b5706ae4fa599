/* SPDX-License-Identifier: ISC */
/*
 * testjobs: a job module that misbehaves on demand, for the fault tests.
 *
 *	abort			abort(): the worker dies of SIGABRT
 *	segv			dies of SIGSEGV (whatever handler a sanitizer set)
 *	exit [code]		_exit(code)
 *	hang			sleeps until killed
 *	fail [msg]		JOB_FAILED with msg
 *	leak [MiB]		allocates and touches MiB, never frees; returns the MiB leaked so far
 *	alloc [MiB]		allocates, touches and frees MiB; true, or JOB_FAILED when malloc fails
 *	big [bytes]		a bin of that many zero bytes (thread-safe: it runs on both backends)
 *	pid			the worker's pid
 *	fork [stay]		forks a child that waits for a signal (stay 1) or exits at once
 *				(stay 0); returns its pid (thread-safe: a thread job's child)
 *	inited			whether this module's init ran in this worker
 *	two			packs two objects: an ABI violation
 *	none			packs nothing: an ABI violation
 *	print [text]		writes text to stdout and to stderr, returns nil
 *	args			[args, kwargs] exactly as received
 *	fini_file [path]	fini will also write "fini PID" to path
 *
 * fini writes "testjobs: fini in worker PID" to stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <leasepool/job.h>

#define MIB (1024 * 1024)

static pid_t init_pid;
static char fini_path[4096];

/* Leaked blocks stay reachable from here, so no compiler drops them. */
static void *leaked;
static uint64_t leaked_mib;

static bool
uint_arg(struct lp_job *job, const msgpack_object *args, uint64_t *v)
{
	if (args->via.array.size != 1 ||
	    args->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		lp_job_fail(job, "takes one integer >= 0");
		return false;
	}
	*v = args->via.array.ptr[0].via.u64;
	return true;
}

static bool
str_arg(struct lp_job *job, const msgpack_object *args, const char **p,
    size_t *len)
{
	if (args->via.array.size != 1 ||
	    args->via.array.ptr[0].type != MSGPACK_OBJECT_STR) {
		lp_job_fail(job, "takes one string");
		return false;
	}
	*p = args->via.array.ptr[0].via.str.ptr;
	*len = args->via.array.ptr[0].via.str.size;
	return true;
}

/* Writes to every page, so the memory is really used, not just reserved. */
static void
touch(volatile char *p, size_t len)
{
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
}

static int
job_abort(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	abort();
}

static int
job_segv(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	/* A sanitizer's SEGV handler would turn the signal into exit(1). */
	signal(SIGSEGV, SIG_DFL);
	raise(SIGSEGV);
	return lp_job_fail(job, "survived SIGSEGV");
}

static int
job_exit(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	uint64_t code;

	if (!uint_arg(job, args, &code))
		return -1;
	_exit((int)code);
}

static int
job_fork(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	uint64_t stay;
	pid_t pid;

	if (!uint_arg(job, args, &stay))
		return -1;
	/* The child of a threaded process: async-signal-safe calls only. */
	if ((pid = fork()) == 0) {
		while (stay)
			pause();
		_exit(0);
	}
	if (pid == -1)
		return lp_job_fail(job, "fork: %s", strerror(errno));
	msgpack_pack_int64(lp_job_result(job), pid);
	return 0;
}

static int
job_hang(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	/* pause() only ever returns after a handled signal, and none is handled. */
	while (pause() == -1 && errno == EINTR)
		continue;
	return lp_job_fail(job, "hang: pause failed");
}

static int
job_fail(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	const char *msg;
	size_t len;

	if (!str_arg(job, args, &msg, &len))
		return -1;
	return lp_job_fail(job, "%.*s", (int)len, msg);
}

static int
job_leak(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	uint64_t mib;
	void **block;

	if (!uint_arg(job, args, &mib))
		return -1;
	if (mib > SIZE_MAX / MIB ||
	    (block = malloc(mib * MIB + sizeof *block)) == NULL)
		return lp_job_fail(job, "cannot allocate %llu MiB",
		    (unsigned long long)mib);
	touch((volatile char *)block, mib * MIB + sizeof *block);
	*block = leaked;
	leaked = block;
	leaked_mib += mib;
	msgpack_pack_uint64(lp_job_result(job), leaked_mib);
	return 0;
}

static int
job_alloc(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	volatile char *p;
	uint64_t mib;

	if (!uint_arg(job, args, &mib))
		return -1;
	if (mib > SIZE_MAX / MIB || (p = malloc(mib * MIB)) == NULL)
		return lp_job_fail(job, "cannot allocate %llu MiB",
		    (unsigned long long)mib);
	touch(p, mib * MIB);
	free((void *)p);
	msgpack_pack_true(lp_job_result(job));
	return 0;
}

static int
job_big(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	static const char zeros[4096];
	msgpack_packer *pk = lp_job_result(job);
	uint64_t bytes;

	if (!uint_arg(job, args, &bytes))
		return -1;
	if (bytes > UINT32_MAX)
		return lp_job_fail(job, "a bin holds at most 4 GiB");
	msgpack_pack_bin(pk, (size_t)bytes);
	while (bytes > 0) {
		size_t n = bytes < sizeof zeros ? (size_t)bytes : sizeof zeros;

		msgpack_pack_bin_body(pk, zeros, n);
		bytes -= n;
	}
	return 0;
}

static int
job_pid(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	msgpack_pack_int64(lp_job_result(job), getpid());
	return 0;
}

static int
job_inited(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	if (init_pid == getpid())
		msgpack_pack_true(lp_job_result(job));
	else
		msgpack_pack_false(lp_job_result(job));
	return 0;
}

static int
job_two(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	msgpack_pack_nil(lp_job_result(job));
	msgpack_pack_nil(lp_job_result(job));
	return 0;
}

static int
job_none(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	return 0;
}

static void
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static int
job_print(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	const char *text;
	size_t len;

	if (!str_arg(job, args, &text, &len))
		return -1;
	write_all(STDOUT_FILENO, text, len);
	write_all(STDERR_FILENO, text, len);
	msgpack_pack_nil(lp_job_result(job));
	return 0;
}

static int
job_args(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	msgpack_packer *pk = lp_job_result(job);

	msgpack_pack_array(pk, 2);
	msgpack_pack_object(pk, *args);
	msgpack_pack_object(pk, *kwargs);
	return 0;
}

static int
job_fini_file(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	const char *path;
	size_t len;

	if (!str_arg(job, args, &path, &len))
		return -1;
	if (len >= sizeof fini_path)
		return lp_job_fail(job, "path too long");
	memcpy(fini_path, path, len);
	fini_path[len] = '\0';
	msgpack_pack_nil(lp_job_result(job));
	return 0;
}

static int
testjobs_init(void)
{
	init_pid = getpid();
	return 0;
}

static void
testjobs_fini(void)
{
	FILE *f;
	char tmp[sizeof fini_path + 8];

	dprintf(STDERR_FILENO, "testjobs: fini in worker %d\n", (int)getpid());
	if (fini_path[0] == '\0')
		return;
	/* Whole or not at all: the test waits for the file to appear. */
	snprintf(tmp, sizeof tmp, "%s.tmp", fini_path);
	if ((f = fopen(tmp, "w")) != NULL) {
		fprintf(f, "fini %d\n", (int)getpid());
		if (fclose(f) == 0)
			rename(tmp, fini_path);
	}
}

static const struct lp_job_function functions[] = {
	{ "abort", job_abort, 0 },
	{ "segv", job_segv, 0 },
	{ "exit", job_exit, 0 },
	{ "hang", job_hang, 0 },
	{ "fail", job_fail, 0 },
	{ "leak", job_leak, 0 },
	{ "alloc", job_alloc, 0 },
	{ "big", job_big, LP_JOB_THREAD_SAFE },
	{ "pid", job_pid, 0 },
	{ "fork", job_fork, LP_JOB_THREAD_SAFE },
	{ "inited", job_inited, 0 },
	{ "two", job_two, 0 },
	{ "none", job_none, 0 },
	{ "print", job_print, 0 },
	{ "args", job_args, 0 },
	{ "fini_file", job_fini_file, 0 },
	{ NULL, NULL, 0 },
};

const struct lp_job_module leasepool_job_module = {
	.abi_version = LP_JOB_ABI_VERSION,
	.name = "testjobs",
	.functions = functions,
	.init = testjobs_init,
	.fini = testjobs_fini,
};
