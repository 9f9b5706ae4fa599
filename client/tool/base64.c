/* SPDX-License-Identifier: ISC */
/*
 * Base64 (RFC 4648, standard alphabet) for bytes in JSON: {"$base64": ...}.
 * Decoding accepts the text with or without its '=' padding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/tool/tool.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out, *o;
	uint32_t v;
	size_t i;

	if ((out = malloc((len + 2) / 3 * 4 + 1)) == NULL)
		return NULL;
	o = out;
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = alphabet[v >> 6 & 63];
		*o++ = alphabet[v & 63];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int
sextet(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(alphabet, c)) == NULL)
		return -1;
	return (int)(p - alphabet);
}

/* NULL when text is not base64 (or memory ran out); never NULL for "". */
void *
base64_decode(const char *text, size_t len, size_t *outlen)
{
	unsigned char *out;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t n = 0;

	for (int pad = 0; pad < 2 && len > 0 && text[len - 1] == '='; pad++)
		len--;
	if (len % 4 == 1 || (out = malloc(len / 4 * 3 + 3)) == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int s = sextet(text[i]);

		if (s < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)s;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	*outlen = n;
	return out;
}
