# SPDX-License-Identifier: ISC
"""leasepoold: Python for the leasepool daemon.

``await leasepoold.connect()`` gives an asyncio ``Client`` (docs/python-client.md);
``leasepoold.sync.connect()`` the same, blocking, for scripts and threads;
``python3 -m leasepoold.worker`` runs a pool's worker program that serves the
functions of Python modules (docs/worker-protocol.md).
"""

from . import sync
from .client import Client, Lease, connect, function_name
from .errors import (ConnectError, DisconnectedError, InternalError, InvalidArgumentError,
                     InvalidRequestError, JobCancelledError, JobError, JobTimeoutError,
                     LeaseExpiredError, LeasePoolError, LeaseUnavailableError,
                     LimitExceededError, NoSuchFunctionError, NoSuchLeaseError,
                     NoSuchPoolError, PermissionDeniedError, ProtocolError, StoppingError,
                     TimeoutError, UnknownMethodError, WorkerCrashedError)
from .sync import SyncClient, SyncLease

__all__ = [
    "Client", "Lease", "connect", "function_name", "sync", "SyncClient", "SyncLease",
    "LeasePoolError", "ConnectError", "DisconnectedError", "InternalError",
    "InvalidArgumentError", "InvalidRequestError", "JobCancelledError", "JobError",
    "JobTimeoutError", "LeaseExpiredError", "LeaseUnavailableError", "LimitExceededError",
    "NoSuchFunctionError", "NoSuchLeaseError", "NoSuchPoolError", "PermissionDeniedError",
    "ProtocolError", "StoppingError", "TimeoutError", "UnknownMethodError",
    "WorkerCrashedError",
]
