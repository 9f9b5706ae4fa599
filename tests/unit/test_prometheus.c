/* SPDX-License-Identifier: ISC */
/*
 * The metrics' latency histograms: where the daemon counts a sample, and
 * how the Prometheus text renders the histogram the stats map carries
 * (cumulative _bucket lines by le, +Inf, _sum, _count), with
 * process_start_time_seconds; a histogram the map lacks or garbles is
 * left out, never half written.
 */
#include <stdio.h>
#include <string.h>

#include <check.h>
#include <msgpack.h>

#include "daemon/core/histogram.h"
#include "proto/prometheus.h"
#include "proto/rpc.h"
#include "tests/suites.h"

START_TEST(a_sample_on_a_bound_counts_in_its_bucket)
{
	struct histogram h = { 0 };

	histogram_add(&h, 0);
	histogram_add(&h, histogram_bounds[0]);
	histogram_add(&h, histogram_bounds[3]);
	histogram_add(&h, histogram_bounds[3] * 1.5);
	histogram_add(&h, histogram_bounds[HISTOGRAM_BOUNDS - 1] * 2);
	ck_assert_uint_eq(h.counts[0], 2);
	ck_assert_uint_eq(h.counts[3], 1);
	ck_assert_uint_eq(h.counts[4], 1);
	ck_assert_uint_eq(h.counts[HISTOGRAM_BOUNDS], 1);
	ck_assert_uint_eq(histogram_cumulative(&h, 0), 2);
	ck_assert_uint_eq(histogram_cumulative(&h, 3), 3);
	ck_assert_uint_eq(histogram_cumulative(&h, HISTOGRAM_BOUNDS - 1), 4);
	ck_assert_uint_eq(histogram_count(&h), 5);
}
END_TEST

START_TEST(bounds_rise_from_microseconds_to_minutes)
{
	ck_assert(histogram_bounds[0] <= 0.0001);
	ck_assert(histogram_bounds[HISTOGRAM_BOUNDS - 1] >= 60);
	for (unsigned i = 1; i < HISTOGRAM_BOUNDS; i++)
		ck_assert(histogram_bounds[i - 1] < histogram_bounds[i]);
}
END_TEST

/* ---- rendering ---- */

static char text[65536];
static size_t text_len;

static int
to_text(void *arg, const char *s, size_t len)
{
	ck_assert_uint_lt(text_len + len, sizeof text);
	memcpy(text + text_len, s, len);
	text_len += len;
	text[text_len] = '\0';
	return 0;
}

static void
pack_buckets(msgpack_packer *pk, const double *bounds, const unsigned *counts,
    unsigned n)
{
	lp_pack_cstr(pk, "buckets");
	msgpack_pack_array(pk, n);
	for (unsigned i = 0; i < n; i++) {
		msgpack_pack_array(pk, 2);
		msgpack_pack_double(pk, bounds[i]);
		msgpack_pack_uint64(pk, counts[i]);
	}
}

/*
 * A stats map with one pool, cpu, whose run_duration_seconds is 3 runs in
 * three buckets and whose acquire_wait_seconds is what pack_wait packs
 * (NULL: none), rendered into text.
 */
static void
render(void (*pack_wait)(msgpack_packer *pk))
{
	static const double bounds[] = { 0.00001, 0.001, 1 };
	static const unsigned counts[] = { 0, 2, 3 };
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_unpacked u;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	lp_pack_kv_str(&pk, "version", "0.0.0");
	lp_pack_kv_double(&pk, "started", 1796611065.25);
	lp_pack_cstr(&pk, "pools");
	msgpack_pack_map(&pk, 1);
	lp_pack_cstr(&pk, "cpu");
	msgpack_pack_map(&pk, pack_wait != NULL ? 2 : 1);
	lp_pack_cstr(&pk, "run_duration_seconds");
	msgpack_pack_map(&pk, 3);
	lp_pack_kv_u64(&pk, "count", 3);
	lp_pack_kv_double(&pk, "sum", 0.5);
	pack_buckets(&pk, bounds, counts, 3);
	if (pack_wait != NULL) {
		lp_pack_cstr(&pk, "acquire_wait_seconds");
		pack_wait(&pk);
	}
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u, sb.data, sb.size, NULL),
	    MSGPACK_UNPACK_SUCCESS);
	text_len = 0;
	text[0] = '\0';
	ck_assert_int_eq(lp_prometheus_write(&u.data, to_text, NULL), 0);
	msgpack_unpacked_destroy(&u);
	msgpack_sbuffer_destroy(&sb);
}

