"""Rendering: every format escapes hostile text, links to the exact moment, names who said it and the
other shows that covered the story, and JSON keeps the contract."""

from __future__ import annotations

import json
import tomllib
from fnmatch import fnmatch
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from markdown_it import MarkdownIt

from podigest_dagster.core.digest import quality, render
from podigest_dagster.core.digest.render import (
    DIGEST_TEMPLATE,
    NO_INSIGHTS,
    Digest,
    DigestItem,
    Source,
    format_timestamp,
    render_html,
    render_json,
    render_markdown,
    render_page,
    render_text,
    safe_url,
    sources_from_json,
    templates,
)
from podigest_dagster.core.text.display import md_cell

HOSTILE = '<script>alert(1)</script> "; DROP TABLE x; -- *bold* [x](javascript:alert(2)) café ü'


def _digest() -> Digest:
    return Digest(
        date="2024-03-05",
        items=[
            DigestItem(
                rank=1,
                insight="Kernel engineers are the scarcest hires in AI labs.",
                support=2,
                sources=[
                    Source(
                        "Latent Talk", "Ep 12: Kernels", "https://pod.example/ep12.mp3#t=723", 723.4, 740.0
                    ),
                    Source("Systems Hour", "Hiring", "https://pod.example/sys.mp3#t=12", 12.3, 30.0),
                ],
            ),
            DigestItem(
                rank=2,
                insight=HOSTILE,
                support=1,
                sources=[Source('<b onmouseover="x">Evil</b> Show', "Ep <1>", "javascript:alert(3)", 3723.0)],
            ),
        ],
    )


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []
        self.attrs_seen: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs_seen.extend(name for name, _ in attrs)
        self.hrefs.extend(value for name, value in attrs if name == "href")

    def handle_data(self, data):
        self.text.append(data)


def _parse_html(markup: str) -> _Collector:
    collector = _Collector()
    collector.feed(markup)
    return collector


def test_timestamps_read_like_a_player_clock():
    assert format_timestamp(12.3) == "0:12"
    assert format_timestamp(723.4) == "12:03"
    assert format_timestamp(3723.0) == "1:02:03"
    assert format_timestamp(None) is None


def test_only_http_and_https_urls_survive():
    assert safe_url("https://a.example/x?y=1#t=3") == "https://a.example/x?y=1#t=3"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,<script>") is None
    assert safe_url("file:///etc/passwd") is None
    assert safe_url("https://a.example/x\nBcc: y") is None


def test_markdown_links_each_source_to_its_moment():
    md = render_markdown(_digest())
    assert "[Latent Talk — Ep 12: Kernels @ 12:03](https://pod.example/ep12.mp3#t=723)" in md
    assert md.index("Kernel engineers") < md.index("alert")


def test_markdown_escapes_hostile_text_so_no_html_or_link_is_injected():
    rendered = MarkdownIt("commonmark").render(render_markdown(_digest()))
    tags = _parse_html(rendered)
    assert "script" not in tags.tags and "b" not in tags.tags
    assert all(href.startswith("https://") for href in tags.hrefs)
    assert HOSTILE.replace("  ", " ") in "".join(tags.text)
    assert "Evil" in "".join(tags.text)


def test_html_escapes_every_piece_of_text_and_drops_unsafe_links():
    markup = render_html(_digest())
    parsed = _parse_html(markup)
    assert "script" not in parsed.tags
    assert "onmouseover" not in parsed.attrs_seen
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "&quot;; DROP TABLE x; --" in markup
    assert parsed.hrefs == ["https://pod.example/ep12.mp3#t=723", "https://pod.example/sys.mp3#t=12"]
    assert "Ep &lt;1&gt; @ 1:02:03" in markup
    assert "café ü" in "".join(parsed.text)


def test_html_is_email_safe_inline_styles_only():
    markup = render_html(_digest())
    parsed = _parse_html(markup)
    assert "style" not in parsed.tags and "link" not in parsed.tags and "script" not in parsed.tags
    assert "table" in parsed.tags
    assert 'style="' in markup
    assert "http" not in markup.replace("https://pod.example", "")


def test_plain_text_lists_insights_with_moment_links():
    text = render_text(_digest())
    assert text.startswith("podigest — top insights for 2024-03-05")
    assert "1. Kernel engineers are the scarcest hires in AI labs." in text
    assert "Latent Talk — Ep 12: Kernels @ 12:03: https://pod.example/ep12.mp3#t=723" in text
    assert "javascript:alert(3)" not in text


