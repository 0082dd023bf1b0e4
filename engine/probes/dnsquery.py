"""One DNS question at a time through dnspython, with every failure turned into a status."""

from __future__ import annotations

import time
from dataclasses import field
from typing import Literal

from engine.values import frozen

Status = Literal["ok", "nxdomain", "nodata", "timeout", "servfail", "error"]


@frozen
class Answer:
    name: str
    rdtype: str
    status: Status
    records: list[str] = field(default_factory=list)
    detail: str = ""

    @property
    def found(self) -> bool:
        return self.status == "ok" and bool(self.records)

    @property
    def missing(self) -> bool:
        """The name or the record type does not exist: a definite answer, not a failure."""
        return self.status in ("nxdomain", "nodata")


class Querier:
    """Asks the named servers (or the system's configured ones) within a shared deadline."""

    def __init__(self, servers: list[str] | None, port: int, timeout: float, deadline: float):
        self.servers = servers
        self.port = port
        self.timeout = timeout
        self.deadline = deadline  # on time.monotonic(), as every probe deadline; no question outlives it
        # One run asks each question once: SPF reads the record it was handed, includes repeat.
        self._answers: dict[tuple[str, str], Answer] = {}

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    async def ask(self, name: str, rdtype: str) -> Answer:
        key = (name.lower().rstrip("."), rdtype)
        if key not in self._answers:
            self._answers[key] = await self._ask(name, rdtype)
        return self._answers[key]

    async def _ask(self, name: str, rdtype: str) -> Answer:
        # Imported here: dnspython takes a while to load and most runs never need it.
        import dns.asyncresolver
        import dns.exception
        import dns.resolver

        lifetime = min(self.timeout, self.remaining())
        if lifetime <= 0:
            return Answer(name, rdtype, "timeout", detail="no time left for this lookup")
        try:
            resolver = dns.asyncresolver.Resolver(configure=self.servers is None)
        except dns.resolver.NoResolverConfiguration as exc:
            return Answer(name, rdtype, "error", detail=f"no DNS resolver configured: {exc}")
        if self.servers is not None:
            resolver.nameservers = list(self.servers)
            resolver.port = self.port
        resolver.lifetime = lifetime
        try:
            answer = await resolver.resolve(name, rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            return Answer(name, rdtype, "nxdomain", detail=f"{name} does not exist (NXDOMAIN)")
        except dns.resolver.NoAnswer:
            return Answer(name, rdtype, "nodata", detail=f"{name} has no {rdtype} record")
        except dns.exception.Timeout:
            return Answer(name, rdtype, "timeout", detail=f"no answer for {name} {rdtype} within {lifetime:g} s")
        except dns.resolver.NoNameservers as exc:
            return Answer(name, rdtype, "servfail", detail=f"no usable answer for {name} {rdtype}: {exc}")
        except (dns.exception.DNSException, OSError, ValueError) as exc:
            return Answer(name, rdtype, "error", detail=f"lookup of {name} {rdtype} failed: {exc}")
        return Answer(name, rdtype, "ok", [_text(rr, rdtype) for rr in answer])


def _text(rr: object, rdtype: str) -> str:
    if rdtype == "TXT":
        # A TXT record is a list of strings that readers join with nothing between them.
        chunks: tuple[bytes, ...] = getattr(rr, "strings", ())
        return b"".join(chunks).decode("utf-8", "replace")
    if rdtype == "MX":
        exchange = str(getattr(rr, "exchange", "")).rstrip(".")
        return f"{getattr(rr, 'preference', 0)} {exchange}"
    return str(rr.to_text())  # type: ignore[attr-defined]
