/* SPDX-License-Identifier: ISC */
/*
 * The path rule (proto/path_trust.h) on real files in a private directory:
 * what is at the path, then who could replace it; for a socket, and for a
 * file the daemon reads its configuration or code from.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/path_trust.h"
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

/* A regular file at p with exactly mode m, whatever the umask. */
static void
make_file(const char *p, mode_t m)
{
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(chmod(p, m), 0);
}

static void
assert_type_state(mode_t type, const struct lp_trusted_uids *t,
    enum lp_path_state want, const char *reason)
{
	enum lp_path_state got = lp_path_check(path, type, t, why, sizeof why);

	ck_assert_msg(got == want, "state %d, want %d: %s", got, want, why);
	if (reason != NULL)
		ck_assert_msg(strstr(why, reason) != NULL,
		    "'%s' does not say '%s'", why, reason);
}

static void
assert_state(const struct lp_trusted_uids *t, enum lp_path_state want,
    const char *reason)
{
	assert_type_state(S_IFSOCK, t, want, reason);
}

static void
assert_file_state(enum lp_path_state want, const char *reason)
{
	assert_type_state(S_IFREG, &me, want, reason);
}

/* Whether pw's primary group is named after pw and lists no one else. */
static bool
has_private_group(const struct passwd *pw)
{
	const struct group *gr = getgrgid(pw->pw_gid);

	if (gr == NULL || strcmp(gr->gr_name, pw->pw_name) != 0)
		return false;
	for (char **member = gr->gr_mem; *member != NULL; member++)
		if (strcmp(*member, pw->pw_name) != 0)
			return false;
	return true;
}

/* A group write bit on our own file or directory: harmless only in our private group. */
static enum lp_path_state
our_group_may_write(void)
{
	const struct passwd *pw = getpwuid(getuid());

	return getuid() != 0 && pw != NULL && has_private_group(pw) ?
	    LP_PATH_TRUSTED :
	    LP_PATH_UNTRUSTED;
}

START_TEST(own_socket_in_private_directory_is_trusted)
{
	assert_state(&me, LP_PATH_ABSENT, "s.sock");
	make_socket();
	assert_state(&me, LP_PATH_TRUSTED, NULL);
}
END_TEST

START_TEST(missing_directory_is_told_apart)
{
	snprintf(path, sizeof path, "%s/no/s.sock", dir);
	assert_state(&me, LP_PATH_NO_DIR, "/no");
	snprintf(path, sizeof path, "%s/s.sock", dir);
}
END_TEST

START_TEST(a_strangers_socket_is_not_trusted)
{
	/* Trusting only a uid that owns nothing here makes the socket a stranger's. */
	const struct lp_trusted_uids other = { .uid = { getuid() + 4242 },
		.n = 1 };

	make_socket();
	assert_state(&other, LP_PATH_UNTRUSTED, "belongs to uid");
}
END_TEST

START_TEST(a_file_or_link_is_not_a_socket)
{
	char target[80];

	make_file(path, 0600);
	assert_state(&me, LP_PATH_WRONG_TYPE, "is not a socket");
	snprintf(target, sizeof target, "%s/real.sock", dir);
	ck_assert_int_eq(rename(path, target), 0);
	ck_assert_int_eq(symlink(target, path), 0);
	assert_state(&me, LP_PATH_WRONG_TYPE, "is not a socket");
	unlink(target);
}
END_TEST

START_TEST(a_directory_others_may_write_needs_the_sticky_bit)
{
	make_socket();
	ck_assert_int_eq(chmod(dir, 0777), 0);
	assert_state(&me, LP_PATH_UNTRUSTED, "writable by others");
	ck_assert_int_eq(chmod(dir, 0770), 0);
	assert_state(&me, our_group_may_write(), NULL);
	ck_assert_int_eq(chmod(dir, 01777), 0);
	assert_state(&me, LP_PATH_TRUSTED, NULL);
}
END_TEST

START_TEST(every_directory_up_to_the_root_counts)
{
	char inner[80];

	snprintf(inner, sizeof inner, "%s/inner", dir);
	ck_assert_int_eq(mkdir(inner, 0700), 0);
	snprintf(path, sizeof path, "%s/s.sock", inner);
	make_socket();
	assert_state(&me, LP_PATH_TRUSTED, NULL);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	assert_state(&me, LP_PATH_UNTRUSTED, dir);
	unlink(path);
	rmdir(inner);
	snprintf(path, sizeof path, "%s/s.sock", dir);
}
END_TEST

/* A socket's write bit is who may connect: socket_mode's business, not the rule's. */
START_TEST(a_socket_others_may_connect_to_is_trusted)
{
	make_socket();
	ck_assert_int_eq(chmod(path, 0666), 0);
	assert_state(&me, LP_PATH_TRUSTED, NULL);
}
END_TEST

START_TEST(own_file_in_private_directory_is_trusted)
{
	assert_file_state(LP_PATH_ABSENT, "s.sock");
	make_file(path, 0644);
	assert_file_state(LP_PATH_TRUSTED, NULL);
	ck_assert_int_eq(chmod(path, 0400), 0);
	assert_file_state(LP_PATH_TRUSTED, NULL);
}
END_TEST

START_TEST(a_file_others_may_write_is_not_trusted)
{
	make_file(path, 0666);
	assert_file_state(LP_PATH_UNTRUSTED,
	    "is writable by others (mode 0666)");
	ck_assert_int_eq(chmod(path, 0620), 0);
	assert_file_state(our_group_may_write(), NULL);
	ck_assert_int_eq(chmod(path, 0602), 0);
	assert_file_state(LP_PATH_UNTRUSTED, path);
}
END_TEST

