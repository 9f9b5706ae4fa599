"""leasepoold: Python for the leasepool daemon.

``await leasepoold.connect()`` gives an asyncio ``Client`` (docs/python-client.md);
``python3 -m leasepoold.worker`` runs a pool's worker program that serves the
functions of Python modules (docs/worker-protocol.md).
"""

from .client import Client, Lease, connect, function_name
from .errors import (ConnectError, DisconnectedError, InternalError, InvalidArgumentError,
                     InvalidRequestError, JobError, JobTimeoutError, LeaseExpiredError,
                     LeasePoolError, LeaseUnavailableError, LimitExceededError,
                     NoSuchFunctionError, NoSuchLeaseError, NoSuchPoolError,
                     PermissionDeniedError, ProtocolError, StoppingError, TimeoutError,
                     UnknownMethodError, WorkerCrashedError)

__all__ = [
    "Client", "Lease", "connect", "function_name",
    "LeasePoolError", "ConnectError", "DisconnectedError", "InternalError",
    "InvalidArgumentError", "InvalidRequestError", "JobError", "JobTimeoutError",
    "LeaseExpiredError", "LeaseUnavailableError", "LimitExceededError", "NoSuchFunctionError",
    "NoSuchLeaseError", "NoSuchPoolError", "PermissionDeniedError", "ProtocolError",
    "StoppingError", "TimeoutError", "UnknownMethodError", "WorkerCrashedError",
]
