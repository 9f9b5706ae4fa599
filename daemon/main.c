/* SPDX-License-Identifier: ISC */
/*
 * leasepoold: lends the workers of this host to the programs that ask.
 * Start-up order matters: configuration, then the fork server (before any
 * thread or client socket exists), then the listener and the loop.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/backend/backend.h"
#include "daemon/backend/forkserver.h"
#include "daemon/backend/procpool.h"
#include "daemon/backend/threadpool.h"
#include "daemon/core/config.h"
#include "daemon/core/log.h"
#include "daemon/jobs/modules.h"
#include "daemon/jobs/privs.h"
#include "daemon/server/listen_path.h"
#include "daemon/server/loop.h"
#include "daemon/server/metrics.h"
#include "daemon/server/runas.h"
#include "daemon/server/server.h"

static __attribute__((noreturn)) void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: leasepoold [-tvqVh] [-c file] [-s socket] [-u user]\n"
	    "  -c, --config=file    read the configuration from file\n"
	    "                       (default: the embedded one)\n"
	    "  -s, --socket=path    listen on this socket path, whatever the file says\n"
	    "  -t, --check          check the configuration and exit\n"
	    "  -u, --user=user      started as root, run as user (its groups too) once\n"
	    "                       the socket's directory is ready, before anything\n"
	    "                       else runs\n"
	    "  -v, --verbose        log more (repeatable)\n"
	    "  -q, --quiet          log less (repeatable)\n"
	    "  -V, --version        print the version and exit\n"
	    "  -h, --help           print this help and exit\n");
	exit(status);
}

static void
print_section(void *arg, const struct pool_config *pool, unsigned nkeys)
{
	if (pool == NULL)
		printf("[daemon]\n");
	else
		printf("\n[pool %s]\n", pool->name);
}

/* An empty value without a blank after the '=': still "key =" for the parser. */
static void
print_value(void *arg, const char *key, const char *value)
{
	printf("%s =%s%s\n", key, *value != '\0' ? " " : "", value);
}

/*
 * -t: a summary in comments, then every key's effective value in the
 * file's own form, so that the output is itself a configuration file that
 * means the same.
 */
static void
print_config(const struct config *cfg)
{
	printf("# configuration %s is valid\n", cfg->source);
	printf("# socket %s (mode %04o), default pool %s\n", cfg->socket_path,
	    (unsigned)cfg->socket_mode, cfg->default_pool);
	for (size_t i = 0; i < cfg->npools; i++) {
		const struct pool_config *p = &cfg->pools[i];

		printf(
		    "# pool %s: %s backend, %u-%u executor%s of %u worker%s, "
		    "lease %gs + %gs grace, job timeout %gs\n",
		    p->name, config_backend_name(p->backend), p->executors_min,
		    p->executors_max, lp_plural(p->executors_max), p->workers,
		    lp_plural(p->workers), p->lease_seconds, p->grace_seconds,
		    p->job_timeout);
	}
	config_each_value(cfg, print_section, print_value, NULL);
}

static void
print_warning(void *arg, const char *text)
{
	fprintf(stderr, "leasepoold: warning: %s\n", text);
}

/* -t: would the daemon listen where the configuration says? */
static int
check_socket_path(const char *path)
{
	char why[512];

	if (listen_path_check(path, false, why, sizeof why) == -1) {
		fprintf(stderr, "leasepoold: %s: will not listen there: %s\n",
		    path, why);
		return 1;
	}
	if (why[0] != '\0')
		printf("# socket directory: %s\n", why);
	return 0;
}

static const struct option options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "socket", required_argument, NULL, 's' },
	{ "check", no_argument, NULL, 't' },
	{ "user", required_argument, NULL, 'u' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
main(int argc, char **argv)
{
	const char *config_path = NULL, *socket_path = NULL, *user = NULL;
	struct event_base *base;
	int opt, verbosity = 0;
	bool check_only = false;
	char err[1024];

	/* A fork server the daemon restarted (forkserver.c): nothing of the daemon's start-up. */
	if (argc > 1 && strcmp(argv[1], FORKSERVER_ARG) == 0)
		forkserver_main(argc, argv);
	while ((opt = getopt_long(argc, argv, "c:s:tu:vqVh", options, NULL)) !=
	    -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 't':
			check_only = true;
			break;
		case 'u':
			user = optarg;
			break;
		case 'v':
			verbosity++;
			break;
		case 'q':
			verbosity--;
			break;
		case 'V':
			printf("leasepoold %s (protocol %d)\n", LP_VERSION,
			    LP_PROTOCOL_VERSION);
			return 0;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (user != NULL)
		runas_environment(user);

	if (config_load(&server.cfg, config_path, err, sizeof err) == -1) {
		fprintf(stderr, "leasepoold: %s\n", err);
		return 1;
	}
	if (socket_path != NULL) {
		if (strlen(socket_path) >= sizeof server.cfg.socket_path) {
			fprintf(stderr,
			    "leasepoold: -s %s: longer than %zu bytes\n",
			    socket_path, sizeof server.cfg.socket_path - 1);
			return 1;
		}
		snprintf(server.cfg.socket_path, sizeof server.cfg.socket_path,
		    "%s", socket_path);
	}
	if (user != NULL &&
	    runas_become(user, server.cfg.socket_path, !check_only, err,
		sizeof err) == -1) {
		fprintf(stderr, "leasepoold: -u %s: %s\n", user, err);
		return 1;
	}
	if (modules_load(server.cfg.modules, err, sizeof err) == -1) {
		fprintf(stderr, "leasepoold: %s\n", err);
		return 1;
	}
	if (check_only) {
		config_warnings(&server.cfg, geteuid(), true, print_warning,
		    NULL);
		print_config(&server.cfg);
		if (metrics_exposed(server.cfg.metrics_listen, err, sizeof err))
			fprintf(stderr, "leasepoold: warning: %s\n", err);
		return check_socket_path(server.cfg.socket_path);
	}
	server.config_path = config_path;
	server.socket_override = socket_path;
	server.verbosity = verbosity;
	log_init(server_log_level());

	if ((base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	server_backends_init(base);
	forkserver_start(base, &procpool_forkserver_events, server.cfg.modules);
	server_init(base);
	/* The fork server keeps what it takes to start programs as others; the daemon does not. */
	privs_drop();
	if (privs_exec_any_user())
		log_info("exec runs programs as the user who asks");
	else
		log_info(
		    "exec runs programs only for uid %u: no CAP_SETUID, CAP_SETGID and CAP_KILL",
		    (unsigned)geteuid());
	log_notice("leasepoold %s listening on %s (%s, %zu pool%s), as uid %u",
	    LP_VERSION, server.cfg.socket_path, server.cfg.source,
	    server.cfg.npools, lp_plural(server.cfg.npools),
	    (unsigned)geteuid());

	loop_run(base);

	backends_stop();
	server_free();
	forkserver_stop();
	event_base_free(base);
	log_notice("stopped");
	/* A thread left inside a job function still runs the modules' code. */
	if (threadpool_abandoned() == 0)
		modules_unload();
	return 0;
}
