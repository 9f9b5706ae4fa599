/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/core/log.h"
#include "daemon/jobs/privs.h"

static bool exec_any_user;

static bool
effective(const struct __user_cap_data_struct *d, int cap)
{
	return (d[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap)) != 0;
}

bool
privs_can_switch(void)
{
	struct __user_cap_header_struct h = { .version =
						  _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) == -1)
		return false;
	return effective(d, CAP_SETUID) && effective(d, CAP_SETGID) &&
	    effective(d, CAP_KILL);
}

void
privs_drop(void)
{
	struct __user_cap_header_struct h = { .version =
						  _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = { 0 };

	exec_any_user = privs_can_switch();
	if (getuid() == 0 || geteuid() == 0) {
		/* Needs CAP_SETPCAP, which is dropped last. */
		prctl(PR_SET_SECUREBITS,
		    SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
			SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
			SECBIT_KEEP_CAPS_LOCKED);
		for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
			prctl(PR_CAPBSET_DROP, cap);
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* Dropping is always allowed: a failure means the rights stay, so stop. */
	if (syscall(SYS_capset, &h, none) == -1)
		fatalx("cannot drop capabilities: %s", strerror(errno));
}

bool
privs_exec_any_user(void)
{
	return exec_any_user;
}
