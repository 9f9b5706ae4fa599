# SPDX-License-Identifier: ISC
"""A synchronous wrapper of the asyncio client, for scripts and threads.

``SyncClient`` runs an event loop of its own in a daemon thread and hands
each call to the asyncio ``Client`` there, so both share one code path.
Any number of threads may call one ``SyncClient`` at once; their requests
are pipelined on its one connection::

    with leasepoold.sync.connect() as client:
        with client.acquire(owner="script") as lease:
            print(lease.run("mymod:square", 7))

A ``KeyboardInterrupt`` (or any exception) while a call waits cancels the
call in the loop, as cancelling an awaiting task does: a run or a
submission stops on the daemon too.  ``SyncLease.cancel`` from another
thread stops the lease's runs; the threads waiting for them get
``JobCancelledError``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, TypeVar

from .client import Client, Lease
from .client import connect as async_connect
from .errors import DisconnectedError

__all__ = ["SyncClient", "SyncLease", "connect"]

T = TypeVar("T")


class _LoopThread:
    """An event loop running in a daemon thread, and a blocking way into it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, name="leasepoold-sync", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.loop.run_forever()
        self.loop.close()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self.loop.is_closed():
            coroutine.close()
            raise DisconnectedError("the client was closed")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


def _close_dropped(loop: asyncio.AbstractEventLoop, client: Client) -> None:
    """Closes the connection of a SyncClient dropped without close(), then
    ends its loop's thread; without waiting, for the collector may run in
    any thread, that one included."""
    async def close_then_stop() -> None:
        await client.close()
        loop.stop()
    asyncio.run_coroutine_threadsafe(close_then_stop(), loop)


class SyncLease:
    """``Lease`` with blocking methods; a context manager that releases on exit."""

    def __init__(self, lease: Lease, loop: _LoopThread) -> None:
        self._lease = lease
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        # id, owner, pool, backend, workers, lease_seconds, grace_seconds
        return getattr(self._lease, name)

    def __repr__(self) -> str:
        return repr(self._lease)

    def run(self, fn: str | Callable[..., Any], /, *args: Any, timeout: float | None = None,
            **kwargs: Any) -> Any:
        """As ``Lease.run``."""
        return self._loop.run(self._lease.run(fn, *args, timeout=timeout, **kwargs))

    def cancel(self) -> dict[str, int]:
        """As ``Lease.cancel``: the threads waiting for the runs get ``JobCancelledError``."""
        return self._loop.run(self._lease.cancel())

    def renew(self, seconds: float | None = None) -> float:
        """As ``Lease.renew``."""
        return self._loop.run(self._lease.renew(seconds))

    def release(self) -> None:
        """As ``Lease.release``: twice is harmless."""
        self._loop.run(self._lease.release())

    def __enter__(self) -> SyncLease:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


class SyncClient:
    """``Client`` with blocking methods; a context manager that closes on exit."""

    def __init__(self, socket: str | os.PathLike[str] | None = None) -> None:
        self._loop = _LoopThread()
        try:
            self._client: Client = self._loop.run(async_connect(socket))
        except BaseException:
            self._loop.stop()
            raise
        self._dropped = weakref.finalize(self, _close_dropped, self._loop.loop, self._client)

    @property
    def socket(self) -> str:
        """The socket path connected to."""
        return self._client.socket

    def hello(self, client: str | None = None) -> dict[str, Any]:
        """As ``Client.hello``."""
        return self._loop.run(self._client.hello(client))

    def acquire(self, *, owner: str | None = None, pool: str | None = None, wait: bool = True,
                timeout: float | None = None, lease_seconds: float | None = None) -> SyncLease:
        """As ``Client.acquire``."""
        lease = self._loop.run(self._client.acquire(owner=owner, pool=pool, wait=wait, timeout=timeout,
                                                    lease_seconds=lease_seconds))
        return SyncLease(lease, self._loop)

    def submit(self, fn: str | Callable[..., Any], /, *args: Any, owner: str | None = None,
               pool: str | None = None, timeout: float | None = None, **kwargs: Any) -> Any:
        """As ``Client.submit``."""
        return self._loop.run(self._client.submit(fn, *args, owner=owner, pool=pool,
                                                  timeout=timeout, **kwargs))

    def stats(self, pool: str | None = None) -> dict[str, Any]:
        """As ``Client.stats``."""
        return self._loop.run(self._client.stats(pool))

    def close(self) -> None:
        """Closes the connection and stops the loop's thread; twice is harmless."""
        if not self._dropped.detach():
            return
        self._loop.run(self._client.close())
        self._loop.stop()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def connect(socket: str | os.PathLike[str] | None = None) -> SyncClient:
    """Connects to leasepoold as ``leasepoold.connect`` does, for blocking use."""
    return SyncClient(socket)
