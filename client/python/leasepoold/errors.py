# SPDX-License-Identifier: ISC
"""The exceptions of leasepoold: one class per error code of the protocol.

Every error the daemon sends carries a ``code`` and a ``message``
(docs/protocol.md, "Errors sent by the daemon"); the client raises the
class registered for that code, with the daemon's message as it is.  The
names follow the Python ``leasepool`` library this client replaces
(``LeasePoolError``, ``LeaseUnavailableError``, ``LeaseExpiredError``), and
where a built-in exception means the same thing the class derives from it
too, so ``except TimeoutError`` or ``except ConnectionError`` work.
"""

from __future__ import annotations

import builtins
import re
from typing import Any

__all__ = [
    "LeasePoolError",
    "InvalidRequestError",
    "UnknownMethodError",
    "InvalidArgumentError",
    "NoSuchPoolError",
    "NoSuchFunctionError",
    "NoSuchLeaseError",
    "LeaseExpiredError",
    "LeaseUnavailableError",
    "TimeoutError",
    "PermissionDeniedError",
    "LimitExceededError",
    "StoppingError",
    "JobError",
    "JobTimeoutError",
    "JobCancelledError",
    "WorkerCrashedError",
    "InternalError",
    "DisconnectedError",
    "ProtocolError",
    "ConnectError",
    "error_from_wire",
]


class LeasePoolError(Exception):
    """The base of every error of this client.

    ``code`` is the protocol's name for it (``"UNAVAILABLE"``...), and
    ``message`` the daemon's explanation, which is also ``str(error)``.
    """

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(LeasePoolError):
    """The daemon could not read a request as one (``INVALID_REQUEST``)."""

    code = "INVALID_REQUEST"


class UnknownMethodError(LeasePoolError):
    """The daemon has no such method (``UNKNOWN_METHOD``)."""

    code = "UNKNOWN_METHOD"


class InvalidArgumentError(LeasePoolError, ValueError):
    """A parameter has the wrong type or value (``INVALID_ARGUMENT``)."""

    code = "INVALID_ARGUMENT"


class NoSuchPoolError(LeasePoolError, LookupError):
    """The daemon has no pool of that name (``NO_SUCH_POOL``)."""

    code = "NO_SUCH_POOL"


class NoSuchFunctionError(LeasePoolError, LookupError):
    """The pool's workers know no function of that name (``NO_SUCH_FUNCTION``)."""

    code = "NO_SUCH_FUNCTION"


class NoSuchLeaseError(LeasePoolError, LookupError):
    """The lease is not (or no longer) this connection's (``NO_SUCH_LEASE``)."""

    code = "NO_SUCH_LEASE"


class LeaseExpiredError(LeasePoolError):
    """The lease passed its hard expiry: renew sooner (``LEASE_EXPIRED``)."""

    code = "LEASE_EXPIRED"


class LeaseUnavailableError(LeasePoolError):
    """No executor was free for ``wait=False``, or the pool is failing (``UNAVAILABLE``)."""

    code = "UNAVAILABLE"


class TimeoutError(LeasePoolError, builtins.TimeoutError):  # noqa: A001 - the protocol's name
    """An acquire, or a submission no worker took, reached its timeout (``TIMEOUT``)."""

    code = "TIMEOUT"


class PermissionDeniedError(LeasePoolError, PermissionError):
    """The pool does not admit this user, or a socket is not to be trusted (``PERMISSION_DENIED``)."""

    code = "PERMISSION_DENIED"


class LimitExceededError(LeasePoolError):
    """A message, a result or a number of requests passed a limit (``LIMIT_EXCEEDED``)."""

    code = "LIMIT_EXCEEDED"


class StoppingError(LeasePoolError):
    """The daemon is stopping and takes no new work (``STOPPING``)."""

    code = "STOPPING"


