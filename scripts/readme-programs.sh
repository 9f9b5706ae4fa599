#!/bin/sh
# SPDX-License-Identifier: ISC
# Builds every ```c block of a Markdown file as a program of its own, so that
# what the README shows is what make check runs (tests/integration/
# test_examples.c).  Each block must be a whole program.
#   sh scripts/readme-programs.sh README.md OUTDIR "CC CFLAGS" "LIBS"
set -eu
doc=$1 out=$2 cc=$3 libs=$4

rm -rf "$out"
mkdir -p "$out/src"
awk -v dir="$out/src" '
	/^```c$/ { n++; file = sprintf("%s/readme-%d.c", dir, n); next }
	/^```/ && file != "" { close(file); file = ""; next }
	file != "" { print > file }
' "$doc"
set -- "$out"/src/readme-*.c
[ -e "$1" ] || { echo "readme-programs: no \`\`\`c block in $doc" >&2; exit 1; }
for src; do
	name=$(basename "$src" .c)
	# shellcheck disable=SC2086 # the compiler and its flags, word by word
	$cc -o "$out/$name" "$src" $libs ||
	    { echo "readme-programs: $doc's block $name does not build" >&2; exit 1; }
done
