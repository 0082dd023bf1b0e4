"""Resolve the SMTP host the way the application would, or through a named resolver."""

from __future__ import annotations

import socket

from engine.facts import Observation
from engine.probes import ProbeResult, Stopwatch, beside

# getaddrinfo's error numbers, as the C library defines them; mapped to dns.error's choices.
_GAI_ERRORS = {
    socket.EAI_NONAME: "nxdomain",
    socket.EAI_AGAIN: "timeout",
    socket.EAI_FAIL: "servfail",
}
if hasattr(socket, "EAI_NODATA"):
    _GAI_ERRORS[socket.EAI_NODATA] = "no_answer"


async def probe_dns(
    host: str, timeout: float, resolver: tuple[str, int] | None = None
) -> tuple[ProbeResult, list[str]]:
    """Resolve host; return the probe result and the addresses found (empty on failure)."""
    watch = Stopwatch()
    try:
        if resolver is None:
            addresses = _unique(info[4][0] for info in await beside.resolve(host, timeout))
        else:
            addresses = await _dnspython(host, timeout, resolver)
    except TimeoutError:
        return _failed(host, "timeout", f"no DNS answer within {timeout:g} s", watch), []
    except socket.gaierror as exc:
        error = _GAI_ERRORS.get(exc.errno, "error") if exc.errno is not None else "error"
        return _failed(host, error, f"{exc.strerror or exc}", watch), []
    except _DnsFailure as exc:
        return _failed(host, exc.kind, exc.detail, watch), []
    elapsed = watch.ms()
    shown = ", ".join(addresses)
    facts = [
        Observation("dns.resolved", True, "probe", f"{host} -> {shown}", "dns"),
        Observation("dns.addresses", shown, "probe", None, "dns"),
        Observation("dns.lookup_ms", elapsed, "probe", None, "dns"),
    ]
    return ProbeResult("dns", "ok", elapsed, f"{host} resolves to {shown}", facts), addresses


def _failed(host: str, kind: str, detail: str, watch: Stopwatch) -> ProbeResult:
    elapsed = watch.ms()
    evidence = f"lookup of {host}: {detail}"
    facts = [
        Observation("dns.resolved", False, "probe", evidence, "dns"),
        Observation("dns.error", kind, "probe", evidence, "dns"),
        Observation("dns.lookup_ms", elapsed, "probe", None, "dns"),
    ]
    return ProbeResult("dns", "fail", elapsed, evidence, facts)


class _DnsFailure(Exception):
    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


# When neither query found an address, the most telling failure is the one reported.
_FAILURE_ORDER = ("nxdomain", "servfail", "timeout", "no_answer")


async def _dnspython(host: str, timeout: float, server: tuple[str, int]) -> list[str]:
    """A and AAAA at once, inside one timeout; an address from either is enough."""
    # Imported here: most runs use the system resolver, and dnspython takes a while to load.
    import dns.asyncresolver
    import dns.exception
    import dns.resolver

    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [server[0]]
    resolver.port = server[1]
    resolver.lifetime = timeout
    where = f"{server[0]}:{server[1]}"

    async def query(rdtype: str) -> list[str] | _DnsFailure:
        try:
            answer = await resolver.resolve(host, rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            return _DnsFailure("nxdomain", f"{where} answered NXDOMAIN")
        except dns.resolver.NoAnswer:
            return _DnsFailure("no_answer", f"{host} exists but has no A or AAAA record")
        except dns.resolver.NoNameservers as exc:
            return _DnsFailure("servfail", f"no usable answer: {exc}")
        except dns.exception.Timeout:
            return _DnsFailure("timeout", f"no DNS answer from {where} within {timeout:g} s")
        return [rr.to_text() for rr in answer]

    results = await beside.gather(query("A"), query("AAAA"))
    addresses = [a for r in results if isinstance(r, list) for a in r]
    if addresses:
        return _unique(addresses)
    failures = [r for r in results if isinstance(r, _DnsFailure)]
    raise min(failures, key=lambda f: _FAILURE_ORDER.index(f.kind))


def _unique(items: object) -> list[str]:
    return list(dict.fromkeys(items))  # type: ignore[call-overload]
