#!/bin/sh
# SPDX-License-Identifier: ISC
# The C style (CONTRIBUTING.md), applied by clang-format with .clang-format,
# after two rewrites clang-format 14 cannot do itself:
# - a trailing comment that cannot fit on its line within 80 columns goes on
#   a line of its own above it (clang-format would break the declaration
#   or the statement before it instead);
# - "static void __attribute__((...))" before a function's name becomes
#   "static __attribute__((...)) void", which keeps the return type on a
#   line of its own (clang-format joins the name to the attribute).
#
#   sh scripts/format.sh          rewrites every tracked .c and .h file
#   sh scripts/format.sh --check  names each file that is not formatted, and fails
set -u
cd "$(dirname "$0")/.." || exit 2
clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null 2>&1; then
	echo "format: $clang_format is missing; run as root:" >&2
	echo "  apt-get install -y --no-install-recommends clang-format" >&2
	exit 1
fi

# The style is pinned to one version: another may break lines differently.
"$clang_format" --version | grep -q 'version 14\.' ||
    echo "format: $("$clang_format" --version | head -n 1): not clang-format 14, whose output is the style" >&2

prepare() {
	perl -ne '
		sub width {
			my $w = 0;
			$w = $_ eq "\t" ? ($w | 7) + 1 : $w + 1 for split //, shift;
			return $w;
		}
		if (m{^(\t*)([^\s*/][^\n]*?)[ \t]+(/\*(?:(?!\*/).)*\*/)\n$} && $2 !~ m{/\*|//|"} &&
		    width("$1$2 $3") > 80) {
			print "$1$3\n$1$2\n";
			next;
		}
		s/^((?:static )?)([a-z_][a-z0-9_ ]*?) (__attribute__\(\(.*\)\))\n$/$1$3 $2\n/;
		print;
	' "$1"
}

files() {
	if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
		git ls-files '*.c' '*.h'
	else
		find . -path './build*' -prune -o -type f -name '*.[ch]' -print | sed 's|^\./||' | sort
	fi
}

check=no
[ "${1:-}" = --check ] && check=yes
failures=$(files | while IFS= read -r f; do
	prepare "$f" | "$clang_format" --style=file --assume-filename="$f" >"$f.format-tmp" || {
		rm -f "$f.format-tmp"
		echo "$f: $clang_format failed"
		continue
	}
	if cmp -s "$f" "$f.format-tmp"; then
		rm -f "$f.format-tmp"
	elif [ $check = yes ]; then
		rm -f "$f.format-tmp"
		echo "$f: not formatted (make format)"
	else
		cat "$f.format-tmp" >"$f" && rm -f "$f.format-tmp"
	fi
done)
[ -z "$failures" ] && exit 0
echo "$failures"
exit 1
