/* SPDX-License-Identifier: ISC */
/*
 * The configuration: the embedded default, every key with a good value and
 * with each kind of bad one, the structure of the file (sections, pools,
 * repeated keys, syntax), the checks across keys, and error messages that
 * name the file, the line, the section, the key and the accepted range.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <check.h>

#include "daemon/core/config.h"
#include "tests/suites.h"

#define NAME_65 \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NAME_64 \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
/* sun_path holds 108 bytes with the NUL. */
#define PATH_107 \
	"/tmp/" \
	"pppppppppppppppppppppppppppppppppppppppppppppppppp" \
	"pppppppppppppppppppppppppppppppppppppppppppppppppppp"
#define PATH_108 PATH_107 "p"

static struct config cfg;
static char err[1024];

/* The text loads; otherwise the test fails with the message. */
static void
load_ok(const char *text)
{
	err[0] = '\0';
	ck_assert_msg(
	    config_load_string(&cfg, text, "test.conf", err, sizeof err) == 0,
	    "rejected: %s\n--- text:\n%.512s", err, text);
}

/* The text is rejected with a message holding each part (NULL ends them). */
static void load_fails(const char *text, ...) __attribute__((sentinel));

static void
load_fails(const char *text, ...)
{
	const char *part;
	va_list ap;

	err[0] = '\0';
	ck_assert_msg(
	    config_load_string(&cfg, text, "test.conf", err, sizeof err) == -1,
	    "accepted:\n%.512s", text);
	va_start(ap, text);
	while ((part = va_arg(ap, const char *)) != NULL)
		ck_assert_msg(strstr(err, part) != NULL,
		    "'%s' does not mention '%s'", err, part);
	va_end(ap);
}

static unsigned
online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 1024 ? 1024 : (unsigned)n;
}

/* The defaults of a pool nobody configured. */
static void
assert_default_pool(const struct pool_config *p, const char *name)
{
	ck_assert_str_eq(p->name, name);
	ck_assert_int_eq(p->backend, LP_BACKEND_PROCESS);
	ck_assert_uint_eq(p->executors_min, 1);
	ck_assert_uint_eq(p->executors_max, 4);
	ck_assert_uint_eq(p->workers, online_cpus());
	ck_assert(p->lease_seconds == 60);
	ck_assert(p->max_lease_seconds == 3600);
	ck_assert(p->grace_seconds == 10);
	ck_assert(p->job_timeout == 300);
}

/* The embedded pool for blocking jobs. */
static void
assert_io_pool(const struct pool_config *p)
{
	ck_assert_str_eq(p->name, "io");
	ck_assert_int_eq(p->backend, LP_BACKEND_THREAD);
	ck_assert_uint_eq(p->workers, 16);
	ck_assert_uint_eq(p->executors_max, 8);
}

static void
assert_embedded_default(const char *source)
{
	ck_assert_str_eq(cfg.source, source);
	ck_assert_uint_eq(cfg.npools, 2);
	assert_default_pool(&cfg.pools[0], "cpu");
	assert_io_pool(&cfg.pools[1]);
	ck_assert_str_eq(cfg.default_pool, "cpu");
	ck_assert_uint_eq(cfg.socket_mode, 0600);
	ck_assert_uint_eq(cfg.max_connections, 4096);
	ck_assert_uint_eq(cfg.max_message_bytes, 4194304);
	ck_assert(cfg.shutdown_timeout == 10);
	ck_assert_int_eq(cfg.log_level, LOG_INFO);
	ck_assert_int_eq(cfg.socket_path[0], '/');
}

START_TEST(test_embedded_default)
{
	load_ok("");
	assert_embedded_default("test.conf");

	load_ok("; nothing but comments\n# and blank lines\n\n");
	assert_embedded_default("test.conf");
}
END_TEST

/* metrics_listen takes what the listener can bind without a resolver, and a port. */
START_TEST(test_listen_addresses)
{
	static const char *const good[] = { "127.0.0.1:9464", "0.0.0.0:1",
		"[::1]:9464", "[::]:65535", "[::ffff:127.0.0.1]:9464",
		"[fe80::1%lo]:9464" };
	static const char *const bad[] = { "localhost:9464", "127.0.0.1",
		"127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:x",
		"127.0.0.1:", "[::1]", "::1", "::1:9464", "[127.0.0.1]:9464",
		"[::1:9464", "[]:9464", ":9464", "nonsense" };
	char text[128];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text, "[daemon]\nmetrics_listen = %s\n",
		    good[i]);
		load_ok(text);
		ck_assert_str_eq(cfg.metrics_listen, good[i]);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text, "[daemon]\nmetrics_listen = %s\n",
		    bad[i]);
		load_fails(text, "metrics_listen", "numeric address", NULL);
	}
}
END_TEST

START_TEST(test_load_without_file)
{
	ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof err), 0);
	assert_embedded_default("(embedded default)");
}
END_TEST

/* A [daemon] section alone still gets the embedded pools. */
START_TEST(test_daemon_section_alone)
{
	load_ok("[daemon]\nmax_connections = 7\n");
	ck_assert_uint_eq(cfg.max_connections, 7);
	ck_assert_uint_eq(cfg.npools, 2);
	assert_default_pool(&cfg.pools[0], "cpu");
	assert_io_pool(&cfg.pools[1]);
}
END_TEST

