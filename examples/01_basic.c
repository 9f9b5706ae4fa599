/* SPDX-License-Identifier: ISC */
/*
 * 01_basic: the shortest useful program.  Connect to leasepoold (the socket
 * named by $LEASEPOOL_SOCKET, or the default one), lease an executor, run a
 * job on it, release the lease.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <leasepool/leasepool.h>

int
main(void)
{
	const char *greeting = "hello, leasepool";
	struct lp_acquire_opts opts = { .owner = "01_basic" };
	struct lp_error err;
	struct lp_client *c;
	struct lp_lease lease;
	struct lp_args *args;
	struct lp_value *answer;
	const char *s;
	size_t len;
	int ok;

	if ((c = lp_connect(NULL, &err)) == NULL)
		errx(1, "connect: %s", err.message);
	if (lp_acquire(c, &opts, &lease, &err) != LP_OK)
		errx(1, "acquire: %s: %s", lp_err_name(err.code), err.message);
	printf("lease %" PRIu64
	       " on pool %s: an executor of %u workers for %.0f s\n",
	    lease.id, lease.pool, lease.workers, lease.lease_seconds);

	args = lp_args_new();
	lp_args_str(args, greeting);
	if (lp_run(c, lease.id, "echo", args, &answer, &err) != LP_OK)
		errx(1, "run echo: %s: %s", lp_err_name(err.code), err.message);
	s = lp_value_str(answer, &len);
	printf("echo answered \"%.*s\"\n", (int)len, s);
	ok = s != NULL && len == strlen(greeting) &&
	    memcmp(s, greeting, len) == 0;
	lp_value_free(answer);
	lp_args_free(args);

	lp_release(c, lease.id, NULL);
	printf("released lease %" PRIu64 "\n", lease.id);
	lp_client_free(c);
	return ok ? 0 : 1;
}