def test_json_has_exactly_the_contract_shape():
    data = json.loads(render_json(_digest()))
    assert set(data) == {"date", "items"}
    assert data["date"] == "2024-03-05"
    first = data["items"][0]
    assert set(first) == {"rank", "topic", "insight", "speaker", "support", "sources", "coverage"}
    assert (first["rank"], first["support"], first["speaker"], first["coverage"]) == (1, 2, "", [])
    assert set(first["sources"][0]) == {"podcast", "episode", "url", "start_s"}
    assert first["sources"][0]["start_s"] == 723.4
    assert data["items"][1]["insight"] == HOSTILE


def test_an_empty_day_says_there_are_no_insights_in_every_format():
    empty = Digest(date="2024-03-06")
    for rendered in (render_markdown(empty), render_html(empty), render_text(empty)):
        assert NO_INSIGHTS in rendered
    assert json.loads(render_json(empty)) == {"date": "2024-03-06", "items": []}


def test_control_and_bidi_characters_never_reach_a_rendering():
    digest = Digest(
        "2024-03-05", [DigestItem(1, "tricky\x1b[31m red\u202e txet", 1, [Source("S", "E", None, 1.0)])]
    )
    for rendered in (render_markdown(digest), render_html(digest), render_text(digest)):
        assert "\x1b" not in rendered and "\u202e" not in rendered


def test_sources_json_from_top_insights_is_parsed_leniently():
    raw = json.dumps(
        [
            {
                "podcast": "P",
                "episode": "E",
                "episode_id": "e1",
                "url": "https://x.example/a",
                "start_s": 5,
                "end_s": 9,
            },
            "not an object",
            {"podcast": "Q", "episode": "F", "url": None, "start_s": None},
        ]
    )
    sources = sources_from_json(raw)
    assert [s.podcast for s in sources] == ["P", "Q"]
    assert sources[0].start_s == 5.0 and sources[1].start_s is None


def test_quality_rules_catch_repeats_and_untraceable_items_but_accept_an_untimed_episode():
    digest = Digest(
        "2024-03-05",
        [
            DigestItem(1, "Kernel engineers are the scarcest hires.", 1, [Source("A", "a", None, 3.0)]),
            DigestItem(2, "KERNEL engineers are the scarcest hires!", 1, [Source("B", "b", None, None)]),
            DigestItem(3, "Enterprises need forward-deployed engineers to adopt models.", 1, []),
            DigestItem(4, "Batteries got ninety percent cheaper in a decade.", 1, [Source("C", "", None, None)]),
        ],
    )
    assert quality.alike_pairs(digest) == [(1, 2)]
    # 2 cites its episode without a time (its transcript had none): traceable, never an invented time.
    assert quality.untraceable_ranks(digest) == [3, 4]
    assert quality.item_count_ok(digest)
    assert not quality.item_count_ok(Digest("2024-03-05"))


CELL_ATTACKS = "see ![x](http://t/p.png) and [a](javascript:x) | <img src=x onerror=y> **loud** `code`"


def test_table_cells_render_images_links_and_html_as_inert_text():
    table = f"| col | other |\n|---|---|\n| {md_cell(CELL_ATTACKS)} | {md_cell('fine')} |\n"
    tags = _parse_html(MarkdownIt("commonmark").enable("table").render(table))
    assert not {"img", "a", "strong", "code"} & set(tags.tags)
    assert tags.tags.count("td") == 2 and not tags.hrefs
    assert " ".join(CELL_ATTACKS.split()) in "".join(tags.text)


def test_a_long_cell_is_cut_before_escaping_and_stays_on_one_line():
    cell = md_cell("word\n" * 100 + "[tail](javascript:x)", limit=40)
    assert "\n" not in cell and cell.endswith("…") and len(cell) == 40


