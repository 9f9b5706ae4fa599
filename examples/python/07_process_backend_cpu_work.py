# SPDX-License-Identifier: ISC
"""CPU-heavy work on one lease of the daemon's Python pool.

Every worker of the pool is a process of its own, so the four counts run
on as many cores as the lease has workers; gather sends them all at once
on one connection.  As with the library's process backend, the function
must be importable (primes.py, served by the pool) and its arguments and
result msgpack values.
"""

import asyncio
import os

import leasepoold

from primes import count_primes

POOL = os.environ.get("LEASEPOOL_PYTHON_POOL", "python")


async def main() -> None:
    async with await leasepoold.connect() as client:
        async with await client.acquire(owner="cpu-primes", pool=POOL) as lease:
            results = await asyncio.gather(*(lease.run(count_primes, limit)
                                             for limit in (20_000, 21_000, 22_000, 23_000)))

        print("Prime counts:", results)


if __name__ == "__main__":
    asyncio.run(main())
