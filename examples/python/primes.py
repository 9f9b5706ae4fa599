# SPDX-License-Identifier: ISC
"""Jobs for a pool of Python workers:

    worker_program = /usr/bin/python3 -m leasepoold.worker --path /path/to/examples/python primes

serves primes:count_primes and primes:echo."""

from typing import Any


def count_primes(limit: int) -> int:
    count = 0
    for n in range(2, limit):
        for d in range(2, int(n ** 0.5) + 1):
            if n % d == 0:
                break
        else:
            count += 1
    return count


def echo(x: Any) -> Any:
    return x
