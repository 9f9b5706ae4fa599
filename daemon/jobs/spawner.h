/* SPDX-License-Identifier: ISC */
/*
 * The spawner: the process that starts an exec's program as the user who
 * asked.  A worker of a pool with exec = yes forks it right after the fork
 * server forked the worker, while both still hold CAP_SETUID, CAP_SETGID
 * and CAP_KILL (privs.h); then the worker drops them and only its spawner
 * keeps them.  It serves that one worker over a socketpair, one program at
 * a time: the worker sends the caller's ids, argv, environment, directory
 * and the program's pipe ends (SCM_RIGHTS); the spawner forks the program,
 * which takes the caller's groups, gid and uid, drops every capability and
 * execs; once the worker has read the program's output, it waits for the
 * program and kills what it left (it is a child subreaper, reaper.h) and
 * answers with the exit status.
 *
 * It is in the worker's process group and dies with the worker
 * (PR_SET_PDEATHSIG): what a killed worker's program left comes to the
 * fork server, which keeps CAP_KILL to end it.
 */
#ifndef LP_DAEMON_SPAWNER_H
#define LP_DAEMON_SPAWNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The supplementary groups a program gets at most: those SO_PEERGROUPS gave the daemon. */
#define SPAWN_GROUPS_MAX 64

struct spawn_user {
	uint32_t uid;
	uint32_t gid;
	uint32_t ngroups;
	uint32_t groups[SPAWN_GROUPS_MAX];
};

/* What a program's start could not do, in its report pipe before its errno. */
enum spawn_stage {
	SPAWN_USER = 1, /* take the caller's ids */
	SPAWN_CWD,	/* change to cwd */
	SPAWN_EXEC,	/* exec argv[0] */
};

/* The program's stdin, stdout, stderr and report pipe ends, sent to the spawner. */
#define SPAWN_FDS 4

/* In a new worker of an exec pool, before it drops its capabilities. */
bool spawner_start(void);

/* For the worker's reaper, which must not kill it between jobs. */
bool spawner_is(pid_t pid, void *arg);

/*
 * Starts argv as who, with environment envp and directory cwd (NULL: the
 * worker's).  The program reports a failed start through fds[3] as a
 * struct spawn_report.  Returns 0; ENOMEM when the worker had no memory
 * for the request, which the spawner never saw (it serves the next one);
 * or another errno: the spawner is gone.
 */
int spawner_run(const struct spawn_user *who, char *const *argv,
    char *const *envp, const char *cwd, const int fds[SPAWN_FDS]);

/*
 * After the program's output was read: waits for it to end, and takes
 * its exit status.  Returns 0 or an errno: the spawner is gone.
 */
int spawner_wait(int *status);

/* The processes the spawner killed that the last program left, for the worker's count. */
unsigned spawner_take_killed(void);

/* False once the spawner is gone: the worker must be replaced. */
bool spawner_alive(void);

struct spawn_report {
	int32_t stage; /* enum spawn_stage */
	int32_t error; /* errno */
};

#endif
