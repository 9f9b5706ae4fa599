/* SPDX-License-Identifier: ISC */
/*
 * The configuration: one table of every key (type, default, range, whether
 * a reload can change it), read from an INI file or taken from the embedded
 * default.  Every value is validated; a bad one is reported with file,
 * line, key and the accepted range.
 */
#ifndef LP_DAEMON_CONFIG_H
#define LP_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/rpc.h"

#define LP_POOLS_MAX 64
#define LP_POOL_NAME_MAX 64
#define LP_SOCKET_PATH_MAX 108 /* sun_path */
#define LP_MODULES_MAX 1024    /* bytes of the space-separated module list */
#define LP_ADDRESS_MAX 64      /* HOST:PORT of a TCP listener */
#define LP_IDS_MAX 32	       /* users, and groups, a pool may name */
/* bytes of a line of the file, its newline aside */
#define LP_CONFIG_LINE_MAX 4096
/* bytes of a worker_program, as written and as split */
#define LP_PROGRAM_MAX 1024

/* Numeric user or group ids, resolved from names when the file is read. */
struct idlist {
	unsigned n;
	uint32_t ids[LP_IDS_MAX];
};

enum backend {
	LP_BACKEND_PROCESS,
	LP_BACKEND_THREAD,
};

struct pool_config {
	char name[LP_POOL_NAME_MAX + 1];
	enum backend backend;
	unsigned executors_min;
	unsigned executors_max;
	unsigned workers;
	double lease_seconds;
	double max_lease_seconds; /* the longest term a client may ask for */
	double grace_seconds;
	double job_timeout;
	/* a cancelled job's worker gets SIGTERM, then SIGKILL this much later */
	double cancel_grace;
	bool exec; /* the exec built-in may run here */
	/* bytes of stdout, and of stderr, an exec keeps */
	unsigned exec_output_max;
	unsigned max_jobs_per_worker;	 /* 0: never recycle */
	unsigned long long memory_limit; /* address space per worker; 0: none */
	bool sched_batch; /* worker processes run under SCHED_BATCH */
	/* The program every worker runs (docs/worker-protocol.md), as written; "": the built-in loop. */
	char worker_program[LP_PROGRAM_MAX];
	double worker_start_timeout; /* a worker not READY by then is killed */
	/* an idle executor above the target goes after this */
	double idle_seconds;
	/* scale: target = ceil(units / units_per_executor) */
	unsigned units_per_executor;
	/* the grinder dispatches this many items at once */
	unsigned batch_size;
	double batch_wait; /* ...or when the oldest has waited this long */
	struct idlist allow_users; /* both empty: everyone */
	struct idlist allow_groups;
	unsigned max_leases_per_client; /* 0: no limit */
	unsigned max_leases_per_user;	/* 0: no limit */
};

/* The most max_message_bytes can be, whatever a reload sets it to. */
#define LP_MESSAGE_BYTES_CEILING (1u << 30)
/* The same for max_result_bytes. */
#define LP_RESULT_BYTES_CEILING (1u << 30)

struct config {
	char source[256]; /* the file, or "(embedded default)" */
	char socket_path[LP_SOCKET_PATH_MAX];
	mode_t socket_mode;
	char default_pool[LP_POOL_NAME_MAX + 1];
	unsigned max_connections;
	unsigned max_connections_per_user;
	/* buffered for one uid before its reading stops */
	unsigned long long max_user_buffer_bytes;
	unsigned max_message_bytes; /* at most LP_MESSAGE_BYTES_CEILING */
	unsigned max_depth;	    /* nested containers in a message */
	/* a job's packed result, at most LP_RESULT_BYTES_CEILING */
	unsigned max_result_bytes;
	/* runs, submits and waiting acquires in flight */
	unsigned max_requests_per_connection;
	double shutdown_timeout;
	/* seconds the loop may poll for input before it sleeps */
	double busy_poll;
	int log_level;
	/* paths of job modules, space-separated */
	char modules[LP_MODULES_MAX];
	/* the Prometheus endpoint; "": none */
	char metrics_listen[LP_ADDRESS_MAX];
	size_t npools;
	struct pool_config pools[LP_POOLS_MAX];
};

/*
 * Loads path, or the embedded default when path is NULL.  On failure
 * returns -1 with a message such as
 * "/etc/leasepool/leasepoold.conf:7: [pool cpu] workers: must be an integer from 1 to 1024, got '0'".
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/* Same, from a string (for tests); name is used in messages. */
int config_load_string(struct config *cfg, const char *text, const char *name,
    char *err, size_t errlen);

/* Told about each changed key that only a restart applies, e.g. ("[pool cpu]", "workers"). */
typedef void config_restart_fn(void *arg, const char *section, const char *key);

/*
 * A reload: copies into running every key of next that may change without a
 * restart and returns how many changed; for the others (and for pools added
 * or removed) calls restart and keeps the running value.
 */
unsigned config_reload(struct config *running, const struct config *next,
    config_restart_fn *restart, void *arg);

/*
 * A worker_program split into words as a shell would, without running one:
 * blanks separate words; single quotes keep everything, double quotes all
 * but a backslash before '"', '\\' or '$'; a backslash outside quotes
 * keeps the next byte.  The words go to argv, each ended by a NUL, at
 * most cap bytes.  Returns how many bytes, or -1 when a quote is not
 * closed, a backslash ends the line, there are no words or they do not fit.
 */
long config_program_words(const char *line, char *argv, size_t cap);

/* The pool of that name (len bytes), or NULL. */
const struct pool_config *config_pool(const struct config *cfg,
    const char *name, size_t len);

/* The socket path used when neither the file nor -s names one. */
void config_default_socket(char *buf, size_t len);

/*
 * Every key of the table, in order, for documentation and its tests:
 * section is "daemon" or "pool", def the default as the file would spell
 * it (NULL: computed from the machine).
 */
typedef void config_key_fn(void *arg, const char *section, const char *name,
    const char *def);
void config_each_key(config_key_fn *fn, void *arg);

/*
 * Every key's effective value, as the file would spell it (so that what is
 * printed reads back as the same configuration): section is told of
 * [daemon] (pool NULL), then of each pool, with the number of keys that
 * value is then told of.
 */
typedef void config_section_fn(void *arg, const struct pool_config *pool,
    unsigned nkeys);
typedef void config_value_fn(void *arg, const char *key, const char *value);
void config_each_value(const struct config *cfg, config_section_fn *section,
    config_value_fn *value, void *arg);

/*
 * What makes cfg unsafe for a daemon whose effective uid is euid, each as
 * one sentence: a pool with exec = yes run as root, and a socket_mode that
 * lets others connect (only when the daemon makes its socket itself:
 * own_socket; systemd's socket unit sets its own mode).
 */
typedef void config_warn_fn(void *arg, const char *text);
void config_warnings(const struct config *cfg, uid_t euid, bool own_socket,
    config_warn_fn *warn, void *arg);

const char *config_backend_name(enum backend b);

#endif
