#!/bin/sh
# SPDX-License-Identifier: ISC
# make demo: start leasepoold on its embedded default configuration and a
# pool of Python workers, on a private socket, run every example against it
# at the same time and a Python job, show the daemon's stats, stop it.
# Fails when any step or example fails.
#
#   sh scripts/demo.sh BUILD_DIR
set -u

build=${1:?usage: sh scripts/demo.sh BUILD_DIR}
dir=$(mktemp -d "${TMPDIR:-/tmp}/leasepool-demo.XXXXXX") || exit 1
daemon_pid=

say() {
	printf '\n==> %s\n' "$*"
}

fail() {
	printf 'demo: %s\n' "$*" >&2
	if [ -s "$dir/leasepoold.log" ]; then
		printf 'demo: the end of the daemon log:\n' >&2
		tail -n 20 "$dir/leasepoold.log" >&2
	fi
	exit 1
}

cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill -KILL "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Bounded: 10 s for a daemon that starts in milliseconds.
wait_for_daemon() {
	tries=0
	until "$build/leasepool" -s "$LEASEPOOL_SOCKET" ping >"$dir/ping" 2>&1; do
		kill -0 "$daemon_pid" 2>/dev/null || fail "leasepoold exited during start-up"
		tries=$((tries + 1))
		[ "$tries" -lt 100 ] || fail "leasepoold did not answer on $LEASEPOOL_SOCKET"
		sleep 0.1
	done
	cat "$dir/ping"
}

# Runs one example, then prints its output at once, each line after its name.
run_example() {
	name=${1##*/}
	"$1" >"$dir/$name.out" 2>&1
	status=$?
	[ "$status" -eq 0 ] || echo "FAILED with exit status $status" >>"$dir/$name.out"
	sed "s/^/$(printf '%-18s' "$name") | /" "$dir/$name.out"
	return "$status"
}

# The embedded default configuration as `leasepoold -t` prints it, and a
# pool "python" serving examples/python's jobs and primes from this source
# tree (a grace of 1 s, so that 11_error_handling waits little for its
# lease to expire).
# Nothing need be installed: the workers inherit the daemon's PYTHONPATH,
# which finds the package in client/python, and write no bytecode there.
# Without python3-msgpack (scripts/deps.sh) the demo goes on without it.
write_config() {
	: >"$dir/empty.conf"
	"$build/leasepoold" -t -c "$dir/empty.conf" >"$dir/leasepoold.conf" ||
		fail "leasepoold -t printed no configuration"
	if ! /usr/bin/python3 -c 'import msgpack' 2>/dev/null; then
		echo "demo: no /usr/bin/python3 with msgpack (python3-msgpack): no Python pool"
		return 1
	fi
	cat >>"$dir/leasepoold.conf" <<-EOF

	[pool python]
	executors_max = 2
	grace_seconds = 1
	worker_program = /usr/bin/python3 -m leasepoold.worker --path $source/examples/python jobs primes
	EOF
}

source=$(cd "$(dirname "$0")/.." && pwd) || exit 1
export LEASEPOOL_SOCKET="$dir/leasepool.sock"
python=yes
write_config || python=

say "starting leasepoold on $LEASEPOOL_SOCKET"
PYTHONPATH="$source/client/python${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 \
	"$build/leasepoold" -c "$dir/leasepoold.conf" -s "$LEASEPOOL_SOCKET" 2>"$dir/leasepoold.log" &
daemon_pid=$!
wait_for_daemon

examples=$(ls "$build"/examples/[0-9]*) || fail "no examples in $build/examples"
say "running $(echo "$examples" | wc -l) examples at the same time (06_expiry waits out its lease)"
pids=
for example in $examples; do
	run_example "$example" &
	pids="$pids $!"
done
failed=0
for pid in $pids; do
	wait "$pid" || failed=$((failed + 1))
done

if [ -n "$python" ]; then
	say "a Python job: leasepool -p python run primes:count_primes 20000"
	"$build/leasepool" -p python run primes:count_primes 20000 || failed=$((failed + 1))
	say "the Python examples (examples/python), one after the other"
	LEASEPOOL_PYTHON_POOL=python sh "$source/scripts/python-examples.sh" || failed=$((failed + 1))
fi

say "leasepool stats"
"$build/leasepool" stats || failed=$((failed + 1))

say "stopping leasepoold"
kill -TERM "$daemon_pid"
wait "$daemon_pid"
status=$?
daemon_pid=
[ "$status" -eq 0 ] || fail "leasepoold exited with status $status"

[ "$failed" -eq 0 ] || fail "$failed of the steps above failed"
say "demo: every example passed"
