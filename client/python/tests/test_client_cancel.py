# SPDX-License-Identifier: ISC
"""Cancellation against a real leasepoold: a task cancelled while it awaits
a run or a submission stops the job on the daemon, and Lease.cancel stops
every run of a lease."""

from __future__ import annotations

import asyncio
import builtins
import os

import pytest

from daemon_fixture import daemon  # noqa: F401 - fixtures
from test_client import BOUND, client, eventually, in_flight, pool_leases  # noqa: F401 - fixtures

import leasepoold

pytestmark = pytest.mark.asyncio
# Longer than any bound of these tests: a job that is not stopped fails them.
SLEEP = 600


async def cancelled(client: leasepoold.Client, pool: str) -> dict[str, int]:
    """The pool's runs and submissions cancelled so far, by stage: {queued, running}."""
    counts: dict[str, int] = (await client.stats(pool))["pools"][pool]["cancelled"]
    return counts


async def counted(client: leasepoold.Client, pool: str, expected: dict[str, int]) -> bool:
    return await cancelled(client, pool) == expected


async def nothing_pending(client: leasepoold.Client) -> bool:
    return not client._connection.pending


async def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_a_cancelled_run_stops_its_worker_and_the_lease_runs_on(
        client: leasepoold.Client) -> None:
    before = await cancelled(client, "one")
    async with await client.acquire(owner="cancel", pool="one") as lease:
        run = asyncio.ensure_future(lease.run("sleep", SLEEP))
        await eventually(lambda: in_flight(client, "one", 1), "the sleep running")
        (worker,) = (await pool_leases(client, "one"))[0]["workers"]

        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(run, BOUND)
        await eventually(lambda: process_gone(worker), f"worker {worker} stopped")
        await eventually(lambda: counted(client, "one", {**before, "running": before["running"] + 1}),
                         "the run counted cancelled while it ran")
        # On the worker that replaced it.
        assert await asyncio.wait_for(lease.run("echo", "after"), BOUND) == "after"
    await eventually(lambda: nothing_pending(client), "the CANCELLED answer dropped")


async def test_a_submit_past_its_wait_for_is_cancelled(client: leasepoold.Client) -> None:
    before = await cancelled(client, "one")
    # Alone in its batch, the item stops with its worker: the pool's only
    # worker is free for the next submission long before the sleep would end.
    with pytest.raises(builtins.TimeoutError):
        await asyncio.wait_for(client.submit("sleep", SLEEP, pool="one"), 0.2)

    async def one_more_cancelled() -> bool:
        return sum((await cancelled(client, "one")).values()) == sum(before.values()) + 1
    await eventually(one_more_cancelled, "the submission cancelled, queued or running")
    assert await asyncio.wait_for(client.submit("echo", "after", pool="one"), BOUND) == "after"
    await eventually(lambda: nothing_pending(client), "the CANCELLED answer dropped")


async def test_lease_cancel_stops_its_running_and_queued_runs(client: leasepoold.Client) -> None:
    before = await cancelled(client, "one")
    async with await client.acquire(owner="cancel-all", pool="one") as lease:
        assert await lease.cancel() == {"queued": 0, "running": 0, "finished": 0}
        assert await lease.run("echo", "ready") == "ready"  # its worker is up: the sleep starts at once
        running = asyncio.ensure_future(lease.run("sleep", SLEEP))
        queued = asyncio.ensure_future(lease.run("echo", "never"))
        await eventually(lambda: in_flight(client, "one", 2), "a run running and one queued")

        assert await lease.cancel() == {"queued": 1, "running": 1, "finished": 0}
        for run in (running, queued):
            with pytest.raises(leasepoold.JobCancelledError):
                await asyncio.wait_for(run, BOUND)
        after = {"queued": before["queued"] + 1, "running": before["running"] + 1}
        await eventually(lambda: counted(client, "one", after), "both runs counted cancelled")
        assert await asyncio.wait_for(lease.run("echo", "after"), BOUND) == "after"
    with pytest.raises(leasepoold.NoSuchLeaseError):
        await lease.cancel()


async def test_a_cancel_racing_the_answer_gives_the_result_or_cancels_never_both(
        client: leasepoold.Client) -> None:
    async with await client.acquire(owner="racer") as lease:
        async def race() -> None:
            # Cancelled after twice as many turns of the loop each time:
            # before the run is sent, in flight, answered but not yet seen,
            # until its awaiter has its result.
            turns = 0
            while True:
                run = asyncio.ensure_future(lease.run("echo", turns))
                for _ in range(turns):
                    await asyncio.sleep(0)
                if not run.cancel():
                    assert await run == turns
                    return
                with pytest.raises(asyncio.CancelledError):
                    await run
                turns = turns * 2 or 1
        await asyncio.wait_for(race(), BOUND)
        await eventually(lambda: nothing_pending(client), "every answer and CANCELLED dropped")
        assert await asyncio.wait_for(lease.run("echo", "after"), BOUND) == "after"
