/* SPDX-License-Identifier: ISC */
/*
 * 07_async_libevent: many runs in flight on one connection, driven by a
 * libevent loop through leasepool-event.h.  Answers come back in
 * completion order, each to its own callback; the loop ends by itself once
 * the last answer is in, because the adapter stops watching the socket
 * when nothing is pending.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>

#include <event2/event.h>
#include <leasepool/leasepool-event.h>

#define RUNS 500

struct progress {
	int answered;
	int wrong;
	int out_of_order; /* answered before a run sent earlier */
	int64_t last;
};

static int64_t sent[RUNS];
static struct progress progress;

static void
answered(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	const int64_t *want = arg;

	progress.answered++;
	if (code != LP_OK || lp_value_int(result) != *want) {
		progress.wrong++;
		warnx("run %td: %s", want - sent,
		    code != LP_OK ? err->message : "wrong answer");
	}
	if (*want < progress.last)
		progress.out_of_order++;
	progress.last = *want;
	lp_value_free(result);
}

int
main(void)
{
	struct lp_acquire_opts opts = { .owner = "07_async_libevent" };
	struct lp_args *args = lp_args_new();
	struct event_base *base;
	struct lp_event ev;
	struct lp_error err;
	struct lp_client *c;
	struct lp_lease lease;

	if ((c = lp_connect(NULL, &err)) == NULL)
		errx(1, "connect: %s", err.message);
	if (lp_acquire(c, &opts, &lease, &err) != LP_OK)
		errx(1, "acquire: %s: %s", lp_err_name(err.code), err.message);
	if ((base = event_base_new()) == NULL ||
	    lp_event_attach(&ev, base, c) == -1)
		errx(1, "libevent: out of memory");

	for (int i = 0; i < RUNS; i++) {
		sent[i] = i;
		lp_args_clear(args);
		lp_args_int(args, sent[i]);
		if (lp_run_async(c, lease.id, "echo", args, answered, &sent[i],
			&err) != LP_OK)
			errx(1, "run: %s", err.message);
	}
	printf("%d runs of echo queued on lease %" PRIu64 " (%u workers)\n",
	    RUNS, lease.id, lease.workers);
	event_base_dispatch(base);
	printf(
	    "the loop ended: %d answered, %d wrong, %d before an earlier run\n",
	    progress.answered, progress.wrong, progress.out_of_order);

	lp_event_detach(&ev);
	event_base_free(base);
	lp_args_free(args);
	lp_release(c, lease.id, NULL);
	lp_client_free(c);
	return progress.answered == RUNS && progress.wrong == 0 ? 0 : 1;
}
