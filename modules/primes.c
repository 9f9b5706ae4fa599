/* SPDX-License-Identifier: ISC */
/*
 * primes: an example job module of honest CPU work.
 *
 *	primes.count [N]	how many primes are below N (0 when N <= 2)
 *	primes.is_prime [n]	whether n is prime (false for n < 2)
 *
 * count is a segmented sieve of Eratosthenes over the odd numbers: its
 * memory is one 32 KiB segment plus the primes up to sqrt(N), whatever N,
 * so the limit on N only bounds the time: 10^9 takes a second or two on
 * one core, the limit of 10^10 about twenty.  is_prime is a deterministic
 * Miller-Rabin test, exact for every 64-bit n.  Both keep no state between
 * calls, so they are marked thread-safe.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <leasepool/job.h>

#define COUNT_MAX 10000000000ULL /* 10^10 */
#define SEGMENT 32768		 /* odd numbers sieved at a time */

/* The one integer argument of fn; false, having failed the job, without one. */
static bool
integer_arg(struct lp_job *job, const char *fn, const msgpack_object *args,
    const msgpack_object *kwargs, const msgpack_object **out)
{
	const msgpack_object *o;

	if (kwargs->via.map.size != 0) {
		lp_job_fail(job, "%s takes no keyword arguments", fn);
		return false;
	}
	if (args->via.array.size != 1) {
		lp_job_fail(job,
		    "%s takes one integer argument, got %u arguments", fn,
		    args->via.array.size);
		return false;
	}
	o = &args->via.array.ptr[0];
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->type != MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		lp_job_fail(job, "%s takes an integer, got %s", fn,
		    lp_job_type_name(o->type));
		return false;
	}
	*out = o;
	return true;
}

/* floor(sqrt(n)), digit by digit: exact where a double is not. */
static uint64_t
isqrt(uint64_t n)
{
	uint64_t root = 0, bit = 1ULL << 62;

	while (bit > n)
		bit >>= 2;
	for (; bit != 0; bit >>= 2) {
		if (n >= root + bit) {
			n -= root + bit;
			root = (root >> 1) + bit;
		} else {
			root >>= 1;
		}
	}
	return root;
}

/* The odd primes up to limit (an ordinary sieve: limit is at most 10^5). */
static uint32_t *
odd_primes_upto(uint32_t limit, size_t *count)
{
	uint8_t *composite = calloc(limit / 2 + 1, 1);
	uint32_t *primes = malloc((limit / 2 + 1) * sizeof *primes);
	size_t n = 0;

	if (composite == NULL || primes == NULL) {
		free(composite);
		free(primes);
		return NULL;
	}
	for (uint32_t p = 3; p <= limit; p += 2) {
		if (composite[p / 2])
			continue;
		primes[n++] = p;
		for (uint64_t m = (uint64_t)p * p; m <= limit; m += 2 * p)
			composite[m / 2] = 1;
	}
	free(composite);
	*count = n;
	return primes;
}

/*
 * Index i stands for the odd number 2i + 1; the odd numbers below n are
 * the indices 1 to n/2 - 1.  An odd prime p crosses out its odd multiples
 * from p*p on, which are p apart in index space.
 */
static int
count_below(uint64_t n, uint64_t *count)
{
	uint64_t end = n / 2, total = 1; /* the prime 2 */
	uint64_t *next;
	uint32_t *primes;
	uint8_t *crossed;
	size_t nprimes;

	if (n <= 2) {
		*count = 0;
		return 0;
	}
	if ((primes = odd_primes_upto((uint32_t)isqrt(n - 1), &nprimes)) ==
	    NULL)
		return -1;
	next = malloc((nprimes + 1) * sizeof *next);
	crossed = malloc(SEGMENT);
	if (next == NULL || crossed == NULL) {
		free(primes);
		free(next);
		free(crossed);
		return -1;
	}
	for (size_t i = 0; i < nprimes; i++)
		next[i] = ((uint64_t)primes[i] * primes[i]) / 2;
	for (uint64_t lo = 1; lo < end; lo += SEGMENT) {
		uint64_t hi = end - lo < SEGMENT ? end : lo + SEGMENT;

		memset(crossed, 0, hi - lo);
		for (size_t i = 0; i < nprimes; i++) {
			uint64_t j = next[i];

			for (; j < hi; j += primes[i])
				crossed[j - lo] = 1;
			next[i] = j;
		}
		for (uint64_t j = 0; j < hi - lo; j++)
			total += !crossed[j];
	}
	free(primes);
	free(next);
	free(crossed);
	*count = total;
	return 0;
}

static int
job_count(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	const msgpack_object *o;
	uint64_t count;

	if (!integer_arg(job, "primes.count", args, kwargs, &o))
		return -1;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		msgpack_pack_uint64(lp_job_result(job), 0);
		return 0;
	}
	if (o->via.u64 > COUNT_MAX)
		return lp_job_fail(job,
		    "primes.count: N is %llu, more than the limit of %llu",
		    (unsigned long long)o->via.u64, COUNT_MAX);
	if (count_below(o->via.u64, &count) == -1)
		return lp_job_fail(job, "primes.count: out of memory");
	msgpack_pack_uint64(lp_job_result(job), count);
	return 0;
}

static uint64_t
mulmod(uint64_t a, uint64_t b, uint64_t m)
{
	return (uint64_t)((unsigned __int128)a * b % m);
}

static uint64_t
powmod(uint64_t base, uint64_t exp, uint64_t m)
{
	uint64_t r = 1;

	for (base %= m; exp != 0; exp >>= 1) {
		if (exp & 1)
			r = mulmod(r, base, m);
		base = mulmod(base, base, m);
	}
	return r;
}

/* Miller-Rabin with the first 12 primes as bases: exact below 3.3 * 10^24. */
static bool
is_prime(uint64_t n)
{
	static const uint64_t bases[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23, 29,
		31, 37 };
	uint64_t d = n - 1;
	unsigned s = 0;

	if (n < 2)
		return false;
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
		if (n == bases[i])
			return true;
		if (n % bases[i] == 0)
			return false;
	}
	for (; (d & 1) == 0; d >>= 1)
		s++;
	for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
		uint64_t x = powmod(bases[i], d, n);
		unsigned r;

		if (x == 1 || x == n - 1)
			continue;
		for (r = 1; r < s; r++)
			if ((x = mulmod(x, x, n)) == n - 1)
				break;
		if (r == s)
			return false;
	}
	return true;
}

static int
job_is_prime(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	const msgpack_object *o;

	if (!integer_arg(job, "primes.is_prime", args, kwargs, &o))
		return -1;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		msgpack_pack_false(lp_job_result(job));
	else if (is_prime(o->via.u64))
		msgpack_pack_true(lp_job_result(job));
	else
		msgpack_pack_false(lp_job_result(job));
	return 0;
}

static const struct lp_job_function functions[] = {
	{ "count", job_count, LP_JOB_THREAD_SAFE },
	{ "is_prime", job_is_prime, LP_JOB_THREAD_SAFE },
	{ NULL, NULL, 0 },
};

const struct lp_job_module leasepool_job_module = {
	.abi_version = LP_JOB_ABI_VERSION,
	.name = "primes",
	.functions = functions,
};
