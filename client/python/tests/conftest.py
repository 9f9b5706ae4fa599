# SPDX-License-Identifier: ISC
from typing import Any, Callable, Iterator, List

import pytest

from harness import Worker


@pytest.fixture
def start_worker() -> Iterator[Callable[..., Worker]]:
    """Starts workers (Worker's arguments) and kills what is left of them."""
    started: List[Worker] = []

    def start(*args: Any, **kwargs: Any) -> Worker:
        worker = Worker(*args, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.cleanup()
