"""Fifty accounts from one profile against one account, as whole processes in the same run.

Both profiles point at the same healthy server (STARTTLS + AUTH, stop after RCPT TO): the lab's,
or with --server postfix a real Postfix with Cyrus SASL (a server with a process per session, as
production ones are; the lab serves every session from one thread). Runs alternate so that drift
in machine load hits both alike. Prints each median, their ratio, and the median of the ratios
of runs made back to back (a shared virtual machine's speed drifts within seconds; a pair shares
its moment). The target: fifty accounts in at most 2x one account's time. It asserts nothing.

    .venv/bin/python benchmarks/bench_accounts.py [--server lab|postfix] [--accounts 50] [--runs 7] [--jobs 8]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench_diagnose import Server, lab_server, real_postfix
from engine import lab


def write_profile(path: Path, server: Server, count: int) -> None:
    accounts = "\n".join(f'[[accounts]]\nname = "app-{n:03d}"\n' for n in range(count))
    path.write_text(
        f'[defaults]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "starttls"\ncafile = "{server.cafile}"\n'
        f'user = "{server.user}"\nfrom = "{server.sender}"\nto = "{server.recipient}"\n'
        f'password_env = "BENCH_PASSWORD"\n\n{accounts}',
        encoding="utf-8",
    )


@contextlib.contextmanager
def serving(kind: str) -> Iterator[Server]:
    if kind == "lab":
        with lab.start("healthy") as server:
            yield lab_server(server)
        return
    with real_postfix() as postfix:
        if postfix is None:
            raise SystemExit("a real Postfix needs root, postfix and sasl2-bin (make postfix installs them)")
        yield postfix


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"mailtriage failed ({proc.returncode}): {proc.stderr[-300:]}")
    return elapsed, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--server", choices=("lab", "postfix"), default="lab")
    args = parser.parse_args()
    with serving(args.server) as server, tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, BENCH_PASSWORD=server.password)
        one, many = Path(tmp) / "one.toml", Path(tmp) / "many.toml"
        write_profile(one, server, 1)
        write_profile(many, server, args.accounts)
        base = [sys.executable, "-m", "engine", "diagnose", "--non-interactive", "--format", "json"]
        commands = {
            "one": [*base, "--profile", str(one)],
            "many": [*base, "--profile", str(many), "--jobs", str(args.jobs)],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        timed(commands["one"], env)  # warm the knowledge cache and the page cache first
        for _ in range(args.runs):
            for name, argv in commands.items():
                elapsed, out = timed(argv, env)
                times[name].append(elapsed)
                if name == "many":
                    verdicts = [a["verdict"] for a in json.loads(out)["accounts"]]
                    assert len(verdicts) == args.accounts and set(verdicts) == {"ok"}, verdicts
    one_s, many_s = statistics.median(times["one"]), statistics.median(times["many"])
    paired = statistics.median(m / o for o, m in zip(times["one"], times["many"], strict=True))
    print(f"healthy {args.server} server, {args.runs} runs (median), --jobs {args.jobs}")
    print(f"  1 account      {one_s:6.2f} s")
    print(f"  {args.accounts} accounts   {many_s:6.2f} s   (every account concluded ok)")
    print(f"  {args.accounts} accounts / 1 account = {many_s / one_s:.2f}x  (target <= 2x)")
    print(f"  median of the {args.runs} back-to-back pairs' ratios = {paired:.2f}x")


if __name__ == "__main__":
    main()
