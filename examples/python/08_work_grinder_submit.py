# SPDX-License-Identifier: ISC
"""One-shot jobs without a lease: submit() goes through the pool's grinder.

The daemon's grinder batches submissions (the pool's batch settings in
leasepoold.conf) onto its workers, as the library's WorkGrinder does; the
client has no grinder to start or stop.
"""

import asyncio
import os

import leasepoold

from jobs import blocking_square

POOL = os.environ.get("LEASEPOOL_PYTHON_POOL", "python")


async def main() -> None:
    async with await leasepoold.connect() as client:
        results = await asyncio.gather(
            *(client.submit(blocking_square, i, owner=f"item-{i}", pool=POOL) for i in range(20)))

        print("Results:", results)
        stats = await client.stats(pool=POOL)
        print("Grinder stats:", stats["pools"][POOL]["grinder"])


if __name__ == "__main__":
    asyncio.run(main())
