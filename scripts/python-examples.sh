#!/bin/sh
# SPDX-License-Identifier: ISC
# The Python examples (examples/python/[0-9]*.py), one after the other,
# against a daemon with a Python pool serving examples/python's jobs and
# primes.  Fails when any example fails.
#
#   sh scripts/python-examples.sh              the daemon at $LEASEPOOL_SOCKET,
#                                              pool $LEASEPOOL_PYTHON_POOL (default python)
#   sh scripts/python-examples.sh -d BUILD_DIR a daemon of its own from BUILD_DIR,
#                                              started with a Python pool and stopped after
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-/usr/bin/python3}
# The client of this tree, for the examples and for the pool's workers.
export PYTHONPATH="$top/client/python${PYTHONPATH:+:$PYTHONPATH}"
daemon_pid=
dir=

fail() {
	printf 'python-examples: %s\n' "$*" >&2
	[ -z "$dir" ] || [ ! -s "$dir/leasepoold.log" ] || tail -n 20 "$dir/leasepoold.log" >&2
	exit 1
}

cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill -KILL "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	[ -z "$dir" ] || rm -rf "$dir"
}

# A daemon whose only pool is the Python one, with a 1 s grace period so that
# 11_error_handling waits little for its lease to expire.
start_daemon() {
	build=$1
	dir=$(mktemp -d "${TMPDIR:-/tmp}/leasepool-python.XXXXXX") || exit 1
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	export LEASEPOOL_SOCKET="$dir/leasepool.sock" LEASEPOOL_PYTHON_POOL=python
	cat >"$dir/leasepoold.conf" <<-CONF
	[daemon]
	default_pool = python
	[pool python]
	executors_max = 2
	workers = 4
	grace_seconds = 1
	worker_program = $python -m leasepoold.worker --path $top/examples/python jobs primes
	CONF
	"$build/leasepoold" -c "$dir/leasepoold.conf" -s "$LEASEPOOL_SOCKET" 2>"$dir/leasepoold.log" &
	daemon_pid=$!
	# Bounded: 10 s for a daemon that starts in milliseconds.
	tries=0
	until "$build/leasepool" -s "$LEASEPOOL_SOCKET" ping >/dev/null 2>&1; do
		kill -0 "$daemon_pid" 2>/dev/null || fail "leasepoold exited during start-up"
		tries=$((tries + 1))
		[ "$tries" -lt 100 ] || fail "leasepoold did not answer on $LEASEPOOL_SOCKET"
		sleep 0.1
	done
}

stop_daemon() {
	kill -TERM "$daemon_pid"
	wait "$daemon_pid"
	status=$?
	daemon_pid=
	[ "$status" -eq 0 ] || fail "leasepoold exited with status $status"
}

if [ "${1:-}" = -d ]; then
	start_daemon "${2:?usage: sh scripts/python-examples.sh [-d BUILD_DIR]}"
fi
failed=0
for example in "$top"/examples/python/[0-9]*.py; do
	name=${example##*/}
	printf '\n==> %s\n' "$name"
	"$python" "$example" || { echo "FAILED: $name"; failed=$((failed + 1)); }
done
[ -z "$daemon_pid" ] || stop_daemon
[ "$failed" -eq 0 ] || fail "$failed examples failed"
