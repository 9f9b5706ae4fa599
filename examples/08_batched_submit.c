/* SPDX-License-Identifier: ISC */
/*
 * 08_batched_submit: one-shot work without a lease.  lp_submit hands a job
 * to the pool's grinder, which collects the submissions of every client
 * and gives them to a worker in batches: a flood of small jobs costs a few
 * trips to the workers, not one each.
 */
#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <leasepool/leasepool.h>

#define SUBMISSIONS 1000

static int64_t sent[SUBMISSIONS];
static int answered, wrong;

static void
done(struct lp_client *c, enum lp_err code, struct lp_value *result,
    const struct lp_error *err, void *arg)
{
	const int64_t *want = arg;

	answered++;
	if (code != LP_OK || lp_value_int(result) != *want) {
		wrong++;
		warnx("submission %td: %s", want - sent,
		    code != LP_OK ? err->message : "wrong answer");
	}
	lp_value_free(result);
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

/* Batches the grinders of every pool have dispatched so far. */
static int64_t
batches(struct lp_client *c)
{
	const msgpack_object *pools, *n;
	struct lp_value *stats;
	struct lp_error err;
	int64_t total = 0;

	if (lp_stats(c, NULL, &stats, &err) != LP_OK)
		errx(1, "stats: %s: %s", lp_err_name(err.code), err.message);
	pools = lp_value_get(stats, "pools");
	for (uint32_t i = 0; pools != NULL && i < pools->via.map.size; i++) {
		n = member(member(&pools->via.map.ptr[i].val, "grinder"),
		    "batches");
		if (n != NULL && n->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			total += (int64_t)n->via.u64;
	}
	lp_value_free(stats);
	return total;
}

int
main(void)
{
	struct lp_args *args = lp_args_new();
	struct lp_error err;
	struct lp_client *c;
	int64_t before, used;

	if ((c = lp_connect(NULL, &err)) == NULL)
		errx(1, "connect: %s", err.message);
	before = batches(c);
	for (int i = 0; i < SUBMISSIONS; i++) {
		sent[i] = i;
		lp_args_clear(args);
		lp_args_int(args, sent[i]);
		if (lp_submit_async(c, NULL, "echo", args, done, &sent[i],
			&err) != LP_OK)
			errx(1, "submit: %s", err.message);
	}
	if (lp_client_wait_all(c, &err) != LP_OK)
		errx(1, "wait: %s: %s", lp_err_name(err.code), err.message);
	used = batches(c) - before;
	printf("%d submissions of echo: %d answered, %d wrong, in %" PRId64
	       " batches\n",
	    SUBMISSIONS, answered, wrong, used);

	lp_args_free(args);
	lp_client_free(c);
	if (answered != SUBMISSIONS || wrong != 0)
		return 1;
	/* Sent in one burst, they cannot have gone to the workers one by one. */
	if (used <= 0 || used >= SUBMISSIONS)
		errx(1, "the grinder did not batch");
	return 0;
}
