#!/bin/sh
# SPDX-License-Identifier: ISC
# make install into a scratch DESTDIR lays down exactly tests/install.list
# with every path filled in; a second install keeps a changed configuration,
# and make uninstall takes away everything else.  Run by make check:
#   sh tests/check-install.sh MAKE BUILD
set -eu
make=$1
build=$2
list=tests/install.list
dest=$(mktemp -d /tmp/lp-install-XXXXXX)
trap 'rm -rf "$dest" "$dest.want" "$dest.got" "$dest.log"' EXIT

fail() {
	echo "check-install: $*" >&2
	exit 1
}

# The tree as install.list spells it.
tree() {
	(cd "$1" && find . \( -type f -printf 'f %m %P\n' \) -o \( -type l -printf 'l %P -> %l\n' \)) |
	    sed 's|^\(f [0-7]* \)|\1/|; s|^l |l /|' | sort
}

run_make() {
	$make -s --no-print-directory BUILD="$build" "$@" >"$dest.log" 2>&1 ||
	    { cat "$dest.log" >&2; fail "make $* failed"; }
}

unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || true)
sysusersdir=$(pkg-config --variable=sysusersdir systemd 2>/dev/null || true)
grep -v '^#' "$list" |
    sed "s|@UNITDIR@|${unitdir:-/usr/lib/systemd/system}|; s|@SYSUSERSDIR@|${sysusersdir:-/usr/lib/sysusers.d}|" |
    sort >"$dest.want"

run_make install DESTDIR="$dest/root" PREFIX=/usr
tree "$dest/root" >"$dest.got"
diff -u "$dest.want" "$dest.got" >&2 || fail "the installed tree differs from $list (- expected, + installed)"

root=$dest/root
grep -rl '@[A-Z]*@' "$root/etc" "$root/usr/share" "$root/usr/lib/pkgconfig" \
    "$root${unitdir:-/usr/lib/systemd/system}" && fail "placeholders left in the files above"
grep -qx 'ExecStart=/usr/sbin/leasepoold -c /etc/leasepool/leasepoold.conf' \
    "$root${unitdir:-/usr/lib/systemd/system}/leasepoold.service" || fail "ExecStart is not the installed daemon"
# The release named in VERSION, in every page's footer and in leasepool.pc.
version=$(cat VERSION)
for page in "$root"/usr/share/man/man*/*; do
	grep -qx ".Os leasepool $version" "$page" || fail "$page does not name leasepool $version"
done
grep -qx "Version: $version" "$root/usr/lib/pkgconfig/leasepool.pc" || fail "leasepool.pc is not version $version"

# An administrator's configuration survives install and uninstall.
echo "# changed" >>"$root/etc/leasepool/leasepoold.conf"
run_make install DESTDIR="$root" PREFIX=/usr
tail -n 1 "$root/etc/leasepool/leasepoold.conf" | grep -qx '# changed' || fail "install overwrote a changed configuration"
run_make uninstall DESTDIR="$root" PREFIX=/usr
left=$(cd "$root" && find . \( -type f -o -type l \) -printf '/%P\n')
[ "$left" = /etc/leasepool/leasepoold.conf ] || fail "after uninstall, left: $left"

# Beside any other prefix, the configuration goes to PREFIX/etc.
run_make install DESTDIR="$dest/local" PREFIX=/usr/local
[ -f "$dest/local/usr/local/etc/leasepool/leasepoold.conf" ] || fail "PREFIX=/usr/local: no /usr/local/etc/leasepool/leasepoold.conf"
run_make uninstall DESTDIR="$dest/local" PREFIX=/usr/local
left=$(cd "$dest/local" && find . \( -type f -o -type l \))
[ -z "$left" ] || fail "after uninstall, left: $left"

# A user's own PREFIX: everything below it, nothing in the system's directories.
# As root the install runs as nobody, when nobody can read this tree.
user=$dest/user
mkdir "$user"
as_user=""
if [ "$(id -u)" = 0 ] && setpriv --reuid=nobody --regid=nogroup --clear-groups test -r Makefile 2>/dev/null &&
    setpriv --reuid=nobody --regid=nogroup --clear-groups test -r "$build/leasepoold"; then
	chmod 0711 "$dest"
	chown nobody "$user"
	as_user="setpriv --reuid=nobody --regid=nogroup --clear-groups"
fi
$as_user $make -s --no-print-directory BUILD="$build" install PREFIX="$user" >"$dest.log" 2>&1 ||
    { cat "$dest.log" >&2; fail "make install PREFIX=$user${as_user:+ as nobody} failed"; }
for f in lib/systemd/system/leasepoold.service lib/systemd/system/leasepoold.socket \
    lib/sysusers.d/leasepool.conf etc/leasepool/leasepoold.conf sbin/leasepoold; do
	[ -f "$user/$f" ] || fail "PREFIX=$user: no $user/$f"
done
installed=$(cd "$user" && find . \( -type f -o -type l \) | wc -l)
[ "$installed" -eq "$(wc -l <"$dest.want")" ] || fail "PREFIX=$user: $installed files, not $(wc -l <"$dest.want")"
$as_user $make -s --no-print-directory BUILD="$build" uninstall PREFIX="$user" >"$dest.log" 2>&1 ||
    { cat "$dest.log" >&2; fail "make uninstall PREFIX=$user failed"; }
left=$(cd "$user" && find . \( -type f -o -type l \))
[ -z "$left" ] || fail "PREFIX=$user: after uninstall, left: $left"

echo "check-install: make install lays down the $(wc -l <"$dest.want") expected files; uninstall removes them"
