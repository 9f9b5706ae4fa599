# SPDX-License-Identifier: ISC
"""The client when its connection ends: the daemon stopped or killed under
pending calls, and a client dropped or left open when its loop ends."""

from __future__ import annotations

import asyncio
import gc
import signal
import threading

import pytest

from daemon_fixture import Daemon, daemon, own_daemon  # noqa: F401 - fixtures

import leasepoold

pytestmark = pytest.mark.asyncio
BOUND = 30.0


async def no_lease_of(client: leasepoold.Client, owner: str) -> None:
    """Waits until the daemon holds no lease of owner's, for at most BOUND seconds."""
    async def poll() -> None:
        while any(lease["owner"] == owner for lease in (await client.stats("cpu"))["pools"]["cpu"]["leases"]):
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), BOUND)


# A stopping daemon answers what it can (STOPPING) before it closes; a
# killed one answers nothing: the connection's end fails every call.
@pytest.mark.parametrize("stop, ends", [
    (signal.SIGTERM, (leasepoold.StoppingError, leasepoold.DisconnectedError)),
    (signal.SIGKILL, leasepoold.DisconnectedError),
])
async def test_a_daemon_that_goes_fails_every_pending_call(
        own_daemon: Daemon, stop: int, ends: type | tuple[type, ...]) -> None:  # noqa: F811
    client = await leasepoold.connect(own_daemon.socket)
    lease = await client.acquire(owner="doomed", pool="one")
    # A run, one queued behind it in the lease, and an acquire in line.
    pending = [asyncio.ensure_future(lease.run("sleep", 600)),
               asyncio.ensure_future(lease.run("echo", 1)),
               asyncio.ensure_future(client.acquire(pool="one"))]

    async def all_sent() -> None:
        while (await client.stats("one"))["pools"]["one"]["waiting"] != 1:
            await asyncio.sleep(0.01)
    await asyncio.wait_for(all_sent(), BOUND)
    own_daemon.signal(stop)
    results = await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), BOUND)
    assert all(isinstance(result, ends) for result in results), results
    with pytest.raises(leasepoold.DisconnectedError):
        await client.hello()
    await lease.release()  # harmless: the daemon released it as the connection went
    await client.close()


async def test_a_collected_client_leaks_no_lease(daemon: Daemon) -> None:  # noqa: F811
    async with await leasepoold.connect(daemon.socket) as observer:
        dropped = await leasepoold.connect(daemon.socket)
        await dropped.acquire(owner="collected")
        del dropped
        gc.collect()
        await no_lease_of(observer, "collected")


async def test_a_client_left_open_when_its_loop_ends_leaks_no_lease(daemon: Daemon) -> None:  # noqa: F811
    async def acquire_and_leave() -> None:
        client = await leasepoold.connect(daemon.socket)
        client.lease = await client.acquire(owner="abandoned")  # type: ignore[attr-defined]
        await asyncio.sleep(0)

    # Its own loop, in a thread: asyncio.run ends it while the client is open.
    thread = threading.Thread(target=asyncio.run, args=(acquire_and_leave(),))
    thread.start()
    await asyncio.to_thread(thread.join)
    async with await leasepoold.connect(daemon.socket) as observer:
        await no_lease_of(observer, "abandoned")