START_TEST(test_every_key_parsed)
{
	load_ok(
	    "[daemon]\n"
	    "socket = /run/lp/test.sock\n"
	    "socket_mode = 0660\n"
	    "default_pool = gpu\n"
	    "max_connections = 12\n"
	    "max_message_bytes = 65536\n"
	    "shutdown_timeout = 2.5\n"
	    "log_level = debug\n"
	    "[pool gpu]\n"
	    "backend = process\n"
	    "executors_min = 0\n"
	    "executors_max = 3\n"
	    "workers = 5\n"
	    "lease_seconds = 0.25\n"
	    "grace_seconds = 0\n"
	    "job_timeout = 1e3\n");
	ck_assert_str_eq(cfg.socket_path, "/run/lp/test.sock");
	ck_assert_uint_eq(cfg.socket_mode, 0660);
	ck_assert_str_eq(cfg.default_pool, "gpu");
	ck_assert_uint_eq(cfg.max_connections, 12);
	ck_assert_uint_eq(cfg.max_message_bytes, 65536);
	ck_assert(cfg.shutdown_timeout == 2.5);
	ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
	ck_assert_uint_eq(cfg.npools, 1); /* no embedded cpu pool */
	ck_assert_str_eq(cfg.pools[0].name, "gpu");
	ck_assert_int_eq(cfg.pools[0].backend, LP_BACKEND_PROCESS);
	ck_assert_uint_eq(cfg.pools[0].executors_min, 0);
	ck_assert_uint_eq(cfg.pools[0].executors_max, 3);
	ck_assert_uint_eq(cfg.pools[0].workers, 5);
	ck_assert(cfg.pools[0].lease_seconds == 0.25);
	ck_assert(cfg.pools[0].grace_seconds == 0);
	ck_assert(cfg.pools[0].job_timeout == 1000);
	ck_assert_ptr_eq(config_pool(&cfg, "gpu", 3), &cfg.pools[0]);
}
END_TEST

/* Every bound is inclusive. */
START_TEST(test_limits_accepted)
{
	load_ok(
	    "[daemon]\n"
	    "socket = " PATH_107
	    "\n"
	    "socket_mode = 0777\n"
	    "max_connections = 1000000\n"
	    "max_message_bytes = 1073741824\n"
	    "shutdown_timeout = 86400\n"
	    "[pool cpu]\n"
	    "executors_min = 1024\n"
	    "executors_max = 1024\n"
	    "workers = 1024\n"
	    "lease_seconds = 31536000\n"
	    "max_lease_seconds = 31536000\n"
	    "grace_seconds = 31536000\n"
	    "job_timeout = 31536000\n");
	ck_assert_str_eq(cfg.socket_path, PATH_107);
	ck_assert_uint_eq(cfg.socket_mode, 0777);
	ck_assert_uint_eq(cfg.max_connections, 1000000);
	ck_assert_uint_eq(cfg.max_message_bytes, 1073741824);
	ck_assert(cfg.shutdown_timeout == 86400);
	ck_assert_uint_eq(cfg.pools[0].executors_min, 1024);
	ck_assert_uint_eq(cfg.pools[0].workers, 1024);
	ck_assert(cfg.pools[0].lease_seconds == 31536000);
	ck_assert(cfg.pools[0].max_lease_seconds == 31536000);
	ck_assert(cfg.pools[0].grace_seconds == 31536000);
	ck_assert(cfg.pools[0].job_timeout == 31536000);

	load_ok(
	    "[daemon]\nsocket_mode = 0\nmax_connections = 1\nmax_message_bytes = 1024\n"
	    "shutdown_timeout = 0\n[pool cpu]\nexecutors_min = 0\nexecutors_max = 1\n"
	    "workers = 1\nlease_seconds = 0.001\nmax_lease_seconds = 0.001\ngrace_seconds = 0\n"
	    "job_timeout = 0.001\n");
	ck_assert_uint_eq(cfg.socket_mode, 0);
	ck_assert_uint_eq(cfg.max_connections, 1);
	ck_assert(cfg.shutdown_timeout == 0);
	ck_assert_uint_eq(cfg.pools[0].executors_min, 0);
	ck_assert_uint_eq(cfg.pools[0].executors_max, 1);
	ck_assert(cfg.pools[0].lease_seconds == 0.001);
	ck_assert(cfg.pools[0].job_timeout == 0.001);
}
END_TEST

/* Every size takes K, M or G (issue 26: max_message_bytes = 4M was refused). */
START_TEST(test_sizes_take_suffixes)
{
	load_ok(
	    "[daemon]\nmax_message_bytes = 4M\nmax_result_bytes = 1g\n"
	    "[pool cpu]\nexec_output_max = 64K\nmemory_limit = 3G\n");
	ck_assert_uint_eq(cfg.max_message_bytes, 4u << 20);
	ck_assert_uint_eq(cfg.max_result_bytes, 1u << 30);
	ck_assert_uint_eq(cfg.pools[0].exec_output_max, 64u << 10);
	ck_assert_uint_eq(cfg.pools[0].memory_limit, 3ULL << 30);
	load_ok("[daemon]\nmax_message_bytes = 1k\n");
	ck_assert_uint_eq(cfg.max_message_bytes, 1024);
}
END_TEST

START_TEST(test_log_levels)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "error", LOG_ERR },
		{ "warning", LOG_WARNING },
		{ "notice", LOG_NOTICE },
		{ "info", LOG_INFO },
		{ "debug", LOG_DEBUG },
		{ "Debug", LOG_DEBUG },
	};
	char text[128];

	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		snprintf(text, sizeof text, "[daemon]\nlog_level = %s\n",
		    levels[i].name);
		load_ok(text);
		ck_assert_int_eq(cfg.log_level, levels[i].level);
	}
}
END_TEST

START_TEST(test_socket_mode_octal)
{
	load_ok("[daemon]\nsocket_mode = 0660\n");
	ck_assert_uint_eq(cfg.socket_mode, 0660);
	load_ok("[daemon]\nsocket_mode = 640\n"); /* octal without the 0 too */
	ck_assert_uint_eq(cfg.socket_mode, 0640);
	load_fails("[daemon]\nsocket_mode = 999\n",
	    "test.conf:2:", "socket_mode", "octal", "got '999'", NULL);
}
END_TEST

