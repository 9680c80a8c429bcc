"""feeds.yaml and OPML: read, write, merge, and clear errors naming the file and the problem."""

from __future__ import annotations

import pytest

from podigest_dagster.core.ingest.feeds_config import (
    FeedsConfigError,
    FeedSpec,
    display_url,
    load_feeds,
    merge_feeds,
    parse_opml,
    read_opml,
    save_feeds,
)

OPML = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Pocket Casts Feeds</title></head>
  <body>
    <outline text="feeds">
      <outline type="rss" text="Show One" xmlUrl="https://example.com/one.xml" />
      <outline text="Folder">
        <outline type="rss" title="Show Two" text="two" xmlUrl="https://example.com/two.xml"/>
        <outline type="rss" text="Dup" xmlUrl="https://example.com/one.xml"/>
      </outline>
      <outline text="not a feed" htmlUrl="https://example.com"/>
      <outline text="bad scheme" xmlurl="javascript:alert(1)"/>
    </outline>
  </body>
</opml>"""


def test_feeds_yaml_round_trips(tmp_path):
    path = tmp_path / "feeds.yaml"
    specs = [FeedSpec("https://a.example/feed", "A"), FeedSpec("https://b.example/rss", None)]
    save_feeds(path, specs)
    assert load_feeds(path) == specs


def test_feeds_yaml_accepts_bare_urls_and_drops_duplicates(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - https://a.example/feed\n  - url: https://a.example/feed/\n    name: again\n")
    assert load_feeds(path) == [FeedSpec("https://a.example/feed")]


def test_empty_feeds_yaml_is_an_empty_list(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("")
    assert load_feeds(path) == []


def test_bad_yaml_names_the_file(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds: [url: {\n")
    with pytest.raises(FeedsConfigError, match="feeds.yaml: invalid YAML"):
        load_feeds(path)


def test_entry_without_url_names_the_file_and_the_entry(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - url: https://a.example/feed\n  - name: no url\n")
    with pytest.raises(FeedsConfigError, match=r"feeds.yaml: feed #2: missing `url`"):
        load_feeds(path)


def test_non_http_feed_url_is_rejected(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - url: ftp://a.example/feed\n")
    with pytest.raises(FeedsConfigError, match="not an http"):
        load_feeds(path)


def test_missing_feeds_file_says_how_to_create_one(tmp_path):
    with pytest.raises(FeedsConfigError, match="not found"):
        load_feeds(tmp_path / "nope.yaml")


def test_opml_nested_outlines_give_every_feed_once():
    assert parse_opml(OPML) == [
        FeedSpec("https://example.com/one.xml", "Show One"),
        FeedSpec("https://example.com/two.xml", "Show Two"),
    ]


def test_opml_with_entities_is_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body>&a;</body></opml>'
    with pytest.raises(FeedsConfigError, match="refused"):
        parse_opml(bomb)


def test_malformed_or_foreign_xml_is_not_opml():
    with pytest.raises(FeedsConfigError, match="well-formed"):
        parse_opml(b"<opml><body>")
    with pytest.raises(FeedsConfigError, match="not an OPML"):
        parse_opml(b"<rss/>")


def test_merge_keeps_existing_and_counts_only_new_urls():
    existing = [FeedSpec("https://a.example/feed", "A")]
    new = [FeedSpec("https://a.example/feed", "other name"), FeedSpec("https://b.example/feed")]
    merged, added = merge_feeds(existing, new)
    assert merged == [FeedSpec("https://a.example/feed", "A"), FeedSpec("https://b.example/feed")]
    assert added == 1


def test_display_url_leaves_out_credentials_and_tokens():
    assert display_url("https://user:pw@feeds.example.com:8443/p/show.xml?auth=SECRET") == (
        "https://feeds.example.com:8443/p/show.xml?…"
    )
    assert display_url("https://example.com/feed") == "https://example.com/feed"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://h:abc/feed?token=SECRET", "http://h:abc/feed?…"),
        ("http://u:pw@h:99999/feed", "http://h:99999/feed"),
        ("http://[::1/feed?k=SECRET", "http://[::1/feed?…"),
        ("https://u:SECRET@[::1]:8443/x", "https://[::1]:8443/x"),
        ("", ""),
    ],
)
def test_display_url_never_raises_and_never_shows_secrets(url, shown):
    assert display_url(url) == shown


@pytest.mark.parametrize(
    "url", ["http://h:abc/feed", "http://h:99999/feed", "http://[::1/feed", "https:///feed"]
)
def test_a_feed_url_with_a_bad_port_or_host_is_rejected_naming_the_feed(tmp_path, url):
    path = tmp_path / "feeds.yaml"
    path.write_text(f"feeds:\n  - url: https://a.example/feed\n  - url: '{url}'\n    name: Broken Show\n")
    with pytest.raises(FeedsConfigError, match=r"feeds.yaml: feed #2 \(Broken Show\): url '.*'"):
        load_feeds(path)


def test_opml_outlines_with_unusable_urls_are_skipped_and_reported():
    opml = OPML.replace(
        b"</body>",
        b'<outline text="Bad Port" xmlUrl="http://h:abc/feed?token=SECRET"/>'
        b'<outline text="Huge Port" xmlUrl="http://h:99999/feed"/></body>',
    )
    imported = read_opml(opml)
    assert imported.specs == parse_opml(OPML)
    assert len(imported.skipped) == 3
    assert imported.skipped[0].startswith("bad scheme: url 'javascript:alert(1)'")
    assert imported.skipped[1].startswith("Bad Port: url 'http://h:abc/feed?…' is malformed")
    assert imported.skipped[2].startswith("Huge Port: url 'http://h:99999/feed' is malformed")
    assert "SECRET" not in " ".join(imported.skipped)
