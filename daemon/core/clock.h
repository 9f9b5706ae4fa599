/* SPDX-License-Identifier: ISC */
#ifndef LP_DAEMON_CLOCK_H
#define LP_DAEMON_CLOCK_H

/* Seconds on CLOCK_MONOTONIC: what every deadline and duration in the daemon is measured on. */
double monotonic_now(void);
/* Seconds since the Unix epoch: only to tell others when something happened. */
double unix_now(void);

/* Monotonic seconds: the held time between a hold and its release. */
double clock_now(void);
/* Around the handling of one read of input, so that its items share one clock reading; returns it. */
double clock_hold(void);
void clock_release(void);

#endif
