#!/bin/sh
# SPDX-License-Identifier: ISC
# Makes sure the build dependencies are present.  As root on Debian or Ubuntu
# it installs what is missing with apt-get; otherwise it prints the one
# command that does and fails.  Used by make (all targets), and by .ci/run.
set -eu

# pkg-config module : Debian package
modules="libevent:libevent-dev msgpack:libmsgpack-dev check:check jansson:libjansson-dev"
# command : Debian package
commands="pkg-config:pkg-config cc:gcc make:make"
# Optional: the build goes on without them, but make check needs
# systemd-socket-activate and mandoc.  Installed along when root.
optional_commands="systemd-socket-activate:systemd mandoc:mandoc"
# Python module : Debian package, for the Python package's tests that make
# check runs with Debian's /usr/bin/python3, which these packages serve.
optional_python="msgpack:python3-msgpack pytest:python3-pytest pytest_asyncio:python3-pytest-asyncio"

missing=""
command -v pkg-config >/dev/null 2>&1 || missing="pkg-config"
for pair in $commands; do
	cmd=${pair%%:*} pkg=${pair#*:}
	command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
done
for pair in $modules; do
	mod=${pair%%:*} pkg=${pair#*:}
	if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists "$mod"; then
		missing="$missing $pkg"
	fi
done
# Extra packages a caller asks for, e.g. "clang valgrind" for CI.
for pkg in "$@"; do
	dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done

optional=""
for pair in $optional_commands; do
	cmd=${pair%%:*} pkg=${pair#*:}
	command -v "$cmd" >/dev/null 2>&1 || optional="$optional $pkg"
done
for pair in $optional_python; do
	mod=${pair%%:*} pkg=${pair#*:}
	/usr/bin/python3 -c "import $mod" >/dev/null 2>&1 || optional="$optional $pkg"
done

# shellcheck disable=SC2086 # word splitting wanted: one package a line
missing=$(printf "%s\n" $missing | sort -u | tr "\n" " " | sed "s/ *$//")
# shellcheck disable=SC2086
optional=$(printf "%s\n" $optional | sort -u | tr "\n" " " | sed "s/ *$//")
[ -z "$missing$optional" ] && exit 0

install="apt-get install -y --no-install-recommends $(echo $missing $optional)"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "deps: installing $(echo $missing $optional)" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing $optional >&2
	exit 0
fi
if [ -n "$missing" ]; then
	echo "deps: missing build dependencies; run as root:" >&2
	echo "  $install" >&2
	exit 1
fi
echo "deps: optional, for systemd (notifications, socket activation) and make check (Python tests too):" >&2
echo "  $install" >&2
exit 0
