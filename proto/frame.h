/* SPDX-License-Identifier: ISC */
/*
 * A streaming msgpack framer: finds where each top-level msgpack object ends
 * in a byte stream that arrives in pieces of any size (one byte at a time
 * works), without allocating and without trusting declared lengths.
 *
 * Why not msgpack_unpacker alone: it allocates arrays and maps from their
 * declared counts before the elements arrive, so a five-byte header can ask
 * for gigabytes.  The framer enforces the message size and nesting limits
 * first; a decoder (msgpack_unpack() in the client, the cursor of cursor.h
 * in the daemon) is then only ever given one complete message whose counts
 * are bounded by the bytes actually present.
 */
#ifndef LP_PROTO_FRAME_H
#define LP_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* msgpack-c's unpacker refuses more than 32 open containers. */
#define LP_FRAME_DEPTH_MAX 32

enum lp_frame_status {
	LP_FRAME_MORE,	/* everything given was consumed; send more */
	LP_FRAME_DONE,	/* a message ended; *used bytes belong to it */
	LP_FRAME_ERROR, /* the stream is broken; see lp_framer.error */
};

enum lp_frame_error {
	LP_FRAME_OK,
	LP_FRAME_MALFORMED, /* the reserved byte 0xc1 */
	LP_FRAME_TOO_BIG, /* the message is, or declares, more than max_bytes */
	LP_FRAME_TOO_DEEP, /* more than max_depth nested containers */
};

struct lp_framer {
	size_t max_bytes;
	unsigned max_depth;
	enum lp_frame_error error;

	/* Private scanning state. */
	size_t msg_bytes; /* bytes of the current message so far */
	/* elements still owed, all levels: each takes >= 1 byte */
	uint64_t pending;
	unsigned depth; /* open containers */
	/* elements owed per level; [0] is the top */
	uint64_t left[LP_FRAME_DEPTH_MAX + 1];
	uint8_t head[9]; /* the type byte and its length field */
	unsigned head_have;
	unsigned head_need;
	uint64_t skip; /* payload bytes still to pass over */
};

/* max_depth is clamped to 1..LP_FRAME_DEPTH_MAX; max_bytes must be > 0. */
void lp_framer_init(struct lp_framer *f, size_t max_bytes, unsigned max_depth);

/*
 * Scans buf[0..len).  LP_FRAME_DONE: the current message ends after *used
 * bytes (counted from buf), and the framer is ready for the next message;
 * call again with the rest.  LP_FRAME_MORE: *used == len.  LP_FRAME_ERROR:
 * the stream cannot be resynchronised; f->error says why and the framer
 * stays in error until lp_framer_init() is called again.
 */
enum lp_frame_status lp_framer_feed(struct lp_framer *f, const void *buf,
    size_t len, size_t *used);

/* Bytes of the message currently being scanned (0 between messages). */
size_t lp_framer_partial(const struct lp_framer *f);

/* A short human-readable reason, e.g. "message larger than 1048576 bytes". */
const char *lp_frame_error_string(enum lp_frame_error e);

#endif
