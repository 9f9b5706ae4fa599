/* SPDX-License-Identifier: ISC */
/*
 * 05_stats: what the daemon is doing.  Holds a lease of its own, then
 * prints every pool and every live lease from lp_stats(), and checks that
 * its own lease is among them.
 */
#include <err.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <leasepool/leasepool.h>

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

static int64_t
number(const msgpack_object *map, const char *key)
{
	const msgpack_object *o = member(map, key);

	return o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
	    (int64_t)o->via.u64 :
	    -1;
}

/* msgpack strings are not NUL-terminated: copy into buf. */
static const char *
text(const msgpack_object *o, char *buf, size_t size)
{
	int len = o != NULL && o->type == MSGPACK_OBJECT_STR ?
	    (int)o->via.str.size :
	    0;

	snprintf(buf, size, "%.*s", len, len > 0 ? o->via.str.ptr : "");
	return buf;
}

/* Prints the pool's leases; true when mine is among them. */
static bool
print_leases(const msgpack_object *pool, uint64_t mine)
{
	const msgpack_object *leases = member(pool, "leases");
	char owner[129];
	bool found = false;

	for (uint32_t i = 0; leases != NULL && i < leases->via.array.size;
	     i++) {
		const msgpack_object *l = &leases->via.array.ptr[i];

		printf("  lease %" PRId64 ", owner \"%s\", client pid %" PRId64
		       ", %" PRId64 " runs in flight\n",
		    number(l, "id"),
		    text(member(l, "owner"), owner, sizeof owner),
		    number(l, "pid"), number(l, "runs"));
		found |= number(l, "id") == (int64_t)mine;
	}
	return found;
}

int
main(void)
{
	struct lp_acquire_opts opts = { .owner = "05_stats" };
	const msgpack_object *pools;
	struct lp_value *stats;
	struct lp_error err;
	struct lp_client *c;
	struct lp_lease lease;
	char version[32], name[256], backend[16];
	bool found = false;

	if ((c = lp_connect(NULL, &err)) == NULL)
		errx(1, "connect: %s", err.message);
	if (lp_acquire(c, &opts, &lease, &err) != LP_OK)
		errx(1, "acquire: %s: %s", lp_err_name(err.code), err.message);
	if (lp_stats(c, NULL, &stats, &err) != LP_OK)
		errx(1, "stats: %s: %s", lp_err_name(err.code), err.message);
	printf("leasepoold %s, %" PRId64 " connections\n",
	    text(lp_value_get(stats, "version"), version, sizeof version),
	    number(lp_value_object(stats), "connections"));
	pools = lp_value_get(stats, "pools");
	for (uint32_t i = 0; pools != NULL && i < pools->via.map.size; i++) {
		const msgpack_object *pool = &pools->via.map.ptr[i].val;
		const msgpack_object *ex = member(pool, "executors");

		printf("pool %s: %s backend, %" PRId64 " of %" PRId64
		       " executors running "
		       "(%" PRId64 " free, %" PRId64 " leased), %" PRId64
		       " acquirers waiting\n",
		    text(&pools->via.map.ptr[i].key, name, sizeof name),
		    text(member(pool, "backend"), backend, sizeof backend),
		    number(ex, "total"), number(ex, "max"),
		    number(ex, "available"), number(ex, "leased"),
		    number(pool, "waiting"));
		found |= print_leases(pool, lease.id);
	}
	lp_value_free(stats);
	lp_release(c, lease.id, NULL);
	lp_client_free(c);
	if (!found)
		errx(1, "my lease %" PRIu64 " is not in the stats", lease.id);
	return 0;
}
