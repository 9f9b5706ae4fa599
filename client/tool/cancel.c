/* SPDX-License-Identifier: ISC */
/*
 * Ctrl-C during a job (run, exec, submit) stops the job on the daemon too,
 * not only the tool: the first SIGINT cancels the job and waits for the
 * daemon's answer, CANCELLED; a second one leaves at once, for the handler
 * is gone by then (SA_RESETHAND) and SIGINT ends the tool as it would
 * have.  Either way the tool ends by SIGINT (interrupt_exit), so that a
 * shell sees a command that Ctrl-C stopped, and stops its script as well:
 * a status of 130 would tell it that the command handled the signal and
 * the script may go on.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>

#include "client/tool/tool.h"

static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	interrupted = 1;
}

/*
 * Before the job starts, so that it never runs unseen.  A SIGINT that
 * was ignored when we started (a script's background job) stays ignored.
 */
void
job_begin(struct job *job)
{
	struct sigaction sa = { .sa_handler = on_interrupt,
		.sa_flags = SA_RESETHAND };
	struct sigaction old;

	*job = (struct job){ 0 };
	if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		return;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

void
job_answered(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct job *job = arg;

	job->done = true;
	job->result = result;
	job->err = *err;
}

/* Once lp_cancel returns, the job has its answer; unless a daemon cannot cancel. */
static void
cancel(struct tool *t, const struct job *job)
{
	struct lp_error err;

	if (lp_cancel(t->client, job->call, &err) == LP_OK)
		return;
	report(&err);
	fputs(
	    "leasepool: the job runs on; Ctrl-C again leaves without "
	    "its answer\n",
	    stderr);
}

/*
 * SIGINT stays blocked but while ppoll waits, so that one arriving at any
 * other moment is seen at the loop's next turn instead of being lost
 * while poll sleeps.  Once the job is being cancelled it is unblocked for
 * good: the second Ctrl-C must end us, even in the middle of the cancel.
 */
enum lp_err
job_wait(struct tool *t, struct job *job, struct lp_value **result,
    struct lp_error *err)
{
	struct pollfd pfd = { .fd = lp_client_fd(t->client) };
	sigset_t sigint, unblocked;
	bool cancelled = false;

	sigemptyset(&sigint);
	sigaddset(&sigint, SIGINT);
	sigprocmask(SIG_BLOCK, &sigint, &unblocked);
	while (!job->done) {
		if (interrupted && !cancelled) {
			cancelled = true;
			sigprocmask(SIG_SETMASK, &unblocked, NULL);
			cancel(t, job);
			continue;
		}
		pfd.events = POLLIN;
		if (lp_client_want_write(t->client))
			pfd.events |= POLLOUT;
		/* Processing finds out what poll says; its error fails the job. */
		ppoll(&pfd, 1, NULL, &unblocked);
		lp_client_process(t->client, NULL);
	}
	sigprocmask(SIG_SETMASK, &unblocked, NULL);
	*result = job->result;
	*err = job->err;
	return err->code;
}

int
interrupt_exit(int status)
{
	if (!interrupted)
		return status;
	signal(SIGINT, SIG_DFL);
	raise(SIGINT);
	/* SIGINT blocked by whoever started us: the status says it. */
	return status;
}
