/* SPDX-License-Identifier: ISC */
#ifndef LP_DAEMON_LOOP_H
#define LP_DAEMON_LOOP_H

#include <stdbool.h>

#include <event2/event.h>

/* The daemon's event loop: it polls for input while that pays (backend/frame_policy.h). */

/* Runs the loop until event_base_loopexit(). */
void loop_run(struct event_base *base);

/* Input was read at now (a client's or a worker's). */
void loop_note_input(double now);

#endif
