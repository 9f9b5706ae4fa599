/* SPDX-License-Identifier: ISC */
/*
 * A worker program written from docs/worker-protocol.md alone, for the
 * programs suite: echo, fail, sleep, crash, garbage (writes what is no
 * frame), big (a result of n bytes), print (to stdout and stderr), pid,
 * env (what it was started with: [pool, max result bytes, effective
 * capabilities]).
 * Run as "echo_worker noready" it never says READY.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

enum {
	READY = 1,
	JOB = 2,
	RESULT = 3,
	RECALL = 4
};
enum {
	OK = 0,
	NO_SUCH_FUNCTION = 5,
	JOB_FAILED = 13,
	INTERNAL = 16
};

static int
read_all(void *buf, size_t len)
{
	for (char *p = buf; len > 0;) {
		ssize_t n = read(3, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
write_all(const void *buf, size_t len)
{
	for (const char *p = buf; len > 0;) {
		ssize_t n = write(4, p, len);

		if (n <= 0)
			exit(1);
		p += n;
		len -= (size_t)n;
	}
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void
send_frame(uint32_t job, int type, int code, const void *payload, size_t len)
{
	unsigned char h[12] = { 0 };

	put32(h, (uint32_t)len);
	put32(h + 4, job);
	h[8] = (unsigned char)type;
	h[9] = (unsigned char)code;
	write_all(h, sizeof h);
	write_all(payload, len);
}

static void
send_error(uint32_t job, int code, const char *message)
{
	send_frame(job, RESULT, code, message, strlen(message));
}

static double
number(const msgpack_object *args)
{
	const msgpack_object *a =
	    args->via.array.size > 0 ? &args->via.array.ptr[0] : NULL;

	if (a != NULL && a->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		return (double)a->via.u64;
	return a != NULL && a->type == MSGPACK_OBJECT_FLOAT64 ? a->via.f64 : 0;
}

static void
run_job(uint32_t id, const msgpack_object *job)
{
	const msgpack_object *e;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char fn[64], msg[128];

	if (job->type != MSGPACK_OBJECT_ARRAY || job->via.array.size != 3 ||
	    (e = job->via.array.ptr)[0].type != MSGPACK_OBJECT_STR ||
	    e[1].type != MSGPACK_OBJECT_ARRAY ||
	    e[2].type != MSGPACK_OBJECT_MAP) {
		send_error(id, INTERNAL,
		    "a job that is not [fn, args, kwargs]");
		return;
	}
	snprintf(fn, sizeof fn, "%.*s", (int)e[0].via.str.size,
	    e[0].via.str.ptr);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (strcmp(fn, "echo") == 0 && e[1].via.array.size > 0) {
		msgpack_pack_object(&pk, e[1].via.array.ptr[0]);
	} else if (strcmp(fn, "sleep") == 0) {
		double s = number(&e[1]);
		struct timespec ts = { (time_t)s,
			(long)((s - (double)(time_t)s) * 1e9) };

		nanosleep(&ts, NULL);
		msgpack_pack_nil(&pk);
	} else if (strcmp(fn, "big") == 0) {
		size_t n = (size_t)number(&e[1]);
		char *s = calloc(1, n + 1);

		memset(s, 'x', n);
		msgpack_pack_str_with_body(&pk, s, n);
		free(s);
	} else if (strcmp(fn, "print") == 0) {
		printf("to stdout from the program\n");
		fflush(stdout);
		fprintf(stderr, "to stderr from the program\n");
		msgpack_pack_nil(&pk);
	} else if (strcmp(fn, "pid") == 0) {
		msgpack_pack_int64(&pk, getpid());
	} else if (strcmp(fn, "orphan") == 0) {
		/* A process that outlives its job, as a careless program leaves one. */
		pid_t child = fork();

		if (child == 0) {
			close(3);
			close(4);
			setsid();
			pause();
			_exit(0);
		}
		msgpack_pack_int64(&pk, child);
	} else if (strcmp(fn, "env") == 0) {
		char line[256] = "", caps[64] = "?";
		const char *pool = getenv("LEASEPOOL_POOL");
		FILE *f = fopen("/proc/self/status", "r");

		while (f != NULL && fgets(line, sizeof line, f) != NULL)
			sscanf(line, "CapEff: %63s", caps);
		if (f != NULL)
			fclose(f);
		msgpack_pack_array(&pk, 3);
		msgpack_pack_str_with_body(&pk, pool, strlen(pool));
		msgpack_pack_int64(&pk,
		    atoll(getenv("LEASEPOOL_MAX_RESULT_BYTES")));
		msgpack_pack_str_with_body(&pk, caps, strlen(caps));
	} else if (strcmp(fn, "crash") == 0) {
		raise(SIGKILL);
	} else if (strcmp(fn, "garbage") == 0) {
		write_all("this is not a frame\n", 20);
		pause();
	} else {
		snprintf(msg, sizeof msg,
		    strcmp(fn, "fail") == 0 ? "%s failed on purpose" :
					      "no function named '%s'",
		    fn);
		send_error(id,
		    strcmp(fn, "fail") == 0 ? JOB_FAILED : NO_SUCH_FUNCTION,
		    msg);
		msgpack_sbuffer_destroy(&sb);
		return;
	}
	send_frame(id, RESULT, OK, sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
}

int
main(int argc, char **argv)
{
	const char *fds = getenv("LEASEPOOL_WORKER_FDS");
	unsigned char h[12];

	if (fds == NULL || strcmp(fds, "3,4") != 0)
		return 2;
	if (argc > 1 && strcmp(argv[1], "noready") == 0)
		for (;;)
			pause();
	send_frame(0, READY, OK, NULL, 0);
	while (read_all(h, sizeof h) == 0) {
		uint32_t len = get32(h), id = get32(h + 4);
		char *payload;
		msgpack_unpacked u;

		if (h[8] == RECALL && len == 0)
			/* this worker never looks for one: too late */
			continue;
		if (h[8] != JOB || (payload = malloc(len + 1)) == NULL ||
		    read_all(payload, len) == -1)
			return 2;
		msgpack_unpacked_init(&u);
		if (msgpack_unpack_next(&u, payload, len, NULL) !=
			MSGPACK_UNPACK_SUCCESS ||
		    u.data.type != MSGPACK_OBJECT_ARRAY)
			return 2;
		for (uint32_t i = 0; i < u.data.via.array.size; i++)
			run_job(id, &u.data.via.array.ptr[i]);
		msgpack_unpacked_destroy(&u);
		free(payload);
	}
	return 0;
}
