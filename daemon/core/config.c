/* SPDX-License-Identifier: ISC */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <limits.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "daemon/core/config.h"
#include "daemon/core/log.h"
#include "daemon/core/trust.h"
#include "proto/path_trust.h"

#define POOL_SECTION "pool "
#define SYNTAX_ERROR "syntax error: expected [section] or key = value"

enum section {
	SECTION_NONE,
	SECTION_DAEMON,
	SECTION_POOL,
};

enum key_type {
	KEY_PATH, /* a socket path */
	KEY_NAME, /* a pool name */
	KEY_UINT,
	KEY_SECONDS, /* finite, >= min */
	KEY_MODE,    /* octal file mode */
	KEY_LOG_LEVEL,
	KEY_BACKEND,
	KEY_BOOL,    /* yes/no, true/false, on/off, 1/0 */
	KEY_BYTES,   /* an integer with an optional K, M or G suffix */
	KEY_PATHS,   /* absolute paths separated by spaces */
	KEY_USERS,   /* user names or uids, separated by spaces or commas */
	KEY_GROUPS,  /* group names or gids, likewise */
	KEY_ADDRESS, /* empty, or a numeric HOST:PORT to listen on */
	KEY_PROGRAM, /* empty, or a trusted executable and its arguments */
};

struct key {
	enum section section;
	const char *name;
	enum key_type type;
	size_t offset; /* into struct config or struct pool_config */
	double min, max;
	const char *def; /* NULL: computed from the machine */
	bool reloadable;
};

#define D(field) offsetof(struct config, field)
#define P(field) offsetof(struct pool_config, field)

/* Every key, once.  Defaults are parsed by the same code as the file. */
static const struct key keys[] = {
	{ SECTION_DAEMON, "socket", KEY_PATH, D(socket_path), 0, 0, NULL,
	    false },
	{ SECTION_DAEMON, "socket_mode", KEY_MODE, D(socket_mode), 0, 0777,
	    "0600", false },
	{ SECTION_DAEMON, "default_pool", KEY_NAME, D(default_pool), 0, 0,
	    "cpu", true },
	{ SECTION_DAEMON, "max_connections", KEY_UINT, D(max_connections), 1,
	    1000000, "4096", true },
	{ SECTION_DAEMON, "max_connections_per_user", KEY_UINT,
	    D(max_connections_per_user), 1, 1000000, "256", true },
	{ SECTION_DAEMON, "max_user_buffer_bytes", KEY_BYTES,
	    D(max_user_buffer_bytes), 65536, 1ULL << 40, "64M", true },
	{ SECTION_DAEMON, "max_message_bytes", KEY_BYTES, D(max_message_bytes),
	    1024, LP_MESSAGE_BYTES_CEILING, "4194304", true },
	{ SECTION_DAEMON, "max_depth", KEY_UINT, D(max_depth), 4, 32, "32",
	    true },
	{ SECTION_DAEMON, "max_result_bytes", KEY_BYTES, D(max_result_bytes),
	    1024, LP_RESULT_BYTES_CEILING, "16M", true },
	{ SECTION_DAEMON, "max_requests_per_connection", KEY_UINT,
	    D(max_requests_per_connection), 1, 1000000, "4096", true },
	{ SECTION_DAEMON, "shutdown_timeout", KEY_SECONDS, D(shutdown_timeout),
	    0, 86400, "10", true },
	{ SECTION_DAEMON, "busy_poll", KEY_SECONDS, D(busy_poll), 0, 0.001,
	    "0.00003", true },
	{ SECTION_DAEMON, "log_level", KEY_LOG_LEVEL, D(log_level), 0, 0,
	    "info", true },
	{ SECTION_DAEMON, "modules", KEY_PATHS, D(modules), 0, 0, "", false },
	{ SECTION_DAEMON, "metrics_listen", KEY_ADDRESS, D(metrics_listen), 0,
	    0, "", false },
	{ SECTION_POOL, "backend", KEY_BACKEND, P(backend), 0, 0, "process",
	    false },
	{ SECTION_POOL, "executors_min", KEY_UINT, P(executors_min), 0, 1024,
	    "1", true },
	{ SECTION_POOL, "executors_max", KEY_UINT, P(executors_max), 1, 1024,
	    "4", true },
	{ SECTION_POOL, "workers", KEY_UINT, P(workers), 1, 1024, NULL, false },
	{ SECTION_POOL, "lease_seconds", KEY_SECONDS, P(lease_seconds), 1e-3,
	    31536000, "60", true },
	{ SECTION_POOL, "max_lease_seconds", KEY_SECONDS, P(max_lease_seconds),
	    1e-3, 31536000, "3600", true },
	{ SECTION_POOL, "grace_seconds", KEY_SECONDS, P(grace_seconds), 0,
	    31536000, "10", true },
	{ SECTION_POOL, "job_timeout", KEY_SECONDS, P(job_timeout), 1e-3,
	    31536000, "300", true },
	{ SECTION_POOL, "cancel_grace", KEY_SECONDS, P(cancel_grace), 0, 3600,
	    "1", true },
	{ SECTION_POOL, "exec", KEY_BOOL, P(exec), 0, 0, "no", true },
	{ SECTION_POOL, "exec_output_max", KEY_BYTES, P(exec_output_max), 0,
	    1 << 30, "1M", true },
	{ SECTION_POOL, "max_jobs_per_worker", KEY_UINT, P(max_jobs_per_worker),
	    0, 1e9, "0", true },
	{ SECTION_POOL, "memory_limit", KEY_BYTES, P(memory_limit), 0,
	    1ULL << 50, "0", true },
	{ SECTION_POOL, "sched_batch", KEY_BOOL, P(sched_batch), 0, 0, "yes",
	    true },
	{ SECTION_POOL, "worker_program", KEY_PROGRAM, P(worker_program), 0, 0,
	    "", true },
	{ SECTION_POOL, "worker_start_timeout", KEY_SECONDS,
	    P(worker_start_timeout), 1e-3, 86400, "30", true },
	{ SECTION_POOL, "idle_seconds", KEY_SECONDS, P(idle_seconds), 1e-3,
	    31536000, "60", true },
	{ SECTION_POOL, "units_per_executor", KEY_UINT, P(units_per_executor),
	    1, 1000000000, "1", true },
	{ SECTION_POOL, "batch_size", KEY_UINT, P(batch_size), 1, 4096, "64",
	    true },
	{ SECTION_POOL, "batch_wait", KEY_SECONDS, P(batch_wait), 1e-6, 60,
	    "0.002", true },
	{ SECTION_POOL, "allow_users", KEY_USERS, P(allow_users), 0, 0, "",
	    true },
	{ SECTION_POOL, "allow_groups", KEY_GROUPS, P(allow_groups), 0, 0, "",
	    true },
	{ SECTION_POOL, "max_leases_per_client", KEY_UINT,
	    P(max_leases_per_client), 0, 1024, "0", true },
	{ SECTION_POOL, "max_leases_per_user", KEY_UINT, P(max_leases_per_user),
	    0, 1024, "0", true },
};
#define NKEYS (sizeof keys / sizeof keys[0])

