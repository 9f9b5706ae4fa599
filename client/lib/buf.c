/* SPDX-License-Identifier: ISC */
/*
 * Growable byte buffers.  A failed allocation is remembered rather than
 * reported at each write, so that a whole message can be packed with
 * msgpack's packer and checked once at the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/lib/client.h"

#define BUF_MIN 4096

bool
lpc_buf_reserve(struct buf *b, size_t more)
{
	size_t cap;
	char *data;

	if (b->cap - b->len >= more)
		return true;
	if (more > SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return false;
	}
	cap = b->cap < BUF_MIN ? BUF_MIN : b->cap;
	while (cap - b->len < more)
		cap *= 2;
	if ((data = realloc(b->data, cap)) == NULL) {
		b->failed = true;
		return false;
	}
	b->data = data;
	b->cap = cap;
	return true;
}

/* A msgpack_packer_write callback: a dozen calls for every request packed. */
int
lpc_buf_write(void *arg, const char *p, size_t len)
{
	struct buf *b = arg;

	if (len == 0)
		return 0;
	if (b->cap - b->len < len && !lpc_buf_reserve(b, len))
		return -1;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	return 0;
}

void
lpc_buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}
