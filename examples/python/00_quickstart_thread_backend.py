# SPDX-License-Identifier: ISC
"""Quickstart: run one blocking function from async code, on leasepoold.

The counterpart of the leasepool library's quick start: no manager to
create, start and stop (the daemon runs the pool), a connection instead.
The function runs in a worker of the daemon's Python pool, which imports
it from jobs.py.

    LEASEPOOL_SOCKET=... LEASEPOOL_PYTHON_POOL=python python3 00_quickstart_thread_backend.py
"""

import asyncio
import os

import leasepoold

from jobs import blocking_uppercase

POOL = os.environ.get("LEASEPOOL_PYTHON_POOL", "python")


async def main() -> None:
    async with await leasepoold.connect() as client:
        async with await client.acquire(owner="quickstart", pool=POOL) as lease:
            result = await lease.run(blocking_uppercase, "hello leasepool")

        print("Result:", result)


if __name__ == "__main__":
    asyncio.run(main())
