"""SMTP client against a real aiosmtpd server on 127.0.0.1: plain, STARTTLS, implicit TLS, AUTH, failures."""

from __future__ import annotations

import base64
import logging

import pytest

from podigest_dagster.core.digest.email_message import build_message, new_message_id
from podigest_dagster.core.digest.smtp import SmtpConfigError, SmtpSendError, SmtpSettings, send_email
from podigest_dagster_tests.support.smtp_server import SMTPTestServer, free_port, make_self_signed_cert

PASSWORD = "s3cret-Pa55word!"


def _msg(recipient: str = "reader@example.com"):
    return build_message(
        subject="podigest — top insights for 2024-03-05",
        text="plain body",
        html="<p>html body</p>",
        sender="digest@example.org",
        recipient=recipient,
        message_id=new_message_id("digest@example.org"),
    )


@pytest.fixture
def cert(tmp_path):
    made = make_self_signed_cert(tmp_path)
    if made is None:
        pytest.skip("openssl not available to make a test certificate")
    return made


@pytest.fixture
def server_factory():
    started: list[SMTPTestServer] = []

    def start(**kwargs) -> SMTPTestServer:
        server = SMTPTestServer(**kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_plain_smtp_delivers_the_message_to_the_envelope_recipient(server_factory):
    server = server_factory()
    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="none")
    reply = send_email(settings, _msg(), "reader@example.com")
    assert reply.startswith("250")
    assert len(server.received) == 1
    assert server.received[0].rcpt_tos == ["reader@example.com"]
    assert server.received[0].mail_from == "digest@example.org"


def test_starttls_with_auth_delivers_over_an_encrypted_connection(server_factory, cert):
    server = server_factory(mode="starttls", cert=cert, credentials=("digest", PASSWORD))
    settings = SmtpSettings(
        host="127.0.0.1",
        port=server.port,
        security="starttls",
        username="digest",
        password=PASSWORD,
        ca_file=str(cert[0]),
    )
    send_email(settings, _msg(), "reader@example.com")
    assert server.handler.auth_attempts == ["digest"]
    assert len(server.received) == 1


def test_implicit_tls_delivers(server_factory, cert):
    server = server_factory(mode="ssl", cert=cert)
    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="ssl", ca_file=str(cert[0]))
    send_email(settings, _msg(), "reader@example.com")
    assert len(server.received) == 1


def test_an_untrusted_certificate_is_refused(server_factory, cert):
    server = server_factory(mode="ssl", cert=cert)
    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="ssl")
    with pytest.raises(SmtpSendError) as caught:
        send_email(settings, _msg(), "reader@example.com")
    assert not caught.value.maybe_delivered
    assert server.received == []


def test_starttls_required_but_not_offered_is_refused_before_any_credential_is_sent(server_factory):
    server = server_factory(credentials=("digest", PASSWORD))
    settings = SmtpSettings(
        host="127.0.0.1", port=server.port, security="starttls", username="digest", password=PASSWORD
    )
    with pytest.raises(SmtpSendError, match="does not offer STARTTLS") as caught:
        send_email(settings, _msg(), "reader@example.com")
    assert not caught.value.maybe_delivered
    assert server.handler.auth_attempts == [] and server.received == []


def test_credentials_without_tls_are_refused_unless_explicitly_allowed(server_factory, caplog):
    caplog.set_level(logging.DEBUG)
    server = server_factory()
    settings = SmtpSettings(
        host="127.0.0.1", port=server.port, security="none", username="digest", password=PASSWORD
    )
    with pytest.raises(SmtpConfigError, match="without TLS") as caught:
        send_email(settings, _msg(), "reader@example.com")
    assert PASSWORD not in str(caught.value) and PASSWORD not in repr(settings)
    assert PASSWORD not in caplog.text
    assert server.received == []


def test_wrong_password_error_never_contains_the_password(server_factory, cert, caplog):
    caplog.set_level(logging.DEBUG)
    server = server_factory(mode="starttls", cert=cert, credentials=("digest", "the-right-one"))
    settings = SmtpSettings(
        host="127.0.0.1",
        port=server.port,
        security="starttls",
        username="digest",
        password=PASSWORD,
        ca_file=str(cert[0]),
    )
    with pytest.raises(SmtpSendError) as caught:
        send_email(settings, _msg(), "reader@example.com")
    assert "SMTPAuthenticationError" in str(caught.value)
    assert PASSWORD not in str(caught.value) and PASSWORD not in caplog.text
    assert caught.value.__cause__ is None and not caught.value.maybe_delivered


def test_a_server_that_is_down_is_a_clean_failure_safe_to_retry():
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", timeout_s=5)
    with pytest.raises(SmtpSendError, match="connect") as caught:
        send_email(settings, _msg(), "reader@example.com")
    assert not caught.value.maybe_delivered


def test_a_connection_lost_while_the_body_is_in_flight_may_have_delivered(server_factory):
    server = server_factory()
    server.handler.delay_s = 2.0
    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="none", timeout_s=0.5)
    with pytest.raises(SmtpSendError) as caught:
        send_email(settings, _msg(), "reader@example.com")
    assert caught.value.maybe_delivered


def test_unknown_security_mode_is_a_config_error():
    with pytest.raises(SmtpConfigError, match="security"):
        SmtpSettings(host="127.0.0.1", security="tls-maybe").validate()


def test_redaction_masks_the_password_and_its_auth_encodings():
    settings = SmtpSettings(host="h", username="u", password=PASSWORD)
    plain = base64.b64encode(f"\0u\0{PASSWORD}".encode()).decode()
    assert settings.redact(f"x {PASSWORD} {plain} y") == "x *** *** y"


def test_an_unexpected_error_before_data_is_a_send_error_safe_to_retry(server_factory):
    server = server_factory()
    settings = SmtpSettings(host="127.0.0.1", port=server.port, security="none")
    with pytest.raises(SmtpSendError) as caught:
        send_email(settings, _msg("ü@example.com"), "ü@example.com")
    assert caught.value.maybe_delivered is False
    assert "envelope" in str(caught.value) and "UnicodeEncodeError" in str(caught.value)
    assert server.received == []
