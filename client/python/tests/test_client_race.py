"""What no real daemon can be made to do on cue, against a fake one on a
socket pair: an answer that arrives as its awaiter is cancelled."""

from __future__ import annotations

import asyncio
import socket

import msgpack
import pytest

import daemon_fixture  # noqa: F401 - puts this tree's leasepoold first on sys.path

import leasepoold

pytestmark = pytest.mark.asyncio
GRANTED = {"lease": 5, "pool": "cpu", "backend": "process", "workers": 1,
           "lease_seconds": 60, "grace_seconds": 10}


async def test_a_lease_granted_as_its_acquire_is_cancelled_is_released() -> None:
    ours, theirs = socket.socketpair()
    theirs.settimeout(30)  # generous: what is awaited is already written
    reader, writer = await asyncio.open_connection(sock=ours)
    client = leasepoold.Client(reader, writer, "socketpair")
    daemon = msgpack.Unpacker(raw=False)
    acquire = asyncio.ensure_future(client.acquire(owner="racer"))
    await asyncio.sleep(0)  # the acquire is sent
    daemon.feed(theirs.recv(4096))
    _, msgid, method, _ = next(daemon)
    assert method == "acquire"
    # The answer is in before the awaiter runs again, and the cancel too.
    client._connection._answer(msgid, None, GRANTED)
    acquire.cancel()
    with pytest.raises(asyncio.CancelledError):
        await acquire
    daemon.feed(theirs.recv(4096))
    assert next(daemon)[2:] == ["release", [{"lease": 5}]]
    await client.close()
    theirs.close()
