# SPDX-License-Identifier: ISC
"""python3 -m leasepoold.worker against the worker channel's spec."""

from typing import Any, Callable

import msgpack
import pytest

from harness import (EXAMPLES, INTERNAL, JOB, JOB_FAILED, LIMIT_EXCEEDED,
                     NO_SUCH_FUNCTION, OK, RECALL, RECALLABLE, RECALLED, RESULT, STREAM, Worker, frame,
                     job_frame)

StartWorker = Callable[..., Worker]

ROUND_TRIPS = [
    None, True, False,
    0, 1, -1, 127, -33, 2**63 - 1, -2**63, 2**64 - 1,
    0.5, -1e300,
    "", "text", "ünïcødé ✓",
    b"", b"\x00\xff bytes",
    # Larger than one read of the channel.
    "x" * 70000, b"y" * 200000,
    [], [1, "two", b"three", [4.0]],
    {}, {"a": 1, "b": [None]}, {1: "integer key", 2.5: "float key"},
    msgpack.ExtType(5, b"extension"),
    {"nested": [{"deep": [b"\x01", {"x": None}]}]},
]


@pytest.fixture
def worker(start_worker: StartWorker) -> Worker:
    started = start_worker(["sample_jobs"])
    started.expect_ready()
    return started


@pytest.mark.parametrize("value", ROUND_TRIPS, ids=lambda value: type(value).__name__)
def test_every_msgpack_type_goes_there_and_back(worker: Worker, value: Any) -> None:
    assert worker.call("sample_jobs:echo", value) == (OK, value)


def test_kwargs_are_passed_by_name(worker: Worker) -> None:
    assert worker.call("sample_jobs:echo_kwargs", a=1, b=b"2") == (OK, {"a": 1, "b": b"2"})


def test_a_frame_is_answered_job_by_job_in_order(worker: Worker) -> None:
    jobs = [["sample_jobs:echo", [n], {}] for n in range(5)]
    worker.send(job_frame(42, jobs, STREAM))
    assert [worker.result(42) for _ in jobs] == [(OK, n) for n in range(5)]


def test_an_exception_fails_the_job_and_its_traceback_goes_to_stderr(worker: Worker) -> None:
    assert worker.call("sample_jobs:fail", "bad input") == (JOB_FAILED, "ValueError: bad input")
    stderr = worker.stderr_text()
    assert "Traceback (most recent call last)" in stderr
    assert 'raise ValueError(message)' in stderr
    assert worker.call("sample_jobs:echo", 1) == (OK, 1), "the worker goes on after a failed job"


def test_wrong_arguments_fail_the_job(worker: Worker) -> None:
    code, message = worker.call("sample_jobs:echo", 1, 2)
    assert code == JOB_FAILED and message.startswith("TypeError: echo() takes 1 positional argument")


@pytest.mark.parametrize("name", [
    "os:system",                    # a module that was not named
    "nosuch:anything",              # nor was this one
    "never_imported:anything",      # it exists, and is not imported either
    "sample_jobs:os",               # a module the served one imported
    "sample_jobs:system",           # a built-in function it imported
    "sample_jobs:join",             # a Python function it imported (posixpath's)
    "sample_jobs:_private",         # not public
    "sample_jobs:nosuch",
    "sample_jobs",
    "sample_jobs:echo:echo",
    "",
])
def test_nothing_outside_the_named_modules_public_functions_is_served(worker: Worker, name: str) -> None:
    code, message = worker.call(name)
    assert code == NO_SUCH_FUNCTION and name in message
    assert "never_imported" not in worker.stdout_text()


def test_a_result_msgpack_cannot_carry_fails_the_job(worker: Worker) -> None:
    code, message = worker.call("sample_jobs:make_set")
    assert code == JOB_FAILED and message.startswith("result of type set cannot be sent as msgpack")
    assert worker.call("sample_jobs:echo", "after") == (OK, "after"), "the packer is not left half-full"


def test_a_result_over_LEASEPOOL_MAX_RESULT_BYTES_is_refused(start_worker: StartWorker) -> None:
    limit = 1000
    worker = start_worker(["sample_jobs"], env={"LEASEPOOL_MAX_RESULT_BYTES": str(limit)})
    worker.expect_ready()
    bin16_header = 3  # bytes of msgpack's bin 16 header
    largest = limit - bin16_header
    assert worker.call("sample_jobs:sized_bytes", largest) == (OK, b"x" * largest)
    code, message = worker.call("sample_jobs:sized_bytes", largest + 1)
    assert code == LIMIT_EXCEEDED and str(limit) in message


@pytest.mark.parametrize("job", [
    "sample_jobs:echo",
    ["sample_jobs:echo", [1]],
    ["sample_jobs:echo", [1], {}, "extra"],
    [b"sample_jobs:echo", [1], {}],
    ["sample_jobs:echo", {}, {}],
    ["sample_jobs:echo", [1], []],
])
def test_a_job_that_is_not_str_list_dict_is_an_internal_error(worker: Worker, job: Any) -> None:
    worker.send(job_frame(3, [job, ["sample_jobs:echo", ["next"], {}]]))
    assert worker.result(3) == (INTERNAL, "malformed job")
    assert worker.result(3) == (OK, "next")


def test_print_reaches_stdout_line_by_line(worker: Worker) -> None:
    assert worker.call("sample_jobs:say", "hello from a job") == (OK, None)
    # Read while the worker runs: the line is not waiting in a buffer.
    assert worker.stdout_text() == "hello from a job\n"


def test_logging_reaches_stderr_at_info(worker: Worker) -> None:
    assert worker.call("sample_jobs:log", "logged by a job") == (OK, None)
    assert "logged by a job" in worker.stderr_text()


