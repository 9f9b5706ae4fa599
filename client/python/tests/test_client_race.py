# SPDX-License-Identifier: ISC
"""What no real daemon can be made to do on cue, against a fake one on a
socket pair: an answer that arrives as its awaiter is cancelled, a result
that is not UTF-8, a stream that is not msgpack."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import msgpack
import pytest

import daemon_fixture  # noqa: F401 - puts this tree's leasepoold first on sys.path

import leasepoold

pytestmark = pytest.mark.asyncio
GRANTED = {"lease": 5, "pool": "cpu", "backend": "process", "workers": 1,
           "lease_seconds": 60, "grace_seconds": 10}


async def fake_daemon() -> tuple[leasepoold.Client, socket.socket]:
    """A client, and the daemon's end of its connection."""
    ours, theirs = socket.socketpair()
    theirs.settimeout(30)  # generous: what is awaited is already written
    reader, writer = await asyncio.open_connection(sock=ours)
    return leasepoold.Client(reader, writer, "socketpair"), theirs


async def test_a_lease_granted_as_its_acquire_is_cancelled_is_released() -> None:
    client, theirs = await fake_daemon()
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


async def test_a_notification_it_does_not_know_is_ignored() -> None:
    client, theirs = await fake_daemon()
    answer = asyncio.ensure_future(client.call("ping", {}))
    await asyncio.sleep(0)  # the ping is sent
    (_, msgid, _, _) = msgpack.unpackb(theirs.recv(4096))
    theirs.sendall(msgpack.packb([2, "progress", [{"done": 1}]]) + msgpack.packb([1, msgid, None, True]))
    assert await asyncio.wait_for(answer, 30) is True
    await client.close()
    theirs.close()


async def test_a_result_that_is_not_utf8_keeps_its_bytes() -> None:
    client, theirs = await fake_daemon()
    answer = asyncio.ensure_future(client.call("submit", {"fn": "echo"}))
    await asyncio.sleep(0)  # the submit is sent
    (_, msgid, _, _) = msgpack.unpackb(theirs.recv(4096))
    # [1, msgid, nil, "a\xff"], the str as a C job may pack it.
    theirs.sendall(b"\x94" + b"".join(map(msgpack.packb, [1, msgid, None])) + b"\xa2a\xff")
    result = await asyncio.wait_for(answer, 30)
    assert result.encode("utf-8", "surrogateescape") == b"a\xff"
    call = asyncio.ensure_future(client.call("submit", {"fn": "echo", "args": [result]}))
    await asyncio.sleep(0)
    assert b"\xa2a\xff" in theirs.recv(4096)  # sent back as it came
    call.cancel()
    await client.close()
    theirs.close()


async def test_what_cannot_be_read_fails_pending_calls_and_drops_the_connection() -> None:
    client, theirs = await fake_daemon()
    pending = asyncio.ensure_future(client.hello())
    await asyncio.sleep(0)  # the hello is sent
    theirs.sendall(b"\xc1")  # the byte msgpack never uses
    with pytest.raises(leasepoold.ProtocolError, match="cannot read"):
        await asyncio.wait_for(pending, 30)
    with pytest.raises(leasepoold.DisconnectedError, match="cannot read"):
        await client.hello()
    await client.close()
    theirs.close()


def next_request(theirs: socket.socket, daemon: msgpack.Unpacker) -> list[Any]:
    """The next request the client sent: [0, msgid, method, params]."""
    while True:
        for request in daemon:
            return list(request)
        daemon.feed(theirs.recv(4096))


def answer(theirs: socket.socket, msgid: int, error: Any, result: Any) -> None:
    theirs.sendall(msgpack.packb([1, msgid, error, result]))


async def hello_is_the_next_request(client: leasepoold.Client, theirs: socket.socket,
                                    daemon: msgpack.Unpacker) -> None:
    """Sends a hello and answers it: nothing else was sent before it, and the
    connection still reads answers."""
    hello = asyncio.ensure_future(client.hello())
    await asyncio.sleep(0)  # the hello is sent
    _, msgid, method, _ = next_request(theirs, daemon)
    assert method == "hello"
    answer(theirs, msgid, None, {"protocol": 1})
    assert await asyncio.wait_for(hello, 30) == {"protocol": 1}


CANCELLED = {"code": "CANCELLED", "message": "cancelled while it ran; its worker is stopped"}


# The daemon answers the cancelled submission CANCELLED, or the result it
# sent before the cancel came, which the cancel then counts as finished.
@pytest.mark.parametrize("error, result, counts", [
    (CANCELLED, None, {"queued": 0, "running": 1, "finished": 0}),
    (None, "done", {"queued": 0, "running": 0, "finished": 1}),
])
async def test_a_cancelled_submit_is_cancelled_on_the_daemon_and_its_answer_dropped(
        error: Any, result: Any, counts: dict[str, int]) -> None:
    client, theirs = await fake_daemon()
    daemon = msgpack.Unpacker(raw=False)
    submit = asyncio.ensure_future(client.submit("sleep", 600))
    await asyncio.sleep(0)  # the submit is sent
    _, msgid, method, _ = next_request(theirs, daemon)
    assert method == "submit"
    submit.cancel()
    with pytest.raises(asyncio.CancelledError):
        await submit
    _, cancel_msgid, method, params = next_request(theirs, daemon)
    assert (method, params) == ("cancel", [{"msgid": msgid}])
    answer(theirs, msgid, error, result)
    answer(theirs, cancel_msgid, None, counts)
    await hello_is_the_next_request(client, theirs, daemon)
    assert not client._connection.pending
    await client.close()
    theirs.close()


async def test_a_run_answered_before_its_awaiter_is_cancelled_sends_no_cancel() -> None:
    client, theirs = await fake_daemon()
    daemon = msgpack.Unpacker(raw=False)
    run = asyncio.ensure_future(leasepoold.Lease(client, "racer", GRANTED).run("echo", 1))
    await asyncio.sleep(0)  # the run is sent
    _, msgid, method, _ = next_request(theirs, daemon)
    assert method == "run"
    # The answer is in before the awaiter runs again, and the cancel too.
    client._connection._answer(msgid, None, 1)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    await hello_is_the_next_request(client, theirs, daemon)
    await client.close()
    theirs.close()


async def test_only_runs_and_submissions_are_cancelled_on_the_daemon() -> None:
    client, theirs = await fake_daemon()
    daemon = msgpack.Unpacker(raw=False)
    acquire = asyncio.ensure_future(client.acquire(owner="waiter"))
    await asyncio.sleep(0)  # the acquire is sent
    assert next_request(theirs, daemon)[2] == "acquire"
    acquire.cancel()
    with pytest.raises(asyncio.CancelledError):
        await acquire
    await hello_is_the_next_request(client, theirs, daemon)  # the daemon refuses to cancel an acquire
    await client.close()
    theirs.close()
