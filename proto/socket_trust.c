/*
 * The socket path rule of socket_trust.h.  The directories are checked as
 * realpath() resolves them, so a link cannot lead the check somewhere the
 * connect would not go; the socket itself is looked at with lstat(), so a
 * link in its place is refused rather than followed.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/socket_trust.h"

static bool
is_trusted(const struct lp_trusted_uids *t, uid_t uid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->uid[i] == uid)
			return true;
	return false;
}

static enum lp_socket_state
failed(const char *path, enum lp_socket_state if_missing, char *why, size_t len)
{
	int e = errno;

	snprintf(why, len, "%s: %s", path, strerror(e));
	return e == ENOENT ? if_missing : LP_SOCKET_UNTRUSTED;
}

static enum lp_socket_state
check_dir(const char *dir, const struct lp_trusted_uids *t, char *why, size_t len)
{
	struct stat st;

	if (stat(dir, &st) == -1)
		return failed(dir, LP_SOCKET_NO_DIR, why, len);
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s is not a directory", dir);
		return LP_SOCKET_UNTRUSTED;
	}
	if (!is_trusted(t, st.st_uid)) {
		snprintf(why, len, "directory %s belongs to uid %u, whom this process does not trust",
		    dir, (unsigned)st.st_uid);
		return LP_SOCKET_UNTRUSTED;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
		snprintf(why, len, "directory %s is writable by others (mode %04o) "
		    "and has no sticky bit", dir, (unsigned)(st.st_mode & 07777));
		return LP_SOCKET_UNTRUSTED;
	}
	return LP_SOCKET_TRUSTED;
}

/* Every directory from path's parent up to /: who could replace what is at path. */
static enum lp_socket_state
check_dirs(const char *path, const struct lp_trusted_uids *t, char *why, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	enum lp_socket_state state;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (realpath(dir, real) == NULL)
		return failed(dir, LP_SOCKET_NO_DIR, why, len);
	for (;;) {
		char *last;

		if ((state = check_dir(real, t, why, len)) != LP_SOCKET_TRUSTED)
			return state;
		if (strcmp(real, "/") == 0)
			return LP_SOCKET_TRUSTED;
		last = strrchr(real, '/');
		last[last == real] = '\0';
	}
}

enum lp_socket_state
lp_socket_check(const char *path, const struct lp_trusted_uids *t, char *why, size_t len)
{
	enum lp_socket_state found = LP_SOCKET_TRUSTED, dirs;
	struct stat st;

	if (lstat(path, &st) == -1) {
		if ((found = failed(path, LP_SOCKET_ABSENT, why, len)) != LP_SOCKET_ABSENT)
			return found;
	} else if (!S_ISSOCK(st.st_mode)) {
		snprintf(why, len, "%s is not a socket", path);
		return LP_SOCKET_NOT_SOCKET;
	} else if (!is_trusted(t, st.st_uid)) {
		snprintf(why, len, "%s belongs to uid %u, whom this process does not trust",
		    path, (unsigned)st.st_uid);
		return LP_SOCKET_UNTRUSTED;
	}
	if ((dirs = check_dirs(path, t, why, len)) != LP_SOCKET_TRUSTED)
		return dirs;
	if (found == LP_SOCKET_ABSENT)
		snprintf(why, len, "%s: %s", path, strerror(ENOENT));
	return found;
}
