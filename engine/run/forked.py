"""Work shared out to this process and processes forked from it: numbered items claimed one at a
time, and each forked process's result sent back through a pipe of its own.

Plain os.fork and pipes (Linux only, from a process with one thread): a batch needs no more of a
process pool, whose modules, helper threads and queues cost a run some 10 ms before and after
the workers did anything. This process takes a share too rather than wait: one fork fewer, and
its share's results need no pickling.
"""

from __future__ import annotations

import os
import pickle
import select
import selectors
import signal
import traceback
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_NUMBER = 4  # bytes of one claimed item number in the claims pipe
# Numbers written at once: a pipe write of at most PIPE_BUF bytes is never split, nor interleaved.
_CHUNK = select.PIPE_BUF // _NUMBER


class WorkerFailed(RuntimeError):
    """A forked worker raised, or ended without sending its result."""


class Claims:
    """Item numbers 0 .. count - 1, each taken by whichever process asks first.

    The numbers go through a pipe. Linux reads a pipe under a lock, every write here is of whole
    numbers and never split, and every read is of one number, so no number is read twice or
    split. The forking process writes what the pipe holds once the workers exist (start), tops
    it up whenever it claims a number itself, and writes the rest once its own share is done
    (finish), then closes the pipe. A worker that dies holds nothing the others wait for.
    """

    def __init__(self, count: int):
        self.count = count
        self._unwritten = 0  # the first number not yet in the pipe
        self._read: int | None
        self._write: int | None
        self._read, self._write = os.pipe()

    def __call__(self) -> int | None:
        """The next number, or None when every number is taken."""
        assert self._read is not None, "claimed after the claims were closed"
        if self._write is not None:  # the forking process: the pipe must not run dry before it reads
            self._fill()
        data = os.read(self._read, _NUMBER)
        return int.from_bytes(data, "little") if data else None

    def in_worker(self) -> None:
        self._close_write()  # else the pipe never ends for the workers

    def start(self) -> None:
        """In the forking process, once the workers exist: as many numbers as the pipe holds."""
        assert self._write is not None, "started twice"
        os.set_blocking(self._write, False)
        self._fill()

    def finish(self) -> None:
        """In the forking process, after its own share: every number left, then the end."""
        self._close_read()  # so that a write fails, rather than waits, once no worker reads
        if self._write is None:
            return
        os.set_blocking(self._write, True)
        try:
            self._fill()
        except BrokenPipeError:
            pass  # every worker has ended; their results tell why
        finally:
            self._close_write()

    def close(self) -> None:
        self._close_read()
        self._close_write()

    def _fill(self) -> None:
        """Numbers into the pipe until every one is in (then the end), or until one write does
        not fit while the pipe is non-blocking (between start and finish)."""
        assert self._write is not None
        while self._unwritten < self.count:
            upto = min(self.count, self._unwritten + _CHUNK)
            chunk = b"".join(n.to_bytes(_NUMBER, "little") for n in range(self._unwritten, upto))
            try:
                os.write(self._write, chunk)  # all of it, or (non-blocking) none when it does not fit
            except BlockingIOError:
                return
            self._unwritten = upto
        self._close_write()

    def _close_read(self) -> None:
        if self._read is not None:
            os.close(self._read)
            self._read = None

    def _close_write(self) -> None:
        if self._write is not None:
            os.close(self._write)
            self._write = None


def in_forks(work: Callable[[int], T], processes: int, claims: Claims | None = None) -> list[T]:
    """[work(0), ..., work(processes - 1)]: work(0) in this process, each other in a process
    forked from it.

    claims, if given, is shared by them all. A forked worker that raises, dies, or sends what
    cannot be read makes this raise WorkerFailed once every worker has ended; an exception in
    this process (its own share, or Ctrl-C) kills the forked workers first.
    """
    pipes = [os.pipe() for _ in range(processes - 1)]
    writing = {write for _, write in pipes}  # write ends this process still holds
    children: list[int] = []
    try:
        for index, (_, write) in enumerate(pipes, start=1):
            pid = os.fork()
            if pid == 0:  # the worker: it never returns from here
                inherited = [read for read, _ in pipes] + sorted(writing - {write})
                _work_and_exit(work, index, write, inherited, claims)
            children.append(pid)
            os.close(write)
            writing.discard(write)
        if claims is not None:
            claims.start()
        mine = work(0)
        if claims is not None:
            claims.finish()
        # Each result is unpickled as soon as its worker is done, while the others still work.
        sent: list[tuple[bool, Any] | None] = [None] * len(children)
        for index, payload in _read_all([read for read, _ in pipes]):
            sent[index] = _unpickled(payload)
    except BaseException:
        for pid in children:  # Ctrl-C reached the workers too; anything else would leave them working
            _kill(pid)
        raise
    finally:
        for fd in [read for read, _ in pipes] + sorted(writing):
            os.close(fd)
        if claims is not None:
            claims.close()
        statuses = [os.waitpid(pid, 0)[1] for pid in children]
    results: list[T] = [mine]
    for index, (outcome, status) in enumerate(zip(sent, statuses, strict=True), start=1):
        if outcome is None:
            raise WorkerFailed(f"batch worker {index} ended without its results ({_how_it_ended(status)})")
        ok, value = outcome
        if not ok:
            raise WorkerFailed(f"batch worker {index} failed:\n{value}")
        results.append(value)
    return results


def _work_and_exit(
    work: Callable[[int], T], index: int, write: int, inherited: list[int], claims: Claims | None
) -> None:
    status = 1
    try:
        for fd in inherited:  # the other workers' pipes, and the parent's reading ends
            os.close(fd)
        if claims is not None:
            claims.in_worker()
        try:
            payload = pickle.dumps((True, work(index)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # the parent reports it; this process ends either way
            payload = pickle.dumps((False, traceback.format_exc()))
        with os.fdopen(write, "wb") as out:
            out.write(payload)
        status = 0
    finally:
        os._exit(status)  # never back into the parent's code, never its exit handlers


def _unpickled(payload: bytes) -> tuple[bool, Any] | None:
    """What a worker sent; None if it sent nothing."""
    if not payload:
        return None
    try:
        sent: tuple[bool, Any] = pickle.loads(payload)
    except Exception as exc:  # cut short, or a value that cannot be rebuilt here
        return False, f"its results could not be read: {type(exc).__name__}: {exc}"
    return sent


def _read_all(fds: list[int]) -> Iterator[tuple[int, bytes]]:
    """(i, everything fds[i] carried) as each pipe's writer closes it, in the order they close."""
    received: dict[int, list[bytes]] = {fd: [] for fd in fds}
    with selectors.DefaultSelector() as selector:
        for fd in fds:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select():
                chunk = os.read(key.fd, 1 << 20)
                if chunk:
                    received[key.fd].append(chunk)
                else:
                    selector.unregister(key.fd)
                    yield fds.index(key.fd), b"".join(received.pop(key.fd))


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _how_it_ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
