#!/bin/sh
# SPDX-License-Identifier: ISC
# Compares two builds of leasepool on one measurement, in interleaved
# pairs: before, after, before, after...  On a VM whose runs of one binary
# spread by a third within minutes, a difference is only what the pairs
# agree on, so this prints, for every figure, each side's median and the
# median and range of the pairs' after/before ratios.
#
# usage: bench/compare.sh [-n PAIRS] [-r REPS] BEFORE AFTER NAME
#   BEFORE, AFTER  two source trees, each built (build/leasepoold and
#                  build/leasepool-bench): each side runs its own bench
#   NAME           a measurement of leasepool-bench --only (e.g. submit)
#   -n PAIRS       pairs of runs (default 6)
#   -r REPS        repetitions within a run (default 3; its median counts)
# Each run's JSON is kept in a directory named on the last line.
set -eu
pairs=6
reps=3
while getopts n:r: opt; do
	case $opt in
	n) pairs=$OPTARG ;;
	r) reps=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -ne 3 ]; then
	echo "usage: $0 [-n PAIRS] [-r REPS] BEFORE AFTER NAME" >&2
	exit 2
fi
before=$(cd "$1" && pwd)
after=$(cd "$2" && pwd)
name=$3
for tree in "$before" "$after"; do
	for program in leasepoold leasepool-bench; do
		if [ ! -x "$tree/build/$program" ]; then
			echo "$0: $tree/build/$program: not built (make -C $tree all build/leasepool-bench)" >&2
			exit 1
		fi
	done
done
out=$(mktemp -d /tmp/lp-compare.XXXXXX)

i=1
while [ "$i" -le "$pairs" ]; do
	for side in before after; do
		if [ "$side" = before ]; then tree=$before; else tree=$after; fi
		echo "pair $i/$pairs: $side ($tree)" >&2
		"$tree/build/leasepool-bench" --daemon "$tree/build/leasepoold" \
			--only "$name" --reps "$reps" --json "$out/$side.$i.json" \
			>"$out/$side.$i.txt" 2>&1 ||
			{
				cat "$out/$side.$i.txt" >&2
				exit 1
			}
	done
	i=$((i + 1))
done

python3 - "$out" "$pairs" <<'EOF'
import json, statistics, sys

out, pairs = sys.argv[1], int(sys.argv[2])

def figures(side, i):
    with open(f"{out}/{side}.{i}.json") as f:
        return {x["key"]: x for x in json.load(f)["figures"]}

runs = [(figures("before", i), figures("after", i)) for i in range(1, pairs + 1)]
print(f"{'figure':<48} {'before':>12} {'after':>12}  after/before: median (range)")
for key, first in runs[0][0].items():
    b = [r[0][key]["median"] for r in runs if r[0].get(key, {}).get("median") is not None]
    a = [r[1][key]["median"] for r in runs if r[1].get(key, {}).get("median") is not None]
    ratios = sorted(y / x for x, y in zip(b, a) if x)
    if not ratios:
        continue
    print(f"{first['label'][:48]:<48} {statistics.median(b):>12,.6g} "
          f"{statistics.median(a):>12,.6g}  {statistics.median(ratios):.3f} "
          f"({ratios[0]:.2f} to {ratios[-1]:.2f}) {first['unit']}")
EOF
echo "runs: $out"
