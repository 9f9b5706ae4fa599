/* SPDX-License-Identifier: ISC */
#include <stdbool.h>
#include <unistd.h>

#include "daemon/core/trust.h"

static uid_t user;
static bool has_user;

struct lp_trusted_uids
trust_daemon_uids(void)
{
	struct lp_trusted_uids t = { .uid = { geteuid(), 0 }, .n = 2 };

	if (has_user && user != t.uid[0])
		t.uid[t.n++] = user;
	return t;
}

void
trust_daemon_user(uid_t uid)
{
	user = uid;
	has_user = true;
}

int
trust_file(const char *path, char *why, size_t len)
{
	const struct lp_trusted_uids self = trust_daemon_uids();

	switch (lp_path_check(path, S_IFREG, &self, why, len)) {
	case LP_PATH_TRUSTED:
	case LP_PATH_ABSENT:
	case LP_PATH_NO_DIR:
		return 0;
	case LP_PATH_WRONG_TYPE:
	case LP_PATH_UNTRUSTED:
		break;
	}
	return -1;
}
