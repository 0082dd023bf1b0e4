"""The lab's CA and its server certificates: trusted, untrusted, expired, expiring, wrong host."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import trustme

from engine.lab.scenarios import HOST, SERVER_NAME, Certificate


class LabCA:
    """A certificate authority made for one server; clients trust it through the PEM file it writes."""

    def __init__(self) -> None:
        self._ca = trustme.CA()

    def write(self, path: Path) -> None:
        self._ca.cert_pem.write_to_path(str(path))

    def server_context(self, certificate: Certificate) -> ssl.SSLContext:
        """A server-side TLS context presenting the kind of certificate the scenario calls for."""
        issuer = trustme.CA() if certificate == "untrusted" else self._ca  # a CA the client never trusts
        names = ("mail.other.test",) if certificate == "wrong-host" else (SERVER_NAME, HOST)
        not_before: datetime | None = None  # None: trustme's own default validity
        not_after: datetime | None = None
        now = datetime.now(UTC)
        if certificate == "expired":
            not_before, not_after = now - timedelta(days=90), now - timedelta(days=1)
        elif certificate == "expiring":
            not_before, not_after = now - timedelta(days=85), now + timedelta(days=5, hours=12)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        issuer.issue_cert(*names, not_before=not_before, not_after=not_after).configure_cert(context)
        return context
