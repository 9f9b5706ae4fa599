/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/backend/worklog.h"
#include "daemon/core/clock.h"
#include "daemon/core/log.h"

#define LINE_MAX_BYTES 1024
/* A token bucket: this many lines a second, in bursts of up to BURST. */
#define LINES_PER_SECOND 100.0
#define BURST 500.0

/* How soon after the first dropped line the count is logged. */
#define REPORT_AFTER_SECONDS 1

struct worklog {
	int fd;
	struct event *ev;
	/* logs the dropped count even if the worker falls silent */
	struct event *ev_report;
	worklog_tag_fn *tag;
	void *arg;
	char line[LINE_MAX_BYTES];
	size_t len;
	double tokens;
	double refilled;
	unsigned long dropped;
};

static bool
take_token(struct worklog *wl)
{
	double t = monotonic_now();

	wl->tokens += (t - wl->refilled) * LINES_PER_SECOND;
	if (wl->tokens > BURST)
		wl->tokens = BURST;
	wl->refilled = t;
	if (wl->tokens < 1)
		return false;
	wl->tokens -= 1;
	return true;
}

static void
report_dropped(struct worklog *wl, const char *tag)
{
	if (wl->dropped == 0)
		return;
	log_warn("%s: %lu line%s of output dropped (more than %.0f a second)",
	    tag, wl->dropped, lp_plural(wl->dropped), LINES_PER_SECOND);
	wl->dropped = 0;
}

static void
on_report(evutil_socket_t fd, short what, void *arg)
{
	struct worklog *wl = arg;
	char tag[160];

	wl->tag(wl->arg, tag, sizeof tag);
	report_dropped(wl, tag);
}

static void
emit(struct worklog *wl, bool cut)
{
	struct timeval later = { REPORT_AFTER_SECONDS, 0 };
	char tag[160];

	if (!take_token(wl)) {
		if (wl->dropped++ == 0)
			evtimer_add(wl->ev_report, &later);
		wl->len = 0;
		return;
	}
	wl->tag(wl->arg, tag, sizeof tag);
	report_dropped(wl, tag);
	/* The log is for people: no control characters from a job in it. */
	for (size_t i = 0; i < wl->len; i++)
		if ((unsigned char)wl->line[i] < 0x20 && wl->line[i] != '\t')
			wl->line[i] = '?';
	log_info("%s: %.*s%s", tag, (int)wl->len, wl->line,
	    cut ? " [...]" : "");
	wl->len = 0;
}

static void
take(struct worklog *wl, const char *p, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t chunk = nl != NULL ? (size_t)(nl - p) : n;
		size_t room = sizeof wl->line - wl->len;
		size_t copy = chunk < room ? chunk : room;

		memcpy(wl->line + wl->len, p, copy);
		wl->len += copy;
		if (copy < chunk || wl->len == sizeof wl->line) {
			emit(wl, true);
			p += copy;
			n -= copy;
			continue;
		}
		p += chunk;
		n -= chunk;
		if (nl != NULL) {
			emit(wl, false);
			p++;
			n--;
		}
	}
}

static void
worklog_readable(evutil_socket_t fd, short what, void *arg)
{
	struct worklog *wl = arg;
	char buf[8192];
	ssize_t n = read(fd, buf, sizeof buf);

	if (n > 0) {
		take(wl, buf, (size_t)n);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	/* The worker and everything it started have closed their output. */
	event_del(wl->ev);
}

struct worklog *
worklog_open(struct event_base *base, int fd, worklog_tag_fn *tag, void *arg)
{
	struct worklog *wl = calloc(1, sizeof *wl);

	if (wl == NULL)
		fatalx("out of memory");
	wl->fd = fd;
	wl->tag = tag;
	wl->arg = arg;
	wl->tokens = BURST;
	wl->refilled = monotonic_now();
	evutil_make_socket_nonblocking(fd);
	wl->ev =
	    event_new(base, fd, EV_READ | EV_PERSIST, worklog_readable, wl);
	wl->ev_report = evtimer_new(base, on_report, wl);
	if (wl->ev == NULL || wl->ev_report == NULL)
		fatalx("out of memory");
	event_add(wl->ev, NULL);
	return wl;
}

void
worklog_close(struct worklog *wl)
{
	char tag[160];

	if (wl == NULL)
		return;
	/* Whatever is still in the pipe is worth reading: often the last words of a crash. */
	worklog_readable(wl->fd, EV_READ, wl);
	if (wl->len > 0)
		emit(wl, false);
	if (wl->dropped > 0) {
		wl->tag(wl->arg, tag, sizeof tag);
		report_dropped(wl, tag);
	}
	event_free(wl->ev_report);
	event_free(wl->ev);
	close(wl->fd);
	free(wl);
}
