# SPDX-License-Identifier: ISC
"""leasepoold's asyncio client and Python pool against the leasepool library
(0.1.3) it replaces, side by side in one run (bench/README.md).

    /usr/bin/python3 bench/python_vs_library.py [--leasepoold build/leasepoold]
        [--library ../shared/peers/leasepool-0.1.3/src]

Three contenders run the same jobs (examples/python/primes.py): the daemon,
started here on a private socket with a Python pool of one worker per CPU;
the library's process backend and its thread backend, with as many
workers.  Four figures each: a sequential run's round trip, the rate of
runs with 64 in flight on one lease, the time to count primes on every CPU
at once, and the rate of 10,000 submissions through the grinder (both
grinders batch 64, or what waited 2 ms).  The library is imported from its
source tree, as it is: it needs nothing beyond the standard library.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "python"
sys.path[:0] = [str(REPO / "client" / "python"), str(EXAMPLES)]

import leasepoold  # noqa: E402
from primes import count_primes, echo  # noqa: E402

CPUS = os.cpu_count() or 1
SEQUENTIAL_RUNS = 5000
IN_FLIGHT = 64
PIPELINED_RUNS = IN_FLIGHT * 400
PRIME_LIMIT = 150_000
SUBMISSIONS = 10_000
BATCH_SIZE = 64
BATCH_WAIT = 0.002
STARTUP_BOUND = 30.0

# What each contender's lease() yields: its lease's run(fn, arg).  Each has
# start(), lease(), submit(fn, arg) through its grinder, and stop().
Run = Callable[[Callable[[Any], Any], Any], Awaitable[Any]]


class Daemon:

    def __init__(self, leasepoold_path: str) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="lp-bench-py-"))
        self.socket = str(self.directory / "leasepool.sock")
        config = self.directory / "leasepoold.conf"
        config.write_text(f"""\
