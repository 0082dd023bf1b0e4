"""The SMTP dialogue as the application would have it: EHLO, STARTTLS, AUTH, MAIL, RCPT; no delivery by default."""

from __future__ import annotations

import base64
import ssl
import time
from collections.abc import Callable
from dataclasses import field

from engine.facts import FactValue, Observation
from engine.probes import ProbeResult, Stopwatch, location
from engine.probes import tls as tlsmod
from engine.probes.dial import Connection
from engine.probes.opening import Stop, Target, enhanced, open_smtp, tls_established, verify_failed, wire_failure
from engine.probes.wire import Reply, Transcript, Wire, WireError
from engine.redact import REDACTED, Redactor
from engine.values import record

TEST_SUBJECT = "mailtriage test message"


@record
class Plan:
    """What to try: the account's settings as the dialogue needs them."""

    host: str
    port: int
    security: str  # auto | starttls | ssl | none
    timeout: float
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    oauth_token: str | None = field(default=None, repr=False)
    from_addr: str | None = None
    to_addr: str | None = None
    cafile: str | None = None
    send_message: bool = False
    # Ports where `auto` means implicit TLS (knowledge/ports.yaml marks them ssl).
    implicit_tls_ports: frozenset[int] = frozenset()
    source_address: str | None = None  # the local address to connect from (--source-address)
    # gethostname, not getfqdn: no lookup (and no DNS traffic) just to name ourselves.
    ehlo_name: str = field(default_factory=lambda: location.host_name() or "mailtriage.localdomain")


@record
class Dialogue:
    """What the probe saw: facts, a result per stage, the transcript, and whether it delivered."""

    observations: list[Observation] = field(default_factory=list)
    results: list[ProbeResult] = field(default_factory=list)
    transcript: Transcript = field(default_factory=Transcript)
    stage: str = "connect"
    delivered: bool = False
    # Told of each step as it completes (a live checklist); the dialogue does not depend on it.
    on_step: Callable[[ProbeResult], None] | None = None

    def fact(self, name: str, value: FactValue, evidence: str | None = None, origin: str = "smtp") -> None:
        self.observations.append(Observation(name, value, "probe", evidence, origin))

    def result(self, name: str, ok: bool, watch: Stopwatch, detail: str) -> None:
        self.results.append(ProbeResult(name, "ok" if ok else "fail", watch.ms(), detail))
        if self.on_step is not None:
            self.on_step(self.results[-1])

    def reply(self, stage: str, reply: Reply) -> None:
        """A refusal (4xx or 5xx) as the reply.* facts every source gives, so rules read it whole."""
        if reply.code < 400:
            return
        group = f"probe {stage} {len(self.observations)}"
        shown = reply.shown()
        fields: list[tuple[str, FactValue]] = [("reply.code", reply.code), ("reply.text", reply.wording)]
        if reply.enhanced:
            fields.append(("reply.enhanced", reply.enhanced))
        fields.append(("reply.stage", stage))
        self.observations += [Observation(name, value, "probe", shown, stage, group) for name, value in fields]


def _target(plan: Plan, address: str) -> Target:
    implicit = plan.security == "ssl" or (plan.security == "auto" and plan.port in plan.implicit_tls_ports)
    return Target(
        host=plan.host,
        address=address,
        port=plan.port,
        security=plan.security,
        implicit=implicit,
        timeout=plan.timeout,
        cafile=plan.cafile,
        ehlo_name=plan.ehlo_name,
        source=plan.source_address,
    )


async def probe_smtp(
    plan: Plan,
    address: str,
    redactor: Redactor | None = None,
    on_step: Callable[[ProbeResult], None] | None = None,
    opened: Connection | None = None,
) -> Dialogue:
    """The dialogue, on `opened` (the TCP probe's connection) when given, else on a new connection."""
    d = Dialogue(on_step=on_step)
    if redactor is not None:
        d.transcript.redact = redactor
    wire: Wire | None = None
    try:
        target = _target(plan, address)
        wire = await open_smtp(target, d, opened)
        await _dialogue(plan, target, wire, d)
        d.stage = "done"
    except Stop:
        pass
    finally:
        if wire is not None:
            await _goodbye(wire, d)
    d.fact("smtp.stage", d.stage)
    return d


