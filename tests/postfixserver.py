"""A private, real Postfix instance on 127.0.0.1 for tests, whose relay host never answers.

It has its own config, queue and data directories; the system's default instance
(/etc/postfix) is neither read, started nor changed. Its smtpd listens on one free loopback
port and relays everything to [127.0.0.1]:P, where nothing listens, so every message it
accepts ends up deferred with "Connection refused". No DNS lookups are made.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
# Set on a machine that deliberately cannot have Postfix: its tests are then skipped, not failed.
OPT_OUT = "MAILTRIAGE_NO_POSTFIX"
START_TIMEOUT = 10.0

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mailtriage-test.invalid
mydomain = invalid
myorigin = $myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{dead_port}
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_host_lookup = native
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtp_connect_timeout = 2s
maillog_file = {root}/log/maillog
maillog_file_prefixes = {root}
"""

# Only the services this test instance needs; none chrooted (the queue directory holds no /etc).
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


def require_postfix() -> None:
    """Fail (not skip) when Postfix is missing, unless the machine opted out on purpose."""
    problem = None
    if shutil.which("postfix", path=SBIN) is None or shutil.which("postqueue", path=SBIN) is None:
        problem = "Postfix is not installed; `make test` installs it as root (apt-get install postfix)"
    elif os.geteuid() != 0:
        problem = "a private Postfix instance can only be started as root; run the tests as root"
    if problem is not None:
        unavailable(problem)


def unavailable(problem: str) -> None:
    """Fail saying what is missing, or skip where the machine declared it cannot have Postfix."""
    if os.environ.get(OPT_OUT) == "1":
        pytest.skip(f"{problem} ({OPT_OUT}=1 says this machine cannot have it)")
    pytest.fail(f"{problem}; or set {OPT_OUT}=1 to skip the Postfix tests deliberately", pytrace=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostfixInstance:
    root: Path
    port: int  # where its smtpd listens on 127.0.0.1
    dead_port: int  # its relay host's port, where nothing listens

    @property
    def config_dir(self) -> str:
        return str(self.root / "conf")

    def postfix(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [shutil.which("postfix", path=SBIN) or "postfix", "-c", self.config_dir, *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT, check=check)

    def postqueue_json(self) -> list[dict[str, object]]:
        command = [shutil.which("postqueue", path=SBIN) or "postqueue", "-c", self.config_dir, "-j"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=START_TIMEOUT, check=True)
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    def inject(self, recipients: list[list[str]]) -> None:
        """One message per recipient list, through the instance's own smtpd on loopback."""
        with smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.invalid", timeout=5) as smtp:
            for i, rcpts in enumerate(recipients):
                smtp.sendmail("app@example.com", rcpts, f"Subject: mailtriage test {i}\r\n\r\nqueued\r\n")

    def wait_deferred(self, count: int, timeout: float = 10.0) -> list[dict[str, object]]:
        """The queue once `count` messages sit deferred with a reason (the first attempt failed)."""
        deadline = time.monotonic() + timeout
        while True:
            entries = self.postqueue_json()
            deferred = [e for e in entries if e["queue_name"] == "deferred"]
            if len(deferred) >= count or time.monotonic() > deadline:
                return entries
            time.sleep(0.1)

    def hold(self, queue_id: str) -> None:
        postsuper = shutil.which("postsuper", path=SBIN) or "postsuper"
        subprocess.run(
            [postsuper, "-c", self.config_dir, "-h", queue_id], capture_output=True, timeout=START_TIMEOUT, check=True
        )

    def maillog(self) -> str:
        path = self.root / "log" / "maillog"
        return path.read_text(errors="replace") if path.exists() else "(no mail log)"


def render_main_cf(values: Mapping[str, object], settings: Mapping[str, str]) -> str:
    """MAIN_CF filled in, each of `settings` replacing the parameter of that name or added after.

    Setting values are filled in too, so they may name files under the instance as {root}/...
    """
    lines = MAIN_CF.format(**values).splitlines()
    names = [line.split("=", 1)[0].strip() for line in lines]
    chosen = dict(zip(names, lines, strict=True))
    for name, value in settings.items():
        chosen[name] = f"{name} = {value.format(**values)}".rstrip()
    return "\n".join(chosen.values()) + "\n"


def _wait_listening(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def postfix_instance(
    settings: Mapping[str, str] | None = None,
    services: str = "",
    prepare: Callable[[PostfixInstance], None] | None = None,
) -> Iterator[PostfixInstance]:
    """Start a private instance; stop it and remove its directories afterwards, even on failure.

    `settings` replace or add main.cf parameters, `services` adds master.cf lines, and `prepare`
    writes what those name (maps, certificates) into the instance's directories before it starts.
    """
    require_postfix()
    # Postfix's daemons run as the postfix user and must reach their queue directory, which
    # pytest's tmp_path (under a 0700 directory) does not allow; a 0755 directory of its own does.
    root = Path(tempfile.mkdtemp(prefix="mailtriage-postfix-"))
    root.chmod(0o755)
    instance = PostfixInstance(root, free_port(), free_port())
    try:
        for name in ("conf", "queue", "data", "log"):
            (root / name).mkdir()
        shutil.chown(root / "data", "postfix")
        values = {"root": root, "port": instance.port, "dead_port": instance.dead_port}
        (root / "conf" / "main.cf").write_text(render_main_cf(values, settings or {}))
        (root / "conf" / "master.cf").write_text(MASTER_CF.format(**values) + services)
        if prepare is not None:
            prepare(instance)
        started = instance.postfix("start", check=False)
        if started.returncode != 0 or not _wait_listening(instance.port, START_TIMEOUT):
            pytest.fail(
                f"the test Postfix instance did not start: {started.stderr.strip()}\n{instance.maillog()}",
                pytrace=False,
            )
        yield instance
    finally:
        instance.postfix("stop", check=False)
        shutil.rmtree(root, ignore_errors=True)
