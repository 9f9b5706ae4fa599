/* SPDX-License-Identifier: ISC */
/* Whole reads and writes on blocking descriptors: short counts are retried. */
#include <errno.h>
#include <unistd.h>

#include "bench/bench.h"

bool
write_full(int fd, const void *p, size_t len)
{
	const char *s = p;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return false;
		}
		s += n;
		len -= (size_t)n;
	}
	return true;
}

bool
read_full(int fd, void *p, size_t len)
{
	char *s = p;
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, s, len)) == 0)
			return false;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return false;
		}
		s += n;
		len -= (size_t)n;
	}
	return true;
}