def _extensions(d: Dialogue, reply: Reply, suffix: str) -> dict[str, str]:
    """EHLO keywords -> parameters; recorded as facts for this round (before or after TLS)."""
    found: dict[str, str] = {}
    for line in reply.lines[1:]:
        keyword, _, params = line.strip().partition(" ")
        found[keyword.upper()] = params.upper()
    d.fact(f"smtp.extensions{suffix}", " ".join(sorted(found)), reply.shown(), "ehlo")
    d.fact(f"smtp.starttls_offered{suffix}", "STARTTLS" in found, None, "ehlo")
    mechanisms = found.get("AUTH", "") or found.get("AUTH=", "")
    d.fact(f"smtp.auth_offered{suffix}", "AUTH" in found, None, "ehlo")
    if mechanisms:
        d.fact(f"smtp.auth_mechanisms{suffix}", mechanisms, f"AUTH {mechanisms}", "ehlo")
    return found


async def _ehlo(plan: Plan, wire: Wire, d: Dialogue, deadline: float, suffix: str) -> dict[str, str]:
    d.stage = "ehlo"
    watch = Stopwatch()
    reply = await _command(wire, d, "ehlo", f"EHLO {plan.ehlo_name}", deadline)
    d.fact(f"smtp.ehlo_code{suffix}", reply.code, reply.shown(), "ehlo")
    if reply.code != 250:
        d.result("ehlo", False, watch, reply.shown())
        # A server that refuses EHLO may still speak HELO; without EHLO there is no STARTTLS or AUTH.
        helo = await _command(wire, d, "ehlo", f"HELO {plan.ehlo_name}", deadline)
        d.fact("smtp.helo_code", helo.code, helo.shown(), "ehlo")
        if helo.code != 250:
            raise Stop
        return {}
    d.result("ehlo" + ("_tls" if suffix else ""), True, watch, f"{len(reply.lines) - 1} extensions")
    return _extensions(d, reply, suffix)


async def _command(wire: Wire, d: Dialogue, stage: str, line: str, deadline: float, shown: str | None = None) -> Reply:
    try:
        reply = await wire.command(line, deadline, shown)
    except WireError as exc:
        wire_failure(d, stage, exc)
        raise Stop from None
    d.reply(stage, reply)
    return reply


async def _dialogue(plan: Plan, target: Target, wire: Wire, d: Dialogue) -> None:
    def deadline() -> float:
        return time.monotonic() + plan.timeout

    extensions = await _ehlo(plan, wire, d, deadline(), "")
    encrypted = target.implicit
    if not encrypted and plan.security in ("auto", "starttls"):
        if "STARTTLS" in extensions:
            wire = await _starttls(plan, target, wire, d, deadline())
            extensions = await _ehlo(plan, wire, d, deadline(), "_tls")
            encrypted = True
            if plan.security == "auto":
                d.fact(
                    "tls.auto_choice", "starttls", "security auto: the server offers STARTTLS, so it was used", "tls"
                )
        elif plan.security == "starttls":
            d.stage = "tls"
            d.fact("tls.handshake", "not_offered", "EHLO reply lacks STARTTLS", "tls")
            raise Stop
        else:
            d.fact("tls.auto_choice", "none", "security auto: the server does not offer STARTTLS; no TLS", "tls")
    if plan.user and not encrypted and plan.security != "none":
        # Only an explicit --security none sends a password over an unencrypted connection.
        d.stage = "auth"
        d.fact(
            "auth.result",
            "withheld_cleartext",
            "the connection is not encrypted, so the password was not sent (use --security none to send it anyway)",
            "auth",
        )
        d.result("auth", False, Stopwatch(), "password withheld: the connection is not encrypted")
    elif plan.user:
        await _auth(plan, wire, d, extensions, deadline())
    if plan.from_addr:
        await _envelope(plan, wire, d, deadline())


