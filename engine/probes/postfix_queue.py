"""Read a Postfix instance's mail queue with `postqueue -j` and say what is stuck and why."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import field, replace

from pydantic import BaseModel, ConfigDict, ValidationError

from engine.facts import Observation
from engine.probes import ProbeResult, Stopwatch
from engine.values import record

POSTQUEUE = "postqueue"
SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")
# Queue ids whose delay reasons are mined; the counts still cover every message, so a queue
# of a hundred thousand deferred messages costs one parse, not a hundred thousand scans.
MAX_MINED_MESSAGES = 200
MAX_DETAIL = 300  # characters of postqueue's own complaint kept in the probe's detail
# postqueue warns this on stderr and reads the queue files itself when the master is stopped.
MAIL_SYSTEM_DOWN = "Mail system is down"

# (origin, text) pairs in; the facts the signatures find in them out. The caller binds the
# knowledge base, so this probe reads no knowledge itself.
Miner = Callable[[Iterable[tuple[str, str]]], list[Observation]]


class Recipient(BaseModel):
    model_config = ConfigDict(extra="ignore")
    address: str
    delay_reason: str | None = None


class QueuedMessage(BaseModel):
    """One line of `postqueue -j` (Postfix 3.1+); fields Postfix may add later are ignored."""

    model_config = ConfigDict(extra="ignore")
    queue_name: str
    queue_id: str
    arrival_time: int
    sender: str = ""
    recipients: list[Recipient] = []


@record
class QueueListing:
    messages: list[QueuedMessage] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)  # 1-based line numbers that did not parse

    def count(self, queue_name: str) -> int:
        return sum(1 for m in self.messages if m.queue_name == queue_name)


def parse_postqueue(text: str) -> QueueListing:
    """Every JSON line of `postqueue -j`; lines that are not a queue entry are counted, not fatal."""
    listing = QueueListing()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            listing.messages.append(QueuedMessage.model_validate(json.loads(line)))
        except (ValueError, ValidationError):  # json.JSONDecodeError is a ValueError
            listing.bad_lines.append(number)
    return listing


def queue_observations(listing: QueueListing, mail_system_down: bool, now: float, where: str) -> list[Observation]:
    """Counts by queue, the age of the oldest waiting message, and a stopped master."""

    def fact(name: str, value: str | int | bool, evidence: str) -> Observation:
        return Observation(name, value, "probe", evidence, where)

    deferred, held = listing.count("deferred"), listing.count("hold")
    facts = [
        fact("queue.name", "postfix", f"{where}: {len(listing.messages)} messages listed"),
        fact("queue.postfix_deferred", deferred, f"deferred queue: {deferred}"),
        fact("queue.postfix_held", held, f"hold queue: {held}"),
    ]
    waiting = [m for m in listing.messages if m.queue_name in ("deferred", "hold")]
    if waiting:
        oldest = min(waiting, key=lambda m: m.arrival_time)
        age = max(0, int(now - oldest.arrival_time))
        facts.append(fact("queue.postfix_oldest_age", age, f"{oldest.queue_id} waiting for {age} s"))
    if mail_system_down:
        facts.append(fact("queue.processor_state", "stopped", f"postqueue: {MAIL_SYSTEM_DOWN}"))
    return facts


def delay_reasons(listing: QueueListing) -> list[tuple[str, str]]:
    """(queue id, reason) for each distinct reason of each waiting message, oldest first."""
    pairs: list[tuple[str, str]] = []
    for message in sorted(listing.messages, key=lambda m: m.arrival_time)[:MAX_MINED_MESSAGES]:
        reasons = dict.fromkeys(r.delay_reason for r in message.recipients if r.delay_reason)
        pairs.extend((f"postfix queue {message.queue_id}", reason) for reason in reasons)
    return pairs


def postqueue_command(config_dir: str | None, binary: str | None = None) -> list[str]:
    """The command line; postqueue lives in /usr/sbin, which a non-root PATH often lacks."""
    found = binary or shutil.which(POSTQUEUE, path=os.pathsep.join([os.environ.get("PATH", ""), *SBIN])) or POSTQUEUE
    return [found, *(["-c", config_dir] if config_dir else []), "-j"]


def _last_line(text: str) -> str:
    """postqueue warns first and says why it gave up last."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else "no message")[:MAX_DETAIL]


@record
class Completed:
    returncode: int
    stdout: str
    stderr: str


def _run(command: list[str], timeout: float) -> Completed:
    """Run in its own process group, so a timeout kills whatever it started too and nothing hangs on a pipe."""
    with subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    ) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return Completed(process.returncode, out, err)


def probe_postfix_queue(
    config_dir: str | None,
    timeout: float,
    miner: Miner | None = None,
    now: float | None = None,
    binary: str | None = None,
) -> ProbeResult:
    """Run postqueue within the timeout; a missing binary, a refusal or a hang is a status, not a crash."""
    watch = Stopwatch()
    command = postqueue_command(config_dir, binary)
    where = " ".join([POSTQUEUE, *command[1:]])
    try:
        done = _run(command, timeout)
    except FileNotFoundError:
        return ProbeResult(
            "postfix_queue", "skipped", watch.ms(), f"{command[0]} not found: Postfix is not installed on this machine"
        )
    except PermissionError:
        return ProbeResult(
            "postfix_queue",
            "fail",
            watch.ms(),
            f"{command[0]}: permission denied running it; run as root or a member of the postdrop group",
        )
    except subprocess.TimeoutExpired:
        return ProbeResult("postfix_queue", "fail", watch.ms(), f"{where}: no answer within {timeout:g} s")
    except OSError as exc:  # not an executable, too many processes...
        return ProbeResult("postfix_queue", "fail", watch.ms(), f"{command[0]}: cannot run it: {exc.strerror or exc}")
    if done.returncode != 0:
        return ProbeResult(
            "postfix_queue", "fail", watch.ms(), f"{where} exited with {done.returncode}: {_last_line(done.stderr)}"
        )
    listing = parse_postqueue(done.stdout)
    down = MAIL_SYSTEM_DOWN.lower() in done.stderr.lower()
    facts = queue_observations(listing, down, time.time() if now is None else now, where)
    if miner is not None:
        # Postfix's own words for why it could not deliver: the same facts a live probe would give.
        facts.extend(replace(o, source="probe") for o in miner(delay_reasons(listing)))
    detail = (
        f"{len(listing.messages)} messages queued: {listing.count('deferred')} deferred, "
        f"{listing.count('hold')} held, {listing.count('active')} active, {listing.count('incoming')} incoming"
    )
    if down:
        detail += "; the mail system is down (postqueue read the queue files directly)"
    if listing.bad_lines:
        detail += f"; {len(listing.bad_lines)} lines were not queue entries (first: line {listing.bad_lines[0]})"
    # Mail waiting or a stopped master is what this probe looks for: a failed check, like a refused connect.
    stuck = down or listing.count("deferred") > 0 or listing.count("hold") > 0
    return ProbeResult("postfix_queue", "fail" if stuck else "ok", watch.ms(), detail, facts)
