# SPDX-License-Identifier: ISC
"""The jobs the python suite (tests/integration/test_python.c) runs on a
pool of python3 -m leasepoold.worker."""

import os  # a module: not served


def echo(value):
    return value


def fail(message):
    raise ValueError(message)


def pid():
    return os.getpid()


def say(text):
    print(text)


def spin_forever():
    """Says it runs, so that a test knows the job has started, then never returns."""
    print("spinning")
    while True:
        pass
