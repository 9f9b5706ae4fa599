/* SPDX-License-Identifier: ISC */
/*
 * exec: a program run on one of the pool's workers as if here.  Our stdin
 * goes to it (unless it is a terminal), its stdout and stderr come out of
 * ours, it starts in our working directory, and its exit status is ours.
 * A shell script that runs its heavy commands this way shares the
 * machine's bounded pool with every other program.
 *
 * Failures of our own take statuses that a program rarely uses, as with
 * timeout(1): 124 the program ran past the job timeout, 125 leasepool
 * failed, 127 the program could not be started.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/tool/tool.h"

#define READ_CHUNK 65536

static int
exec_failure(const struct lp_error *err)
{
	report(err);
	switch (err->code) {
	case LP_ERR_JOB_TIMEOUT:
		return EXEC_TIMED_OUT;
	case LP_ERR_JOB_FAILED:
		return EXEC_CANNOT_START;
	case LP_ERR_CANCELLED:
		return TOOL_INTERRUPTED;
	default:
		return EXEC_FAILED;
	}
}

static bool
system_failure(const char *what)
{
	fprintf(stderr, "leasepool: %s: %s: %s\n", lp_err_name(LP_ERR_SYSTEM),
	    what, strerror(errno));
	return false;
}

/* All of stdin, sent in the one run request. */
static bool
add_stdin(struct lp_args *a)
{
	char *data = NULL, *grown;
	size_t len = 0, cap = 0;
	ssize_t n;
	bool ok = true;

	if (isatty(STDIN_FILENO))
		return true;
	for (;;) {
		if (cap - len < READ_CHUNK) {
			if ((grown = realloc(data, cap += READ_CHUNK * 4)) ==
			    NULL) {
				ok = system_failure("stdin");
				break;
			}
			data = grown;
		}
		if ((n = read(STDIN_FILENO, data + len, cap - len)) > 0)
			len += (size_t)n;
		/* EBADF: stdin closed, as empty */
		else if (n == 0 || errno == EBADF)
			break;
		else if (errno != EINTR) {
			ok = system_failure("stdin");
			break;
		}
	}
	if (ok)
		lp_kwargs_bin(a, "stdin", data, len);
	free(data);
	return ok;
}

static bool
add_argv(struct lp_args *a, int argc, char **argv)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int failed;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	failed = msgpack_pack_array(&pk, (size_t)argc);
	for (int i = 0; !failed && i < argc; i++)
		failed =
		    msgpack_pack_str_with_body(&pk, argv[i], strlen(argv[i]));
	if (failed)
		report_oom();
	else
		lp_kwargs_raw(a, "argv", sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	return !failed;
}

/* dir NULL: ours, so that relative paths mean what they mean here. */
static bool
add_cwd(struct lp_args *a, const char *dir)
{
	char *cwd = NULL;

	if (dir == NULL && (dir = cwd = getcwd(NULL, 0)) == NULL)
		return system_failure("getcwd");
	lp_kwargs_str(a, "cwd", dir);
	free(cwd);
	return true;
}

static void
copy_out(FILE *f, const msgpack_object *o)
{
	if (o != NULL && o->type == MSGPACK_OBJECT_BIN)
		fwrite(o->via.bin.ptr, 1, o->via.bin.size, f);
	else if (o != NULL && o->type == MSGPACK_OBJECT_STR)
		fwrite(o->via.str.ptr, 1, o->via.str.size, f);
}

/* {status, signal, stdout, stderr, truncated}: the output, then the status. */
static int
finish(struct lp_value *v)
{
	const msgpack_object *status = lp_value_get(v, "status");
	const msgpack_object *sig = lp_value_get(v, "signal");
	const msgpack_object *truncated = lp_value_get(v, "truncated");
	int rc;

	copy_out(stdout, lp_value_get(v, "stdout"));
	copy_out(stderr, lp_value_get(v, "stderr"));
	if (truncated != NULL && truncated->type == MSGPACK_OBJECT_BOOLEAN &&
	    truncated->via.boolean)
		fprintf(stderr,
		    "leasepool: warning: the daemon kept only the first "
		    "exec_output_max bytes of the program's output\n");
	if (sig != NULL && sig->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    sig->via.u64 > 0)
		rc = (int)((128 + sig->via.u64) & 0xff);
	else if (status != NULL &&
	    status->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		rc = (int)(status->via.u64 & 0xff);
	else {
		fprintf(stderr,
		    "leasepool: %s: exec answered without a status\n",
		    lp_err_name(LP_ERR_PROTOCOL));
		rc = EXEC_FAILED;
	}
	lp_value_free(v);
	return rc;
}

int
cmd_exec(struct tool *t, int argc, char **argv)
{
	static const struct option options[] = {
		{ "directory", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct lp_args *a;
	struct lp_value *v;
	struct lp_error err;
	const char *dir = NULL;
	int ch, rc;

	optind = 0; /* glibc: start afresh on this vector */
	while ((ch = getopt_long(argc, argv, "+:C:", options, NULL)) != -1) {
		if (ch != 'C')
			return usage_error(
			    "exec: unknown option or missing value: '%s'",
			    argv[optind - 1]);
		dir = optarg;
	}
	if (optind == argc)
		return usage_error("exec needs a command");
	if ((a = lp_args_new()) == NULL) {
		report_oom();
		return EXEC_FAILED;
	}
	tool_owner(t, "exec", argv[optind]);
	if (!add_argv(a, argc - optind, argv + optind) || !add_cwd(a, dir) ||
	    !add_stdin(a) || tool_connect(t) != TOOL_OK)
		rc = EXEC_FAILED;
	else if (lease_and_run(t, "exec", a, &v, &err) == LP_OK)
		rc = finish(v);
	else
		rc = exec_failure(&err);
	lp_args_free(a);
	return rc;
}
