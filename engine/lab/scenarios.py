"""The lab's scenarios as data: what a client should see and what the server does to show it."""

from __future__ import annotations

from typing import Literal

from engine.values import frozen

LAB_USER = "app@example.com"
LAB_TOKEN = "lab-oauth-token"  # the only XOAUTH2 access token the lab accepts
LAB_PASSWORD = "lab-password"  # the only password the lab accepts (healthy scenarios)
LAB_SENDER = "app@example.com"  # allowed MAIL FROM
LAB_RECIPIENT = "someone@example.com"  # accepted RCPT TO (any @example.com is local)
LOCAL_DOMAIN = "example.com"

HOST = "127.0.0.1"
SERVER_NAME = "localhost"  # the name the lab greets with and its trusted certificates carry

Certificate = Literal["trusted", "untrusted", "expired", "expiring", "wrong-host"]


@frozen
class Smtp:
    """A real SMTP server (aiosmtpd); the defaults are a healthy submission server."""

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


RawBehaviour = Literal[
    "greet-and-close", "silent", "huge-greeting", "endless-reply", "drip", "garbage", "garbage-tls", "cut-off"
]


@frozen
class Raw:
    """A server on a bare socket that refuses or misbehaves in one named way (see engine/lab/hostile.py)."""

    does: RawBehaviour
    reply: str = ""  # the line greet-and-close sends


@frozen
class Scenario:
    name: str  # e.g. "bad-password"
    description: str  # one line for `mailtriage lab --list`
    expected: str  # finding id this scenario reproduces ("connectivity.ok" for healthy)
    security: str  # the --security a client should use to see the fault: starttls | ssl | none
    server: Smtp | Raw  # what the server does


