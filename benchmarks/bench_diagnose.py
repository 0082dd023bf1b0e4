"""Healthy STARTTLS + AUTH diagnosis: mailtriage against swaks and a bare smtplib script.

All three run as whole processes, in the same run, against the same lab server, interleaved so
that drift in machine load hits each alike. swaks and smtplib stop after RCPT TO, as mailtriage
does by default. Prints each median and the ratios; it asserts nothing about speed.

    .venv/bin/python benchmarks/bench_diagnose.py [--runs 21]

swaks comes from Debian's swaks package (apt-get install swaks); without it, that peer is left out.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from engine import lab

SMTPLIB_SCRIPT = """
import smtplib, ssl, sys
port, cafile, user, password, sender, rcpt = sys.argv[1:]
with smtplib.SMTP("127.0.0.1", int(port), timeout=10) as smtp:
    smtp.ehlo()
    smtp.starttls(context=ssl.create_default_context(cafile=cafile))
    smtp.ehlo()
    smtp.login(user, password)
    code, _ = smtp.mail(sender)
    assert code == 250
    code, _ = smtp.rcpt(rcpt)
    assert code == 250
    smtp.rset()
"""


@dataclass(frozen=True)
class Server:
    """A healthy STARTTLS + AUTH submission server on loopback and an account it accepts."""

    port: int
    cafile: str
    user: str
    password: str
    sender: str
    recipient: str


@contextlib.contextmanager
def real_postfix() -> Iterator[Server | None]:
    """A healthy Postfix with STARTTLS and SASL AUTH, or None where this machine cannot start one."""
    from tests import postfixtarget as pt
    from tests.postfixserver import SBIN

    if (
        os.geteuid() != 0
        or shutil.which("postfix", path=SBIN) is None
        or shutil.which("saslpasswd2", path=SBIN) is None
    ):
        yield None
        return
    user, password = next(iter(pt.Target().users.items()))
    with pt.postfix_target(pt.Target()) as pf:
        yield Server(pf.port, str(pf.cafile), user, password, user, f"someone@{pt.DOMAIN}")


def lab_server(server: lab.LabServer) -> Server:
    return Server(server.port, str(server.cafile), lab.LAB_USER, lab.LAB_PASSWORD, lab.LAB_SENDER, lab.LAB_RECIPIENT)


def commands(server: Server) -> dict[str, list[str]]:
    """The same dialogue three ways; mailtriage reads the password from BENCH_PASSWORD."""
    port = str(server.port)
    peers = {
        "mailtriage": [
            sys.executable,
            "-m",
            "engine",
            "diagnose",
            "--host",
            "127.0.0.1",
            "--port",
            port,
            "--security",
            "starttls",
            "--cafile",
            server.cafile,
            "--user",
            server.user,
            "--password-env",
            "BENCH_PASSWORD",
            "--from",
            server.sender,
            "--to",
            server.recipient,
            "--format",
            "json",
            "--non-interactive",
        ],
        "smtplib": [
            sys.executable,
            "-c",
            SMTPLIB_SCRIPT,
            port,
            server.cafile,
            server.user,
            server.password,
            server.sender,
            server.recipient,
        ],
    }
    swaks = shutil.which("swaks")
    if swaks:
        peers["swaks"] = [
            swaks,
            "--server",
            f"127.0.0.1:{port}",
            "--tls",
            "--tls-verify",
            "--tls-ca-path",
            server.cafile,
            "--auth",
            "PLAIN",
            "--auth-user",
            server.user,
            "--auth-password",
            server.password,
            "--from",
            server.sender,
            "--to",
            server.recipient,
            "--quit-after",
            "RCPT",
        ]
    return peers


def run_once(argv: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    """Wall time of one run; a run that fails stops the benchmark (a failure is fast, not a result)."""
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env, timeout=120)
    elapsed = time.perf_counter() - started
    if proc.returncode not in ok:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    env = dict(os.environ, BENCH_PASSWORD=lab.LAB_PASSWORD)
    with lab.start("healthy") as server:
        peers = commands(lab_server(server))
        for argv in peers.values():  # warm the page cache and byte-code caches once
            run_once(argv, env)
        times: dict[str, list[float]] = {name: [] for name in peers}
        for _ in range(args.runs):
            for name, argv in peers.items():
                times[name].append(run_once(argv, env))
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    print(f"healthy STARTTLS + AUTH dialogue, stop after RCPT, {args.runs} runs each (median ms)")
    for name, ms in medians.items():
        print(f"  {name:10} {ms:8.1f} ms")
    if "swaks" in medians:
        print(f"  mailtriage / swaks   = {medians['mailtriage'] / medians['swaks']:.2f}x  (target <= 1.5x)")
        print(f"  swaks / smtplib      = {medians['swaks'] / medians['smtplib']:.2f}x")
    print(f"  mailtriage / smtplib = {medians['mailtriage'] / medians['smtplib']:.2f}x  (smtplib is the floor)")
    if "swaks" not in medians:
        print("  swaks not found: apt-get install swaks to compare with it")


if __name__ == "__main__":
    main()