async def _starttls(plan: Plan, target: Target, wire: Wire, d: Dialogue, deadline: float) -> Wire:
    d.stage = "starttls"
    watch = Stopwatch()
    reply = await _command(wire, d, "starttls", "STARTTLS", deadline)
    d.fact("smtp.starttls_code", reply.code, reply.shown(), "starttls")
    if reply.code != 220:
        d.result("tls", False, watch, reply.shown())
        d.fact("tls.handshake", "refused", reply.shown(), "tls")
        raise Stop
    if wire.pending_bytes():
        # Bytes sent before the handshake could be injected by anyone on the path (CVE-2011-0411).
        d.fact("smtp.protocol_error", "pipelined_before_tls", "the server sent data right after 220 for STARTTLS")
        raise Stop
    d.stage = "tls"
    try:
        await wire.connection.start_tls(tlsmod.context(plan.cafile), plan.host, deadline - time.monotonic())
    except TimeoutError:
        d.fact("tls.handshake", "timeout", f"no TLS handshake within {plan.timeout:g} s after STARTTLS", "tls")
        d.result("tls", False, watch, "handshake timed out")
        raise Stop from None
    except ssl.SSLCertVerificationError as exc:
        d.result("tls", False, watch, exc.verify_message or str(exc))
        await verify_failed(target, d, exc, deadline)
        raise Stop from None
    except (ssl.SSLError, ConnectionError, OSError) as exc:
        kind = tlsmod.handshake_kind(exc)
        d.fact("tls.handshake", kind, f"TLS handshake after STARTTLS: {getattr(exc, 'reason', None) or exc}", "tls")
        d.result("tls", False, watch, str(exc))
        raise Stop from None
    tls_established(target, d, wire.connection.ssl_object)
    d.result("tls", True, watch, "STARTTLS handshake and verification passed")
    return wire


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


async def _auth(plan: Plan, wire: Wire, d: Dialogue, extensions: dict[str, str], deadline: float) -> None:
    d.stage = "auth"
    watch = Stopwatch()
    mechanisms = (extensions.get("AUTH") or extensions.get("AUTH=") or "").split()
    if "AUTH" not in extensions and "AUTH=" not in extensions:
        d.fact("auth.result", "not_offered", "EHLO reply lacks AUTH", "auth")
        d.result("auth", False, watch, "the server does not offer AUTH here")
        return
    secret = plan.oauth_token if plan.oauth_token else plan.password
    if secret is None:
        d.fact("auth.result", "no_credentials", "a user is configured but no password or token", "auth")
        d.result("auth", False, watch, "no password or token given")
        return
    if plan.oauth_token:
        mechanism = "XOAUTH2"
    else:
        mechanism = next((m for m in ("PLAIN", "LOGIN") if m in mechanisms), "")
    d.fact("auth.mechanism", mechanism or "none", f"offered: {' '.join(mechanisms)}", "auth")
    if not mechanism or mechanism not in mechanisms:
        d.fact("auth.result", "mechanism_unsupported", f"offered: {' '.join(mechanisms)}", "auth")
        d.result("auth", False, watch, f"no usable mechanism among {' '.join(mechanisms)}")
        return
    user = plan.user or ""
    if mechanism == "PLAIN":
        payload = _b64("\0" + user + "\0" + secret)
        reply = await _command(wire, d, "auth", f"AUTH PLAIN {payload}", deadline, f"AUTH PLAIN {REDACTED}")
    elif mechanism == "XOAUTH2":
        payload = _b64(f"user={user}\x01auth=Bearer {secret}\x01\x01")
        reply = await _command(wire, d, "auth", f"AUTH XOAUTH2 {payload}", deadline, f"AUTH XOAUTH2 {REDACTED}")
        if reply.code == 334:  # the server's error details come as a challenge; an empty line ends it
            reply = await _command(wire, d, "auth", "", deadline, "")
    else:
        reply = await _command(wire, d, "auth", "AUTH LOGIN", deadline)
        if reply.code == 334:
            reply = await _command(wire, d, "auth", _b64(user), deadline, REDACTED)
        if reply.code == 334:
            reply = await _command(wire, d, "auth", _b64(secret), deadline, REDACTED)
    d.fact("auth.reply_code", reply.code, reply.shown(), "auth")
    d.fact("auth.reply", reply.text, reply.shown(), "auth")
    enhanced(d, "auth.enhanced_code", reply, "auth")
    ok = reply.code == 235
    d.fact("auth.result", "ok" if ok else "rejected", reply.shown(), "auth")
    d.result("auth", ok, watch, reply.shown())
    if not ok:
        raise Stop


