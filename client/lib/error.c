/* SPDX-License-Identifier: ISC */
/*
 * Filling the caller's struct lp_error, which every public function
 * accepts as NULL when the caller only wants the code.
 */
#include <stdio.h>

#include "client/lib/client.h"

enum lp_err
lpc_error_vset(struct lp_error *err, enum lp_err code, const char *fmt,
    va_list ap)
{
	if (err != NULL) {
		err->code = code;
		err->signal = 0;
		vsnprintf(err->message, sizeof err->message, fmt, ap);
	}
	return code;
}

enum lp_err
lpc_error_set(struct lp_error *err, enum lp_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lpc_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

enum lp_err
lpc_error_copy(struct lp_error *err, const struct lp_error *from)
{
	if (err != NULL)
		*err = *from;
	return from->code;
}

/* Twice on every asynchronous run's path, where formatting an empty message showed in profiles. */
enum lp_err
lpc_error_ok(struct lp_error *err)
{
	if (err != NULL) {
		err->code = LP_OK;
		err->signal = 0;
		err->message[0] = '\0';
	}
	return LP_OK;
}
