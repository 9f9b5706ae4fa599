/* SPDX-License-Identifier: ISC */
/*
 * bytes: an example job module over byte strings.
 *
 *	bytes.fnv1a64 [data]	the 64-bit FNV-1a hash of data (a bin or a string)
 *	bytes.reverse [data]	data's bytes in reverse order, as a bin
 *
 * Neither keeps state, so both are marked thread-safe.
 */
#include <stdbool.h>
#include <stdint.h>

#include <leasepool/job.h>

#define FNV64_OFFSET_BASIS 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x100000001b3ULL

/* The one bin or string argument of fn; false, having failed the job, without one. */
static bool
bytes_arg(struct lp_job *job, const char *fn, const msgpack_object *args,
    const msgpack_object *kwargs, const char **ptr, size_t *len)
{
	const msgpack_object *o;

	if (kwargs->via.map.size != 0) {
		lp_job_fail(job, "%s takes no keyword arguments", fn);
		return false;
	}
	if (args->via.array.size != 1) {
		lp_job_fail(job,
		    "%s takes one argument (a bin or a string), got %u", fn,
		    args->via.array.size);
		return false;
	}
	o = &args->via.array.ptr[0];
	switch (o->type) {
	case MSGPACK_OBJECT_BIN:
		*ptr = o->via.bin.ptr;
		*len = o->via.bin.size;
		return true;
	case MSGPACK_OBJECT_STR:
		*ptr = o->via.str.ptr;
		*len = o->via.str.size;
		return true;
	default:
		lp_job_fail(job, "%s takes a bin or a string, got %s", fn,
		    lp_job_type_name(o->type));
		return false;
	}
}

static int
job_fnv1a64(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	uint64_t hash = FNV64_OFFSET_BASIS;
	const char *p;
	size_t len;

	if (!bytes_arg(job, "bytes.fnv1a64", args, kwargs, &p, &len))
		return -1;
	for (size_t i = 0; i < len; i++) {
		hash ^= (unsigned char)p[i];
		hash *= FNV64_PRIME;
	}
	msgpack_pack_uint64(lp_job_result(job), hash);
	return 0;
}

static int
job_reverse(struct lp_job *job, const msgpack_object *args,
    const msgpack_object *kwargs)
{
	msgpack_packer *pk = lp_job_result(job);
	char chunk[4096];
	const char *p;
	size_t len;

	if (!bytes_arg(job, "bytes.reverse", args, kwargs, &p, &len))
		return -1;
	/* In chunks through a small buffer: no allocation, whatever the size. */
	msgpack_pack_bin(pk, len);
	while (len > 0) {
		size_t n = len < sizeof chunk ? len : sizeof chunk;

		for (size_t i = 0; i < n; i++)
			chunk[i] = p[len - 1 - i];
		msgpack_pack_bin_body(pk, chunk, n);
		len -= n;
	}
	return 0;
}

static const struct lp_job_function functions[] = {
	{ "fnv1a64", job_fnv1a64, LP_JOB_THREAD_SAFE },
	{ "reverse", job_reverse, LP_JOB_THREAD_SAFE },
	{ NULL, NULL, 0 },
};

const struct lp_job_module leasepool_job_module = {
	.abi_version = LP_JOB_ABI_VERSION,
	.name = "bytes",
	.functions = functions,
};
