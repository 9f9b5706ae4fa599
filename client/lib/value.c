/* SPDX-License-Identifier: ISC */
/*
 * Decoded values.  A value is the message's result object plus the zone
 * holding the whole message, itself included: handing a result to the
 * caller copies nothing, and freeing it is freeing the zone.
 */
#include <stdatomic.h>
#include <string.h>

#include "client/lib/client.h"
#include "proto/rpc.h"

struct lp_value {
	msgpack_zone *zone;
	msgpack_object obj;
};

/*
 * The zone of the last message freed, kept for the next one: making and
 * freeing a zone per answer, two mallocs and two frees, was a quarter of
 * the library's work per pipelined run.  Values may be freed in any
 * thread, so the slot is swapped atomically; one zone in it at most.
 */
static _Atomic(msgpack_zone *) spare_zone;

msgpack_zone *
lpc_zone_new(void)
{
	msgpack_zone *z = atomic_exchange(&spare_zone, NULL);

	return z != NULL ? z : msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE);
}

void
lpc_zone_free(msgpack_zone *z)
{
	msgpack_zone *empty = NULL;

	/* Clearing keeps the first chunk only: a big message's memory goes. */
	msgpack_zone_clear(z);
	if (!atomic_compare_exchange_strong(&spare_zone, &empty, z))
		msgpack_zone_free(z);
}

/* At exit, or when the library is unloaded: nothing left behind. */
__attribute__((destructor)) static void
free_spare_zone(void)
{
	msgpack_zone *z = atomic_exchange(&spare_zone, NULL);

	if (z != NULL)
		msgpack_zone_free(z);
}

struct lp_value *
lpc_value_new(msgpack_zone *zone, const msgpack_object *o)
{
	struct lp_value *v;

	if ((v = msgpack_zone_malloc(zone, sizeof *v)) == NULL)
		return NULL;
	v->zone = zone;
	v->obj = *o;
	return v;
}

void
lp_value_free(struct lp_value *v)
{
	if (v != NULL)
		lpc_zone_free(v->zone);
}

const msgpack_object *
lp_value_object(const struct lp_value *v)
{
	return v == NULL ? NULL : &v->obj;
}

bool
lpc_obj_u64(const msgpack_object *o, uint64_t *u)
{
	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*u = o->via.u64;
	return true;
}

/* Durations may come as integers or floats. */
bool
lpc_obj_double(const msgpack_object *o, double *d)
{
	if (o == NULL)
		return false;
	switch (o->type) {
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		*d = o->via.f64;
		return true;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		*d = (double)o->via.u64;
		return true;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*d = (double)o->via.i64;
		return true;
	default:
		return false;
	}
}

/* Copies a string that fits, with its NUL. */
bool
lpc_obj_strcpy(const msgpack_object *o, char *dst, size_t size)
{
	if (o == NULL || o->type != MSGPACK_OBJECT_STR ||
	    o->via.str.size >= size)
		return false;
	memcpy(dst, o->via.str.ptr, o->via.str.size);
	dst[o->via.str.size] = '\0';
	return true;
}

int64_t
lp_value_int(const struct lp_value *v)
{
	const msgpack_object *o = lp_value_object(v);

	if (o != NULL && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64;
	if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX)
		return (int64_t)o->via.u64;
	return 0;
}

double
lp_value_double(const struct lp_value *v)
{
	double d;

	return lpc_obj_double(lp_value_object(v), &d) ? d : 0;
}

bool
lp_value_bool(const struct lp_value *v)
{
	const msgpack_object *o = lp_value_object(v);

	return o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
}

bool
lp_value_is_nil(const struct lp_value *v)
{
	const msgpack_object *o = lp_value_object(v);

	return o != NULL && o->type == MSGPACK_OBJECT_NIL;
}

const char *
lp_value_str(const struct lp_value *v, size_t *len)
{
	const msgpack_object *o = lp_value_object(v);

	if (o != NULL && o->type == MSGPACK_OBJECT_STR) {
		*len = o->via.str.size;
		return o->via.str.ptr;
	}
	if (o != NULL && o->type == MSGPACK_OBJECT_BIN) {
		*len = o->via.bin.size;
		return o->via.bin.ptr;
	}
	*len = 0;
	return NULL;
}

const msgpack_object *
lp_value_get(const struct lp_value *v, const char *key)
{
	return lp_map_get(lp_value_object(v), key);
}
