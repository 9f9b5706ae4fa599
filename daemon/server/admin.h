/* SPDX-License-Identifier: ISC */
/*
 * The administrator's methods (reload, drain, resume, config): root and the
 * daemon's own user may call them; anyone else gets PERMISSION_DENIED.
 */
#ifndef LP_DAEMON_ADMIN_H
#define LP_DAEMON_ADMIN_H

#include "proto/params.h"

struct conn;

void admin_reload(struct conn *c, const struct lp_request *req);
void admin_drain(struct conn *c, const struct lp_request *req);
void admin_resume(struct conn *c, const struct lp_request *req);
void admin_config(struct conn *c, const struct lp_request *req);

#endif
