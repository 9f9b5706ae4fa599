/* SPDX-License-Identifier: ISC */
/*
 * msgpack from text for tests (msgpack_text.h).  One recursive-descent
 * parser serves both to count a container's elements (pk == NULL) and to
 * pack them, because msgpack wants the count before the elements.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "tests/unit/msgpack_text.h"

struct cursor {
	const char *text; /* the whole text, for error messages */
	const char *p;
};

static void value(struct cursor *c, msgpack_packer *pk);

static __attribute__((noreturn)) void
syntax_error(const struct cursor *c, const char *what)
{
	ck_abort_msg("msgpack text: %s at offset %d of \"%s\"", what,
	    (int)(c->p - c->text), c->text);
	abort();
}

static void
spaces(struct cursor *c)
{
	while (isspace((unsigned char)*c->p))
		c->p++;
}

static bool
consume(struct cursor *c, char ch)
{
	spaces(c);
	if (*c->p != ch)
		return false;
	c->p++;
	return true;
}

static void
expect(struct cursor *c, char ch)
{
	if (!consume(c, ch))
		syntax_error(c, "unexpected character");
}

/* 'text'*N into a malloc'd buffer; returns its length. */
static size_t
quoted(struct cursor *c, char **out)
{
	size_t len = 0, size = 16, unit, n = 1, i;
	char *s = malloc(size), *r;

	c->p++; /* the opening quote */
	while (*c->p != '\'') {
		if (*c->p == '\0')
			syntax_error(c, "unterminated string");
		if (len + 1 >= size)
			s = realloc(s, size *= 2);
		if (c->p[0] == '\\' && c->p[1] == 'x') {
			char hex[3] = { c->p[2], c->p[3], '\0' };

			s[len++] = (char)strtoul(hex, NULL, 16);
			c->p += 4;
		} else if (c->p[0] == '\\') {
			s[len++] = c->p[1];
			c->p += 2;
		} else
			s[len++] = *c->p++;
	}
	c->p++;
	if (*c->p == '*') {
		n = strtoul(c->p + 1, (char **)&c->p, 10);
		unit = len;
		r = malloc(unit * n + 1);
		for (i = 0; i < n; i++)
			memcpy(r + i * unit, s, unit);
		free(s);
		s = r;
		len = unit * n;
	}
	*out = s;
	return len;
}

static void
pack_bytes(msgpack_packer *pk, char kind, const char *s, size_t len)
{
	if (kind == 'b') {
		msgpack_pack_bin(pk, len);
		msgpack_pack_bin_body(pk, s, len);
	} else if (kind == 'x') {
		msgpack_pack_ext(pk, len, 1);
		msgpack_pack_ext_body(pk, s, len);
	} else {
		msgpack_pack_str(pk, len);
		msgpack_pack_str_body(pk, s, len);
	}
}

/* kind: 's' string, 'b' bin, 'x' ext. */
static void
string(struct cursor *c, msgpack_packer *pk, char kind)
{
	char *s;
	size_t len = quoted(c, &s);

	if (pk != NULL)
		pack_bytes(pk, kind, s, len);
	free(s);
}

/* Integers are digits only; anything else strtod took is a float. */
static void
number(struct cursor *c, msgpack_packer *pk)
{
	const char *start = c->p;
	bool f32, integer;
	char *end;
	double d;

	d = strtod(start, &end);
	if (end == start)
		syntax_error(c, "not a value");
	f32 = *end == 'f';
	c->p = end + f32;
	integer = !f32 &&
	    strspn(start + (*start == '-'), "0123456789") ==
		(size_t)(end - start - (*start == '-'));
	if (pk == NULL)
		return;
	if (!integer && f32)
		msgpack_pack_float(pk, (float)d);
	else if (!integer)
		msgpack_pack_double(pk, d);
	else if (*start == '-')
		msgpack_pack_int64(pk, strtoll(start, NULL, 10));
	else
		msgpack_pack_uint64(pk, strtoull(start, NULL, 10));
}

/* Counts the elements of the container starting at c without packing. */
static unsigned
count(struct cursor c, char close, bool pairs)
{
	unsigned n = 0;

	c.p++;
	if (consume(&c, close))
		return 0;
	do {
		value(&c, NULL);
		if (pairs) {
			expect(&c, ':');
			value(&c, NULL);
		}
		n++;
	} while (consume(&c, ','));
	expect(&c, close);
	return n;
}

static void
container(struct cursor *c, msgpack_packer *pk, char close, bool pairs)
{
	if (pk != NULL) {
		if (pairs)
			msgpack_pack_map(pk, count(*c, close, true));
		else
			msgpack_pack_array(pk, count(*c, close, false));
	}
	c->p++;
	if (consume(c, close))
		return;
	do {
		value(c, pk);
		if (pairs) {
			expect(c, ':');
			value(c, pk);
		}
	} while (consume(c, ','));
	expect(c, close);
}

static void
word(struct cursor *c, msgpack_packer *pk)
{
	const char *start = c->p;
	size_t len;

	while (isalnum((unsigned char)*c->p) || *c->p == '_')
		c->p++;
	len = c->p - start;
	if (pk == NULL)
		return;
	if (len == 3 && memcmp(start, "nil", 3) == 0)
		msgpack_pack_nil(pk);
	else if (len == 4 && memcmp(start, "true", 4) == 0)
		msgpack_pack_true(pk);
	else if (len == 5 && memcmp(start, "false", 5) == 0)
		msgpack_pack_false(pk);
	else {
		msgpack_pack_str(pk, len);
		msgpack_pack_str_body(pk, start, len);
	}
}

static void
value(struct cursor *c, msgpack_packer *pk)
{
	spaces(c);
	switch (*c->p) {
	case '[':
		container(c, pk, ']', false);
		return;
	case '{':
		container(c, pk, '}', true);
		return;
	case '\'':
		string(c, pk, 's');
		return;
	}
	if ((c->p[0] == 'b' || c->p[0] == 'x') && c->p[1] == '\'') {
		c->p++;
		string(c, pk, c->p[-1]);
	} else if (isdigit((unsigned char)*c->p) || *c->p == '-' ||
	    strncmp(c->p, "nan", 3) == 0 || strncmp(c->p, "inf", 3) == 0)
		number(c, pk);
	else if (isalpha((unsigned char)*c->p) || *c->p == '_')
		word(c, pk);
	else
		syntax_error(c, "not a value");
}

void
mt_pack(msgpack_packer *pk, const char *text)
{
	struct cursor c = { text, text };

	value(&c, pk);
	spaces(&c);
	if (*c.p != '\0')
		syntax_error(&c, "trailing text");
}

const msgpack_object *
mt_decode(struct mt_object *m, const char *fmt, ...)
{
	msgpack_packer pk;
	va_list ap;
	char *text;
	size_t off = 0;
	int ret;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&text, fmt, ap), 0);
	va_end(ap);

	msgpack_sbuffer_init(&m->sbuf);
	msgpack_packer_init(&pk, &m->sbuf, msgpack_sbuffer_write);
	mt_pack(&pk, text);
	free(text);

	msgpack_zone_init(&m->zone, 1024);
	ret =
	    msgpack_unpack(m->sbuf.data, m->sbuf.size, &off, &m->zone, &m->obj);
	ck_assert_int_eq(ret, MSGPACK_UNPACK_SUCCESS);
	return &m->obj;
}

void
mt_free(struct mt_object *m)
{
	msgpack_zone_destroy(&m->zone);
	msgpack_sbuffer_destroy(&m->sbuf);
}
