# SPDX-License-Identifier: ISC
"""A leasepoold pool's worker program that serves Python functions.

    python3 -m leasepoold.worker [--path DIR]... MODULE...

imports the named modules once, then runs the jobs leasepoold sends over the
worker channel (docs/worker-protocol.md).  A job's function is named
MODULE:FUNCTION and must be a public function defined in one of the named
modules: nothing else in the process can be called by a job.
"""

import argparse
import importlib
import io
import logging
import os
import select
import struct
import sys
import time
import traceback
import types
from typing import Any, Callable, Dict, List, NoReturn, Optional, Sequence, Tuple

import msgpack

FROM_DAEMON = 3
TO_DAEMON = 4

# The frame header: len, job, type, code, flags; big-endian.
HEADER = struct.Struct(">IIBBH")
READY, JOB, RESULT, RECALL, RECALLED = 1, 2, 3, 4, 5
RECALLABLE = 2

OK = 0
NO_SUCH_FUNCTION = 5
LIMIT_EXCEEDED = 11
JOB_FAILED = 13
INTERNAL = 16

# A RECALL is looked for between jobs, but not more often than this, so that
# a frame of many short jobs does not pay a system call for each.
RECALL_LOOK_INTERVAL_NS = 100_000

READ_SIZE = 65536

Function = Callable[..., Any]


def fail(message: str, status: int) -> NoReturn:
    print(f"leasepoold.worker: {message}", file=sys.stderr)
    sys.exit(status)


class Channel:
    """Frames read from fd 3 and written to fd 4."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        # When the last look for a RECALL was, in whichever frame.
        self.last_look = 0
        self.poller = select.poll()
        self.poller.register(FROM_DAEMON, select.POLLIN)

    def send(self, frame_type: int, frame_id: int, code: int, payload: bytes) -> None:
        header = HEADER.pack(len(payload), frame_id, frame_type, code, 0)
        written = os.writev(TO_DAEMON, (header, payload))
        if written < len(header) + len(payload):
            # Cut short by a signal: the rest follows.
            rest = memoryview(header + payload)[written:]
            while rest:
                rest = rest[os.write(TO_DAEMON, rest):]

    def read_frame(self) -> Tuple[int, int, int, bytearray]:
        """The next frame's type, id, flags and payload, waiting for it."""
        while True:
            frame = self._take_frame(None)
            if frame is not None:
                return frame
            self._fill()

    def recalled(self, frame_id: int) -> bool:
        """Whether the daemon has recalled this frame, without waiting.  A RECALL
        of another frame is stale (that frame has ended) and is dropped."""
        if self.poller.poll(0):
            self._fill()
        while True:
            frame = self._take_frame(RECALL)
            if frame is None:
                return False
            if frame[1] == frame_id:
                return True

    def _fill(self) -> None:
        data = os.read(FROM_DAEMON, READ_SIZE)
        if not data:
            # End of file: the daemon is done with this worker.
            if self.buffer:
                fail("end of file inside a frame", 2)
            sys.exit(0)
        self.buffer += data

    def _take_frame(self, only_type: Optional[int]) -> Optional[Tuple[int, int, int, bytearray]]:
        """The frame at the front of the buffer, if all of it has come (and it
        is of only_type, when given)."""
        if len(self.buffer) < HEADER.size:
            return None
        length, frame_id, frame_type, _code, flags = HEADER.unpack_from(self.buffer)
        end = HEADER.size + length
        if len(self.buffer) < end or (only_type is not None and frame_type != only_type):
            return None
        payload = self.buffer[HEADER.size:end]
        del self.buffer[:end]
        return frame_type, frame_id, flags, payload


def served_functions(module_names: Sequence[str]) -> Dict[str, Function]:
    """Imports the modules and names their public functions MODULE:FUNCTION.
    Only functions defined in a module count: one it imported from elsewhere
    is that other module's, which was not named."""
    functions: Dict[str, Function] = {}
    for module_name in module_names:
        try:
            module = importlib.import_module(module_name)
        except Exception:
            traceback.print_exc()
            fail(f"cannot import {module_name}", 1)
        for name, value in vars(module).items():
            if (not name.startswith("_") and isinstance(value, types.FunctionType)
                    and value.__module__ == module.__name__):
                functions[f"{module_name}:{name}"] = value
    return functions


