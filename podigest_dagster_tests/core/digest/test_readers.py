"""readers.yaml: each entry checked on its own (reported with its line, skipped), and edits that keep the
rest of the file exactly as the user wrote it."""

from __future__ import annotations

import pytest

from podigest_dagster.core.digest.readers import (
    Reader,
    ReadersConfigError,
    add_reader,
    load_readers,
    parse_readers,
    reader_key,
    remove_reader,
)

FILE = """\
# who gets the digest
readers:
  - email: Ann Lee <Ann@Example.com>
    interests: GPU kernels, AI hiring
  - bob@example.com          # a bare address is a reader too
  - email: not an address
  - email: cara@example.com
    intrests: typo
  - email: dan@example.com
    interests: [energy policy, " heat pumps ", energy policy]
    muted_shows: Crypto Hour
  - email: ann@example.com
  - email: eve@example.com
    interests: {gpu: 1}
"""


def test_each_entry_is_checked_on_its_own_and_a_bad_one_is_reported_with_its_line():
    found = parse_readers(FILE, "readers.yaml")
    assert [r.key for r in found.readers] == ["ann@example.com", "bob@example.com", "dan@example.com"]
    ann, bob, dan = found.readers
    assert ann.interests == ("GPU kernels", "AI hiring") and ann.personal and ann.line == 3
    assert not bob.personal
    assert dan.interests == ("energy policy", "heat pumps") and dan.muted_shows == ("Crypto Hour",)
    assert found.problems == [
        "readers.yaml line 6: not an email address: 'not an address'; entry skipped",
        "readers.yaml line 7: unknown key 'intrests' (known: email, name, interests, muted_shows, muted_topics); entry skipped",
        "readers.yaml line 12: ann@example.com is listed twice; entry skipped",
        "readers.yaml line 13: `interests` must be text (comma-separated) or a list of texts; entry skipped",
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [("readers:\n  - email: a@b.org\n   bad: [\n", "line 3"), ("- a@b.org\n", "line 1"), ("readers: 3\n", "line 1")],
)
def test_a_file_that_is_not_a_readers_list_is_one_error_with_its_line(text, where):
    with pytest.raises(ReadersConfigError, match=where):
        parse_readers(text)


def test_no_file_means_no_readers(tmp_path):
    assert load_readers(tmp_path / "readers.yaml").readers == []


def test_the_address_a_reader_is_known_by_ignores_case_and_display_name():
    assert reader_key("Ann Lee <Ann@Example.com>") == "ann@example.com"
    assert Reader("ann@example.com", name="Lee, Ann").address == '"Lee, Ann" <ann@example.com>'


def test_adding_and_removing_readers_keeps_comments_and_every_other_entry_as_written(tmp_path):
    path = tmp_path / "readers.yaml"
    path.write_text(FILE, encoding="utf-8")
    assert add_reader(path, Reader("zoe@example.com", interests=("sleep",))) is True
    text = path.read_text(encoding="utf-8")
    assert text.startswith(FILE) and text.endswith("  - email: zoe@example.com\n    interests: sleep\n")
    assert remove_reader(path, "BOB@example.com") is True
    assert "bob@example.com" not in path.read_text(encoding="utf-8")
    assert "# a bare address" not in path.read_text(encoding="utf-8")
    assert "  - email: not an address\n  - email: cara@example.com\n    intrests: typo\n" in path.read_text(encoding="utf-8")
    assert remove_reader(path, "nobody@example.com") is False
    found = load_readers(path)
    assert [r.key for r in found.readers] == ["ann@example.com", "dan@example.com", "zoe@example.com"]
    assert len(found.problems) == 4


def test_changing_a_reader_replaces_their_entry_where_it_is(tmp_path):
    path = tmp_path / "readers.yaml"
    path.write_text(FILE, encoding="utf-8")
    assert add_reader(path, Reader("dan@example.com", interests=("battery prices",))) is False
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index("  - email: dan@example.com")
    assert lines[at + 1] == "    interests: battery prices" and lines[at + 2] == "  - email: ann@example.com"
    assert load_readers(path).find("dan@example.com").interests == ("battery prices",)


def test_a_new_file_and_a_flow_style_list_are_written_as_readers_lists(tmp_path):
    path = tmp_path / "readers.yaml"
    add_reader(path, Reader("a@example.com"))
    assert path.read_text(encoding="utf-8") == "readers:\n  - email: a@example.com\n"
    path.write_text("readers: [b@example.com, {email: c@example.com}]\n", encoding="utf-8")
    add_reader(path, Reader("d@example.com", muted_topics=("crypto",)))
    assert [r.key for r in load_readers(path).readers] == ["b@example.com", "c@example.com", "d@example.com"]


def test_a_bad_reader_changes_nothing(tmp_path):
    path = tmp_path / "readers.yaml"
    path.write_text(FILE, encoding="utf-8")
    for bad in (Reader("not an address"), Reader("a@example.com", interests=("x" * 101,))):
        with pytest.raises(ValueError):
            add_reader(path, bad)
    assert path.read_text(encoding="utf-8") == FILE
    assert not list(tmp_path.glob(".readers.yaml.*"))
