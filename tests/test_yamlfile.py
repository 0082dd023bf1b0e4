"""engine.knowledge.yamlfile: YAML that remembers the line of every key and item."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.knowledge.yamlfile import YamlError, load, loads

DOC = """\
# a comment on line 1
id: tcp-connection-refused
description: >-
  folded text
  over two lines
when:
  all:
    - fact: tcp.connect
      equals: refused
    - any:
        - finding: dns.host_not_found
        - fact: config.port
          gt: 65535
cases:
  - name: first
  - name: second
"""


@pytest.fixture
def located():
    return loads(DOC, Path("doc.yaml"))


def test_the_data_is_parsed_as_plain_python(located):
    assert located.data["id"] == "tcp-connection-refused"
    assert located.data["when"]["all"][1]["any"][1]["gt"] == 65535


def test_top_level_keys_carry_their_line(located):
    assert located.lines[("id",)] == 2
    assert located.lines[("description",)] == 3
    assert located.lines[("when",)] == 6
    assert located.lines[("cases",)] == 14


def test_nested_keys_carry_their_own_line(located):
    assert located.lines[("when", "all")] == 7
    assert located.lines[("when", "all", 0, "equals")] == 9
    assert located.lines[("when", "all", 1, "any", 1, "gt")] == 13


def test_sequence_items_carry_the_line_where_the_item_starts(located):
    assert located.lines[("when", "all", 0)] == 8
    assert located.lines[("when", "all", 1)] == 10
    assert located.lines[("when", "all", 1, "any", 0)] == 11
    assert located.lines[("cases", 1)] == 16


def test_line_of_finds_a_deep_path(located):
    assert located.line_of(("when", "all", 1, "any", 1, "fact")) == 12


def test_line_of_a_missing_key_falls_back_to_the_deepest_part_that_exists(located):
    assert located.line_of(("when", "all", 0, "no_such_key")) == 8
    assert located.line_of(("cases", 1, "expect")) == 16
    assert located.line_of(("nothing", "here")) == 1


def test_line_of_skips_parts_that_are_not_in_the_file_such_as_union_tags(located):
    assert located.line_of(("when", "<all>", "all", 0, "<fact>", "equals")) == 9


def test_line_of_the_empty_path_is_the_first_line(located):
    assert located.line_of(()) == 1


def test_an_index_past_the_end_of_a_sequence_points_at_the_sequence(located):
    assert located.line_of(("cases", 5)) == 14


def test_duplicate_keys_are_recorded_with_the_line_of_the_repeat():
    text = "id: a\nwhen:\n  fact: x\n  fact: y\nid: b\n"
    located = loads(text, Path("dup.yaml"))
    assert (("when", "fact"), 4) in located.duplicates
    assert (("id",), 5) in located.duplicates
    assert len(located.duplicates) == 2


def test_a_file_without_duplicates_records_none(located):
    assert located.duplicates == []


def test_the_same_key_in_two_different_mappings_is_not_a_duplicate():
    located = loads("a:\n  name: 1\nb:\n  name: 2\n", Path("x.yaml"))
    assert located.duplicates == []


def test_an_empty_document_has_no_data():
    located = loads("# only a comment\n", Path("empty.yaml"))
    assert located.data is None
    assert located.line_of(("anything",)) == 1


def test_a_bad_indentation_raises_yaml_error_at_the_offending_line():
    text = "a: 1\nb:\n  c: 2\n   d: 3\n"
    with pytest.raises(YamlError) as caught:
        loads(text, Path("bad.yaml"))
    assert caught.value.line == 4
    assert caught.value.message.startswith("YAML syntax:")
    assert "bad.yaml:4:" in str(caught.value)


def test_an_unclosed_flow_sequence_raises_yaml_error_at_the_line_it_breaks():
    with pytest.raises(YamlError) as caught:
        loads("a: 1\nb: [1, 2\nc: 3\n", Path("bad.yaml"))
    assert caught.value.line == 3
    assert "']'" in caught.value.message


def test_a_tab_in_the_indentation_raises_yaml_error_at_its_line():
    with pytest.raises(YamlError) as caught:
        loads("a: 1\n\tb: 2\n", Path("bad.yaml"))
    assert caught.value.line == 2
    assert "tab" in caught.value.message


def test_an_unclosed_quote_is_reported_inside_the_file_at_the_line_where_the_quote_opens():
    # PyYAML's problem mark is the end of the stream (line 4 of a three-line file); the
    # context mark says where the quoted scalar started, which is what a person must fix.
    path = Path("quote.yaml")
    text = 'a: 1\nb: "open\nc: 2\n'
    with pytest.raises(YamlError) as caught:
        loads(text, path)
    assert caught.value.line <= len(text.splitlines())
    assert caught.value.line == 2


def test_two_documents_in_one_file_are_an_error():
    with pytest.raises(YamlError) as caught:
        loads("a: 1\n---\nb: 2\n", Path("two.yaml"))
    assert caught.value.line == 2


def test_load_reads_a_file_and_remembers_its_path(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("x:\n  - 1\n  - 2\n", encoding="utf-8")
    located = load(path)
    assert located.path == path
    assert located.data == {"x": [1, 2]}
    assert located.lines[("x", 1)] == 3


def test_load_raises_yaml_error_naming_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("ok: 1\nbad: [\n", encoding="utf-8")
    with pytest.raises(YamlError) as caught:
        load(path)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}:")
