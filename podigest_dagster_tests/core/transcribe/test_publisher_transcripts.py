"""Publisher transcripts: VTT, SRT, JSON, text and HTML parsed to segments; the best one chosen and fetched."""

from __future__ import annotations

import json

import pytest

from podigest_dagster.core.transcribe.publisher import (
    TranscriptError,
    choose_transcript,
    get_transcript,
    parse_transcript,
)

VTT = """WEBVTT
Kind: captions

NOTE written by the publisher

STYLE
::cue { color: white }

intro
00:00:01.000 --> 00:00:04.500 align:start position:0%
<v Alice>Welcome to the show &amp; thanks</v>
for listening.

00:04.500 --> 00:09.250
<c.yellow>Sleep</c> improves <00:00:05.000>memory.

01:02:03.004 --> 01:02:05.000

"""

SRT = """1
00:00:01,000 --> 00:00:04,500
Welcome to the show.

2
00:00:04,500 --> 00:00:09,250
<i>Sleep improves</i> memory.
"""

JSON = {
    "version": "1.0.0",
    "segments": [
        {"speaker": "Alice", "startTime": 0.5, "endTime": 1.0, "body": "Sleep"},
        {"speaker": "Alice", "startTime": 1.0, "endTime": 1.6, "body": "improves"},
        {"speaker": "Alice", "startTime": 1.6, "endTime": 2.2, "body": "memory."},
        {"speaker": "Bob", "startTime": 3.0, "endTime": 5.0, "body": "Markets reward patience."},
    ],
}


def texts(segments):
    return [(s.seq, s.start_s, s.end_s, s.text) for s in segments]


def test_webvtt_cues_lose_markup_and_keep_timing():
    segments = parse_transcript(VTT.encode(), "text/vtt; charset=utf-8", "https://x/t.vtt")
    assert texts(segments) == [
        (0, 1.0, 4.5, "Welcome to the show & thanks for listening."),
        (1, 4.5, 9.25, "Sleep improves memory."),
    ]


def test_srt_cues_are_parsed_with_comma_millis():
    segments = parse_transcript(SRT.encode("utf-8-sig"), "application/x-subrip", "https://x/t.srt")
    assert texts(segments) == [
        (0, 1.0, 4.5, "Welcome to the show."),
        (1, 4.5, 9.25, "Sleep improves memory."),
    ]


def test_podcast_namespace_json_words_are_merged_into_sentences():
    segments = parse_transcript(json.dumps(JSON).encode(), "application/json", "https://x/t.json")
    assert texts(segments) == [
        (0, 0.5, 2.2, "Sleep improves memory."),
        (1, 3.0, 5.0, "Markets reward patience."),
    ]


def test_plain_text_is_split_into_untimed_sentences():
    body = "Sleep improves memory. Markets reward patience!\n\nA new paragraph starts here"
    segments = parse_transcript(body.encode(), "text/plain", "https://x/t")
    assert texts(segments) == [
        (0, 0.0, 0.0, "Sleep improves memory."),
        (1, 0.0, 0.0, "Markets reward patience!"),
        (2, 0.0, 0.0, "A new paragraph starts here"),
    ]


def test_html_transcript_is_reduced_to_its_visible_text():
    body = (
        "<html><head><title>T</title><style>p{}</style><script>alert('x')</script></head>"
        "<body><p>Sleep <b>improves</b> memory.</p><p>Fish &amp; chips</p></body></html>"
    )
    segments = parse_transcript(body.encode(), "text/html", "https://x/t.html")
    assert [s.text for s in segments] == ["Sleep improves memory.", "Fish & chips"]


@pytest.mark.parametrize(
    "body, content_type, url",
    [
        (VTT, "text/plain", "https://x/transcript"),
        (VTT, "application/octet-stream", "https://x/t.vtt"),
        (SRT, None, "https://x/t.srt"),
        (SRT, "text/plain", "https://x/transcript"),
    ],
    ids=["vtt_served_as_text", "vtt_by_extension", "srt_by_extension", "srt_by_content"],
)
def test_format_is_recognised_when_the_server_mislabels_it(body, content_type, url):
    segments = parse_transcript(body.encode(), content_type, url)
    assert segments[0].start_s == 1.0
    assert segments[-1].text == "Sleep improves memory."


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"", "text/vtt"),
        (b"WEBVTT\n\n", "text/vtt"),
        (b"{not json", "application/json"),
        (b"   ", "text/plain"),
    ],
    ids=["empty", "vtt_without_cues", "bad_json", "blank_text"],
)
def test_a_transcript_without_text_is_an_error(body, content_type):
    with pytest.raises(TranscriptError):
        parse_transcript(body, content_type, "https://x/t")


