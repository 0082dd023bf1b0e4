"""`mailtriage merge` of many node reports against reading the same files with json, in the same run.

Makes real node reports first (a healthy lab server diagnosed from three loopback source
addresses, and a bad-password one), then writes --nodes copies of them, each named by node and
given its own local address. Times `merge DIR` as a whole process in JSON and in HTML, and
`merge -` with every report in one stream, beside a peer process that only reads and parses the
same files, and prints the medians and ratios (target: 1,000 nodes in under a second). It
asserts nothing.

    .venv/bin/python benchmarks/bench_merge.py [--nodes 1000] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine import lab

BIN = Path(sys.executable).parent
# What any merge must do at least: start Python, read each file, parse it.
PEER = "import json, pathlib, sys; [json.loads(p.read_text()) for p in pathlib.Path(sys.argv[1]).glob('*.json')]"


def diagnosis(server: lab.LabServer, source: str, password: str) -> dict:
    proc = subprocess.run(
        [
            *(str(BIN / "mailtriage"), "diagnose", "--host", "127.0.0.1", "--port", str(server.port)),
            *("--security", "starttls", "--cafile", str(server.cafile), "--user", lab.LAB_USER),
            *("--password-env", "P", "--from", lab.LAB_USER, "--to", lab.LAB_RECIPIENT, "--source-address", source),
            *("--non-interactive", "--format", "json"),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, P=password),
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"the diagnosis to copy failed: {proc.stderr.strip()}")
    return json.loads(proc.stdout)


def write_nodes(folder: Path, count: int) -> None:
    with lab.start("healthy") as server:
        samples = [diagnosis(server, f"127.0.0.{n}", lab.LAB_PASSWORD) for n in (51, 52, 53)]
        samples.append(diagnosis(server, "127.0.0.54", "wrong-password"))
    for n in range(count):
        report = json.loads(json.dumps(samples[n % 4 if n % 50 == 0 else n % 3]))
        address = f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"
        for fact in report["facts"]:
            if fact["name"] == "probe.local_address":
                fact["value"] = address
        (folder / f"node-{n:04d}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")


def timed(argv: list[str], stdin: bytes | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, input=stdin, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv[:3]} failed: {proc.stderr.decode(errors='replace').strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "nodes"
        folder.mkdir()
        write_nodes(folder, options.nodes)
        size = sum(p.stat().st_size for p in folder.iterdir())
        # All reports in one stream, as `kubectl logs` of many pods gives them.
        stream = b"".join(b"pod log line\n" + p.read_bytes() for p in sorted(folder.iterdir()))
        commands = {
            "merge --format json": [str(BIN / "mailtriage"), "merge", str(folder), "--format", "json"],
            "merge --format html": [str(BIN / "mailtriage"), "merge", str(folder), "--format", "html"],
            "merge - (one stream)": [str(BIN / "mailtriage"), "merge", "-", "--format", "json"],
            "peer: json.loads of each file": [sys.executable, "-c", PEER, str(folder)],
        }
        feeds = {"merge - (one stream)": stream}
        for name, argv in commands.items():
            timed(argv, feeds.get(name))  # warm the knowledge and template caches and the page cache
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(options.runs):  # alternate, so machine drift hits all alike
            for name, argv in commands.items():
                times[name].append(timed(argv, feeds.get(name)))
    medians = {name: statistics.median(values) for name, values in times.items()}
    peer = medians["peer: json.loads of each file"]
    print(f"{options.nodes} node reports, {size / 2**20:.1f} MB; median of {options.runs} runs")
    for name, median in medians.items():
        print(f"  {name:32s} {median * 1000:7.0f} ms  {median / peer:4.1f}x the peer")


if __name__ == "__main__":
    main()
