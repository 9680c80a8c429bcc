"""Build the digest email: multipart/alternative (plain text + HTML) with proper RFC 5322 headers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr

from podigest_dagster.core.digest.render import safe_url


class InvalidAddressError(ValueError):
    """A sender, recipient or unsubscribe target that must not go into a header."""


def parse_address(value: str) -> str:
    """A single bare or named mailbox ("Name <a@b.c>"), validated; raises InvalidAddressError."""
    if not value or any(ch in value for ch in "\r\n\0"):
        raise InvalidAddressError(f"not an email address: {value!r}")
    _, addr = parseaddr(value)
    local, _, domain = addr.rpartition("@")
    if not local or not domain or "." not in domain or " " in addr:
        raise InvalidAddressError(f"not an email address: {value!r}")
    return value.strip()


_RECIPIENTS_HINT = (
    'separate recipients with commas, quote a name that has one: "Doe, Jane" <jane@example.org>'
)
_NAME_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


def split_recipients(values: list[str] | str | None) -> list[str]:
    """Recipients from a list and/or address lists (`"Doe, Jane" <j@x.org>, b@y.org` is two), parsed
    with email.utils.getaddresses and validated; the same address twice is kept once (the first form).

    Raises InvalidAddressError naming the entry that is not an address."""
    raw = [values] if isinstance(values, str) else list(values or [])
    found: dict[str, str] = {}
    for chunk in raw:
        if any(ch in chunk for ch in "\r\n\0"):
            raise InvalidAddressError(f"recipients must not contain line breaks: {chunk!r}")
        parsed = [(name.strip(), addr.strip()) for name, addr in getaddresses([chunk])]
        mailboxes = [(name, addr) for name, addr in parsed if name or addr]
        # getaddresses gives ('', '') both for an empty entry (a stray comma) and for one it could not read
        if len(parsed) - len(mailboxes) > sum(1 for part in chunk.split(",") if not part.strip()):
            raise InvalidAddressError(f"an entry of {chunk!r} is not an email address ({_RECIPIENTS_HINT})")
        for name, addr in mailboxes:
            try:
                parse_address(addr)
            except InvalidAddressError:
                raise InvalidAddressError(
                    f"not an email address: {addr or name!r} in {chunk!r} ({_RECIPIENTS_HINT})"
                ) from None
            found.setdefault(addr.lower(), _mailbox(name, addr))
    return list(found.values())


def _mailbox(name: str, addr: str) -> str:
    """`Name <addr>`, the name quoted when it has a comma or another special character; or just addr."""
    if not name:
        return addr
    if _NAME_SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{addr}>"


def sender_domain(sender: str) -> str:
    """The domain part of the sender, used to make Message-IDs that are ours."""
    return parseaddr(sender)[1].rpartition("@")[2] or "podigest.localhost"


def new_message_id(sender: str) -> str:
    """A globally unique Message-ID in the sender's domain, e.g. <...@example.org>."""
    return make_msgid(idstring="podigest", domain=sender_domain(sender))


def list_unsubscribe_value(targets: list[str] | str | None) -> str | None:
    """The List-Unsubscribe header value (RFC 2369) from mailto: and http(s) targets, or None."""
    raw = [targets] if isinstance(targets, str) else list(targets or [])
    entries = []
    for chunk in raw:
        for target in (part.strip() for part in chunk.split(",")):
            if not target:
                continue
            if target.lower().startswith("mailto:"):
                parse_address(target[len("mailto:") :].split("?", 1)[0])
            elif safe_url(target) is None:
                raise InvalidAddressError(f"List-Unsubscribe must be mailto: or http(s): {target!r}")
            if any(ch in target for ch in "<>\r\n "):
                raise InvalidAddressError(f"List-Unsubscribe target has forbidden characters: {target!r}")
            entries.append(f"<{target}>")
    return ", ".join(entries) or None


def build_message(
    *,
    subject: str,
    text: str,
    html: str,
    sender: str,
    recipient: str,
    message_id: str,
    list_unsubscribe: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """The email as sent: text/plain first, text/html second (clients show the last they support)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = _header_address(sender)
    msg["To"] = _header_address(recipient)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    if list_unsubscribe:
        msg["List-Unsubscribe"] = list_unsubscribe
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return msg


def _header_address(value: str) -> Address:
    name, addr = parseaddr(parse_address(value))
    username, _, domain = addr.rpartition("@")
    return Address(display_name=name, username=username, domain=domain)