START_TEST(test_backends)
{
	load_fails("[pool io]\nbackend = threads\n",
	    "test.conf:2:", "[pool io] backend", "one of process, thread",
	    "got 'threads'", NULL);
	load_ok("[daemon]\ndefault_pool = io\n[pool io]\nbackend = thread\n");
	ck_assert_int_eq(cfg.pools[0].backend, LP_BACKEND_THREAD);
	/* Like yes/no and the log levels: enumerated values take any case. */
	load_ok(
	    "[daemon]\ndefault_pool = io\nlog_level = DEBUG\n[pool io]\nbackend = THREAD\n"
	    "exec = YES\n");
	ck_assert_int_eq(cfg.pools[0].backend, LP_BACKEND_THREAD);
	load_ok("[daemon]\ndefault_pool = io\n[pool io]\nbackend = Process\n");
	ck_assert_int_eq(cfg.pools[0].backend, LP_BACKEND_PROCESS);
	ck_assert_str_eq(config_backend_name(LP_BACKEND_PROCESS), "process");
	ck_assert_str_eq(config_backend_name(LP_BACKEND_THREAD), "thread");
}
END_TEST

/*
 * Each key with a good value, then with every bad value of its kind and
 * its own out-of-range ones, written on line 3 of the file.
 */

enum value_kind {
	INTEGER,
	DURATION,
	MODE,
	LEVEL,
	BACKEND,
	NAME,
	PATH,
	BOOL,
	BYTES,
	PATHS,
	USERS,
	GROUPS,
	NKINDS
};

#define VALUES(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Bad whatever the key. */
static const char *const *const bad_of_kind[NKINDS] = {
	[INTEGER] = VALUES("-1", "0.5", "1.9", "true", "1e3", "", "0x10", "1 2",
	    "ten", "4294967297", "18446744073709551617",
	    "99999999999999999999999"),
	[DURATION] = VALUES("-1", "-0.5", "nan", "NaN", "inf", "-inf",
	    "infinity", "abc", "true", "", "1s", "1,5", "1e999", "."),
	[MODE] = VALUES("-1", "", "abc", "8", "0o660", "0x1ff", "rw-rw----"),
	[LEVEL] =
	    VALUES("", "verbose", "emerg", "alert", "crit", "6", "info debug"),
	[BACKEND] = VALUES("", "threads", "processes", "fork"),
	[NAME] = VALUES("", "a b", "x/y", "caf\xc3\xa9", NAME_65),
	[PATH] = VALUES("", "relative.sock", "./x.sock", "~/x.sock", PATH_108),
	[BOOL] = VALUES("", "maybe", "2", "yess", "-1"),
	[BYTES] = VALUES("-1", "0.5", "1T", "1KB", "K", "", "1 M", "ten"),
	[PATHS] = VALUES("relative.so", "/a.so b.so", "./x.so"),
	[USERS] = VALUES("no-such-user-xyz", "root no-such-user-xyz", "-1",
	    "4294967296"),
	[GROUPS] = VALUES("no-such-group-xyz", "root,no-such-group-xyz", "-1"),
};

static const struct key_spec {
	const char *section; /* between the brackets */
	const char *key;
	enum value_kind kind;
	const char *good;
	const char *range;	/* what a rejection must say is accepted */
	const char *const *bad; /* this key's own, besides its kind's */
} key_specs[] = {
	{ "daemon", "socket", PATH, "/run/x.sock", "an absolute path",
	    VALUES("x") },
	{ "daemon", "socket_mode", MODE, "0660",
	    "an octal file mode from 0 to 0777",
	    VALUES("999", "0999", "01000", "1777") },
	{ "daemon", "default_pool", NAME, "cpu", "a name of 1 to 64 letters",
	    VALUES("pool cpu") },
	{ "daemon", "max_connections", INTEGER, "1",
	    "an integer from 1 to 1000000", VALUES("0", "1000001") },
	{ "daemon", "max_message_bytes", BYTES, "1024",
	    "a size from 1024 to 1073741824 bytes",
	    VALUES("0", "1023", "1073741825", "2G") },
	{ "daemon", "shutdown_timeout", DURATION, "0",
	    "seconds from 0 to 86400", VALUES("86400.5", "86401") },
	{ "daemon", "busy_poll", DURATION, "0", "seconds from 0 to 0.001",
	    VALUES("0.0011", "0.01") },
	{ "daemon", "log_level", LEVEL, "warning",
	    "one of error, warning, notice, info, debug", VALUES("warn") },
	{ "pool cpu", "backend", BACKEND, "process", "one of process, thread",
	    VALUES("proc", "thread pool") },
	{ "pool cpu", "executors_min", INTEGER, "0",
	    "an integer from 0 to 1024", VALUES("1025") },
	{ "pool cpu", "executors_max", INTEGER, "1024",
	    "an integer from 1 to 1024", VALUES("0", "1025") },
	{ "pool cpu", "workers", INTEGER, "1", "an integer from 1 to 1024",
	    VALUES("0", "1025") },
	{ "pool cpu", "lease_seconds", DURATION, "0.05",
	    "seconds from 0.001 to 31536000",
	    VALUES("0", "0.0", "-0", "31536000.5") },
	{ "pool cpu", "grace_seconds", DURATION, "0",
	    "seconds from 0 to 31536000", VALUES("31536001") },
	{ "pool cpu", "job_timeout", DURATION, "1e3",
	    "seconds from 0.001 to 31536000", VALUES("0", "31536001") },
	{ "daemon", "modules", PATHS, "/a/x.so /b/y.so",
	    "absolute paths separated by spaces", VALUES("x.so") },
	{ "pool cpu", "exec", BOOL, "yes", "yes or no", VALUES("y") },
	{ "pool cpu", "sched_batch", BOOL, "no", "yes or no", VALUES("batch") },
	{ "pool cpu", "exec_output_max", BYTES, "64K",
	    "a size from 0 to 1073741824 bytes", VALUES("2G", "1073741825") },
	{ "pool cpu", "max_jobs_per_worker", INTEGER, "0",
	    "an integer from 0 to 1000000000", VALUES("1000000001") },
	{ "pool cpu", "memory_limit", BYTES, "512M", "a size from 0 to",
	    VALUES("2000000G") },
	{ "pool cpu", "batch_size", INTEGER, "64", "an integer from 1 to 4096",
	    VALUES("0", "4097") },
	{ "pool cpu", "batch_wait", DURATION, "0.002",
	    "seconds from 1e-06 to 60", VALUES("0", "61") },
	{ "daemon", "max_depth", INTEGER, "8", "an integer from 4 to 32",
	    VALUES("3", "33") },
	{ "daemon", "max_result_bytes", BYTES, "1M",
	    "a size from 1024 to 1073741824 bytes", VALUES("1023", "2G") },
	{ "daemon", "max_requests_per_connection", INTEGER, "64",
	    "an integer from 1 to 1000000", VALUES("0", "1000001") },
	{ "pool cpu", "allow_users", USERS, "root 0",
	    "existing user names or uids",
	    VALUES(
		"0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 "
		"28 29 30 31 32") },
	{ "pool cpu", "allow_groups", GROUPS, "root,0",
	    "existing group names or gids", VALUES("x y") },
	{ "pool cpu", "max_leases_per_client", INTEGER, "2",
	    "an integer from 0 to 1024", VALUES("1025") },
	{ "pool cpu", "max_leases_per_user", INTEGER, "0",
	    "an integer from 0 to 1024", VALUES("1025") },
};
#define NKEYS (sizeof key_specs / sizeof key_specs[0])

