# SPDX-License-Identifier: ISC
"""A real leasepoold for the client's tests: started on a private socket
with a test configuration, and stopped (or killed) by the test.

Not a conftest.py: test modules import what they use from here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
# The package of this tree, not one installed elsewhere; test modules import
# this module before leasepoold.
sys.path.insert(0, str(REPO / "client" / "python"))
LEASEPOOLD = Path(os.environ.get("LEASEPOOLD", REPO / "build" / "leasepoold"))
# Bounds for events that take milliseconds; generous for a loaded 2-core machine.
STARTUP_BOUND = 30.0

# Pools for the tests: `cpu` for ordinary work, `one` with a single executor
# for contention, `short` whose leases expire at once past their term,
# `closed` for nobody else.
CONFIG = """\
[daemon]
shutdown_timeout = 5
default_pool = cpu
max_result_bytes = 64K
[pool cpu]
executors_min = 1
executors_max = 2
workers = 2
job_timeout = 60
[pool one]
executors_min = 1
executors_max = 1
workers = 1
[pool short]
executors_min = 1
executors_max = 1
workers = 1
grace_seconds = 0
[pool closed]
executors_min = 0
allow_users = nobody
"""

EXAMPLES = REPO / "examples" / "python"
# A pool of Python workers serving the examples' jobs, for the tests that
# need one; a 1 s grace period, so that a lease expires soon.
PYTHON_POOL = f"""\
[pool python]
executors_min = 1
executors_max = 2
workers = 4
grace_seconds = 1
job_timeout = 60
worker_program = {sys.executable} -m leasepoold.worker --path {EXAMPLES} jobs primes
"""


class Daemon:
    """One leasepoold process and its socket."""

    def __init__(self, directory: Path, extra_config: str = "") -> None:
        self.socket = str(directory / "leasepool.sock")
        config = directory / "leasepoold.conf"
        config.write_text(CONFIG + extra_config)
        if not LEASEPOOLD.exists():
            pytest.fail(f"{LEASEPOOLD} is missing: run `make all` first")
        self.log = open(directory / "leasepoold.log", "wb")
        # Python workers import the package of this tree.
        env = {**os.environ, "PYTHONPATH": str(REPO / "client" / "python")}
        self.process = subprocess.Popen([str(LEASEPOOLD), "-c", str(config), "-s", self.socket],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + STARTUP_BOUND
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"leasepoold exited with {self.process.returncode}; see {self.log.name}")
            with socket.socket(socket.AF_UNIX) as probe:
                try:
                    probe.connect(self.socket)
                    return
                except OSError:
                    time.sleep(0.01)
        pytest.fail(f"leasepoold did not listen on {self.socket} within {STARTUP_BOUND} s")

    def signal(self, number: int) -> None:
        """Sends the daemon a signal (SIGTERM to stop it, SIGKILL to kill it)."""
        self.process.send_signal(number)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STARTUP_BOUND)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def start_daemon(extra_config: str = "") -> Iterator[Daemon]:
    """A generator for a fixture: a daemon in a fresh directory, stopped afterwards."""
    # Short, for sun_path's 108 bytes: pytest's tmp_path can be longer.
    directory = Path(tempfile.mkdtemp(prefix="lp-py-"))
    daemon = Daemon(directory, extra_config)
    try:
        yield daemon
    finally:
        daemon.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon() -> Iterator[Daemon]:
    """A daemon shared by a module's tests, which leave it as they found it."""
    yield from start_daemon()


@pytest.fixture(scope="module")
def python_daemon() -> Iterator[Daemon]:
    """A daemon with the Python pool `python` too, shared by a module's tests."""
    yield from start_daemon(PYTHON_POOL)


@pytest.fixture
def own_daemon() -> Iterator[Daemon]:
    """A daemon of the test's own, which it may stop or kill."""
    yield from start_daemon()
