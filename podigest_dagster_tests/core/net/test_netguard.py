"""netguard refuses schemes and destinations that would reach inside the network."""

from __future__ import annotations

import pytest

from podigest_dagster.core.net.netguard import BlockedURL, FetchError, check_url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://localhost:8080/feed",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://169.254.10.10/",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
        "http://240.0.0.1/",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://2130706433/",
    ],
)
def test_non_public_destinations_are_refused_by_default(url):
    with pytest.raises(BlockedURL, match="non-public|metadata"):
        check_url(url, allow_private=False)


def test_loopback_is_allowed_when_private_network_is_allowed():
    check_url("http://127.0.0.1:9/feed", allow_private=True)
    check_url("http://[::1]/feed", allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:169.254.169.254]/",
    ],
)
def test_cloud_metadata_is_refused_even_when_private_network_is_allowed(url):
    with pytest.raises(BlockedURL, match="metadata"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.mp3", "file:///etc/passwd", "gopher://x/", "javascript:alert(1)", "data:,hi"]
)
def test_non_http_schemes_are_refused(url):
    with pytest.raises(BlockedURL, match="scheme"):
        check_url(url, allow_private=True)


def test_public_address_is_allowed():
    check_url("https://93.184.215.14/feed.xml", allow_private=False)


def test_blocked_url_is_a_fetch_error():
    assert issubclass(BlockedURL, FetchError)


def test_unresolvable_host_is_a_fetch_error():
    with pytest.raises(FetchError, match="resolve"):
        check_url("http://no-such-host.invalid/", allow_private=False)
