#!/bin/sh
# SPDX-License-Identifier: ISC
# libleasepool's ABI against the one of the last release, recorded in abi/
# with libabigail.  A removed or changed function or type fails; an added
# one passes and is listed (NEWS.md names it).  Run by make abi-check:
#
#   sh scripts/abi-check.sh LIBRARY BASELINE           compare
#   sh scripts/abi-check.sh --update LIBRARY BASELINE  record LIBRARY as the baseline (a release)
#
# The library must carry DWARF (-g, as the Makefile's CFLAGS has by
# default): without types only symbols could be compared.
set -u
cd "$(dirname "$0")/.." || exit 2
update=no
[ "$1" = --update ] && { update=yes; shift; }
lib=$1
base=$2
headers=include/leasepool

if ! command -v abidw >/dev/null 2>&1 || ! command -v abidiff >/dev/null 2>&1; then
	echo "abi-check: abidw and abidiff (libabigail) are missing; run as root:" >&2
	echo "  apt-get install -y --no-install-recommends abigail-tools" >&2
	exit 1
fi
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
	echo "abi-check: $lib has no debug information; build it with -g" >&2
	exit 1
fi

if [ $update = yes ]; then
	# No paths nor line numbers: the baseline changes only when the ABI does.
	abidw --headers-dir "$headers" --no-corpus-path --no-comp-dir-path --drop-private-types \
	    --drop-undefined-syms --out-file "$base" "$lib" || exit 1
	echo "abi-check: $base now records $lib"
	exit 0
fi

report=$(mktemp)
trap 'rm -f "$report"' EXIT
# abidiff's status is a bit mask: 1 an error, 2 a usage error, 4 an ABI
# change, 8 an incompatible one.  Without the added symbols, any change left
# is a break: a removal, or a changed signature or type.
abidiff --no-added-syms --suppressions abi/suppressions.txt \
    --headers-dir2 "$headers" "$base" "$lib" >"$report" 2>&1
status=$?
if [ $((status & 3)) -ne 0 ]; then
	cat "$report" >&2
	echo "abi-check: abidiff could not compare $lib with $base" >&2
	exit 1
fi
if [ $status -ne 0 ]; then
	cat "$report" >&2
	echo "abi-check: $lib breaks the ABI recorded in $base." >&2
	echo "  A deliberate break takes a new SOVERSION and symbol version, a line in NEWS.md," >&2
	echo "  and a new baseline: make abi-baseline." >&2
	exit 1
fi
abidiff --headers-dir2 "$headers" "$base" "$lib" >"$report" 2>&1
if [ $? -ne 0 ]; then
	echo "abi-check: additions to the ABI recorded in $base (NEWS.md lists them):"
	cat "$report"
fi
echo "abi-check: $lib keeps every function and type of $base"
