"""engine.run.forked: work shared out to forked processes, items claimed once each, results sent back."""

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


def test_forked_workers_sharing_claims_take_every_number_once_between_them():
    claims = Claims(20_000)  # more than a pipe holds before the workers read from it
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
        if index == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.2)
        return index

    with pytest.raises(WorkerFailed, match=re.escape("batch worker 0 ended without its results (killed by SIGKILL)")):
        in_forks(work, 2)


def test_the_parent_keeps_no_pipe_open_after_a_batch():
    before = set(os.listdir("/proc/self/fd"))
    claims = Claims(10)
    in_forks(lambda index: take_all(claims), 2, claims)
    with pytest.raises(WorkerFailed):
        in_forks(lambda index: 1 / 0, 2, Claims(5))
    assert set(os.listdir("/proc/self/fd")) == before


def test_a_worker_never_returns_into_the_callers_code():
    # Were a worker to return from in_forks, it would run this test's remaining lines twice.
    marker = os.getpid()
    results = in_forks(lambda index: os.getpid(), 2)
    assert os.getpid() == marker
    assert len(set(results)) == 2 and marker not in results


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
