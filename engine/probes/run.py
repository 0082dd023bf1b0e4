"""Run the probes in order, each inside the run's overall deadline."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import field
from typing import Any, TypeVar

from engine.facts import Observation
from engine.inputs.settings import AccountSettings
from engine.knowledge.schema import DnsChecksFile
from engine.probes import ProbeResult, beside, location
from engine.probes.dial import Connection
from engine.probes.dns import probe_dns
from engine.probes.smtp import Plan, probe_smtp
from engine.probes.tcp import connect_tcp
from engine.redact import Redactor
from engine.values import record

T = TypeVar("T")

# Slack on top of the per-step timeouts for the whole run: set-up, teardown, scheduling.
RUN_SLACK_SECONDS = 1.0
# A connection that has not completed by then starts the sweep of other ports beside it.
SWEEP_AFTER_SECONDS = 1.0


@record
class ProbeRun:
    results: list[ProbeResult] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    delivered: bool = False
    # Told of each step as it completes (a live checklist); the probes do not depend on it.
    on_step: Callable[[ProbeResult], None] | None = None

    def add(self, result: ProbeResult) -> None:
        self.results.append(result)
        self.observations.extend(result.observations)
        if self.on_step is not None:
            self.on_step(result)


def skipped(name: str, why: str) -> ProbeResult:
    return ProbeResult(name, "skipped", 0.0, why)


async def _connect(
    settings: AccountSettings, addresses: list[str], run: ProbeRun, ports: Sequence[tuple[int, str]]
) -> Connection | None:
    """TCP connect; if it fails or lags, sweep the other submission ports within the same timeout.

    The connection made stays open for the dialogue (the caller closes it if it never gets there).
    """
    deadline = time.monotonic() + settings.timeout
    tcp = beside.Side(connect_tcp(addresses, settings.port, settings.timeout, settings.source_address))
    swept = None
    if not await tcp.wait(min(SWEEP_AFTER_SECONDS, settings.timeout / 3)) or tcp.result()[0].status != "ok":
        from engine.probes.ports import sweep  # only when the port fails or lags

        swept = beside.Side(sweep(addresses[0], settings.port, ports, deadline, settings.source_address))
    result, connection = await tcp.outcome()
    run.add(result)
    if swept is not None:
        if result.status == "ok":
            swept.cancel()
        else:
            run.add(await swept.outcome())
    return connection


async def _probe_all(
    settings: AccountSettings, run: ProbeRun, redact: Redactor, ports: Sequence[tuple[int, str]]
) -> None:
    if not settings.host:
        for name in ("dns", "tcp", "smtp"):
            run.add(skipped(name, "no host configured"))
        return
    if settings.host_is_ip:
        run.add(skipped("dns", f"{settings.host} is an IP address; no lookup needed"))
        addresses = [settings.host.strip("[]")]
    else:
        dns_result, addresses = await probe_dns(settings.host, settings.timeout, settings.resolver)
        run.add(dns_result)
        if not addresses:
            run.add(skipped("tcp", "the host name did not resolve"))
            return
    if settings.source_address:
        # Only addresses of the source's own family can be reached from it.
        version = ipaddress.ip_address(settings.source_address).version
        reachable = [a for a in addresses if ipaddress.ip_address(a).version == version]
        if not reachable:
            detail = f"{settings.host} has no IPv{version} address to reach from {settings.source_address}"
            refused = [
                Observation("tcp.connect", "error", "probe", detail, "tcp"),
                Observation("probe.source_family_unreachable", True, "probe", detail, "tcp"),
            ]
            run.add(ProbeResult("tcp", "fail", 0.0, detail, refused))
            return
        addresses = reachable
    if not settings.port_valid:
        run.add(skipped("tcp", f"port {settings.port} is not a TCP port"))
        run.observations.extend(location.route_source(addresses[0], settings.source_address))
        return
    connection = await _connect(settings, addresses, run, ports)
    if not any(o.name == "probe.local_address" for o in run.observations):
        run.observations.extend(location.route_source(addresses[0], settings.source_address))
    if connection is None:
        return
    try:
        await _dialogue(settings, settings.host, run, redact, ports, connection)
    finally:
        if not connection.closing:  # cut off before the dialogue took the connection over
            connection.abort()


async def _dialogue(
    settings: AccountSettings,
    host: str,
    run: ProbeRun,
    redact: Redactor,
    ports: Sequence[tuple[int, str]],
    connection: Connection,
) -> None:
    address = next(o.value for o in run.observations if o.name == "tcp.address")
    plan = Plan(
        host=host,
        port=settings.port,
        security=settings.security,
        timeout=settings.timeout,
        user=settings.user,
        password=settings.password,
        oauth_token=settings.oauth_token,
        from_addr=settings.from_addr,
        to_addr=settings.to_addr,
        cafile=settings.cafile,
        send_message=settings.send_message,
        implicit_tls_ports=frozenset(port for port, security in ports if security == "ssl"),
        source_address=settings.source_address,
    )
    dialogue = await probe_smtp(plan, str(address), redact, run.on_step, connection)
    run.results.extend(dialogue.results)
    run.observations.extend(dialogue.observations)
    run.transcript = dialogue.transcript.lines
    run.delivered = dialogue.delivered


async def _check_dns(settings: AccountSettings, checks: DnsChecksFile, budget: float) -> ProbeResult:
    from engine.probes.dnschecks import CheckPlan, probe_dnschecks  # only with --check-dns

    plan = CheckPlan(sender=settings.from_addr or settings.user, resolver=settings.resolver, timeout=settings.timeout)
    try:
        return await beside.within(probe_dnschecks(plan, checks), budget)
    except TimeoutError:
        return skipped("dnschecks", f"the DNS checks did not finish within {budget:g} s")


async def probe_account(
    settings: AccountSettings,
    redact: Redactor | None = None,
    ports: Sequence[tuple[int, str]] | None = None,
    dnschecks: DnsChecksFile | None = None,
    on_step: Callable[[ProbeResult], None] | None = None,
) -> ProbeRun:
    """Every probe for the account; a run cut off by its deadline keeps what it had found.

    ports: the submission ports from knowledge/ports.yaml as (port, security), in order of
    preference; the caller passes them (probes read no knowledge), and none means no sweep.
    dnschecks: knowledge/dnschecks.yaml, for settings.check_dns; they run beside the dialogue.
    """
    # DNS, connection and each dialogue step have their own timeouts; this only stops runaways.
    budget = settings.timeout * 4 + RUN_SLACK_SECONDS
    run = ProbeRun(on_step=on_step)
    run.observations.extend(location.machine(settings.source_address))
    checking = None
    if settings.check_dns and dnschecks is not None:
        checking = beside.Side(_check_dns(settings, dnschecks, budget))
    try:
        await beside.within(_probe_all(settings, run, redact or Redactor(), ports or []), budget)
    except TimeoutError:
        run.add(skipped("run", f"the probes did not finish within {budget:g} s"))
    if checking is not None:
        run.add(await checking.outcome())
    return run


def run_probes(
    settings: AccountSettings,
    redact: Redactor | None = None,
    ports: Sequence[tuple[int, str]] | None = None,
    dnschecks: DnsChecksFile | None = None,
    on_step: Callable[[ProbeResult], None] | None = None,
) -> ProbeRun:
    """probe_account for one account: without an event loop, unless its resolver or its DNS
    checks need one (dnspython's asynchronous resolver)."""
    probing = probe_account(settings, redact, ports, dnschecks, on_step)
    if settings.resolver is None and not settings.check_dns:
        return beside.drive(probing)
    return run_loop(probing)


def run_loop(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run(coro), with the result handed over beside the task rather than as its result.

    When asyncio.run ends in the main thread, it asks signal.getsignal whether its Ctrl-C handler
    is still set, and on Python 3.11 that formats the handler's repr, the finished task's
    result among it: every fact of a run, or every account's report, printed for nothing.
    """
    import asyncio  # here: a single account is probed without it (beside.drive)

    results: list[T] = []

    async def main() -> None:
        results.append(await coro)

    asyncio.run(main())
    return results[0]
