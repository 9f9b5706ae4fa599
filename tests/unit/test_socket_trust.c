/*
 * The socket path rule (proto/socket_trust.h) on real files in a private
 * directory: what is at the path, then who could replace it.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/socket_trust.h"
#include "tests/suites.h"

static char dir[] = "/tmp/lp-trust.XXXXXX";
static char path[128];
static struct lp_trusted_uids me;
static char why[512];

static void
setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/lp-trust.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.sock", dir);
	me = (struct lp_trusted_uids){ .uid = { getuid(), 0 }, .n = 2 };
}

static void
teardown(void)
{
	chmod(dir, 0700);
	unlink(path);
	rmdir(dir);
}

static void
make_socket(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_uint_lt(strlen(path), sizeof sun.sun_path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
}

static void
assert_state(const struct lp_trusted_uids *t, enum lp_socket_state want, const char *reason)
{
	enum lp_socket_state got = lp_socket_check(path, t, why, sizeof why);

	ck_assert_msg(got == want, "state %d, want %d: %s", got, want, why);
	if (reason != NULL)
		ck_assert_msg(strstr(why, reason) != NULL, "'%s' does not say '%s'", why, reason);
}

START_TEST(own_socket_in_private_directory_is_trusted)
{
	assert_state(&me, LP_SOCKET_ABSENT, "s.sock");
	make_socket();
	assert_state(&me, LP_SOCKET_TRUSTED, NULL);
}
END_TEST

START_TEST(missing_directory_is_told_apart)
{
	snprintf(path, sizeof path, "%s/no/s.sock", dir);
	assert_state(&me, LP_SOCKET_NO_DIR, "/no");
	snprintf(path, sizeof path, "%s/s.sock", dir);
}
END_TEST

START_TEST(a_strangers_socket_is_not_trusted)
{
	/* Trusting only a uid that owns nothing here makes the socket a stranger's. */
	const struct lp_trusted_uids other = { .uid = { getuid() + 4242 }, .n = 1 };

	make_socket();
	assert_state(&other, LP_SOCKET_UNTRUSTED, "belongs to uid");
}
END_TEST

START_TEST(a_file_or_link_is_not_a_socket)
{
	char target[80];
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fclose(f);
	assert_state(&me, LP_SOCKET_NOT_SOCKET, "is not a socket");
	snprintf(target, sizeof target, "%s/real.sock", dir);
	ck_assert_int_eq(rename(path, target), 0);
	ck_assert_int_eq(symlink(target, path), 0);
	assert_state(&me, LP_SOCKET_NOT_SOCKET, "is not a socket");
	unlink(target);
}
END_TEST

START_TEST(a_directory_others_may_write_needs_the_sticky_bit)
{
	make_socket();
	ck_assert_int_eq(chmod(dir, 0777), 0);
	assert_state(&me, LP_SOCKET_UNTRUSTED, "writable by others");
	ck_assert_int_eq(chmod(dir, 0770), 0);
	assert_state(&me, LP_SOCKET_UNTRUSTED, "writable by others");
	ck_assert_int_eq(chmod(dir, 01777), 0);
	assert_state(&me, LP_SOCKET_TRUSTED, NULL);
}
END_TEST

START_TEST(every_directory_up_to_the_root_counts)
{
	char inner[80];

	snprintf(inner, sizeof inner, "%s/inner", dir);
	ck_assert_int_eq(mkdir(inner, 0700), 0);
	snprintf(path, sizeof path, "%s/s.sock", inner);
	make_socket();
	assert_state(&me, LP_SOCKET_TRUSTED, NULL);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	assert_state(&me, LP_SOCKET_UNTRUSTED, dir);
	unlink(path);
	rmdir(inner);
	snprintf(path, sizeof path, "%s/s.sock", dir);
}
END_TEST

Suite *
socket_trust_suite(void)
{
	Suite *s = suite_create("socket_trust");
	TCase *tc = tcase_create("rule");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, own_socket_in_private_directory_is_trusted);
	tcase_add_test(tc, missing_directory_is_told_apart);
	tcase_add_test(tc, a_strangers_socket_is_not_trusted);
	tcase_add_test(tc, a_file_or_link_is_not_a_socket);
	tcase_add_test(tc, a_directory_others_may_write_needs_the_sticky_bit);
	tcase_add_test(tc, every_directory_up_to_the_root_counts);
	suite_add_tcase(s, tc);
	return s;
}
