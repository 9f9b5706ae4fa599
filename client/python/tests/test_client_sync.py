# SPDX-License-Identifier: ISC
"""The synchronous wrapper, from the test's thread and from several at once."""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

import pytest

from daemon_fixture import Daemon, daemon  # noqa: F401 - fixtures

import leasepoold
from leasepoold import sync


def test_every_method_blocks_for_its_answer(daemon: Daemon) -> None:  # noqa: F811
    with sync.connect(daemon.socket) as client:
        assert client.hello()["protocol"] == 1
        with client.acquire(owner="script", pool="one", lease_seconds=20) as lease:
            assert (lease.owner, lease.pool, lease.lease_seconds) == ("script", "one", 20)
            assert lease.run("echo", [1, "two"]) == [1, "two"]
            assert lease.renew(30) == 30
            with pytest.raises(leasepoold.LeaseUnavailableError):
                client.acquire(pool="one", wait=False)
            leases = client.stats("one")["pools"]["one"]["leases"]
            assert [entry["owner"] for entry in leases] == ["script"]
        lease.release()  # twice is harmless
        assert client.stats("one")["pools"]["one"]["leases"] == []
        assert client.submit("echo", {"k": "v"}) == {"k": "v"}
        with pytest.raises(leasepoold.InvalidArgumentError, match="echo takes exactly one"):
            client.submit("echo")
    with pytest.raises(leasepoold.DisconnectedError):
        client.hello()
    client.close()  # twice is harmless


def test_threads_share_one_client(daemon: Daemon) -> None:  # noqa: F811
    results: dict[int, list[Any]] = {}
    with sync.connect(daemon.socket) as client:
        def submitter(n: int) -> None:
            results[n] = [client.submit("echo", [n, i]) for i in range(25)]
        threads = [threading.Thread(target=submitter, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == {n: [[n, i] for i in range(25)] for n in range(4)}


def test_a_lease_cancelled_by_another_thread_fails_the_waiting_run(daemon: Daemon) -> None:  # noqa: F811
    counts: list[dict[str, int]] = []
    with sync.connect(daemon.socket) as client:
        with client.acquire(owner="cancelled", pool="one") as lease:
            def cancel_once_running() -> None:
                deadline = time.monotonic() + 30
                while client.stats("one")["pools"]["one"]["runs_in_flight"] != 1:
                    if time.monotonic() > deadline:
                        return  # the run then times out: not what the test expects
                    time.sleep(0.01)
                counts.append(lease.cancel())

            canceller = threading.Thread(target=cancel_once_running)
            canceller.start()
            with pytest.raises(leasepoold.JobCancelledError):
                lease.run("sleep", 600, timeout=60)
            canceller.join()
            assert counts == [{"queued": 0, "running": 1, "finished": 0}]
            assert lease.run("echo", "after") == "after"


def test_connect_to_nothing_stops_the_loop_thread(tmp_path: Any) -> None:
    before = threading.active_count()
    with pytest.raises(leasepoold.ConnectError):
        sync.connect(tmp_path / "missing.sock")
    assert threading.active_count() == before


def test_a_dropped_client_leaks_neither_its_lease_nor_its_thread(daemon: Daemon) -> None:  # noqa: F811
    before = threading.active_count()
    dropped = sync.connect(daemon.socket)
    dropped.acquire(owner="dropped")
    del dropped
    gc.collect()
    with sync.connect(daemon.socket) as observer:
        deadline = time.monotonic() + 30
        while (any(lease["owner"] == "dropped" for lease in observer.stats("cpu")["pools"]["cpu"]["leases"])
               or threading.active_count() != before + 1):  # the observer's thread
            assert time.monotonic() < deadline, "the dropped client's lease or thread lingers"
            time.sleep(0.01)
