"""Real SMTP servers on 127.0.0.1 that reproduce each failure mode (demo, practice, tests).

Each scenario is a row of data: what a client should see (Scenario, public) beside how the server
behaves (_Smtp for aiosmtpd-based servers, a coroutine for the raw and hostile ones). A LabServer
runs one scenario in a background thread with its own event loop and hangs up on every client
when it is closed. Certificates are issued with trustme when the server starts.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import shutil
import socket
import ssl
import tempfile
import threading
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Literal

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

LAB_USER = "app@example.com"
LAB_TOKEN = "lab-oauth-token"  # the only XOAUTH2 access token the lab accepts
LAB_PASSWORD = "lab-password"  # the only password the lab accepts (healthy scenarios)
LAB_SENDER = "app@example.com"  # allowed MAIL FROM
LAB_RECIPIENT = "someone@example.com"  # accepted RCPT TO (any @example.com is local)
LOCAL_DOMAIN = "example.com"

HOST = "127.0.0.1"
SERVER_NAME = "localhost"  # the name the lab greets with and its trusted certificates carry
START_TIMEOUT = 5.0  # seconds start() waits for the listener
STOP_TIMEOUT = 1.5  # seconds close() waits for the loop thread; close() must return within 2 s


@dataclass(frozen=True)
class Scenario:
    name: str  # e.g. "bad-password"
    description: str  # one line for `mailtriage lab --list`
    expected: str  # finding id this scenario reproduces ("connectivity.ok" for healthy)
    security: str  # the --security a client should use to see the fault: starttls | ssl | none


# --- aiosmtpd-based scenarios ----------------------------------------------------------------

Certificate = Literal["trusted", "untrusted", "expired", "expiring", "wrong-host"]


@dataclass(frozen=True)
class _Smtp:
    """How an aiosmtpd-based scenario behaves; the defaults are a healthy submission server."""

    tls: Literal["starttls", "implicit", "none"] = "starttls"
    certificate: Certificate = "trusted"
    require_tls: bool = False  # refuse everything but EHLO/STARTTLS/NOOP/QUIT before STARTTLS
    require_auth: bool = False  # refuse MAIL/RCPT/DATA until AUTH succeeded
    auth_refusal: str | None = None  # fixed answer to every AUTH; None checks LAB_USER/LAB_PASSWORD
    mail_refusal: str | None = None  # fixed answer to MAIL FROM; may use {address} and {ip}
    rcpt_refusal: str | None = None  # fixed answer to RCPT TO; may use {address} and {ip}
    # Imitate a provider: the name it greets with, the rest of its greeting, and its EHLO
    # salutation ({ip} is the client's). The certificate still names SERVER_NAME and HOST.
    server_name: str = SERVER_NAME
    greeting: str = "ESMTP mailtriage lab"
    ehlo_salutation: str | None = None


# aiosmtpd hard-codes a few replies without enhanced status codes. Servers that advertise
# ENHANCEDSTATUSCODES put one on every reply (RFC 2034), so the lab words these as Postfix does.
_REWORDED = {
    "220 Ready to start TLS": "220 2.0.0 Ready to start TLS",
    "530 Must issue a STARTTLS command first": "530 5.7.0 Must issue a STARTTLS command first",
    "503 Error: send HELO first": "503 5.5.1 Error: send HELO/EHLO first",
    "503 Error: need MAIL command": "503 5.5.1 Error: need MAIL command",
    "503 Error: need RCPT command": "503 5.5.1 Error: need RCPT command",
}


class _LabSMTP(SMTP):
    """aiosmtpd's SMTP session, worded the way real servers word it."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # aiosmtpd writes a multi-line reply line by line; with Nagle on, the client's delayed
        # ACK stalls every EHLO by about 40 ms, which no real server does and would skew timings.
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    async def push(self, status: str | bytes) -> None:
        if isinstance(status, str):
            status = _REWORDED.get(status, status)
        await super().push(status)


