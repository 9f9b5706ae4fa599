/* SPDX-License-Identifier: ISC */
/*
 * Job modules: dlopen each path of [daemon] modules, find its table, check
 * everything the daemon relies on, and register its functions.  Every
 * message names the module's path: an operator reads it at start-up or
 * from `leasepoold -t`, and must know which file to fix.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/core/config.h"
#include "daemon/core/trust.h"
#include "daemon/jobs/jobs.h"
#include "daemon/jobs/modules.h"
#include "leasepool/job.h"

/* Module names follow the pool names' rules, less the '.' that separates MODULE.FUNCTION. */
#define MODULE_NAME_MAX LP_POOL_NAME_MAX
#define KNOWN_FLAGS LP_JOB_THREAD_SAFE

struct module {
	char *path;
	void *handle;
	const struct lp_job_module *table;
};

static struct {
	struct module *v;
	size_t n;
} loaded;

/* The module being checked, and where its problem goes. */
struct check {
	const char *path;
	char *err;
	size_t errlen;
};

static __attribute__((format(printf, 2, 3))) int
refuse(const struct check *c, const char *fmt, ...)
{
	char why[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "job module %s: %s", c->path, why);
	return -1;
}

/* 1 to max letters, digits, '_' and '-'. */
static bool
valid_name(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n == 0 || n > max)
		return false;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* dlerror() usually starts with the path, which our message already gives. */
static const char *
dl_reason(const char *path)
{
	const char *e = dlerror();
	size_t len = strlen(path);

	if (e == NULL)
		return "unknown dlopen error";
	if (strncmp(e, path, len) == 0 && strncmp(e + len, ": ", 2) == 0)
		e += len + 2;
	return e;
}

static int
check_functions(const struct check *c, const struct lp_job_module *m)
{
	const struct lp_job_function *fns = m->functions;
	size_t name_max = LP_NAME_MAX - strlen(m->name) - 1;

	if (fns == NULL || fns[0].name == NULL)
		return refuse(c, "module %s lists no functions", m->name);
	for (size_t i = 0; fns[i].name != NULL; i++) {
		const struct lp_job_function *f = &fns[i];

		if (!valid_name(f->name, name_max))
			return refuse(c,
			    "function name '%.80s' is not valid: 1 to %zu letters, "
			    "digits, '_' or '-'",
			    f->name, name_max);
		if (f->fn == NULL)
			return refuse(c,
			    "function %s.%s has no code (fn is NULL)", m->name,
			    f->name);
		if ((f->flags & ~(unsigned)KNOWN_FLAGS) != 0)
			return refuse(c,
			    "function %s.%s has flags 0x%x this daemon does not know "
			    "(it knows 0x%x)",
			    m->name, f->name, f->flags, KNOWN_FLAGS);
		for (size_t j = 0; j < i; j++)
			if (strcmp(fns[j].name, f->name) == 0)
				return refuse(c,
				    "function %s.%s is listed twice", m->name,
				    f->name);
	}
	return 0;
}

static int
check_table(const struct check *c, const struct lp_job_module *m)
{
	if (m->abi_version != LP_JOB_ABI_VERSION)
		return refuse(c, "built for job ABI %u, this daemon speaks %d",
		    m->abi_version, LP_JOB_ABI_VERSION);
	if (m->name == NULL)
		return refuse(c, "the module has no name");
	if (!valid_name(m->name, MODULE_NAME_MAX))
		return refuse(c,
		    "module name '%.80s' is not valid: 1 to %d letters, digits, "
		    "'_' or '-'",
		    m->name, MODULE_NAME_MAX);
	for (size_t i = 0; i < loaded.n; i++)
		if (strcmp(loaded.v[i].table->name, m->name) == 0)
			return refuse(c,
			    "module name %s is already taken by %s", m->name,
			    loaded.v[i].path);
	return check_functions(c, m);
}

static int
load_one(const char *path, char *err, size_t errlen)
{
	const struct check c = { path, err, errlen };
	const struct lp_job_module *m;
	struct module *v;
	void *handle;
	char why[512];

	if (path[0] != '/')
		return refuse(&c, "not an absolute path");
	if (trust_file(path, why, sizeof why) == -1)
		return refuse(&c, "not loading it: %s", why);
	/* RTLD_NOW: an unresolved symbol is found now, not in a worker mid-job. */
	if ((handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return refuse(&c, "cannot load it: %s", dl_reason(path));
	if ((m = dlsym(handle, LP_JOB_MODULE_SYMBOL)) == NULL) {
		dlclose(handle);
		return refuse(&c, "does not export %s (see leasepool-job(3))",
		    LP_JOB_MODULE_SYMBOL);
	}
	if (check_table(&c, m) == -1) {
		dlclose(handle);
		return -1;
	}
	if ((v = reallocarray(loaded.v, loaded.n + 1, sizeof *v)) == NULL) {
		dlclose(handle);
		return refuse(&c, "out of memory");
	}
	loaded.v = v;
	v = &loaded.v[loaded.n];
	if ((v->path = strdup(path)) == NULL) {
		dlclose(handle);
		return refuse(&c, "out of memory");
	}
	v->handle = handle;
	v->table = m;
	loaded.n++;
	jobs_add_module(m->name, m->functions);
	return 0;
}

int
modules_load(const char *list, char *err, size_t errlen)
{
	char *copy, *path, *next;
	int rc = 0;

	if ((copy = strdup(list)) == NULL) {
		snprintf(err, errlen, "job modules: out of memory");
		return -1;
	}
	for (path = strtok_r(copy, " \t", &next); path != NULL && rc == 0;
	     path = strtok_r(NULL, " \t", &next))
		rc = load_one(path, err, errlen);
	free(copy);
	if (rc == -1)
		modules_unload();
	return rc;
}

void
modules_unload(void)
{
	/* The registry first: nothing may point into a module once it is gone. */
	jobs_clear();
	while (loaded.n > 0) {
		struct module *m = &loaded.v[--loaded.n];

		dlclose(m->handle);
		free(m->path);
	}
	free(loaded.v);
	loaded.v = NULL;
}

int
modules_worker_init(void)
{
	for (size_t i = 0; i < loaded.n; i++) {
		const struct module *m = &loaded.v[i];
		int rc;

		if (m->table->init == NULL || (rc = m->table->init()) == 0)
			continue;
		/* stderr is the pipe to the daemon's log, which adds who we are. */
		dprintf(STDERR_FILENO,
		    "job module %s (%s): init failed (returned %d); "
		    "this worker cannot serve\n",
		    m->table->name, m->path, rc);
		return rc;
	}
	return 0;
}

void
modules_worker_fini(void)
{
	for (size_t i = loaded.n; i > 0; i--)
		if (loaded.v[i - 1].table->fini != NULL)
			loaded.v[i - 1].table->fini();
}
