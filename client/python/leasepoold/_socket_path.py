# SPDX-License-Identifier: ISC
"""Which socket ``connect()`` uses when it is given none, as libleasepool chooses.

``$LEASEPOOL_SOCKET`` is used as it is.  Otherwise the first *trusted*
socket of ``/run/leasepool/leasepool.sock`` (the system service's),
``$XDG_RUNTIME_DIR/leasepool.sock`` and ``/tmp/leasepool-$UID.sock``.

Trusted is the rule of the daemon's proto/path_trust.c, for sockets: what
is at the path is a socket itself (not a link) owned by the user, root or
the ``leasepool`` user, and every directory from its parent up to ``/``
(as ``realpath`` resolves them) is owned by one of them and writable by no
one else, unless it has the sticky bit, as ``/tmp`` does.  A group write
bit is allowed when the group is its owner's private group.  A socket
that fails the rule may be a trap another user laid in a shared place:
it is passed over, and when no candidate is trusted the error says why
the first such one was refused (``PermissionDeniedError``).
"""

from __future__ import annotations

import grp
import os
import pwd
import stat

from .errors import ConnectError, PermissionDeniedError

SYSTEM_SOCKET = "/run/leasepool/leasepool.sock"
ENV_SOCKET = "LEASEPOOL_SOCKET"
# The daemon's user under the shipped unit: its socket is as trusted as root's.
DAEMON_USER = "leasepool"


class _Distrusted(Exception):
    """What is at a path, or one of its directories, is not to be trusted."""


def _trusted_uids() -> set[int]:
    uids = {os.getuid(), 0}
    try:
        uids.add(pwd.getpwnam(DAEMON_USER).pw_uid)
    except KeyError:
        pass
    return uids


def _private_group(owner: int, gid: int) -> bool:
    """Whether gid is owner's alone: named after them, their primary group, no one else's."""
    try:
        user = pwd.getpwuid(owner)
        group = grp.getgrgid(gid)
    except KeyError:
        return False
    return (owner != 0 and user.pw_gid == gid and group.gr_name == user.pw_name
            and all(member == user.pw_name for member in group.gr_mem)
            and all(other.pw_gid != gid or other.pw_uid == owner for other in pwd.getpwall()))


def _check_owner(what: str, st: os.stat_result, trusted: set[int]) -> None:
    if st.st_uid not in trusted:
        raise _Distrusted(f"{what} belongs to uid {st.st_uid}, whom this process does not trust")


def _check_dirs(path: str, trusted: set[int]) -> None:
    """Every directory from path's parent up to /: who could replace what is at path."""
    directory = os.path.realpath(os.path.dirname(path) or ".")
    while True:
        st = os.stat(directory)
        _check_owner(f"directory {directory}", st, trusted)
        writable = st.st_mode & stat.S_IWOTH or (
            st.st_mode & stat.S_IWGRP and not _private_group(st.st_uid, st.st_gid))
        if writable and not st.st_mode & stat.S_ISVTX:
            raise _Distrusted(f"directory {directory} is writable by others "
                              f"(mode {stat.S_IMODE(st.st_mode):04o}) and has no sticky bit")
        if directory == "/":
            return
        directory = os.path.dirname(directory)


def _is_trusted_socket(path: str, trusted: set[int]) -> bool:
    """True for a trusted socket; False when nothing is there, in trusted
    directories or in none; raises _Distrusted otherwise."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise _Distrusted(f"{path}: {e.strerror}") from None
    if st is not None and not stat.S_ISSOCK(st.st_mode):
        raise _Distrusted(f"{path} is not a socket")
    if st is not None:
        _check_owner(path, st, trusted)
    try:
        _check_dirs(path, trusted)
    except FileNotFoundError:
        return False
    except OSError as e:
        raise _Distrusted(f"{e.filename}: {e.strerror}") from None
    return st is not None


def default_socket() -> str:
    """The socket to use when none is given (see the module's docstring).

    When no candidate is trusted, raises ``PermissionDeniedError`` naming
    the first that was distrusted and why, else ``ConnectError`` listing
    the paths tried.
    """
    env = os.environ.get(ENV_SOCKET)
    if env:
        return env
    candidates = [SYSTEM_SOCKET]
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime.startswith("/"):
        candidates.append(f"{runtime}/leasepool.sock")
    candidates.append(f"/tmp/leasepool-{os.getuid()}.sock")
    trusted = _trusted_uids()
    refusal: PermissionDeniedError | None = None
    for path in candidates:
        try:
            if _is_trusted_socket(path, trusted):
                return path
        except _Distrusted as why:
            refusal = refusal or PermissionDeniedError(
                f"not using {path}: {why} (set {ENV_SOCKET} to the socket to use)")
    if refusal is not None:
        raise refusal
    raise ConnectError(f"no leasepoold socket at {', '.join(candidates)}: start leasepoold, "
                       f"or set {ENV_SOCKET} to its socket")
