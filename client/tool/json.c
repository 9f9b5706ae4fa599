/* SPDX-License-Identifier: ISC */
/*
 * JSON on the command line and on stdout, msgpack on the wire.  The rules
 * (docs/leasepool-tool.md repeats them for users):
 *
 * - a command-line value that parses as JSON is that value; anything else
 *   is a plain string;
 * - JSON integers travel as msgpack integers, other numbers as doubles;
 * - an object whose one key is "$base64", holding base64 text, is bytes
 *   (msgpack bin), both ways;
 * - strings and bytes that are valid UTF-8 come back as JSON strings,
 *   others as {"$base64": ...};
 * - map keys that are not strings become their JSON text;
 * - unsigned integers above 2^63 - 1, which jansson cannot hold, come back
 *   as decimal strings; NaN and the infinities as "NaN", "Infinity" and
 *   "-Infinity".
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/tool/tool.h"

#define BYTES_KEY "$base64"
#define EXT_KEY "$ext"

/* ---- JSON to msgpack ---- */

static int pack_json(msgpack_packer *, json_t *);

/* The bytes {"$base64": "..."} stands for, or NULL when j is another object. */
static void *
bytes_of(json_t *j, size_t *len)
{
	json_t *text = json_object_get(j, BYTES_KEY);

	if (json_object_size(j) != 1 || !json_is_string(text))
		return NULL;
	return base64_decode(json_string_value(text), json_string_length(text),
	    len);
}

static int
pack_object(msgpack_packer *pk, json_t *j)
{
	const char *key;
	size_t len;
	json_t *v;
	void *bytes;
	int rc;

	if ((bytes = bytes_of(j, &len)) != NULL) {
		rc = msgpack_pack_bin_with_body(pk, bytes, len);
		free(bytes);
		return rc;
	}
	if (msgpack_pack_map(pk, json_object_size(j)) != 0)
		return -1;
	json_object_keylen_foreach(j, key, len, v)
	{
		if (msgpack_pack_str_with_body(pk, key, len) != 0 ||
		    pack_json(pk, v) != 0)
			return -1;
	}
	return 0;
}

static int
pack_array(msgpack_packer *pk, json_t *j)
{
	size_t i;
	json_t *v;

	if (msgpack_pack_array(pk, json_array_size(j)) != 0)
		return -1;
	json_array_foreach(j, i, v)
	{
		if (pack_json(pk, v) != 0)
			return -1;
	}
	return 0;
}

static int
pack_json(msgpack_packer *pk, json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return pack_object(pk, j);
	case JSON_ARRAY:
		return pack_array(pk, j);
	case JSON_STRING:
		return msgpack_pack_str_with_body(pk, json_string_value(j),
		    json_string_length(j));
	case JSON_INTEGER:
		return msgpack_pack_int64(pk, json_integer_value(j));
	case JSON_REAL:
		return msgpack_pack_double(pk, json_real_value(j));
	case JSON_TRUE:
		return msgpack_pack_true(pk);
	case JSON_FALSE:
		return msgpack_pack_false(pk);
	case JSON_NULL:
		break;
	}
	return msgpack_pack_nil(pk);
}

/* Packs a command-line value: its JSON value, or the text as a string.  -1: no memory. */
int
json_pack_arg(msgpack_packer *pk, const char *text)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	int rc;

	if (j == NULL)
		return msgpack_pack_str_with_body(pk, text, strlen(text));
	rc = pack_json(pk, j);
	json_decref(j);
	return rc;
}

/* ---- msgpack to JSON ---- */

static json_t *
bytes_to_json(const char *p, size_t len)
{
	json_t *s, *o;
	char *text;

	/* msgpack-c leaves ptr NULL for an empty string, which jansson refuses. */
	if ((s = json_stringn(len > 0 ? p : "", len)) != NULL)
		return s;
	if ((text = base64_encode(p, len)) == NULL)
		return NULL;
	if ((o = json_object()) != NULL &&
	    json_object_set_new(o, BYTES_KEY, json_string(text)) != 0) {
		json_decref(o);
		o = NULL;
	}
	free(text);
	return o;
}

static json_t *
real_to_json(double d)
{
	if (isnan(d))
		return json_string("NaN");
	if (isinf(d))
		return json_string(d > 0 ? "Infinity" : "-Infinity");
	return json_real(d);
}

