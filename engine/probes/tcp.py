"""Open a TCP connection to host:port within the timeout and say how it ended."""

from __future__ import annotations

import errno
import os
import time

from engine.facts import Observation
from engine.probes import ProbeResult, Stopwatch
from engine.probes.dial import Connection, dial

_ERRNO_OUTCOME = {
    errno.ECONNREFUSED: "refused",
    errno.EHOSTUNREACH: "unreachable",
    errno.ENETUNREACH: "unreachable",
    errno.ECONNRESET: "reset",
    errno.ETIMEDOUT: "timeout",
}


async def connect_tcp(
    addresses: list[str], port: int, timeout: float, source: str | None = None
) -> tuple[ProbeResult, Connection | None]:
    """Try each address in turn, as a client library would, inside one shared deadline.

    The connection that succeeds stays open for the SMTP dialogue that follows, as an
    application's own session would be: one connection per run, not a probe and then another.
    """
    watch = Stopwatch()
    deadline = time.monotonic() + timeout
    outcome, detail, address = "error", "no address to connect to", ""
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            outcome, detail = "timeout", f"no answer from {address}:{port} within {timeout:g} s"
            break
        try:
            connection = await dial(address, port, remaining, source=source)
        except TimeoutError:
            outcome, detail = "timeout", f"connect to {address}:{port}: no answer within {timeout:g} s"
            continue
        except OSError as exc:
            outcome = _ERRNO_OUTCOME.get(exc.errno or 0, "error")
            # asyncio words refusals as "Connect call failed (...)"; the OS text is clearer.
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            detail = f"connect to {address}:{port}: {reason}"
            continue
        elapsed = watch.ms()
        local = connection.local_address
        evidence = f"TCP connected to {address}:{port} in {elapsed} ms"
        facts = [
            Observation("tcp.connect", "ok", "probe", evidence, "tcp"),
            Observation("tcp.address", address, "probe", None, "tcp"),
            Observation("tcp.connect_ms", elapsed, "probe", None, "tcp"),
        ]
        if local:  # where the probe stands: the source address of this very connection
            shown = f"local end of the TCP connection to {address}:{port}: {local[0]}:{local[1]}"
            facts.append(Observation("probe.local_address", str(local[0]), "probe", shown, "tcp"))
            facts.append(Observation("probe.local_address_method", "tcp_connection", "probe", None, "tcp"))
        return ProbeResult("tcp", "ok", elapsed, evidence, facts), connection
    elapsed = watch.ms()
    facts = [
        Observation("tcp.connect", outcome, "probe", detail, "tcp"),
        Observation("tcp.connect_ms", elapsed, "probe", None, "tcp"),
    ]
    if address:
        facts.append(Observation("tcp.address", address, "probe", None, "tcp"))
        facts.append(Observation("tcp.error", detail, "probe", None, "tcp"))
    return ProbeResult("tcp", "fail", elapsed, detail, facts), None
