/* SPDX-License-Identifier: ISC */
/*
 * Checking and quoting a client's strings (text.h).
 */
#include <string.h>

#include "proto/text.h"

size_t
lp_utf8_char(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	/* 0x80-0xbf continue a character; 0xc0 and 0xc1 could only start an overlong one. */
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	/* The second byte's range rules out overlong forms, surrogates and past U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

bool
lp_utf8_valid(const char *s, size_t len, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t off = 0, n;

	while (off < len) {
		if ((n = lp_utf8_char(p + off, len - off)) == 0) {
			*bad = off;
			return false;
		}
		off += n;
	}
	return true;
}

void
lp_utf8_repair(char *s, size_t len)
{
	size_t off = 0, bad;

	while (!lp_utf8_valid(s + off, len - off, &bad)) {
		off += bad;
		s[off++] = '?';
	}
}

const char *
lp_quote(const char *s, size_t len, char *buf)
{
	size_t i, cut = len < LP_QUOTE_MAX ? len : LP_QUOTE_MAX;

	for (i = 0; i < cut; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	strcpy(buf + cut, len > LP_QUOTE_MAX ? "..." : "");
	return buf;
}

/* Writes the escape of c, a byte not shown as itself, to e; returns its length. */
static size_t
escape_byte(unsigned char c, char *e)
{
	static const char hex[] = "0123456789abcdef", named[] = "\n\r\t\\",
			  as[] = "nrt\\";
	const char *q;

	e[0] = '\\';
	if (c != '\0' && (q = strchr(named, c)) != NULL) {
		e[1] = as[q - named];
		return 2;
	}
	e[1] = 'x';
	e[2] = hex[c >> 4];
	e[3] = hex[c & 0xf];
	return 4;
}

/* True when the n-byte character at p is shown as itself in a log line. */
static bool
shown(const unsigned char *p, size_t n)
{
	if (n == 1)
		return p[0] >= 0x20 && p[0] != 0x7f && p[0] != '\\';
	/* U+0080 to U+009F: C1 controls, which some terminals obey. */
	return n > 1 && !(p[0] == 0xc2 && p[1] < 0xa0);
}

size_t
lp_escape(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t in = 0, out = 0, n, k, i;
	char e[4 * 4];

	while (in < len) {
		n = lp_utf8_char(p + in, len - in);
		if (shown(p + in, n)) {
			memcpy(e, p + in, n);
			k = n;
		} else {
			n = n == 0 ? 1 : n;
			for (i = k = 0; i < n; i++)
				k += escape_byte(p[in + i], e + k);
		}
		if (out + k >= size)
			break;
		memcpy(dst + out, e, k);
		out += k;
		in += n;
	}
	dst[out] = '\0';
	return out;
}
