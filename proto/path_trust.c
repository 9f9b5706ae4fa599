/* SPDX-License-Identifier: ISC */
/*
 * The path rule of path_trust.h.  The directories are checked as realpath()
 * resolves them, so a link cannot lead the check somewhere the connect or
 * open would not go; what is at the path is looked at with lstat(), so a
 * link in a socket's place is refused rather than followed, and a link to
 * a file is judged both where it is and where it leads.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/path_trust.h"

static bool
is_trusted(const struct lp_trusted_uids *t, uid_t uid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->uid[i] == uid)
			return true;
	return false;
}

static enum lp_path_state
failed(const char *path, enum lp_path_state if_missing, char *why, size_t len)
{
	int e = errno;

	snprintf(why, len, "%s: %s", path, strerror(e));
	return e == ENOENT ? if_missing : LP_PATH_UNTRUSTED;
}

/*
 * A member by primary group is listed in no gr_mem: gid is owner's alone
 * only when no other account has it as its primary group.
 */
static bool
sole_primary(uid_t owner, gid_t gid)
{
	struct passwd pw, *pwp;
	char buf[4096];
	bool sole = true;

	setpwent();
	while (
	    sole && getpwent_r(&pw, buf, sizeof buf, &pwp) == 0 && pwp != NULL)
		sole = pw.pw_gid != gid || pw.pw_uid == owner;
	endpwent();
	return sole;
}

/*
 * Whether gid is owner's private group: named after a user other than
 * root, that user's primary group, listing no one else, and no one else's
 * primary group.  Where users get
 * such groups (Debian's and Fedora's USERGROUPS_ENAB), pam_umask gives
 * them umask 002, and Debian's sshd lets StrictModes pass such a group's
 * write bit: no one but the owner is in it.
 */
static bool
private_group(uid_t owner, gid_t gid)
{
	char pwbuf[4096], grbuf[4096];
	struct passwd pw, *pwp;
	struct group gr, *grp;

	if (owner == 0 ||
	    getpwuid_r(owner, &pw, pwbuf, sizeof pwbuf, &pwp) != 0 ||
	    pwp == NULL || pw.pw_gid != gid ||
	    getgrgid_r(gid, &gr, grbuf, sizeof grbuf, &grp) != 0 ||
	    grp == NULL || strcmp(gr.gr_name, pw.pw_name) != 0)
		return false;
	for (char **member = gr.gr_mem; *member != NULL; member++)
		if (strcmp(*member, pw.pw_name) != 0)
			return false;
	return sole_primary(owner, gid);
}

static bool
writable_by_others(const struct stat *st)
{
	if ((st->st_mode & S_IWOTH) != 0)
		return true;
	return (st->st_mode & S_IWGRP) != 0 &&
	    !private_group(st->st_uid, st->st_gid);
}

/* what: "directory " or "", for the message. */
static enum lp_path_state
check_owner(const char *what, const char *path, uid_t uid,
    const struct lp_trusted_uids *t, char *why, size_t len)
{
	if (is_trusted(t, uid))
		return LP_PATH_TRUSTED;
	snprintf(why, len,
	    "%s%s belongs to uid %u, whom this process does not trust", what,
	    path, (unsigned)uid);
	return LP_PATH_UNTRUSTED;
}

static enum lp_path_state
check_dir(const char *dir, const struct lp_trusted_uids *t, char *why,
    size_t len)
{
	struct stat st;

	if (stat(dir, &st) == -1)
		return failed(dir, LP_PATH_NO_DIR, why, len);
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s is not a directory", dir);
		return LP_PATH_UNTRUSTED;
	}
	if (check_owner("directory ", dir, st.st_uid, t, why, len) !=
	    LP_PATH_TRUSTED)
		return LP_PATH_UNTRUSTED;
	if (writable_by_others(&st) && (st.st_mode & S_ISVTX) == 0) {
		snprintf(why, len,
		    "directory %s is writable by others (mode %04o) "
		    "and has no sticky bit",
		    dir, (unsigned)(st.st_mode & 07777));
		return LP_PATH_UNTRUSTED;
	}
	return LP_PATH_TRUSTED;
}

/* Every directory from path's parent up to /: who could replace what is at path. */
static enum lp_path_state
check_dirs(const char *path, const struct lp_trusted_uids *t, char *why,
    size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	enum lp_path_state state;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s",
		    slash == path ? 1 : (int)(slash - path), path);
	if (realpath(dir, real) == NULL)
		return failed(dir, LP_PATH_NO_DIR, why, len);
	for (;;) {
		char *last;

		if ((state = check_dir(real, t, why, len)) != LP_PATH_TRUSTED)
			return state;
		if (strcmp(real, "/") == 0)
			return LP_PATH_TRUSTED;
		last = strrchr(real, '/');
		last[last == real] = '\0';
	}
}

static enum lp_path_state
check_entry(const char *path, const struct stat *st, mode_t type,
    const struct lp_trusted_uids *t, char *why, size_t len)
{
	if ((st->st_mode & S_IFMT) != type) {
		snprintf(why, len, "%s is not a %s", path,
		    type == S_IFSOCK ? "socket" : "regular file");
		return LP_PATH_WRONG_TYPE;
	}
	if (check_owner("", path, st->st_uid, t, why, len) != LP_PATH_TRUSTED)
		return LP_PATH_UNTRUSTED;
	/* Writing a socket is connecting to it: socket_mode says who may. */
	if (type != S_IFSOCK && writable_by_others(st)) {
		snprintf(why, len, "%s is writable by others (mode %04o)", path,
		    (unsigned)(st->st_mode & 07777));
		return LP_PATH_UNTRUSTED;
	}
	return LP_PATH_TRUSTED;
}

/* A link to a file: whoever may change the link chooses the file, so both count. */
static enum lp_path_state
follow_link(const char *path, const struct stat *st, mode_t type,
    const struct lp_trusted_uids *t, char *why, size_t len)
{
	char real[PATH_MAX];
	enum lp_path_state state;

	if ((state = check_owner("", path, st->st_uid, t, why, len)) !=
		LP_PATH_TRUSTED ||
	    (state = check_dirs(path, t, why, len)) != LP_PATH_TRUSTED)
		return state;
	if (realpath(path, real) == NULL)
		return failed(path, LP_PATH_ABSENT, why, len);
	/* real holds no link: this goes one level deep. */
	return lp_path_check(real, type, t, why, len);
}

enum lp_path_state
lp_path_check(const char *path, mode_t type, const struct lp_trusted_uids *t,
    char *why, size_t len)
{
	enum lp_path_state found = LP_PATH_TRUSTED, dirs;
	struct stat st;

	if (lstat(path, &st) == -1) {
		if ((found = failed(path, LP_PATH_ABSENT, why, len)) !=
		    LP_PATH_ABSENT)
			return found;
	} else if (S_ISLNK(st.st_mode) && type == S_IFREG) {
		return follow_link(path, &st, type, t, why, len);
	} else if ((found = check_entry(path, &st, type, t, why, len)) !=
	    LP_PATH_TRUSTED) {
		return found;
	}
	if ((dirs = check_dirs(path, t, why, len)) != LP_PATH_TRUSTED)
		return dirs;
	if (found == LP_PATH_ABSENT)
		snprintf(why, len, "%s: %s", path, strerror(ENOENT));
	return found;
}
