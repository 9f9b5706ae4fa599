/* SPDX-License-Identifier: ISC */
/*
 * The channel between the daemon and one worker process: fixed headers and
 * raw payloads.  A worker may be a program in any language
 * (docs/worker-protocol.md), so the header travels big-endian whatever the
 * machine, encoded and decoded here only.  A job's result travels as the
 * exact msgpack bytes the job packed: the daemon forwards them to the
 * client untouched.
 */
#ifndef LP_DAEMON_WIRE_H
#define LP_DAEMON_WIRE_H

#include <stdint.h>

enum wire_type {
	WIRE_READY = 1, /* worker -> daemon: started, modules initialised */
	WIRE_JOB,	/* daemon -> worker: payload [fn, args, kwargs] */
	/* worker -> daemon: code LP_OK: one msgpack object; else a message */
	WIRE_RESULT,
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
	uint32_t len; /* payload bytes after the header */
	uint32_t job; /* the daemon's job id, echoed */
	uint8_t type;
	uint8_t code; /* enum lp_err, WIRE_RESULT only */
	/*
	 * WIRE_JOB: enum wire_flag.  WIRE_RESULT, WIRE_READY: how many
	 * processes the job (or the modules' init) left running, which the
	 * worker killed before it answered (at most 65535).
	 */
	uint16_t flags;
};

/* The header on the channel: len, job, type, code, flags, in that order, big-endian. */
#define WIRE_HEADER_BYTES 12

static inline void
wire_encode(const struct wire_header *h, unsigned char out[WIRE_HEADER_BYTES])
{
	out[0] = (unsigned char)(h->len >> 24);
	out[1] = (unsigned char)(h->len >> 16);
	out[2] = (unsigned char)(h->len >> 8);
	out[3] = (unsigned char)h->len;
	out[4] = (unsigned char)(h->job >> 24);
	out[5] = (unsigned char)(h->job >> 16);
	out[6] = (unsigned char)(h->job >> 8);
	out[7] = (unsigned char)h->job;
	out[8] = h->type;
	out[9] = h->code;
	out[10] = (unsigned char)(h->flags >> 8);
	out[11] = (unsigned char)h->flags;
}

static inline void
wire_decode(const unsigned char in[WIRE_HEADER_BYTES], struct wire_header *h)
{
	h->len = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
	    (uint32_t)in[2] << 8 | in[3];
	h->job = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 |
	    (uint32_t)in[6] << 8 | in[7];
	h->type = in[8];
	h->code = in[9];
	h->flags = (uint16_t)(in[10] << 8 | in[11]);
}

#endif
