/* SPDX-License-Identifier: ISC */
/*
 * leasepool error codes: the protocol's codes (docs/protocol.md, "Error codes")
 * plus the few that only a client can observe.  Shared by the daemon, the
 * protocol layer and libleasepool, so one number means one thing everywhere.
 */
#ifndef LEASEPOOL_ERRORS_H
#define LEASEPOOL_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

enum lp_err {
	LP_OK = 0,
	/* Codes that travel on the wire, as strings. */
	LP_ERR_INVALID_REQUEST,
	LP_ERR_UNKNOWN_METHOD,
	LP_ERR_INVALID_ARGUMENT,
	LP_ERR_NO_SUCH_POOL,
	LP_ERR_NO_SUCH_FUNCTION,
	LP_ERR_NO_SUCH_LEASE,
	LP_ERR_LEASE_EXPIRED,
	LP_ERR_UNAVAILABLE,
	LP_ERR_TIMEOUT,
	LP_ERR_PERMISSION_DENIED,
	LP_ERR_LIMIT_EXCEEDED,
	LP_ERR_STOPPING,
	LP_ERR_JOB_FAILED,
	LP_ERR_JOB_TIMEOUT,
	LP_ERR_WORKER_CRASHED,
	LP_ERR_INTERNAL,
	/* Client-side only: never sent by the daemon. */
	LP_ERR_DISCONNECTED, /* the connection is gone */
	LP_ERR_PROTOCOL,     /* the daemon sent something we cannot read */
	LP_ERR_SYSTEM,	     /* a system call failed; see the message */
	/*
	 * On the wire too: the request was cancelled (the cancel method).
	 * Added last, so that no code of an earlier version changes number.
	 */
	LP_ERR_CANCELLED,
	LP_ERR__COUNT
};

#define LP_ERROR_MESSAGE_MAX 512

/* An error as the daemon reports it: a code, a message, and for a crashed
 * worker the signal that killed it. */
struct lp_error {
	enum lp_err code;
	int signal; /* WORKER_CRASHED only; 0 when none */
	char message[LP_ERROR_MESSAGE_MAX];
};

/* "INVALID_ARGUMENT" for LP_ERR_INVALID_ARGUMENT; "UNKNOWN" out of range. */
const char *lp_err_name(enum lp_err code);

/*
 * The code named by a wire string of len bytes (not NUL-terminated).  A name
 * this version does not know maps to LP_ERR_INTERNAL, so a newer daemon's
 * code still reads as an error.
 */
enum lp_err lp_err_from_name(const char *name, unsigned len);

#ifdef __cplusplus
}
#endif
#endif
