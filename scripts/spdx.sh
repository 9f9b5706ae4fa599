#!/bin/sh
# SPDX-License-Identifier: ISC
# Every source file, header, script, unit and configuration carries
# "SPDX-License-Identifier: ISC" in its first three lines (LICENSE).
#
#   sh scripts/spdx.sh          adds the line to each file without one
#   sh scripts/spdx.sh --check  names each file without one, and fails
#
# The files are git's tracked files, or in a release tarball (no .git) every
# file outside build directories.  The line goes first, in the file's own
# comment syntax, after a "#!" line.  Exempt: prose (*.md, LICENSE), data
# (VERSION, images, fuzz corpora, the ABI baseline in abi/, JSON).  A file of a
# kind this script does not know fails the check: add its kind below.
cd "$(dirname "$0")/.." || exit 2
tag="SPDX-License-Identifier: ISC"

# The comment syntax of a file: c, hash, roff, or exempt; empty if unknown.
syntax() {
	case $1 in
	# py.typed is a marker whose content type checkers read (PEP 561).
	# JSON has no comments: npm's package.json and its lock are data.
	*.md | LICENSE | VERSION | *.png | tests/fuzz/corpus*/* | abi/* | */py.typed | *.json) echo exempt ;;
	# C, ld's version script and dynamic list, Go and JavaScript, which take C comments.
	*.[ch] | *.map | daemon/exports.list | *.go | *.js) echo c ;;
	*.[1-8]) echo roff ;;
	Makefile | *.mk | *.sh | *.bash | *.py | *.conf | *.list | *.pc.in | \
	    *.service | *.socket | */.gitignore | .gitignore | .editorconfig | .clang-format | *.toml) echo hash ;;
	*) head -c 2 "$1" | grep -q '^#!' && echo hash ;;
	esac
}

files() {
	# This tree's own repository, not one a tarball was unpacked into.
	if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
		git ls-files
	else
		find . -path './build*' -prune -o -path './.git' -prune -o -type f -print | sed 's|^\./||' | sort
	fi
}

has_tag() {
	head -n 3 "$1" | grep -q 'SPDX-License-Identifier:'
}

add_tag() {
	case $(syntax "$1") in
	c) line="/* $tag */" ;;
	roff) line=".\\\" $tag" ;;
	hash) line="# $tag" ;;
	esac
	tmp=$1.spdx-tmp
	if head -n 1 "$1" | grep -q '^#!'; then
		{ head -n 1 "$1"; printf '%s\n' "$line"; tail -n +2 "$1"; } >"$tmp"
	else
		{ printf '%s\n' "$line"; cat "$1"; } >"$tmp"
	fi
	# Keep the file's mode (scripts stay executable).
	cat "$tmp" >"$1" && rm -f "$tmp"
}

check=no
[ "${1:-}" = --check ] && check=yes
# The loop runs in a subshell: what it prints is the list of failures.
failures=$(files | while IFS= read -r f; do
	[ -f "$f" ] || continue
	kind=$(syntax "$f")
	[ "$kind" = exempt ] && continue
	has_tag "$f" && continue
	if [ -z "$kind" ]; then
		echo "$f: no SPDX-License-Identifier, and scripts/spdx.sh knows no comment syntax for it"
	elif [ $check = yes ]; then
		echo "$f: no SPDX-License-Identifier line (sh scripts/spdx.sh adds it)"
	else
		add_tag "$f" && echo "spdx: $f" >&2
	fi
done)
[ -z "$failures" ] && exit 0
echo "$failures"
exit 1