class _Handler:
    """aiosmtpd hooks that give the scenario's answers to EHLO, AUTH, MAIL, RCPT and DATA."""

    def __init__(self, spec: _Smtp, messages: list[bytes]) -> None:
        self.spec = spec
        self.messages = messages

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        """Advertise what a real submission server does, in its usual order."""
        session.host_name = hostname  # the five-argument hook takes over this bookkeeping
        offered = [line[4:] for line in responses[1:] if line[4:] != "HELP"]
        extensions = ["PIPELINING", *offered, "ENHANCEDSTATUSCODES"]
        first = responses[0]
        if self.spec.ehlo_salutation is not None:
            ip = session.peer[0] if isinstance(session.peer, tuple) else ""
            first = f"250-{self.spec.server_name} {self.spec.ehlo_salutation.format(ip=ip)}"
        return [first, *(f"250-{e}" for e in extensions[:-1]), f"250 {extensions[-1]}"]

    def check_login(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        """aiosmtpd authenticator: the scenario's fixed refusal, or the one lab account."""
        if self.spec.auth_refusal:
            return AuthResult(success=False, handled=False, message=self.spec.auth_refusal)
        if isinstance(data, LoginPassword) and (data.login, data.password) == (
            LAB_USER.encode(),
            LAB_PASSWORD.encode(),
        ):
            return AuthResult(success=True, auth_data=LAB_USER)
        return AuthResult(
            success=False,
            handled=False,
            message="535 5.7.8 Error: authentication failed: user name or password not accepted",
        )

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """OAuth 2.0 bearer tokens (Microsoft 365, Google): the lab accepts LAB_TOKEN for LAB_USER."""
        if self.spec.auth_refusal:
            return AuthResult(success=False, handled=False, message=self.spec.auth_refusal)
        try:
            fields = base64.b64decode(args[1], validate=True).decode("utf-8").split("\x01")
        except (IndexError, ValueError):
            return AuthResult(success=False, handled=False, message="501 5.5.2 Cannot decode the XOAUTH2 response")
        if f"user={LAB_USER}" in fields and f"auth=Bearer {LAB_TOKEN}" in fields:
            return AuthResult(success=True, auth_data=LAB_USER)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and token not accepted")

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = _fill(self.spec.mail_refusal, session, address)
        if refusal is None and session.authenticated and address.lower() != LAB_SENDER:
            # Postfix's sender login check: an authenticated user may send only as itself.
            refusal = f"553 5.7.1 <{address}>: Sender address rejected: not owned by user {LAB_USER}"
        if refusal:
            return refusal
        envelope.mail_from = address  # a hook that answers must also keep the envelope
        envelope.mail_options.extend(options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = _fill(self.spec.rcpt_refusal, session, address)
        if refusal is None and not session.authenticated and not _is_local(address):
            refusal = f"554 5.7.1 <{address}>: Relay access denied"
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(bytes(envelope.original_content or b""))
        return f"250 2.0.0 Ok: queued as LAB{len(self.messages):06d}"

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 2.0.0 Ok"

    async def handle_NOOP(self, server: SMTP, session: Session, envelope: Envelope, arg: str) -> str:
        return "250 2.0.0 Ok"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "221 2.0.0 Bye"

    async def handle_exception(self, error: Exception) -> str:
        """Answer like a server with a local fault; aiosmtpd would otherwise log a traceback."""
        logging.getLogger(__name__).debug("lab session error: %r", error)
        return "451 4.3.0 Error: local error in processing"


def _fill(template: str | None, session: Session, address: str) -> str | None:
    """A scenario's reply template with the address and the client's IP filled in."""
    if template is None:
        return None
    peer = session.peer if isinstance(session.peer, tuple) else (HOST, 0)
    return template.format(address=address, ip=peer[0])


def _is_local(address: str) -> bool:
    return address.lower().rpartition("@")[2] == LOCAL_DOMAIN


# --- raw asyncio scenarios (refusals and hostile servers) --------------------------------------


class _Peer:
    """One raw connection: bounded writes for the behaviour, and notice of the client's leaving."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.heard = asyncio.Event()  # the client has sent something (a TLS ClientHello, EHLO...)
        self.gone = asyncio.Event()  # the client has closed its side

    async def listen(self) -> None:
        """Read and discard what the client sends, a chunk at a time, until it leaves."""
        try:
            while await self.reader.read(4096):
                self.heard.set()
        finally:
            self.gone.set()

    async def send(self, data: bytes) -> None:
        # drain() waits while the client does not read, so the server never buffers much.
        self.writer.write(data)
        await self.writer.drain()


_Raw = Callable[[_Peer], Awaitable[None]]  # returns when the server should hang up


def _greet_and_close(reply: str) -> _Raw:
    async def behaviour(peer: _Peer) -> None:
        await peer.send(reply.encode() + b"\r\n")

    return behaviour


async def _silent(peer: _Peer) -> None:
    await peer.gone.wait()


async def _huge_greeting(peer: _Peer) -> None:
    await peer.send(b"220 ")
    chunk = b"x" * 65536
    for _ in range(16):  # 1 MiB, no newline
        await peer.send(chunk)
    await peer.gone.wait()


async def _endless_reply(peer: _Peer) -> None:
    line = 0
    while True:
        line += 1
        await peer.send(f"220-{SERVER_NAME} ESMTP greeting continues, line {line}\r\n".encode())
        await asyncio.sleep(0.005)


async def _drip(peer: _Peer) -> None:
    for byte in f"220 {SERVER_NAME} ESMTP mailtriage lab\r\n".encode():
        await peer.send(bytes([byte]))
        await asyncio.sleep(1.0)
    await peer.gone.wait()


def _junk(seed: int, size: int = 512) -> bytes:
    """Random-looking bytes, the same on every run; the first one is neither a digit nor a TLS record type."""
    data = bytearray(random.Random(seed).randbytes(size))
    data[0] = 0x9C
    return bytes(data)


async def _garbage(peer: _Peer) -> None:
    await peer.send(_junk(3463))
    await peer.gone.wait()


async def _garbage_tls(peer: _Peer) -> None:
    await peer.heard.wait()  # a TLS client speaks first: answer its ClientHello with junk
    await peer.send(_junk(5321))
    await peer.gone.wait()


async def _disconnect_mid_reply(peer: _Peer) -> None:
    await peer.send(b"220-first line\r\n220-sec")


# --- the scenario table ------------------------------------------------------------------------

_TABLE: list[tuple[Scenario, _Smtp | _Raw]] = [
    (
        Scenario(
            "healthy", "STARTTLS, then AUTH with the lab account; mail is accepted", "connectivity.ok", "starttls"
        ),
        _Smtp(),
    ),
    (
        Scenario(
            "healthy-smtps", "implicit TLS (SMTPS) from the first byte; mail is accepted", "connectivity.ok", "ssl"
        ),
        _Smtp(tls="implicit"),
    ),
    (
        Scenario("bad-password", "every AUTH is refused with 535 5.7.8", "auth.credentials_rejected", "starttls"),
        _Smtp(auth_refusal="535 5.7.8 Error: authentication failed: user name or password not accepted"),
    ),
    (
        Scenario(
            "account-disabled",
            "AUTH refused as by Exchange Online with SMTP AUTH disabled (535 5.7.139)",
            "auth.account_verification_required",
            "starttls",
        ),
        _Smtp(
            auth_refusal="535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
            "for this mailbox; an administrator has to allow authenticated SMTP for it"
        ),
    ),
    (
        Scenario(
            "microsoft365-smtp-auth-disabled",
            "greets and answers EHLO as Exchange Online does; AUTH refused with 535 5.7.139 (SMTP AUTH off)",
            "auth.account_verification_required",
            "starttls",
        ),
        _Smtp(
            server_name="AM0PR02CA0001.outlook.office365.com",
            greeting="Microsoft ESMTP MAIL Service ready at Sat, 28 Nov 2026 18:00:00 +0000",
            ehlo_salutation="Hello [{ip}]",
            auth_refusal="535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
            "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. "
            "[AM0PR02CA0001.eurprd02.prod.outlook.com 2026-11-28T18:00:00.000Z 08DD0000AAAA0000]",
        ),
    ),
    (
        Scenario(
            "sender-not-allowed",
            "MAIL FROM refused: no permission to send as this sender (550 5.7.60)",
            "sender.not_registered",
            "starttls",
        ),
        _Smtp(mail_refusal="550 5.7.60 SMTP; Client has no permission to send as this sender <{address}>"),
    ),
    (
        Scenario(
            "client-ip-refused",
            "RCPT TO refused because of the client's IP address (554 5.7.1)",
            "ip.not_safelisted",
            "starttls",
        ),
        _Smtp(rcpt_refusal="554 5.7.1 <unknown[{ip}]>: Client host rejected: Access denied"),
    ),
    (
        Scenario("relay-denied", "RCPT TO refused: the server will not relay (554 5.7.1)", "relay.denied", "starttls"),
        _Smtp(rcpt_refusal="554 5.7.1 <{address}>: Relay access denied"),
    ),
    (
        Scenario("recipient-rejected", "RCPT TO refused: no such user (550 5.1.1)", "recipient.rejected", "starttls"),
        _Smtp(rcpt_refusal="550 5.1.1 <{address}>: Recipient address rejected: user unknown in this domain"),
    ),
    (
        Scenario(
            "tls-required",
            "commands before STARTTLS refused with 530 5.7.0; client uses no TLS",
            "tls.required_by_server",
            "none",
        ),
        _Smtp(require_tls=True),
    ),
    (
        Scenario(
            "auth-required",
            "MAIL without AUTH refused with 530 5.7.0; client has no credentials",
            "auth.required",
            "starttls",
        ),
        _Smtp(require_auth=True),
    ),
    (
        Scenario(
            "no-starttls",
            "EHLO lacks STARTTLS; AUTH PLAIN LOGIN offered in the clear",
            "tls.starttls_not_offered",
            "starttls",
        ),
        _Smtp(tls="none"),
    ),
    (
        Scenario(
            "auth-after-tls", "AUTH is offered only after STARTTLS; client uses no TLS", "auth.not_offered", "none"
        ),
        _Smtp(),
    ),
    (
        Scenario(
            "self-signed",
            "STARTTLS certificate from a CA the client's cafile does not hold",
            "tls.certificate_untrusted",
            "starttls",
        ),
        _Smtp(certificate="untrusted"),
    ),
    (
        Scenario(
            "expired",
            "STARTTLS certificate from the trusted CA, expired yesterday",
            "tls.certificate_expired",
            "starttls",
        ),
        _Smtp(certificate="expired"),
    ),
    (
        Scenario(
            "expiring-soon", "healthy, but the certificate expires in 5 days", "tls.certificate_expiring", "starttls"
        ),
        _Smtp(certificate="expiring"),
    ),
    (
        Scenario("wrong-host", "STARTTLS certificate for mail.other.test only", "tls.hostname_mismatch", "starttls"),
        _Smtp(certificate="wrong-host"),
    ),
    (
        Scenario(
            "implicit-tls",
            "implicit TLS port; the client waits for a plain greeting (STARTTLS)",
            "tls.mode_mismatch",
            "starttls",
        ),
        _Smtp(tls="implicit"),
    ),
    (Scenario("silent", "accepts the connection and never sends a byte", "smtp.no_greeting", "starttls"), _silent),
    (
        Scenario("greeting-421", "greets with 421 4.3.2 and closes", "smtp.service_unavailable", "starttls"),
        _greet_and_close("421 4.3.2 Service not available, closing transmission channel"),
    ),
    (
        Scenario(
            "greeting-554",
            "greets with 554 5.7.1 (no SMTP service here) and closes",
            "smtp.service_unavailable",
            "starttls",
        ),
        _greet_and_close(f"554 5.7.1 {SERVER_NAME} ESMTP refused: no SMTP service here"),
    ),
    (
        Scenario(
            "huge-greeting",
            "sends '220 ' and 1 MiB without a newline, then waits",
            "smtp.protocol_violation",
            "starttls",
        ),
        _huge_greeting,
    ),
    (
        Scenario(
            "endless-reply",
            "sends 220- continuation lines forever, never a final line",
            "smtp.protocol_violation",
            "starttls",
        ),
        _endless_reply,
    ),
    # A greeting that never completes in time is, to the client, no greeting at all.
    (Scenario("drip", "sends a valid greeting one byte per second", "smtp.no_greeting", "starttls"), _drip),
    (
        Scenario(
            "garbage", "sends binary garbage instead of a greeting, then waits", "smtp.protocol_violation", "starttls"
        ),
        _garbage,
    ),
    (
        Scenario(
            "garbage-tls", "answers a TLS ClientHello with bytes that are not TLS", "smtp.protocol_violation", "ssl"
        ),
        _garbage_tls,
    ),
    (
        Scenario(
            "disconnect-mid-reply",
            "sends half of a multi-line greeting, then disconnects",
            "smtp.protocol_violation",
            "starttls",
        ),
        _disconnect_mid_reply,
    ),
]

SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario, _ in _TABLE}
_BEHAVIOURS: dict[str, _Smtp | _Raw] = {scenario.name: behaviour for scenario, behaviour in _TABLE}


# --- certificates ------------------------------------------------------------------------------


def _server_tls(ca: trustme.CA, certificate: Certificate) -> ssl.SSLContext:
    """A server-side TLS context presenting the kind of certificate the scenario calls for."""
    issuer = trustme.CA() if certificate == "untrusted" else ca  # a CA the client never trusts
    names = ("mail.other.test",) if certificate == "wrong-host" else (SERVER_NAME, HOST)
    validity = {}
    now = datetime.now(UTC)
    if certificate == "expired":
        validity = {"not_before": now - timedelta(days=90), "not_after": now - timedelta(days=1)}
    elif certificate == "expiring":
        validity = {"not_before": now - timedelta(days=85), "not_after": now + timedelta(days=5, hours=12)}
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    issuer.issue_cert(*names, **validity).configure_cert(context)
    return context


def _quiet_aiosmtpd() -> None:
    # aiosmtpd logs a deprecation warning on every successful AUTH and info lines per command;
    # the lab is meant to be silent unless someone configured that logger on purpose.
    logger = logging.getLogger("mail.log")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.ERROR)


# --- the server --------------------------------------------------------------------------------


class _Listener(socket.socket):
    """A listening socket that remembers what it accepted, so close() can hang up on every client.

    This sees connections that no protocol has seen yet, such as those still in a TLS handshake.
    """

    accepted: weakref.WeakSet[socket.socket]

    @classmethod
    def open(cls, port: int) -> _Listener:
        listener = cls(socket.AF_INET, socket.SOCK_STREAM)
        listener.accepted = weakref.WeakSet()
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((HOST, port))
            listener.listen(64)
        except OSError:
            listener.close()
            raise
        return listener

    def accept(self) -> tuple[socket.socket, object]:
        connection, address = super().accept()  # asyncio's accept loop calls this
        self.accepted.add(connection)
        return connection, address

    def hang_up(self) -> None:
        """End every accepted connection in both directions; their owners then close them."""
        for connection in list(self.accepted):
            if connection.fileno() != -1:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already gone

    def close_accepted(self) -> None:
        for connection in list(self.accepted):
            connection.close()


class LabServer:
    """One lab scenario on 127.0.0.1, served from a background thread with its own event loop."""

    def __init__(self, scenario: Scenario, port: int = 0, workdir: Path | None = None) -> None:
        self.host = HOST
        self.scenario = scenario
        self.messages: list[bytes] = []
        self._behaviour = _BEHAVIOURS[scenario.name]
        self._tempdir = None if workdir else Path(tempfile.mkdtemp(prefix="mailtriage-lab-"))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._closed = False
        try:
            # Bound here, not in the thread, so the port is known and a busy port fails in start().
            self._listener = _Listener.open(port)
            self.port: int = self._listener.getsockname()[1]
            directory = Path(workdir) if workdir else self._tempdir
            assert directory is not None
            directory.mkdir(parents=True, exist_ok=True)
            ca = trustme.CA()
            self.cafile = directory / f"mailtriage-lab-{self.port}-ca.pem"
            ca.cert_pem.write_to_path(str(self.cafile))
            self._tls = self._tls_for(ca)
        except BaseException:
            self._cleanup_files()
            if hasattr(self, "_listener"):
                self._listener.close()
            raise
        self._thread = threading.Thread(target=self._run, name=f"mailtriage-lab-{scenario.name}", daemon=True)

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<LabServer {self.scenario.name} on {self.host}:{self.port}>"

    def _tls_for(self, ca: trustme.CA) -> ssl.SSLContext | None:
        if isinstance(self._behaviour, _Smtp) and self._behaviour.tls != "none":
            return _server_tls(ca, self._behaviour.certificate)
        return None

    def _start(self) -> None:
        """Start the loop thread and return once the listener is serving."""
        _quiet_aiosmtpd()
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT) or self._failure is not None:
            self.close()
            raise RuntimeError(f"lab scenario {self.scenario.name!r} did not start") from self._failure

    def close(self) -> None:
        """Hang up on every client, stop the loop thread and remove generated files; idempotent."""
        if self._closed:
            return
        self._closed = True
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and self._thread.is_alive():
            try:
                loop.call_soon_threadsafe(stopping.set)
            except RuntimeError:
                pass  # the loop already ended
            self._thread.join(STOP_TIMEOUT)
        if not self._thread.is_alive():
            self._listener.close()  # normally closed by the loop already; harmless twice
        self._cleanup_files()

    def _cleanup_files(self) -> None:
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)

    # The following run in the loop thread.

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        try:
            server = await self._listen()
        except BaseException as error:  # reported to start() in the caller's thread
            self._failure = error
            self._ready.set()
            return
        self._ready.set()
        await self._stopping.wait()
        await self._hang_up(server)

    async def _listen(self) -> asyncio.AbstractServer:
        loop = asyncio.get_running_loop()
        behaviour = self._behaviour
        if isinstance(behaviour, _Smtp):
            implicit = behaviour.tls == "implicit"
            return await loop.create_server(
                lambda: self._smtp_session(behaviour, loop),
                sock=self._listener,
                ssl=self._tls if implicit else None,
            )
        return await asyncio.start_server(
            lambda reader, writer: self._raw_session(behaviour, reader, writer),
            sock=self._listener,
            limit=4096,
        )

    def _smtp_session(self, spec: _Smtp, loop: asyncio.AbstractEventLoop) -> _LabSMTP:
        handler = _Handler(spec, self.messages)
        return _LabSMTP(
            handler,
            loop=loop,
            hostname=spec.server_name,
            ident=spec.greeting,
            tls_context=self._tls if spec.tls == "starttls" else None,
            require_starttls=spec.require_tls,
            auth_required=spec.require_auth,
            # Only a STARTTLS server has a clear-text phase to protect; implicit TLS is
            # encrypted throughout and no-starttls offers AUTH in the clear on purpose.
            auth_require_tls=spec.tls == "starttls",
            authenticator=handler.check_login,
        )

    async def _raw_session(self, behaviour: _Raw, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _Peer(reader, writer)
        tasks = [asyncio.create_task(peer.listen()), asyncio.create_task(behaviour(peer))]
        try:
            # Whichever ends first ends the session: the client left, or the behaviour hung up.
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            pass  # a last resort of close(); ending normally keeps asyncio's stream callback quiet
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            writer.close()

    async def _hang_up(self, server: asyncio.AbstractServer) -> None:
        """Stop listening, end every connection, and let every task finish before the loop ends."""
        # Stop accepting, then give connections accepted a moment ago one turn to get their
        # transport: asyncio sets one up in a task of its own, which fails (and leaks the socket)
        # if the server is already closed or the socket already shut down by then.
        asyncio.get_running_loop().remove_reader(self._listener.fileno())
        await asyncio.sleep(0)
        server.close()
        self._listener.hang_up()
        # Every session now ends by itself: raw sessions see the client leave, aiosmtpd sees EOF,
        # a TLS handshake fails. Whatever is still running at the deadline is cancelled.
        current = asyncio.current_task()
        tasks = [task for task in asyncio.all_tasks() if task is not current]
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_TIMEOUT / 2)
        stragglers = [task for task in asyncio.all_tasks() if task is not current]
        for task in stragglers:
            task.cancel()
        await asyncio.gather(*stragglers, return_exceptions=True)
        await asyncio.sleep(0)  # transports closed by their sessions release their sockets now
        self._listener.close_accepted()  # anything left has no owner any more
        await server.wait_closed()


def start(name: str, port: int = 0, workdir: Path | None = None) -> LabServer:
    """Start the named scenario on 127.0.0.1 (port 0 = any free port); return once it accepts connections."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown lab scenario {name!r}; known scenarios: {', '.join(SCENARIOS)}")
    server = LabServer(SCENARIOS[name], port, workdir)
    server._start()
    return server
