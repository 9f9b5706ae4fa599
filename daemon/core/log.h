/* SPDX-License-Identifier: ISC */
/*
 * Logging to stderr, once; journald or the terminal does the rest.  When
 * stderr is the journal the lines carry syslog priority prefixes ("<6>").
 */
#ifndef LP_DAEMON_LOG_H
#define LP_DAEMON_LOG_H

#include <syslog.h>

#include "proto/plural.h" /* for the counts in messages */

/* Reads JOURNAL_STREAM to decide on priority prefixes. */
void log_init(int level);
void log_set_level(int level);
int log_get_level(void);

/* "info" -> LOG_INFO; -1 when unknown. */
int log_level_from_name(const char *name);
const char *log_level_name(int level);

void log_msg(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Start-up failures and broken invariants only: logs and exits 1. */
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
