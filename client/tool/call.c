/* SPDX-License-Identifier: ISC */
/* A method the library does not wrap, called by name with an optional pool: the answer as JSON. */
#include "client/tool/tool.h"
#include "proto/rpc.h"

int
tool_call(struct tool *t, const char *method, const char *pool, json_t **result)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct lp_value *v;
	struct lp_error err;
	enum lp_err code;
	int rc;

	if ((rc = tool_connect(t)) != TOOL_OK)
		return rc;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, pool != NULL);
	if (pool != NULL)
		lp_pack_kv_str(&pk, "pool", pool);
	code = lp_call(t->client, method, sb.data, sb.size, &v, &err);
	msgpack_sbuffer_destroy(&sb);
	if (code != LP_OK)
		return report(&err);
	*result = json_from_msgpack(lp_value_object(v));
	lp_value_free(v);
	return *result != NULL ? TOOL_OK : report_oom();
}
