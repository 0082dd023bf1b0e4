"""A large application log with a few real errors buried in it: mailtriage analyze-log vs grep.

All read the same generated file in the same run. grep runs twice: with the same pattern set
as mailtriage (the shipped signatures, translated to POSIX ERE), and with a short list of 24
email-error patterns such as an administrator would grep for (the fast peer: GNU grep reduces
it to a few literal searches). Prints each median, the ratios, and mailtriage's peak memory;
it asserts nothing.

    .venv/bin/python benchmarks/bench_logs.py [--megabytes 200] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.knowledge.load import load_knowledge
from engine.text.multimatch import available

BURIED = [
    "javax.mail.AuthenticationFailedException: 535 5.7.8 Error: authentication failed",
    "java.net.UnknownHostException: smtp.example.invalid",
    "com.sun.mail.util.MailConnectException: Couldn't connect to host, port: smtp.example.com, 25; timeout -1;",
    "java.net.ConnectException: Connection refused (Connection refused)",
    "javax.net.ssl.SSLHandshakeException: PKIX path building failed",
]
# What a person greps an application log for when mail fails: short, mostly literal.
SHORT_PATTERNS = [
    "AuthenticationFailedException",
    "MessagingException",
    "MailConnectException",
    "SendFailedException",
    "UnknownHostException",
    "SSLHandshakeException",
    "Connection refused",
    "Connection timed out",
    "connect timed out",
    "Could not connect to SMTP host",
    "authentication failed",
    "Authentication unsuccessful",
    "5[0-9][0-9] 5\\.[0-9]\\.[0-9]",
    "4[0-9][0-9] 4\\.[0-9]\\.[0-9]",
    "Relay access denied",
    "Sender address rejected",
    "Recipient address rejected",
    "Mailbox unavailable",
    "PKIX path building failed",
    "certificate verify failed",
    "STARTTLS",
    "SMTPException",
    "smtplib\\.SMTP",
    "Invalid login",
]
NOISE = [
    "{ts} INFO  [http-nio-8080-exec-{n}] c.e.app.OrderService - order {n} processed in {ms} ms",
    "{ts} DEBUG [pool-{n}-thread-1] c.e.app.cache.Store - cache hit ratio 0.{ms}",
    "{ts} WARN  [scheduler-1] c.e.app.Jobs - job nightly-{n} ran {ms} ms late",
    "\tat com.example.app.service.Handler.process(Handler.java:{n})",
    "{ts} INFO  [main] o.s.web.servlet.DispatcherServlet - Completed initialization in {ms} ms",
]


def generate(path: Path, megabytes: int) -> int:
    """Write the log; return how many error lines were buried in it."""
    rng = random.Random(7)
    target = megabytes * 1024 * 1024
    buried = 0
    with path.open("w", encoding="utf-8") as out:
        written = 0
        while written < target:
            block = []
            for _ in range(2000):
                line = rng.choice(NOISE).format(
                    ts="2026-11-28 10:15:42,123", n=rng.randint(1, 9999), ms=rng.randint(1, 999)
                )
                block.append(line)
            if rng.random() < 0.02:
                block.append(rng.choice(BURIED))
                buried += 1
            text = "\n".join(block) + "\n"
            out.write(text)
            written += len(text)
    return buried


_CLASS_ESCAPES = {"d": "0-9", "s": "[:space:]", "w": "[:alnum:]_"}
_ESCAPES = {"d": "[0-9]", "s": "[[:space:]]", "S": "[^[:space:]]", "w": "[[:alnum:]_]"}


def _bracket(body: str, ignore_case: bool) -> tuple[str, int]:
    """Translate a character class starting after '['; return ERE text and characters used."""
    i, negate, close_bracket, dash, parts = 0, False, False, False, []
    if body.startswith("^"):
        negate, i = True, 1
    while i < len(body) and body[i] != "]":
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "rn":
                pass  # grep reads line by line: a line never holds CR or LF
            elif nxt == "t":
                parts.append("\t")
            elif nxt == "]":
                close_bracket = True
            elif nxt == "-":
                dash = True
            elif nxt in _CLASS_ESCAPES:
                parts.append(_CLASS_ESCAPES[nxt])
            else:
                parts.append(nxt)
            i += 2
            continue
        if ignore_case and c.isascii() and c.isalpha():
            parts.append(c.lower() + c.upper())
        else:
            parts.append(c)
        i += 1
    if not (parts or close_bracket or dash):  # only CR/LF were in it: [^\r\n] is any character
        return ("." if negate else "(x^)"), i + 1
    # POSIX brackets take no escapes: ']' must come first and '-' last.
    text = "[" + ("^" if negate else "") + ("]" if close_bracket else "") + "".join(parts) + ("-" if dash else "") + "]"
    return text, i + 1


_BOUNDED = re.compile(r"\{0,\d+\}")


def to_ere(pattern: str, ignore_case: bool) -> str:
    """Python regex -> POSIX ERE for GNU grep, for the constructs the signatures use.

    Bounded repeats like [^\r\n]{0,200} become '*': GNU grep expands each bound into its
    automaton, and 135 such patterns ran for over 14 minutes on 200 MB (1.5 GB of memory).
    '*' matches the same lines and more, so grep does no less work than it should.
    """
    return _BOUNDED.sub("*", _translate(pattern, ignore_case))


def _translate(pattern: str, ignore_case: bool) -> str:
    if pattern.startswith("(?i)"):
        pattern, ignore_case = pattern[4:], True
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append(_ESCAPES.get(nxt) or pattern[i : i + 2])
            i += 2
        elif pattern.startswith(("(?<!", "(?<=", "(?!", "(?="), i):
            # ERE has no lookaround; dropping it matches a superset, which is fair to grep.
            depth, j = 0, i
            while j < len(pattern):
                if pattern[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(pattern[j], 0)
                j += 1
                if depth == 0:
                    break
            i = j
        elif c == "?" and out and out[-1] and out[-1][-1] in "}*+?":
            i += 1  # a lazy quantifier: ERE has none, and greedy finds the same lines
        elif pattern.startswith("(?P<", i):
            i = pattern.index(">", i) + 1
            out.append("(")
        elif pattern.startswith("(?:", i):
            out.append("(")
            i += 3
        elif c == "[":
            text, used = _bracket(pattern[i + 1 :], ignore_case)
            out.append(text)
            i += 1 + used
        else:
            out.append(f"[{c.lower()}{c.upper()}]" if ignore_case and c.isascii() and c.isalpha() else c)
            i += 1
    return "".join(out)


def timed(argv: list[str]) -> tuple[float, str, float]:
    """Wall time, standard output, and this child's own peak memory in MB."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4 above
        if proc.returncode not in (0, 1):  # grep -c: 1 means no line matched; 2 is an error
            raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.read().decode()[-300:]}")
        out.seek(0)
        return elapsed, out.read().decode(), usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    kb = load_knowledge()
    with tempfile.TemporaryDirectory() as tmp:
        log, patterns, short = Path(tmp) / "app.log", Path(tmp) / "patterns.txt", Path(tmp) / "short.txt"
        buried = generate(log, args.megabytes)
        ere = [to_ere(s.pattern, s.ignore_case) for s in kb.signatures.values()]
        patterns.write_text("\n".join(ere) + "\n", encoding="utf-8")
        for p in ere:
            re.compile(p.replace("[[:space:]]", r"\s").replace("[[:alnum:]_]", r"\w"))  # sanity: still a regex
        short.write_text("\n".join(SHORT_PATTERNS) + "\n", encoding="utf-8")
        grep = ["grep", "-E", "-c", "-f", str(patterns), str(log)]
        grep_short = ["grep", "-E", "-c", "-f", str(short), str(log)]
        mailtriage = [sys.executable, "-m", "engine", "analyze-log", str(log), "--format", "json", "--non-interactive"]
        times: dict[str, list[float]] = {"grep": [], "grep, short list": [], "mailtriage": []}
        grep_count, short_count, report, peak_mb = "", "", "{}", 0.0
        for _ in range(args.runs):
            elapsed, grep_count, _ = timed(grep)
            times["grep"].append(elapsed)
            elapsed, short_count, _ = timed(grep_short)
            times["grep, short list"].append(elapsed)
            elapsed, report, rss = timed(mailtriage)
            times["mailtriage"].append(elapsed)
            peak_mb = max(peak_mb, rss)
    medians = {k: statistics.median(v) for k, v in times.items()}
    matched = {f["name"]: f["value"] for f in json.loads(report)["facts"]}.get("log.matched")
    print(f"{args.megabytes} MB log, {buried} error lines buried, {len(ere)} patterns, {args.runs} runs (median s)")
    print(f"  grep -E -c, {len(ere)} patterns   {medians['grep']:7.2f} s   ({grep_count.strip()} matching lines)")
    print(
        f"  grep -E -c, {len(SHORT_PATTERNS)} patterns    {medians['grep, short list']:7.2f} s   "
        f"({short_count.strip()} matching lines)"
    )
    finder = available()[0]
    print(f"  mailtriage             {medians['mailtriage']:7.2f} s   ({matched} matching lines; finder: {finder})")
    print(f"  mailtriage / grep, same patterns = {medians['mailtriage'] / medians['grep']:.2f}x")
    short_ratio = medians["mailtriage"] / medians["grep, short list"]
    print(f"  mailtriage / grep, short list    = {short_ratio:.2f}x  (target <= 3x, aim 2x)")
    print(f"  mailtriage peak memory: {peak_mb:.0f} MB (target < 100 MB)")


if __name__ == "__main__":
    main()
