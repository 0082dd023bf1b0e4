"""Where the probe stands: the machine it runs on and the local address its traffic leaves from.

Never from resolving the host's own name (that answers what DNS believes, not what the kernel
uses): the source address of the probe's own TCP connection, or, with no connection, the one the
kernel would route from, which connect() on a UDP socket picks without sending anything.
"""

from __future__ import annotations

import functools
import socket

from engine.facts import Observation

ORIGIN = "location"
# Any port will do for a UDP connect(); nothing is sent to it.
_ROUTE_PORT = 9


@functools.cache
def host_name() -> str:
    """This machine's host name, asked once a process: a batch would ask for each account twice
    (this fact, and the name the probe gives in EHLO)."""
    return socket.gethostname()


def machine(source: str | None = None) -> list[Observation]:
    """The machine's name, and the local address the run was told to leave from, if any."""
    name = host_name()
    facts = [Observation("probe.hostname", name, "probe", f"this machine's host name: {name}", ORIGIN)]
    if source:
        shown = f"source address {source} asked for (--source-address or the profile): every probe connection uses it"
        facts.append(Observation("probe.source_address", source, "probe", shown, ORIGIN))
    return facts


def route_source(address: str, source: str | None = None, port: int = _ROUTE_PORT) -> list[Observation]:
    """The local address the kernel would use to reach address; nothing when there is no route."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            if source:
                sock.bind((source, 0))
            sock.connect((address, port))
            local = str(sock.getsockname()[0])
    except OSError:
        return []
    evidence = f"the kernel routes to {address} from {local} (no connection was made)"
    return [
        Observation("probe.local_address", local, "probe", evidence, ORIGIN),
        Observation("probe.local_address_method", "route", "probe", None, ORIGIN),
    ]
