"""`podigest run` on a day whose run fails: exit code 3 and one line naming the failed step and its reason
(the default output, -q and the re-runs of a done day are tested on the demo day in test_demo.py)."""

from __future__ import annotations

import contextlib
import io

from podigest_dagster import settings
from podigest_dagster.cli import EXIT_RUN_FAILED, main
from podigest_dagster.core.ingest.feeds_config import FeedSpec, save_feeds

DAY = "2026-11-10"


def podigest(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_a_run_whose_transcripts_fail_exits_3_naming_the_step(podigest_home, http_server):
    missing = http_server.url("/gone.mp3")
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Gone</title><item><title>Lost</title>'
        f'<guid>lost-1</guid><pubDate>Tue, 10 Nov 2026 08:00:00 +0000</pubDate>'
        f'<enclosure url="{missing}" type="audio/mpeg" length="4000"/></item></channel></rss>'
    )
    save_feeds(settings.feeds_file(), [FeedSpec(url=http_server.add("/f.xml", feed), name="Gone")])
    code, out, err = podigest("-q", "run", "--date", DAY)
    assert code == EXIT_RUN_FAILED
    last = err.strip().splitlines()[-1]
    assert last.startswith("podigest: error: run ") and "failed at transcripts" in last
    assert "transcripts_failure_share" in last
    assert out == ""
