#!/bin/sh
# SPDX-License-Identifier: ISC
# The layering rule of daemon/: proto <- core <- jobs <- backend <- server <- main.
# A file may include headers of its own layer and of the layers below it,
# never above; core/ has no event loop.  Prints every include that breaks the
# rule, and every circle of includes outside server/, and fails if there is one.
cd "$(dirname "$0")/.." || exit 2
rank() {
	case $1 in
	proto) echo 0 ;; core) echo 1 ;; jobs) echo 2 ;; backend) echo 3 ;;
	server) echo 4 ;; main) echo 5 ;; *) echo 9 ;;
	esac
}
bad=0
for f in proto/*.[ch] daemon/*/*.[ch] daemon/main.c; do
	case $f in
	proto/*) own=proto ;;
	daemon/main.c) own=main ;;
	*) own=$(basename "$(dirname "$f")") ;;
	esac
	mine=$(rank "$own")
	for inc in $(sed -n 's/^#include "\(\(daemon\/[a-z]*\|proto\)\/[a-z_]*\.h\)".*/\1/p' "$f"); do
		layer=${inc#daemon/}; layer=${layer%%/*}
		if [ "$(rank "$layer")" -gt "$mine" ]; then
			echo "$f: includes $inc, from a layer above $own/"
			bad=1
		fi
	done
	if [ "$own" = core ] && grep -q '^#include <event2/' "$f"; then
		echo "$f: core/ includes libevent"
		bad=1
	fi
done
# No circle of includes outside server/: a.c including b.h and b.c
# including a.h is one, even within a layer.  tsort names a circle's members.
edges=$(for f in daemon/core/*.[ch] daemon/jobs/*.[ch] daemon/backend/*.[ch]; do
	from=${f%.[ch]}
	sed -n 's/^#include "\(daemon\/\(core\|jobs\|backend\)\/[a-z_]*\)\.h".*/\1/p' "$f" |
		while read -r to; do [ "$to" != "$from" ] && echo "$from $to"; done
done)
circle=$(echo "$edges" | tsort 2>&1 >/dev/null | sed -n 's/^tsort: //p' | grep -v 'input contains a loop')
if [ -n "$circle" ]; then
	echo "daemon/: these files include each other in a circle:" $circle
	bad=1
fi
exit $bad