/*
 * Used when the file defines no pool: CPU work on processes, and blocking
 * I/O on threads, where a job that waits costs a thread, not a process.
 */
static const char embedded_pools[] =
    "[pool cpu]\nbackend = process\n"
    "[pool io]\nbackend = thread\nworkers = 16\nexecutors_max = 8\n";

struct parse {
	struct config *cfg;
	const char *name; /* file name for messages */
	unsigned line;
	enum section section;
	struct pool_config *pool;
	char section_label[LP_POOL_NAME_MAX + 32];
	unsigned char seen[NKEYS]; /* keys set in the current section */
	char *err;
	size_t errlen;
	bool failed;
	/* what is read: a file, else text */
	FILE *file;
	const char *text;
};

static void parse_fail(struct parse *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
parse_fail(struct parse *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* The first error is the one worth reading: what follows may only be its echo. */
	if (ps->failed)
		return;
	ps->failed = true;
	if (ps->line > 0)
		n = snprintf(ps->err, ps->errlen, "%s:%u: ", ps->name,
		    ps->line);
	else
		n = snprintf(ps->err, ps->errlen, "%s: ", ps->name);
	if (n < 0 || (size_t)n >= ps->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static unsigned
machine_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 1024 ? 1024 : (unsigned)n;
}

void
config_default_socket(char *buf, size_t len)
{
	const char *dir = getenv("XDG_RUNTIME_DIR");
	/* systemd's RuntimeDirectory= of the service: a system service has no XDG_RUNTIME_DIR. */
	const char *service_dir = getenv("RUNTIME_DIRECTORY");

	if (service_dir != NULL && *service_dir == '/' &&
	    strchr(service_dir, ':') == NULL)
		snprintf(buf, len, "%s/leasepool.sock", service_dir);
	else if (dir != NULL && *dir == '/')
		snprintf(buf, len, "%s/leasepool.sock", dir);
	else if (getuid() == 0)
		snprintf(buf, len, "%s", LP_SYSTEM_SOCKET);
	else
		snprintf(buf, len, "/tmp/leasepool-%u.sock",
		    (unsigned)getuid());
}

const char *
config_backend_name(enum backend b)
{
	switch (b) {
	case LP_BACKEND_PROCESS:
		return "process";
	case LP_BACKEND_THREAD:
		return "thread";
	}
	return "?";
}

static bool
valid_pool_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > LP_POOL_NAME_MAX)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("_-.", *s) == NULL)
			return false;
	return true;
}

