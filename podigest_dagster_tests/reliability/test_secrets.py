"""SMTP and LLM credentials never reach logs, run metadata, the event log, the warehouse or exceptions."""

from __future__ import annotations

import base64
import json
import logging

import dagster as dg
import pytest

from podigest_dagster import settings
from podigest_dagster.defs.digest.assets import daily_digest, digest_delivery
from podigest_dagster.defs.digest.resources import MailerResource
from podigest_dagster.defs.insights.resources import EmbedderResource, LLMResource
from podigest_dagster.defs.warehouse import WarehouseResource
from podigest_dagster.warehouse import db
from podigest_dagster_tests.defs.digest.test_digest_assets import _insert_top_insights
from podigest_dagster_tests.defs.insights.test_insight_assets import ASSETS, DAY, store_day
from podigest_dagster_tests.support.insight_day import day_episodes
from podigest_dagster_tests.support.smtp_server import SMTPTestServer, make_self_signed_cert

SMTP_PASSWORD = "Sm7p-Pa55-do-not-leak"
LLM_KEY = "sk-test-LLMkey-do-not-leak-0123456789"


def encodings(secret: str, user: str) -> list[str]:
    """The secret and the forms SMTP AUTH puts on the wire (PLAIN and LOGIN base64)."""
    return [
        secret,
        base64.b64encode(secret.encode()).decode(),
        base64.b64encode(f"\0{user}\0{secret}".encode()).decode(),
    ]


def everything_recorded(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> str:
    """Every event-log record of the run (messages, failures with their stack), its run record and config."""
    records = instance.all_logs(result.run_id)
    parts = [f"{r.user_message} {r.dagster_event!r} {r.error_info!r}" for r in records]
    parts.append(repr(instance.get_run_by_id(result.run_id)))
    for event in result.all_events:
        parts.append(repr(event.event_specific_data))
    return "\n".join(parts)


def test_a_wrong_smtp_password_leaks_nowhere(podigest_home, tmp_path, monkeypatch, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    cert = make_self_signed_cert(tmp_path)
    if cert is None:
        pytest.skip("openssl not available to make a test certificate")
    server = SMTPTestServer(mode="starttls", cert=cert, credentials=("digest", "the-right-one")).start()
    monkeypatch.setenv("PODIGEST_SMTP_PASSWORD", SMTP_PASSWORD)
    db_path = str(settings.warehouse_path())
    _insert_top_insights(db_path, "2024-03-05")
    mailer = MailerResource(
        host="127.0.0.1",
        port=server.port,
        security="starttls",
        username="digest",
        password=dg.EnvVar("PODIGEST_SMTP_PASSWORD"),
        ca_file=str(cert[0]),
        sender="podigest <digest@example.org>",
        recipients=["ann@example.com"],
        timeout_s=5.0,
    )
    instance = dg.DagsterInstance.ephemeral()
    try:
        result = dg.materialize(
            [daily_digest, digest_delivery],
            partition_key="2024-03-05",
            resources={"warehouse": WarehouseResource(database=db_path), "mailer": mailer},
            instance=instance,
            raise_on_error=False,
        )
    finally:
        server.stop()

    assert not result.success
    assert set(server.handler.auth_attempts) == {"digest"} and server.received == []
    recorded = everything_recorded(instance, result)
    assert "SMTPAuthenticationError" in recorded
    with db.read_connection(db_path) as conn:
        stored = repr(conn.execute("SELECT * FROM deliveries").fetchall())
    assert "failed" in stored
    captured = capfd.readouterr()
    for place in (recorded, stored, caplog.text, captured.out, captured.err):
        for secret in encodings(SMTP_PASSWORD, "digest"):
            assert secret not in place


def echo_key_handler(req) -> None:
    """An OpenAI-style endpoint that refuses the key and, carelessly, echoes it in the error."""
    length = int(req.headers.get("Content-Length") or 0)
    req.rfile.read(length)
    key = (req.headers.get("Authorization") or "").removeprefix("Bearer ")
    body = json.dumps(
        {"error": {"message": f"Incorrect API key provided: {key}", "type": "invalid_request_error",
                   "code": "invalid_api_key"}}
    ).encode()  # fmt: skip
    req.send_response(401)
    req.send_header("Content-Type", "application/json")
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    req.wfile.write(body)


def test_an_llm_key_echoed_back_in_a_provider_error_leaks_nowhere(
    podigest_home, http_server, monkeypatch, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", LLM_KEY)
    keys_seen: list[str] = []

    def handler(req) -> None:
        keys_seen.append(req.headers.get("Authorization") or "")
        echo_key_handler(req)

    http_server.add_handler("/v1/chat/completions", handler)
    _allow_post(http_server)
    path = str(settings.warehouse_path())
    store_day(path, DAY, day_episodes())
    llm = LLMResource(
        model="openai/gpt-4o-mini",
        retries=0,
        retry_backoff_s=0,
        completion_kwargs={"api_base": http_server.url("/v1")},
    )
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        ASSETS,
        partition_key=DAY,
        resources={"warehouse": WarehouseResource(database=path), "embedder": EmbedderResource(), "llm": llm},
        instance=instance,
    )

    assert result.success
    assert keys_seen and all(LLM_KEY in k for k in keys_seen)
    with db.read_connection(path) as conn:
        stored = conn.execute("SELECT insight, extractive_text, rewrite_status FROM top_insights").fetchall()
    assert stored and all(r[0] == r[1] and r[2].startswith("llm_failed: error_") for r in stored)
    recorded = everything_recorded(instance, result)
    captured = capfd.readouterr()
    for place in (recorded, repr(stored), caplog.text, captured.out, captured.err):
        assert LLM_KEY not in place
        assert LLM_KEY[-12:] not in place


def _allow_post(http_server) -> None:
    """The shared test server answers GET only; route POSTs the same way for this test."""
    handler_class = http_server._server.RequestHandlerClass
    handler_class.do_POST = handler_class.do_GET