class Runner:
    """Runs jobs and encodes their outcomes as RESULT frames' code and payload."""

    def __init__(self, functions: Dict[str, Function], max_result_bytes: int) -> None:
        self.functions = functions
        self.max_result_bytes = max_result_bytes
        self.packer = msgpack.Packer(use_bin_type=True)

    def run(self, job: object) -> Tuple[int, bytes]:
        if not (type(job) is list and len(job) == 3 and type(job[0]) is str
                and type(job[1]) is list and type(job[2]) is dict):
            return INTERNAL, b"malformed job"
        name, args, kwargs = job
        function = self.functions.get(name)
        if function is None:
            return NO_SUCH_FUNCTION, text(f"no function {name} in the served modules")
        try:
            result = function(*args, **kwargs)
        except Exception as error:
            traceback.print_exc()
            return JOB_FAILED, text(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
        try:
            payload: bytes = self.packer.pack(result)
        except Exception as error:
            return JOB_FAILED, text(f"result of type {type(result).__name__} cannot be sent as msgpack: {error}")
        if len(payload) > self.max_result_bytes:
            return LIMIT_EXCEEDED, text(
                f"result of {len(payload)} bytes is over LEASEPOOL_MAX_RESULT_BYTES ({self.max_result_bytes})")
        return OK, payload


def text(message: str) -> bytes:
    # An exception's message may hold surrogates (undecodable file names).
    return message.encode("utf-8", "replace")


def serve(channel: Channel, runner: Runner) -> NoReturn:
    channel.send(READY, 0, 0, b"")
    while True:
        frame_type, frame_id, flags, payload = channel.read_frame()
        if frame_type == RECALL:
            continue  # of a frame that has ended
        if frame_type != JOB:
            fail(f"frame of unknown type {frame_type}", 2)
        try:
            jobs = msgpack.unpackb(payload, raw=False, strict_map_key=False)
        except Exception as error:
            fail(f"a JOB payload that is not msgpack: {error}", 2)
        if type(jobs) is not list:
            fail("a JOB payload that is not a msgpack array", 2)
        run_frame(channel, runner, frame_id, flags & RECALLABLE != 0, jobs)


def run_frame(channel: Channel, runner: Runner, frame_id: int, recallable: bool, jobs: List[object]) -> None:
    for job in jobs:
        # Before every job, the first one too: a frame sent while the last job
        # of another ran may be recalled before it starts (a job of it was
        # cancelled).
        if recallable:
            now = time.monotonic_ns()
            if now - channel.last_look >= RECALL_LOOK_INTERVAL_NS:
                channel.last_look = now
                if channel.recalled(frame_id):
                    channel.send(RECALLED, frame_id, 0, b"")
                    return
        code, payload = runner.run(job)
        channel.send(RESULT, frame_id, code, payload)


def max_result_bytes() -> int:
    value = os.environ.get("LEASEPOOL_MAX_RESULT_BYTES", "")
    if not (value.isascii() and value.isdigit()):
        fail(f"LEASEPOOL_MAX_RESULT_BYTES is not a number of bytes: {value!r}", 2)
    return int(value)


def main() -> NoReturn:
    parser = argparse.ArgumentParser(
        prog="python3 -m leasepoold.worker",
        description="Serve the public functions of Python modules, as MODULE:FUNCTION, "
                    "to a leasepoold pool.")
    parser.add_argument("--path", action="append", default=[], metavar="DIR",
                        help="look for the modules in DIR first (may be repeated)")
    parser.add_argument("modules", nargs="+", metavar="MODULE", help="a module whose functions are served")
    options = parser.parse_args()
    if os.environ.get("LEASEPOOL_WORKER_FDS") != f"{FROM_DAEMON},{TO_DAEMON}":
        fail("run by leasepoold as a pool's worker_program; see docs/worker-protocol.md", 2)
    limit = max_result_bytes()
    # A program that a job starts must not inherit the channel: it could
    # write into it, and would hold it open after this worker ends.
    os.set_inheritable(FROM_DAEMON, False)
    os.set_inheritable(TO_DAEMON, False)
    # stdout is the daemon's log: each line should reach it when printed.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    sys.path[:0] = options.path
    functions = served_functions(options.modules)
    # Does nothing when the modules configured logging themselves.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    serve(Channel(), Runner(functions, limit))


if __name__ == "__main__":
    main()