static const char *
range_text(const struct key *k, char *buf, size_t len)
{
	switch (k->type) {
	case KEY_UINT:
		snprintf(buf, len, "an integer from %.0f to %.0f", k->min,
		    k->max);
		break;
	case KEY_SECONDS:
		snprintf(buf, len,
		    "a finite number of seconds from %g to %.15g", k->min,
		    k->max);
		break;
	case KEY_MODE:
		snprintf(buf, len, "an octal file mode from 0 to 0777");
		break;
	case KEY_LOG_LEVEL:
		snprintf(buf, len,
		    "one of error, warning, notice, info, debug");
		break;
	case KEY_BACKEND:
		snprintf(buf, len, "one of process, thread");
		break;
	case KEY_NAME:
		snprintf(buf, len,
		    "a name of 1 to %d letters, digits, '_', '-', '.'",
		    LP_POOL_NAME_MAX);
		break;
	case KEY_PATH:
		snprintf(buf, len, "an absolute path shorter than %d bytes",
		    LP_SOCKET_PATH_MAX);
		break;
	case KEY_BOOL:
		snprintf(buf, len, "yes or no");
		break;
	case KEY_BYTES:
		snprintf(buf, len,
		    "a size from %.0f to %.0f bytes (suffix K, M or G allowed)",
		    k->min, k->max);
		break;
	case KEY_PATHS:
		snprintf(buf, len,
		    "absolute paths separated by spaces, %d bytes at most",
		    LP_MODULES_MAX - 1);
		break;
	case KEY_USERS:
		snprintf(buf, len, "at most %d existing user names or uids",
		    LP_IDS_MAX);
		break;
	case KEY_GROUPS:
		snprintf(buf, len, "at most %d existing group names or gids",
		    LP_IDS_MAX);
		break;
	case KEY_ADDRESS:
		snprintf(buf, len,
		    "empty, or a numeric address and port such as "
		    "127.0.0.1:9464 or [::1]:9464");
		break;
	case KEY_PROGRAM:
		snprintf(buf, len,
		    "empty, or an absolute path and its arguments, quoted as in a "
		    "shell, %d bytes at most",
		    LP_PROGRAM_MAX - 1);
		break;
	}
	return buf;
}

static bool
parse_bool(const char *value, bool *dst)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*dst = true;
			return true;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*dst = false;
			return true;
		}
	}
	return false;
}

/* Sizes land in unsigned or unsigned long long fields: the key's max says which. */
static bool
parse_bytes(const struct key *k, const char *value, void *dst)
{
	unsigned long long v, unit = 1;
	char *end;

	if (!isdigit((unsigned char)value[0]))
		return false;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno != 0)
		return false;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		unit = 1ULL << 10;
		end++;
		break;
	case 'M':
		unit = 1ULL << 20;
		end++;
		break;
	case 'G':
		unit = 1ULL << 30;
		end++;
		break;
	}
	if (*end != '\0' || v > (unsigned long long)k->max / unit ||
	    v * unit < k->min)
		return false;
	if (k->max > UINT_MAX)
		*(unsigned long long *)dst = v * unit;
	else
		*(unsigned *)dst = (unsigned)(v * unit);
	return true;
}

static bool
all_absolute(const char *list)
{
	const char *p = list;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p != '\0' && *p != '/')
			return false;
		while (*p != '\0' && *p != ' ')
			p++;
	}
	return true;
}

/* A user or group by name or number; false when the system has no such one. */
static bool
resolve_id(const char *name, bool user, uint32_t *id)
{
	char buf[16384], *end;
	struct passwd pw, *pwp;
	struct group gr, *grp;
	unsigned long n;

	if (isdigit((unsigned char)name[0])) {
		errno = 0;
		n = strtoul(name, &end, 10);
		if (errno != 0 || *end != '\0' || n >= UINT32_MAX)
			return false;
		*id = (uint32_t)n;
		return true;
	}
	if (user) {
		if (getpwnam_r(name, &pw, buf, sizeof buf, &pwp) != 0 ||
		    pwp == NULL)
			return false;
		*id = pw.pw_uid;
	} else {
		if (getgrnam_r(name, &gr, buf, sizeof buf, &grp) != 0 ||
		    grp == NULL)
			return false;
		*id = gr.gr_gid;
	}
	return true;
}

static bool
parse_ids(const char *value, bool users, struct idlist *list)
{
	char copy[LP_CONFIG_LINE_MAX + 1], *word, *save;

	if (strlen(value) >= sizeof copy)
		return false;
	snprintf(copy, sizeof copy, "%s", value);
	memset(list, 0, sizeof *list);
	for (word = strtok_r(copy, " ,", &save); word != NULL;
	     word = strtok_r(NULL, " ,", &save)) {
		if (list->n == LP_IDS_MAX ||
		    !resolve_id(word, users, &list->ids[list->n]))
			return false;
		list->n++;
	}
	return true;
}

