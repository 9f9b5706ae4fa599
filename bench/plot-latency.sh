#!/bin/sh
# SPDX-License-Identifier: ISC
# Latency against load: p50, p99 and p99.9 of echo 16 B against the runs
# in flight, from the JSON of `leasepool-bench --only load`, as a PNG.
# Needs gnuplot (Debian: gnuplot-nox); nothing else calls this script.
#
#   build/leasepool-bench --daemon "$PWD/build/leasepoold" --only load --json load.json
#   bench/plot-latency.sh load.json             # writes load-latency.png
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 JSON [PNG]" >&2
	exit 2
fi
json=$1
png=${2:-${json%.json}-latency.png}
command -v gnuplot >/dev/null 2>&1 || {
	echo "$0: gnuplot is not installed (Debian: apt-get install gnuplot-nox)" >&2
	exit 1
}

data=$(mktemp)
trap 'rm -f "$data"' EXIT

# report.c writes one figure a line: its key, then its median.  The
# baseline's round trip goes on every line, as a flat line to compare with.
awk '
	match($0, /"key": "[^"]*"/) { key = substr($0, RSTART + 8, RLENGTH - 9) }
	match($0, /"median": [^,]*/) { median = substr($0, RSTART + 10, RLENGTH - 10) }
	key == "baseline.rtt.p50_us" { base = median }
	key ~ /^load\.d[0-9]+\.p[0-9]+_us$/ {
		split(key, part, ".")
		depth = substr(part[2], 2) + 0
		v[depth, part[3]] = median
		if (!(depth in seen)) { seen[depth] = 1; depths[++n] = depth }
	}
	/"repetitions":/ { reps = $2 + 0 }
	END {
		if (n == 0) exit 1
		printf "# reps %d\n", reps
		for (i = 1; i <= n; i++) {
			d = depths[i]
			printf "%d %s %s %s %s\n", d, v[d, "p50_us"], v[d, "p99_us"],
			    v[d, "p999_us"], base == "" ? "NaN" : base
		}
	}' "$json" >"$data" || {
	echo "$0: no latency figures in $json: make it with leasepool-bench --only load" >&2
	exit 1
}
reps=$(sed -n 's/^# reps //p' "$data")
[ "$reps" = 1 ] && reps="1 repetition" || reps="median of $reps repetitions"

gnuplot <<EOF
set terminal pngcairo size 900,560 noenhanced font ",10"
set output "$png"
set title "leasepoold: echo 16 B on one lease of the cpu pool ($reps)"
set xlabel "runs in flight"
set ylabel "latency, from queued to answered (us)"
set logscale xy 2
set format y "%g"
set xrange [0.8:80]
set xtics (1, 2, 4, 8, 16, 32, 64)
set grid
set key bottom right Left reverse box opaque
set datafile missing "null"
plot "$data" using 1:2 with linespoints lw 2 title "p50", \
     "" using 1:3 with linespoints lw 2 title "p99", \
     "" using 1:4 with linespoints lw 2 title "p99.9", \
     "" using 1:5 with lines dt 2 lc "gray" title "raw relay round trip, p50"
EOF
echo "$png"