static void
key_text(char *buf, size_t len, const struct key_spec *k, const char *value)
{
	snprintf(buf, len, "# a leading comment\n[%s]\n%s = %s\n", k->section,
	    k->key, value);
}

static void
assert_value_rejected(const struct key_spec *k, const char *value)
{
	char text[512], label[128], got[256];

	key_text(text, sizeof text, k, value);
	snprintf(label, sizeof label, "[%s] %s:", k->section, k->key);
	snprintf(got, sizeof got, "got '%s'", value);
	load_fails(text, "test.conf:3: ", label, k->range, got, NULL);
}

START_TEST(test_key_good_value)
{
	const struct key_spec *k = &key_specs[_i];
	char text[512];

	key_text(text, sizeof text, k, k->good);
	load_ok(text);
}
END_TEST

START_TEST(test_key_bad_values)
{
	const struct key_spec *k = &key_specs[_i];
	const char *const *v;

	for (v = bad_of_kind[k->kind]; *v != NULL; v++)
		assert_value_rejected(k, *v);
	for (v = k->bad; *v != NULL; v++)
		assert_value_rejected(k, *v);
}
END_TEST

/* Surrounding spaces and an inline comment are not part of the value. */
START_TEST(test_value_spacing_and_comments)
{
	load_ok(
	    "; comment\n# comment\n\n  [pool cpu]  \n  workers   =   3   ; three\n"
	    "executors_max=2\n");
	ck_assert_uint_eq(cfg.pools[0].workers, 3);
	ck_assert_uint_eq(cfg.pools[0].executors_max, 2);
}
END_TEST

/*
 * '#' starts a comment after a blank as ';' does: the installed file uses
 * '#' (issue 26).  Elsewhere it is part of the value.
 */
START_TEST(test_inline_hash_comments)
{
	load_ok(
	    "[daemon] # the daemon\nmodules = /a.so /b#c.so # the examples\n"
	    "socket = /run/a#b.sock\t# not the default\n[pool cpu] ; the pool\n"
	    "workers = 3 # three\n");
	ck_assert_str_eq(cfg.modules, "/a.so /b#c.so");
	ck_assert_str_eq(cfg.socket_path, "/run/a#b.sock");
	ck_assert_uint_eq(cfg.pools[0].workers, 3);
	load_fails("[pool cpu]\nworkers = # none\n", "test.conf:2: ", "got ''",
	    NULL);
}
END_TEST

/*
 * Indentation is only indentation, not the continuation of the line before
 * (issue 26: "workers: set twice" named the key above it).
 */
START_TEST(test_indented_keys)
{
	load_ok(
	    "[pool cpu]\nexecutors_max = 2\n  workers = 3\n\tbatch_size = 8\n");
	ck_assert_uint_eq(cfg.pools[0].executors_max, 2);
	ck_assert_uint_eq(cfg.pools[0].workers, 3);
	ck_assert_uint_eq(cfg.pools[0].batch_size, 8);
	load_fails(
	    "[pool cpu]\nworkers = 2\nexecutors_max = 2\n    workers = 3\n",
	    "test.conf:4: ", "[pool cpu] workers: set twice", NULL);
}
END_TEST

START_TEST(test_unknown_key)
{
	load_fails("[daemon]\nworkers = 2\n", "test.conf:2: ", "[daemon]",
	    "unknown key 'workers'", NULL);
	load_fails("[pool cpu]\nsocket = /run/x.sock\n",
	    "test.conf:2: ", "[pool cpu]", "unknown key 'socket'", NULL);
	load_fails("[pool cpu]\nworkers = 2\nexecutor_max = 2\n",
	    "test.conf:3: ", "unknown key 'executor_max'", NULL);
	load_fails("[pool cpu]\nWorkers = 2\n",
	    "test.conf:2: ", "unknown key 'Workers'", NULL);
}
END_TEST

START_TEST(test_unknown_section)
{
	load_fails("[daemon]\n[pools cpu]\nworkers = 1\n",
	    "test.conf:2: ", "unknown section [pools cpu]", NULL);
	load_fails("[Daemon]\n", "test.conf:1: ", "unknown section [Daemon]",
	    NULL);
	load_fails("[pool]\n", "test.conf:1: ", "unknown section [pool]", NULL);
	load_fails("\n\n[global]\nlog_level = info\n",
	    "test.conf:3: ", "unknown section [global]", NULL);
}
END_TEST

START_TEST(test_key_outside_section)
{
	load_fails("workers = 2\n[pool cpu]\n",
	    "test.conf:1: ", "key 'workers' outside any section", NULL);
}
END_TEST

START_TEST(test_key_set_twice)
{
	load_fails("[pool cpu]\nworkers = 2\nworkers = 3\n",
	    "test.conf:3: ", "[pool cpu] workers: set twice", NULL);
	load_fails("[daemon]\nlog_level = info\nlog_level = info\n",
	    "test.conf:3: ", "[daemon] log_level: set twice", NULL);
	/* The same key in two pools is two keys. */
	load_ok("[pool a]\nworkers = 2\n[pool cpu]\nworkers = 3\n");
	ck_assert_uint_eq(config_pool(&cfg, "a", 1)->workers, 2);
	ck_assert_uint_eq(config_pool(&cfg, "cpu", 3)->workers, 3);
}
END_TEST

