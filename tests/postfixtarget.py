"""A private, real Postfix instance on 127.0.0.1 as the SMTP server a diagnosis probes.

Built on tests/postfixserver.py (own config, queue and data directories; loopback only; no DNS),
configured per test with the restrictions whose refusals mailtriage must read:

- STARTTLS with a certificate for 127.0.0.1 and localhost from a trustme CA (`cafile`);
- SASL AUTH (Cyrus SASL, PLAIN and LOGIN) against a private sasldb of known users, offered
  only after STARTTLS;
- smtpd_sender_login_maps with reject_sender_login_mismatch: which login owns which sender;
- check_client_access with a cidr map that REJECTs the client addresses named;
- the HELO restrictions reject_invalid_helo_hostname and reject_non_fqdn_helo_hostname;
- smtpd_delay_reject, which Postfix sets to yes: client, HELO and sender restrictions are then
  applied at RCPT TO, not at connect, HELO or MAIL FROM.

It accepts mail for its own domain (relay_domains) and relays it to a port where nothing
listens; mynetworks is empty, so a client that is not logged in may not relay elsewhere and
Postfix's default smtpd_relay_restrictions answer it with 454 4.7.1 Relay access denied.
"""

from __future__ import annotations

import contextlib
import glob
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import trustme

from tests.postfixserver import SBIN, START_TIMEOUT, PostfixInstance, postfix_instance, require_postfix, unavailable

DOMAIN = "example.test"

# Cyrus SASL's configuration for the application name Postfix uses (smtpd_sasl_path = smtpd).
SASL_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: {sasldb}
"""

# TLS sessions and the random seed: smtpd asks tlsmgr for them.
TLS_SERVICES = "tlsmgr unix - - n 1000? 1 tlsmgr\n"


@dataclass(frozen=True)
class Target:
    """What the instance enforces; the defaults are a healthy submission server."""

    users: dict[str, str] = field(default_factory=lambda: {f"app@{DOMAIN}": "s3cret-app"})  # SASL login -> password
    tls: bool = True
    # Sender address -> the SASL login that owns it; None: no sender_login_maps and no mismatch check.
    sender_owners: dict[str, str] | None = None
    refused_clients: tuple[str, ...] = ()  # cidr entries check_client_access REJECTs, e.g. "127.0.0.2/32"
    delay_reject: bool = True  # Postfix's own default
    strict_helo: bool = False  # reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname


@dataclass
class PostfixTarget:
    instance: PostfixInstance
    target: Target
    cafile: Path | None  # the CA that issued the server certificate, for --cafile

    host = "127.0.0.1"

    @property
    def port(self) -> int:
        return self.instance.port

    def maillog(self) -> str:
        return self.instance.maillog()


def require_sasl() -> None:
    """saslpasswd2 to write the user database, and Cyrus SASL's PLAIN module for smtpd to offer."""
    require_postfix()
    if shutil.which("saslpasswd2", path=SBIN) is None or not glob.glob("/usr/lib/*/sasl2/libplain.so*"):
        unavailable(
            "Cyrus SASL's saslpasswd2 or PLAIN module is missing; `make test` installs sasl2-bin and libsasl2-modules"
        )


def _settings(target: Target) -> dict[str, str]:
    """main.cf parameters; {root} is the instance's directory."""
    settings = {
        "myhostname": f"mx.{DOMAIN}",
        "mydomain": DOMAIN,
        "mynetworks": "",
        "relay_domains": DOMAIN,
        # Postfix's default, spelled out: the base instance permits its mynetworks only.
        "smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
        "smtpd_delay_reject": "yes" if target.delay_reject else "no",
        # Mail flow control pauses smtpd 1 s before each new message once the queue manager has
        # handed out its tokens (100), and it hands out more only as mail leaves. This instance
        # delivers nothing, so after 100 sessions every RCPT would wait a second.
        "in_flow_delay": "0s",
    }
    if target.tls:
        settings.update(
            {
                "smtpd_tls_security_level": "may",
                "smtpd_tls_cert_file": "{root}/tls/server.pem",
                "smtpd_tls_key_file": "{root}/tls/server.key",
                "smtpd_tls_auth_only": "yes",
            }
        )
    if target.users:
        settings.update(
            {
                "smtpd_sasl_auth_enable": "yes",
                "smtpd_sasl_type": "cyrus",
                "smtpd_sasl_path": "smtpd",
                # Debian's Postfix reads smtpd.conf from $config_directory/sasl whatever this says.
                "cyrus_sasl_config_path": "{root}/conf/sasl",
                "smtpd_sasl_security_options": "noanonymous",
            }
        )
    if target.sender_owners is not None:
        settings["smtpd_sender_login_maps"] = "texthash:{root}/conf/sender_logins"
        settings["smtpd_sender_restrictions"] = "reject_sender_login_mismatch"
    if target.refused_clients:
        settings["smtpd_client_restrictions"] = "check_client_access cidr:{root}/conf/client_access.cidr"
    if target.strict_helo:
        settings["smtpd_helo_required"] = "yes"
        settings["smtpd_helo_restrictions"] = "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname"
    return settings


def _write_sasldb(root: Path, users: dict[str, str]) -> None:
    conf = root / "conf" / "sasl"
    conf.mkdir()
    # The database lives outside the config directory, which `postfix start` wants owned by root.
    (root / "sasl").mkdir()
    sasldb = root / "sasl" / "sasldb2"
    (conf / "smtpd.conf").write_text(SASL_CONF.format(sasldb=sasldb))
    saslpasswd2 = shutil.which("saslpasswd2", path=SBIN) or "saslpasswd2"
    for login, password in users.items():
        # user@realm, as Cyrus SASL splits the login a client sends; a bare name gets the host's realm.
        name, at, realm = login.rpartition("@")
        command = [saslpasswd2, "-p", "-c", "-f", str(sasldb), *(["-u", realm, name] if at else [login])]
        subprocess.run(command, input=password, capture_output=True, text=True, timeout=START_TIMEOUT, check=True)
    shutil.chown(sasldb, "postfix")  # smtpd reads it as the postfix user
    sasldb.chmod(0o600)


def _write_certificate(root: Path) -> Path:
    tls = root / "tls"
    tls.mkdir()
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    server.cert_chain_pems[0].write_to_path(str(tls / "server.pem"))
    for extra in server.cert_chain_pems[1:]:
        extra.write_to_path(str(tls / "server.pem"), append=True)
    server.private_key_pem.write_to_path(str(tls / "server.key"))
    (tls / "server.key").chmod(0o600)
    cafile = tls / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    return cafile


@contextlib.contextmanager
def postfix_target(target: Target = Target()) -> Iterator[PostfixTarget]:
    """Start a private Postfix enforcing `target`; stop it and remove its directories afterwards."""
    if target.users:
        require_sasl()
    made: dict[str, Path] = {}

    def prepare(instance: PostfixInstance) -> None:
        root = instance.root
        if target.tls:
            made["cafile"] = _write_certificate(root)
        if target.users:
            _write_sasldb(root, target.users)
        if target.sender_owners is not None:
            lines = [f"{sender} {login}" for sender, login in target.sender_owners.items()]
            (root / "conf" / "sender_logins").write_text("\n".join(lines) + "\n")
        if target.refused_clients:
            # Only the addresses named are refused; every other client matches nothing and passes.
            lines = [f"{network} REJECT" for network in target.refused_clients]
            (root / "conf" / "client_access.cidr").write_text("\n".join(lines) + "\n")

    with postfix_instance(_settings(target), TLS_SERVICES if target.tls else "", prepare) as instance:
        yield PostfixTarget(instance, target, made.get("cafile"))
