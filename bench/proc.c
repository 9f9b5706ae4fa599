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

/* The "cpu" line of /proc/stat: all time, and idle time (idle + iowait). */
static bool
cpu_times(uint64_t *total, uint64_t *idle)
{
	uint64_t v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (f == NULL)
		return false;
	n = fscanf(f, "cpu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
	    " %" SCNu64 " %" SCNu64 " %" SCNu64, &v[0], &v[1], &v[2], &v[3], &v[4],
	    &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 5)
		return false;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*idle = v[3] + v[4];
	return true;
}

double
machine_busy(double seconds)
{
	uint64_t t0, i0, t1, i1;

	if (!cpu_times(&t0, &i0))
		return NAN;
	sleep_seconds(seconds);
	if (!cpu_times(&t1, &i1) || t1 == t0)
		return NAN;
	return 1.0 - (double)(i1 - i0) / (double)(t1 - t0);
}

double
machine_load(void)
{
	double load = NAN;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f != NULL) {
		if (fscanf(f, "%lf", &load) != 1)
			load = NAN;
		fclose(f);
	}
	return load;
}
