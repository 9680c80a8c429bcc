"""Refuse URLs that would make podigest reach inside the network it runs in (SSRF guard).

Feeds and enclosures are written by strangers: a URL (or a redirect) pointing at loopback, a private
range or a cloud metadata service must not be fetched unless the operator allowed private networks.
Every address a host resolves to is checked, and the caller connects to a checked address only.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """A fetch that failed, with a one-line human reason; `status` is the HTTP status when there was one.

    `transient` says whether trying again later may succeed (timeouts, resets, 5xx, 429).
    Defined here so netguard has no import of http; `core.http` re-exports it.
    """

    def __init__(self, message: str, status: int | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient


class BlockedURL(FetchError):
    """A URL refused before any connection: bad scheme or a forbidden destination address."""


def _unwrap(addr: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv4-mapped IPv6 address, else the address itself."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def is_metadata(addr: IPAddress) -> bool:
    return _unwrap(addr) in METADATA_ADDRESSES


def is_forbidden(addr: IPAddress) -> bool:
    """True for every address that is not a public unicast address."""
    addr = _unwrap(addr)
    return (
        is_metadata(addr)
        or addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )


def split_host_port(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL; BlockedURL for any other scheme or no host."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise BlockedURL(f"refused URL scheme {scheme or '(none)'!r}: only http and https are fetched")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise BlockedURL(f"refused malformed URL: {exc}") from exc
    if not host:
        raise BlockedURL("refused URL without a host")
    return scheme, host, port or (443 if scheme == "https" else 80)


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IP literals resolve to themselves)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}") from exc
    addresses = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchError(f"host {host!r} has no address")
    return addresses


def checked_addresses(url: str, allow_private: bool) -> list[str]:
    """Resolve the URL's host and return its addresses, or raise BlockedURL if any is forbidden.

    Cloud metadata addresses are refused even when private networks are allowed: no local
    server a user means to poll lives there.
    """
    _, host, port = split_host_port(url)
    addresses = resolve(host, port)
    for address in addresses:
        addr = ipaddress.ip_address(address)
        if is_metadata(addr):
            raise BlockedURL(f"refused {host}: resolves to a cloud metadata address ({address})")
        if not allow_private and is_forbidden(addr):
            raise BlockedURL(
                f"refused {host}: resolves to a non-public address ({address}); "
                "set PODIGEST_ALLOW_PRIVATE_NETWORK=1 to allow local servers"
            )
    return addresses


def check_url(url: str, allow_private: bool) -> None:
    """Raise BlockedURL unless `url` is http(s) and every address of its host may be fetched."""
    checked_addresses(url, allow_private)
