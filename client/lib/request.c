/* SPDX-License-Identifier: ISC */
/*
 * The named parameters of a request.  Every method wrapper lists its
 * parameters here and lets absent ones drop out (a NULL string, a zero
 * duration, empty args), so the daemon applies its defaults and the map
 * header counts exactly what is packed.
 */
#include "client/lib/client.h"
#include "proto/rpc.h"

static struct param *
params_add(struct params *ps, const char *key, enum param_type type)
{
	struct param *p = &ps->p[ps->n++];

	p->key = key;
	p->type = type;
	ps->entries++;
	return p;
}

void
lpc_params_str(struct params *ps, const char *key, const char *s)
{
	if (s != NULL)
		params_add(ps, key, PARAM_STR)->v.str = s;
}

void
lpc_params_u64(struct params *ps, const char *key, uint64_t u)
{
	params_add(ps, key, PARAM_U64)->v.u64 = u;
}

/* 0 means the daemon's default; anything else, even NaN, is its to judge. */
void
lpc_params_seconds(struct params *ps, const char *key, double d)
{
	if (d != 0)
		params_add(ps, key, PARAM_DOUBLE)->v.d = d;
}

void
lpc_params_bool(struct params *ps, const char *key, bool b)
{
	params_add(ps, key, PARAM_BOOL)->v.b = b;
}

void
lpc_params_args(struct params *ps, const struct lp_args *a)
{
	if (a == NULL)
		return;
	if (lpc_args_failed(a))
		ps->failed = true;
	if (lpc_args_count(a) > 0)
		params_add(ps, "args", PARAM_ARGS)->v.args = a;
	if (lpc_kwargs_count(a) > 0)
		params_add(ps, "kwargs", PARAM_KWARGS)->v.args = a;
}

/*
 * lp_call()'s params come packed, but the request's map header is packed
 * with the envelope: keep the entries and their count, drop the header.
 */
enum lp_err
lpc_params_raw(struct params *ps, const void *map, size_t len,
    struct lp_error *err)
{
	struct lp_cursor c;
	msgpack_object head;
	struct param *raw;

	if (map == NULL)
		return LP_OK;
	lp_cursor_init(&c, map, len);
	if (!lp_cursor_next(&c, &head) || head.type != MSGPACK_OBJECT_MAP)
		return lpc_error_set(err, LP_ERR_INVALID_ARGUMENT,
		    "params must be a packed msgpack map");
	raw = params_add(ps, NULL, PARAM_RAW);
	raw->v.raw.ptr = (const char *)c.p;
	raw->v.raw.len = (size_t)(c.end - c.p);
	ps->entries = head.via.map.size;
	return LP_OK;
}

static void
param_pack(msgpack_packer *pk, const struct param *p)
{
	switch (p->type) {
	case PARAM_STR:
		lp_pack_kv_str(pk, p->key, p->v.str);
		break;
	case PARAM_U64:
		lp_pack_kv_u64(pk, p->key, p->v.u64);
		break;
	case PARAM_DOUBLE:
		lp_pack_kv_double(pk, p->key, p->v.d);
		break;
	case PARAM_BOOL:
		lp_pack_kv_bool(pk, p->key, p->v.b);
		break;
	case PARAM_ARGS:
		lp_pack_cstr(pk, p->key);
		lpc_args_pack(pk, p->v.args);
		break;
	case PARAM_KWARGS:
		lp_pack_cstr(pk, p->key);
		lpc_kwargs_pack(pk, p->v.args);
		break;
	case PARAM_RAW:
		pk->callback(pk->data, p->v.raw.ptr, p->v.raw.len);
		break;
	}
}

void
lpc_params_pack(msgpack_packer *pk, const struct params *ps)
{
	unsigned i;

	for (i = 0; i < ps->n; i++)
		param_pack(pk, &ps->p[i]);
}
