/* SPDX-License-Identifier: ISC */
/*
 * A fixed number of requests kept in flight on one connection with the
 * asynchronous API: a run on a lease or a submission to a grinder goes
 * out as soon as an earlier one has come back, from its completion
 * callback, so that the library sends it in the same step that read the
 * answer (as the baseline's client writes as soon as it has read).
 * Queued outside the step, it would cost a poll() that returns at once
 * to say the socket is writable.  Every answer is checked,
 * so that a request that failed fast never passes for a fast one.  Each
 * request in flight has a slot of its own, since answers from several
 * workers need not come back in the order the requests went.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

/* A request in flight: whose it is, and when it went if it is timed. */
struct pipeline_slot {
	struct pipeline *p;
	uint64_t sent_ns;	    /* 0: not timed */
	struct pipeline_slot *next; /* on p->free */
};

static void pipeline_done(struct lp_client *, enum lp_err, struct lp_value *,
    const struct lp_error *, void *);

static void
pipeline_send(struct pipeline *p, struct pipeline_slot *s)
{
	struct lp_error err;
	enum lp_err rc;

	s->sent_ns = p->latency != NULL ? now_ns() : 0;
	rc = p->pool != NULL ? lp_submit_async(p->c, p->pool, p->fn, p->args,
				   pipeline_done, s, &err) :
			       lp_run_async(p->c, p->lease, p->fn, p->args,
				   pipeline_done, s, &err);
	if (rc != LP_OK)
		bench_fatal("run %s: %s", p->fn, err.message);
}

static void
pipeline_done(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct pipeline_slot *s = arg;
	struct pipeline *p = s->p;

	if (s->sent_ns != 0 && p->latency != NULL)
		samples_add(p->latency, now_ns() - s->sent_ns);
	p->completed++;
	if (code != LP_OK && p->failed++ == 0)
		p->first_error = *err;
	lp_value_free(result);
	if (p->draining || code != LP_OK) {
		s->next = p->free;
		p->free = s;
	} else
		pipeline_send(p, s);
}

static void
pipeline_slots(struct pipeline *p)
{
	if ((p->slots = calloc(p->depth, sizeof *p->slots)) == NULL)
		bench_fatal("out of memory");
	for (unsigned i = 0; i < p->depth; i++) {
		p->slots[i].p = p;
		p->slots[i].next = p->free;
		p->free = &p->slots[i];
	}
}

void
pipeline_step(struct pipeline *p)
{
	struct pipeline_slot *s;
	struct lp_error err;
	struct pollfd pfd;

	if (p->slots == NULL)
		pipeline_slots(p);
	while ((s = p->free) != NULL) {
		p->free = s->next;
		pipeline_send(p, s);
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

	p->draining = true;
	if (lp_client_wait_all(p->c, &err) != LP_OK)
		bench_fatal("run %s: %s", p->fn, err.message);
	free(p->slots);
	p->slots = p->free = NULL;
	p->draining = false;
	if (p->failed > 0)
		bench_fatal("%llu runs of %s failed, the first with: %s",
		    (unsigned long long)p->failed, p->fn,
		    p->first_error.message);
}

void
pipeline_run(struct pipeline *p, struct rate_window *w)
{
	while (!window_update(w, p->completed))
		pipeline_step(p);
	pipeline_finish(p);
}
