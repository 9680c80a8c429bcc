"""The digest email: multipart/alternative with both parts and the headers mail systems expect."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from podigest_dagster.core.digest.email_message import (
    InvalidAddressError,
    build_message,
    list_unsubscribe_value,
    new_message_id,
    split_recipients,
)


def _message(**overrides):
    fields = dict(
        subject="podigest — top insights for 2024-03-05",
        text="1. Café insight <script>",
        html="<p>1. Caf&eacute; insight &lt;script&gt;</p>",
        sender="podigest <digest@example.org>",
        recipient="reader@example.com",
        message_id=new_message_id("digest@example.org"),
        list_unsubscribe="<mailto:unsub@example.org>",
    )
    fields.update(overrides)
    return build_message(**fields)


def test_message_has_plain_and_html_alternatives_that_round_trip():
    parsed = message_from_bytes(_message().as_bytes(), policy=default_policy)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in parsed.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content().strip() == "1. Café insight <script>"
    assert "&lt;script&gt;" in parsed.get_body(("html",)).get_content()


def test_headers_carry_subject_date_message_id_and_unsubscribe():
    parsed = message_from_bytes(_message().as_bytes(), policy=default_policy)
    assert parsed["Subject"] == "podigest — top insights for 2024-03-05"
    assert parsed["Message-ID"].startswith("<") and parsed["Message-ID"].endswith("@example.org>")
    assert parsed["Date"]
    assert parsed["List-Unsubscribe"] == "<mailto:unsub@example.org>"
    assert parsed["From"].addresses[0].addr_spec == "digest@example.org"


def test_message_ids_are_unique_and_in_the_sender_domain():
    ids = {new_message_id("podigest <digest@example.org>") for _ in range(50)}
    assert len(ids) == 50
    assert all(mid.endswith("@example.org>") for mid in ids)


def test_recipients_accept_lists_and_comma_separated_strings():
    assert split_recipients(["a@example.com, b@example.com", "a@example.com"]) == [
        "a@example.com",
        "b@example.com",
    ]
    assert split_recipients("c@example.com") == ["c@example.com"]
    assert split_recipients(None) == []


@pytest.mark.parametrize("bad", ["not-an-address", "a@b.co\r\nBcc: victim@example.com", "x@localhost"])
def test_invalid_or_header_injecting_recipients_are_refused(bad):
    with pytest.raises(InvalidAddressError):
        split_recipients([bad])


def test_recipients_are_address_lists_so_a_quoted_name_with_a_comma_is_one_recipient():
    assert split_recipients('"Doe, Jane" <j@x.org>, b@y.org') == ['"Doe, Jane" <j@x.org>', "b@y.org"]
    assert split_recipients(["Ann Lee <ann@example.com>,", "ANN@example.com, c@example.com"]) == [
        "Ann Lee <ann@example.com>",
        "c@example.com",
    ]
    assert split_recipients(" , ") == []


def test_a_recipient_with_a_name_becomes_the_to_header_it_was_given():
    [jane] = split_recipients('"Doe, Jane" <jane@example.com>')
    parsed = message_from_bytes(_message(recipient=jane).as_bytes(), policy=default_policy)
    [address] = parsed["To"].addresses
    assert (address.display_name, address.addr_spec) == ("Doe, Jane", "jane@example.com")


@pytest.mark.parametrize(
    ("listed", "named"),
    [
        ("a@example.com, Doe, Jane <jane@example.com>", "'Doe'"),
        ("a@example.com b@example.com", "not an email address"),
        ("Jane Doe", "'Jane'"),
        ("a@example.com, @", "an entry of"),
        ("@", "an entry of"),
        ("a@example.com; b@example.com", "an entry of"),
    ],
)
def test_an_invalid_entry_is_reported_with_the_list_it_came_from(listed, named):
    with pytest.raises(InvalidAddressError) as caught:
        split_recipients(listed)
    message = str(caught.value)
    assert named in message and repr(listed) in message and "\n" not in message


def test_list_unsubscribe_takes_mailto_and_https_only():
    value = list_unsubscribe_value("mailto:unsub@example.org?subject=stop, https://example.org/unsub?u=1")
    assert value == "<mailto:unsub@example.org?subject=stop>, <https://example.org/unsub?u=1>"
    assert list_unsubscribe_value("") is None
    with pytest.raises(InvalidAddressError):
        list_unsubscribe_value("javascript:alert(1)")
    with pytest.raises(InvalidAddressError):
        list_unsubscribe_value("https://example.org/a>, <https://evil.example/")


def test_the_digest_email_names_the_speaker_and_the_other_shows_in_both_parts():
    from podigest_dagster.core.digest.render import Digest, DigestItem, Source, render_html, render_text

    item = DigestItem(
        1, "Kernel engineers are the scarcest hires.", 2, [Source("Lenny's Podcast", "Ep", "https://x.example/l#t=5", 5.0)],
        speaker="Lenny Rachitsky <b>", coverage=[Source("Show A", "Ep", "https://x.example/a#t=2700", 2700.0)],
    )  # fmt: skip
    digest = Digest("2024-03-05", [item])
    message = _message(text=render_text(digest), html=render_html(digest))
    parsed = message_from_bytes(message.as_bytes(), policy=default_policy)
    plain = parsed.get_body(("plain",)).get_content()
    assert "— Lenny Rachitsky <b>, Lenny's Podcast" in plain
    assert "Also discussed on: Show A @ 45:00 (https://x.example/a#t=2700)" in plain
    html = parsed.get_body(("html",)).get_content()
    assert "— Lenny Rachitsky &lt;b&gt;, Lenny&#x27;s Podcast" in html and "<b>" not in html
    assert '<a href="https://x.example/a#t=2700"' in html and "Covered by 2 shows" in html
