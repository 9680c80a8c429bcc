"""SMTP settings for the digest email, from Dagster config or PODIGEST_SMTP_* environment variables."""

from __future__ import annotations

import os

import dagster as dg
from pydantic import Field

from podigest_dagster.core.digest.email_message import (
    InvalidAddressError,
    list_unsubscribe_value,
    parse_address,
    split_recipients,
)
from podigest_dagster.core.digest.smtp import SmtpSettings


class MailerResource(dg.ConfigurableResource):
    """Where the digest email goes. Pass the password as `dg.EnvVar("PODIGEST_SMTP_PASSWORD")` so it
    stays out of run config; it is never logged, put in metadata or in an exception."""

    host: str = Field(default="", description="SMTP server; empty disables email")
    port: int = 587
    security: str = Field(default="starttls", description="starttls | ssl | none")
    username: str = ""
    password: str = ""
    sender: str = Field(default="podigest <podigest@localhost.localdomain>", description="From address")
    recipients: list[str] = Field(
        default_factory=list,
        description='addresses; each entry may list several, comma-separated ("Doe, Jane" <j@x.org>, b@y.org)',
    )
    list_unsubscribe: str = Field(default="", description="comma-separated mailto: and/or https:// targets")
    timeout_s: float = 30.0
    allow_plaintext_auth: bool = Field(
        default=False, description="allow credentials without TLS (trusted path only)"
    )
    resend_unknown: bool = Field(
        default=False, description="resend a message whose earlier send was cut off mid-conversation"
    )
    ca_file: str = Field(default="", description="CA bundle for a relay with a private certificate")

    @classmethod
    def from_env(cls) -> MailerResource:
        """Settings from PODIGEST_SMTP_HOST, _PORT, _SECURITY, _USER, _PASSWORD, _FROM and PODIGEST_DIGEST_RECIPIENTS."""
        env = os.environ.get
        fields: dict = {
            "host": env("PODIGEST_SMTP_HOST", ""),
            "port": int(env("PODIGEST_SMTP_PORT") or 587),
            "security": (env("PODIGEST_SMTP_SECURITY") or "starttls").strip().lower(),
            "username": env("PODIGEST_SMTP_USER", ""),
            "recipients": [env("PODIGEST_DIGEST_RECIPIENTS", "")],
            "list_unsubscribe": env("PODIGEST_LIST_UNSUBSCRIBE", ""),
        }
        if env("PODIGEST_SMTP_PASSWORD"):
            fields["password"] = dg.EnvVar("PODIGEST_SMTP_PASSWORD")
        if env("PODIGEST_SMTP_FROM"):
            fields["sender"] = env("PODIGEST_SMTP_FROM")
        return cls(**fields)

    def recipient_list(self) -> list[str]:
        """Validated recipients (each entry an address list: `"Doe, Jane" <j@x.org>, b@y.org` is two),
        duplicates dropped; InvalidAddressError names PODIGEST_DIGEST_RECIPIENTS and the bad entry."""
        try:
            return split_recipients(self.recipients)
        except InvalidAddressError as exc:
            raise InvalidAddressError(f"recipients (PODIGEST_DIGEST_RECIPIENTS): {exc}") from None

    def unsubscribe_header(self) -> str | None:
        return list_unsubscribe_value(self.list_unsubscribe)

    def is_configured(self) -> bool:
        """Email is on only with a host and at least one recipient (validity is checked by `validate`)."""
        return bool(self.host.strip()) and any(part.strip() for r in self.recipients for part in r.split(","))

    def validate(self) -> None:
        """Check SMTP settings, sender, recipients and List-Unsubscribe before any send is claimed.

        Raises SmtpConfigError or InvalidAddressError (both ValueError) naming the bad setting."""
        self.settings().validate()
        parse_address(self.sender)
        self.recipient_list()
        self.unsubscribe_header()

    def settings(self) -> SmtpSettings:
        """The plain settings object the SMTP client uses (password kept out of its repr)."""
        return SmtpSettings(
            host=self.host.strip(),
            port=self.port,
            security=self.security.strip().lower(),
            username=self.username or None,
            password=self.password or None,
            timeout_s=self.timeout_s,
            allow_plaintext_auth=self.allow_plaintext_auth,
            ca_file=self.ca_file or None,
        )
