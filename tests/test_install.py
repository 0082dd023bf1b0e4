"""The wheel carries knowledge/ and reports/, and works from outside the repository."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_every_knowledge_file_and_template(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in (REPO / "knowledge").rglob("*.yaml"):
        assert f"engine/_data/knowledge/{path.relative_to(REPO / 'knowledge').as_posix()}" in names
    for path in (REPO / "reports").glob("*.j2"):
        assert f"engine/_data/reports/{path.name}" in names
    for path in (REPO / "engine" / "schemas").glob("*.json"):
        assert f"engine/schemas/{path.name}" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_the_lab_s_servers_come_only_with_the_lab_extra_which_the_test_extra_includes(wheel: Path):
    archive = zipfile.ZipFile(wheel)
    (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    requires = [
        line.removeprefix("Requires-Dist: ")
        for line in archive.read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    for package in ("aiosmtpd", "trustme"):
        markers = {r.partition(";")[2].strip() for r in requires if r.startswith(package)}
        assert "extra == 'lab'" in markers
        assert all(marker.startswith("extra == ") for marker in markers), markers  # never required outright
        # The build backend may spell the test extra's "mailtriage[lab]" out package by package.
        assert "extra == 'test'" in markers or "mailtriage[lab]; extra == 'test'" in requires


def test_the_installed_wheel_diagnoses_from_outside_the_repository(wheel: Path, tmp_path: Path):
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(target))
    lint = subprocess.run(
        [sys.executable, "-m", "engine", "knowledge", "lint"],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        timeout=60,
    )
    assert lint.returncode == 0, lint.stderr
    # The knowledge came from the installed copy, not from the source checkout.
    assert str(target) in lint.stdout
    run = subprocess.run(
        [sys.executable, "-m", "engine", "analyze-log", "-", "--format", "md", "--non-interactive"],
        input="java.net.UnknownHostException: smtp.example.invalid\n",
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
        timeout=60,
    )
    assert run.returncode == 1, run.stderr
    assert "dns.host_not_found" in run.stdout
    schema = subprocess.run(
        [sys.executable, "-m", "engine", "schema", "report"], capture_output=True, text=True, cwd=elsewhere, env=env
    )
    assert schema.returncode == 0 and '"mailtriage.report/1"' in schema.stdout, schema.stderr
