# SPDX-License-Identifier: ISC
"""The asyncio client of leasepoold: msgpack-RPC over its Unix socket (docs/protocol.md).

One connection carries any number of requests in flight: each gets a
msgid and a future, and the answers, which come back in completion order,
are matched to them, so ``asyncio.gather`` over runs of one lease
pipelines them::

    async with await leasepoold.connect() as client:
        async with await client.acquire(owner="report") as lease:
            squares = await asyncio.gather(*(lease.run("mymod:square", i) for i in range(64)))
        print(await client.submit("mymod:square", 7))

Cancelling a task that awaits a run or a submission stops the job on
the daemon too (``cancel``); ``Lease.cancel`` stops every run of a lease.
A daemon that stops or dies fails every pending await with
``DisconnectedError`` at once.  Closing the connection, by ``close()``,
by the garbage collector or when the event loop ends the reader task,
makes the daemon release every lease the connection held.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any

import msgpack

from ._socket_path import default_socket
from .errors import (ConnectError, DisconnectedError, PermissionDeniedError,
                     ProtocolError, error_from_wire)

__all__ = ["Client", "Lease", "connect", "function_name"]

REQUEST, RESPONSE, NOTIFICATION = 0, 1, 2
MSGID_LIMIT = 1 << 32
# The largest message accepted from the daemon, as libleasepool's limit.
MESSAGE_MAX = 64 << 20
READ_SIZE = 64 << 10
# A job's result is the bytes it packed: a str that is not UTF-8 reads with
# its bad bytes as surrogates (and packs back as they were), rather than
# failing the whole connection.
UNICODE_ERRORS = "surrogateescape"

# The loop keeps only weak references to tasks, and a stream's protocol only
# a weak one to its reader: without this, a dropped client's reader task
# could be collected while pending, leaving its socket to the collector.
_READERS: set[asyncio.Task[None]] = set()

# What becomes of the answer to a request whose awaiter went away: given the result.
Orphan = Callable[[Any], None]
# The methods whose requests the daemon can cancel: an awaiter of one of
# them that is cancelled stops the job, rather than leave it running for nobody.
CANCELLABLE = frozenset({"run", "submit"})


def function_name(fn: str | Callable[..., Any]) -> str:
    """The name a run or submission sends for fn.

    A string (``"module:function"``, or a built-in such as ``"echo"``) is
    sent as it is.  A function object is sent as ``"module:qualname"``, the
    same rule as the ``leasepool`` library's process backend: it must be
    defined at the top level of an importable module (not ``__main__``),
    for a worker finds it by importing the module.  Anything else raises
    ``TypeError`` before anything is sent.
    """
    if isinstance(fn, str):
        return fn
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if (not isinstance(module, str) or not isinstance(qualname, str) or module == "__main__"
            or "." in qualname or "<" in qualname
            or getattr(sys.modules.get(module), qualname, None) is not fn):
        raise TypeError(f"{fn!r} cannot run on a worker: pass a function defined at the top "
                        "level of an importable module, or its name as 'module:function'")
    return f"{module}:{qualname}"


def _job_params(fn: str | Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                timeout: float | None) -> dict[str, Any]:
    params: dict[str, Any] = {"fn": function_name(fn), "args": list(args), "kwargs": kwargs}
    if timeout is not None:
        params["timeout"] = timeout
    return params


def _without_none(**params: Any) -> dict[str, Any]:
    """The protocol refuses nil for an optional parameter: a default is a missing key."""
    return {key: value for key, value in params.items() if value is not None}


class _Connection:
    """The socket, its pending requests and the task that reads the answers.

    Kept apart from ``Client`` so that the reader task does not keep the
    client alive: a client dropped without ``close()`` is collected, and
    its finalizer closes the connection.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.pending: dict[int, tuple[asyncio.Future[Any], Orphan | None]] = {}
        self.next_msgid = 0
        self.lost: DisconnectedError | ProtocolError | None = None
        self.reader_task = asyncio.get_running_loop().create_task(self._read(reader))
        _READERS.add(self.reader_task)
        self.reader_task.add_done_callback(_READERS.discard)

    def _send(self, method: str, params: dict[str, Any], orphan: Orphan | None) -> tuple[int, asyncio.Future[Any]]:
        if self.lost is not None:
            raise DisconnectedError(self.lost.message)
        while self.next_msgid in self.pending:
            self.next_msgid = (self.next_msgid + 1) % MSGID_LIMIT
        msgid = self.next_msgid
        self.next_msgid = (msgid + 1) % MSGID_LIMIT
        # Packed first: a value msgpack cannot carry (a set...) raises here, leaving nothing behind.
        request = msgpack.packb([REQUEST, msgid, method, [params]], use_bin_type=True,
                                unicode_errors=UNICODE_ERRORS)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[msgid] = (future, orphan)
        self.writer.write(request)
        return msgid, future

    async def call(self, method: str, params: dict[str, Any], orphan: Orphan | None = None) -> Any:
        """Sends one request and waits for its answer.

        orphan receives the result of a request that was answered after its
        awaiter was cancelled (an acquire's lease must still be released).
        """
        msgid, future = self._send(method, params, orphan)
        try:
            # A write that fails ends the connection: the reader then fails
            # the future, with the reason the daemon gave when it gave one.
            with contextlib.suppress(ConnectionError):
                await self.writer.drain()
            return await future
        except asyncio.CancelledError:
            self._abandon(method, msgid, future, orphan)
            raise

    def send_only(self, method: str, params: dict[str, Any]) -> None:
        """Sends a request whose answer nobody awaits: it is discarded."""
        self._send(method, params, None)[1].cancel()

    def _abandon(self, method: str, msgid: int, future: asyncio.Future[Any],
                 orphan: Orphan | None) -> None:
        """The awaiter of msgid was cancelled: the daemon is told to cancel a
        run or a submission, and the answer goes to orphan, or nowhere.

        Told without waiting, for the awaiter is gone.  The entry stays
        until the answer comes (CANCELLED, or the result that crossed the
        cancel), so that it is recognised and dropped, and msgid is not
        reused before the cancel that names it has been sent.
        """
        if self.pending.get(msgid, (None, None))[0] is future:
            future.cancel()
            if method in CANCELLABLE:
                self.send_only("cancel", {"msgid": msgid})
        elif (orphan is not None and future.done() and not future.cancelled()
                and future.exception() is None):
            # Answered, but cancelled before the awaiter saw the answer.
            orphan(future.result())

    def _answer(self, msgid: int, error: Any, result: Any) -> None:
        entry = self.pending.pop(msgid, None)
        if entry is None:
            raise ProtocolError(f"the daemon answered msgid {msgid}, which no request has")
        future, orphan = entry
        if not future.cancelled():
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error_from_wire(error))
        elif orphan is not None and error is None:
            orphan(result)

    def _dispatch(self, message: Any) -> None:
        if (isinstance(message, list) and len(message) == 4 and message[0] == RESPONSE
                and isinstance(message[1], int) and (message[2] is None or isinstance(message[2], dict))):
            self._answer(message[1], message[2], message[3])
        elif (isinstance(message, list) and len(message) == 3 and message[0] == NOTIFICATION
                and message[1] == "error" and isinstance(message[2], list) and message[2]):
            # Sent just before the daemon closes the connection: the reason it gives.
            reason = error_from_wire(message[2][0])
            raise DisconnectedError(f"leasepoold closed the connection ({reason.code}: {reason})")
        elif (isinstance(message, list) and len(message) == 3 and message[0] == NOTIFICATION
                and isinstance(message[1], str)):
            pass  # a notification of a newer daemon: docs/protocol.md says to ignore it
        else:
            raise ProtocolError(f"the daemon sent a message that is no response: {message!r:.200}")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        unpacker = msgpack.Unpacker(raw=False, unicode_errors=UNICODE_ERRORS, strict_map_key=False,
                                    max_buffer_size=MESSAGE_MAX)
        reason: DisconnectedError | ProtocolError = DisconnectedError("leasepoold closed the connection")
        try:
            while data := await reader.read(READ_SIZE):
                unpacker.feed(data)
                for message in unpacker:
                    self._dispatch(message)
        except (DisconnectedError, ProtocolError) as e:
            reason = e
        except (msgpack.UnpackException, ValueError) as e:
            reason = ProtocolError(f"cannot read what the daemon sent: {e}")
        except ConnectionError as e:
            reason = DisconnectedError(f"connection to leasepoold lost: {e}")
        finally:
            # Also when the loop ends this task: the daemon releases our leases.
            self.fail(reason)

    def release_orphan(self, granted: Any) -> None:
        """Releases the lease granted to an acquire whose awaiter went away."""
        if isinstance(granted, dict) and isinstance(granted.get("lease"), int):
            self.send_only("release", {"lease": granted["lease"]})

    def fail(self, reason: DisconnectedError | ProtocolError) -> None:
        """Closes the connection and fails every pending request with reason.

        Later requests fail with ``DisconnectedError``, whatever the reason.
        """
        if self.lost is None:
            self.lost = reason
            self.writer.close()
        pending, self.pending = self.pending, {}
        for future, _ in pending.values():
            if not future.done():
                future.set_exception(type(self.lost)(self.lost.message))

    async def close(self) -> None:
        """Closes the connection and waits until the socket is closed."""
        self.fail(DisconnectedError("the client closed the connection"))
        if not self.reader_task.done():
            self.reader_task.cancel()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, asyncio.CancelledError):
            pass


