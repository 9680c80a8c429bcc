"""Settings read from the environment: PODIGEST_PUBLIC_URL, validated with a one-line reason."""

from __future__ import annotations

import pytest

from podigest_dagster import settings


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", None),
        ("   ", None),
        ("https://digest.example.com/", "https://digest.example.com/"),
        ("https://digest.example.com", "https://digest.example.com/"),
        (" http://10.0.0.5:8080/podigest ", "http://10.0.0.5:8080/podigest/"),
    ],
)
def test_public_url_is_a_folder_url_or_none(monkeypatch, value, expected):
    monkeypatch.setenv("PODIGEST_PUBLIC_URL", value)
    assert settings.public_url() == expected


def test_public_url_is_none_when_unset(monkeypatch):
    monkeypatch.delenv("PODIGEST_PUBLIC_URL", raising=False)
    assert settings.public_url() is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("file:///srv/digests/", "scheme 'file'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("digest.example.com", "no scheme"),
        ("https://", "no host"),
        ("https://digest.example.com/a b/", "spaces"),
        ("https://digest.example.com:port/", "not a valid URL"),
        ("https://digest.example.com/?v=1", "query or fragment"),
        ("https://digest.example.com/#top", "query or fragment"),
    ],
)
def test_a_public_url_that_is_not_http_is_refused_in_one_line_naming_the_variable(monkeypatch, value, reason):
    monkeypatch.setenv("PODIGEST_PUBLIC_URL", value)
    with pytest.raises(ValueError) as caught:
        settings.public_url()
    message = str(caught.value)
    assert message.startswith("PODIGEST_PUBLIC_URL ") and reason in message and "\n" not in message


def test_a_public_url_with_credentials_is_refused_without_repeating_them(monkeypatch):
    monkeypatch.setenv("PODIGEST_PUBLIC_URL", "https://me:s3cret@digest.example.com/")
    with pytest.raises(ValueError, match="user name or password") as caught:
        settings.public_url()
    assert "s3cret" not in str(caught.value)


def test_readers_yaml_sits_beside_the_feeds_file_unless_podigest_readers_says_where(monkeypatch, tmp_path):
    monkeypatch.setenv("PODIGEST_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PODIGEST_FEEDS", str(tmp_path / "conf" / "feeds.yaml"))
    monkeypatch.delenv("PODIGEST_READERS", raising=False)
    assert settings.readers_file() == tmp_path / "conf" / "readers.yaml"
    monkeypatch.setenv("PODIGEST_READERS", str(tmp_path / "people.yaml"))
    assert settings.readers_file() == tmp_path / "people.yaml"


@pytest.mark.parametrize(("value", "days"), [(None, 7.0), ("", 7.0), ("0", 0.0), (" 30 ", 30.0), ("0.5", 0.5)])
def test_audio_retention_is_a_number_of_days_seven_by_default(monkeypatch, value, days):
    if value is None:
        monkeypatch.delenv("PODIGEST_AUDIO_RETENTION_DAYS", raising=False)
    else:
        monkeypatch.setenv("PODIGEST_AUDIO_RETENTION_DAYS", value)
    assert settings.audio_retention_days() == days


@pytest.mark.parametrize(("value", "size"), [(None, None), ("", None), ("20", 20_000_000_000), ("0.5", 500_000_000)])
def test_the_audio_size_cap_is_in_gigabytes_and_none_by_default(monkeypatch, value, size):
    if value is None:
        monkeypatch.delenv("PODIGEST_AUDIO_MAX_GB", raising=False)
    else:
        monkeypatch.setenv("PODIGEST_AUDIO_MAX_GB", value)
    assert settings.audio_max_bytes() == size


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("PODIGEST_AUDIO_RETENTION_DAYS", "-1", settings.audio_retention_days),
        ("PODIGEST_AUDIO_RETENTION_DAYS", "7d", settings.audio_retention_days),
        ("PODIGEST_AUDIO_RETENTION_DAYS", "nan", settings.audio_retention_days),
        ("PODIGEST_AUDIO_MAX_GB", "20GB", settings.audio_max_bytes),
        ("PODIGEST_AUDIO_MAX_GB", "inf", settings.audio_max_bytes),
    ],
)
def test_a_bad_audio_setting_is_refused_in_one_line_naming_the_variable(monkeypatch, name, value, read):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError) as caught:
        read()
    assert str(caught.value).startswith(f"{name} must be ") and "\n" not in str(caught.value)
