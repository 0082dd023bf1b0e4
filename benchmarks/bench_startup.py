"""Start-up: the commands a person waits on, against the interpreter and the peer tools.

Every command runs as a whole process, interleaved in the same run so that drift in machine
load hits each alike:

- `python -c pass`, the floor any Python program pays;
- `analyze-log` on one pasted line, warm (the knowledge cache filled by an earlier run) and
  cold (an empty cache directory each time: the first run after installing or editing knowledge);
- `knowledge lint` on the shipped knowledge;
- `diagnose` of a healthy lab server (STARTTLS + AUTH, stop after RCPT) against swaks and a bare
  smtplib script doing the same dialogue (the peers of bench_diagnose.py).

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

from bench_diagnose import commands, run_once
from engine import lab

ONE_LINE = "java.net.UnknownHostException: smtp.example.invalid\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    mailtriage = [sys.executable, "-m", "engine"]
    with tempfile.TemporaryDirectory(prefix="mailtriage-bench-") as tmp:
        text = Path(tmp) / "error.txt"
        text.write_text(ONE_LINE, encoding="utf-8")
        warm_env = dict(os.environ, MAILTRIAGE_CACHE_DIR=str(Path(tmp) / "cache"), BENCH_PASSWORD=lab.LAB_PASSWORD)
        analyze = [*mailtriage, "analyze-log", str(text), "--non-interactive"]
        # analyze-log exits 1: the text holds an error. That is the answer, not a failure.
        found = (0, 1)
        with lab.start("healthy") as server:
            peers = commands(server)
            jobs: dict[str, tuple[list[str], tuple[int, ...], bool]] = {
                "python -c pass": ([sys.executable, "-c", "pass"], (0,), False),
                "analyze-log, warm": (analyze, found, False),
                "analyze-log, cold": (analyze, found, True),
                "knowledge lint": ([*mailtriage, "knowledge", "lint"], (0,), False),
                "diagnose": (peers["mailtriage"], (0,), False),
                "smtplib dialogue": (peers["smtplib"], (0,), False),
            }
            if "swaks" in peers:
                jobs["swaks dialogue"] = (peers["swaks"], (0,), False)
            for argv, ok, _ in jobs.values():  # fill the cache and the byte-code caches once
                run_once(argv, warm_env, ok)
            times: dict[str, list[float]] = {name: [] for name in jobs}
            for i in range(args.runs):
                for name, (argv, ok, cold) in jobs.items():
                    env = dict(warm_env, MAILTRIAGE_CACHE_DIR=str(Path(tmp) / f"cold-{i}")) if cold else warm_env
                    times[name].append(run_once(argv, env, ok))
    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    floor = ms["python -c pass"]
    print(
        f"start-up, {args.runs} runs each (median ms), {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    for name, value in ms.items():
        print(f"  {name:20} {value:8.1f} ms  {value / floor:6.1f}x python -c pass")
    peer = "swaks dialogue" if "swaks dialogue" in ms else "smtplib dialogue"
    print(f"  analyze-log warm: {ms['analyze-log, warm'] / 1000:.3f} s (target <= 0.15 s)")
    print(f"  analyze-log cold: {ms['analyze-log, cold'] / 1000:.3f} s (target <= 0.6 s)")
    print(f"  diagnose / {peer.split()[0]} = {ms['diagnose'] / ms[peer]:.2f}x (target <= 2x swaks)")
    if peer != "swaks dialogue":
        print("  swaks not found: apt-get install swaks libnet-ssleay-perl libio-socket-ssl-perl to compare with it")


if __name__ == "__main__":
    main()
