"""Headless Chromium kept off every network but loopback, for the HTML rendering test and the
README's picture of the report.

No background services, a dead loopback proxy and a resolver that answers nothing, so opening a
local file sends nothing outside. (Its IPv6 reachability check connects a UDP socket to a public
address, which only asks the kernel for a route and sends no packet: checked with strace, no data
goes to that socket.)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

OPT_OUT = "MAILTRIAGE_NO_CHROMIUM"
ISOLATED = [
    "--headless=new",
    "--no-sandbox",  # the tests run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--disable-extensions",
    "--metrics-recording-only",
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


def browse(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [chromium, *ISOLATED, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, timeout=120, check=False)
