/* SPDX-License-Identifier: ISC */
/*
 * What the kernel says about a process: its memory (status, smaps_rollup)
 * and the CPU time it used, in nanoseconds (schedstat), which is what makes
 * "CPU per run" a figure that does not depend on how busy the machine is.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

double
proc_kib(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	double v = NAN;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	if ((f = fopen(path, "r")) == NULL)
		return NAN;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtod(line + klen + 1, NULL);
			break;
		}
	}
	fclose(f);
	return v;
}

uint64_t
proc_cpu_ns(pid_t pid)
{
	unsigned long long ns = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/*
 * The "cpu" line of /proc/stat: all time, idle time (idle + iowait) and
 * steal, the time the hypervisor ran something else on our virtual CPUs;
 * and its "ctxt" line, every context switch on every CPU (0 if absent).
 */
bool
cpu_times_read(struct cpu_times *t)
{
	uint64_t v[8] = { 0 };
	char line[256];
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (f == NULL)
		return false;
	n = fscanf(f,
	    "cpu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
	    " %" SCNu64 " %" SCNu64 " %" SCNu64,
	    &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	t->switches = 0;
	while (n >= 5 && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "ctxt %" SCNu64, &t->switches) == 1)
			break;
	fclose(f);
	if (n < 5)
		return false;
	t->total = 0;
	for (int i = 0; i < 8; i++)
		t->total += v[i];
	t->idle = v[3] + v[4];
	t->steal = v[7];
	return true;
}

double
cpu_steal_share(const struct cpu_times *from, const struct cpu_times *to)
{
	if (to->total <= from->total)
		return NAN;
	return (double)(to->steal - from->steal) /
	    (double)(to->total - from->total);
}

double
cpu_idle_share(const struct cpu_times *from, const struct cpu_times *to)
{
	if (to->total <= from->total)
		return NAN;
	return (double)(to->idle - from->idle) /
	    (double)(to->total - from->total);
}

double
machine_busy(double seconds)
{
	struct cpu_times t0, t1;

	if (!cpu_times_read(&t0))
		return NAN;
	sleep_seconds(seconds);
	if (!cpu_times_read(&t1))
		return NAN;
	return 1.0 - cpu_idle_share(&t0, &t1);
}

/* The number a file starts with; NaN if it cannot be read. */
static double
first_number(const char *path)
{
	double v = NAN;
	FILE *f = fopen(path, "r");

	if (f != NULL) {
		if (fscanf(f, "%lf", &v) != 1)
			v = NAN;
		fclose(f);
	}
	return v;
}

double
machine_load(void)
{
	return first_number("/proc/loadavg");
}

/*
 * How long an idle virtual CPU polls before it halts (the haltpoll
 * cpuidle driver): at 0 every sleep of the daemon or a worker costs an
 * exit to the hypervisor, which is what bounds the relay's and the
 * daemon's rates on such a VM.  NaN where there is no such driver.
 */
double
machine_halt_poll_ns(void)
{
	return first_number(
	    "/sys/module/haltpoll/parameters/guest_halt_poll_ns");
}