/*
 * A numeric address with a port, "a.b.c.d:port" or "[v6]:port", as the
 * metrics listener binds it (evutil_parse_sockaddr_port): names would need a
 * resolver at start-up.  getaddrinfo() with a numeric host only parses, and
 * keeps core/ free of libevent.
 */
static bool
valid_listen_address(const char *value)
{
	const struct addrinfo hints = { .ai_flags = AI_NUMERICHOST };
	const char *colon = strrchr(value, ':');
	bool bracketed = value[0] == '[';
	char host[LP_ADDRESS_MAX], *end;
	struct addrinfo *ai;
	unsigned long port;
	size_t len;
	bool ok;

	if (colon == NULL || !isdigit((unsigned char)colon[1]))
		return false;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return false;
	/* An IPv6 address holds colons of its own: only in brackets is the last one the port's. */
	if (bracketed ? colon[-1] != ']' :
			memchr(value, ':', (size_t)(colon - value)) != NULL)
		return false;
	len = (size_t)(colon - value) - (bracketed ? 2 : 0);
	if (len >= sizeof host)
		return false;
	memcpy(host, value + bracketed, len);
	host[len] = '\0';
	if (getaddrinfo(host, NULL, &hints, &ai) != 0)
		return false;
	ok = ai->ai_family == (bracketed ? AF_INET6 : AF_INET);
	freeaddrinfo(ai);
	return ok;
}

/* Parses value into dst; false when it is not acceptable for k. */
static bool
parse_value(const struct key *k, const char *value, void *dst)
{
	char *end;

	switch (k->type) {
	case KEY_UINT: {
		long long v;

		if (!isdigit((unsigned char)value[0]))
			return false;
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno != 0 || *end != '\0' || v < k->min || v > k->max)
			return false;
		*(unsigned *)dst = (unsigned)v;
		return true;
	}
	case KEY_SECONDS: {
		double v;

		if (!isdigit((unsigned char)value[0]) && value[0] != '.')
			return false;
		errno = 0;
		v = strtod(value, &end);
		if (errno != 0 || *end != '\0' || !isfinite(v) || v < k->min ||
		    v > k->max)
			return false;
		if (k->min > 0 && v <= 0)
			return false;
		*(double *)dst = v;
		return true;
	}
	case KEY_MODE: {
		long v;

		if (value[0] < '0' || value[0] > '7')
			return false;
		errno = 0;
		v = strtol(value, &end, 8);
		if (errno != 0 || *end != '\0' || v < 0 || v > 0777)
			return false;
		*(mode_t *)dst = (mode_t)v;
		return true;
	}
	case KEY_LOG_LEVEL: {
		int level = log_level_from_name(value);

		if (level < LOG_ERR)
			return false;
		*(int *)dst = level;
		return true;
	}
	case KEY_BACKEND:
		if (strcasecmp(value, "process") == 0)
			*(enum backend *)dst = LP_BACKEND_PROCESS;
		else if (strcasecmp(value, "thread") == 0)
			*(enum backend *)dst = LP_BACKEND_THREAD;
		else
			return false;
		return true;
	case KEY_NAME:
		if (!valid_pool_name(value))
			return false;
		snprintf(dst, LP_POOL_NAME_MAX + 1, "%s", value);
		return true;
	case KEY_PATH:
		if (value[0] != '/' || strlen(value) >= LP_SOCKET_PATH_MAX)
			return false;
		snprintf(dst, LP_SOCKET_PATH_MAX, "%s", value);
		return true;
	case KEY_BOOL:
		return parse_bool(value, dst);
	case KEY_BYTES:
		return parse_bytes(k, value, dst);
	case KEY_PATHS:
		if (strlen(value) >= LP_MODULES_MAX || !all_absolute(value))
			return false;
		snprintf(dst, LP_MODULES_MAX, "%s", value);
		return true;
	case KEY_USERS:
	case KEY_GROUPS:
		return parse_ids(value, k->type == KEY_USERS, dst);
	case KEY_ADDRESS:
		if (strlen(value) >= LP_ADDRESS_MAX ||
		    (value[0] != '\0' && !valid_listen_address(value)))
			return false;
		snprintf(dst, LP_ADDRESS_MAX, "%s", value);
		return true;
	case KEY_PROGRAM: {
		char argv[LP_PROGRAM_MAX];

		if (strlen(value) >= LP_PROGRAM_MAX ||
		    (value[0] != '\0' &&
			(config_program_words(value, argv, sizeof argv) == -1 ||
			    argv[0] != '/')))
			return false;
		snprintf(dst, LP_PROGRAM_MAX, "%s", value);
		return true;
	}
	}
	return false;
}

