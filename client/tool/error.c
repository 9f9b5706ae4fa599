/* SPDX-License-Identifier: ISC */
/*
 * What went wrong, said once on stderr as "leasepool: CODE: message", and
 * the exit status it means.  The statuses group the codes by what a script
 * should do next: blame the job, fix the command, start the daemon, retry
 * later, give up, report a bug, or see to the socket's permissions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/tool/tool.h"

/*
 * The daemon's and the library's messages speak of the protocol's methods
 * and of the environment; a user of the tool types commands and options.
 */
static const struct {
	const char *theirs;
	const char *ours;
} phrases[] = {
	{ "hello lists them", "leasepool ping lists them" },
	{ "set " LP_ENV_SOCKET, "set -s or " LP_ENV_SOCKET },
};

/* The message in our words, then more of them. */
static void
print_message(const char *message, const char *more)
{
	const char *at;

	for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++) {
		if ((at = strstr(message, phrases[i].theirs)) != NULL) {
			fprintf(stderr, "%.*s%s%s%s\n", (int)(at - message),
			    message, phrases[i].ours,
			    at + strlen(phrases[i].theirs), more);
			return;
		}
	}
	fprintf(stderr, "%s%s\n", message, more);
}

enum tool_exit
exit_status(enum lp_err code)
{
	switch (code) {
	case LP_OK:
		return TOOL_OK;
	case LP_ERR_JOB_FAILED:
	case LP_ERR_JOB_TIMEOUT:
	case LP_ERR_WORKER_CRASHED:
		return TOOL_JOB_FAILED;
	case LP_ERR_CANCELLED:
		return TOOL_INTERRUPTED;
	case LP_ERR_DISCONNECTED:
		return TOOL_UNREACHABLE;
	case LP_ERR_UNAVAILABLE:
	case LP_ERR_TIMEOUT:
	case LP_ERR_LIMIT_EXCEEDED:
	case LP_ERR_STOPPING:
	case LP_ERR_NO_SUCH_LEASE:
	case LP_ERR_LEASE_EXPIRED:
		return TOOL_BUSY;
	case LP_ERR_NO_SUCH_POOL:
	case LP_ERR_NO_SUCH_FUNCTION:
	case LP_ERR_PERMISSION_DENIED:
	case LP_ERR_INVALID_ARGUMENT:
	case LP_ERR_UNKNOWN_METHOD:
		return TOOL_REFUSED;
	case LP_ERR_INVALID_REQUEST:
	case LP_ERR_INTERNAL:
	case LP_ERR_PROTOCOL:
	case LP_ERR_SYSTEM:
	case LP_ERR__COUNT:
		break;
	}
	return TOOL_BROKEN;
}

enum tool_exit
report(const struct lp_error *err)
{
	fprintf(stderr, "leasepool: %s: ", lp_err_name(err->code));
	print_message(err->message, "");
	return exit_status(err->code);
}

enum tool_exit
report_oom(void)
{
	fprintf(stderr, "leasepool: %s: out of memory\n",
	    lp_err_name(LP_ERR_SYSTEM));
	return TOOL_BROKEN;
}

/* Where the socket that failed came from, and how to choose another. */
static const char *
socket_origin(const struct tool *t, const char *message)
{
	const char *env = getenv(LP_ENV_SOCKET);

	if (t->socket != NULL)
		return " (given by -s)";
	if (env != NULL && *env != '\0')
		return " (given by " LP_ENV_SOCKET "; -s chooses another)";
	if (strstr(message, LP_ENV_SOCKET) != NULL)
		return ""; /* the library said it */
	return " (found by default; -s or " LP_ENV_SOCKET " chooses another)";
}

/*
 * A socket we may not use is a problem of permissions, not of a daemon
 * that is down: the two have their own messages and exit statuses.
 */
enum tool_exit
tool_connect(struct tool *t)
{
	struct lp_error err;
	bool denied;

	if ((t->client = lp_connect(t->socket, &err)) != NULL)
		return TOOL_OK;
	denied = err.code == LP_ERR_PERMISSION_DENIED;
	fprintf(stderr, "leasepool: %s: %s: ", lp_err_name(err.code),
	    denied ? "may not use leasepoold's socket" :
		     "cannot connect to leasepoold");
	print_message(err.message, socket_origin(t, err.message));
	return denied ? TOOL_DENIED : TOOL_UNREACHABLE;
}
