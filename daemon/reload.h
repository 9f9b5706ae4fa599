/* Reloading the configuration on SIGHUP. */
#ifndef LP_DAEMON_RELOAD_H
#define LP_DAEMON_RELOAD_H

void reload_config(void);

#endif