async def _envelope(plan: Plan, wire: Wire, d: Dialogue, deadline: float) -> None:
    await _envelope_step(wire, d, "mail", f"MAIL FROM:<{plan.from_addr}>", deadline)
    if not plan.to_addr:
        return
    await _envelope_step(wire, d, "rcpt", f"RCPT TO:<{plan.to_addr}>", deadline)
    if plan.send_message:
        await _data(plan, wire, d, deadline)


async def _envelope_step(wire: Wire, d: Dialogue, step: str, line: str, deadline: float) -> None:
    """MAIL FROM or RCPT TO: the reply's facts, and the end of the dialogue if refused."""
    d.stage = step
    watch = Stopwatch()
    reply = await _command(wire, d, step, line, deadline)
    d.fact(f"envelope.{step}_code", reply.code, reply.shown(), step)
    d.fact(f"envelope.{step}_reply", reply.text, reply.shown(), step)
    enhanced(d, f"envelope.{step}_enhanced", reply, step)
    d.fact(f"envelope.{step}", "ok" if reply.positive else "rejected", reply.shown(), step)
    d.result(step, reply.positive, watch, reply.shown())
    if not reply.positive:
        raise Stop


async def _data(plan: Plan, wire: Wire, d: Dialogue, deadline: float) -> None:
    d.stage = "data"
    watch = Stopwatch()
    reply = await _command(wire, d, "data", "DATA", deadline)
    if reply.code != 354:
        d.fact("envelope.data", "rejected", reply.shown(), "data")
        d.result("data", False, watch, reply.shown())
        raise Stop
    body = [
        f"From: <{plan.from_addr}>",
        f"To: <{plan.to_addr}>",
        f"Subject: {TEST_SUBJECT}",
        "Auto-Submitted: auto-generated",
        "",
        "This is a test message sent by mailtriage to check that this account can send email.",
        "It was sent on purpose (--send-test-message); no reply is needed.",
    ]
    for line in body:
        await wire.send(line)
    reply = await _command(wire, d, "end_of_data", ".", deadline)
    ok = reply.code == 250
    d.fact("envelope.data", "ok" if ok else "rejected", reply.shown(), "data")
    d.delivered = ok
    d.result("data", ok, watch, reply.shown())


async def _goodbye(wire: Wire, d: Dialogue) -> None:
    """RSET and QUIT if the server is still talking; never let politeness cost more than a second."""
    if d.stage not in ("greeting",) and "smtp.failure" not in {o.name for o in d.observations}:
        deadline = time.monotonic() + 1.0
        try:
            if not d.delivered and d.stage in ("mail", "rcpt", "done"):
                await wire.command("RSET", deadline)
            await wire.command("QUIT", deadline)
        except WireError:
            pass
    await wire.close()
