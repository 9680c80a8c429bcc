"""Send one email over SMTP (STARTTLS, implicit TLS or plain), telling "surely not sent" from "maybe sent".

The password is never logged, never put in an exception and never sent without TLS unless the
configuration explicitly allows it. A failure before the message body was handed over is
`maybe_delivered=False` (safe to retry); a connection lost while the body was in flight is
`maybe_delivered=True` (the server may have queued it). Once the settings are valid, every failure,
expected or not, leaves `send_email` as an SmtpSendError, so a caller can always settle its ledger row.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import parseaddr
from io import BytesIO

SECURITY_MODES = ("starttls", "ssl", "none")


class SmtpConfigError(ValueError):
    """The SMTP settings are unusable or unsafe; nothing was sent."""


class SmtpSendError(RuntimeError):
    """Sending failed. `maybe_delivered` tells whether the server may still have accepted the message."""

    def __init__(self, message: str, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the mail server. `password` is kept out of repr."""

    host: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = 30.0
    allow_plaintext_auth: bool = False
    ca_file: str | None = None

    def validate(self) -> None:
        """Raise SmtpConfigError for an unknown security mode or credentials that would travel in clear."""
        if not self.host:
            raise SmtpConfigError("no SMTP host configured")
        if self.security not in SECURITY_MODES:
            raise SmtpConfigError(
                f"SMTP security must be one of {', '.join(SECURITY_MODES)}, got {self.security!r}"
            )
        if self.username and self.security == "none" and not self.allow_plaintext_auth:
            raise SmtpConfigError(
                "refusing to send SMTP credentials without TLS: set security to 'starttls' or 'ssl', "
                "or set allow_plaintext_auth=True if the network path is trusted"
            )

    def redact(self, text: str) -> str:
        """The text with the password (plain and in the encodings SMTP AUTH uses) masked out."""
        for secret in self._secret_forms():
            text = text.replace(secret, "***")
        return text

    def _secret_forms(self) -> list[str]:
        if not self.password:
            return []
        user = self.username or ""
        plain = f"\0{user}\0{self.password}".encode()
        forms = [
            self.password,
            base64.b64encode(self.password.encode()).decode(),
            base64.b64encode(plain).decode(),
        ]
        return sorted((form for form in forms if form), key=len, reverse=True)


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """A verifying TLS context (system CAs, or `ca_file` for a private relay)."""
    return (
        ssl.create_default_context(cafile=settings.ca_file)
        if settings.ca_file
        else ssl.create_default_context()
    )


def send_email(settings: SmtpSettings, msg: EmailMessage, recipient: str) -> str:
    """Deliver `msg` to one recipient; returns the server's final reply. Raises SmtpSendError/SmtpConfigError."""
    settings.validate()
    try:
        payload = _flatten(msg)
        sender = parseaddr(str(msg["From"]))[1]
        rcpt = parseaddr(recipient)[1]
    except Exception as exc:
        raise SmtpSendError(_describe(settings, "message preparation", exc)) from None
    try:
        conn = _open(settings)
    except Exception as exc:
        raise SmtpSendError(_describe(settings, "connect", exc)) from None
    try:
        _prepare_envelope(conn, settings, sender, rcpt)
        return _transfer(conn, settings, payload)
    finally:
        _close(conn)


def _open(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout_s, context=tls_context(settings)
        )
    return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)


def _prepare_envelope(conn: smtplib.SMTP, settings: SmtpSettings, sender: str, rcpt: str) -> None:
    """EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO: any failure here, of any kind, means the message was not sent."""
    try:
        conn.ehlo()
        if settings.security == "starttls":
            if not conn.has_extn("starttls"):
                raise SmtpSendError(
                    f"SMTP server {settings.host}:{settings.port} does not offer STARTTLS; "
                    "refusing to continue without TLS (use security='ssl' or 'none' explicitly)"
                )
            conn.starttls(context=tls_context(settings))
            conn.ehlo()
        if settings.username:
            conn.login(settings.username, settings.password or "")
        code, reply = conn.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = conn.rcpt(rcpt)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({rcpt: (code, reply)})
    except SmtpSendError:
        raise
    except Exception as exc:
        raise SmtpSendError(_describe(settings, "envelope", exc)) from None


def _transfer(conn: smtplib.SMTP, settings: SmtpSettings, payload: bytes) -> str:
    """DATA: a refusal is a clean failure; a lost connection mid-transfer may have delivered."""
    try:
        code, reply = conn.data(payload)
    except smtplib.SMTPResponseException as exc:
        raise SmtpSendError(_describe(settings, "data", exc)) from None
    except Exception as exc:
        raise SmtpSendError(_describe(settings, "data", exc), maybe_delivered=True) from None
    if code != 250:
        raise SmtpSendError(_describe(settings, "data", smtplib.SMTPDataError(code, reply)))
    return settings.redact(f"{code} {reply.decode('utf-8', 'replace')}")


def _close(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (OSError, smtplib.SMTPException):
        conn.close()


def _flatten(msg: EmailMessage) -> bytes:
    out = BytesIO()
    BytesGenerator(out, policy=msg.policy.clone(linesep="\r\n")).flatten(msg)
    return out.getvalue()


def _describe(settings: SmtpSettings, phase: str, exc: BaseException) -> str:
    detail = str(exc) or exc.__class__.__name__
    return settings.redact(
        f"SMTP {phase} with {settings.host}:{settings.port} failed: {type(exc).__name__}: {detail}"
    )
