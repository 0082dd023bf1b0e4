"""A real DNS server on 127.0.0.1 for tests: answers from a small zone, silence on request.

Besides addresses it serves TXT and MX records, and echo names that answer with the address the
query came from, as the public "what is my IP" names (myip.opendns.com) do.
"""

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
    txt: dict[str, list[str]] = field(default_factory=dict)  # name -> TXT strings
    mx: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # name -> (preference, host)
    echo: set[str] = field(default_factory=set)  # names answered (A or TXT) with the asker's address

    def exists(self, name: str) -> bool:
        return any(name in names for names in (self.addresses, self.empty, self.txt, self.mx, self.echo))


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
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self._answer(dns.message.from_wire(data), peer[0])
            if reply is not None:
                self.sock.sendto(reply.to_wire(), peer)

    def _answer(self, query: dns.message.Message, peer: str = "127.0.0.1") -> dns.message.Message | None:
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        self.queries.append(f"{name} {dns.rdatatype.to_text(question.rdtype)}")
        if name in self.zone.silent:
            return None
        reply = dns.message.make_response(query)
        reply.flags |= dns.flags.AA
        if name in self.zone.servfail:
            reply.set_rcode(dns.rcode.SERVFAIL)
        elif self.zone.exists(name):
            records = self._records(name, question.rdtype, peer)
            if records:
                rdtype = dns.rdatatype.to_text(question.rdtype)
                reply.answer.append(dns.rrset.from_text_list(question.name, 60, "IN", rdtype, records))
        else:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        return reply

    def _records(self, name: str, rdtype: int, peer: str) -> list[str]:
        """Records of one type, in zone-file text; empty means the name has none of that type."""
        if name in self.zone.echo:
            return {dns.rdatatype.A: [peer], dns.rdatatype.TXT: [_quoted(peer)]}.get(rdtype, [])
        if rdtype == dns.rdatatype.A:
            return self.zone.addresses.get(name, [])
        if rdtype == dns.rdatatype.TXT:
            return [_quoted(text) for text in self.zone.txt.get(name, [])]
        if rdtype == dns.rdatatype.MX:
            return [f"{preference} {host}." for preference, host in self.zone.mx.get(name, [])]
        return []


def _quoted(text: str) -> str:
    """A TXT record in zone-file form: strings of at most 255 bytes, quoted and escaped."""
    chunks = [text[i : i + 255] for i in range(0, len(text), 255)] or [""]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)