def test_html_comes_from_a_packaged_template_that_autoescapes_every_value():
    env = templates()
    assert env.autoescape is True
    source, filename, _ = env.loader.get_source(env, DIGEST_TEMPLATE)
    assert "{{ item.insight }}" in source and "{{ source.url }}" in source
    pyproject = tomllib.loads((Path(__file__).parents[3] / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["podigest_dagster"]
    package = Path(render.__file__).parents[2]
    assert any(fnmatch(Path(filename).relative_to(package).as_posix(), glob) for glob in globs)


def test_a_template_escapes_what_it_is_given_and_refuses_a_value_it_was_not_given():
    digest = Digest("2024-03-05", [DigestItem(1, "x", 1, [Source(HOSTILE, "e", None, 1.0)])])
    markup = render_html(digest)
    assert "<script>" not in markup and "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    with pytest.raises(UndefinedError):
        render_page(DIGEST_TEMPLATE, title="t", items=[])


def test_html_has_no_external_resource_or_script_whatever_the_input():
    markup = render_html(_digest())
    parsed = _parse_html(markup)
    assert not {"script", "style", "link", "img", "iframe", "object", "form"} & set(parsed.tags)
    assert "src" not in parsed.attrs_seen and not any(a.startswith("on") for a in parsed.attrs_seen)
    assert markup.startswith("<!DOCTYPE html>\n") and markup.endswith("</html>\n")


# --- who said it, and the other shows that covered the story -------------------------------------------

LENNY = Source("Lenny's Podcast", "Hiring in AI", "https://pod.example/lenny.mp3#t=723", 723.4, 740.0, "lenny-1")
COVERAGE = [
    Source("Show A", "The talent war", "https://pod.example/a.mp3#t=2700", 2700.0, 2710.0, "a-1"),
    Source("Show B", "Labs", "https://pod.example/b.mp3#t=3730", 3730.0, 3741.0, "b-1"),
]


def _covered(speaker: str = "Lenny Rachitsky", coverage: list[Source] | None = None) -> Digest:
    story = DigestItem(1, "Kernel engineers are the scarcest hires in AI labs.", 3, [LENNY], topic="AI hiring",
                       speaker=speaker, coverage=COVERAGE if coverage is None else coverage)  # fmt: skip
    alone = DigestItem(2, "Batteries got ninety percent cheaper in a decade.", 1,
                       [Source("Grid Talk", "Storage", "https://pod.example/g.mp3#t=5", 5.0)])  # fmt: skip
    return Digest("2024-03-05", [story, alone])


def _md_html(digest: Digest) -> str:
    return MarkdownIt("commonmark").render(render_markdown(digest))


def test_the_speaker_line_reads_name_comma_show_in_every_format():
    digest = _covered()
    assert render.speaker_line(digest.items[0]) == "Lenny Rachitsky, Lenny's Podcast"
    for rendered in (render_markdown(digest), render_text(digest), render_html(digest).replace("&#x27;", "'")):
        assert "Lenny Rachitsky, Lenny's Podcast" in rendered
    text = render_text(digest).splitlines()
    assert text[text.index("1. AI HIRING: Kernel engineers are the scarcest hires in AI labs.") + 1] == (
        "   — Lenny Rachitsky, Lenny's Podcast"
    )
    assert json.loads(render_json(digest))["items"][0]["speaker"] == "Lenny Rachitsky"


def test_an_item_with_coverage_says_also_discussed_on_with_each_shows_timed_link_in_every_format():
    digest = _covered()
    text = render_text(digest)
    assert "   Covered by 3 shows\n" in text
    assert (
        "   Also discussed on: Show A @ 45:00 (https://pod.example/a.mp3#t=2700), "
        "Show B @ 1:02:10 (https://pod.example/b.mp3#t=3730)"
    ) in text
    md = render_markdown(digest)
    assert (
        "Also discussed on: [Show A @ 45:00](https://pod.example/a.mp3#t=2700), "
        "[Show B @ 1:02:10](https://pod.example/b.mp3#t=3730)"
    ) in md
    rendered_md = _parse_html(_md_html(digest))
    assert "https://pod.example/a.mp3#t=2700" in rendered_md.hrefs and "https://pod.example/b.mp3#t=3730" in rendered_md.hrefs
    assert "Also discussed on:" in "".join(rendered_md.text)
    markup = render_html(digest)
    parsed = _parse_html(markup)
    assert parsed.hrefs == [
        "https://pod.example/lenny.mp3#t=723", "https://pod.example/a.mp3#t=2700", "https://pod.example/b.mp3#t=3730",
        "https://pod.example/g.mp3#t=5",
    ]  # fmt: skip
    flat = " ".join("".join(parsed.text).split())
    assert "Covered by 3 shows" in flat and "Also discussed on: Show A @ 45:00, Show B @ 1:02:10" in flat
    coverage = json.loads(render_json(digest))["items"][0]["coverage"]
    assert coverage == [
        {"podcast": "Show A", "episode": "The talent war", "url": "https://pod.example/a.mp3#t=2700", "start_s": 2700.0},
        {"podcast": "Show B", "episode": "Labs", "url": "https://pod.example/b.mp3#t=3730", "start_s": 3730.0},
    ]  # fmt: skip


def test_the_lines_of_an_item_come_in_order_topic_text_speaker_sources_coverage():
    text = render_text(_covered())
    order = ["AI HIRING", "Kernel engineers", "Lenny Rachitsky, Lenny's Podcast", "Lenny's Podcast — Hiring in AI",
             "Covered by 3 shows", "Also discussed on"]  # fmt: skip
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    markup = render_html(_covered()).replace("&#x27;", "'")
    positions = [markup.index(part) for part in ["AI hiring", *order[1:]]]
    assert positions == sorted(positions)


def test_an_item_without_coverage_has_no_covered_by_or_support_wording():
    digest = _covered(coverage=[])
    for rendered in (render_markdown(digest), render_text(digest), render_html(digest)):
        for wording in ("Covered by", "Also discussed on", "Heard on", "podcasts agree", "support"):
            assert wording not in rendered, wording
    assert json.loads(render_json(digest))["items"][0]["coverage"] == []


def test_covered_by_counts_each_other_show_once():
    twice = [*COVERAGE, Source("show a", "Again", "https://pod.example/a2.mp3#t=9", 9.0), Source("Lenny's Podcast", "x")]
    assert render.covered_by(_covered(coverage=twice).items[0]) == 3
    assert render.covered_by(_covered(coverage=[]).items[0]) == 0


def test_no_speaker_or_only_a_diarization_placeholder_shows_no_speaker_line():
    for speaker in ("", "Speaker 1", "Guest 2", "Unknown", "SPEAKER_00"):
        digest = _covered(speaker=speaker)
        assert render.speaker_line(digest.items[0]) == ""
        for rendered in (render_markdown(digest), render_text(digest), render_html(digest)):
            assert not speaker or speaker not in rendered
            assert "— Lenny" not in rendered and "— ," not in rendered
            assert "Lenny's Podcast — Hiring" in rendered.replace("&#x27;", "'")  # the source is still there
        assert json.loads(render_json(digest))["items"][0]["speaker"] == ""


HOSTILE_SPEAKER = '<script>alert("s")</script> *Jane* [x](javascript:alert(4))'


def test_a_hostile_speaker_and_coverage_are_escaped_in_every_format():
    evil = Source('<img src=x onerror=alert(5)> Radio', "Ep <b>", "javascript:alert(6)", 60.0)
    digest = _covered(speaker=HOSTILE_SPEAKER, coverage=[evil, COVERAGE[0]])
    markup = render_html(digest)
    parsed = _parse_html(markup)
    assert not {"script", "img", "b"} & set(parsed.tags) and "onerror" not in parsed.attrs_seen
    assert "&lt;script&gt;alert(&quot;s&quot;)&lt;/script&gt;" in markup and "&lt;img src=x onerror=alert(5)&gt;" in markup
    assert all(href.startswith("https://") for href in parsed.hrefs)
    rendered_md = _parse_html(_md_html(digest))
    assert not {"script", "img", "b"} & set(rendered_md.tags)
    assert all(href.startswith("https://") for href in rendered_md.hrefs)
    assert HOSTILE_SPEAKER + ", Lenny's Podcast" in "".join(rendered_md.text)
    assert "javascript:alert(6)" not in render_text(digest)
    assert json.loads(render_json(digest))["items"][0]["speaker"] == HOSTILE_SPEAKER


def test_a_pre_008_item_without_speaker_or_coverage_still_renders_in_every_format():
    old = Digest("2024-03-05", [DigestItem(1, "Caches beat clever code.", 2, [Source("Show", "Ep", None, 3.0)])])
    assert "1. Caches beat clever code." in render_text(old)
    assert "Caches beat clever code." in render_markdown(old) and "Caches beat clever code." in render_html(old)
    item = json.loads(render_json(old))["items"][0]
    assert (item["speaker"], item["coverage"], item["support"]) == ("", [], 2)


def test_coverage_json_from_top_insights_tolerates_null_empty_and_non_list_values():
    assert sources_from_json(None) == [] and sources_from_json("") == [] and sources_from_json("[]") == []
    assert sources_from_json('{"podcast": "x"}') == [] and sources_from_json("3") == []
