/* SPDX-License-Identifier: ISC */
/*
 * A real leasepoold per test case, in its own temporary directory, on its
 * own socket, logging to a file there.  It dies with the test process, so a
 * failed assertion leaves nothing running.  Tests wait on events (a socket
 * that answers, a stats value, a log line) with generous bounds, never on
 * fixed sleeps.
 */
#ifndef LP_TESTS_HARNESS_H
#define LP_TESTS_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "leasepool/leasepool.h"

/*
 * Built with a sanitizer that maps terabytes of shadow memory (ASan, TSan),
 * which no address-space limit can hold (gcc says so one way, clang another).
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LP_ASAN 1
#endif
#endif

/* Bound on every wait: generous, so a slow machine is not a failure. */
#define HARNESS_WAIT_SECONDS 20.0

struct daemon {
	char dir[64];
	char socket[100];
	char config[128];
	char log[128];
	pid_t pid;
};

/* $LP_DAEMON: the leasepoold that make check built. */
const char *daemon_path(void);

/* Starts a daemon on config_text (NULL: the embedded default) and waits until it answers. */
void daemon_start(struct daemon *d, const char *config_text);
/* The same, with "NAME=value" strings (NULL-terminated) added to the daemon's environment. */
void daemon_start_env(struct daemon *d, const char *config_text,
    const char *const *env);
/* The same with RLIMIT_NOFILE at nofile, soft and hard. */
void daemon_start_nofile(struct daemon *d, const char *config_text,
    unsigned nofile);
/*
 * The same under systemd-socket-activate, which listens on d->socket and
 * starts leasepoold with the socket (and env) on the first connection:
 * "answers" then only means the socket accepts; a request waits for the
 * daemon.  Fails the test when systemd-socket-activate is not installed.
 */
void daemon_start_activated(struct daemon *d, const char *config_text,
    const char *const *env);
/*
 * The same, run by root with -u user: d's directory is user's, so that the
 * daemon, once it is user, makes its socket there (and removes it).
 */
void daemon_start_as(struct daemon *d, const char *config_text,
    const char *user);
/* SIGTERM, then waits for it; returns its exit status (as from waitpid). */
int daemon_stop(struct daemon *d);
/* Kills it (if running) and removes its directory. */
void daemon_cleanup(struct daemon *d);

/* A client of d; fails the test when it cannot connect. */
struct lp_client *daemon_connect(const struct daemon *d);

/* Seconds on the monotonic clock, for a bound on a wait or a duration to check. */
double monotonic(void);

/* $LP_TEST_MODULES: the test modules make check built (else ./build/tests/modules). */
const char *test_modules_dir(void);

/* Whether program is in $PATH, as execvp would find it. */
bool in_path(const char *program);

/* Polls cond every few milliseconds until it holds or the bound passes. */
bool wait_until(bool (*cond)(void *arg), void *arg);
/* The daemon runs under LP_DAEMON_WRAPPER (valgrind in check-valgrind). */
bool daemon_wrapped(void);
/* A wait_until() condition: the file at path arg exists. */
bool file_exists(void *arg);

/* For wait_until: the process *(pid_t *)arg no longer exists (reaped, not a zombie). */
bool process_gone(void *arg);
/* The pid a job's script wrote to path once it started: waits within the bound for it. */
pid_t started_pid(const char *path);

/* The pid a job fn (no arguments) answers on lease: the worker that ran it. */
int64_t run_pid(struct lp_client *c, uint64_t lease, const char *fn);
/*
 * Waits within the bound until fn runs on another worker than old: a
 * successor takes over once it is ready, and the old worker may run a
 * job meanwhile.
 */
void wait_new_worker(struct lp_client *c, uint64_t lease, const char *fn,
    int64_t old);

/* Waits within the bound for child pid to exit, and gets its wait status; false if it did not. */
bool wait_exit(pid_t pid, int *status);

/* True when the daemon's log holds needle; how many of its lines do. */
bool daemon_log_contains(const struct daemon *d, const char *needle);
unsigned daemon_log_count(const struct daemon *d, const char *needle);
/* Waits within the bound until d's log holds needle; the test fails when it never does. */
void daemon_wait_log(const struct daemon *d, const char *needle);

/* Rewrites d's configuration file to config_text. */
void daemon_write_config(const struct daemon *d, const char *config_text);
/* The same, and waits until SIGHUP has reloaded it. */
void daemon_reload(const struct daemon *d, const char *config_text);

/* A lease of c's default pool; the test fails when it is not granted. */
uint64_t acquire(struct lp_client *c);
/* The same of pool. */
uint64_t acquire_from(struct lp_client *c, const char *pool);
/* The same on opts (NULL: the defaults). */
uint64_t acquire_with(struct lp_client *c, const struct lp_acquire_opts *opts);

/* A member of a map by dotted path, e.g. "pools.cpu.executors"; NULL if absent. */
const msgpack_object *object_at(const msgpack_object *map, const char *path);
/* The same, as an integer (a boolean as 0 or 1); -1 if absent or not a number. */
long long int_at(const msgpack_object *map, const char *path);

/* A stats value by path, e.g. "pools.cpu.executors.available"; -1 if absent. */
long long stats_int(struct lp_client *c, const char *path);
/* The number (integer or float) at path in the daemon's stats; NAN when there is none. */
double stats_double(struct lp_client *c, const char *path);