def _close_collected(loop: asyncio.AbstractEventLoop, connection: _Connection) -> None:
    """Closes the connection of a collected client, in its loop's thread (the
    collector may run in any); a closed loop has ended the reader task,
    which closed it."""
    try:
        loop.call_soon_threadsafe(connection.fail, DisconnectedError("the client was collected"))
    except RuntimeError:
        pass


class Lease:
    """A lease on one executor of a pool: its workers run this lease's jobs only.

    An async context manager that releases the lease on exit, even when the
    block raises.  Its attributes are those the daemon granted: ``id``,
    ``owner``, ``pool``, ``backend``, ``workers``, ``lease_seconds`` (the
    term, updated by ``renew``) and ``grace_seconds``.
    """

    def __init__(self, client: Client, owner: str, granted: dict[str, Any]) -> None:
        self.client = client
        self.owner = owner
        self.id: int = granted["lease"]
        self.pool: str = granted["pool"]
        self.backend: str = granted["backend"]
        self.workers: int = granted["workers"]
        self.lease_seconds: float = granted["lease_seconds"]
        self.grace_seconds: float = granted["grace_seconds"]
        self.released = False

    def __repr__(self) -> str:
        return f"<Lease {self.id} of pool {self.pool!r} for {self.owner!r}>"

    async def run(self, fn: str | Callable[..., Any], /, *args: Any, timeout: float | None = None,
                  **kwargs: Any) -> Any:
        """Runs fn(*args, **kwargs) on one of the lease's workers and returns its result.

        fn is a ``"module:function"`` string or a top-level function (see
        ``function_name``).  timeout (seconds) may shorten the pool's
        ``job_timeout``, never lengthen it; a job keyword argument named
        ``timeout`` cannot be passed.  Cancelling the awaiting task
        cancels the run: queued, it never starts; running, its worker is
        stopped (a thread's result is discarded).
        """
        params = _job_params(fn, args, kwargs, timeout)
        return await self.client.call("run", {"lease": self.id, **params})

    async def cancel(self) -> dict[str, int]:
        """Cancels every run of this lease in flight, whichever tasks await them.

        As cancelling those tasks does, except that each of them gets
        ``JobCancelledError`` rather than being cancelled itself.  Returns
        the daemon's counts, ``{"queued": n, "running": n, "finished": 0}``.
        The lease stays held: later runs run on it.
        """
        counts: dict[str, int] = await self.client.call("cancel", {"lease": self.id})
        return counts

    async def renew(self, seconds: float | None = None) -> float:
        """Starts a new term of seconds (default: the pool's) from now; returns the term granted."""
        answer = await self.client.call("renew", _without_none(lease=self.id, lease_seconds=seconds))
        self.lease_seconds = answer["lease_seconds"]
        return self.lease_seconds

    async def release(self) -> None:
        """Gives the executor back; runs already accepted still finish (``cancel`` stops them).

        Releasing twice is harmless, and so is releasing over a lost
        connection: the daemon released the lease when it went.
        """
        if self.released:
            return
        self.released = True
        try:
            await self.client.call("release", {"lease": self.id})
        except DisconnectedError:
            pass

    async def __aenter__(self) -> Lease:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.release()


