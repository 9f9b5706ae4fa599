#!/bin/sh
# SPDX-License-Identifier: ISC
# Instructions the daemon and its worker execute per echo, counted by
# callgrind: unlike CPU time, the count does not move with the machine's
# load or the scheduler, so two commits compare on a busy machine too.
# run: runs pipelined 64 deep on one lease; submit: submissions 1,024
# deep to a grinder of batch_size 16.  busy_poll = 0 keeps the loop from
# counting its own polling.
#
# usage: bench/instructions.sh LEASEPOOLD [RUNS] [run|submit]
# Needs valgrind and Python 3 with msgpack (Debian: python3-msgpack).
set -eu
daemon=$1
runs=${2:-20000}
mode=${3:-run}
case $mode in
run) depth=64 ;;
submit) depth=1024 ;;
*)
	echo "usage: $0 LEASEPOOLD [RUNS] [run|submit]" >&2
	exit 2
	;;
esac
dir=$(mktemp -d /tmp/lp-instructions.XXXXXX)
pid=
trap 'if [ -n "$pid" ]; then kill $pid 2>/dev/null; fi; rm -rf "$dir"' EXIT

cat >"$dir/conf" <<EOC
[daemon]
socket = $dir/sock
busy_poll = 0
[pool cpu]
executors_min = 1
executors_max = 1
workers = 1
batch_size = 16
EOC

# Keeps echo runs on one lease, or submissions, DEPTH deep.
cat >"$dir/echo.py" <<'EOP'
import socket, sys
import msgpack
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
runs, mode, depth = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
unpacker = msgpack.Unpacker(raw=False)
def send(msgid, method, params):
    s.sendall(msgpack.packb([0, msgid, method, [params]]))
def receive():
    while True:
        for message in unpacker:
            return message
        unpacker.feed(s.recv(1 << 16))
echo = {"fn": "echo", "args": ["0123456789abcdef"]}
if mode == "run":
    send(1, "acquire", {})
    echo["lease"] = receive()[3]["lease"]
sent = done = 0
while done < runs:
    while sent < runs and sent - done < depth:
        send(10 + sent, mode, echo)
        sent += 1
    answer = receive()
    if answer[2] is not None:
        sys.exit(f"{mode} failed: {answer[2]}")
    done += 1
if mode == "run":
    send(2, "release", {"lease": echo["lease"]})
    receive()
EOP

summary() {
	sed -n 's/^summary: //p' "$1"
}

# Prints the daemon's instructions over n echoes after a warm-up (in which
# the worker is forked), then its worker's from its start: a worker writes
# its counts when it exits, and callgrind_control does not reach it.
count() {
	rm -f "$dir"/out.*
	valgrind --tool=callgrind --callgrind-out-file="$dir/out.%p" "$daemon" \
		-c "$dir/conf" >"$dir/log" 2>&1 &
	pid=$!
	for _ in $(seq 150); do [ -S "$dir/sock" ] && break; sleep 0.2; done
	python3 "$dir/echo.py" "$dir/sock" 1000 "$mode" "$depth"
	callgrind_control -z "$pid" >/dev/null 2>&1
	python3 "$dir/echo.py" "$dir/sock" "$1" "$mode" "$depth"
	callgrind_control -d "$pid" >/dev/null 2>&1
	kill "$pid"
	wait "$pid" || true
	summary "$dir/out.$pid.1"
	for f in "$dir"/out.*; do
		case $f in "$dir/out.$pid" | "$dir/out.$pid.1") ;; *) summary "$f" ;; esac
	done | awk '{ s += $1 } END { print s }'
	pid=
}

# The worker's share is the difference between a daemon that ran the n
# echoes and one that only warmed up.  Not in $(...): the trap must see
# $pid.
count 0 >"$dir/idle"
count "$runs" >"$dir/counts"
in_daemon=$(sed -n 1p "$dir/counts")
in_worker=$(($(sed -n 2p "$dir/counts") - $(sed -n 2p "$dir/idle")))
echo "$daemon: $runs echoes by $mode: $((in_daemon / runs)) instructions" \
	"each in the daemon, $((in_worker / runs)) in its worker"
