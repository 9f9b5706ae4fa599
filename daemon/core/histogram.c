/* SPDX-License-Identifier: ISC */
#include "daemon/core/histogram.h"

const double histogram_bounds[HISTOGRAM_BOUNDS] = {
	0.00001,
	0.0001,
	0.001,
	0.01,
	0.1,
	1,
	10,
	60,
	300,
};

void
histogram_add(struct histogram *h, double seconds)
{
	unsigned i = 0;

	/* From the bottom: most samples are short, so this ends after a compare or two. */
	while (i < HISTOGRAM_BOUNDS && seconds > histogram_bounds[i])
		i++;
	h->counts[i]++;
	h->sum += seconds;
}

uint64_t
histogram_cumulative(const struct histogram *h, unsigned i)
{
	uint64_t n = 0;

	for (unsigned j = 0; j <= i; j++)
		n += h->counts[j];
	return n;
}

uint64_t
histogram_count(const struct histogram *h)
{
	return histogram_cumulative(h, HISTOGRAM_BOUNDS);
}
