/* SPDX-License-Identifier: ISC */
/*
 * 06_expiry: a lease nobody renews ends by itself.  Past lease_seconds it
 * is in its grace period and runs still work; grace_seconds later it is
 * revoked, and a run gets LEASE_EXPIRED.  Releasing it then is harmless.
 * With the default configuration the grace period is 10 s, so this one
 * takes a while.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <leasepool/leasepool.h>

/* Past a deadline by this much, the daemon has certainly passed it too. */
#define MARGIN 0.05

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_until(double when)
{
	double left = when - now();
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = (time_t)left;
	ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) == -1)
		continue;
}

static enum lp_err
run_echo(struct lp_client *c, uint64_t lease, struct lp_error *err)
{
	struct lp_args *args = lp_args_new();
	struct lp_value *answer = NULL;
	enum lp_err code;

	lp_args_str(args, "still there?");
	code = lp_run(c, lease, "echo", args, &answer, err);
	lp_value_free(answer);
	lp_args_free(args);
	return code;
}

int
main(void)
{
	struct lp_acquire_opts opts = { .owner = "06_expiry",
		.lease_seconds = 0.5 };
	struct lp_error err;
	struct lp_client *c;
	struct lp_lease lease;
	double granted;

	if ((c = lp_connect(NULL, &err)) == NULL)
		errx(1, "connect: %s", err.message);
	if (lp_acquire(c, &opts, &lease, &err) != LP_OK)
		errx(1, "acquire: %s: %s", lp_err_name(err.code), err.message);
	granted = now();
	printf("lease %" PRIu64
	       ": %.1f s, then %.1f s of grace; not renewing it\n",
	    lease.id, lease.lease_seconds, lease.grace_seconds);

	if (lease.grace_seconds > 2 * MARGIN) {
		sleep_until(granted + lease.lease_seconds + MARGIN);
		if (run_echo(c, lease.id, &err) != LP_OK)
			errx(1, "run in grace: %s: %s", lp_err_name(err.code),
			    err.message);
		printf("%.1f s: past its term, in grace: runs still work\n",
		    now() - granted);
	}

	sleep_until(
	    granted + lease.lease_seconds + lease.grace_seconds + MARGIN);
	if (run_echo(c, lease.id, &err) != LP_ERR_LEASE_EXPIRED)
		errx(1, "run after expiry: wanted LEASE_EXPIRED, got %s",
		    lp_err_name(err.code));
	printf("%.1f s: revoked: %s (%s)\n", now() - granted,
	    lp_err_name(err.code), err.message);

	if (lp_release(c, lease.id, &err) != LP_OK)
		errx(1, "release: %s: %s", lp_err_name(err.code), err.message);
	printf("released the expired lease: harmless\n");
	lp_client_free(c);
	return 0;
}
