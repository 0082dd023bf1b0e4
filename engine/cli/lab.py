"""`mailtriage lab`: a local SMTP server with a chosen fault, until interrupted."""

from __future__ import annotations

import argparse
import difflib

from engine.cli import collector
from engine.cli.environment import BadInput, Environment, Exit


def run(args: argparse.Namespace, env: Environment) -> Exit:
    collector.resume()  # a server runs until stopped; it loads no knowledge to end start-up
    from engine import lab

    try:
        lab.require()
    except lab.LabUnavailable as exc:
        raise BadInput(f"lab: {exc}") from None

    if args.list or not args.scenario:
        if not args.list:
            raise BadInput("lab needs a SCENARIO or --list")
        for scenario in lab.SCENARIOS.values():
            env.stdout.write(f"{scenario.name:22} {scenario.expected:34} {scenario.description}\n")
        return Exit.OK
    if args.scenario not in lab.SCENARIOS:
        close = difflib.get_close_matches(args.scenario, list(lab.SCENARIOS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise BadInput(f"lab: unknown scenario '{args.scenario}'{hint}; see 'mailtriage lab --list'")
    if not 0 <= args.port <= 65535:
        raise BadInput(f"lab --port {args.port}: not a TCP port")
    try:
        server = lab.start(args.scenario, args.port)
    except OSError as exc:
        raise BadInput(f"lab: cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}") from None
    with server:
        s = server.scenario
        env.stdout.write(
            f"lab scenario {s.name}: {s.description}\n"
            f"listening on {server.host}:{server.port}; it reproduces {s.expected}\n"
            f"user {lab.LAB_USER}, password in MAILTRIAGE_PASSWORD={lab.LAB_PASSWORD}\n\n"
            f"try: mailtriage diagnose --host {server.host} --port {server.port} --security {s.security} "
            f"--cafile {server.cafile} --user {lab.LAB_USER} --from {lab.LAB_SENDER} --to {lab.LAB_RECIPIENT}\n"
            "Stop with Ctrl-C.\n"
        )
        env.stdout.flush()
        _wait_for_interrupt()
    return Exit.OK


def _wait_for_interrupt() -> None:
    """Block until Ctrl-C or SIGTERM; the lab's servers run in their own thread."""
    import signal
    import threading

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
