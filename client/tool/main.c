/* SPDX-License-Identifier: ISC */
/*
 * leasepool(1): the global options, the command table, help, and the one
 * exit path that makes sure stdout really got what we printed.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/tool/tool.h"

#define SYNOPSIS \
	"usage: leasepool [-n] [-s socket] [-p pool] [-t seconds] [-j seconds] [-o owner]\n" \
	"                 command [arg...]\n" \
	"       leasepool -h | -V\n"

static int cmd_help(struct tool *, int, char **);

/* The global options that a command uses, or refuses when it would ignore them. */
#define COMMAND_OPTIONS "spntjo"

/* options: those of COMMAND_OPTIONS the command uses besides -s. */
static const struct command {
	const char *name;
	tool_command *run;
	const char *options;
} commands[] = {
	{ "ping", cmd_ping, "" },
	{ "stats", cmd_stats, "p" },
	{ "run", cmd_run, "ptnjo" },
	{ "submit", cmd_submit, "p" },
	{ "exec", cmd_exec, "ptnjo" },
	{ "reload", cmd_reload, "" },
	{ "drain", cmd_drain, "p" },
	{ "resume", cmd_resume, "p" },
	{ "config", cmd_config, "" },
	{ "help", cmd_help, "" },
};

static int
cmd_help(struct tool *t, int argc, char **argv)
{
	printf(SYNOPSIS
	    "\n"
	    "Borrow workers of the host's leasepoold.\n"
	    "\n"
	    "commands:\n"
	    "  ping                 the daemon's version, protocol, pid, pools (\"(exec)\" where\n"
	    "                       exec is allowed), functions and the time an answer takes\n"
	    "  stats [--json | --prometheus]\n"
	    "                       pools, executors, counters and live leases\n"
	    "  run [--kw key=value]... fn [arg...]\n"
	    "                       lease an executor, run fn(args, kwargs) on it, release it,\n"
	    "                       and print the result as one line of JSON; on a terminal,\n"
	    "                       say so when it waits for an executor (exec too)\n"
	    "  submit [--kw key=value]... fn [arg...]\n"
	    "                       the same through the daemon's batching grinder, no lease\n"
	    "  exec [-C dir | --directory=dir] [--] program [arg...]\n"
	    "                       run a program on a worker: our stdin goes to it (unless a\n"
	    "                       terminal), its output comes out here, it starts in our\n"
	    "                       directory (or dir), and its exit status is ours\n"
	    "  reload               the daemon reads its configuration file again (SIGHUP)\n"
	    "  drain                the pool (-p) or every pool grants no new lease; leases\n"
	    "                       held run on, acquires wait (or fail when told not to)\n"
	    "  resume               the pool (-p) or every pool grants leases again\n"
	    "  config [--json]      the running daemon's configuration, every key\n"
	    "                       (reload, drain, resume, config: root and the daemon's\n"
	    "                       user only)\n"
	    "  help                 this text\n"
	    "\n"
	    "options:\n"
	    "  -s, --socket=path          the daemon's socket (default: $LEASEPOOL_SOCKET,\n"
	    "                             else the first that exists of\n"
	    "                             /run/leasepool/leasepool.sock,\n"
	    "                             $XDG_RUNTIME_DIR/leasepool.sock,\n"
	    "                             /tmp/leasepool-$UID.sock, if no other user could\n"
	    "                             have put it there; now %s)\n"
	    "  -p, --pool=pool            the pool to use (default: the daemon's default pool)\n"
	    "  -t, --timeout=seconds      wait at most this long for a free executor\n"
	    "  -n, --nowait               do not wait: fail at once when no executor is free\n"
	    "  -j, --job-timeout=seconds  the job's timeout (default: the pool's)\n"
	    "  -o, --owner=owner          the lease's label in stats\n"
	    "                             (default: \"leasepool run fn\")\n"
	    "  -h, --help                 this text\n"
	    "  -V, --version              the tool's version\n"
	    "  -p is for stats, run, submit, exec, drain and resume; -t, -n, -j and -o\n"
	    "  are for run and exec.  A command refuses an option that it would ignore.\n"
	    "\n"
	    "values: an arg or --kw value that parses as JSON is that value (42, -1.5,\n"
	    "  true, null, \"text\", [1,2], {\"a\":1}); anything else is a plain string.\n"
	    "  {\"$base64\":\"...\"} stands for bytes.  Options go before fn: every word\n"
	    "  after it is a value, \"-5\" included.\n"
	    "\n"
	    "exit status:\n"
	    "  0    success\n"
	    "  1    the job failed, ran past its timeout, or crashed its worker\n"
	    "  2    usage error\n"
	    "  3    the daemon cannot be reached, or the connection was lost\n"
	    "  4    busy, worth retrying later: no free executor (-n), waited too long\n"
	    "       (-t), a limit reached, the daemon stopping, the lease gone\n"
	    "  5    refused: no such function or pool, not permitted, invalid argument,\n"
	    "       method not supported by this daemon\n"
	    "  6    protocol or internal error\n"
	    "  7    the daemon's socket may not be used: permission denied, or a default\n"
	    "       socket that another user could have put there\n"
	    "  130  interrupted: Ctrl-C during run, exec or submit cancels the job on the\n"
	    "       daemon and waits for its answer (Ctrl-C again: leave at once), then\n"
	    "       leasepool ends by SIGINT, which a shell reports as 130\n"
	    "  exec exits with the program's status (128+N when signal N killed it), or\n"
	    "  124 when it ran past its timeout, 125 when leasepool failed (see stderr),\n"
	    "  127 when it could not be started, 2 on a usage error, 130 when interrupted.\n"
	    "Errors are reported on stderr as \"leasepool: CODE: message\".\n",
	    t->socket != NULL ? t->socket : lp_default_socket());
	return TOOL_OK;
}

