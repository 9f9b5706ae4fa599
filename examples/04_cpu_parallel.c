/* SPDX-License-Identifier: ISC */
/*
 * 04_cpu_parallel: one lease, several CPU jobs at once.  A lease on the
 * process backend is an executor of `workers` processes, so that many runs
 * of the lease execute in parallel and the rest queue inside the lease:
 * twice as many runs as workers take about twice one run's time, not
 * `runs` times it.  The job is the built-in spin, which keeps a CPU busy
 * for the microseconds it is given; with the primes module loaded
 * (modules = .../primes.so in the daemon's configuration), primes.count
 * is the same idea with real work.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <leasepool/leasepool.h>

#define JOB_MICROSECONDS 200000

struct tally {
	int ok;
	int failed;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
done(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct tally *t = arg;

	if (code == LP_OK)
		t->ok++;
	else {
		t->failed++;
		warnx("spin: %s: %s", lp_err_name(code), err->message);
	}
	lp_value_free(result);
}

int
main(void)
{
	struct lp_acquire_opts opts = { .owner = "04_cpu_parallel" };
	struct lp_args *args = lp_args_new();
	struct tally tally = { 0, 0 };
	struct lp_error err;
	struct lp_client *c;
	struct lp_lease lease;
	double job = JOB_MICROSECONDS / 1e6, serial, wall, started;
	int runs;

	if ((c = lp_connect(NULL, &err)) == NULL)
		errx(1, "connect: %s", err.message);
	if (lp_acquire(c, &opts, &lease, &err) != LP_OK)
		errx(1, "acquire: %s: %s", lp_err_name(err.code), err.message);
	runs = 2 * (int)lease.workers;
	serial = runs * job;
	printf("lease %" PRIu64 ": %u workers on the %s backend\n", lease.id,
	    lease.workers, lease.backend);

	lp_args_int(args, JOB_MICROSECONDS);
	started = now();
	for (int i = 0; i < runs; i++) {
		if (lp_run_async(c, lease.id, "spin", args, done, &tally,
			&err) != LP_OK)
			errx(1, "run: %s", err.message);
	}
	if (lp_client_wait_all(c, &err) != LP_OK)
		errx(1, "wait: %s: %s", lp_err_name(err.code), err.message);
	wall = now() - started;
	printf(
	    "%d runs of spin(%.1f s): %.2f s, against %.2f s one after another\n",
	    runs, job, wall, serial);

	lp_args_free(args);
	lp_release(c, lease.id, NULL);
	lp_client_free(c);
	if (tally.ok != runs)
		errx(1, "%d of %d runs failed", tally.failed, runs);
	return 0;
}
