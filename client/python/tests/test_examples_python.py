# SPDX-License-Identifier: ISC
"""examples/python against a real leasepoold with a Python pool, and the
Python pool's end-to-end cases: function objects, a job's exception,
pipelined runs and submissions from many tasks."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio  # type: ignore[import]  # Debian's has no type hints

from daemon_fixture import EXAMPLES, REPO, Daemon, python_daemon  # noqa: F401 - fixtures

import leasepoold

sys.path.insert(0, str(EXAMPLES))
import jobs  # noqa: E402 - from examples/python, as the pool's workers import it
import primes  # noqa: E402

pytestmark = pytest.mark.asyncio
# Bound for a whole example or batch; generous for a loaded 2-core machine.
BOUND = 120.0
POOL = "python"


@pytest_asyncio.fixture  # type: ignore[misc]
async def client(python_daemon: Daemon) -> AsyncIterator[leasepoold.Client]:  # noqa: F811
    async with await leasepoold.connect(python_daemon.socket) as c:
        yield c


async def run_example(daemon: Daemon, name: str) -> list[str]:
    """The lines example name printed; fails the test if it failed."""
    env = {**os.environ, "LEASEPOOL_SOCKET": daemon.socket, "LEASEPOOL_PYTHON_POOL": POOL,
           "PYTHONPATH": str(REPO / "client" / "python")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / name), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), BOUND)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode().splitlines()


async def test_quickstart_prints_the_uppercase(python_daemon: Daemon) -> None:  # noqa: F811
    assert await run_example(python_daemon, "00_quickstart_thread_backend.py") == ["Result: HELLO LEASEPOOL"]


async def test_cpu_work_prints_four_prime_counts(python_daemon: Daemon) -> None:  # noqa: F811
    assert await run_example(python_daemon, "07_process_backend_cpu_work.py") == [
        "Prime counts: [2262, 2360, 2464, 2564]"]


async def test_grinder_submit_prints_twenty_squares_and_the_grinder(python_daemon: Daemon) -> None:  # noqa: F811
    results, grinder = await run_example(python_daemon, "08_work_grinder_submit.py")
    assert results == f"Results: {[i * i for i in range(20)]}"
    assert grinder.startswith("Grinder stats: {") and "'completed':" in grinder


async def test_error_handling_prints_each_error(python_daemon: Daemon) -> None:  # noqa: F811
    lines = await run_example(python_daemon, "11_error_handling.py")
    assert [line.split(":")[0] for line in lines] == [
        "Connect without a daemon failed", "No lease available", "Job failed", "Lease expired"]
    assert lines[2] == "Job failed: ValueError port 99999 is out of range"


async def test_a_function_object_runs_by_its_module_and_qualname(client: leasepoold.Client) -> None:
    async with await client.acquire(owner="function-object", pool=POOL) as lease:
        assert await asyncio.wait_for(lease.run(primes.count_primes, 100), BOUND) == 25
        assert await asyncio.wait_for(lease.run(jobs.blocking_square, 12), BOUND) == 144


async def test_a_job_exception_comes_back_as_job_error_with_its_type(client: leasepoold.Client) -> None:
    async with await client.acquire(owner="exception", pool=POOL) as lease:
        with pytest.raises(leasepoold.JobError) as raised:
            await asyncio.wait_for(lease.run(jobs.parse_port, "0"), BOUND)
        assert raised.value.remote_type == "ValueError"
        assert raised.value.remote_message == "port 0 is out of range"
        # int("http") in the job: the built-in's own exception and message.
        with pytest.raises(leasepoold.JobError) as raised:
            await asyncio.wait_for(lease.run(jobs.parse_port, "http"), BOUND)
        assert raised.value.remote_type == "ValueError"
        assert raised.value.remote_message == "invalid literal for int() with base 10: 'http'"


async def test_64_runs_gathered_on_one_lease(client: leasepoold.Client) -> None:
    async with await client.acquire(owner="gather", pool=POOL) as lease:
        results = await asyncio.wait_for(asyncio.gather(*(lease.run(primes.echo, n) for n in range(64))), BOUND)
    assert results == list(range(64))


async def test_1000_submissions_from_10_tasks(client: leasepoold.Client) -> None:
    async def submitter(task: int) -> list[Any]:
        submitted: list[Any] = await asyncio.gather(
            *(client.submit(primes.echo, task * 100 + n, pool=POOL) for n in range(100)))
        return submitted

    results = await asyncio.wait_for(asyncio.gather(*(submitter(task) for task in range(10))), BOUND)
    assert [n for batch in results for n in batch] == list(range(1000))