[daemon]
default_pool = python
[pool python]
executors_min = 1
executors_max = 2
workers = {CPUS}
batch_size = {BATCH_SIZE}
batch_wait = {BATCH_WAIT}
worker_program = {sys.executable} -m leasepoold.worker --path {EXAMPLES} primes
""")
        env = {**os.environ, "PYTHONPATH": str(REPO / "client" / "python")}
        self.log = open(self.directory / "leasepoold.log", "wb")
        self.process = subprocess.Popen([leasepoold_path, "-c", str(config), "-s", self.socket],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + STARTUP_BOUND
        while not self._listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"leasepoold did not start; see {self.log.name}")
            time.sleep(0.01)

    def _listening(self) -> bool:
        with socket.socket(socket.AF_UNIX) as probe:
            return probe.connect_ex(self.socket) == 0

    async def start(self) -> None:
        self.client = await leasepoold.connect(self.socket)
        # The pool's workers started and imported primes before anything is timed.
        async with await self.client.acquire(pool="python") as lease:
            await asyncio.gather(*(lease.run(echo, n) for n in range(CPUS * 4)))

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[Run]:
        async with await self.client.acquire(pool="python") as lease:
            yield lease.run

    async def submit(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        return await self.client.submit(fn, arg, pool="python")

    async def stop(self) -> None:
        await self.client.close()
        self.process.terminate()
        self.process.wait()
        self.log.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class Library:
    def __init__(self, leasepool: Any, backend: str) -> None:
        self.manager = leasepool.LeasedExecutorManager(backend=backend, max_pools=2, min_pools=1,
                                                       workers_per_pool=CPUS)
        self.grinder = leasepool.WorkGrinder(executor_manager=self.manager,
                                             batch_size_threshold=BATCH_SIZE, max_wait_seconds=BATCH_WAIT)

    async def start(self) -> None:
        await self.manager.start()
        await self.grinder.start()
        async with self.lease() as run:
            await asyncio.gather(*(run(echo, n) for n in range(CPUS * 4)))

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[Run]:
        async with await self.manager.acquire() as lease:
            yield lease.run

    async def submit(self, fn: Callable[[Any], Any], arg: Any) -> Any:
        return await self.grinder.submit(fn, arg)

    async def stop(self) -> None:
        await self.grinder.stop()
        await self.manager.stop()


async def sequential_microseconds(contender: Any) -> float:
    async with contender.lease() as run:
        start = time.perf_counter()
        for n in range(SEQUENTIAL_RUNS):
            await run(echo, n)
        return (time.perf_counter() - start) / SEQUENTIAL_RUNS * 1e6


async def pipelined_rate(contender: Any) -> float:
    async with contender.lease() as run:
        async def one_in_flight() -> None:
            for n in range(PIPELINED_RUNS // IN_FLIGHT):
                await run(echo, n)

        start = time.perf_counter()
        await asyncio.gather(*(one_in_flight() for _ in range(IN_FLIGHT)))
        return PIPELINED_RUNS / (time.perf_counter() - start)


async def primes_seconds(contender: Any) -> float:
    async with contender.lease() as run:
        start = time.perf_counter()
        await asyncio.gather(*(run(count_primes, PRIME_LIMIT) for _ in range(CPUS)))
        return time.perf_counter() - start


async def grinder_rate(contender: Any) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(contender.submit(echo, n) for n in range(SUBMISSIONS)))
    return SUBMISSIONS / (time.perf_counter() - start)


# name, unit, measure, whether more is better
FIGURES = [
    ("sequential run round trip", "us", sequential_microseconds, False),
    (f"runs, {IN_FLIGHT} in flight on one lease", "runs/s", pipelined_rate, True),
    (f"count_primes({PRIME_LIMIT:,}) on each of {CPUS} CPUs", "s", primes_seconds, False),
    (f"{SUBMISSIONS:,} submissions through the grinder", "jobs/s", grinder_rate, True),
]


async def measure(contender: Any) -> list[float]:
    await contender.start()
    try:
        return [await figure(contender) for _, _, figure, _ in FIGURES]
    finally:
        await contender.stop()


def goals(daemon: list[float], process: list[float], thread: list[float]) -> list[str]:
    """The issue's goals, one by one: met or missed."""
    contenders = {"process": process, "thread": thread}

    def goal(index: int, backend: str, factor: float, wording: str) -> str:
        theirs = contenders[backend][index]
        higher = FIGURES[index][3]
        met = daemon[index] >= theirs * factor if higher else daemon[index] * factor <= theirs
        return f"{'met' if met else 'MISSED'}: {FIGURES[index][0]}: {wording} the {backend} backend's"

    return [
        goal(0, "process", 2.0, "at most half"),
        goal(1, "process", 3.0, "at least 3x"),
        goal(1, "thread", 1.0, "above"),
        goal(2, "process", 1.0, "below"),
        goal(3, "process", 1.0, "above"),
        goal(3, "thread", 1.0, "above"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leasepoold", default=str(REPO / "build" / "leasepoold"))
    parser.add_argument("--library", default=str(REPO.parent / "shared" / "peers" / "leasepool-0.1.3" / "src"))
    options = parser.parse_args()
    sys.path.insert(0, options.library)
    import leasepool  # type: ignore[import]  # from --library, at run time

    daemon = asyncio.run(measure(Daemon(options.leasepoold)))
    process = asyncio.run(measure(Library(leasepool, "process")))
    thread = asyncio.run(measure(Library(leasepool, "thread")))
    print(f"{'':48} {'leasepoold':>12} {'process':>12} {'thread':>12}")
    for (label, unit, _, _), *values in zip(FIGURES, daemon, process, thread):
        cells = " ".join(f"{value:>12,.{3 if unit == 's' else 0}f}" for value in values)
        print(f"{label + ' (' + unit + ')':48} {cells}")
    print()
    print("\n".join(goals(daemon, process, thread)))


if __name__ == "__main__":
    main()