/*
 * Regression: a second [daemon] section starts with a clean
 * slate, so a key set in both is silently overridden.
 */
START_TEST(test_key_set_twice_across_daemon_sections)
{
	load_fails(
	    "[daemon]\nmax_connections = 5\n[daemon]\nmax_connections = 6\n",
	    "test.conf:4: ", "max_connections", NULL);
}
END_TEST

START_TEST(test_pool_defined_twice)
{
	load_fails("[pool cpu]\nworkers = 2\n[pool io]\n[pool cpu]\n",
	    "test.conf:4: ", "pool 'cpu' is defined twice", NULL);
}
END_TEST

START_TEST(test_pool_names)
{
	static const char *const good[] = { "a", "gpu-0", "x_y.z", "Batch2",
		NAME_64 };
	static const char *const bad[] = { "", "a b", "a/b", "caf\xc3\xa9",
		NAME_65 };
	char text[256];
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text,
		    "[daemon]\ndefault_pool = %s\n[pool %s]\n", good[i],
		    good[i]);
		load_ok(text);
		ck_assert_str_eq(cfg.pools[0].name, good[i]);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text,
		    "[daemon]\n[pool %s]\nworkers = 1\n", bad[i]);
		load_fails(text, "test.conf:2: ", NULL);
	}
	load_fails("[pool a b]\n", "bad pool name 'a b'", NULL);
	/* Longer than any pool name and a little more: still one clear error. */
	load_fails("[pool " NAME_65 NAME_65 "]\n", "test.conf:1: ", NULL);
}
END_TEST

START_TEST(test_pool_limit)
{
	static char text[LP_POOLS_MAX * 16 + 64];
	size_t n = 0;

	for (int i = 0; i < LP_POOLS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "[pool p%d]\n",
		    i);
	snprintf(text + n, sizeof text - n, "[daemon]\ndefault_pool = p0\n");
	load_ok(text);
	ck_assert_uint_eq(cfg.npools, LP_POOLS_MAX);
	snprintf(text + n, sizeof text - n, "[pool one-too-many]\n");
	load_fails(text, "test.conf:65: ", "too many pools", NULL);
}
END_TEST

/* A pool section with no keys is a pool with every default. */
START_TEST(test_empty_pool_section)
{
	load_ok(
	    "[daemon]\ndefault_pool = b\n[pool a]\n[pool b]\nworkers = 2\n");
	ck_assert_uint_eq(cfg.npools, 2);
	assert_default_pool(config_pool(&cfg, "a", 1), "a");
	ck_assert_uint_eq(config_pool(&cfg, "b", 1)->workers, 2);
	ck_assert_ptr_null(
	    config_pool(&cfg, "cpu", 3)); /* no embedded pool then */

	load_ok("[pool cpu]\n");
	ck_assert_uint_eq(cfg.npools, 1);
	assert_default_pool(&cfg.pools[0], "cpu");
}
END_TEST

START_TEST(test_executors_min_above_max)
{
	load_fails("[pool cpu]\nexecutors_min = 5\nexecutors_max = 4\n",
	    "test.conf", "[pool cpu]", "executors_min (5)", "executors_max (4)",
	    NULL);
	/* Against the default executors_max (4), too. */
	load_fails(
	    "[pool gpu]\nexecutors_min = 5\n[daemon]\ndefault_pool = gpu\n",
	    "[pool gpu]", "executors_min (5)", NULL);
	load_ok("[pool cpu]\nexecutors_min = 4\nexecutors_max = 4\n");
	load_ok("[pool cpu]\nexecutors_max = 1\nexecutors_min = 0\n");
}
END_TEST

/* The pool's own term is one a client could ask for. */
START_TEST(test_lease_seconds_above_max)
{
	load_fails("[pool cpu]\nlease_seconds = 20\nmax_lease_seconds = 10\n",
	    "test.conf", "[pool cpu]", "lease_seconds (20)",
	    "max_lease_seconds (10)", NULL);
	/* Against the default max_lease_seconds (3600), too. */
	load_fails("[pool cpu]\nlease_seconds = 7200\n", "[pool cpu]",
	    "max_lease_seconds (3600)", NULL);
	load_ok("[pool cpu]\nlease_seconds = 3600\n");
	load_ok("[pool cpu]\nlease_seconds = 7200\nmax_lease_seconds = 7200\n");
}
END_TEST

START_TEST(test_default_pool_must_exist)
{
	load_fails("[daemon]\ndefault_pool = gpu\n", "test.conf",
	    "default_pool", "no pool named 'gpu'", NULL);
	/* Naming pools replaces the embedded cpu pool, the default's default. */
	load_fails("[pool gpu]\n", "default_pool", "no pool named 'cpu'", NULL);
	load_ok("[daemon]\ndefault_pool = gpu\n[pool gpu]\n");
	ck_assert_str_eq(cfg.default_pool, "gpu");
}
END_TEST

START_TEST(test_syntax_errors)
{
	load_fails("[daemon]\nthis is not a key\n",
	    "test.conf:2: ", "syntax error", NULL);
	load_fails("[daemon]\n[pool cpu\n", "test.conf:2: ", "syntax error",
	    NULL);
	load_fails("[daemon] log_level = info\n",
	    "test.conf:1: ", "syntax error", NULL);
	/* Keys take '=', as the manual says, not ':'. */
	load_fails("[pool cpu]\nworkers: 2\n", "test.conf:2: ", "syntax error",
	    NULL);
}
END_TEST

