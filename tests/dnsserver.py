"""A real DNS server on 127.0.0.1 for tests: answers from a small zone, silence on request."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


@dataclass
class Zone:
    addresses: dict[str, list[str]] = field(default_factory=dict)  # name -> IPv4 addresses
    empty: set[str] = field(default_factory=set)  # names that exist but have no address
    silent: set[str] = field(default_factory=set)  # names the server never answers
    servfail: set[str] = field(default_factory=set)


class DnsServer:
    def __init__(self, zone: Zone):
        self.zone = zone
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> DnsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            reply = self._answer(dns.message.from_wire(data))
            if reply is not None:
                self.sock.sendto(reply.to_wire(), peer)

    def _answer(self, query: dns.message.Message) -> dns.message.Message | None:
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        self.queries.append(f"{name} {dns.rdatatype.to_text(question.rdtype)}")
        if name in self.zone.silent:
            return None
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        if name in self.zone.servfail:
            reply.set_rcode(dns.rcode.SERVFAIL)
        elif name in self.zone.addresses:
            if question.rdtype == dns.rdatatype.A:
                reply.answer.append(
                    dns.rrset.from_text_list(question.name, 60, "IN", "A", self.zone.addresses[name])
                )
        elif name not in self.zone.empty:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        return reply
