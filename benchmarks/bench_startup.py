"""Start-up: the commands a person waits on, against the interpreter and the peer tools.

Every command runs as a whole process, interleaved in the same run so that drift in machine
load hits each alike:

- `python -c pass`, the floor any Python program pays;
- `analyze-log` on one pasted line, warm (the knowledge cache filled by an earlier run) and
  cold (an empty cache directory each time: the first run after installing or editing knowledge);
- `knowledge lint` on the shipped knowledge;
- `diagnose` of a healthy server (STARTTLS + AUTH, stop after RCPT) against swaks and a bare
  smtplib script doing the same dialogue (the peers of bench_diagnose.py): the built-in lab
  server, and a real Postfix with Cyrus SASL (the tests' private instance; root and Debian's
  postfix, sasl2-bin and libsasl2-modules, as `make test` installs them).

Prints each median and the ratios; it asserts nothing. A peer that fails stops the benchmark
(a swaks without TLS support fails at once, and timing it would flatter mailtriage).

    .venv/bin/python benchmarks/bench_startup.py [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

from bench_diagnose import commands, lab_server, real_postfix, run_once
from engine import lab

# The tests' private Postfix: benchmarks run from a source checkout, as `make test` does.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ONE_LINE = "java.net.UnknownHostException: smtp.example.invalid\n"
FLOOR_TEXT = "import engine.decide.compat, jinja2"  # experta; the text report's templates
FLOOR_DIAGNOSE = "import engine.decide.compat, socket, ssl"  # experta; the probes (no asyncio for one account)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    mailtriage = [sys.executable, "-m", "engine"]
    with (
        tempfile.TemporaryDirectory(prefix="mailtriage-bench-") as tmp,
        lab.start("healthy") as server,
        real_postfix() as postfix,
    ):
        text = Path(tmp) / "error.txt"
        text.write_text(ONE_LINE, encoding="utf-8")
        warm = dict(os.environ, MAILTRIAGE_CACHE_DIR=str(Path(tmp) / "cache"))
        analyze = [*mailtriage, "analyze-log", str(text), "--non-interactive"]
        # analyze-log exits 1: the text holds an error. That is the answer, not a failure.
        found = (0, 1)
        # name -> (argv, exit codes that mean it worked, environment; None: a fresh cache each run)
        jobs: dict[str, tuple[list[str], tuple[int, ...], dict[str, str] | None]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], (0,), warm),
            "analyze-log, warm": (analyze, found, warm),
            "analyze-log, cold": (analyze, found, None),
            "knowledge lint": ([*mailtriage, "knowledge", "lint"], (0,), warm),
            # The libraries each command cannot do without, imported and nothing else: the
            # floor under mailtriage's own share (experta through the shim that lets it import).
            "floor, analyze-log": ([sys.executable, "-c", FLOOR_TEXT], (0,), warm),
            "floor, diagnose": ([sys.executable, "-c", FLOOR_DIAGNOSE], (0,), warm),
        }
        servers = {"lab": lab_server(server), **({"Postfix": postfix} if postfix else {})}
        for where, account in servers.items():
            for peer, argv in commands(account).items():
                name = "diagnose" if peer == "mailtriage" else f"{peer} dialogue"
                jobs[f"{name}, {where}"] = (argv, (0,), dict(warm, BENCH_PASSWORD=account.password))
        for argv, ok, env in jobs.values():  # fill the cache and the byte-code caches once
            run_once(argv, env or warm, ok)
        times: dict[str, list[float]] = {name: [] for name in jobs}
        for i in range(args.runs):
            for name, (argv, ok, env) in jobs.items():
                cold = dict(warm, MAILTRIAGE_CACHE_DIR=str(Path(tmp) / f"cold-{i}"))
                times[name].append(run_once(argv, env or cold, ok))
    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    floor = ms["python -c pass"]
    print(
        f"start-up, {args.runs} runs each (median ms), {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    for name, value in ms.items():
        print(f"  {name:20} {value:8.1f} ms  {value / floor:6.1f}x python -c pass")
    print(f"  analyze-log warm: {ms['analyze-log, warm'] / 1000:.3f} s (target <= 0.15 s)")
    print(f"  analyze-log cold: {ms['analyze-log, cold'] / 1000:.3f} s (target <= 0.6 s)")
    for where in ("lab", "Postfix"):
        if f"diagnose, {where}" not in ms:
            print(f"  {where}: not measured (a real Postfix needs root, postfix, sasl2-bin and libsasl2-modules)")
            continue
        peer = "swaks" if f"swaks dialogue, {where}" in ms else "smtplib"
        ratio = ms[f"diagnose, {where}"] / ms[f"{peer} dialogue, {where}"]
        print(f"  diagnose / {peer}, {where}: {ratio:.2f}x (target <= 2x swaks on the real Postfix)")
        floor_ratio = ms["floor, diagnose"] / ms[f"{peer} dialogue, {where}"]
        print(f"    of which importing socket, ssl and experta alone: {floor_ratio:.2f}x {peer}")
    for command in ("analyze-log, warm", "diagnose, lab"):
        own = ms[command] - ms[f"floor, {command.split(',')[0]}"]
        print(f"  {command}: {own:.0f} ms beyond its libraries' imports")
    if not any(name.startswith("swaks") for name in ms):
        print("  swaks not found: apt-get install swaks libnet-ssleay-perl libio-socket-ssl-perl to compare with it")


if __name__ == "__main__":
    main()