/* A byte order mark opens a file edited elsewhere; a NUL byte is nothing a file should hold. */
START_TEST(test_odd_bytes)
{
	char path[] = "/tmp/leasepool-config-test-XXXXXX", where[64];
	int fd = mkstemp(path);
	static const char nul[] = "[pool cpu]\nworkers = 2\0 3\n";

	load_ok("\xef\xbb\xbf[pool cpu]\nworkers = 2\n");
	ck_assert_uint_eq(cfg.pools[0].workers, 2);
	load_fails("[pool cpu]\n\xef\xbb\xbfworkers = 2\n",
	    "test.conf:2: ", NULL);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, nul, sizeof nul - 1),
	    (ssize_t)sizeof nul - 1);
	close(fd);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof err), -1);
	unlink(path);
	snprintf(where, sizeof where, "%s:2: ", path);
	ck_assert_msg(strncmp(err, where, strlen(where)) == 0 &&
		strstr(err, "NUL") != NULL,
	    "%s", err);
}
END_TEST

/* Of several errors the first is reported. */
START_TEST(test_first_error_reported)
{
	load_fails("[pool cpu]\nworkers = 0\nexecutors_max = 0\nbogus = 1\n",
	    "test.conf:2: ", "workers", NULL);
	load_fails("[pools x]\n[pool cpu]\nworkers = 0\n",
	    "test.conf:1: ", "unknown section", NULL);
}
END_TEST

/*
 * Regression: a syntax error was reported only once the whole file
 * had been read, so an error on a later line was reported instead.
 */
START_TEST(test_syntax_error_before_bad_value)
{
	load_fails("[daemon]\nnot a key\nmax_connections = 0\n",
	    "test.conf:2: ", "syntax error", NULL);
	/* A broken header: the keys under it are "outside any section". */
	load_fails("[pool cpu\nworkers = 1\n", "test.conf:1: ", "syntax error",
	    NULL);
}
END_TEST

/*
 * Regression: lease_seconds and job_timeout must be at least
 * 0.001, but the message says "> 0", so 0.0005 is refused with a range it
 * is in.
 */
START_TEST(test_range_names_real_minimum)
{
	load_fails("[pool cpu]\nlease_seconds = 0.0005\n",
	    "test.conf:2: ", "0.001", NULL);
}
END_TEST

/*
 * A directory opens as a file would (issue 26): it is refused, with its
 * path, before anything reads it, like any file that is not a regular one
 * (a FIFO would block the daemon).
 */
START_TEST(test_load_directory)
{
	char path[] = "/tmp/leasepool-config-test-XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(path));
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof err), -1);
	rmdir(path);
	ck_assert_msg(strstr(err, path) != NULL &&
		strstr(err, "is not a regular file") != NULL,
	    "%s", err);
}
END_TEST

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * Lines as long as the documented values need: a modules value of up to
 * LP_MODULES_MAX - 1 bytes, 32 user or group names of up to 32 bytes each.
 * Regression: the parser cut every line after 199 bytes (inih's
 * INI_MAX_LINE as Debian builds it) and read the rest as another line.
 */

/* Absolute paths of 12 bytes, one space apart, the first one longer: len bytes (12 or more). */
static void
module_list(char *buf, size_t len)
{
	size_t n = (len + 1) / 13, used = len + 1 - 13 * n;

	memset(buf, '/', used);
	for (size_t i = 0; i < n; i++)
		used += (size_t)sprintf(buf + used, "%s/m/%06zu.so",
		    i > 0 ? " " : "", i);
}

START_TEST(test_long_modules_line)
{
	static const size_t sizes[] = { 1000, LP_MODULES_MAX - 1 };
	static char text[2 * LP_MODULES_MAX], value[LP_MODULES_MAX];

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		module_list(value, sizes[i]);
		ck_assert_uint_eq(strlen(value), sizes[i]);
		snprintf(text, sizeof text,
		    "# modules\n[daemon]\nmodules = %s\n"
		    "log_level = debug\n[pool cpu]\nworkers = 2\n",
		    value);
		load_ok(text);
		ck_assert_str_eq(cfg.modules, value);
		ck_assert_int_eq(cfg.log_level, LOG_DEBUG);
		ck_assert_uint_eq(cfg.pools[0].workers, 2);
	}
}
END_TEST

/* 32 uids of 32 digits each (leading zeros), joined by sep: 1,055 bytes or more. */
static void
id_list(char *buf, size_t len, const char *sep)
{
	size_t used = 0;

	for (unsigned i = 0; i < LP_IDS_MAX; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%032u",
		    i > 0 ? sep : "", 1000 + i);
	ck_assert_uint_lt(used, len);
}

START_TEST(test_long_id_lines)
{
	static char text[3 * 2048], users[2048], groups[2048];

	id_list(users, sizeof users, " ");
	id_list(groups, sizeof groups, ", ");
	snprintf(text, sizeof text,
	    "[pool cpu]\nallow_users = %s\nallow_groups = %s\n"
	    "workers = 3\n",
	    users, groups);
	load_ok(text);
	ck_assert_uint_eq(cfg.pools[0].allow_users.n, LP_IDS_MAX);
	ck_assert_uint_eq(cfg.pools[0].allow_groups.n, LP_IDS_MAX);
	for (unsigned i = 0; i < LP_IDS_MAX; i++) {
		ck_assert_uint_eq(cfg.pools[0].allow_users.ids[i], 1000 + i);
		ck_assert_uint_eq(cfg.pools[0].allow_groups.ids[i], 1000 + i);
	}
	ck_assert_uint_eq(cfg.pools[0].workers, 3);
}
END_TEST

/* "key = value", padded with spaces to len bytes, into buf. */
static void
padded_line(char *buf, size_t len, const char *key_value)
{
	size_t n = strlen(key_value);

	memcpy(buf, key_value, n);
	memset(buf + n, ' ', len - n);
	buf[len] = '\0';
}

/* A line holds LP_CONFIG_LINE_MAX bytes, its newline aside; one more is refused. */
START_TEST(test_line_limit)
{
	static char text[2 * LP_CONFIG_LINE_MAX], line[LP_CONFIG_LINE_MAX + 2];

	ck_assert_int_eq(LP_CONFIG_LINE_MAX, 4096); /* the documented limit */
	padded_line(line, LP_CONFIG_LINE_MAX, "workers = 3");
	snprintf(text, sizeof text, "[pool cpu]\n%s\nexecutors_max = 2\n",
	    line);
	load_ok(text);
	ck_assert_uint_eq(cfg.pools[0].workers, 3);
	ck_assert_uint_eq(cfg.pools[0].executors_max, 2);

	padded_line(line, LP_CONFIG_LINE_MAX + 1, "workers = 3");
	snprintf(text, sizeof text, "[pool cpu]\n%s\nexecutors_max = 2\n",
	    line);
	load_fails(text, "test.conf:2: ", "[pool cpu] workers", "4096 bytes",
	    NULL);
}
END_TEST

