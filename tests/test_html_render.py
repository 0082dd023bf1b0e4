"""The HTML report as a browser shows it: headless Chromium renders it to a PNG that is not blank,
and the DOM it builds holds the verdict and the findings.

(Chromium is kept off every network but loopback: see tests/browser.py.)
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib

import pytest

from tests.browser import OPT_OUT, browse


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        problem = "Chromium is not installed; `make test` installs Debian's chromium as root"
        if os.environ.get(OPT_OUT) == "1":
            pytest.skip(f"{problem} ({OPT_OUT}=1 says this machine cannot have it)")
        pytest.fail(f"{problem}; or set {OPT_OUT}=1 to skip this test deliberately", pytrace=False)
    return found


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6), (depth, colour)
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def test_chromium_renders_the_html_report_with_its_verdict_and_findings(cli, chromium, tmp_path, closed_port):
    report = tmp_path / "report.html"
    run = cli("diagnose", "--host", "127.0.0.1", "--port", str(closed_port), "--timeout", "1", "--output", str(report))
    assert run.code == 1 and report.is_file(), run.err

    dom = browse(chromium, tmp_path / "profile-dom", "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr[-500:]
    page = dom.stdout.decode("utf-8")
    assert "Verdict:" in page and "1 problem that stops email from being sent" in page
    assert "network.connection_refused" in page and '<svg class="waterfall"' in page

    picture = tmp_path / "report.png"
    shot = browse(
        chromium, tmp_path / "profile-png", f"--screenshot={picture}", "--window-size=1000,1400", report.as_uri()
    )
    assert shot.returncode == 0 and picture.is_file(), shot.stderr[-500:]
    width, height, rows = png_pixels(picture.read_bytes())
    assert (width, height) == (1000, 1400)
    # Not blank: many pixels differ from the page's background, the top-left one.
    bpp = len(rows[0]) // width
    background = rows[0][:bpp]
    inked = sum(1 for row in rows for x in range(0, len(row), bpp) if row[x : x + bpp] != background)
    assert inked > width * height // 100, inked
