# SPDX-License-Identifier: ISC
"""The jobs the tests have the worker serve."""

import logging
import os  # a module: not served
import time
from os import system  # a built-in function: not served
from os.path import join  # a function of posixpath, not of this module: not served
from typing import Any, Dict, Set


def echo(value: Any) -> Any:
    return value


def echo_kwargs(**kwargs: Any) -> Dict[str, Any]:
    return kwargs


def fail(message: str) -> None:
    raise ValueError(message)


def make_set() -> Set[int]:
    return {1, 2}


def sized_bytes(size: int) -> bytes:
    return b"x" * size


def pause(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def say(text: str) -> None:
    print(text)


def log(text: str) -> None:
    logging.getLogger("sample_jobs").info(text)


def child_has_channel() -> bool:
    """Whether a program a job starts gets fd 3 or 4."""
    return os.system("test -e /proc/self/fd/3 || test -e /proc/self/fd/4") == 0


def _private() -> str:
    return "private"
