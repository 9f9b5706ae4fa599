/* SPDX-License-Identifier: ISC */
/*
 * Test helper: msgpack written as text, so a test reads like the message
 * it sends.  The syntax:
 *
 *	nil true false			those values
 *	7  -3  18446744073709551615	integers (the packer picks the encoding)
 *	1.5  -2e3  nan  inf  -inf	float 64; suffix f for float 32: 1.5f, nanf
 *	'text'  'ab'*300  '\x00\''	strings; *N repeats; escapes \xHH \' \\
 *	word				a bare word is a string: {lease: 1}
 *	b'..'  x'..'			bin, and ext of type 1
 *	[a, b]  {k: v, k2: v2}		arrays and maps
 *
 * A syntax error fails the calling test.
 */
#ifndef LP_TESTS_MSGPACK_TEXT_H
#define LP_TESTS_MSGPACK_TEXT_H

#include <msgpack.h>

/* Packs the value written in text. */
void mt_pack(msgpack_packer *pk, const char *text);

/* A value packed from text and unpacked again, as a peer would see it. */
struct mt_object {
	msgpack_sbuffer sbuf;
	msgpack_zone zone;
	msgpack_object obj;
};

/* Packs the printf-formatted text and unpacks it into m; returns &m->obj. */
const msgpack_object *mt_decode(struct mt_object *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void mt_free(struct mt_object *m);

#endif
