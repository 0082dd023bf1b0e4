"""The TCP probe against real sockets on 127.0.0.1: connected, refused, silent, and a fallback."""

from __future__ import annotations

import asyncio
import time

from engine.probes import ProbeResult
from engine.probes.tcp import connect_tcp
from tests.bounds import ended, measured

TIMEOUT = 1.0


async def probe_tcp(addresses: list[str], port: int, timeout: float) -> ProbeResult:
    """The probe's result; a connection it made (which the dialogue would take over) is closed."""
    result, connection = await connect_tcp(addresses, port, timeout)
    if connection is not None:
        await connection.close()
    return result


def facts_of(result) -> dict:
    return {o.name: o.value for o in result.observations}


def test_a_listening_port_connects_and_reports_how_long_it_took(listening_port):
    result = asyncio.run(probe_tcp(["127.0.0.1"], listening_port, TIMEOUT))

    assert result.name == "tcp"
    assert result.status == "ok"
    facts = facts_of(result)
    assert facts["tcp.connect"] == "ok"
    assert facts["tcp.address"] == "127.0.0.1"
    assert isinstance(facts["tcp.connect_ms"], float)
    assert 0 <= facts["tcp.connect_ms"] < TIMEOUT * 1000
    assert f"127.0.0.1:{listening_port}" in result.detail


def test_a_closed_port_is_reported_as_refused(closed_port):
    result = asyncio.run(probe_tcp(["127.0.0.1"], closed_port, TIMEOUT))

    assert result.status == "fail"
    facts = facts_of(result)
    assert facts["tcp.connect"] == "refused"
    assert facts["tcp.address"] == "127.0.0.1"
    assert str(closed_port) in facts["tcp.error"]
    connect = next(o for o in result.observations if o.name == "tcp.connect")
    assert connect.source == "probe"
    assert connect.evidence and str(closed_port) in connect.evidence


def test_a_port_that_drops_connection_requests_times_out_within_the_timeout(blackhole_port):
    started = time.monotonic()
    result = asyncio.run(probe_tcp(["127.0.0.1"], blackhole_port, TIMEOUT))
    elapsed = time.monotonic() - started

    assert result.status == "fail"
    assert facts_of(result)["tcp.connect"] == "timeout"
    ended(elapsed, TIMEOUT)
    measured([result.duration_ms], TIMEOUT)
    assert elapsed >= TIMEOUT * 0.9  # it really waited, rather than failing for another reason


def test_a_refused_first_address_falls_through_to_a_listening_second_address(listening_port):
    # Two loopback addresses stand for two A records of one host. The listener is bound to
    # 127.0.0.1 only, so the same port on 127.0.0.2 refuses.
    alone = asyncio.run(probe_tcp(["127.0.0.2"], listening_port, TIMEOUT))
    assert facts_of(alone)["tcp.connect"] == "refused"

    result = asyncio.run(probe_tcp(["127.0.0.2", "127.0.0.1"], listening_port, TIMEOUT))

    assert result.status == "ok"
    facts = facts_of(result)
    assert facts["tcp.connect"] == "ok"
    assert facts["tcp.address"] == "127.0.0.1"


def test_no_address_at_all_is_a_failure_not_a_crash():
    result = asyncio.run(probe_tcp([], 25, TIMEOUT))

    assert result.status == "fail"
    assert facts_of(result)["tcp.connect"] == "error"


def test_the_connection_made_is_handed_over_open_and_a_failure_hands_over_none(listening_port, closed_port):
    async def both() -> tuple[bool, object]:
        _, made = await connect_tcp(["127.0.0.1"], listening_port, TIMEOUT)
        assert made is not None
        still_open = not made.closing
        await made.close()
        _, failed = await connect_tcp(["127.0.0.1"], closed_port, TIMEOUT)
        return still_open, failed

    still_open, failed = asyncio.run(both())

    assert still_open
    assert failed is None
