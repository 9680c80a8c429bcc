"""Digest files: a killed write leaves only a temp file, and the next write clears it; stored renderings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from podigest_dagster.core.digest.render import Digest, DigestItem, Source, render_all
from podigest_dagster.core.digest.store import (
    load_rendering,
    remove_stale_temp_files,
    save_digest,
    write_atomic,
)
from podigest_dagster.warehouse.db import read_connection, write_connection


def test_temp_files_of_a_killed_write_are_cleared_and_never_taken_as_final(tmp_path):
    (tmp_path / ".2026-11-27.html.abc123.tmp").write_text("<p>half")
    (tmp_path / ".2026-11-26.html.zzz.tmp").write_text("other day")
    write_atomic(tmp_path / "2026-11-27.html", "<p>old</p>")
    assert remove_stale_temp_files(tmp_path, "2026-11-27") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".2026-11-26.html.zzz.tmp", "2026-11-27.html"]
    assert (tmp_path / "2026-11-27.html").read_text() == "<p>old</p>"


def test_a_stored_rendering_comes_back_in_each_format_and_an_unknown_format_is_refused(tmp_path):
    db_path = tmp_path / "warehouse.duckdb"
    item = DigestItem(1, "Caches beat clever code, because memory is cheap.", 2, [Source("Show", "Ep", None, 3.0)])
    digest = Digest("2024-03-05", [item])
    rendered = render_all(digest)
    with write_connection(db_path) as conn:
        save_digest(conn, digest, rendered, datetime.now(UTC))
    with read_connection(db_path) as conn:
        assert load_rendering(conn, "2024-03-05", "markdown") == rendered.markdown
        assert load_rendering(conn, "2024-03-05", "html") == rendered.html
        assert load_rendering(conn, "2024-03-04", "text") is None
        with pytest.raises(ValueError, match="unknown digest format"):
            load_rendering(conn, "2024-03-05", "html FROM digests; --")
