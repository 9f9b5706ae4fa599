#ifndef LP_DAEMON_CLOCK_H
#define LP_DAEMON_CLOCK_H

/* Seconds on CLOCK_MONOTONIC: what every deadline and duration in the daemon is measured on. */
double monotonic_now(void);
/* Seconds since the Unix epoch: only to tell others when something happened. */
double unix_now(void);

#endif