# "ValueError: bad input", or "ValueError" alone for an exception without a
# message: a job's exception as a Python worker reports it.
_REMOTE_EXCEPTION = re.compile(r"((?:[A-Za-z_]\w*\.)*[A-Z]\w*)(?:: (.*))?", re.DOTALL)


class JobError(LeasePoolError):
    """The job itself failed (``JOB_FAILED``).

    ``remote_type`` names the job's exception class when the message is
    one (``"ValueError"``) or starts with one (``"ValueError: ..."``), as a
    Python worker reports it, and ``remote_message`` is the rest (``""``
    when there is none); otherwise ``remote_type`` is None and
    ``remote_message`` the whole message.
    """

    code = "JOB_FAILED"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        match = _REMOTE_EXCEPTION.fullmatch(message)
        self.remote_type: str | None = match.group(1) if match else None
        self.remote_message: str = (match.group(2) or "") if match else message


class JobTimeoutError(LeasePoolError):
    """The job ran past its timeout and its worker was killed (``JOB_TIMEOUT``)."""

    code = "JOB_TIMEOUT"


class JobCancelledError(LeasePoolError):
    """A run was cancelled by ``Lease.cancel``, or another ``cancel`` request
    of the connection (``CANCELLED``).

    The message says whether the job had started.  A task cancelled while
    it awaits a job gets ``asyncio.CancelledError``, as asyncio wants, not
    this.
    """

    code = "CANCELLED"


class WorkerCrashedError(LeasePoolError):
    """The worker died while it ran the job (``WORKER_CRASHED``).

    ``signal`` is the number of the signal that killed it, or None when it
    exited.
    """

    code = "WORKER_CRASHED"

    def __init__(self, message: str, signal: int | None = None) -> None:
        super().__init__(message)
        self.signal = signal


class InternalError(LeasePoolError):
    """The daemon failed, or sent a code this client does not know (``INTERNAL``).

    ``code`` is then the code as the daemon sent it.
    """

    code = "INTERNAL"


class DisconnectedError(LeasePoolError, ConnectionError):
    """The connection is gone: closed, or the daemon stopped or died.

    Every request still waiting for an answer fails with it at once; the
    daemon releases the connection's leases.
    """

    code = "DISCONNECTED"


class ProtocolError(LeasePoolError):
    """The daemon sent something this client cannot read; the connection is dropped."""

    code = "PROTOCOL"


class ConnectError(LeasePoolError, ConnectionError):
    """No daemon could be reached at the socket (``SYSTEM`` in libleasepool)."""

    code = "SYSTEM"


_WIRE_CLASSES: tuple[type[LeasePoolError], ...] = (
    InvalidRequestError, UnknownMethodError, InvalidArgumentError, NoSuchPoolError,
    NoSuchFunctionError, NoSuchLeaseError, LeaseExpiredError, LeaseUnavailableError,
    TimeoutError, PermissionDeniedError, LimitExceededError, StoppingError, JobError,
    JobTimeoutError, JobCancelledError, WorkerCrashedError, InternalError,
)
_BY_CODE = {cls.code: cls for cls in _WIRE_CLASSES}


def error_from_wire(error: Any) -> LeasePoolError:
    """The exception for an error map the daemon sent.

    A code this client does not know, and the names of client-side
    conditions that never travel on the wire, read as ``InternalError``
    keeping the code, so that a newer daemon's errors are still errors.  A
    map without a string ``code`` and ``message`` is a ``ProtocolError``.
    """
    if not isinstance(error, dict):
        return ProtocolError(f"the daemon sent an error that is not a map: {error!r}")
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, str) or not isinstance(message, str):
        return ProtocolError(f"the daemon sent an error without a code and a message: {error!r}")
    cls = _BY_CODE.get(code)
    if cls is WorkerCrashedError:
        signal = error.get("signal")
        return WorkerCrashedError(message, signal if isinstance(signal, int) and signal > 0 else None)
    if cls is None:
        unknown = InternalError(message)
        unknown.code = code
        return unknown
    return cls(message)
