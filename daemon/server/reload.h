/* SPDX-License-Identifier: ISC */
/* Reloading the configuration: on SIGHUP, and for the reload method. */
#ifndef LP_DAEMON_RELOAD_H
#define LP_DAEMON_RELOAD_H

struct reload_result {
	unsigned changed; /* keys that took effect */
	unsigned restart; /* keys that wait for a restart (named in the log) */
	char error[1024]; /* why the file was refused */
};

/* 0, also when there is no file to read again; -1 when the file was refused (r->error). */
int reload_config(struct reload_result *r);

#endif
