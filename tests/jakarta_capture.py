"""Capture what Jakarta Mail prints for every lab scenario, and what mailtriage makes of it.

    .venv/bin/python -m tests.jakarta_capture OUTDIR [SCENARIO...]

For each scenario (all of `mailtriage lab --list` unless named) one lab server is started; the
real client (tests/clients/JakartaSend.java) sends to it without and with debug, and diagnose
probes it with the settings tests/test_lab_diagnosis.py uses. OUTDIR gets <scenario>.plain.txt
and <scenario>.debug.txt, the client's output as printed, and SUMMARY.md: per scenario the
first finding of diagnose and of analyze-log on each output. Two further rows: wrong-host with
the library's own default (no server identity check), and a private Postfix instance
(tests/postfixserver.py) when this machine can run one. mailtriage runs as a process, the
console script beside this Python.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine import lab
from tests.jakartamail import JakartaMail, Outcome, compile_client, conclusion
from tests.test_lab_diagnosis import NO_CREDENTIALS, diagnose_args

MAILTRIAGE = Path(sys.executable).parent / "mailtriage"
MODES = ("plain", "debug")


@dataclass
class Row:
    scenario: str
    expected: str  # what the lab scenario reproduces, or a note
    diagnosed: str | None
    analyzed: dict[str, str | None]  # by mode
    outcomes: dict[str, Outcome]
    seconds: dict[str, float]


def mailtriage(*argv: str, password: str | None = None) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MAILTRIAGE_") and k != "LAB_PASSWORD"}
    environment["MAILTRIAGE_CACHE_DIR"] = os.environ["MAILTRIAGE_CACHE_DIR"]
    if password is not None:
        environment["LAB_PASSWORD"] = password
    done = subprocess.run([str(MAILTRIAGE), *argv], capture_output=True, text=True, env=environment, timeout=60)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"mailtriage {argv[0]} exited {done.returncode}: {done.stderr.strip()}")
    return json.loads(done.stdout)


def analyze_log(path: Path) -> str | None:
    return conclusion(mailtriage("analyze-log", str(path), "--non-interactive", "--format", "json"))


def send_both(client: JakartaMail, outdir: Path, stem: str, send) -> tuple[dict, dict, dict]:
    """Run the client in both modes; save each output; analyze-log each file."""
    outcomes, seconds, analyzed = {}, {}, {}
    for mode in MODES:
        started = time.monotonic()
        outcomes[mode] = send(mode == "debug")
        seconds[mode] = time.monotonic() - started
        path = outdir / f"{stem}.{mode}.txt"
        path.write_text(outcomes[mode].output)
        analyzed[mode] = analyze_log(path)
    return outcomes, seconds, analyzed


def capture_lab(client: JakartaMail, outdir: Path, name: str, stem: str | None = None, **settings) -> Row:
    with lab.start(name) as server:
        user = None if name in NO_CREDENTIALS else lab.LAB_USER
        outcomes, seconds, analyzed = send_both(
            client, outdir, stem or name, lambda debug: client.run(server, debug, user=user, **settings)
        )
        diagnosed = conclusion(mailtriage(*diagnose_args(server, name), password=lab.LAB_PASSWORD))
    return Row(stem or name, server.scenario.expected, diagnosed, analyzed, outcomes, seconds)


def capture_postfix(client: JakartaMail, outdir: Path) -> list[Row]:
    """A real Postfix smtpd on loopback: no TLS, no AUTH, relays for 127.0.0.0/8."""
    from tests.postfixserver import postfix_instance

    rows = []
    cases = [  # stem, security, user, note
        ("postfix-plain", "none", None, "Postfix smtpd, no TLS, no credentials"),
        ("postfix-starttls", "starttls", None, "Postfix smtpd without TLS, client requires STARTTLS"),
        ("postfix-auth", "none", lab.LAB_USER, "Postfix smtpd without AUTH, client has credentials"),
    ]
    with postfix_instance() as postfix:
        for stem, security, user, note in cases:
            settings = {
                "host": "127.0.0.1",
                "port": postfix.port,
                "security": security,
                "user": user,
                "password": lab.LAB_PASSWORD if user else None,
            }
            outcomes, seconds, analyzed = send_both(
                client, outdir, stem, lambda debug, settings=settings: client.send(debug, **settings)
            )
            argv = [
                "diagnose",
                "--host",
                "127.0.0.1",
                "--port",
                str(postfix.port),
                "--security",
                security,
                "--from",
                lab.LAB_SENDER,
                "--to",
                lab.LAB_RECIPIENT,
                "--timeout",
                "2",
                "--non-interactive",
                "--format",
                "json",
            ]
            if user:
                argv += ["--user", user, "--password-env", "LAB_PASSWORD"]
            diagnosed = conclusion(mailtriage(*argv, password=lab.LAB_PASSWORD))
            rows.append(Row(stem, note, diagnosed, analyzed, outcomes, seconds))
    return rows


def cell(outcome: Outcome, seconds: float) -> str:
    return f"exit {outcome.code}, {seconds:.1f} s" if outcome.code is not None else f"stopped at {seconds:.1f} s"


def summary(rows: list[Row]) -> str:
    lines = [
        "# Jakarta Mail against the lab: what mailtriage concludes",
        "",
        "Client: tests/clients/JakartaSend.java on Debian's Jakarta Mail 2.0.0 (libjakarta-mail-java),",
        "host `localhost` (127.0.0.1), the lab account and CA, connect timeout 2 s, read timeout 0.8 s,",
        "server identity checked (as Angus Mail does by default) unless a row says otherwise; every run",
        "stopped after 6 s. *plain* is the exception as Java prints it (Test Connectivity's message);",
        "*debug* adds mail.debug output before it. A successful send prints nothing without debug.",
        "Each conclusion is the report's first error finding, else its first finding; `-` is none.",
        "",
        "| scenario | lab reproduces | diagnose | analyze-log plain | analyze-log debug | match plain/debug "
        "| client plain | client debug |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        match = "/".join("yes" if row.analyzed[m] == row.diagnosed else "NO" for m in MODES)
        lines.append(
            f"| {row.scenario} | {row.expected} | {row.diagnosed or '-'} | {row.analyzed['plain'] or '-'} | "
            f"{row.analyzed['debug'] or '-'} | {match} | {cell(row.outcomes['plain'], row.seconds['plain'])} | "
            f"{cell(row.outcomes['debug'], row.seconds['debug'])} |"
        )
    agree = {m: sum(row.analyzed[m] == row.diagnosed for row in rows) for m in MODES}
    lines += [
        "",
        f"analyze-log agrees with diagnose on {agree['plain']} of {len(rows)} plain outputs "
        f"and {agree['debug']} of {len(rows)} debug outputs.",
        "",
        "Servers diagnose tells apart whose client output is the same text, apart from port numbers,",
        "dates, message ids and counters (no reading of that text alone can tell them apart):",
        "",
    ]
    for mode in MODES:
        groups: dict[str, list[Row]] = {}
        for row in rows:
            groups.setdefault(_normalised(row.outcomes[mode].output), []).append(row)
        for group in (g for g in groups.values() if len({row.diagnosed for row in g}) > 1):
            names = ", ".join(f"{row.scenario} ({row.diagnosed or '-'})" for row in group)
            lines.append(f"- {mode}: {names}")
    return "\n".join(lines) + "\n"


_VARYING = [  # what differs between two runs against the same kind of server
    (re.compile(r"(port:? )\d+"), r"\1N"),
    (re.compile(r"^(Date|Message-ID): .*$", re.M), r"\1: X"),
    (re.compile(r"queued as \w+"), "queued as X"),
    (re.compile(r"line \d+"), "line N"),
]


def _normalised(output: str) -> str:
    for pattern, replacement in _VARYING:
        output = pattern.sub(replacement, output)
    return output


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    outdir = Path(argv[0])
    names = argv[1:] or list(lab.SCENARIOS)
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mailtriage-jakarta-") as work:
        os.environ["MAILTRIAGE_CACHE_DIR"] = str(Path(work) / "cache")
        classes = Path(work) / "classes"
        classes.mkdir()
        client = JakartaMail(compile_client(classes))
        rows = []
        for name in names:
            rows.append(capture_lab(client, outdir, name))
            print(f"{name}: diagnose {rows[-1].diagnosed}, analyze-log {rows[-1].analyzed}", file=sys.stderr)
        if "wrong-host" in names:
            rows.append(
                capture_lab(client, outdir, "wrong-host", "wrong-host.library-default", check_server_identity=False)
            )
            rows[-1].expected += " (identity not checked: Jakarta Mail 2.0's default)"
        if len(argv) == 1:
            try:
                rows += capture_postfix(client, outdir)
            except (Exception, pytest.fail.Exception, pytest.skip.Exception) as error:  # no Postfix here
                print(f"no Postfix rows: {error}", file=sys.stderr)
        (outdir / "SUMMARY.md").write_text(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