def test_choice_prefers_vtt_then_srt_then_json_then_text_then_html():
    offered = [
        {"url": "https://x/t.html", "type": "text/html"},
        {"url": "https://x/t.txt", "type": "text/plain"},
        {"url": "https://x/t.json", "type": "application/json"},
        {"url": "https://x/t.srt", "type": "application/x-subrip"},
        {"url": "https://x/t.vtt", "type": "text/vtt"},
    ]
    picked = []
    while offered:
        best = choose_transcript(offered)
        picked.append(best["type"])
        offered.remove(best)
    assert picked == ["text/vtt", "application/x-subrip", "application/json", "text/plain", "text/html"]
    assert choose_transcript([{"url": "https://x/t.srt", "type": ""}, {"type": "text/vtt"}])["url"].endswith(
        ".srt"
    )
    assert choose_transcript([]) is None
    assert choose_transcript(None) is None


@pytest.mark.parametrize(
    "path, body, content_type",
    [("/ep1.vtt", VTT, "text/vtt"), ("/ep1.srt", SRT, "application/x-subrip")],
    ids=["vtt", "srt"],
)
def test_a_transcript_served_over_http_is_fetched_and_parsed(
    http_server, podigest_home, path, body, content_type
):
    url = http_server.add(path, body, Content_Type=content_type)
    segments = get_transcript({"url": url, "type": content_type}).segments
    assert [s.text for s in segments][-1] == "Sleep improves memory."
    assert segments[0].start_s == 1.0
    assert http_server.hits(path) == 1


def test_a_missing_transcript_is_an_error_not_a_crash(http_server, podigest_home):
    url = http_server.url("/gone.vtt")
    with pytest.raises(TranscriptError, match="cannot fetch"):
        get_transcript({"url": url, "type": "text/vtt"})


def test_a_lone_surrogate_in_a_json_transcript_becomes_a_replacement_character():
    body = b'{"segments": [{"startTime": 0, "endTime": 2, "body": "Caf\\ud800 open late."}]}'
    [segment] = parse_transcript(body, "application/json", "https://example.com/t.json")
    assert segment.text == "Caf\ufffd open late."
    segment.text.encode("utf-8")


def test_a_json_transcript_nested_too_deeply_is_an_error_not_a_crash():
    with pytest.raises(TranscriptError, match="nested too deeply"):
        parse_transcript(b"[" * 200_000, "application/json", "https://example.com/t.json")


def test_transcript_errors_leave_out_the_private_feed_token(http_server, podigest_home):
    gone = http_server.url("/gone.vtt?token=SECRET")
    empty = http_server.add("/empty.vtt?token=SECRET", "WEBVTT\n\n", Content_Type="text/vtt")
    for url in (gone, empty, "http://u:SECRET@127.0.0.1:1/t.vtt"):
        with pytest.raises(TranscriptError) as caught:
            get_transcript({"url": url, "type": "text/vtt"}, deadline_s=5)
        assert "SECRET" not in str(caught.value)
        assert "/t.vtt" in str(caught.value) or ".vtt?…" in str(caught.value)


# --- what a transcript link may answer instead of a transcript -------------------------------------------


def test_an_html_page_where_the_feed_promised_vtt_is_unusable(http_server, podigest_home):
    url = http_server.add(
        "/t.vtt", "<!DOCTYPE html><html><body>Sign in to read the transcript</body></html>", Content_Type="text/html"
    )
    with pytest.raises(TranscriptError, match="answered an HTML page, not the vtt"):
        get_transcript({"url": url, "type": "text/vtt"})


def test_a_transcript_served_as_text_html_is_read_as_the_feed_declares(http_server, podigest_home):
    url = http_server.add("/t.json", json.dumps(JSON), Content_Type="text/html")
    fetched = get_transcript({"url": url, "type": "application/json"})
    assert fetched.format == "json" and fetched.bytes == len(json.dumps(JSON))
    assert fetched.segments[-1].text == "Markets reward patience."


def test_a_transcript_over_the_size_cap_is_refused_unread(http_server, podigest_home):
    url = http_server.add("/huge.vtt", VTT + "\n" * 5000, Content_Type="text/vtt")
    with pytest.raises(TranscriptError, match="size cap"):
        get_transcript({"url": url, "type": "text/vtt"}, max_bytes=4096)


def test_a_transcript_is_tried_again_after_a_transient_failure(http_server, podigest_home):
    answers = iter([503, 200])

    def flaky(req):
        status = next(answers)
        body = VTT.encode() if status == 200 else b""
        req.send_response(status)
        req.send_header("Content-Type", "text/vtt")
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    url = http_server.add_handler("/flaky.vtt", flaky)
    fetched = get_transcript({"url": url, "type": "text/vtt"}, retries=1, backoff_s=0.01)
    assert fetched.segments[-1].text == "Sleep improves memory."
    assert http_server.hits("/flaky.vtt") == 2
