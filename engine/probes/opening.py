"""Opening an SMTP connection: implicit TLS or a plain greeting, told apart from junk and silence."""

from __future__ import annotations

import ssl
import time
from typing import Protocol

from engine.facts import FactValue, Observation
from engine.probes import Stopwatch, beside
from engine.probes import tls as tlsmod
from engine.probes.dial import Connection, dial
from engine.probes.wire import Reply, Transcript, Wire, WireError
from engine.values import frozen

# How long a silent port is given before a TLS handshake is tried beside it.
TLS_TRY_AFTER = 1.0


class Stop(Exception):
    """The dialogue ends here; the facts already say why."""


@frozen
class Target:
    """Where to connect and how the connection is meant to be secured."""

    host: str  # the name the certificate must carry
    address: str  # the address dialled
    port: int
    security: str  # auto | starttls | ssl | none
    implicit: bool  # TLS from the first byte
    timeout: float  # seconds for the opening as a whole
    cafile: str | None
    ehlo_name: str  # for a second look at a certificate served after STARTTLS
    source: str | None = None  # the local address to connect from (--source-address)

    async def dial(self, deadline: float, tls: ssl.SSLContext | None = None) -> Connection:
        """A connection to the target from the run's source address, within what is left of deadline."""
        remaining = deadline - time.monotonic()
        return await dial(self.address, self.port, remaining, source=self.source, tls=tls, server_hostname=self.host)


class Record(Protocol):
    """What the probe has seen so far; the opening adds its facts, results and transcript lines."""

    stage: str
    transcript: Transcript
    observations: list[Observation]

    def fact(self, name: str, value: FactValue, evidence: str | None = None, origin: str = "smtp") -> None: ...

    def result(self, name: str, ok: bool, watch: Stopwatch, detail: str) -> None: ...

    def reply(self, stage: str, reply: Reply) -> None: ...


async def open_smtp(target: Target, d: Record, opened: Connection | None = None) -> Wire:
    """Connect (with TLS first for implicit TLS) and read the greeting; raise Stop unless it is 220.

    A plain connection already open (the TCP probe's) is used as it is; implicit TLS dials anew,
    so that a failed handshake is told apart from the TCP connect exactly as a client sees it.
    """
    deadline = time.monotonic() + target.timeout
    watch = Stopwatch()
    implicit = target.implicit
    d.fact("tls.mode", "implicit" if implicit else ("starttls" if target.security in ("auto", "starttls") else "none"))
    if implicit and target.security == "auto":
        d.fact(
            "tls.auto_choice",
            "implicit",
            f"security auto: port {target.port} speaks implicit TLS (knowledge/ports.yaml)",
            "tls",
        )
    if implicit:
        if opened is not None:
            await opened.close()
        wire = await _connect_tls(target, d, deadline)
    else:
        wire = Wire(opened or await _connect(target, d, deadline, ssl_ctx=None), d.transcript)
    try:
        await _greeting(target, wire, d, deadline, watch)
    except Stop:
        await wire.close()  # the caller never gets this wire, so it cannot close it
        raise
    return wire


def wire_failure(d: Record, stage: str, exc: WireError) -> None:
    d.stage = stage
    d.fact("smtp.failure", exc.kind if exc.kind in ("timeout", "closed") else "protocol", exc.detail)
    if exc.kind not in ("timeout", "closed"):
        d.fact("smtp.protocol_error", exc.kind, f"{stage}: {exc.detail}")
    d.fact("smtp.bytes_received", exc.received)


def enhanced(d: Record, name: str, reply: Reply, origin: str) -> None:
    if reply.enhanced:
        d.fact(name, reply.enhanced, reply.shown(), origin)


