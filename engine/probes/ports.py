"""When the configured port fails, which other submission ports answer, and how to use them."""

from __future__ import annotations

import ssl
import time
from collections.abc import Sequence

from engine.facts import Observation
from engine.probes import ProbeResult, Stopwatch, beside
from engine.probes import tls as tlsmod
from engine.probes.dial import dial
from engine.probes.wire import Transcript, Wire, WireError
from engine.values import frozen


@frozen
class PortAnswer:
    port: int
    security: str
    greeting: str


async def _try(address: str, port: int, security: str, deadline: float, source: str | None) -> PortAnswer | None:
    """A port answers when it gives an SMTP greeting (over TLS for implicit-TLS ports)."""
    ctx = tlsmod.context(None, verify=False) if security == "ssl" else None
    try:
        connection = await dial(address, port, deadline - time.monotonic(), source=source, tls=ctx)
    except (TimeoutError, OSError, ssl.SSLError):
        return None
    wire = Wire(connection, Transcript())
    try:
        reply = await wire.reply(deadline)
    except WireError:
        return None
    finally:
        await wire.close()
    return PortAnswer(port, security, reply.shown()) if reply.code == 220 else None


async def sweep(
    address: str, configured: int, ports: Sequence[tuple[int, str]], deadline: float, source: str | None = None
) -> ProbeResult:
    """All other submission ports (knowledge/ports.yaml, in order of preference) at once."""
    watch = Stopwatch()
    candidates = [(p, s) for p, s in ports if p != configured]
    answers = await beside.gather(*(_try(address, p, s, deadline, source) for p, s in candidates))
    found = [a for a in answers if a is not None]
    tried = ", ".join(str(p) for p, _ in candidates)
    if not found:
        return ProbeResult(
            "ports",
            "fail",
            watch.ms(),
            f"no other submission port answered (tried {tried})",
            [
                Observation("ports.answering", "", "probe", f"tried {tried}: none answered", "ports"),
            ],
        )
    best = found[0]  # ports.yaml lists them in order of preference
    shown = "; ".join(f"port {a.port} ({a.security}): {a.greeting}" for a in found)
    facts = [
        Observation("ports.answering", " ".join(str(a.port) for a in found), "probe", shown, "ports"),
        Observation("ports.suggested", best.port, "probe", f"port {best.port} answers: {best.greeting}", "ports"),
        Observation("ports.suggested_security", best.security, "probe", None, "ports"),
    ]
    return ProbeResult("ports", "ok", watch.ms(), shown, facts)
