"""The Postfix queue probe: postqueue -j parsed, counted, its delay reasons read by the signatures.

The parser tests read output captured from the private test instance (tests/data); the probe
tests run postqueue against a real, private Postfix instance on loopback.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.knowledge.model import Knowledge
from engine.probes.postfix_queue import (
    delay_reasons,
    parse_postqueue,
    probe_postfix_queue,
    queue_observations,
)
from engine.run.pipeline import PostfixQueue, postfix_queue_probe
from tests.bounds import ended, measured
from tests.postfixserver import PostfixInstance, postfix_instance

DATA = Path(__file__).parent / "data"
CAPTURED = (DATA / "postqueue-deferred-and-held.jsonl").read_text()
STOPPED_WARNING = (DATA / "postqueue-stopped.stderr").read_text()


def facts_by_name(observations: list) -> dict[str, list]:
    out: dict[str, list] = {}
    for item in observations:
        out.setdefault(item.name, []).append(item)
    return out


# --- the parser, on output captured from the test instance --------------------------------


def test_every_captured_line_becomes_a_queued_message_with_its_recipients() -> None:
    listing = parse_postqueue(CAPTURED)
    assert [m.queue_name for m in listing.messages] == ["deferred", "deferred", "hold"]
    assert [r.address for r in listing.messages[0].recipients] == ["someone@example.com", "other@example.org"]
    assert listing.messages[0].recipients[0].delay_reason == "connect to 127.0.0.1[127.0.0.1]:54351: Connection refused"
    assert listing.bad_lines == []


def test_lines_that_are_not_queue_entries_are_counted_not_fatal() -> None:
    listing = parse_postqueue(CAPTURED + "not json\n" + json.dumps({"queue_name": "active"}) + "\n")
    assert len(listing.messages) == 3
    assert listing.bad_lines == [4, 5]


def test_an_empty_queue_parses_to_no_messages() -> None:
    assert parse_postqueue("").messages == []


def test_counts_and_the_oldest_age_come_from_the_deferred_and_hold_queues() -> None:
    listing = parse_postqueue(CAPTURED)
    arrival = listing.messages[0].arrival_time
    facts = {o.name: o.value for o in queue_observations(listing, False, arrival + 90, "postqueue -j")}
    assert facts == {
        "queue.name": "postfix",
        "queue.postfix_deferred": 2,
        "queue.postfix_held": 1,
        "queue.postfix_oldest_age": 90,
    }


def test_the_mail_system_down_warning_means_a_stopped_queue() -> None:
    assert "Mail system is down" in STOPPED_WARNING
    facts = {o.name: o.value for o in queue_observations(parse_postqueue(""), True, time.time(), "postqueue -j")}
    assert facts["queue.processor_state"] == "stopped"
    assert "queue.postfix_oldest_age" not in facts


def test_delay_reasons_are_mined_into_network_facts_with_the_queue_id_as_origin(kb: Knowledge) -> None:
    from engine.text.signatures import mine_snippets

    found = facts_by_name(mine_snippets(kb, delay_reasons(parse_postqueue(CAPTURED))))
    refused = [o for o in found["tcp.connect"] if o.value == "refused"]
    assert {o.origin for o in refused} == {
        "postfix queue B4E2725630E",
        "postfix queue B63E825630F",
        "postfix queue B83CC256310",
    }
    assert refused[0].evidence == "connect to 127.0.0.1[127.0.0.1]:54351: Connection refused"
    assert "log.lines" not in found


# --- postqueue that cannot run ---------------------------------------------------------------


def test_a_missing_postqueue_binary_is_a_skipped_probe(tmp_path: Path) -> None:
    result = probe_postfix_queue(None, 2.0, binary=str(tmp_path / "postqueue"))
    assert result.status == "skipped"
    assert "not found" in result.detail and result.observations == []


def test_a_postqueue_that_may_not_be_run_is_a_failed_probe_saying_permission_denied(tmp_path: Path) -> None:
    script = tmp_path / "postqueue"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o644)
    result = probe_postfix_queue(None, 2.0, binary=str(script))
    assert result.status == "fail"
    assert "permission denied" in result.detail


def test_a_postqueue_that_hangs_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    script = tmp_path / "postqueue"
    script.write_text("#!/bin/sh\nsleep 30\n")  # the shell's child holds the pipes open too
    script.chmod(0o755)
    started = time.monotonic()
    result = probe_postfix_queue(None, 0.5, binary=str(script))
    ended(time.monotonic() - started, 0.5)
    measured([result.duration_ms], 0.5)
    assert result.status == "fail"
    assert "no answer within 0.5 s" in result.detail


def test_a_config_directory_without_main_cf_is_a_failed_probe_naming_postqueues_complaint(tmp_path: Path) -> None:
    result = probe_postfix_queue(str(tmp_path), 5.0)
    if result.status == "skipped":
        pytest.fail("postqueue is not installed; `make test` installs Postfix", pytrace=False)
    assert result.status == "fail"
    assert "main.cf" in result.detail


# --- a real, private Postfix instance -------------------------------------------------------


@pytest.fixture(scope="module")
def deferring_postfix() -> Iterator[PostfixInstance]:
    """Three messages, one to two recipients, deferred because the relay host refuses; one then held."""
    with postfix_instance() as instance:
        instance.inject([["someone@example.com", "other@example.org"], ["user1@example.com"], ["user2@example.com"]])
        entries = instance.wait_deferred(3)
        assert sum(e["queue_name"] == "deferred" for e in entries) == 3, instance.maillog()
        instance.hold(str(entries[-1]["queue_id"]))
        yield instance


def test_the_probe_counts_deferred_and_held_mail_of_a_real_instance(
    deferring_postfix: PostfixInstance, kb: Knowledge
) -> None:
    result = postfix_queue_probe(kb, PostfixQueue(deferring_postfix.config_dir, 5.0), None)
    facts = facts_by_name(result.observations)
    assert result.status == "fail"
    assert "3 messages queued: 2 deferred, 1 held" in result.detail
    assert facts["queue.postfix_deferred"][0].value == 2
    assert facts["queue.postfix_held"][0].value == 1
    assert 0 <= facts["queue.postfix_oldest_age"][0].value < 60
    assert "queue.processor_state" not in facts


def test_the_real_delay_reason_becomes_a_refused_connection_to_the_relay(
    deferring_postfix: PostfixInstance, kb: Knowledge
) -> None:
    result = postfix_queue_probe(kb, PostfixQueue(deferring_postfix.config_dir, 5.0), None)
    refused = [o for o in result.observations if o.name == "tcp.connect"]
    ids = {str(e["queue_id"]) for e in deferring_postfix.postqueue_json()}
    assert refused and all(o.value == "refused" and o.source == "probe" for o in refused)
    assert {o.origin for o in refused} == {f"postfix queue {i}" for i in ids}
    assert f"127.0.0.1[127.0.0.1]:{deferring_postfix.dead_port}: Connection refused" in refused[0].evidence


def test_an_empty_queue_is_ok_and_a_stopped_instance_is_a_stopped_queue(kb: Knowledge) -> None:
    with postfix_instance() as instance:
        empty = postfix_queue_probe(kb, PostfixQueue(instance.config_dir, 5.0), None)
        instance.postfix("stop")
        down = postfix_queue_probe(kb, PostfixQueue(instance.config_dir, 5.0), None)
    assert empty.status == "ok" and empty.detail.startswith("0 messages queued")
    assert {o.name: o.value for o in down.observations}["queue.processor_state"] == "stopped"
    assert down.status == "fail" and "mail system is down" in down.detail


def listening_addresses(pid: int) -> set[str]:
    """host:port of every TCP socket the process listens on, from /proc (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                address, port = fields[1].split(":")
                shown = socket.inet_ntoa(bytes.fromhex(address)[::-1]) if len(address) == 8 else address
                found.add(f"{shown}:{int(port, 16)}")
    return found


def test_the_test_instance_listens_on_its_loopback_port_only(deferring_postfix: PostfixInstance) -> None:
    pid = int((deferring_postfix.root / "queue" / "pid" / "master.pid").read_text().split()[0])
    assert listening_addresses(pid) == {f"127.0.0.1:{deferring_postfix.port}"}
