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

#include <endian.h>
#include <stdint.h>
#include <string.h>

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

/*
 * Whole big-endian words, not bytes shifted one at a time: compilers do
 * not merge those into a byte swap, and the header is encoded and decoded
 * at every job on both ends (bench/README.md).
 */
static inline void
wire_put32(unsigned char *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof v);
}

static inline uint32_t
wire_get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return be32toh(v);
}

static inline void
wire_encode(const struct wire_header *h, unsigned char out[WIRE_HEADER_BYTES])
{
	wire_put32(out, h->len);
	wire_put32(out + 4, h->job);
	wire_put32(out + 8,
	    (uint32_t)h->type << 24 | (uint32_t)h->code << 16 | h->flags);
}

static inline void
wire_decode(const unsigned char in[WIRE_HEADER_BYTES], struct wire_header *h)
{
	uint32_t last = wire_get32(in + 8);

	h->len = wire_get32(in);
	h->job = wire_get32(in + 4);
	h->type = (uint8_t)(last >> 24);
	h->code = (uint8_t)(last >> 16);
	h->flags = (uint16_t)last;
}

#endif
