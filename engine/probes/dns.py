"""Resolve the SMTP host the way the application would, or through a named resolver."""

from __future__ import annotations

import asyncio
import socket

import dns.asyncresolver
import dns.exception
import dns.resolver

from engine.facts import Observation
from engine.probes import ProbeResult, Stopwatch

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
            addresses = await asyncio.wait_for(_system(host), timeout)
        else:
            addresses = await _dnspython(host, timeout, resolver)
    except asyncio.TimeoutError:
        return _failed(host, "timeout", f"no DNS answer within {timeout:g} s", watch), []
    except socket.gaierror as exc:
        error = _GAI_ERRORS.get(exc.errno, "error")
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


async def _system(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, None, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return _unique(info[4][0] for info in infos)


class _DnsFailure(Exception):
    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


async def _dnspython(host: str, timeout: float, server: tuple[str, int]) -> list[str]:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [server[0]]
    resolver.port = server[1]
    resolver.lifetime = timeout
    addresses: list[str] = []
    no_answer = 0
    for rdtype in ("A", "AAAA"):
        try:
            answer = await resolver.resolve(host, rdtype, search=False)
        except dns.resolver.NXDOMAIN:
            raise _DnsFailure("nxdomain", f"{server[0]}:{server[1]} answered NXDOMAIN") from None
        except dns.resolver.NoAnswer:
            no_answer += 1
            continue
        except dns.resolver.NoNameservers as exc:
            raise _DnsFailure("servfail", f"no usable answer: {exc}") from None
        except dns.exception.Timeout:
            raise _DnsFailure("timeout", f"no DNS answer from {server[0]}:{server[1]} within {timeout:g} s") from None
        addresses.extend(rr.to_text() for rr in answer)
    if not addresses:
        raise _DnsFailure("no_answer", f"{host} exists but has no A or AAAA record")
    return _unique(addresses)


def _unique(items: object) -> list[str]:
    return list(dict.fromkeys(items))  # type: ignore[call-overload]
