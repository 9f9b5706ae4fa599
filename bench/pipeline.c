/*
 * A fixed number of requests kept in flight on one connection with the
 * asynchronous API: a run on a lease or a submission to a grinder goes
 * out as soon as an earlier one has come back.  Every answer is checked,
 * so that a request that failed fast never passes for a fast one.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "bench/bench.h"

static void
pipeline_done(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct pipeline *p = arg;

	p->completed++;
	if (code != LP_OK && p->failed++ == 0)
		p->first_error = *err;
	lp_value_free(result);
}

void
pipeline_step(struct pipeline *p)
{
	struct lp_error err;
	struct pollfd pfd;

	while (lp_client_pending(p->c) < p->depth) {
		enum lp_err rc = p->pool != NULL ?
		    lp_submit_async(p->c, p->pool, p->fn, p->args, pipeline_done, p, &err) :
		    lp_run_async(p->c, p->lease, p->fn, p->args, pipeline_done, p, &err);

		if (rc != LP_OK)
			bench_fatal("run %s: %s", p->fn, err.message);
	}
	pfd.fd = lp_client_fd(p->c);
	pfd.events = POLLIN | (lp_client_want_write(p->c) ? POLLOUT : 0);
	if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
		bench_fatal("poll: %s", strerror(errno));
	if (lp_client_process(p->c, &err) != LP_OK)
		bench_fatal("run %s: %s", p->fn, err.message);
}

void
pipeline_finish(struct pipeline *p)
{
	struct lp_error err;

	if (lp_client_wait_all(p->c, &err) != LP_OK)
		bench_fatal("run %s: %s", p->fn, err.message);
	if (p->failed > 0)
		bench_fatal("%llu runs of %s failed, the first with: %s",
		    (unsigned long long)p->failed, p->fn, p->first_error.message);
}

void
pipeline_run(struct pipeline *p, struct rate_window *w)
{
	while (!window_update(w, p->completed))
		pipeline_step(p);
	pipeline_finish(p);
}