/*
 * A line over the limit is refused with its own line number and key; the
 * rest of it is not read as more lines, so no second error follows.
 */
START_TEST(test_too_long_line_refused)
{
	static char text[4 * LP_CONFIG_LINE_MAX], value[2 * LP_CONFIG_LINE_MAX];

	module_list(value, sizeof value - 1);
	snprintf(text, sizeof text,
	    "[daemon]\nlog_level = debug\nmodules = %s\n"
	    "max_connections = 5\n[pool cpu]\nworkers = 2\n",
	    value);
	load_fails(text, "test.conf:3: ", "[daemon] modules", "4096 bytes",
	    NULL);
	ck_assert_msg(strstr(err, "syntax") == NULL, "%s", err);
	/* A comment may be longer: it says nothing. */
	snprintf(text, sizeof text, "# %s\n[pool cpu]\nworkers = 2\n", value);
	load_ok(text);
	ck_assert_uint_eq(cfg.pools[0].workers, 2);
}
END_TEST

/* A file is read the same way: long lines whole, too long ones refused with their line. */
START_TEST(test_long_lines_in_a_file)
{
	static char text[4 * LP_CONFIG_LINE_MAX], value[2 * LP_CONFIG_LINE_MAX];
	char path[] = "/tmp/leasepool-config-test-XXXXXX", where[64];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	module_list(value, LP_MODULES_MAX - 1);
	snprintf(text, sizeof text,
	    "[daemon]\nmodules = %s\n[pool cpu]\nworkers = 2\n", value);
	write_file(path, text);
	ck_assert_msg(config_load(&cfg, path, err, sizeof err) == 0, "%s", err);
	ck_assert_str_eq(cfg.modules, value);
	ck_assert_uint_eq(cfg.pools[0].workers, 2);

	module_list(value, sizeof value - 1);
	snprintf(text, sizeof text,
	    "[daemon]\n\nmodules = %s\n[pool cpu]\nworkers = 2\n", value);
	write_file(path, text);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof err), -1);
	unlink(path);
	snprintf(where, sizeof where, "%s:3: ", path);
	ck_assert_msg(strncmp(err, where, strlen(where)) == 0,
	    "'%s' does not start with '%s'", err, where);
	ck_assert_msg(strstr(err, "modules") != NULL &&
		strstr(err, "4096 bytes") != NULL,
	    "%s", err);
}
END_TEST

/* A short buffer gets the start of the message, terminated. */
START_TEST(test_short_error_buffer)
{
	static const char text[] = "[pool cpu]\nworkers = 0\n";
	char full[512], part[16];

	ck_assert_int_eq(
	    config_load_string(&cfg, text, "test.conf", full, sizeof full), -1);
	for (size_t len = 1; len <= sizeof part; len++) {
		memset(part, 'X', sizeof part);
		ck_assert_int_eq(
		    config_load_string(&cfg, text, "test.conf", part, len), -1);
		ck_assert_uint_eq(strlen(part), len - 1);
		ck_assert_int_eq(strncmp(part, full, len - 1), 0);
	}
}
END_TEST

START_TEST(test_load_missing_file)
{
	static const char path[] =
	    "/nonexistent/leasepool-test/leasepoold.conf";

	ck_assert_int_eq(config_load(&cfg, path, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0,
	    "'%s' does not start with the path", err);
	ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);
}
END_TEST

/* A file is read like a string, and messages name its path. */
START_TEST(test_load_file)
{
	char path[] = "/tmp/leasepool-config-test-XXXXXX";
	char where[64];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	write_file(path,
	    "[daemon]\nmax_connections = 9\n[pool cpu]\nworkers = 0\n");
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof err), -1);
	snprintf(where, sizeof where, "%s:4: ", path);
	ck_assert_msg(strstr(err, where) != NULL, "'%s' does not mention '%s'",
	    err, where);
	ck_assert_msg(strstr(err, "from 1 to 1024") != NULL, "%s", err);

	write_file(path,
	    "[daemon]\nmax_connections = 9\n[pool cpu]\nworkers = 3\n");
	ck_assert_msg(config_load(&cfg, path, err, sizeof err) == 0, "%s", err);
	unlink(path);
	ck_assert_str_eq(cfg.source, path);
	ck_assert_uint_eq(cfg.max_connections, 9);
	ck_assert_uint_eq(cfg.pools[0].workers, 3);
}
END_TEST

START_TEST(test_config_pool_lookup)
{
	load_ok("[pool cpu]\n[pool io]\n");
	ck_assert_ptr_eq(config_pool(&cfg, "io", 2), &cfg.pools[1]);
	ck_assert_ptr_eq(config_pool(&cfg, "iox", 2), &cfg.pools[1]);
	ck_assert_ptr_null(config_pool(&cfg, "i", 1));
	ck_assert_ptr_null(config_pool(&cfg, "iox", 3));
	ck_assert_ptr_null(config_pool(&cfg, "", 0));
}
END_TEST

