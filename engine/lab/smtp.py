"""The lab's SMTP sessions on aiosmtpd: a scenario's answers to EHLO, AUTH, MAIL, RCPT and DATA."""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import ssl
from typing import AnyStr

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from engine.lab.scenarios import HOST, LAB_PASSWORD, LAB_SENDER, LAB_TOKEN, LAB_USER, LOCAL_DOMAIN, Smtp

# aiosmtpd hard-codes a few replies without enhanced status codes. Servers that advertise
# ENHANCEDSTATUSCODES put one on every reply (RFC 2034), so the lab words these as Postfix does.
_REWORDED = {
    "220 Ready to start TLS": "220 2.0.0 Ready to start TLS",
    "530 Must issue a STARTTLS command first": "530 5.7.0 Must issue a STARTTLS command first",
    "503 Error: send HELO first": "503 5.5.1 Error: send HELO/EHLO first",
    "503 Error: need MAIL command": "503 5.5.1 Error: need MAIL command",
    "503 Error: need RCPT command": "503 5.5.1 Error: need RCPT command",
}


def session(spec: Smtp, tls: ssl.SSLContext | None, messages: list[bytes], loop: asyncio.AbstractEventLoop) -> LabSMTP:
    """One client's SMTP session; `tls` is the server's TLS context, used here for STARTTLS only."""
    handler = _Handler(spec, messages)
    return LabSMTP(
        handler,
        loop=loop,
        hostname=spec.server_name,
        ident=spec.greeting,
        tls_context=tls if spec.tls == "starttls" else None,
        require_starttls=spec.require_tls,
        auth_required=spec.require_auth,
        # Only a STARTTLS server has a clear-text phase to protect; implicit TLS is
        # encrypted throughout and no-starttls offers AUTH in the clear on purpose.
        auth_require_tls=spec.tls == "starttls",
        authenticator=handler.check_login,
    )


def quiet_aiosmtpd() -> None:
    # aiosmtpd logs a deprecation warning on every successful AUTH and info lines per command;
    # the lab is meant to be silent unless someone configured that logger on purpose.
    logger = logging.getLogger("mail.log")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.ERROR)


class LabSMTP(SMTP):
    """aiosmtpd's SMTP session, worded the way real servers word it."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # aiosmtpd writes a multi-line reply line by line; with Nagle on, the client's delayed
        # ACK stalls every EHLO by about 40 ms, which no real server does and would skew timings.
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

    async def push(self, status: AnyStr) -> None:
        if isinstance(status, str):
            await super().push(_REWORDED.get(status, status))
        else:
            await super().push(status)


class _Handler:
    """aiosmtpd hooks that give the scenario's answers to EHLO, AUTH, MAIL, RCPT and DATA."""

    def __init__(self, spec: Smtp, messages: list[bytes]) -> None:
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
