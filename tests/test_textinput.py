"""engine.inputs.textinput: files or stdin, plain or gzip, any bytes, bounded lines, clear errors."""

from __future__ import annotations

import gzip
import io

import pytest

from engine.inputs.textinput import BLOCK, MAX_LINE, TextInputError, read_blocks

# Every reading test runs with the real block size and with a tiny one, so that lines straddle
# block boundaries and the carrying-over of a partial line is exercised too.
SIZES = [BLOCK, 7]


@pytest.fixture(params=SIZES, ids=["whole-blocks", "7-byte-blocks"])
def size(request) -> int:
    return request.param


def read(source: str, stdin: bytes = b"", size: int = BLOCK) -> list[tuple[str, str]]:
    """(text, origin) per line, decoded and cut as matching sees them."""
    lines = []
    for block in read_blocks(source, io.BytesIO(stdin), size):
        raw_lines = block.data.split(b"\n")
        if block.data.endswith(b"\n"):
            raw_lines.pop()
        for index, raw in enumerate(raw_lines):
            lines.append((raw[:MAX_LINE].decode("utf-8", errors="replace").rstrip("\r"), block.origin(index)))
    return lines


def test_every_block_but_the_last_ends_at_a_line_break(tmp_path):
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(b"line %d of the log\n" % n for n in range(1000)) + b"tail")
    blocks = list(read_blocks(str(log), io.BytesIO(), 64))
    assert len(blocks) > 100
    assert all(b.data.endswith(b"\n") for b in blocks[:-1])
    assert blocks[-1].data == b"tail"
    assert b"".join(b.data for b in blocks) == log.read_bytes()


def test_lines_are_numbered_from_one_with_the_source_name(tmp_path, size):
    log = tmp_path / "app.log"
    log.write_text("first\nsecond\n\nfourth\n")
    assert read(str(log), size=size) == [
        ("first", f"{log}:1"),
        ("second", f"{log}:2"),
        ("", f"{log}:3"),
        ("fourth", f"{log}:4"),
    ]


def test_windows_line_endings_are_removed(tmp_path, size):
    log = tmp_path / "win.log"
    log.write_bytes(b"one\r\ntwo\r\n")
    assert [text for text, _ in read(str(log), size=size)] == ["one", "two"]


def test_a_last_line_without_a_newline_is_read(tmp_path, size):
    log = tmp_path / "tail.log"
    log.write_bytes(b"one\ntwo")
    assert [text for text, _ in read(str(log), size=size)] == ["one", "two"]


def test_an_empty_file_has_no_lines(tmp_path, size):
    log = tmp_path / "empty.log"
    log.write_bytes(b"")
    assert read(str(log), size=size) == []


def test_a_dash_reads_standard_input():
    assert read("-", b"alpha\nbeta\n") == [("alpha", "<stdin>:1"), ("beta", "<stdin>:2")]


def test_a_gzip_file_is_read_transparently(tmp_path, size):
    log = tmp_path / "mail.log.gz"
    log.write_bytes(gzip.compress(b"java.net.ConnectException: Connection refused\nsecond\n"))
    assert read(str(log), size=size) == [
        ("java.net.ConnectException: Connection refused", f"{log}:1"),
        ("second", f"{log}:2"),
    ]


def test_gzip_is_recognised_by_its_content_not_its_name(tmp_path, size):
    log = tmp_path / "mail.txt"
    log.write_bytes(gzip.compress(b"hidden inside\n"))
    assert read(str(log), size=size) == [("hidden inside", f"{log}:1")]


def test_gzip_on_standard_input_is_read_too():
    assert read("-", gzip.compress(b"from a pipe\n")) == [("from a pipe", "<stdin>:1")]


def test_undecodable_bytes_are_replaced_and_the_rest_of_the_line_kept(tmp_path, size):
    log = tmp_path / "latin1.log"
    log.write_bytes("Connexion refusée\n".encode("latin-1") + b"\xff\xfe plain\n")
    lines = [text for text, _ in read(str(log), size=size)]
    assert lines == ["Connexion refus\ufffde", "\ufffd\ufffd plain"]


def test_utf8_text_is_decoded(tmp_path, size):
    log = tmp_path / "utf8.log"
    log.write_text("Verbindung abgelehnt – Größe\n", encoding="utf-8")
    assert read(str(log), size=size) == [("Verbindung abgelehnt – Größe", f"{log}:1")]


def test_an_over_long_line_is_cut_and_the_next_line_keeps_its_number(tmp_path, size):
    log = tmp_path / "long.log"
    log.write_bytes(b"Connection refused " + b"x" * (MAX_LINE * 3) + b"\nnext line\n")
    lines = read(str(log), size=size)
    assert len(lines) == 2
    first, second = lines
    assert first[0].startswith("Connection refused xxx")
    assert len(first[0]) == MAX_LINE
    assert second == ("next line", f"{log}:2")


def test_an_over_long_last_line_without_a_newline_does_not_crash(tmp_path, size):
    log = tmp_path / "long.log"
    log.write_bytes(b"y" * (MAX_LINE * 2 + 17))
    [(text, origin)] = read(str(log), size=size)
    assert len(text) == MAX_LINE
    assert origin == f"{log}:1"


def test_a_line_of_exactly_the_limit_is_kept_whole(tmp_path, size):
    log = tmp_path / "edge.log"
    log.write_bytes(b"z" * MAX_LINE + b"\nafter\n")
    assert [(len(text), origin) for text, origin in read(str(log), size=size)] == [
        (MAX_LINE, f"{log}:1"),
        (5, f"{log}:2"),
    ]


def test_a_missing_file_is_a_text_input_error_naming_it(tmp_path):
    missing = tmp_path / "nope.log"
    with pytest.raises(TextInputError) as caught:
        read(str(missing))
    assert str(caught.value).startswith(f"cannot read {missing}:")


def test_a_directory_is_a_text_input_error(tmp_path):
    with pytest.raises(TextInputError) as caught:
        read(str(tmp_path))
    assert str(tmp_path) in str(caught.value)


def test_a_truncated_gzip_file_is_a_text_input_error(tmp_path):
    log = tmp_path / "cut.gz"
    data = gzip.compress(b"hello world\n" * 500)
    log.write_bytes(data[: len(data) // 2])
    with pytest.raises(TextInputError) as caught:
        read(str(log))
    assert str(log) in str(caught.value)


def test_a_gzip_file_with_corrupt_compressed_data_is_a_text_input_error(tmp_path):
    log = tmp_path / "corrupt.gz"
    data = bytearray(gzip.compress(b"hello\nworld\n" * 100))
    data[10] ^= 0xFF  # first byte of the deflate stream: "invalid code lengths set"
    log.write_bytes(bytes(data))
    with pytest.raises(TextInputError) as caught:
        read(str(log))
    assert str(log) in str(caught.value)


def test_the_cli_reports_a_corrupt_gzip_log_as_bad_input(cli, tmp_path):
    log = tmp_path / "corrupt.gz"
    data = bytearray(gzip.compress(b"hello\nworld\n" * 100))
    data[10] ^= 0xFF
    log.write_bytes(bytes(data))
    result = cli("analyze-log", str(log), "--non-interactive")
    assert result.code == 2, result.err
    assert "cannot read" in result.err and str(log) in result.err


def test_the_cli_reports_a_missing_log_as_bad_input(cli, tmp_path):
    result = cli("analyze-log", str(tmp_path / "nope.log"), "--non-interactive")
    assert result.code == 2
    assert result.err.startswith("mailtriage: cannot read")
    assert "Traceback" not in result.err