/* The sticky bit keeps others from replacing the file, not from rewriting it. */
START_TEST(a_sticky_directory_does_not_excuse_the_file)
{
	ck_assert_int_eq(chmod(dir, 01777), 0);
	make_file(path, 0644);
	assert_file_state(LP_PATH_TRUSTED, NULL);
	ck_assert_int_eq(chmod(path, 0666), 0);
	assert_file_state(LP_PATH_UNTRUSTED, "writable by others");
	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_int_eq(chmod(path, 0644), 0);
	assert_file_state(LP_PATH_UNTRUSTED, "has no sticky bit");
}
END_TEST

START_TEST(a_strangers_file_is_not_trusted)
{
	const struct lp_trusted_uids other = { .uid = { getuid() + 4242 },
		.n = 1 };

	make_file(path, 0644);
	assert_type_state(S_IFREG, &other, LP_PATH_UNTRUSTED, "belongs to uid");
}
END_TEST

START_TEST(a_socket_or_directory_is_not_a_file)
{
	make_socket();
	assert_file_state(LP_PATH_WRONG_TYPE, "is not a regular file");
	unlink(path);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	assert_file_state(LP_PATH_WRONG_TYPE, "is not a regular file");
	rmdir(path);
}
END_TEST

/* A link is followed to a file, which must pass where it is; the link must pass too. */
START_TEST(a_link_to_a_file_counts_at_both_ends)
{
	char inner[80], target[96];

	snprintf(inner, sizeof inner, "%s/inner", dir);
	snprintf(target, sizeof target, "%s/real.conf", inner);
	ck_assert_int_eq(mkdir(inner, 0700), 0);
	make_file(target, 0644);
	ck_assert_int_eq(symlink(target, path), 0);
	assert_file_state(LP_PATH_TRUSTED, NULL);
	ck_assert_int_eq(chmod(target, 0666), 0);
	assert_file_state(LP_PATH_UNTRUSTED, target);
	ck_assert_int_eq(chmod(target, 0644), 0);
	ck_assert_int_eq(chmod(inner, 0777), 0);
	assert_file_state(LP_PATH_UNTRUSTED, inner);
	ck_assert_int_eq(chmod(inner, 0700), 0);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	assert_file_state(LP_PATH_UNTRUSTED, "has no sticky bit");
	ck_assert_int_eq(chmod(dir, 0700), 0);
	unlink(target);
	assert_file_state(LP_PATH_ABSENT, NULL);
	rmdir(inner);
}
END_TEST

/*
 * umask 002 under user private groups makes files 0664: harmless when the
 * group is the owner's alone, never when it is root's or a shared one.
 * Root lends the file to a system user with a private group (Debian's
 * daemon, bin...); anyone else has only their own group.
 */
START_TEST(only_the_owners_private_group_may_write)
{
	struct lp_trusted_uids owner = { .uid = { getuid(), 0 }, .n = 2 };
	struct passwd *pw;

	make_file(path, 0664);
	assert_file_state(our_group_may_write(), NULL);
	if (getuid() != 0)
		return;
	setpwent();
	while ((pw = getpwent()) != NULL &&
	    (pw->pw_uid == 0 || !has_private_group(pw)))
		;
	ck_assert_msg(pw != NULL,
	    "no user but root has a private group to lend a file to");
	owner.uid[owner.n++] = pw->pw_uid;
	ck_assert_int_eq(chown(path, pw->pw_uid, pw->pw_gid), 0);
	ck_assert_int_eq(chmod(path, 0664), 0);
	assert_type_state(S_IFREG, &owner, LP_PATH_TRUSTED, NULL);
	/* The same owner, and a group that is not theirs. */
	ck_assert_int_eq(chown(path, pw->pw_uid, 0), 0);
	ck_assert_int_eq(chmod(path, 0664), 0);
	assert_type_state(S_IFREG, &owner, LP_PATH_UNTRUSTED, "(mode 0664)");
	endpwent();
}
END_TEST

Suite *
path_trust_suite(void)
{
	Suite *s = suite_create("path_trust");
	TCase *tc;

	tc = unit_case(s, "socket", setup, teardown);
	tcase_add_test(tc, own_socket_in_private_directory_is_trusted);
	tcase_add_test(tc, missing_directory_is_told_apart);
	tcase_add_test(tc, a_strangers_socket_is_not_trusted);
	tcase_add_test(tc, a_file_or_link_is_not_a_socket);
	tcase_add_test(tc, a_directory_others_may_write_needs_the_sticky_bit);
	tcase_add_test(tc, every_directory_up_to_the_root_counts);
	tcase_add_test(tc, a_socket_others_may_connect_to_is_trusted);

	tc = unit_case(s, "file", setup, teardown);
	tcase_add_test(tc, own_file_in_private_directory_is_trusted);
	tcase_add_test(tc, a_file_others_may_write_is_not_trusted);
	tcase_add_test(tc, a_sticky_directory_does_not_excuse_the_file);
	tcase_add_test(tc, a_strangers_file_is_not_trusted);
	tcase_add_test(tc, a_socket_or_directory_is_not_a_file);
	tcase_add_test(tc, a_link_to_a_file_counts_at_both_ends);
	tcase_add_test(tc, only_the_owners_private_group_may_write);
	return s;
}
