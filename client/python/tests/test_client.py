# SPDX-License-Identifier: ISC
"""The asyncio client against a real leasepoold: every method, and every
error the daemon's built-in jobs (echo, sleep, spin) can provoke."""

from __future__ import annotations

import asyncio
import builtins
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio  # type: ignore[import]  # Debian's has no type hints

from daemon_fixture import Daemon, daemon  # noqa: F401 - fixtures

import leasepoold

pytestmark = pytest.mark.asyncio
# Bound for events that take milliseconds; generous for a loaded 2-core machine.
BOUND = 30.0


def top_level_job(x: int) -> int:
    """A top-level function: sent by its name, which the daemon does not know."""
    return x


@pytest_asyncio.fixture  # type: ignore[misc]
async def client(daemon: Daemon) -> AsyncIterator[leasepoold.Client]:  # noqa: F811
    async with await leasepoold.connect(daemon.socket) as c:
        yield c


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Waits until check() holds, polling, for at most BOUND seconds."""
    async def poll() -> None:
        while not await check():
            await asyncio.sleep(0.01)
    try:
        await asyncio.wait_for(poll(), BOUND)
    except builtins.TimeoutError:
        pytest.fail(f"not within {BOUND} s: {what}")


async def pool_leases(client: leasepoold.Client, pool: str) -> list[dict[str, Any]]:
    stats = await client.stats(pool)
    leases: list[dict[str, Any]] = stats["pools"][pool]["leases"]
    return leases


async def in_flight(client: leasepoold.Client, pool: str, runs: int) -> bool:
    return bool((await client.stats(pool))["pools"][pool]["runs_in_flight"] == runs)


async def no_leases(client: leasepoold.Client, pool: str) -> bool:
    return not await pool_leases(client, pool)


async def test_hello_names_the_daemon_its_pools_and_functions(client: leasepoold.Client) -> None:
    hello = await client.hello("pytest")
    assert hello["server"].startswith("leasepoold ")
    assert hello["protocol"] == 1
    assert {"cpu", "one", "short"} <= set(hello["pools"])
    assert {"echo", "sleep", "spin"} <= set(hello["functions"])


async def test_lease_runs_jobs_and_renews(client: leasepoold.Client) -> None:
    value = {"list": [1, -2, 3.5], "bytes": b"\x00\xff", "text": "h\u00e9", "none": None}
    async with await client.acquire(owner="tester", lease_seconds=30) as lease:
        assert (lease.owner, lease.pool, lease.lease_seconds) == ("tester", "cpu", 30)
        assert lease.id >= 1
        assert await lease.run("echo", value) == value
        assert await lease.run("spin", 0) >= 0
        assert await lease.renew(40) == 40 == lease.lease_seconds
        assert [entry["owner"] for entry in await pool_leases(client, "cpu")] == ["tester"]
    assert await pool_leases(client, "cpu") == []


async def test_release_twice_is_harmless_and_the_id_is_gone(client: leasepoold.Client) -> None:
    lease = await client.acquire(owner="twice")
    await lease.release()
    await lease.release()
    with pytest.raises(leasepoold.NoSuchLeaseError):
        await lease.run("echo", 1)


async def test_64_runs_of_one_lease_are_in_flight_at_once(client: leasepoold.Client) -> None:
    async with await client.acquire(owner="gather") as lease:
        # Both workers sleep, so the echoes queue in the daemon: all of them
        # in flight at once shows the connection pipelines them.
        blockers = [asyncio.ensure_future(lease.run("sleep", 2)) for _ in range(lease.workers)]
        echoes = asyncio.gather(*(lease.run("echo", i) for i in range(64)))
        await eventually(lambda: in_flight(client, "cpu", 64 + len(blockers)),
                         "64 runs and the blockers in flight")
        assert await echoes == list(range(64))
        await asyncio.gather(*blockers)


async def test_1000_submissions_from_10_tasks(client: leasepoold.Client) -> None:
    async def submitter(task: int) -> list[Any]:
        return list(await asyncio.gather(*(client.submit("echo", [task, i]) for i in range(100))))

    results = await asyncio.gather(*(submitter(task) for task in range(10)))
    assert results == [[[task, i] for i in range(100)] for task in range(10)]


async def test_submit_to_another_pool_and_with_an_owner(client: leasepoold.Client) -> None:
    assert await client.submit("echo", "x", pool="one", owner="me", timeout=BOUND) == "x"


async def test_a_busy_pool_is_unavailable_without_waiting_and_times_out(
        client: leasepoold.Client) -> None:
    async with await client.acquire(owner="holder", pool="one"):
        with pytest.raises(leasepoold.LeaseUnavailableError):
            await client.acquire(pool="one", wait=False)
        with pytest.raises(leasepoold.TimeoutError) as timeout:
            await client.acquire(pool="one", timeout=0.1)
        assert isinstance(timeout.value, builtins.TimeoutError)


async def test_an_expired_lease_can_neither_run_nor_renew(client: leasepoold.Client) -> None:
    async with await client.acquire(owner="brief", pool="short", lease_seconds=0.05) as lease:
        async def expired() -> bool:
            try:
                await lease.run("echo", 1)
                return False
            except leasepoold.LeaseExpiredError:
                return True
        await eventually(expired, "the lease's expiry")
        with pytest.raises(leasepoold.LeaseExpiredError):
            await lease.renew()


@pytest.mark.parametrize("call", [
    lambda c: c.acquire(pool="nope"),
    lambda c: c.submit("echo", 1, pool="nope"),
    lambda c: c.stats("nope"),
])
async def test_a_pool_that_does_not_exist(
        client: leasepoold.Client,
        call: Callable[[leasepoold.Client], Awaitable[Any]]) -> None:
    with pytest.raises(leasepoold.NoSuchPoolError, match="nope"):
        await call(client)


async def test_job_errors_keep_the_lease_usable(client: leasepoold.Client) -> None:
    async with await client.acquire(owner="errors") as lease:
        with pytest.raises(leasepoold.NoSuchFunctionError, match="'no_such_job'"):
            await lease.run("no_such_job")
        with pytest.raises(leasepoold.InvalidArgumentError, match="echo takes exactly one"):
            await lease.run("echo")
        with pytest.raises(leasepoold.JobTimeoutError):
            await lease.run("sleep", 60, timeout=0.1)
        with pytest.raises(leasepoold.InvalidArgumentError, match="timeout"):
            await lease.run("echo", 1, timeout=-1)
        with pytest.raises(leasepoold.LimitExceededError):
            await lease.run("echo", bytes(128 << 10))  # max_result_bytes is 64K
        assert await lease.run("echo", "still usable") == "still usable"


async def test_a_killed_worker_is_worker_crashed_with_its_signal(client: leasepoold.Client) -> None:
    async with await client.acquire(owner="crash", pool="one") as lease:
        job = asyncio.ensure_future(lease.run("sleep", 60))

        await eventually(lambda: in_flight(client, "one", 1), "the sleep running")
        (worker,) = (await pool_leases(client, "one"))[0]["workers"]
        os.kill(worker, signal.SIGKILL)
        with pytest.raises(leasepoold.WorkerCrashedError) as crashed:
            await asyncio.wait_for(job, BOUND)
        assert crashed.value.signal == signal.SIGKILL
        assert await lease.run("echo", 2) == 2


async def test_a_pool_that_does_not_admit_the_user(client: leasepoold.Client) -> None:
    assert "closed" not in (await client.hello())["pools"]
    with pytest.raises(leasepoold.PermissionDeniedError, match="closed"):
        await client.acquire(pool="closed")


async def test_a_message_too_large_ends_the_connection_saying_why(daemon: Daemon) -> None:  # noqa: F811
    async with await leasepoold.connect(daemon.socket) as c:
        with pytest.raises(leasepoold.DisconnectedError, match="LIMIT_EXCEEDED"):
            await c.submit("echo", bytes(5 << 20))  # max_message_bytes is 4 MiB
        with pytest.raises(leasepoold.DisconnectedError):
            await c.hello()


async def test_a_value_msgpack_cannot_carry_is_refused_before_sending(
        client: leasepoold.Client) -> None:
    async with await client.acquire(owner="unpackable") as lease:
        with pytest.raises(TypeError):
            await lease.run("echo", {1, 2})
        assert not client._connection.pending
        assert await lease.run("echo", [1, 2]) == [1, 2]


async def test_an_unknown_method_and_an_unknown_lease(client: leasepoold.Client) -> None:
    with pytest.raises(leasepoold.UnknownMethodError):
        await client.call("frobnicate", {})
    with pytest.raises(leasepoold.NoSuchLeaseError):
        await client.call("release", {"lease": 2**40})


async def test_function_objects_are_sent_by_module_and_name(client: leasepoold.Client) -> None:
    async with await client.acquire(owner="names") as lease:
        with pytest.raises(leasepoold.NoSuchFunctionError, match=f"'{__name__}:top_level_job'"):
            await lease.run(top_level_job, 1)


async def test_an_acquire_cancelled_while_waiting_leaks_no_lease(client: leasepoold.Client) -> None:
    holder = await client.acquire(owner="holder", pool="one")
    waiter = asyncio.ensure_future(client.acquire(owner="waiter", pool="one"))

    async def waiting() -> bool:
        return bool((await client.stats("one"))["pools"]["one"]["waiting"] == 1)
    await eventually(waiting, "the acquire waiting")
    waiter.cancel()
    await holder.release()  # the daemon now grants the cancelled acquire its lease

    await eventually(lambda: no_leases(client, "one"), "the orphaned lease released")


async def test_a_lease_is_released_when_the_block_raises(client: leasepoold.Client) -> None:
    with pytest.raises(ZeroDivisionError):
        async with await client.acquire(owner="raiser", pool="one"):
            1 / 0
    assert await pool_leases(client, "one") == []


async def test_closing_fails_pending_and_later_calls(daemon: Daemon) -> None:  # noqa: F811
    c = await leasepoold.connect(daemon.socket)
    await c.acquire(owner="closer", pool="one")
    waiting = asyncio.ensure_future(c.acquire(owner="closer", pool="one"))
    await asyncio.sleep(0)  # the acquire is sent
    await c.close()
    with pytest.raises(leasepoold.DisconnectedError, match="closed"):
        await asyncio.wait_for(waiting, BOUND)
    with pytest.raises(leasepoold.DisconnectedError):
        await c.hello()
    async with await leasepoold.connect(daemon.socket) as observer:
        await eventually(lambda: no_leases(observer, "one"), "the closed client's lease released")


async def test_connect_to_nothing_is_a_connect_error(tmp_path: Any) -> None:
    with pytest.raises(leasepoold.ConnectError, match="missing.sock"):
        await leasepoold.connect(tmp_path / "missing.sock")


async def test_connect_without_a_socket_uses_the_environment(
        daemon: Daemon, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("LEASEPOOL_SOCKET", daemon.socket)
    async with await leasepoold.connect() as c:
        assert c.socket == daemon.socket
        assert (await c.hello())["protocol"] == 1