long
config_program_words(const char *line, char *argv, size_t cap)
{
	size_t n = 0;
	char quote = 0;
	bool in_word = false;

	for (const char *p = line; *p != '\0'; p++) {
		char c = *p;

		if (quote == 0 && isspace((unsigned char)c)) {
			if (in_word && n < cap)
				argv[n++] = '\0';
			in_word = false;
			continue;
		}
		in_word = true;
		if (quote == 0 && (c == '\'' || c == '"')) {
			quote = c;
			continue;
		}
		if (c == quote) {
			quote = 0;
			continue;
		}
		if (c == '\\' &&
		    (quote == 0 ||
			(quote == '"' && strchr("\"\\$", p[1]) != NULL &&
			    p[1] != '\0'))) {
			if ((c = *++p) == '\0')
				return -1;
		}
		if (n < cap)
			argv[n++] = c;
	}
	if (in_word && n < cap)
		argv[n++] = '\0';
	if (quote != 0 || n == 0 || n >= cap)
		return -1;
	return (long)n;
}

/*
 * The program a pool's workers run: one the daemon may execute, and
 * trusted as a module is, since it runs with the daemon's uid and sees
 * every job of the pool.  Checked when the file is read, so that -t, a
 * start and a reload name the line of a program that cannot run.
 */
static void
check_program(struct parse *ps, const char *value)
{
	char argv[LP_PROGRAM_MAX], why[512];
	struct stat st;

	if (value[0] == '\0' ||
	    config_program_words(value, argv, sizeof argv) == -1)
		return; /* none, or parse_value refused it */
	if (trust_file(argv, why, sizeof why) == -1) {
		parse_fail(ps, "%s worker_program: not running it: %s",
		    ps->section_label, why);
		return;
	}
	if (stat(argv, &st) == -1 || access(argv, X_OK) == -1)
		parse_fail(ps, "%s worker_program: %s: %s", ps->section_label,
		    argv, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		parse_fail(ps, "%s worker_program: %s: not a regular file",
		    ps->section_label, argv);
}

static void *
key_target(struct parse *ps, const struct key *k)
{
	char *base =
	    k->section == SECTION_DAEMON ? (char *)ps->cfg : (char *)ps->pool;

	return base + k->offset;
}

static void
apply_defaults(struct parse *ps, enum section section)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		if (k->section != section || k->def == NULL)
			continue;
		if (!parse_value(k, k->def, key_target(ps, k)))
			fatalx("config: bad built-in default for %s", k->name);
	}
	if (section == SECTION_DAEMON)
		config_default_socket(ps->cfg->socket_path,
		    sizeof ps->cfg->socket_path);
	else
		ps->pool->workers = machine_cpus();
}

/* Pool keys are per pool; [daemon] keys are once per file, however many [daemon] sections. */
static void
forget_pool_keys(struct parse *ps)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].section == SECTION_POOL)
			ps->seen[i] = 0;
}

static void
begin_section(struct parse *ps, const char *name)
{
	forget_pool_keys(ps);
	ps->pool = NULL;
	snprintf(ps->section_label, sizeof ps->section_label, "[%s]", name);
	if (strcmp(name, "daemon") == 0) {
		ps->section = SECTION_DAEMON;
		return;
	}
	if (strncmp(name, POOL_SECTION, strlen(POOL_SECTION)) != 0) {
		ps->section = SECTION_NONE;
		parse_fail(ps,
		    "unknown section [%s]: expected [daemon] or [pool NAME]",
		    name);
		return;
	}
	name += strlen(POOL_SECTION);
	ps->section = SECTION_POOL;
	if (!valid_pool_name(name)) {
		parse_fail(ps,
		    "bad pool name '%s': use 1 to %d letters, digits, '_', '-', '.'",
		    name, LP_POOL_NAME_MAX);
		return;
	}
	if (config_pool(ps->cfg, name, strlen(name)) != NULL) {
		parse_fail(ps, "pool '%s' is defined twice", name);
		return;
	}
	if (ps->cfg->npools == LP_POOLS_MAX) {
		parse_fail(ps, "too many pools (at most %d)", LP_POOLS_MAX);
		return;
	}
	ps->pool = &ps->cfg->pools[ps->cfg->npools++];
	memset(ps->pool, 0, sizeof *ps->pool);
	snprintf(ps->pool->name, sizeof ps->pool->name, "%.*s",
	    LP_POOL_NAME_MAX, name);
	apply_defaults(ps, SECTION_POOL);
}

static int
next_byte(struct parse *ps)
{
	if (ps->file != NULL)
		return getc(ps->file);
	return *ps->text == '\0' ? EOF : (unsigned char)*ps->text++;
}

