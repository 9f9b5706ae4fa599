/* SPDX-License-Identifier: ISC */
/*
 * Counts in messages: "1 pool", "2 pools", "0 pools", written "%u pool%s",
 * n, lp_plural(n); "%u process%s", n, lp_plural_es(n).  A sentence whose
 * verb would have to agree is worded so that it need not.
 */
#ifndef LP_PROTO_PLURAL_H
#define LP_PROTO_PLURAL_H

static inline const char *
lp_plural(unsigned long long n)
{
	return n == 1 ? "" : "s";
}

static inline const char *
lp_plural_es(unsigned long long n)
{
	return n == 1 ? "" : "es";
}

#endif
