/* SPDX-License-Identifier: ISC */
/*
 * Third-party msgpack-RPC client libraries, used unmodified over the
 * socket as an implementer elsewhere would use them (tests/interop/):
 * pynvim's session, Go's net/rpc with ugorji/go's codec, npm's
 * msgpack5rpc.  Each says hello, pings, acquires, runs, gets an error and
 * releases; the connection must survive the error.  A client is tested
 * where its toolchain is installed (.ci/run installs them all); make
 * check builds the Go client and installs the npm package into
 * $LP_INTEROP.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/integration/harness.h"
#include "tests/integration/program.h"
#include "tests/suites.h"

/* $LP_SOURCE/tests/interop/sub: a client's script. */
static const char *
script(const char *sub, char *buf, size_t size)
{
	const char *source = getenv("LP_SOURCE");

	snprintf(buf, size, "%s/tests/interop/%s",
	    source != NULL ? source : ".", sub);
	return buf;
}

/* $LP_INTEROP/sub: what make check built or installed for a client. */
static const char *
built(const char *sub, char *buf, size_t size)
{
	const char *dir = getenv("LP_INTEROP");

	snprintf(buf, size, "%s/%s", dir != NULL ? dir : "build/tests/interop",
	    sub);
	return buf;
}

/* Runs a client, argv, which must succeed and print expected exactly. */
static void
session_prints(char *const argv[], const char *expected)
{
	struct program p;

	ck_assert_msg(program_run(&p, argv, NULL, NULL) == 0,
	    "%s %s exited with %d:\n%s%s", argv[0], argv[1], p.status, p.out,
	    p.err);
	ck_assert_str_eq(p.out, expected);
}

/*
 * pynvim: params [] for ping, errors as [code, message] pairs (asked for
 * in hello), and the notification nvim_set_client_info it sends on
 * connect, which the daemon ignores.
 */
START_TEST(pynvim_session)
{
	char path[PATH_MAX];
	struct daemon d;

	daemon_start(&d, NULL);
	script("python/session.py", path, sizeof path);
	session_prints(
	    (char *const[]){ "/usr/bin/python3", path, d.socket, NULL },
	    "hello: leasepoold\n"
	    "ping: True\n"
	    "acquire: ok\n"
	    "run: 42\n"
	    "error: no function named 'no_such_function' (hello lists them)\n"
	    "release: True\n");
	daemon_wait_log(&d, "ignoring its notification");
	daemon_cleanup(&d);
}
END_TEST

/* Go's net/rpc: params [nil] for a nil argument, errors as strings (asked for in hello). */
START_TEST(go_net_rpc)
{
	char path[PATH_MAX];
	struct daemon d;

	daemon_start(&d, NULL);
	built("go-client", path, sizeof path);
	session_prints((char *const[]){ path, d.socket, NULL },
	    "hello: true\n"
	    "ping: true\n"
	    "stats: true\n"
	    "acquire: true\n"
	    "run: 42\n"
	    "error: NO_SUCH_FUNCTION: no function named 'no_such_function' (hello lists them)\n"
	    "release: true\n");
	daemon_cleanup(&d);
}
END_TEST

/* npm's msgpack5rpc: params [] for ping, and the protocol's error map. */
START_TEST(node_msgpack5rpc)
{
	char path[PATH_MAX], modules[PATH_MAX];
	struct daemon d;

	daemon_start(&d, NULL);
	/* The test's own process: the client inherits it. */
	setenv("NODE_PATH", built("node/node_modules", modules, sizeof modules),
	    1);
	script("node/client.js", path, sizeof path);
	session_prints(
	    (char *const[]){ "/usr/bin/env", "node", path, d.socket, NULL },
	    "hello: leasepoold\n"
	    "ping: true\n"
	    "acquire: ok\n"
	    "run: 42\n"
	    "error: NO_SUCH_FUNCTION no function named 'no_such_function' (hello lists them)\n"
	    "release: true\n");
	daemon_cleanup(&d);
}
END_TEST

static bool
have_pynvim(void)
{
	return access("/usr/bin/python3", X_OK) == 0 &&
	    system("/usr/bin/python3 -c 'import pynvim' 2>/dev/null") == 0;
}

static bool
have_built(const char *sub)
{
	char path[PATH_MAX];

	return access(built(sub, path, sizeof path), F_OK) == 0;
}

Suite *
interop_suite(void)
{
	Suite *s = suite_create("interop");
	TCase *tc = integration_case(s, "third-party clients", NULL, NULL);

	if (have_pynvim())
		tcase_add_test(tc, pynvim_session);
	if (have_built("go-client"))
		tcase_add_test(tc, go_net_rpc);
	if (in_path("node") && have_built("node/node_modules/msgpack5rpc"))
		tcase_add_test(tc, node_msgpack5rpc);
	return s;
}