/*
 * The next line, without its newline, into buf, as much of it as fits; its
 * whole length, or -1 after the last line or a read error.  A line too
 * long for buf is read to its end all the same, so that its rest is not
 * taken for lines.
 */
static long
read_line(struct parse *ps, char *buf, size_t size)
{
	long len = 0;
	int c;

	while ((c = next_byte(ps)) != EOF && c != '\n') {
		if ((size_t)len < size - 1)
			buf[len] = (char)c;
		len++;
	}
	buf[(size_t)len < size - 1 ? (size_t)len : size - 1] = '\0';
	/* A directory opens; reading it is what fails. */
	if (c == EOF && ps->file != NULL && ferror(ps->file)) {
		parse_fail(ps, "%s", strerror(errno));
		return -1;
	}
	if (c == EOF && len == 0)
		return -1;
	ps->line++;
	return len;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* '#' or ';' after a blank starts a comment (a path may hold either elsewhere). */
static void
cut_inline_comment(char *s)
{
	for (char *p = s; *p != '\0'; p++) {
		if ((*p == '#' || *p == ';') && p > s &&
		    isspace((unsigned char)p[-1])) {
			*p = '\0';
			return;
		}
	}
}

static void
refuse_long_line(struct parse *ps, char *start)
{
	char *eq = strchr(start, '=');

	if (eq != NULL && ps->section != SECTION_NONE) {
		*eq = '\0';
		parse_fail(ps,
		    "%s %s: the line is longer than %d bytes, the most a line may hold",
		    ps->section_label, trim(start), LP_CONFIG_LINE_MAX);
	} else {
		parse_fail(ps,
		    "the line is longer than %d bytes, the most a line may hold",
		    LP_CONFIG_LINE_MAX);
	}
}

static void
parse_section_header(struct parse *ps, char *s)
{
	char *end = strchr(s, ']');

	if (end == NULL || end[1] != '\0') {
		parse_fail(ps, SYNTAX_ERROR);
		return;
	}
	*end = '\0';
	begin_section(ps, s + 1);
}

static void
handle_key(struct parse *ps, const char *name, const char *value)
{
	char range[128];

	if (ps->section == SECTION_NONE) {
		parse_fail(ps, "key '%s' outside any section", name);
		return;
	}
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		if (k->section != ps->section || strcmp(k->name, name) != 0)
			continue;
		if (ps->seen[i]) {
			parse_fail(ps, "%s %s: set twice", ps->section_label,
			    name);
			return;
		}
		ps->seen[i] = 1;
		if (!parse_value(k, value, key_target(ps, k)))
			parse_fail(ps, "%s %s: must be %s, got '%s'",
			    ps->section_label, name,
			    range_text(k, range, sizeof range), value);
		else if (k->type == KEY_PROGRAM)
			check_program(ps, value);
		return;
	}
	parse_fail(ps, "%s: unknown key '%s'", ps->section_label, name);
}

/*
 * One line of len bytes, of which line holds what fit: blank, a comment
 * ('#' or ';' first), [section], or key = value.
 */
