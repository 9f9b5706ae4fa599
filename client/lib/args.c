/* SPDX-License-Identifier: ISC */
/*
 * Job arguments, packed as they are added: the elements of "args" and the
 * pairs of "kwargs" in two buffers with their counts, so that a request
 * only writes the container headers and copies the bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "client/lib/client.h"
#include "proto/rpc.h"

struct lp_args {
	struct buf args;
	struct buf kwargs;
	uint32_t nargs;
	uint32_t nkwargs;
	msgpack_packer args_pk;
	msgpack_packer kwargs_pk;
};

struct lp_args *
lp_args_new(void)
{
	struct lp_args *a;

	if ((a = calloc(1, sizeof *a)) == NULL)
		return NULL;
	msgpack_packer_init(&a->args_pk, &a->args, lpc_buf_write);
	msgpack_packer_init(&a->kwargs_pk, &a->kwargs, lpc_buf_write);
	return a;
}

void
lp_args_free(struct lp_args *a)
{
	if (a == NULL)
		return;
	lpc_buf_free(&a->args);
	lpc_buf_free(&a->kwargs);
	free(a);
}

void
lp_args_clear(struct lp_args *a)
{
	a->args.len = a->kwargs.len = 0;
	a->args.failed = a->kwargs.failed = false;
	a->nargs = a->nkwargs = 0;
}

/* The packer for one more positional argument. */
static msgpack_packer *
arg(struct lp_args *a)
{
	a->nargs++;
	return &a->args_pk;
}

/* The packer for the value of one more keyword argument. */
static msgpack_packer *
kwarg(struct lp_args *a, const char *key)
{
	a->nkwargs++;
	lp_pack_cstr(&a->kwargs_pk, key);
	return &a->kwargs_pk;
}

static void
pack_bool(msgpack_packer *pk, bool v)
{
	if (v)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

/* A NULL string is nil, the one value a C caller would mean by it. */
static void
pack_str(msgpack_packer *pk, const char *s)
{
	if (s == NULL)
		msgpack_pack_nil(pk);
	else
		lp_pack_cstr(pk, s);
}

static void
pack_bin(msgpack_packer *pk, const void *p, size_t len)
{
	msgpack_pack_bin(pk, len);
	msgpack_pack_bin_body(pk, p, len);
}

static void
pack_raw(msgpack_packer *pk, const void *packed, size_t len)
{
	pk->callback(pk->data, packed, len);
}

void
lp_args_nil(struct lp_args *a)
{
	msgpack_pack_nil(arg(a));
}

void
lp_args_bool(struct lp_args *a, bool v)
{
	pack_bool(arg(a), v);
}

void
lp_args_int(struct lp_args *a, int64_t v)
{
	msgpack_pack_int64(arg(a), v);
}

void
lp_args_double(struct lp_args *a, double v)
{
	msgpack_pack_double(arg(a), v);
}

void
lp_args_str(struct lp_args *a, const char *s)
{
	pack_str(arg(a), s);
}

void
lp_args_bin(struct lp_args *a, const void *p, size_t len)
{
	pack_bin(arg(a), p, len);
}

void
lp_args_raw(struct lp_args *a, const void *packed, size_t len)
{
	pack_raw(arg(a), packed, len);
}

void
lp_kwargs_bool(struct lp_args *a, const char *key, bool v)
{
	pack_bool(kwarg(a, key), v);
}

void
lp_kwargs_int(struct lp_args *a, const char *key, int64_t v)
{
	msgpack_pack_int64(kwarg(a, key), v);
}

void
lp_kwargs_double(struct lp_args *a, const char *key, double v)
{
	msgpack_pack_double(kwarg(a, key), v);
}

void
lp_kwargs_str(struct lp_args *a, const char *key, const char *s)
{
	pack_str(kwarg(a, key), s);
}

void
lp_kwargs_bin(struct lp_args *a, const char *key, const void *p, size_t len)
{
	pack_bin(kwarg(a, key), p, len);
}

void
lp_kwargs_raw(struct lp_args *a, const char *key, const void *packed,
    size_t len)
{
	pack_raw(kwarg(a, key), packed, len);
}

uint32_t
lpc_args_count(const struct lp_args *a)
{
	return a->nargs;
}

uint32_t
lpc_kwargs_count(const struct lp_args *a)
{
	return a->nkwargs;
}

/* A write that ran out of memory left a hole: the arguments cannot be sent. */
bool
lpc_args_failed(const struct lp_args *a)
{
	return a->args.failed || a->kwargs.failed;
}

void
lpc_args_pack(msgpack_packer *pk, const struct lp_args *a)
{
	msgpack_pack_array(pk, a->nargs);
	pack_raw(pk, a->args.data, a->args.len);
}

void
lpc_kwargs_pack(msgpack_packer *pk, const struct lp_args *a)
{
	msgpack_pack_map(pk, a->nkwargs);
	pack_raw(pk, a->kwargs.data, a->kwargs.len);
}
