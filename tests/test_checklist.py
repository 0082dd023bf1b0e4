"""The live checklist of probe steps: on a watched terminal only, colour only without NO_COLOR."""

from __future__ import annotations

import io

from engine.cli.checklist import checklist, for_terminal
from engine.probes import ProbeResult
from engine.redact import Redactor


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_is_shown_when_stderr_is_a_file_or_a_pipe():
    assert for_terminal(io.StringIO(), {}, Redactor()) is None


def test_each_step_is_a_line_with_its_status_and_time():
    screen = Terminal()
    show = for_terminal(screen, {"NO_COLOR": "1"}, Redactor())
    assert show is not None
    show(ProbeResult("tcp", "ok", 0.42, "connected to 127.0.0.1:587"))
    show(ProbeResult("auth", "fail", 12.0, "535 5.7.8 Authentication failed"))
    assert screen.getvalue().splitlines() == [
        "  ✓ tcp        ok           0.4 ms  connected to 127.0.0.1:587",
        "  ✗ auth       fail        12.0 ms  535 5.7.8 Authentication failed",
    ]


def test_colour_marks_the_status_unless_no_color_is_set():
    coloured, plain = Terminal(), Terminal()
    for screen, environ in ((coloured, {}), (plain, {"NO_COLOR": ""})):
        show = for_terminal(screen, environ, Redactor())
        assert show is not None
        show(ProbeResult("dns", "skipped", 0.0, "an IP address"))
    assert "\x1b[2m-\x1b[0m" in coloured.getvalue()
    assert "\x1b[" not in plain.getvalue()


def test_a_step_detail_is_redacted_and_cannot_drive_the_terminal():
    screen = Terminal()
    checklist(screen, colour=False, redact=Redactor(["s3cret"]))(
        ProbeResult("greeting", "fail", 1.0, "554 s3cret \x1b]0;pwned\x07 go away")
    )
    shown = screen.getvalue()
    assert "s3cret" not in shown and "\x1b]" not in shown and "\x07" not in shown
