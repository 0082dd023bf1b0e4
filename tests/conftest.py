"""Shared fixtures: the real CLI in-process and as a process, real sockets on 127.0.0.1."""

from __future__ import annotations

import contextlib
import gc
import io
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.cli.inputs import derive
from engine.cli.main import Environment, main
from engine.knowledge.cache import cached_knowledge
from engine.knowledge.load import load_knowledge
from engine.knowledge.model import Knowledge
from tests.dnsserver import DnsServer, Zone
from tests.jakartamail import jakarta_mail  # noqa: F401 (a session fixture: compiles the Java client once)
from tests.schemas import check_output

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture(scope="session", autouse=True)
def knowledge_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the knowledge cache of every run the tests make out of the user's home."""
    path = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("MAILTRIAGE_CACHE_DIR")
    os.environ["MAILTRIAGE_CACHE_DIR"] = str(path)
    # Warm it, so tests that bound a diagnosis in time measure the network work, not YAML parsing.
    cached_knowledge(derive=derive)
    yield path
    if previous is None:
        os.environ.pop("MAILTRIAGE_CACHE_DIR", None)
    else:
        os.environ["MAILTRIAGE_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def collector_unfrozen() -> Iterator[None]:
    """main() leaves its start-up objects frozen, as a process ends after it; this one lives on."""
    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load_knowledge()


@pytest.fixture(scope="session")
def cli(tmp_path_factory: pytest.TempPathFactory):
    """Run the real CLI in-process with injected streams; stdin is a terminal only with tty=True,
    and then the run happens in a directory of its own (an interactive run writes a ticket file)."""

    def run(*argv: str, stdin: str = "", environ: dict[str, str] | None = None, tty: bool = False) -> Result:
        out, err = io.StringIO(), io.StringIO()
        env = Environment(
            stdin=io.StringIO(stdin),
            stdout=out,
            stderr=err,
            environ=dict(environ or {}),
            stdin_isatty=tty,
        )
        with contextlib.chdir(tmp_path_factory.mktemp("terminal")) if tty else contextlib.nullcontext():
            code = main(list(argv), env)
        check_output(out.getvalue())
        return Result(code, out.getvalue(), err.getvalue())

    return run


@pytest.fixture
def run_process(tmp_path: Path):
    """Run `python -m engine` as a real process, from a directory outside the repository."""

    def run(*argv: str, stdin: str = "", env: dict[str, str] | None = None, timeout: float = 60) -> Result:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("MAILTRIAGE_")}
        full_env["MAILTRIAGE_CACHE_DIR"] = os.environ["MAILTRIAGE_CACHE_DIR"]
        full_env.update(env or {})
        proc = subprocess.run(
            [sys.executable, "-m", "engine", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=full_env,
            timeout=timeout,
        )
        check_output(proc.stdout)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """mailtriage's wheel, built once from this checkout."""
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (built,) = out.glob("mailtriage-*.whl")
    return built


@pytest.fixture
def closed_port() -> int:
    """A loopback port where nothing listens: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def recording_port(hang_up: bool) -> Iterator[tuple[int, list[tuple[str, int]]]]:
    """A loopback port that accepts connections and records each client's address and port;
    it hangs up at once, or (hang_up False) holds each connection open and says nothing."""
    peers: list[tuple[str, int]] = []
    held: list[socket.socket] = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            peers.append(peer)
            if hang_up:
                conn.close()
            else:
                held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], peers
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        server.close()


@pytest.fixture
def accepting_port() -> Iterator[tuple[int, list[tuple[str, int]]]]:
    """A loopback port that records each client's address and port, and hangs up."""
    with recording_port(hang_up=True) as port:
        yield port


@pytest.fixture
def silent_port() -> Iterator[tuple[int, list[tuple[str, int]]]]:
    """A loopback port that records each client's address and port, and never says a word."""
    with recording_port(hang_up=False) as port:
        yield port


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A loopback port that accepts TCP connections (the kernel completes the handshake)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]


@pytest.fixture
def blackhole_port() -> Iterator[int]:
    """A loopback port whose accept queue is full: new SYNs are dropped, so connects time out."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()


# Sender domains for --check-dns, one per case. The egress echo answers with the asking address,
# 127.0.0.1, so "authorised" means a record that covers 127.0.0.1.
MAIL_TXT = {
    "pass.lab.test": ["google-site-verification=lab", "v=spf1 ip4:127.0.0.0/8 -all"],
    "_dmarc.pass.lab.test": ["v=DMARC1; p=reject; rua=mailto:dmarc@pass.lab.test"],
    "fail.lab.test": ["v=spf1 ip4:192.0.2.0/24 -all"],
    "_dmarc.fail.lab.test": ["v=DMARC1; p=reject"],
    "soft.lab.test": ["v=spf1 include:_spf.provider.test ~all"],
    "_spf.provider.test": ["v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 -all"],
    "nospf.lab.test": ["ms=verification-only"],
    "include.lab.test": ["v=spf1 include:_spf.provider.test include:_spf.relay.test -all"],
    "_spf.relay.test": ["v=spf1 a:relay.lab.test -all"],
    "_dmarc.include.lab.test": ["v=DMARC1; p=quarantine"],
    "mxauth.lab.test": ["v=spf1 mx -all"],
    "loop.lab.test": ["v=spf1 include:loop.lab.test -all"],
    "two.lab.test": ["v=spf1 ip4:127.0.0.1 -all", "v=spf1 -all"],
    "sub.org.lab.test": ["v=spf1 ip4:127.0.0.1 -all"],
    "_dmarc.org.lab.test": ["v=DMARC1; p=none; sp=reject"],
    "redirect.lab.test": ["v=spf1 redirect=pass.lab.test"],
}
MAIL_MX = {
    "pass.lab.test": [(20, "mx2.pass.lab.test"), (10, "mx1.pass.lab.test")],
    "mxauth.lab.test": [(10, "smtp.lab.test")],
}


def mail_zone() -> Zone:
    """The DNS world the tests probe: the SMTP host, faulty names, sender domains, an echo."""
    return Zone(
        # localhost too: the lab's certificates name it, so a run through --resolver verifies.
        addresses={"smtp.lab.test": ["127.0.0.1"], "relay.lab.test": ["127.0.0.1"], "localhost": ["127.0.0.1"]},
        empty={"noaddr.lab.test", "org.lab.test"},
        silent={"silent.lab.test", "slow.lab.test", "_dmarc.slow.lab.test"},
        servfail={"broken.lab.test"},
        txt={name: list(texts) for name, texts in MAIL_TXT.items()},
        mx={name: list(hosts) for name, hosts in MAIL_MX.items()},
        echo={"myip.opendns.com", "o-o.myaddr.l.google.com"},
    )


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    """A real DNS server on 127.0.0.1 serving mail_zone(); its queries list counts every question."""
    with DnsServer(mail_zone()) as server:
        yield server


EXTRA = Path("extra")  # a knowledge layer of the test's own, relative to its working folder


@pytest.fixture
def extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty extra knowledge layer; the test runs in tmp_path, so lint shows the short path."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / EXTRA).mkdir()
    return EXTRA


@pytest.fixture
def lint(cli, extra: Path):
    """Lint the shipped knowledge plus the extra layer; expect failure without a traceback."""

    def run() -> Result:
        result = cli("knowledge", "lint", "--knowledge", str(extra))
        assert "Traceback" not in result.err
        assert result.code == 2, result.out + result.err
        return result

    return run