static void
parse_line(struct parse *ps, char *line, long len)
{
	char *s = line, *eq;

	if (len <= LP_CONFIG_LINE_MAX && (long)strlen(line) != len) {
		parse_fail(ps, "a NUL byte in the line");
		return;
	}
	if (ps->line == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3; /* a UTF-8 byte order mark */
	s = trim(s);
	if (*s == '#' || *s == ';')
		return; /* however long: it says nothing */
	if (len > LP_CONFIG_LINE_MAX) {
		refuse_long_line(ps, s);
		return;
	}
	cut_inline_comment(s);
	s = trim(s);
	if (*s == '\0')
		return;
	if (*s == '[') {
		parse_section_header(ps, s);
		return;
	}
	if ((eq = strchr(s, '=')) == NULL) {
		parse_fail(ps, SYNTAX_ERROR);
		return;
	}
	*eq = '\0';
	handle_key(ps, trim(s), trim(eq + 1));
}

/* Up to the first error, which says all a reader can trust. */
static void
parse_lines(struct parse *ps)
{
	char line[LP_CONFIG_LINE_MAX + 1];
	long len;

	while (!ps->failed && (len = read_line(ps, line, sizeof line)) >= 0)
		parse_line(ps, line, len);
}

static void
check_whole(struct parse *ps)
{
	struct config *cfg = ps->cfg;

	ps->line = 0;
	for (size_t i = 0; i < cfg->npools; i++) {
		const struct pool_config *p = &cfg->pools[i];

		if (p->executors_min > p->executors_max)
			parse_fail(ps,
			    "[pool %s] executors_min (%u) is larger than executors_max (%u)",
			    p->name, p->executors_min, p->executors_max);
		if (p->lease_seconds > p->max_lease_seconds)
			parse_fail(ps,
			    "[pool %s] lease_seconds (%g) is larger than max_lease_seconds (%g)",
			    p->name, p->lease_seconds, p->max_lease_seconds);
		if (p->worker_program[0] != '\0' &&
		    p->backend != LP_BACKEND_PROCESS)
			parse_fail(ps,
			    "[pool %s] worker_program: only a process pool runs one "
			    "(backend = process)",
			    p->name);
		/* The program runs every function of the pool, and exec is no function of its. */
		if (p->worker_program[0] != '\0' && p->exec)
			parse_fail(ps,
			    "[pool %s] exec = yes: a pool with a worker_program has no "
			    "exec built-in",
			    p->name);
	}
	if (config_pool(cfg, cfg->default_pool, strlen(cfg->default_pool)) ==
	    NULL)
		parse_fail(ps, "[daemon] default_pool: no pool named '%s'",
		    cfg->default_pool);
}

static int
parse_into(struct config *cfg, struct parse *ps)
{
	memset(cfg, 0, sizeof *cfg);
	ps->cfg = cfg;
	snprintf(cfg->source, sizeof cfg->source, "%s", ps->name);
	apply_defaults(ps, SECTION_DAEMON);
	parse_lines(ps);
	if (!ps->failed && cfg->npools == 0) {
		struct parse defaults = *ps;

		defaults.text = embedded_pools;
		defaults.file = NULL;
		defaults.name = "(embedded default)";
		defaults.line = 0;
		parse_lines(&defaults);
		if (defaults.failed)
			fatalx("config: bad embedded default pools");
		ps->pool = NULL;
	}
	if (!ps->failed)
		check_whole(ps);
	return ps->failed ? -1 : 0;
}

int
config_load_string(struct config *cfg, const char *text, const char *name,
    char *err, size_t errlen)
{
	struct parse ps = { .name = name,
		.text = text,
		.err = err,
		.errlen = errlen };

	return parse_into(cfg, &ps);
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct parse ps = { .err = err, .errlen = errlen };
	char why[512];
	int rc;

	if (path == NULL)
		return config_load_string(cfg, "", "(embedded default)", err,
		    errlen);
	ps.name = path;
	if (trust_file(path, why, sizeof why) == -1) {
		snprintf(err, errlen, "not reading the configuration: %s", why);
		return -1;
	}
	ps.file = fopen(path, "re");
	if (ps.file == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = parse_into(cfg, &ps);
	fclose(ps.file);
	return rc;
}

static size_t
key_size(const struct key *k)
{
	switch (k->type) {
	case KEY_PATH:
		return LP_SOCKET_PATH_MAX;
	case KEY_NAME:
		return LP_POOL_NAME_MAX + 1;
	case KEY_UINT:
		return sizeof(unsigned);
	case KEY_SECONDS:
		return sizeof(double);
	case KEY_MODE:
		return sizeof(mode_t);
	case KEY_LOG_LEVEL:
		return sizeof(int);
	case KEY_BACKEND:
		return sizeof(enum backend);
	case KEY_BOOL:
		return sizeof(bool);
	case KEY_BYTES:
		return k->max > UINT_MAX ? sizeof(unsigned long long) :
					   sizeof(unsigned);
	case KEY_PATHS:
		return LP_MODULES_MAX;
	case KEY_USERS:
	case KEY_GROUPS:
		return sizeof(struct idlist);
	case KEY_ADDRESS:
		return LP_ADDRESS_MAX;
	case KEY_PROGRAM:
		return LP_PROGRAM_MAX;
	}
	return 0;
}

/* Copies the keys of one section that a reload may change; names the others. */
static unsigned
reload_section(enum section section, void *running, const void *next,
    const char *label, config_restart_fn *restart, void *arg)
{
	unsigned changed = 0;

	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		char *cur = (char *)running + k->offset;
		const char *nxt = (const char *)next + k->offset;

		if (k->section != section || memcmp(cur, nxt, key_size(k)) == 0)
			continue;
		if (!k->reloadable) {
			restart(arg, label, k->name);
			continue;
		}
		memcpy(cur, nxt, key_size(k));
		changed++;
	}
	return changed;
}

unsigned
config_reload(struct config *running, const struct config *next,
    config_restart_fn *restart, void *arg)
{
	char label[LP_POOL_NAME_MAX + 16];
	unsigned changed;
	size_t i;

	changed = reload_section(SECTION_DAEMON, running, next, "[daemon]",
	    restart, arg);
	for (i = 0; i < running->npools; i++) {
		struct pool_config *p = &running->pools[i];
		const struct pool_config *n =
		    config_pool(next, p->name, strlen(p->name));

		snprintf(label, sizeof label, "[pool %s]", p->name);
		if (n == NULL)
			restart(arg, label, "(removed)");
		else
			changed += reload_section(SECTION_POOL, p, n, label,
			    restart, arg);
	}
	for (i = 0; i < next->npools; i++) {
		if (config_pool(running, next->pools[i].name,
			strlen(next->pools[i].name)) == NULL) {
			snprintf(label, sizeof label, "[pool %s]",
			    next->pools[i].name);
			restart(arg, label, "(added)");
		}
	}
	return changed;
}

const struct pool_config *
config_pool(const struct config *cfg, const char *name, size_t len)
{
	for (size_t i = 0; i < cfg->npools; i++)
		if (strlen(cfg->pools[i].name) == len &&
		    memcmp(cfg->pools[i].name, name, len) == 0)
			return &cfg->pools[i];
	return NULL;
}

void
config_each_key(config_key_fn *fn, void *arg)
{
	for (size_t i = 0; i < NKEYS; i++)
		fn(arg, keys[i].section == SECTION_DAEMON ? "daemon" : "pool",
		    keys[i].name, keys[i].def);
}

static void
format_ids(const struct idlist *list, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < list->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%u",
		    i > 0 ? " " : "", (unsigned)list->ids[i]);
}

