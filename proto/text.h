/* SPDX-License-Identifier: ISC */
/*
 * Strings a client sends, held to what the protocol promises and made safe
 * to show: a strict UTF-8 check (RFC 3629: no overlong forms, surrogates,
 * code points past U+10FFFF or cut sequences), names cut and cleaned for
 * error messages, and escapes for log lines.  Pure functions, no I/O.
 */
#ifndef LP_PROTO_TEXT_H
#define LP_PROTO_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The length (1 to 4) of the UTF-8 character at s, which has len > 0 bytes;
 * 0 when the bytes there are not one.
 */
size_t lp_utf8_char(const unsigned char *s, size_t len);

/* True when the len bytes at s are UTF-8; else *bad is the offset of the first that is not. */
bool lp_utf8_valid(const char *s, size_t len, size_t *bad);

/* Makes the len bytes at s UTF-8 in place: each byte that is not part of a character becomes '?'. */
void lp_utf8_repair(char *s, size_t len);

/*
 * A client's name made fit for an error message: at most LP_QUOTE_MAX
 * bytes, "..." after a longer one, and every byte that is not printable
 * ASCII shown as '?'.  Written to buf, of LP_QUOTE_SIZE bytes; returns buf.
 */
#define LP_QUOTE_MAX 64
#define LP_QUOTE_SIZE (LP_QUOTE_MAX + sizeof "...")
const char *lp_quote(const char *s, size_t len, char *buf);

/*
 * The len bytes at src written for a log line, as sshd writes its own: a
 * control character (C0, DEL or C1), a backslash and a byte that is not
 * UTF-8 become escapes (\n, \r, \t, \\, else \xHH), so that no string
 * can start a line of its own or fake one.  At most size - 1 bytes (size >
 * 0) go to dst, never part of an escape or a character, then a NUL;
 * returns how many.
 */
size_t lp_escape(char *dst, size_t size, const char *src, size_t len);

#endif
