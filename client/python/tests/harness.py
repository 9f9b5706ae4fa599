# SPDX-License-Identifier: ISC
"""Plays leasepoold's side of the worker channel (docs/worker-protocol.md)
against `python3 -m leasepoold.worker`, run with
pipes on its fds 3 and 4 the way the daemon's fork server runs it."""

import fcntl
import os
import pathlib
import select
import struct
import subprocess
import sys
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

import msgpack

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
EXAMPLES = PACKAGE_ROOT.parent.parent / "examples" / "python"

# Spelled out here from the spec, not taken from the package under test.
HEADER = struct.Struct(">IIBBH")
READY, JOB, RESULT, RECALL, RECALLED = 1, 2, 3, 4, 5
STREAM, RECALLABLE = 1, 2
OK, NO_SUCH_FUNCTION, LIMIT_EXCEEDED, JOB_FAILED, INTERNAL = 0, 5, 11, 13, 16

MAX_RESULT_BYTES = 1 << 20
# Generous: the machine may be busy with other test suites.
WAIT_SECONDS = 60.0

Frame = Tuple[int, int, int, int, bytes]  # type, job, code, flags, payload


def frame(frame_type: int, frame_id: int, payload: bytes = b"", flags: int = 0) -> bytes:
    return HEADER.pack(len(payload), frame_id, frame_type, 0, flags) + payload


def job_frame(frame_id: int, jobs: Sequence[Any], flags: int = 0) -> bytes:
    return frame(JOB, frame_id, msgpack.packb(list(jobs), use_bin_type=True), flags)


def high_fd(fd: int) -> int:
    """fd moved out of the way of 3 and 4, closed on exec."""
    moved: int = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Worker:
    def __init__(self, modules: Sequence[str], paths: Sequence[pathlib.Path] = (HERE,),
                 env: Optional[Dict[str, Optional[str]]] = None) -> None:
        """env: variables to change for the worker; None unsets one."""
        to_worker_read, self.to_worker = map(high_fd, os.pipe())
        self.from_worker, from_worker_write = map(high_fd, os.pipe())
        self.stdout = tempfile.TemporaryFile()
        self.stderr = tempfile.TemporaryFile()
        worker_env: Dict[str, Optional[str]] = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(PACKAGE_ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LEASEPOOL_WORKER_FDS": "3,4",
            "LEASEPOOL_POOL": "test",
            "LEASEPOOL_MAX_RESULT_BYTES": str(MAX_RESULT_BYTES),
        }
        worker_env.update(env or {})
        args = [sys.executable, "-m", "leasepoold.worker"]
        for path in paths:
            args += ["--path", str(path)]

        def channel_on_3_and_4() -> None:
            os.dup2(to_worker_read, 3)
            os.dup2(from_worker_write, 4)

        # Not pass_fds=(3, 4), which wants them open here; every descriptor
        # of this process but 0, 1 and 2 is closed on exec (PEP 446).
        self.process = subprocess.Popen(
            args + list(modules), stdin=subprocess.DEVNULL, stdout=self.stdout, stderr=self.stderr,
            env={k: v for k, v in worker_env.items() if v is not None},
            close_fds=False, preexec_fn=channel_on_3_and_4)
        os.close(to_worker_read)
        os.close(from_worker_write)
        self.received = b""

    def send(self, data: bytes) -> None:
        os.write(self.to_worker, data)

    def _receive(self, count: int) -> Optional[bytes]:
        """count bytes from fd 4, or None at its end of file."""
        while len(self.received) < count:
            ready, _, _ = select.select([self.from_worker], [], [], WAIT_SECONDS)
            assert ready, f"no frame from the worker in {WAIT_SECONDS} s; stderr: {self.stderr_text()}"
            data = os.read(self.from_worker, 65536)
            if not data:
                return None
            self.received += data
        taken, self.received = self.received[:count], self.received[count:]
        return taken

    def read_frame(self) -> Optional[Frame]:
        """The next frame from the worker, or None at end of file."""
        header = self._receive(HEADER.size)
        if header is None:
            assert not self.received, "end of file inside a frame header"
            return None
        length, frame_id, frame_type, code, flags = HEADER.unpack(header)
        payload = self._receive(length)
        assert payload is not None, "end of file inside a frame"
        return frame_type, frame_id, code, flags, payload

    def expect_ready(self) -> None:
        assert self.read_frame() == (READY, 0, 0, 0, b"")

    def result(self, frame_id: int) -> Tuple[int, Any]:
        """The next frame, a RESULT of frame_id: its code and the value (OK)
        or message (an error)."""
        got = self.read_frame()
        assert got is not None, f"end of file; stderr: {self.stderr_text()}"
        frame_type, got_id, code, flags, payload = got
        assert (frame_type, got_id, flags) == (RESULT, frame_id, 0), got
        if code == OK:
            return code, msgpack.unpackb(payload, raw=False, strict_map_key=False)
        return code, payload.decode()

    def call(self, name: str, *args: Any, **kwargs: Any) -> Tuple[int, Any]:
        """One job in a frame of its own."""
        self.send(job_frame(7, [[name, list(args), kwargs]]))
        return self.result(7)

    def close(self) -> int:
        """Ends the channel the way the daemon does; the exit status."""
        os.close(self.to_worker)
        self.to_worker = -1
        return self.wait()

    def wait(self) -> int:
        return self.process.wait(WAIT_SECONDS)

    def stdout_text(self) -> str:
        return read_all(self.stdout)

    def stderr_text(self) -> str:
        return read_all(self.stderr)

    def cleanup(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for fd in (self.to_worker, self.from_worker):
            if fd >= 0:
                os.close(fd)
        self.stdout.close()
        self.stderr.close()


def read_all(file: Any) -> str:
    file.seek(0)
    text: str = file.read().decode()
    return text
