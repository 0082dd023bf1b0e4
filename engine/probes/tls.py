"""TLS contexts, what a verification failure means, and a second look at the certificate."""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import ssl

from engine.facts import Observation
from engine.values import record

# OpenSSL's X509_V_ERR_* numbers that tell the kinds of failure apart.
_VERIFY_KINDS = {
    9: "not_yet_valid",
    10: "expired",
    18: "untrusted",  # self-signed leaf
    19: "untrusted",  # self-signed certificate in the chain
    20: "untrusted",  # unable to get local issuer (private CA, missing intermediate)
    21: "untrusted",  # unable to verify the first certificate
    62: "hostname_mismatch",
    64: "hostname_mismatch",  # IP address mismatch
}


# One context per trust store for the process: loading the system's CA store costs milliseconds,
# once per account of a batch otherwise; a context serves any number of connections.
@functools.lru_cache(maxsize=16)
def context(cafile: str | None, verify: bool = True) -> ssl.SSLContext:
    """A client context as a careful application would build it; verify=False only to look."""
    ctx = ssl.create_default_context(cafile=cafile) if verify else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def verify_kind(exc: ssl.SSLCertVerificationError) -> str:
    return _VERIFY_KINDS.get(exc.verify_code, "untrusted")


def handshake_kind(exc: BaseException) -> str:
    """Why a handshake failed: the peer speaks plain text, refuses our protocol, or went away."""
    text = str(exc).lower()
    if "wrong version number" in text or "unknown protocol" in text or "record layer failure" in text:
        return "not_tls"
    if "unsupported protocol" in text or "protocol version" in text or "no protocols available" in text:
        return "protocol_version"
    if "eof" in text or isinstance(exc, (ConnectionError, ssl.SSLEOFError)):
        return "eof"
    return "handshake_failure"


@record
class CertInfo:
    subject: str
    issuer: str
    names: list[str]
    not_before: dt.datetime
    not_after: dt.datetime
    self_signed: bool

    def days_left(self, now: dt.datetime) -> int:
        return (self.not_after - now).days


# The ssl module spells attribute names out; RFC 4514 strings (and cryptography) abbreviate.
_SHORT = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
    "domainComponent": "DC",
}


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}


def cert_time(text: str) -> dt.datetime:
    """A certificate date as the ssl module gives it ("May  9 12:00:00 2027 GMT", English month
    names in any locale). Read here because ssl.cert_time_to_seconds goes through
    time.strptime, whose first use costs a diagnosis some 4 ms; any other shape is left to it."""
    parts = text.split()
    if len(parts) == 5 and parts[0] in _MONTHS and parts[4] == "GMT":
        numbers = [parts[3], parts[1], *parts[2].split(":")]  # year, day, hour, minute, second
        if len(numbers) == 5 and all(n.isascii() and n.isdigit() for n in numbers):
            year, day, hour, minute, second = map(int, numbers)
            try:
                return dt.datetime(year, _MONTHS[parts[0]], day, hour, minute, second, tzinfo=dt.UTC)
            except ValueError:  # a leap second, or no such day: as the ssl module reads it
                pass
    return dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(text), dt.UTC)


def from_verified(peer: dict) -> CertInfo:
    """A verified certificate as the ssl module decodes it; no cryptography import needed."""
    names = [value for kind, value in peer.get("subjectAltName", ()) if kind in ("DNS", "IP Address")]
    if not names:
        names = [value for rdn in peer.get("subject", ()) for key, value in rdn if key == "commonName"]

    def rfc4514(name: tuple) -> str:
        return ",".join(f"{_SHORT.get(key, key)}={value}" for rdn in reversed(name) for key, value in rdn)

    return CertInfo(
        subject=rfc4514(peer.get("subject", ())),
        issuer=rfc4514(peer.get("issuer", ())),
        names=names,
        not_before=cert_time(peer["notBefore"]),
        not_after=cert_time(peer["notAfter"]),
        self_signed=peer.get("issuer") == peer.get("subject"),
    )


def parse_certificate(der: bytes) -> CertInfo:
    """An unverified certificate (the second look), decoded with cryptography."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += san.get_values_for_type(x509.DNSName)
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names += [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]  # type: ignore[misc]
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        names=[str(n) for n in names],
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        self_signed=cert.issuer == cert.subject,
    )


def name_matches(host: str, names: list[str]) -> bool:
    """Whether the dialled host is among the certificate's names (one-label wildcards allowed)."""
    try:
        wanted_ip = ipaddress.ip_address(host)
    except ValueError:
        wanted_ip = None
    for name in names:
        if wanted_ip is not None:
            try:
                if ipaddress.ip_address(name) == wanted_ip:
                    return True
            except ValueError:
                continue
            continue
        pattern = name.lower().rstrip(".")
        wanted = host.lower().rstrip(".")
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and wanted.count(".") >= 2 and wanted.split(".", 1)[1] == pattern[2:]:
            return True
    return False


def certificate_facts(info: CertInfo, host: str, now: dt.datetime | None = None) -> list[Observation]:
    now = now or dt.datetime.now(dt.UTC)
    shown = (
        f"certificate for {', '.join(info.names) or info.subject}, issued by {info.issuer}, "
        f"valid {info.not_before:%Y-%m-%d} to {info.not_after:%Y-%m-%d}"
    )
    return [
        Observation("tls.cert_names", " ".join(info.names), "probe", shown, "tls"),
        Observation("tls.cert_issuer", info.issuer, "probe", shown, "tls"),
        Observation("tls.cert_self_signed", info.self_signed, "probe", shown, "tls"),
        Observation("tls.cert_not_after", info.not_after.strftime("%Y-%m-%d"), "probe", shown, "tls"),
        Observation("tls.days_left", info.days_left(now), "probe", shown, "tls"),
        Observation("tls.name_matches", name_matches(host, info.names), "probe", shown, "tls"),
    ]


def session_facts(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> list[Observation]:
    if ssl_object is None:
        return []
    version = ssl_object.version() or "unknown"
    cipher = (ssl_object.cipher() or ("unknown",))[0]
    shown = f"TLS established: {version}, {cipher}"
    return [
        Observation("tls.version", version, "probe", shown, "tls"),
        Observation("tls.cipher", cipher, "probe", shown, "tls"),
    ]