int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("leasepool: USAGE: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n" SYNOPSIS "(leasepool help describes the commands)\n",
	    stderr);
	return TOOL_USAGE;
}

static bool
parse_seconds(const char *text, double *seconds)
{
	char *end;

	errno = 0;
	*seconds = strtod(text, &end);
	return errno == 0 && end != text && *end == '\0' &&
	    isfinite(*seconds) && *seconds > 0;
}

/* A full disk or a closed pipe must not pass for success. */
static int
flush_stdout(int status)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	fprintf(stderr, "leasepool: %s: stdout: %s\n",
	    lp_err_name(LP_ERR_SYSTEM), strerror(errno));
	return status == TOOL_OK ? TOOL_BROKEN : status;
}

/* The global options: every short one has a long name too. */
static const struct option options[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "pool", required_argument, NULL, 'p' },
	{ "timeout", required_argument, NULL, 't' },
	{ "nowait", no_argument, NULL, 'n' },
	{ "job-timeout", required_argument, NULL, 'j' },
	{ "owner", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char *
long_name(int ch)
{
	for (const struct option *o = options; o->name != NULL; o++) {
		if (o->val == ch)
			return o->name;
	}
	return "?";
}

/* getopt's ':' or '?' for argv[optind - 1], in the words the user typed. */
static int
option_error(int ch, char **argv)
{
	if (ch == ':')
		return usage_error("-%c (--%s) needs a value", optopt,
		    long_name(optopt));
	if (optopt != 0)
		return usage_error("no option -%c", optopt);
	return usage_error("no option '%s'", argv[optind - 1]);
}

/* given: the global options on the command line, each letter once. */
static int
dispatch(struct tool *t, const char *given, int argc, char **argv)
{
	const struct command *cmd = NULL;

	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[0], commands[i].name) == 0)
			cmd = &commands[i];
	}
	if (cmd == NULL)
		return usage_error("no command named '%s'", argv[0]);
	for (; *given != '\0'; given++) {
		if (*given != 's' && strchr(cmd->options, *given) == NULL)
			return usage_error("%s takes no -%c (--%s)", cmd->name,
			    *given, long_name(*given));
	}
	return cmd->run(t, argc, argv);
}

int
main(int argc, char **argv)
{
	struct tool t = { 0 };
	char given[sizeof COMMAND_OPTIONS] = "";
	int ch, status;

	while ((ch = getopt_long(argc, argv, "+:s:p:t:j:o:nhV", options,
		    NULL)) != -1) {
		if (strchr(COMMAND_OPTIONS, ch) != NULL &&
		    strchr(given, ch) == NULL)
			given[strlen(given)] = (char)ch;
		switch (ch) {
		case 's':
			t.socket = optarg;
			break;
		case 'p':
			t.acquire.pool = optarg;
			break;
		case 't':
			if (!parse_seconds(optarg, &t.acquire.timeout))
				return usage_error(
				    "-t takes a number of seconds > 0, not '%s'",
				    optarg);
			break;
		case 'j':
			if (!parse_seconds(optarg, &t.job_timeout))
				return usage_error(
				    "-j takes a number of seconds > 0, not '%s'",
				    optarg);
			break;
		case 'o':
			t.acquire.owner = optarg;
			break;
		case 'n':
			t.acquire.nowait = true;
			break;
		case 'h':
			return flush_stdout(cmd_help(&t, 0, NULL));
		case 'V':
			puts("leasepool " LP_VERSION);
			return flush_stdout(TOOL_OK);
		default:
			return option_error(ch, argv);
		}
	}
	if (optind == argc)
		return usage_error("no command given");
	status = dispatch(&t, given, argc - optind, argv + optind);
	lp_client_free(t.client);
	return interrupt_exit(flush_stdout(status));
}