_TABLE = [
    Scenario(
        "healthy", "STARTTLS, then AUTH with the lab account; mail is accepted", "connectivity.ok", "starttls", Smtp()
    ),
    Scenario(
        "healthy-smtps",
        "implicit TLS (SMTPS) from the first byte; mail is accepted",
        "connectivity.ok",
        "ssl",
        Smtp(tls="implicit"),
    ),
    Scenario(
        "bad-password",
        "every AUTH is refused with 535 5.7.8",
        "auth.credentials_rejected",
        "starttls",
        Smtp(auth_refusal="535 5.7.8 Error: authentication failed: user name or password not accepted"),
    ),
    Scenario(
        "account-disabled",
        "AUTH refused as by Exchange Online with SMTP AUTH disabled (535 5.7.139)",
        "auth.account_verification_required",
        "starttls",
        Smtp(
            auth_refusal="535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
            "for this mailbox; an administrator has to allow authenticated SMTP for it"
        ),
    ),
    Scenario(
        "microsoft365-smtp-auth-disabled",
        "greets and answers EHLO as Exchange Online does; AUTH refused with 535 5.7.139 (SMTP AUTH off)",
        "auth.account_verification_required",
        "starttls",
        Smtp(
            server_name="AM0PR02CA0001.outlook.office365.com",
            greeting="Microsoft ESMTP MAIL Service ready at Sat, 28 Nov 2026 18:00:00 +0000",
            ehlo_salutation="Hello [{ip}]",
            auth_refusal="535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
            "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. "
            "[AM0PR02CA0001.eurprd02.prod.outlook.com 2026-11-28T18:00:00.000Z 08DD0000AAAA0000]",
        ),
    ),
    Scenario(
        "sender-not-allowed",
        "MAIL FROM refused: no permission to send as this sender (550 5.7.60)",
        "sender.not_registered",
        "starttls",
        Smtp(mail_refusal="550 5.7.60 SMTP; Client has no permission to send as this sender <{address}>"),
    ),
    Scenario(
        "client-ip-refused",
        "RCPT TO refused because of the client's IP address (554 5.7.1)",
        "ip.not_safelisted",
        "starttls",
        Smtp(rcpt_refusal="554 5.7.1 <unknown[{ip}]>: Client host rejected: Access denied"),
    ),
    Scenario(
        "relay-denied",
        "RCPT TO refused: the server will not relay (554 5.7.1)",
        "relay.denied",
        "starttls",
        Smtp(rcpt_refusal="554 5.7.1 <{address}>: Relay access denied"),
    ),
    Scenario(
        "recipient-rejected",
        "RCPT TO refused: no such user (550 5.1.1)",
        "recipient.rejected",
        "starttls",
        Smtp(rcpt_refusal="550 5.1.1 <{address}>: Recipient address rejected: user unknown in this domain"),
    ),
    Scenario(
        "tls-required",
        "commands before STARTTLS refused with 530 5.7.0; client uses no TLS",
        "tls.required_by_server",
        "none",
        Smtp(require_tls=True),
    ),
    Scenario(
        "auth-required",
        "MAIL without AUTH refused with 530 5.7.0; client has no credentials",
        "auth.required",
        "starttls",
        Smtp(require_auth=True),
    ),
    Scenario(
        "no-starttls",
        "EHLO lacks STARTTLS; AUTH PLAIN LOGIN offered in the clear",
        "tls.starttls_not_offered",
        "starttls",
        Smtp(tls="none"),
    ),
    Scenario(
        "auth-after-tls",
        "AUTH is offered only after STARTTLS; client uses no TLS",
        "auth.not_offered",
        "none",
        Smtp(),
    ),
    Scenario(
        "self-signed",
        "STARTTLS certificate from a CA the client's cafile does not hold",
        "tls.certificate_untrusted",
        "starttls",
        Smtp(certificate="untrusted"),
    ),
    Scenario(
        "expired",
        "STARTTLS certificate from the trusted CA, expired yesterday",
        "tls.certificate_expired",
        "starttls",
        Smtp(certificate="expired"),
    ),
    Scenario(
        "expiring-soon",
        "healthy, but the certificate expires in 5 days",
        "tls.certificate_expiring",
        "starttls",
        Smtp(certificate="expiring"),
    ),
    Scenario(
        "wrong-host",
        "STARTTLS certificate for mail.other.test only",
        "tls.hostname_mismatch",
        "starttls",
        Smtp(certificate="wrong-host"),
    ),
    Scenario(
        "implicit-tls",
        "implicit TLS port; the client waits for a plain greeting (STARTTLS)",
        "tls.mode_mismatch",
        "starttls",
        Smtp(tls="implicit"),
    ),
    # The commonest port mix-up the other way round: SSL switched on for a STARTTLS port (587).
    Scenario(
        "ssl-to-starttls-port",
        "a plain STARTTLS port; the client starts TLS at once (SMTPS)",
        "tls.mode_mismatch",
        "ssl",
        Smtp(),
    ),
    Scenario("silent", "accepts the connection and never sends a byte", "smtp.no_greeting", "starttls", Raw("silent")),
    Scenario(
        "greeting-421",
        "greets with 421 4.3.2 and closes",
        "smtp.service_unavailable",
        "starttls",
        Raw("greet-and-close", "421 4.3.2 Service not available, closing transmission channel"),
    ),
    Scenario(
        "greeting-554",
        "greets with 554 5.7.1 (no SMTP service here) and closes",
        "smtp.service_unavailable",
        "starttls",
        Raw("greet-and-close", f"554 5.7.1 {SERVER_NAME} ESMTP refused: no SMTP service here"),
    ),
    Scenario(
        "huge-greeting",
        "sends '220 ' and 1 MiB without a newline, then waits",
        "smtp.protocol_violation",
        "starttls",
        Raw("huge-greeting"),
    ),
    Scenario(
        "endless-reply",
        "sends 220- continuation lines forever, never a final line",
        "smtp.protocol_violation",
        "starttls",
        Raw("endless-reply"),
    ),
    # A greeting that never completes in time is, to the client, no greeting at all.
    Scenario("drip", "sends a valid greeting one byte per second", "smtp.no_greeting", "starttls", Raw("drip")),
    Scenario(
        "garbage",
        "sends binary garbage instead of a greeting, then waits",
        "smtp.protocol_violation",
        "starttls",
        Raw("garbage"),
    ),
    Scenario(
        "garbage-tls",
        "answers a TLS ClientHello with bytes that are not TLS",
        "smtp.protocol_violation",
        "ssl",
        Raw("garbage-tls"),
    ),
    Scenario(
        "disconnect-mid-reply",
        "sends half of a multi-line greeting, then disconnects",
        "smtp.protocol_violation",
        "starttls",
        Raw("cut-off"),
    ),
]

SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in _TABLE}
