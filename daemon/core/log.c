/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/core/log.h"
#include "proto/text.h"

static int log_level = LOG_INFO;
static int log_to_journal;

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg",
	[LOG_ALERT] = "alert",
	[LOG_CRIT] = "crit",
	[LOG_ERR] = "error",
	[LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

/* journald sets JOURNAL_STREAM to the device and inode of our stderr. */
static int
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void
log_init(int level)
{
	log_level = level;
	log_to_journal = stderr_is_journal();
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

int
log_level_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < 0 || level > LOG_DEBUG)
		return "?";
	return level_names[level];
}

/*
 * ISO 8601 local time to the millisecond with its offset from UTC
 * (2026-12-07T02:17:21.987+01:00): a log kept for days, or read in
 * another time zone, still says when.
 */
static int
timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	long offset;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	offset = labs(tm.tm_gmtoff) / 60;
	return (int)n +
	    snprintf(buf + n, len - n, ".%03ld%c%02ld:%02ld",
		ts.tv_nsec / 1000000, tm.tm_gmtoff < 0 ? '-' : '+', offset / 60,
		offset % 60);
}

static void
log_vmsg(int prio, const char *fmt, va_list ap)
{
	char line[2048], text[2048];
	int n;

	/* One write per line, so lines of the daemon and its workers never interleave. */
	if (log_to_journal) {
		n = snprintf(line, sizeof line, "<%d>", prio);
	} else {
		n = timestamp(line, sizeof line);
		n += snprintf(line + n, sizeof line - (size_t)n,
		    " leasepoold[%d] %s: ", (int)getpid(), level_names[prio]);
	}
	/*
	 * Clients' names, owners and their programs' output are in the text:
	 * escaped, none of them can break the line or forge another.
	 */
	vsnprintf(text, sizeof text, fmt, ap);
	n += (int)lp_escape(line + n, sizeof line - 1 - (size_t)n, text,
	    strlen(text));
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio > log_level)
		return;
	va_start(ap, fmt);
	log_vmsg(prio, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
