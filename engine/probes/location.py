"""Where the probe stands: the machine it runs on and the local address its traffic leaves from.

Never from resolving the host's own name (that answers what DNS believes, not what the kernel
uses): the source address of the probe's own TCP connection, or, with no connection, the one the
kernel would route from, which connect() on a UDP socket picks without sending anything.
"""

from __future__ import annotations

import socket

from engine.facts import Observation

ORIGIN = "location"
# Any port will do for a UDP connect(); nothing is sent to it.
_ROUTE_PORT = 9


def machine() -> list[Observation]:
    name = socket.gethostname()
    return [Observation("probe.hostname", name, "probe", f"this machine's host name: {name}", ORIGIN)]


def route_source(address: str, port: int = _ROUTE_PORT) -> list[Observation]:
    """The local address the kernel would use to reach address; nothing when there is no route."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((address, port))
            local = str(sock.getsockname()[0])
    except OSError:
        return []
    evidence = f"the kernel routes to {address} from {local} (no connection was made)"
    return [
        Observation("probe.local_address", local, "probe", evidence, ORIGIN),
        Observation("probe.local_address_method", "route", "probe", None, ORIGIN),
    ]
