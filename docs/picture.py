"""Draw the README's picture of the HTML report: a real diagnosis of the demo's lab server,
rendered by headless Chromium. Run by `make picture`; the PNG is committed as docs/html-report.png."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from engine import lab
from tests.browser import browse

ROOT = Path(__file__).resolve().parent.parent
PICTURE = ROOT / "docs" / "html-report.png"
SIZE = "1000,2300"


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is not installed: `make chromium` installs Debian's as root", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="mailtriage-picture-") as work, lab.start("bad-password") as server:
        report, answers = Path(work) / "report.html", Path(work) / "answers.yaml"
        answers.write_text("deployment: on_premises\ncredentials_web_signin: 'yes'\n", encoding="utf-8")
        diagnose = [
            *(sys.executable, "-m", "engine", "diagnose"),
            *("--host", server.host, "--port", str(server.port), "--security", "starttls"),
            *("--cafile", str(server.cafile), "--user", lab.LAB_USER, "--password-env", "LAB_PASSWORD"),
            *("--from", lab.LAB_SENDER, "--to", lab.LAB_RECIPIENT, "--answers", str(answers)),
            *("--non-interactive", "--timeout", "5", "--output", str(report)),
        ]
        env = {**os.environ, "LAB_PASSWORD": "not-the-right-one"}
        run = subprocess.run(diagnose, env=env, capture_output=True, text=True, check=False)
        if run.returncode != 1 or not report.is_file():
            print(f"the diagnosis did not find the lab's fault: {run.stderr.strip()}", file=sys.stderr)
            return 2
        shot = browse(
            chromium, Path(work) / "profile", f"--screenshot={PICTURE}", f"--window-size={SIZE}", report.as_uri()
        )
    if shot.returncode != 0 or not PICTURE.is_file():
        print(f"chromium drew no picture: {shot.stderr.decode(errors='replace')[-300:]}", file=sys.stderr)
        return 2
    print(f"wrote {PICTURE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
