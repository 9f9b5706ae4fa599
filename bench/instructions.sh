#!/bin/sh
# SPDX-License-Identifier: ISC
# Instructions the daemon executes per pipelined run, counted by callgrind:
# unlike CPU time, the count does not move with the machine's load or the
# scheduler, so two commits compare on a busy machine too.  busy_poll = 0
# keeps the loop from counting its own polling.
#
# usage: bench/instructions.sh LEASEPOOLD [RUNS]
# Needs valgrind and Python 3 with msgpack (Debian: python3-msgpack).
set -eu
daemon=$1
runs=${2:-20000}
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
EOC

# Pipelines echo runs 64 deep on one lease.
cat >"$dir/pipeline.py" <<'EOP'
import socket, sys
import msgpack
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
runs = int(sys.argv[2])
unpacker = msgpack.Unpacker(raw=False)
def send(msgid, method, params):
    s.sendall(msgpack.packb([0, msgid, method, [params]]))
def receive():
    while True:
        for message in unpacker:
            return message
        unpacker.feed(s.recv(1 << 16))
send(1, "acquire", {})
lease = receive()[3]["lease"]
sent = done = 0
while done < runs:
    while sent < runs and sent - done < 64:
        send(10 + sent, "run", {"lease": lease, "fn": "echo", "args": ["0123456789abcdef"]})
        sent += 1
    answer = receive()
    if answer[2] is not None:
        sys.exit(f"run failed: {answer[2]}")
    done += 1
send(2, "release", {"lease": lease})
receive()
EOP

valgrind --tool=callgrind --callgrind-out-file="$dir/out.%p" "$daemon" \
	-c "$dir/conf" >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 150); do [ -S "$dir/sock" ] && break; sleep 0.2; done
python3 "$dir/pipeline.py" "$dir/sock" 1000 # warm up: the worker is forked
callgrind_control -z "$pid" >/dev/null 2>&1
python3 "$dir/pipeline.py" "$dir/sock" "$runs"
callgrind_control -d "$pid" >/dev/null 2>&1
total=$(sed -n 's/^summary: //p' "$dir/out.$pid.1")
echo "$daemon: $total instructions for $runs pipelined runs," \
	"$((total / runs)) per run"
