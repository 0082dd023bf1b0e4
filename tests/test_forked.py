"""engine.run.forked: work shared out to this process and forked ones, items claimed once each, results sent back."""

from __future__ import annotations

import os
import re
import signal
import sys
import time

import pytest

from engine.run.forked import Claims, WorkerFailed, in_forks

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="batch workers are forked only on Linux")


def take_all(claims: Claims) -> list[int]:
    taken = []
    while (number := claims()) is not None:
        taken.append(number)
    return taken


def test_workers_sharing_claims_take_every_number_once_between_them():
    claims = Claims(20_000)  # more than a pipe holds: this process tops it up as it claims
    shares = in_forks(lambda index: take_all(claims), 3, claims)
    taken = [number for share in shares for number in share]
    assert sorted(taken) == list(range(20_000))  # none lost, none taken twice
    assert all(share == sorted(share) for share in shares)  # each in the order handed out


def test_each_workers_result_comes_back_in_its_place_whatever_its_size():
    shares = in_forks(lambda index: [index] * (index * 400_000), 3)  # up to megabytes through a pipe
    assert [len(share) for share in shares] == [0, 400_000, 800_000]
    assert [set(share) for share in shares] == [set(), {1}, {2}]


def test_a_worker_that_raises_is_reported_with_its_traceback():
    def work(index: int) -> int:
        if index == 1:
            raise LookupError("no such account")
        return index

    with pytest.raises(WorkerFailed, match=r"(?s)batch worker 1 failed.*LookupError: no such account"):
        in_forks(work, 2)


def test_a_worker_that_dies_is_reported_by_how_it_ended():
    def work(index: int) -> int:
        if index == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.2)
        return index

    with pytest.raises(WorkerFailed, match=re.escape("batch worker 1 ended without its results (killed by SIGKILL)")):
        in_forks(work, 2)


def test_claims_left_when_this_process_stops_claiming_still_reach_the_workers():
    claims = Claims(20_000)
    shares = in_forks(lambda index: take_all(claims) if index else [], 2, claims)
    assert shares[0] == [] and shares[1] == list(range(20_000))


def test_an_exception_in_this_process_s_own_share_stops_the_forked_workers_and_reaches_the_caller():
    def work(index: int) -> int:
        if index == 0:
            time.sleep(0.1)  # the worker is started
            raise KeyError("this share")
        time.sleep(30)
        return index

    started = time.monotonic()
    with pytest.raises(KeyError, match="this share"):
        in_forks(work, 2)
    assert time.monotonic() - started < 10  # the worker was killed, not waited for


def test_the_parent_keeps_no_pipe_open_after_a_batch():
    before = set(os.listdir("/proc/self/fd"))
    claims = Claims(10)
    in_forks(lambda index: take_all(claims), 2, claims)
    with pytest.raises(WorkerFailed):
        in_forks(lambda index: 1 / (index - 1), 2, Claims(5))  # fails in the forked worker
    with pytest.raises(ZeroDivisionError):
        in_forks(lambda index: 1 / 0, 2, Claims(5))
    assert set(os.listdir("/proc/self/fd")) == before


def test_this_process_does_the_first_share_and_a_forked_worker_never_returns_into_the_callers_code():
    # Were a worker to return from in_forks, it would run this test's remaining lines twice.
    marker = os.getpid()
    results = in_forks(lambda index: os.getpid(), 3)
    assert os.getpid() == marker
    assert results[0] == marker and len(set(results)) == 3


class Unreadable:
    """A result that pickles in the worker and cannot be rebuilt in the parent."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return _refuse, ()


def _refuse() -> None:
    raise ValueError("not here")


def test_a_result_that_cannot_be_read_back_is_reported_as_the_workers_failure():
    with pytest.raises(
        WorkerFailed, match="batch worker 1 failed:\nits results could not be read: ValueError: not here"
    ):
        in_forks(lambda index: Unreadable() if index == 1 else index, 2)
