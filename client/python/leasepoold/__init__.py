"""Python support for leasepool: `python3 -m leasepoold.worker` runs a pool's
worker program that serves the functions of Python modules."""
