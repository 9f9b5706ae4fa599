/* SPDX-License-Identifier: ISC */
/*
 * The method wrappers that hand back the daemon's value: each one lists
 * its parameters and makes the same call, blocking or asynchronous.
 */
#include "client/lib/client.h"

enum lp_err
lp_hello(struct lp_client *c, const char *client_name, struct lp_value **out,
    struct lp_error *err)
{
	struct params ps = { 0 };

	lpc_params_str(&ps, "client", client_name);
	return lpc_call_wait(c, "hello", &ps, out, err);
}

enum lp_err
lp_stats(struct lp_client *c, const char *pool, struct lp_value **out,
    struct lp_error *err)
{
	struct params ps = { 0 };

	lpc_params_str(&ps, "pool", pool);
	return lpc_call_wait(c, "stats", &ps, out, err);
}

static void
run_params(struct params *ps, uint64_t lease, const char *fn,
    const struct lp_args *args, double timeout)
{
	lpc_params_u64(ps, "lease", lease);
	lpc_params_str(ps, "fn", fn);
	lpc_params_args(ps, args);
	lpc_params_seconds(ps, "timeout", timeout);
}

enum lp_err
lp_run(struct lp_client *c, uint64_t lease, const char *fn,
    const struct lp_args *args, struct lp_value **result, struct lp_error *err)
{
	return lp_run_timeout(c, lease, fn, args, 0, result, err);
}

enum lp_err
lp_run_timeout(struct lp_client *c, uint64_t lease, const char *fn,
    const struct lp_args *args, double timeout, struct lp_value **result,
    struct lp_error *err)
{
	struct params ps = { 0 };

	run_params(&ps, lease, fn, args, timeout);
	return lpc_call_wait(c, "run", &ps, result, err);
}

enum lp_err
lp_run_async(struct lp_client *c, uint64_t lease, const char *fn,
    const struct lp_args *args, lp_done_cb *done, void *arg,
    struct lp_error *err)
{
	return lp_run_start(c, lease, fn, args, 0, done, arg, NULL, err);
}

enum lp_err
lp_run_start(struct lp_client *c, uint64_t lease, const char *fn,
    const struct lp_args *args, double timeout, lp_done_cb *done, void *arg,
    uint64_t *call, struct lp_error *err)
{
	struct params ps = { 0 };

	run_params(&ps, lease, fn, args, timeout);
	return lpc_call_queue(c, "run", &ps, done, arg, call, err);
}

static void
submit_params(struct params *ps, const char *pool, const char *fn,
    const struct lp_args *args)
{
	lpc_params_str(ps, "fn", fn);
	lpc_params_args(ps, args);
	lpc_params_str(ps, "pool", pool);
}

enum lp_err
lp_submit(struct lp_client *c, const char *pool, const char *fn,
    const struct lp_args *args, struct lp_value **result, struct lp_error *err)
{
	struct params ps = { 0 };

	submit_params(&ps, pool, fn, args);
	return lpc_call_wait(c, "submit", &ps, result, err);
}

enum lp_err
lp_submit_async(struct lp_client *c, const char *pool, const char *fn,
    const struct lp_args *args, lp_done_cb *done, void *arg,
    struct lp_error *err)
{
	return lp_submit_start(c, pool, fn, args, done, arg, NULL, err);
}

enum lp_err
lp_submit_start(struct lp_client *c, const char *pool, const char *fn,
    const struct lp_args *args, lp_done_cb *done, void *arg, uint64_t *call,
    struct lp_error *err)
{
	struct params ps = { 0 };

	submit_params(&ps, pool, fn, args);
	return lpc_call_queue(c, "submit", &ps, done, arg, call, err);
}
