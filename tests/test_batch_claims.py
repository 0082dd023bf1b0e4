"""engine.run.batch.Claims: forked workers take the accounts of a batch one at a time, each once."""

from __future__ import annotations

import multiprocessing
import sys
from multiprocessing.connection import Connection

import pytest

from engine.run.batch import Claims

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="batch workers are forked only on Linux")


def take_all(claims: Claims, out: Connection) -> None:
    taken = []
    while (number := claims()) is not None:
        taken.append(number)
    out.send(taken)


def test_forked_processes_sharing_claims_take_every_number_once_between_them():
    context = multiprocessing.get_context("fork")
    claims = Claims(600, context.Lock())
    pipes = [context.Pipe(duplex=False) for _ in range(3)]
    workers = [context.Process(target=take_all, args=(claims, sending)) for _, sending in pipes]
    for worker in workers:
        worker.start()
    shares = [receiving.recv() for receiving, _ in pipes]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    taken = [number for share in shares for number in share]
    assert sorted(taken) == list(range(600))  # none lost, none taken twice
    assert all(share == sorted(share) for share in shares)  # each in the order handed out
    assert claims() is None  # the parent sees what the workers took


def test_claims_run_out_after_count_and_stay_out():
    claims = Claims(2, multiprocessing.get_context("fork").Lock())
    assert [claims(), claims(), claims(), claims()] == [0, 1, None, None]
