# SPDX-License-Identifier: ISC
"""The parts of the client that need no daemon: function names, error
classes, and the trust check of default sockets."""

from __future__ import annotations

import builtins
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import daemon_fixture  # noqa: F401 - puts this tree's leasepoold first on sys.path

import leasepoold
from leasepoold import _socket_path
from leasepoold.errors import error_from_wire


def top_level_job(x: int) -> int:
    return x


def test_functions_a_worker_cannot_import_are_refused_before_sending() -> None:
    def nested(x: int) -> int:
        return x

    not_importable: list[Any] = [lambda x: x, nested, "".join, 42]
    for fn in not_importable:
        with pytest.raises(TypeError, match="top level"):
            leasepoold.function_name(fn)
    assert leasepoold.function_name(top_level_job) == f"{__name__}:top_level_job"
    assert leasepoold.function_name("mod:fn") == "mod:fn"


def test_a_function_of_main_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(top_level_job, "__module__", "__main__")
    with pytest.raises(TypeError, match="top level"):
        leasepoold.function_name(top_level_job)


def test_each_code_has_its_class() -> None:
    timeout = error_from_wire({"code": "TIMEOUT", "message": "waited"})
    assert type(timeout) is leasepoold.TimeoutError and isinstance(timeout, builtins.TimeoutError)
    assert str(timeout) == "waited"
    crashed = error_from_wire({"code": "WORKER_CRASHED", "message": "killed", "signal": 9})
    assert isinstance(crashed, leasepoold.WorkerCrashedError) and crashed.signal == 9
    failed = error_from_wire({"code": "JOB_FAILED", "message": "mod.BadThing: it broke: twice"})
    assert isinstance(failed, leasepoold.JobError)
    assert (failed.remote_type, failed.remote_message) == ("mod.BadThing", "it broke: twice")
    bare = error_from_wire({"code": "JOB_FAILED", "message": "KeyError"})
    assert isinstance(bare, leasepoold.JobError)
    assert (bare.remote_type, bare.remote_message) == ("KeyError", "")
    sentence = error_from_wire({"code": "JOB_FAILED", "message": "echo takes one argument"})
    assert isinstance(sentence, leasepoold.JobError)
    assert (sentence.remote_type, sentence.remote_message) == (None, "echo takes one argument")
    cancelled = error_from_wire({"code": "CANCELLED", "message": "cancelled before it started"})
    assert type(cancelled) is leasepoold.JobCancelledError and cancelled.code == "CANCELLED"


def test_unknown_codes_are_internal_and_malformed_errors_are_protocol() -> None:
    newer = error_from_wire({"code": "SOMETHING_NEW", "message": "m", "extra": 1})
    assert type(newer) is leasepoold.InternalError and newer.code == "SOMETHING_NEW"
    assert type(error_from_wire({"code": "DISCONNECTED", "message": "m"})) is leasepoold.InternalError
    assert type(error_from_wire({"code": "TIMEOUT"})) is leasepoold.ProtocolError
    assert type(error_from_wire("TIMEOUT")) is leasepoold.ProtocolError


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[Path]:
    """A directory of root's, writable by no one else (pytest's are 0700)."""
    path = tmp_path / "d"
    path.mkdir(mode=0o755)
    yield path


def bind(path: Path) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    return listener


def trusted(path: Path) -> bool:
    return _socket_path._is_trusted_socket(str(path), {os.getuid(), 0})


def test_a_socket_of_ours_in_a_safe_directory_is_trusted(directory: Path) -> None:
    assert not trusted(directory / "absent.sock")
    with bind(directory / "s.sock"):
        assert trusted(directory / "s.sock")


def test_a_directory_others_may_write_is_distrusted_unless_sticky(directory: Path) -> None:
    with bind(directory / "s.sock"):
        directory.chmod(0o777)
        with pytest.raises(_socket_path._Distrusted, match="writable by others .mode 0777"):
            trusted(directory / "s.sock")
        directory.chmod(0o1777)
        assert trusted(directory / "s.sock")


def test_a_strangers_socket_and_a_file_are_distrusted(directory: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("giving a socket to another user takes root")
    with bind(directory / "s.sock"):
        os.chown(directory / "s.sock", 65534, 65534)
        with pytest.raises(_socket_path._Distrusted, match="belongs to uid 65534"):
            trusted(directory / "s.sock")
    (directory / "file").write_text("")
    with pytest.raises(_socket_path._Distrusted, match="is not a socket"):
        trusted(directory / "file")


def test_default_socket_names_the_refused_socket(monkeypatch: pytest.MonkeyPatch,
                                                 directory: Path) -> None:
    monkeypatch.delenv("LEASEPOOL_SOCKET", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(directory))
    monkeypatch.setattr(_socket_path, "SYSTEM_SOCKET", str(directory / "absent.sock"))
    # So that no /tmp/leasepool-$UID.sock of a daemon running here is found.
    monkeypatch.setattr(os, "getuid", lambda: 4242)
    with bind(directory / "leasepool.sock"):
        assert _socket_path.default_socket() == str(directory / "leasepool.sock")
        directory.chmod(0o777)
        with pytest.raises(leasepoold.PermissionDeniedError, match="not using .*writable by others"):
            _socket_path.default_socket()
    monkeypatch.setenv("LEASEPOOL_SOCKET", "/any/where.sock")
    assert _socket_path.default_socket() == "/any/where.sock"