def tls_established(target: Target, d: Record, ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> None:
    d.fact("tls.handshake", "ok", None, "tls")
    d.fact("tls.verify", "ok", f"certificate of {target.host} verified", "tls")
    d.observations.extend(tlsmod.session_facts(ssl_object))
    peer = ssl_object.getpeercert() if ssl_object else None
    if peer:
        d.observations.extend(tlsmod.certificate_facts(tlsmod.from_verified(peer), target.host))


async def verify_failed(target: Target, d: Record, exc: ssl.SSLCertVerificationError, deadline: float) -> None:
    """Say what kind of verification failure it was, and take a second look at the certificate."""
    kind = tlsmod.verify_kind(exc)
    message = exc.verify_message or str(exc)
    d.fact("tls.handshake", "ok", None, "tls")
    d.fact("tls.verify", kind, f"certificate verify failed: {message}", "tls")
    der = await _fetch_certificate(target, deadline)
    if der is not None:
        d.observations.extend(tlsmod.certificate_facts(tlsmod.parse_certificate(der), target.host))


async def _greeting(target: Target, wire: Wire, d: Record, deadline: float, watch: Stopwatch) -> None:
    d.stage = "greeting"
    greeting_watch = Stopwatch()
    if target.implicit:
        greeting = await _read(wire, d, "greeting", deadline)
    else:
        greeting = await _greeting_or_tls(target, wire, d, deadline)
    d.fact("smtp.greeting_code", greeting.code, greeting.shown(), "greeting")
    d.fact("smtp.greeting", greeting.text, greeting.shown(), "greeting")
    d.fact("smtp.greeting_ms", greeting_watch.ms())
    enhanced(d, "smtp.greeting_enhanced", greeting, "greeting")
    d.reply("greeting", greeting)
    d.result("greeting", greeting.code == 220, watch, greeting.shown())
    if greeting.code != 220:
        raise Stop


async def _connect(target: Target, d: Record, deadline: float, ssl_ctx: ssl.SSLContext | None) -> Connection:
    address, port = target.address, target.port
    try:
        return await target.dial(deadline, ssl_ctx)
    except TimeoutError:
        d.stage = "tls" if ssl_ctx else "connect"
        d.fact("smtp.failure", "timeout", f"connect to {address}:{port}: no answer within {target.timeout:g} s")
        if ssl_ctx:
            d.fact(
                "tls.handshake",
                "timeout",
                f"no TLS handshake from {address}:{port} within {target.timeout:g} s",
                "tls",
            )
        raise Stop from None
    except ssl.SSLCertVerificationError as exc:
        d.stage = "tls"
        await verify_failed(target, d, exc, deadline)
        raise Stop from None
    except ssl.SSLError as exc:
        d.stage = "tls"
        kind = tlsmod.handshake_kind(exc)
        d.fact("tls.handshake", kind, f"TLS handshake with {address}:{port}: {exc.reason or exc}", "tls")
        if kind == "not_tls":
            await _plain_look(target, d, deadline)
        raise Stop from None
    except OSError as exc:
        d.stage = "connect"
        d.fact("smtp.failure", "closed", f"connect to {address}:{port}: {exc.strerror or exc}")
        if ssl_ctx and isinstance(exc, ConnectionResetError):
            d.fact("tls.handshake", "eof", f"TLS handshake with {address}:{port}: connection reset", "tls")
        raise Stop from None


async def _plain_look(target: Target, d: Record, deadline: float) -> None:
    """After a TLS hello got a non-TLS answer: is it SMTP in the clear (wrong mode) or junk?"""
    try:
        connection = await target.dial(deadline)
    except (TimeoutError, OSError):
        return
    wire = Wire(connection, Transcript())
    try:
        reply = await wire.reply(deadline)
    except WireError as exc:
        # Neither TLS nor SMTP: whatever listens there answers a TLS hello with junk.
        d.fact(
            "smtp.protocol_error",
            "garbage",
            f"the port answered a TLS hello with data that is not TLS; in the clear: {exc.detail}",
        )
        return
    finally:
        await wire.close()
    d.fact(
        "tls.plain_smtp_detected",
        True,
        f"in the clear, {target.address}:{target.port} greets: {reply.shown()}",
        "tls",
    )


async def _connect_tls(target: Target, d: Record, deadline: float) -> Wire:
    connection = await _connect(target, d, deadline, tlsmod.context(target.cafile))
    tls_established(target, d, connection.ssl_object)
    return Wire(connection, d.transcript)


async def _read(wire: Wire, d: Record, stage: str, deadline: float) -> Reply:
    try:
        return await wire.reply(deadline)
    except WireError as exc:
        wire_failure(d, stage, exc)
        raise Stop from None


async def _greeting_or_tls(target: Target, wire: Wire, d: Record, deadline: float) -> Reply:
    """Wait for the greeting; if the port stays silent, try a TLS handshake beside it, same deadline."""
    greeting = beside.Side(wire.reply(deadline))
    tls_try: beside.Side[bool] | None = None
    if not await greeting.wait(min(TLS_TRY_AFTER, target.timeout / 2)) and wire.received == 0:
        tls_try = beside.Side(_tls_hello(target, deadline))
        await beside.first([greeting, tls_try], max(deadline - time.monotonic(), 0))
        if tls_try.done() and not greeting.done() and tls_try.result():
            greeting.cancel()
            d.stage = "greeting"
            d.fact("smtp.failure", "timeout", f"no greeting in the clear from {target.address}:{target.port}")
            d.fact(
                "tls.implicit_detected",
                True,
                f"{target.address}:{target.port} completed a TLS handshake: it expects implicit TLS (SMTPS)",
                "tls",
            )
            raise Stop
    if not greeting.done():
        await greeting.wait()  # the reply itself honours the deadline
    if tls_try is not None and not tls_try.done():
        tls_try.cancel()
    try:
        return greeting.result()
    except WireError as exc:
        wire_failure(d, "greeting", exc)
        raise Stop from None


async def _tls_hello(target: Target, deadline: float) -> bool:
    """True when the port completes a TLS handshake (any certificate): it speaks implicit TLS."""
    try:
        connection = await target.dial(deadline, tlsmod.context(None, verify=False))
    except (TimeoutError, OSError, ssl.SSLError):
        return False
    connection.abort()  # the handshake was the question; no need to close politely
    return True


async def _fetch_certificate(target: Target, deadline: float) -> bytes | None:
    """The certificate as served, without trusting it; no credentials go over that connection."""
    connection: Connection | None = None
    try:
        if target.implicit:
            connection = await target.dial(deadline, tlsmod.context(None, verify=False))
        else:
            connection = await target.dial(deadline)
            wire = Wire(connection, Transcript())
            await wire.reply(deadline)
            await wire.command(f"EHLO {target.ehlo_name}", deadline)
            if (await wire.command("STARTTLS", deadline)).code != 220:
                return None
            await connection.start_tls(tlsmod.context(None, verify=False), target.host, deadline - time.monotonic())
        ssl_object = connection.ssl_object
        return ssl_object.getpeercert(binary_form=True) if ssl_object else None
    except (TimeoutError, OSError, ssl.SSLError, WireError):
        return None
    finally:
        if connection is not None:
            # A look, not a session: drop the connection at once rather than wait for TLS close.
            connection.abort()
