/* SPDX-License-Identifier: ISC */
/*
 * 03_backpressure: a pool with no free executor, seen from two connections.
 * Client A leases every executor of the pool; client B then gets the three
 * answers a full pool gives:
 *   - wait = false: UNAVAILABLE at once;
 *   - a timeout: TIMEOUT once it has passed;
 *   - waiting, the default: a place in line, served when A lets go.
 * It holds the whole pool for a moment: run it on a private daemon, as
 * make demo does.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <leasepool/leasepool.h>

struct grant {
	enum lp_err code;
	uint64_t lease;
	char message[LP_ERROR_MESSAGE_MAX];
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
expect(enum lp_err got, enum lp_err want, const char *what,
    const struct lp_error *err)
{
	if (got != want)
		errx(1, "%s: wanted %s, got %s: %s", what, lp_err_name(want),
		    lp_err_name(got), err->message);
}

/* A map's member by key, or NULL. */
static const msgpack_object *
member(const msgpack_object *map, const char *key)
{
	if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR &&
		    k->via.str.size == strlen(key) &&
		    memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

/* A number from stats: pools.POOL.KEY, or pools.POOL.KEY.SUBKEY. */
static int64_t
pool_stat(struct lp_client *c, const char *pool, const char *key,
    const char *subkey)
{
	const msgpack_object *o;
	struct lp_value *stats;
	struct lp_error err;
	int64_t n;

	expect(lp_stats(c, pool, &stats, &err), LP_OK, "stats", &err);
	o = member(member(lp_value_get(stats, "pools"), pool), key);
	if (subkey != NULL)
		o = member(o, subkey);
	if (o == NULL || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		errx(1, "stats: no pools.%s.%s", pool, key);
	n = (int64_t)o->via.u64;
	lp_value_free(stats);
	return n;
}

static void
granted(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	struct grant *g = arg;
	const msgpack_object *id = lp_value_get(result, "lease");

	g->code = code;
	if (err != NULL)
		snprintf(g->message, sizeof g->message, "%s", err->message);
	if (id != NULL && id->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
		g->lease = id->via.u64;
	lp_value_free(result);
}

int
main(void)
{
	struct lp_acquire_opts mine = { .owner = "03_backpressure A" };
	struct lp_acquire_opts nowait = { .owner = "03_backpressure B",
		.nowait = true };
	struct lp_acquire_opts patient = { .owner = "03_backpressure B",
		.timeout = 0.2 };
	struct grant g = { .code = LP_ERR_INTERNAL };
	struct lp_client *a, *b;
	struct lp_lease held, lease;
	struct lp_error err;
	int64_t max;
	double t0;

	if ((a = lp_connect(NULL, &err)) == NULL ||
	    (b = lp_connect(NULL, &err)) == NULL)
		errx(1, "connect: %s", err.message);
	expect(lp_acquire(a, &mine, &held, &err), LP_OK, "A acquire", &err);
	max = pool_stat(a, held.pool, "executors", "max");
	for (int64_t n = 1; n < max; n++)
		expect(lp_acquire(a, &mine, &held, &err), LP_OK, "A acquire",
		    &err);
	printf("A holds all %" PRId64 " executors of pool %s\n", max,
	    held.pool);

	expect(lp_acquire(b, &nowait, &lease, &err), LP_ERR_UNAVAILABLE,
	    "B nowait", &err);
	printf("B, wait = false: UNAVAILABLE at once (%s)\n", err.message);
	t0 = now();
	expect(lp_acquire(b, &patient, &lease, &err), LP_ERR_TIMEOUT,
	    "B timeout", &err);
	printf("B, timeout 0.2 s: TIMEOUT after %.2f s\n", now() - t0);

	/* Queued, not blocking: A must be free to let go while B waits. */
	expect(lp_call_async(b, "acquire", NULL, 0, granted, &g, &err), LP_OK,
	    "B acquire", &err);
	expect(lp_client_process(b, &err), LP_OK, "B send", &err);
	for (int tries = 0; pool_stat(a, held.pool, "waiting", NULL) == 0;
	     tries++) {
		if (tries == 1000)
			errx(1, "B never showed up in line");
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
	printf("B waits in line\n");
	t0 = now();
	lp_client_free(a);
	printf("A disconnects: the daemon takes its leases back\n");
	expect(lp_client_wait_all(b, &err), LP_OK, "B wait", &err);
	if (g.code != LP_OK)
		errx(1, "B waiting acquire: %s: %s", lp_err_name(g.code),
		    g.message);
	printf("B got lease %" PRIu64 " after %.2f s in line\n", g.lease,
	    now() - t0);

	lp_release(b, g.lease, NULL);
	lp_client_free(b);
	return 0;
}
