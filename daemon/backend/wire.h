/*
 * The channel between the daemon and one worker process: fixed headers and
 * raw payloads.  Both ends are this program on this host, so the header is
 * in native byte order, and a job's result travels as the exact msgpack
 * bytes the job packed: the daemon forwards them to the client untouched.
 */
#ifndef LP_DAEMON_WIRE_H
#define LP_DAEMON_WIRE_H

#include <stdint.h>

enum wire_type {
	WIRE_READY = 1,		/* worker -> daemon: started, modules initialised */
	WIRE_JOB,		/* daemon -> worker: payload [fn, args, kwargs] */
	WIRE_RESULT,		/* worker -> daemon: code LP_OK: one msgpack object; else a message */
	/*
	 * daemon -> worker, no payload: end the recallable frame job after the
	 * job running now.  One that comes after the frame ended is ignored.
	 */
	WIRE_RECALL,
	/* worker -> daemon, no payload: the results of frame job so far are all it ran of it. */
	WIRE_RECALLED,
};

/* WIRE_JOB only. */
enum wire_flag {
	/* Several runs of a lease: runs were queued, so more are likely on the way. */
	WIRE_STREAM = 1,
	/*
	 * A grinder batch of several items: the worker looks for a
	 * WIRE_RECALL between its jobs.  Nothing else comes while it runs.
	 */
	WIRE_RECALLABLE = 2,
};

struct wire_header {
	uint32_t len;		/* payload bytes after the header */
	uint32_t job;		/* the daemon's job id, echoed */
	uint8_t type;
	uint8_t code;		/* enum lp_err, WIRE_RESULT only */
	/*
	 * WIRE_JOB: enum wire_flag.  WIRE_RESULT, WIRE_READY: how many
	 * processes the job (or the modules' init) left running, which the
	 * worker killed before it answered (at most 65535).
	 */
	uint16_t flags;
};

_Static_assert(sizeof(struct wire_header) == 12, "wire header is 12 bytes");

#endif