static json_t *
unsigned_to_json(uint64_t u)
{
	char digits[24];

	if (u <= INT64_MAX)
		return json_integer((json_int_t)u);
	snprintf(digits, sizeof digits, "%" PRIu64, u);
	return json_string(digits);
}

/* {"$ext": type, "$base64": data}: output only, for jobs that pack extensions. */
static json_t *
ext_to_json(const msgpack_object_ext *ext)
{
	json_t *o = json_object();
	char *text = base64_encode(ext->ptr, ext->size);

	if (o == NULL || text == NULL ||
	    json_object_set_new(o, EXT_KEY, json_integer(ext->type)) != 0 ||
	    json_object_set_new(o, BYTES_KEY, json_string(text)) != 0) {
		json_decref(o);
		o = NULL;
	}
	free(text);
	return o;
}

static json_t *
array_to_json(const msgpack_object_array *a)
{
	json_t *j = json_array();

	for (uint32_t i = 0; j != NULL && i < a->size; i++) {
		if (json_array_append_new(j, json_from_msgpack(&a->ptr[i])) !=
		    0) {
			json_decref(j);
			j = NULL;
		}
	}
	return j;
}

/* Sets obj[key] = val (stolen), whatever the key's msgpack type. */
static int
set_member(json_t *obj, const msgpack_object *k, json_t *val)
{
	json_t *key = json_from_msgpack(k);
	char *text = NULL;
	int rc = -1;

	if (key != NULL && json_is_string(key))
		rc = json_object_setn_new(obj, json_string_value(key),
		    json_string_length(key), val);
	else if (key != NULL &&
	    (text = json_dumps(key, JSON_COMPACT | JSON_ENCODE_ANY)) != NULL)
		rc = json_object_set_new(obj, text, val);
	else
		json_decref(val);
	free(text);
	json_decref(key);
	return rc;
}

static json_t *
map_to_json(const msgpack_object_map *m)
{
	json_t *j = json_object();

	for (uint32_t i = 0; j != NULL && i < m->size; i++) {
		json_t *val = json_from_msgpack(&m->ptr[i].val);

		if (val == NULL || set_member(j, &m->ptr[i].key, val) != 0) {
			json_decref(j);
			j = NULL;
		}
	}
	return j;
}

/* NULL when memory ran out. */
json_t *
json_from_msgpack(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return unsigned_to_json(o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer(o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return real_to_json(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return bytes_to_json(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_BIN:
		return bytes_to_json(o->via.bin.ptr, o->via.bin.size);
	case MSGPACK_OBJECT_ARRAY:
		return array_to_json(&o->via.array);
	case MSGPACK_OBJECT_MAP:
		return map_to_json(&o->via.map);
	case MSGPACK_OBJECT_EXT:
		return ext_to_json(&o->via.ext);
	}
	return json_null();
}

/* ---- printing ---- */

/* The fewest significant digits that read back as d: 0.1, not 0.10000000000000001. */
static int
digits_for(double d)
{
	char text[32];
	int digits;

	for (digits = 1; digits < 17; digits++) {
		snprintf(text, sizeof text, "%.*g", digits, d);
		if (strtod(text, NULL) == d)
			break;
	}
	return digits;
}

/*
 * jansson prints every real of a document with one precision, so take the
 * most any of them needs: each still reads back exactly, since a precision
 * that suffices for a number suffices with more digits too.
 */
static int
digits_needed(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;
	int most = 1, d;

	if (json_is_real(j))
		return digits_for(json_real_value(j));
	if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			if ((d = digits_needed(v)) > most)
				most = d;
		}
	}
	if (json_is_object(j)) {
		json_object_foreach(j, key, v)
		{
			if ((d = digits_needed(v)) > most)
				most = d;
		}
	}
	return most;
}

/* The text of j, to free(); NULL when memory ran out. */
char *
json_text(json_t *j, size_t flags)
{
	return json_dumps(j,
	    flags | JSON_ENCODE_ANY | JSON_REAL_PRECISION(digits_needed(j)));
}

/* Prints j and a newline on stdout. */
int
print_json(json_t *j, size_t flags)
{
	char *text = json_text(j, flags);

	if (text == NULL)
		return report_oom();
	puts(text);
	free(text);
	return TOOL_OK;
}