class Client:
    """A connection to leasepoold; see ``connect``.

    An async context manager that closes the connection on exit.  Methods
    may be called from many tasks of the connection's event loop at once.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, socket: str) -> None:
        self.socket = socket
        self._connection = _Connection(reader, writer)
        # Dropped without close(): the socket closes, the daemon releases the leases.
        weakref.finalize(self, _close_collected, asyncio.get_running_loop(), self._connection)

    def __repr__(self) -> str:
        return f"<leasepoold.Client {self.socket}>"

    async def call(self, method: str, params: dict[str, Any], orphan: Orphan | None = None) -> Any:
        """Sends one request of the protocol and returns its result (raises its error)."""
        return await self._connection.call(method, params, orphan)

    async def hello(self, client: str | None = None) -> dict[str, Any]:
        """The daemon's version, protocol, pid, and the pools and functions this user may use.

        client, when given, names this connection in the daemon's log and stats.
        """
        answer: dict[str, Any] = await self.call("hello", _without_none(client=client))
        return answer

    async def acquire(self, *, owner: str | None = None, pool: str | None = None, wait: bool = True,
                      timeout: float | None = None, lease_seconds: float | None = None) -> Lease:
        """Leases an executor of pool (default: the daemon's default pool).

        Waits for one, first come first served, unless wait is False
        (``LeaseUnavailableError`` when none is free) or until timeout
        seconds (``TimeoutError``).  owner labels the lease in stats.  A
        cancelled acquire that the daemon grants afterwards is released.
        """
        params = _without_none(owner=owner, pool=pool, timeout=timeout, lease_seconds=lease_seconds)
        if not wait:
            params["wait"] = False
        granted = await self.call("acquire", params, orphan=self._connection.release_orphan)
        return Lease(self, owner or "", granted)

    async def submit(self, fn: str | Callable[..., Any], /, *args: Any, owner: str | None = None,
                     pool: str | None = None, timeout: float | None = None, **kwargs: Any) -> Any:
        """Runs one small job through the pool's grinder, without a lease, and returns its result.

        fn as for ``Lease.run``; job keyword arguments named ``owner``,
        ``pool`` or ``timeout`` cannot be passed.  Cancelling the awaiting
        task cancels the submission, as for ``Lease.run``.
        """
        params = _job_params(fn, args, kwargs, timeout)
        return await self.call("submit", {**params, **_without_none(owner=owner, pool=pool)})

    async def stats(self, pool: str | None = None) -> dict[str, Any]:
        """The daemon's statistics (docs/protocol.md, ``stats``), of one pool when given."""
        answer: dict[str, Any] = await self.call("stats", _without_none(pool=pool))
        return answer

    async def close(self) -> None:
        """Closes the connection: pending requests fail, the daemon releases every lease."""
        await self._connection.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


async def connect(socket: str | os.PathLike[str] | None = None) -> Client:
    """Connects to leasepoold at socket.

    Without one: ``$LEASEPOOL_SOCKET``, else the first trusted socket of
    libleasepool's default paths (``leasepoold._socket_path``).  Raises
    ``ConnectError`` when no daemon listens there, ``PermissionDeniedError``
    when this user may not connect, or a default socket is not to be
    trusted.
    """
    path = os.fspath(socket) if socket is not None else default_socket()
    try:
        reader, writer = await asyncio.open_unix_connection(path, limit=READ_SIZE)
    except PermissionError as e:
        raise PermissionDeniedError(f"{path}: {e.strerror}") from None
    except OSError as e:
        raise ConnectError(f"{path}: {e.strerror or e}") from None
    return Client(reader, writer, path)
