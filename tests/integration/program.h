/* SPDX-License-Identifier: ISC */
/*
 * Running the leasepool tool and the examples as separate programs, the way
 * a shell script runs them: arguments, a socket in the environment, bytes
 * on stdin; stdout, stderr and the exit status come back.  Bounded like
 * every wait of the harness: a program still running after
 * HARNESS_WAIT_SECONDS is killed and the test fails.
 */
#ifndef LP_TESTS_PROGRAM_H
#define LP_TESTS_PROGRAM_H

#include <stddef.h>

struct program {
	int status;	 /* the exit status, or -1 when a signal killed it */
	char out[65536]; /* stdout, cut to fit, NUL-terminated */
	char err[16384]; /* stderr, the same */
};

/*
 * Runs argv (argv[0] a path): with LEASEPOOL_SOCKET=socket in its
 * environment unless socket is NULL (then without it), and input on its
 * stdin (NULL: empty).  Returns p->status.
 */
int program_run(struct program *p, char *const argv[], const char *socket,
    const char *input);

/*
 * The same with len bytes of input, whatever they are, and its stdout
 * written to the file out (p->out stays empty), for output of any size.
 */
int program_run_bytes(struct program *p, char *const argv[], const char *socket,
    const char *input, size_t len, int out);

/* $LP_TOOL, $LP_EXAMPLES, $LP_README: what make check built. */
const char *program_tool(void);
const char *program_examples(void);
const char *program_readme(void);

#endif