static void
assert_text_has(const char *part)
{
	ck_assert_msg(strstr(text, part) != NULL, "no\n%s\nin\n%s", part, text);
}

START_TEST(histogram_renders_cumulative_buckets_sum_and_count)
{
	render(NULL);
	assert_text_has(
	    "# TYPE leasepool_run_duration_seconds histogram\n"
	    "leasepool_run_duration_seconds_bucket{pool=\"cpu\",le=\"1e-05\"} 0\n"
	    "leasepool_run_duration_seconds_bucket{pool=\"cpu\",le=\"0.001\"} 2\n"
	    "leasepool_run_duration_seconds_bucket{pool=\"cpu\",le=\"1\"} 3\n"
	    "leasepool_run_duration_seconds_bucket{pool=\"cpu\",le=\"+Inf\"} 3\n"
	    "leasepool_run_duration_seconds_sum{pool=\"cpu\"} 0.5\n"
	    "leasepool_run_duration_seconds_count{pool=\"cpu\"} 3\n");
}
END_TEST

START_TEST(start_time_is_a_gauge_in_unix_seconds)
{
	render(NULL);
	assert_text_has(
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds 1796611065.25\n");
}
END_TEST

START_TEST(histogram_missing_from_the_map_is_left_out)
{
	render(NULL);
	assert_text_has("# TYPE leasepool_acquire_wait_seconds histogram\n");
	ck_assert_ptr_null(strstr(text, "leasepool_acquire_wait_seconds_"));
}
END_TEST

static void
pack_bucket_of_strings(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 3);
	lp_pack_kv_u64(pk, "count", 1);
	lp_pack_kv_double(pk, "sum", 0.5);
	lp_pack_cstr(pk, "buckets");
	msgpack_pack_array(pk, 2);
	msgpack_pack_array(pk, 2);
	msgpack_pack_double(pk, 0.1);
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_array(pk, 2);
	lp_pack_cstr(pk, "1");
	lp_pack_cstr(pk, "1");
}

static void
pack_without_count(msgpack_packer *pk)
{
	static const double bounds[] = { 0.1 };
	static const unsigned counts[] = { 1 };

	msgpack_pack_map(pk, 2);
	lp_pack_kv_double(pk, "sum", 0.5);
	pack_buckets(pk, bounds, counts, 1);
}

static void
pack_count_of_text(msgpack_packer *pk)
{
	static const double bounds[] = { 0.1 };
	static const unsigned counts[] = { 1 };

	msgpack_pack_map(pk, 3);
	lp_pack_kv_str(pk, "count", "1");
	lp_pack_kv_double(pk, "sum", 0.5);
	pack_buckets(pk, bounds, counts, 1);
}

START_TEST(garbled_histogram_is_left_out_whole)
{
	render(pack_bucket_of_strings);
	ck_assert_ptr_null(strstr(text, "leasepool_acquire_wait_seconds_"));
	assert_text_has(
	    "leasepool_run_duration_seconds_count{pool=\"cpu\"} 3\n");
	render(pack_without_count);
	ck_assert_ptr_null(strstr(text, "leasepool_acquire_wait_seconds_"));
	render(pack_count_of_text);
	ck_assert_ptr_null(strstr(text, "leasepool_acquire_wait_seconds_"));
}
END_TEST

Suite *
prometheus_suite(void)
{
	Suite *s = suite_create("prometheus");
	TCase *tc;

	tc = unit_case(s, "histogram", NULL, NULL);
	tcase_add_test(tc, a_sample_on_a_bound_counts_in_its_bucket);
	tcase_add_test(tc, bounds_rise_from_microseconds_to_minutes);

	tc = unit_case(s, "text", NULL, NULL);
	tcase_add_test(tc, histogram_renders_cumulative_buckets_sum_and_count);
	tcase_add_test(tc, start_time_is_a_gauge_in_unix_seconds);
	tcase_add_test(tc, histogram_missing_from_the_map_is_left_out);
	tcase_add_test(tc, garbled_histogram_is_left_out_whole);
	return s;
}
