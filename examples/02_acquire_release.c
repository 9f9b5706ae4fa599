/* SPDX-License-Identifier: ISC */
/*
 * 02_acquire_release: a lease's life by hand.  Acquire with an owner and a
 * term, renew it, release it.  Releasing twice is harmless; a run on a
 * released lease fails with NO_SUCH_LEASE.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>

#include <leasepool/leasepool.h>

/* Exits unless the call ended with the code we expected. */
static void
expect(enum lp_err got, enum lp_err want, const char *what,
    const struct lp_error *err)
{
	if (got != want)
		errx(1, "%s: wanted %s, got %s: %s", what, lp_err_name(want),
		    lp_err_name(got), err->message);
}

int
main(void)
{
	struct lp_acquire_opts opts = { .owner = "02_acquire_release",
		.lease_seconds = 5 };
	struct lp_error err;
	struct lp_client *c;
	struct lp_lease lease;
	struct lp_args *args = lp_args_new();
	struct lp_value *answer;
	double granted;

	if ((c = lp_connect(NULL, &err)) == NULL)
		errx(1, "connect: %s", err.message);
	expect(lp_acquire(c, &opts, &lease, &err), LP_OK, "acquire", &err);
	printf("lease %" PRIu64 ": %.0f s, then %.0f s of grace\n", lease.id,
	    lease.lease_seconds, lease.grace_seconds);

	lp_args_int(args, 7);
	expect(lp_run(c, lease.id, "echo", args, &answer, &err), LP_OK, "run",
	    &err);
	printf("echo 7 answered %" PRId64 "\n", lp_value_int(answer));
	lp_value_free(answer);

	expect(lp_renew(c, lease.id, 30, &granted, &err), LP_OK, "renew", &err);
	printf("renewed: %.0f s from now\n", granted);

	expect(lp_release(c, lease.id, &err), LP_OK, "release", &err);
	printf("released\n");
	expect(lp_release(c, lease.id, &err), LP_OK, "second release", &err);
	printf("released again: harmless\n");

	expect(lp_run(c, lease.id, "echo", args, &answer, &err),
	    LP_ERR_NO_SUCH_LEASE, "run after release", &err);
	printf("run after release: %s (%s)\n", lp_err_name(err.code),
	    err.message);

	lp_args_free(args);
	lp_client_free(c);
	return 0;
}