/* With no socket in the file: the user's runtime directory, else a fixed place. */
START_TEST(test_default_socket)
{
	const char *saved = getenv("XDG_RUNTIME_DIR");
	char *restore = saved != NULL ? strdup(saved) : NULL;
	char expected[LP_SOCKET_PATH_MAX];

	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	load_ok("");
	ck_assert_str_eq(cfg.socket_path, "/run/user/4242/leasepool.sock");

	setenv("XDG_RUNTIME_DIR", "relative/dir", 1); /* not trusted */
	load_ok("");
	if (getuid() == 0)
		snprintf(expected, sizeof expected,
		    "/run/leasepool/leasepool.sock");
	else
		snprintf(expected, sizeof expected, "/tmp/leasepool-%u.sock",
		    (unsigned)getuid());
	ck_assert_str_eq(cfg.socket_path, expected);

	load_ok("[daemon]\nsocket = /srv/lp.sock\n");
	ck_assert_str_eq(cfg.socket_path, "/srv/lp.sock");

	if (restore != NULL)
		setenv("XDG_RUNTIME_DIR", restore, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(restore);
}
END_TEST

/* words, as config_program_words() packs them, NUL after each: "a\0b\0". */
static void
assert_words(const char *line, const char *words, size_t len)
{
	char got[LP_PROGRAM_MAX];

	ck_assert_int_eq(config_program_words(line, got, sizeof got),
	    (long)len);
	ck_assert_mem_eq(got, words, len);
}

START_TEST(test_worker_program_words)
{
	char tiny[4];

	assert_words("/bin/prog", "/bin/prog", 10);
	assert_words("  /bin/prog  a\tb ", "/bin/prog\0a\0b", 14);
	assert_words("/p 'a b' \"c \\\"d\\\\\" e\\ f", "/p\0a b\0c \"d\\\0e f",
	    17);
	assert_words("/p '' x''y 'it'\\''s'", "/p\0\0xy\0it's", 12);
	assert_words("/p \"a\\b\"", "/p\0a\\b", 7);
	ck_assert_int_eq(config_program_words("/p 'open", tiny, sizeof tiny),
	    -1);
	ck_assert_int_eq(config_program_words("/p \"open", tiny, sizeof tiny),
	    -1);
	ck_assert_int_eq(config_program_words("/p x\\", tiny, sizeof tiny), -1);
	ck_assert_int_eq(config_program_words("   ", tiny, sizeof tiny), -1);
	ck_assert_int_eq(config_program_words("/abcd", tiny, sizeof tiny), -1);
}
END_TEST

/* A program only runs on a process pool without exec, from a path the daemon can run. */
START_TEST(test_worker_program_refused)
{
	load_ok("[pool cpu]\nworker_program = /bin/true --x 'y z'\n");
	ck_assert_str_eq(cfg.pools[0].worker_program, "/bin/true --x 'y z'");
	load_ok("[pool cpu]\nworker_program =\n");
	load_fails("[pool cpu]\nworker_program = bin/true\n", "test.conf:2: ",
	    "[pool cpu] worker_program: must be empty, or an absolute path",
	    NULL);
	load_fails("[pool cpu]\nworker_program = /no/such/prog\n",
	    "test.conf:2: ",
	    "[pool cpu] worker_program: /no/such/prog: No such file or directory",
	    NULL);
	load_fails("[pool cpu]\nworker_program = /etc/passwd\n",
	    "test.conf:2: ", "/etc/passwd: Permission denied", NULL);
	load_fails("[pool cpu]\nworker_program = /etc\n",
	    "test.conf:2: ", "not running it", NULL);
	load_fails(
	    "[daemon]\ndefault_pool = io\n[pool io]\nbackend = thread\n"
	    "worker_program = /bin/true\n",
	    "[pool io] worker_program: only a process pool", NULL);
	load_fails("[pool cpu]\nexec = yes\nworker_program = /bin/true\n",
	    "[pool cpu] exec = yes: a pool with a worker_program has no exec built-in",
	    NULL);
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = unit_case(s, "values", NULL, NULL);
	tcase_add_test(tc, test_embedded_default);
	tcase_add_test(tc, test_load_without_file);
	tcase_add_test(tc, test_listen_addresses);
	tcase_add_test(tc, test_daemon_section_alone);
	tcase_add_test(tc, test_every_key_parsed);
	tcase_add_test(tc, test_limits_accepted);
	tcase_add_test(tc, test_sizes_take_suffixes);
	tcase_add_test(tc, test_log_levels);
	tcase_add_test(tc, test_socket_mode_octal);
	tcase_add_test(tc, test_backends);
	tcase_add_test(tc, test_value_spacing_and_comments);
	tcase_add_test(tc, test_indented_keys);
	tcase_add_test(tc, test_inline_hash_comments);
	tcase_add_test(tc, test_default_socket);
	tcase_add_test(tc, test_worker_program_words);
	tcase_add_test(tc, test_worker_program_refused);

	tc = unit_case(s, "each key", NULL, NULL);
	tcase_add_loop_test(tc, test_key_good_value, 0, NKEYS);
	tcase_add_loop_test(tc, test_key_bad_values, 0, NKEYS);

	tc = unit_case(s, "structure", NULL, NULL);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_unknown_section);
	tcase_add_test(tc, test_key_outside_section);
	tcase_add_test(tc, test_key_set_twice);
	tcase_add_test(tc, test_pool_defined_twice);
	tcase_add_test(tc, test_pool_names);
	tcase_add_test(tc, test_pool_limit);
	tcase_add_test(tc, test_empty_pool_section);
	tcase_add_test(tc, test_executors_min_above_max);
	tcase_add_test(tc, test_lease_seconds_above_max);
	tcase_add_test(tc, test_default_pool_must_exist);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_odd_bytes);
	tcase_add_test(tc, test_first_error_reported);

	tc = unit_case(s, "messages and files", NULL, NULL);
	tcase_add_test(tc, test_short_error_buffer);
	tcase_add_test(tc, test_load_missing_file);
	tcase_add_test(tc, test_load_directory);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_config_pool_lookup);

	tc = unit_case(s, "long lines", NULL, NULL);
	tcase_add_test(tc, test_long_modules_line);
	tcase_add_test(tc, test_long_id_lines);
	tcase_add_test(tc, test_line_limit);
	tcase_add_test(tc, test_too_long_line_refused);
	tcase_add_test(tc, test_long_lines_in_a_file);

	tc = unit_case(s, "regressions", NULL, NULL);
	tcase_add_test(tc, test_key_set_twice_across_daemon_sections);
	tcase_add_test(tc, test_syntax_error_before_bad_value);
	tcase_add_test(tc, test_range_names_real_minimum);
	return s;
}
