"""Digest files: a killed write leaves only a temp file, and the next write clears it."""

from __future__ import annotations

from podigest_dagster.core.digest_store import remove_stale_temp_files, write_atomic


def test_temp_files_of_a_killed_write_are_cleared_and_never_taken_as_final(tmp_path):
    (tmp_path / ".2026-11-27.html.abc123.tmp").write_text("<p>half")
    (tmp_path / ".2026-11-26.html.zzz.tmp").write_text("other day")
    write_atomic(tmp_path / "2026-11-27.html", "<p>old</p>")
    assert remove_stale_temp_files(tmp_path, "2026-11-27") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".2026-11-26.html.zzz.tmp", "2026-11-27.html"]
    assert (tmp_path / "2026-11-27.html").read_text() == "<p>old</p>"
