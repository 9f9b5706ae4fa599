# SPDX-License-Identifier: ISC
"""Jobs for the Python examples (00, 07, 08, 11), served with primes by

    worker_program = /usr/bin/python3 -m leasepoold.worker --path /path/to/examples/python jobs primes

The examples pass these functions themselves to lease.run and submit:
the client sends them by name (jobs:blocking_uppercase...), and a worker
of the pool imports this module to run them."""

import time


def blocking_uppercase(value: str) -> str:
    time.sleep(0.2)
    return value.upper()


def blocking_square(value: int) -> int:
    time.sleep(0.05)
    return value * value


def parse_port(text: str) -> int:
    port = int(text)
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range")
    return port