/* Waits until stats_int(c, path) == want; false when it never does. */
bool wait_stats(struct lp_client *c, const char *path, long long want);

/*
 * d's fork server: its child that names itself leasepool-fork (workers are
 * its children, or d's named leasepool-work once the fork server that forked
 * them died).  0 when there is none.
 */
pid_t fork_server_of(const struct daemon *d);

/* SIGKILLs d's fork server and waits until d has started another. */
void kill_fork_server(const struct daemon *d);

/* How an async call was answered, by record(): pass one as its arg. */
struct outcome {
	int done; /* times answered: exactly once, or a bug */
	enum lp_err code;
	int signal; /* WORKER_CRASHED: the signal, if one */
	int order;  /* 1 + how many calls record() saw answered before */
	char message[LP_ERROR_MESSAGE_MAX];
	bool truth;    /* a boolean result */
	int64_t value; /* an integer result (the pid of testjobs.pid, ...) */
};

/* An lp_done_cb that fills the struct outcome at arg. */
void record(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg);

/* Processes c until record() has filled o; fails the test when no answer comes. */
void wait_outcome(struct lp_client *c, const struct outcome *o);

/* Arguments of one number, v (sleep's seconds, echo's value...); the caller frees them. */
struct lp_args *one_number(double v);

/*
 * An acquire of c's default pool, answered to done with arg, sent at once;
 * timeout 0 waits without a bound.
 */
void acquire_async(struct lp_client *c, double timeout, lp_done_cb *done,
    void *arg);

/*
 * sleep seconds with a timeout, which the library's async calls do not
 * take: a run on lease, or with lease 0 a submit to pool.
 */
void sleep_async(struct lp_client *c, uint64_t lease, const char *pool,
    double seconds, double timeout, lp_done_cb *done, void *arg);

/* The state letter of /proc/PID/stat (R, S, D, Z...); '?' when there is no such process. */
char proc_state(pid_t pid);

/* A "NAME: N kB" line of /proc/PID/status (VmRSS, RssAnon...), in KiB; the test fails without it. */
long proc_status_kib(pid_t pid, const char *name);

/* How many descriptors pid holds open (/proc/PID/fd); the test fails when it cannot tell. */
int proc_fd_count(pid_t pid);

/* The arguments of exec for argv (NULL-terminated) with len bytes of stdin; input may be NULL (none). */
struct lp_args *exec_args(const char *const argv[], const char *input,
    size_t len);

/* What a cancel answered. */
struct cancelled {
	long long queued, running, finished;
};

/* cancel with params {key: id} ("msgid" or "lease"); the test fails unless it succeeds. */
struct cancelled cancel_by(struct lp_client *c, const char *key, uint64_t id);

/*
 * c's acquire on its default pool, pool, is refused UNAVAILABLE: its
 * workers cannot start, which d's log says (the crash-loop guard).
 */
void assert_crash_loop(const struct daemon *d, struct lp_client *c,
    const char *pool);

/* A raw Unix-socket connection to d, for bytes no client library would send. */
int raw_connect(const struct daemon *d);

/*
 * Runs leasepoold once on config_text, with -t when check_only, else as a
 * real start on a private socket, and waits for it to exit (a daemon still
 * running after the bound is killed: the test then fails).  Its stdout and
 * stderr, cut to fit, go to output.  Returns the exit status (as from waitpid).
 */
int daemon_run_once(const char *config_text, bool check_only, char *output,
    size_t len);
/* The same on the socket path given rather than a private one. */
int daemon_run_once_at(const char *socket, const char *config_text,
    bool check_only, char *output, size_t len);

/*
 * Lets other users reach d's socket: its directory becomes 0711 (they may
 * reach the socket by its name, not list or write the directory).  The
 * socket's own mode is the configuration's socket_mode.
 */
void daemon_open_to_others(const struct daemon *d);

/*
 * What another user's client does: its requests on c, and whatever the
 * test wants to see of their answers packed into pk.  False, with err set,
 * when a request failed.
 */
typedef bool other_user_fn(struct lp_client *c, msgpack_packer *pk, void *arg,
    struct lp_error *err);

/*
 * A client of d run by another user: a child process that becomes uid and
 * gid, without supplementary groups (only root may switch), connects and
 * calls fn.  It keeps its connection, and whatever fn acquired, until
 * other_user_end; reply is what fn packed.  The test fails when the child
 * cannot switch, connect or do what fn asks.
 */
struct other_user {
	pid_t pid;
	uid_t uid;
	int out;  /* the child's reply */
	int hold; /* closed by other_user_end: the child leaves */
	msgpack_unpacked reply;
	char data[1 << 16]; /* what reply refers to */
};

void other_user_start(struct other_user *o, const struct daemon *d, uid_t uid,
    gid_t gid, other_user_fn *fn, void *arg);
/* The same in two steps, for a test that acts while fn waits: the child starts, then its reply. */
void other_user_spawn(struct other_user *o, const struct daemon *d, uid_t uid,
    gid_t gid, other_user_fn *fn, void *arg);
void other_user_wait(struct other_user *o);
void other_user_end(struct other_user *o);

/*
 * len bytes that vary from one offset to the next without a short period,
 * the same on every call: a lost, repeated or reordered chunk shows.
 */
void fill_pattern(char *buf, size_t len);

#endif
