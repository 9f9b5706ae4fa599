#!/bin/sh
# SPDX-License-Identifier: ISC
# docs/protocol.md is the whole contract of the socket, and
# docs/leasepoold.conf.5 of the configuration file: other programs talk to
# the daemon with a msgpack library and these pages alone, so a name the
# code gains must not be missing from them.  This prints every name that is
# and fails if there is one:
#   - a method of proto/params.c without its "### `name`" section, or one of
#     its parameters never written as `name`;
#   - an error code of proto/errors.c without its row "| `CODE` |";
#   - a built-in function of daemon/jobs/ without its "#### `name`" section;
#   - a key the daemon packs into an answer (daemon/server/, the exec result,
#     the error map) never written as `key`; a key of `stats`
#     (daemon/server/stats.c, the grinder's) without its row "| `key` |" in
#     the section of stats;
#   - a configuration key of daemon/core/config.c without its ".It Cm key"
#     in docs/leasepoold.conf.5.
cd "$(dirname "$0")/.." || exit 2
doc=docs/protocol.md
man=docs/leasepoold.conf.5
bad=0

missing() {
	echo "$1"
	bad=1
}

# The file's text on one line, so that a call clang-format broke still matches.
flat() {
	tr '\n' ' ' <"$1"
}

# The string keys packed with lp_pack_kv_*(), lp_pack_cstr() and
# pack_histogram() in the C text on stdin.
packed_keys() {
	tr '\n' ' ' |
		grep -o '\(lp_pack_kv_[a-z0-9]*\|lp_pack_cstr\|pack_histogram\)([^,()]*, *"[a-z_]*"' |
		sed 's/.*"\([a-z_]*\)"$/\1/' | sort -u
}

# The text of one "### " section of the protocol, its heading included.
section() {
	awk -v h="### \`$1\`" '
		index($0, "### ") == 1 { inside = ($0 == h || index($0, h " ") == 1) }
		inside' "$doc"
}

methods=$(grep '\[LP_METHOD_[A-Z_]*\] *=' proto/params.c |
	sed -n 's/.*= *[A-Z_]*("\([a-z_]*\)".*/\1/p')
[ -n "$methods" ] || missing "proto/params.c: no method found (has its table changed form?)"
for m in $methods; do
	grep -q "^### \`$m\`" "$doc" ||
		missing "$doc: no section '### \`$m\`' for the method $m of proto/params.c"
done

params=$(flat proto/params.c |
	grep -o '\(OPTIONAL\|REQUIRED\|DEFAULTED\)(lp_[a-z_]*_params, *[a-z_]*' |
	sed 's/.*, *//' | sort -u)
for p in $params; do
	grep -q "\`$p\`" "$doc" ||
		missing "$doc: the parameter $p of proto/params.c is never named as \`$p\`"
done

codes=$(flat proto/errors.c | grep -o '\[LP_[A-Z_]*\] *= *"[A-Z_]*"' |
	sed 's/.*"\([A-Z_]*\)"$/\1/')
[ -n "$codes" ] || missing "proto/errors.c: no error code found (has its table changed form?)"
for code in $codes; do
	grep -q "^| \`$code\` |" "$doc" ||
		missing "$doc: no row '| \`$code\` |' for the error code $code of proto/errors.c"
done

builtins=$(flat daemon/jobs/builtins.c | grep -o '{ *"[a-z_]*", *job_' |
	sed 's/.*"\([a-z_]*\)".*/\1/')
builtins="$builtins $(sed -n 's/^#define EXEC_FUNCTION "\([a-z_]*\)".*/\1/p' daemon/jobs/exec.h)"
for f in $builtins; do
	grep -q "^#### \`$f\`" "$doc" ||
		missing "$doc: no section '#### \`$f\`' for the built-in $f of daemon/jobs/"
done

answers=$(cat daemon/server/dispatch.c daemon/server/admin.c daemon/jobs/exec.c proto/rpc.c | packed_keys)
for k in $answers; do
	grep -q "\`$k\`" "$doc" ||
		missing "$doc: the key $k the daemon packs (daemon/server/, exec.c, rpc.c) is never named as \`$k\`"
done

stats=$(section stats)
[ -n "$stats" ] || missing "$doc: no section '### \`stats\`'"
stats_keys=$({
	packed_keys <daemon/server/stats.c
	sed -n '/^grinder_pack_stats(/,/^}/p' daemon/server/grinder.c | packed_keys
	# The states a lease is shown in: keys of leases_by_state.
	sed -n '/shown_state_names\[[A-Z_]*\] *= *{/,/};/p' daemon/server/stats.c |
		sed -n 's/^[[:space:]]*"\([a-z_]*\)",*$/\1/p'
} | sort -u)
for k in $stats_keys; do
	printf '%s\n' "$stats" | grep -q "^| \`$k\` |" ||
		missing "$doc: the stats key $k (daemon/server/stats.c, grinder.c) has no row '| \`$k\` |' in the section of stats"
done

keys=$(flat daemon/core/config.c | grep -o 'SECTION_[A-Z]*, *"[a-z_]*"' |
	sed 's/.*"\([a-z_]*\)"$/\1/')
[ -n "$keys" ] || missing "daemon/core/config.c: no configuration key found (has its table changed form?)"
for k in $keys; do
	grep -q "^\.It Cm $k\( \|$\)" "$man" ||
		missing "$man: no '.It Cm $k' for the configuration key $k of daemon/core/config.c"
done

[ $bad -eq 0 ] && echo "check-contract: $doc and $man name every method, parameter, error code, built-in, answer key and configuration key"
exit $bad