def test_a_program_a_job_starts_does_not_get_the_channel(worker: Worker) -> None:
    assert worker.call("sample_jobs:child_has_channel") == (OK, False)


def test_end_of_file_on_fd_3_exits_0(worker: Worker) -> None:
    assert worker.close() == 0


def test_end_of_file_during_a_recallable_frame_exits_0_at_once(worker: Worker) -> None:
    worker.send(job_frame(1, [["sample_jobs:pause", [0.5], {}]] * 3, RECALLABLE))
    assert worker.close() == 0
    frames = iter(worker.read_frame, None)
    assert len(list(frames)) < 3


def test_a_recall_sent_with_the_frame_stops_it_before_its_first_job(worker: Worker) -> None:
    # The RECALL comes with the frame, so it is there when the worker looks before the first job.
    worker.send(job_frame(9, [["sample_jobs:pause", [0.01], {}]] * 3, RECALLABLE) + frame(RECALL, 9))
    assert worker.read_frame() == (RECALLED, 9, 0, 0, b"")
    assert worker.call("sample_jobs:echo", "next") == (OK, "next"), "no result after RECALLED"


def test_a_recall_after_the_first_result_stops_the_frame(worker: Worker) -> None:
    jobs = [["sample_jobs:pause", [0.05], {}]] * 20
    worker.send(job_frame(9, jobs, RECALLABLE))
    assert worker.result(9) == (OK, 0.05)
    worker.send(frame(RECALL, 9))
    # The worker may have looked before the RECALL came: it sees it after
    # another job or two, long before the last one however busy the machine.
    results = 1
    got = worker.read_frame()
    while got is not None and got[0] == RESULT:
        results += 1
        got = worker.read_frame()
    assert got == (RECALLED, 9, 0, 0, b"") and results < len(jobs)
    assert worker.call("sample_jobs:echo", "next") == (OK, "next"), "no result after RECALLED"


def test_a_frame_that_is_not_recallable_runs_to_its_end(worker: Worker) -> None:
    worker.send(job_frame(9, [["sample_jobs:pause", [0.01], {}]] * 3) + frame(RECALL, 9))
    assert [worker.result(9) for _ in range(3)] == [(OK, 0.01)] * 3
    assert worker.call("sample_jobs:echo", "next") == (OK, "next"), "the stale RECALL was dropped"


def test_a_recall_of_an_ended_frame_is_ignored(worker: Worker) -> None:
    assert worker.call("sample_jobs:echo", 1) == (OK, 1)
    # Between frames, then in the middle of a recallable one.
    worker.send(frame(RECALL, 7) + job_frame(8, [["sample_jobs:pause", [0.01], {}]] * 3, RECALLABLE)
                + frame(RECALL, 7))
    assert [worker.result(8) for _ in range(3)] == [(OK, 0.01)] * 3
    assert worker.call("sample_jobs:echo", "next") == (OK, "next")


@pytest.mark.parametrize("data", [
    frame(RESULT, 1),
    frame(99, 1),
    frame(JOB, 1, msgpack.packb({"not": "an array"})),
    frame(JOB, 1, b"\xc1"),  # a byte msgpack never uses
    frame(JOB, 1, msgpack.packb([]) + b"\x01"),  # more than one object
], ids=["result", "unknown type", "map payload", "not msgpack", "trailing data"])
def test_a_frame_it_cannot_read_exits_2(worker: Worker, data: bytes) -> None:
    worker.send(data)
    assert worker.wait() == 2
    assert worker.read_frame() is None


def test_end_of_file_inside_a_frame_exits_2(worker: Worker) -> None:
    worker.send(job_frame(1, [["sample_jobs:echo", [1], {}]])[:-1])
    assert worker.close() == 2


def test_a_module_that_fails_to_import_exits_1_before_ready(start_worker: StartWorker) -> None:
    worker = start_worker(["sample_jobs", "broken_jobs"])
    assert worker.wait() == 1
    assert worker.read_frame() is None
    stderr = worker.stderr_text()
    assert "RuntimeError: broken_jobs cannot start" in stderr and "Traceback" in stderr


def test_an_unknown_module_exits_1(start_worker: StartWorker) -> None:
    worker = start_worker(["no_such_module_here"])
    assert worker.wait() == 1
    assert "No module named 'no_such_module_here'" in worker.stderr_text()


def test_without_LEASEPOOL_WORKER_FDS_it_says_how_it_is_run(start_worker: StartWorker) -> None:
    worker = start_worker(["sample_jobs"], env={"LEASEPOOL_WORKER_FDS": None})
    assert worker.wait() == 2
    assert worker.read_frame() is None
    assert worker.stderr_text() == ("leasepoold.worker: run by leasepoold as a pool's worker_program;"
                                    " see docs/worker-protocol.md\n")


@pytest.mark.parametrize("value", [None, "", "lots", "-1", "\u0661"])
def test_without_a_result_limit_it_exits_2(start_worker: StartWorker, value: Any) -> None:
    worker = start_worker(["sample_jobs"], env={"LEASEPOOL_MAX_RESULT_BYTES": value})
    assert worker.wait() == 2
    assert "LEASEPOOL_MAX_RESULT_BYTES is not a number of bytes" in worker.stderr_text()


def test_the_example_counts_primes(start_worker: StartWorker) -> None:
    worker = start_worker(["primes"], paths=[EXAMPLES])
    worker.expect_ready()
    assert worker.call("primes:count_primes", 100) == (OK, 25)
    assert worker.call("primes:echo", [b"x"]) == (OK, [b"x"])
