/* SPDX-License-Identifier: ISC */
/*
 * 09_cancel: stop a job you no longer want.  A long sleep is started
 * asynchronously; lp_run_start names it, lp_cancel cancels it, and its
 * callback gets CANCELLED once the daemon has stopped its worker.  The
 * lease goes on: the next run answers at once.
 */
#include <err.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include <leasepool/leasepool.h>

struct outcome {
	bool done;
	enum lp_err code;
	char message[LP_ERROR_MESSAGE_MAX];
};

static void
answered(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct outcome *o = arg;

	o->done = true;
	o->code = code;
	snprintf(o->message, sizeof o->message, "%s",
	    err != NULL ? err->message : "");
	lp_value_free(result);
}

int
main(void)
{
	struct lp_acquire_opts opts = { .owner = "09_cancel" };
	struct lp_args *args = lp_args_new();
	struct outcome sleeping = { 0 };
	struct lp_value *answer;
	struct lp_client *c;
	struct lp_lease lease;
	struct lp_error err;
	uint64_t call;

	if ((c = lp_connect(NULL, &err)) == NULL)
		errx(1, "connect: %s", err.message);
	if (lp_acquire(c, &opts, &lease, &err) != LP_OK)
		errx(1, "acquire: %s", err.message);

	/* An hour's sleep, which nobody will wait for. */
	lp_args_int(args, 3600);
	if (lp_run_start(c, lease.id, "sleep", args, 0, answered, &sleeping,
		&call, &err) != LP_OK)
		errx(1, "run: %s", err.message);
	if (lp_client_process(c, &err) != LP_OK)
		errx(1, "send: %s", err.message);
	printf("started sleep 3600 as request %" PRIu64 "\n", call);

	/* Once lp_cancel returns, the sleep's callback has run. */
	if (lp_cancel(c, call, &err) != LP_OK)
		errx(1, "cancel: %s", err.message);
	if (!sleeping.done || sleeping.code != LP_ERR_CANCELLED)
		errx(1, "the sleep was answered %s",
		    lp_err_name(sleeping.code));
	printf("%s: %s\n", lp_err_name(sleeping.code), sleeping.message);

	lp_args_clear(args);
	lp_args_int(args, 7);
	if (lp_run(c, lease.id, "echo", args, &answer, &err) != LP_OK)
		errx(1, "echo after the cancel: %s", err.message);
	printf("the lease goes on: echo 7 answered %" PRId64 "\n",
	    lp_value_int(answer));
	lp_value_free(answer);

	lp_release(c, lease.id, &err);
	lp_args_free(args);
	lp_client_free(c);
	return 0;
}
