# SPDX-License-Identifier: ISC
"""The errors a program of the daemon is most likely to handle.

Each is a class under leasepoold.LeasePoolError, for the daemon's error
code; a job's own exception comes back as JobError with its type and
message.
"""

import asyncio
import os

import leasepoold

from jobs import parse_port

POOL = os.environ.get("LEASEPOOL_PYTHON_POOL", "python")
# Past a deadline by this much, the daemon has certainly passed it too.
MARGIN = 0.05


async def main() -> None:
    try:
        await leasepoold.connect("/nonexistent/leasepool.sock")
    except leasepoold.ConnectError as exc:
        print("Connect without a daemon failed:", exc)

    async with await leasepoold.connect() as client:
        # Every executor of the pool leased: one more is not to be had at once.
        leases: list[leasepoold.Lease] = []
        try:
            while True:
                leases.append(await client.acquire(owner=f"holder-{len(leases)}", pool=POOL, wait=False))
        except leasepoold.LeaseUnavailableError as exc:
            print("No lease available:", exc)
        for lease in leases:
            await lease.release()

        async with await client.acquire(owner="parser", pool=POOL) as lease:
            try:
                await lease.run(parse_port, "99999")
            except leasepoold.JobError as exc:
                print("Job failed:", exc.remote_type, exc.remote_message)

        expiring = await client.acquire(owner="expiring", pool=POOL, lease_seconds=0.05)
        await asyncio.sleep(expiring.lease_seconds + expiring.grace_seconds + MARGIN)
        try:
            await expiring.run("echo", "too late")
        except leasepoold.LeaseExpiredError as exc:
            print("Lease expired:", exc)


if __name__ == "__main__":
    asyncio.run(main())
