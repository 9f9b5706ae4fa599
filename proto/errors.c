/* SPDX-License-Identifier: ISC */
/*
 * Names of the error codes: the strings docs/protocol.md puts on the wire, and
 * names for the client-only codes so that every code prints as something.
 */
#include <stdbool.h>
#include <string.h>

#include "leasepool/errors.h"

static const char *const err_names[LP_ERR__COUNT] = {
	[LP_OK] = "OK",
	[LP_ERR_INVALID_REQUEST] = "INVALID_REQUEST",
	[LP_ERR_UNKNOWN_METHOD] = "UNKNOWN_METHOD",
	[LP_ERR_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
	[LP_ERR_NO_SUCH_POOL] = "NO_SUCH_POOL",
	[LP_ERR_NO_SUCH_FUNCTION] = "NO_SUCH_FUNCTION",
	[LP_ERR_NO_SUCH_LEASE] = "NO_SUCH_LEASE",
	[LP_ERR_LEASE_EXPIRED] = "LEASE_EXPIRED",
	[LP_ERR_UNAVAILABLE] = "UNAVAILABLE",
	[LP_ERR_TIMEOUT] = "TIMEOUT",
	[LP_ERR_PERMISSION_DENIED] = "PERMISSION_DENIED",
	[LP_ERR_LIMIT_EXCEEDED] = "LIMIT_EXCEEDED",
	[LP_ERR_STOPPING] = "STOPPING",
	[LP_ERR_JOB_FAILED] = "JOB_FAILED",
	[LP_ERR_JOB_TIMEOUT] = "JOB_TIMEOUT",
	[LP_ERR_WORKER_CRASHED] = "WORKER_CRASHED",
	[LP_ERR_INTERNAL] = "INTERNAL",
	[LP_ERR_DISCONNECTED] = "DISCONNECTED",
	[LP_ERR_PROTOCOL] = "PROTOCOL",
	[LP_ERR_SYSTEM] = "SYSTEM",
	[LP_ERR_CANCELLED] = "CANCELLED",
};

const char *
lp_err_name(enum lp_err code)
{
	if ((unsigned)code >= LP_ERR__COUNT)
		return "UNKNOWN";
	return err_names[code];
}

static bool
lp_err_on_wire(enum lp_err code)
{
	return (code >= LP_ERR_INVALID_REQUEST && code <= LP_ERR_INTERNAL) ||
	    code == LP_ERR_CANCELLED;
}

/*
 * Only the codes that travel on the wire are recognised: an error response
 * that claimed "OK", or a client-side condition such as "DISCONNECTED",
 * would mislead the client about its own state.
 */
enum lp_err
lp_err_from_name(const char *name, unsigned len)
{
	enum lp_err code;

	for (code = LP_ERR_INVALID_REQUEST; code < LP_ERR__COUNT; code++) {
		if (!lp_err_on_wire(code))
			continue;
		if (strlen(err_names[code]) == len &&
		    memcmp(err_names[code], name, len) == 0)
			return code;
	}
	return LP_ERR_INTERNAL;
}
