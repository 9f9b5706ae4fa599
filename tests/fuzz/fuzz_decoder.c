/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the daemon's whole decoding path: the framer, fed
 * in pieces whose sizes come from the input itself, then, for every framed
 * message, msgpack_unpack(), lp_message_parse(), lp_response_error(), the
 * cursor and lp_request_decode(); lp_request_decode() also reads the raw
 * input, framed or not.
 *
 * Beyond "no crash", it checks the framer's promise: whatever it frames,
 * msgpack-c decodes whole.  The cursor must read every value of it as
 * msgpack-c does, and span it exactly.  A decoded request must also honour
 * what params.h promises, so the daemon can rely on it.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "proto/frame.h"
#include "proto/params.h"
#include "tests/unit/cursor_match.h"

/* Small enough that real inputs hit it too, not only declared lengths. */
#define FUZZ_MAX_BYTES 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static void
check_duration(bool has, double d)
{
	check(!has || (isfinite(d) && d > 0 && d <= LP_DURATION_MAX));
}

/* Absent, or exactly one value of that type, which a worker will unpack. */
static void
check_raw(struct lp_raw raw, msgpack_object_type type)
{
	msgpack_zone zone;
	msgpack_object obj;
	size_t off = 0;

	if (raw.len == 0)
		return;
	msgpack_zone_init(&zone, 2048);
	check(msgpack_unpack(raw.ptr, raw.len, &off, &zone, &obj) ==
		MSGPACK_UNPACK_SUCCESS &&
	    off == raw.len && obj.type == type);
	msgpack_zone_destroy(&zone);
}

/* A whole message spans len bytes, and one byte fewer is not a message. */
static void
check_span(const uint8_t *msg, size_t len, const msgpack_object *obj)
{
	struct lp_cursor c;
	msgpack_object head;
	struct lp_raw raw;

	lp_cursor_init(&c, msg, len);
	check(cursor_matches(&c, obj) && c.p == c.end);
	lp_cursor_init(&c, msg, len);
	check(lp_cursor_value(&c, &head, &raw) && raw.len == len &&
	    raw.ptr == (const char *)msg && c.p == c.end);
	lp_cursor_init(&c, msg, len - 1);
	check(!lp_cursor_value(&c, &head, &raw) && c.p == msg);
}

static void
check_request(const struct lp_request *req)
{
	const struct lp_acquire_params *a = &req->p.acquire;

	switch (req->method) {
	case LP_METHOD_ACQUIRE:
		check(!a->has_pool ||
		    (a->pool.len > 0 && a->pool.len <= LP_NAME_MAX));
		check(!a->has_owner || a->owner.len <= LP_OWNER_MAX);
		check_duration(a->has_lease_seconds, a->lease_seconds);
		check_duration(a->has_timeout, a->timeout);
		break;
	case LP_METHOD_RUN:
		check(req->p.run.lease > 0 && req->p.run.fn.len > 0);
		check_raw(req->p.run.args, MSGPACK_OBJECT_ARRAY);
		check_raw(req->p.run.kwargs, MSGPACK_OBJECT_MAP);
		check_duration(req->p.run.has_timeout, req->p.run.timeout);
		break;
	case LP_METHOD_RENEW:
		check(req->p.renew.lease > 0);
		check_duration(req->p.renew.has_lease_seconds,
		    req->p.renew.lease_seconds);
		break;
	case LP_METHOD_SUBMIT:
		check(req->p.submit.fn.len > 0);
		check_raw(req->p.submit.args, MSGPACK_OBJECT_ARRAY);
		check_raw(req->p.submit.kwargs, MSGPACK_OBJECT_MAP);
		check_duration(req->p.submit.has_timeout,
		    req->p.submit.timeout);
		break;
	default:
		check(req->method < LP_METHOD__COUNT);
		break;
	}
}

/* Any bytes: a request, or one of the errors lp_request_decode() promises. */
static void
decode_request(const uint8_t *msg, size_t len)
{
	struct lp_request req;
	struct lp_error err;
	bool known;

	if (lp_request_decode(msg, len, &req, &err, &known) == LP_OK)
		check_request(&req);
	else
		check(err.code == LP_ERR_INVALID_REQUEST ||
		    err.code == LP_ERR_UNKNOWN_METHOD ||
		    err.code == LP_ERR_INVALID_ARGUMENT);
}

static bool
frames_whole(const uint8_t *msg, size_t len, unsigned max_depth)
{
	struct lp_framer f;
	size_t used;

	lp_framer_init(&f, len, max_depth);
	return lp_framer_feed(&f, msg, len, &used) == LP_FRAME_DONE &&
	    used == len;
}

/*
 * The daemon dispatches a request that arrives whole without framing it,
 * on the length and depth the decoder counts: they must be the framer's.
 */
static void
check_request_bounds(const uint8_t *msg, size_t len)
{
	struct lp_request req;
	struct lp_error err;
	bool known;

	if (lp_request_decode(msg, len, &req, &err, &known) != LP_OK)
		return;
	check(req.len == len);
	check(frames_whole(msg, len, req.depth));
	check(!frames_whole(msg, len, req.depth - 1));
}

static void
decode(const uint8_t *msg, size_t len)
{
	struct lp_message m;
	struct lp_error err;
	msgpack_zone zone;
	msgpack_object obj;
	size_t off = 0;
	bool known;

	msgpack_zone_init(&zone, 2048);
	check(msgpack_unpack((const char *)msg, len, &off, &zone, &obj) ==
		MSGPACK_UNPACK_SUCCESS &&
	    off == len);

	if (lp_message_parse(&obj, &m, &err, &known) == LP_OK) {
		if (m.kind == LP_MSG_RESPONSE)
			lp_response_error(m.error, &err);
		else if (m.kind == LP_MSG_NOTIFY)
			lp_response_error(m.params, &err);
		check(strlen(err.message) < sizeof err.message);
	}

	check_span(msg, len, &obj);
	decode_request(msg, len);
	check_request_bounds(msg, len);
	msgpack_zone_destroy(&zone);
}

/*
 * The byte where a piece starts decides its size: the whole rest when its
 * top bit is set, else 1 to 32 bytes, so every way of splitting headers
 * and payloads gets tried.
 */
static size_t
piece_size(const uint8_t *data, size_t pos, size_t size)
{
	size_t n = data[pos] & 0x80 ? size - pos : 1 + (data[pos] & 0x1f);

	return n < size - pos ? n : size - pos;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lp_framer f;
	enum lp_frame_status st;
	size_t pos = 0, start = 0, stop, used;

	decode_request(data, size);
	lp_framer_init(&f, FUZZ_MAX_BYTES, LP_FRAME_DEPTH_MAX);
	while (pos < size) {
		stop = pos + piece_size(data, pos, size);
		while (pos < stop) {
			st = lp_framer_feed(&f, data + pos, stop - pos, &used);
			check(used <= stop - pos);
			check(st != LP_FRAME_MORE || used == stop - pos);
			pos += used;
			if (st == LP_FRAME_DONE)
				decode(data + start, pos - start);
			else if (st == LP_FRAME_ERROR)
				lp_framer_init(&f, FUZZ_MAX_BYTES,
				    LP_FRAME_DEPTH_MAX);
			if (st != LP_FRAME_MORE)
				start = pos;
		}
		check(lp_framer_partial(&f) == pos - start);
	}
	return 0;
}
