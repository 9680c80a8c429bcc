"""A real SMTP server (aiosmtpd) on 127.0.0.1 that records what it receives, optionally with TLS and AUTH."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=default_policy)


@dataclass
class RecordingHandler:
    """Stores every accepted message; `delay_s` stalls before replying to DATA (to provoke client timeouts)."""

    received: list[Received] = field(default_factory=list)
    auth_attempts: list[str] = field(default_factory=list)
    delay_s: float = 0.0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd hook name)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        return "250 OK queued"


def make_self_signed_cert(folder: Path) -> tuple[Path, Path] | None:
    """A throwaway certificate for 127.0.0.1/localhost made with the openssl CLI, or None if unavailable."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class SMTPTestServer:
    """Start with `start()`, stop with `stop()`. `received` lists the messages in arrival order."""

    __test__ = False

    def __init__(
        self,
        port: int | None = None,
        *,
        cert: tuple[Path, Path] | None = None,
        mode: str = "plain",
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self.mode = mode
        self.credentials = credentials
        self.cert = cert
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.cert is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert[0]), str(self.cert[1]))
        return context

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.credentials:
            login, password = auth_data.login.decode(), auth_data.password.decode()
            self.handler.auth_attempts.append(login)
            return AuthResult(success=(login, password) == self.credentials, handled=False)
        return AuthResult(success=False, handled=False)

    def start(self) -> SMTPTestServer:
        context = self._tls_context()
        smtp_kwargs: dict = {"auth_require_tls": True}
        if self.credentials:
            smtp_kwargs["authenticator"] = self._authenticate
        if self.mode == "starttls":
            smtp_kwargs.update(tls_context=context, require_starttls=True)
        controller_kwargs: dict = {}
        if self.mode == "ssl":
            controller_kwargs.update(ssl_context=context)
        self._controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **controller_kwargs, **smtp_kwargs
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