/* The value at v as the file would spell it: reading it back gives the same value. */
static void
format_value(const struct key *k, const void *v, char *buf, size_t len)
{
	switch (k->type) {
	case KEY_PATH:
	case KEY_NAME:
	case KEY_PATHS:
	case KEY_ADDRESS:
	case KEY_PROGRAM:
		snprintf(buf, len, "%s", (const char *)v);
		break;
	case KEY_UINT:
		snprintf(buf, len, "%u", *(const unsigned *)v);
		break;
	case KEY_SECONDS:
		snprintf(buf, len, "%.15g", *(const double *)v);
		break;
	case KEY_MODE:
		snprintf(buf, len, "%04o", (unsigned)*(const mode_t *)v);
		break;
	case KEY_LOG_LEVEL:
		snprintf(buf, len, "%s", log_level_name(*(const int *)v));
		break;
	case KEY_BACKEND:
		snprintf(buf, len, "%s",
		    config_backend_name(*(const enum backend *)v));
		break;
	case KEY_BOOL:
		snprintf(buf, len, "%s", *(const bool *)v ? "yes" : "no");
		break;
	case KEY_BYTES:
		if (k->max > UINT_MAX)
			snprintf(buf, len, "%llu",
			    *(const unsigned long long *)v);
		else
			snprintf(buf, len, "%u", *(const unsigned *)v);
		break;
	case KEY_USERS:
	case KEY_GROUPS:
		format_ids(v, buf, len);
		break;
	}
}

static unsigned
section_keys(enum section section)
{
	unsigned n = 0;

	for (size_t i = 0; i < NKEYS; i++)
		n += keys[i].section == section;
	return n;
}

static void
each_value_of(enum section section, const void *base, config_value_fn *value,
    void *arg)
{
	char buf[LP_CONFIG_LINE_MAX + 1];

	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].section != section)
			continue;
		format_value(&keys[i], (const char *)base + keys[i].offset, buf,
		    sizeof buf);
		value(arg, keys[i].name, buf);
	}
}

void
config_each_value(const struct config *cfg, config_section_fn *section,
    config_value_fn *value, void *arg)
{
	section(arg, NULL, section_keys(SECTION_DAEMON));
	each_value_of(SECTION_DAEMON, cfg, value, arg);
	for (size_t i = 0; i < cfg->npools; i++) {
		section(arg, &cfg->pools[i], section_keys(SECTION_POOL));
		each_value_of(SECTION_POOL, &cfg->pools[i], value, arg);
	}
}

void
config_warnings(const struct config *cfg, uid_t euid, bool own_socket,
    config_warn_fn *warn, void *arg)
{
	char text[512];

	for (size_t i = 0; i < cfg->npools && euid == 0; i++) {
		if (!cfg->pools[i].exec)
			continue;
		snprintf(text, sizeof text,
		    "[pool %s] exec = yes while the daemon runs as "
		    "root: programs run as their clients, but the daemon and its workers keep "
		    "uid 0, which owns root's files; run the daemon as a user of its own "
		    "(User= in its unit)",
		    cfg->pools[i].name);
		warn(arg, text);
	}
	if (!own_socket || (cfg->socket_mode & 077) == 0)
		return;
	snprintf(text, sizeof text,
	    "[daemon] socket_mode %04o lets %s connect to %s; "
	    "allow_users and allow_groups say which pools each may use",
	    (unsigned)cfg->socket_mode,
	    cfg->socket_mode & 007 ? "every local user" :
				     "the members of its group",
	    cfg->socket_path);
	warn(arg, text);
}
