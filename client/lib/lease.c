/* SPDX-License-Identifier: ISC */
/*
 * The lease life cycle: acquire, renew, release.  Releasing must be hard
 * to get wrong, so a second release, or one after the connection died,
 * succeeds: the lease is gone either way.  The daemon forgets released
 * leases, so the client remembers the last few it released itself; a
 * lease id it never held still gets the daemon's NO_SUCH_LEASE.
 */
#include <limits.h>
#include <string.h>

#include "client/lib/client.h"
#include "proto/rpc.h"

static bool
released_has(const struct lp_client *c, uint64_t lease)
{
	unsigned i;

	for (i = 0; i < c->nreleased; i++) {
		if (c->released[i] == lease)
			return true;
	}
	return false;
}

/* The oldest drops out: a double release comes soon after the first. */
static void
released_add(struct lp_client *c, uint64_t lease)
{
	if (c->nreleased == LP_RELEASED_MAX) {
		memmove(c->released, c->released + 1,
		    --c->nreleased * sizeof *c->released);
	}
	c->released[c->nreleased++] = lease;
}

/* The daemon may hand out a released id again. */
static void
released_forget(struct lp_client *c, uint64_t lease)
{
	unsigned i;

	for (i = 0; i < c->nreleased; i++) {
		if (c->released[i] == lease) {
			memmove(c->released + i, c->released + i + 1,
			    (--c->nreleased - i) * sizeof *c->released);
			return;
		}
	}
}

static enum lp_err
lease_read(const msgpack_object *r, struct lp_lease *lease,
    struct lp_error *err)
{
	uint64_t workers;

	if (!lpc_obj_u64(lp_map_get(r, "lease"), &lease->id) ||
	    !lpc_obj_strcpy(lp_map_get(r, "pool"), lease->pool,
		sizeof lease->pool) ||
	    !lpc_obj_strcpy(lp_map_get(r, "backend"), lease->backend,
		sizeof lease->backend) ||
	    !lpc_obj_u64(lp_map_get(r, "workers"), &workers) ||
	    workers > UINT_MAX ||
	    !lpc_obj_double(lp_map_get(r, "lease_seconds"),
		&lease->lease_seconds) ||
	    !lpc_obj_double(lp_map_get(r, "grace_seconds"),
		&lease->grace_seconds))
		return lpc_error_set(err, LP_ERR_PROTOCOL,
		    "leasepoold sent a malformed acquire result");
	lease->workers = (unsigned)workers;
	return LP_OK;
}

enum lp_err
lp_acquire(struct lp_client *c, const struct lp_acquire_opts *opts,
    struct lp_lease *lease, struct lp_error *err)
{
	static const struct lp_acquire_opts defaults;
	struct params ps = { 0 };
	struct lp_value *v;
	enum lp_err code;

	if (opts == NULL)
		opts = &defaults;
	lpc_params_str(&ps, "pool", opts->pool);
	lpc_params_str(&ps, "owner", opts->owner);
	lpc_params_seconds(&ps, "lease_seconds", opts->lease_seconds);
	if (opts->nowait)
		lpc_params_bool(&ps, "wait", false);
	lpc_params_seconds(&ps, "timeout", opts->timeout);
	if ((code = lpc_call_wait(c, "acquire", &ps, &v, err)) != LP_OK)
		return code;
	code = lease_read(lp_value_object(v), lease, err);
	lp_value_free(v);
	if (code == LP_OK)
		released_forget(c, lease->id);
	return code;
}

enum lp_err
lp_release(struct lp_client *c, uint64_t lease, struct lp_error *err)
{
	struct params ps = { 0 };
	enum lp_err code;

	if (c->dead || released_has(c, lease))
		return lpc_error_ok(err);
	lpc_params_u64(&ps, "lease", lease);
	code = lpc_call_wait(c, "release", &ps, NULL, err);
	if (code == LP_OK)
		released_add(c, lease);
	else if (c->dead)
		code = lpc_error_ok(err);
	return code;
}

enum lp_err
lp_renew(struct lp_client *c, uint64_t lease, double lease_seconds,
    double *granted, struct lp_error *err)
{
	struct params ps = { 0 };
	struct lp_value *v;
	enum lp_err code;
	double d;

	lpc_params_u64(&ps, "lease", lease);
	lpc_params_seconds(&ps, "lease_seconds", lease_seconds);
	if ((code = lpc_call_wait(c, "renew", &ps, &v, err)) != LP_OK)
		return code;
	if (!lpc_obj_double(lp_value_get(v, "lease_seconds"), &d))
		code = lpc_error_set(err, LP_ERR_PROTOCOL,
		    "leasepoold sent a malformed renew result");
	else if (granted != NULL)
		*granted = d;
	lp_value_free(v);
	return code;
}
