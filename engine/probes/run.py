"""Run the probes in order, each inside the run's overall deadline."""

from __future__ import annotations

import asyncio

from engine.probes import ProbeResult
from engine.probes.dns import probe_dns
from engine.probes.tcp import probe_tcp
from engine.settings import AccountSettings

# Slack on top of the per-step timeout for the whole run: set-up, teardown, scheduling.
RUN_SLACK_SECONDS = 1.0


def skipped(name: str, why: str) -> ProbeResult:
    return ProbeResult(name, "skipped", 0.0, why)


async def _probe_all(settings: AccountSettings) -> list[ProbeResult]:
    results: list[ProbeResult] = []
    if not settings.host:
        return [skipped("dns", "no host configured"), skipped("tcp", "no host configured")]
    if settings.host_is_ip:
        results.append(skipped("dns", f"{settings.host} is an IP address; no lookup needed"))
        addresses = [settings.host.strip("[]")]
    else:
        dns_result, addresses = await probe_dns(settings.host, settings.timeout, settings.resolver)
        results.append(dns_result)
        if not addresses:
            results.append(skipped("tcp", "the host name did not resolve"))
            return results
    if not settings.port_valid:
        results.append(skipped("tcp", f"port {settings.port} is not a TCP port"))
        return results
    results.append(await probe_tcp(addresses, settings.port, settings.timeout))
    return results


def run_probes(settings: AccountSettings) -> list[ProbeResult]:
    """Every probe for the account; a probe cut off by the run's deadline is reported, not lost."""
    budget = settings.timeout * 2 + RUN_SLACK_SECONDS

    async def bounded() -> list[ProbeResult]:
        try:
            return await asyncio.wait_for(_probe_all(settings), budget)
        except asyncio.TimeoutError:
            return [skipped("run", f"the probes did not finish within {budget:g} s")]

    return asyncio.run(bounded())
