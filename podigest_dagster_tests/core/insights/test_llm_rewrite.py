import json

import numpy as np
import pytest

from podigest_dagster.core.insights.rewrite import (
    InsightRewriter,
    LLMSettings,
    build_messages,
    estimate_tokens,
    parse_insight,
)
from podigest_dagster.core.insights.selection import TopItem

GOOD = (
    "Free parking is one of the costliest gifts a city makes. Each space occupies land worth thousands of "
    "dollars a year that could hold homes or shops, so drivers are subsidised by everyone else."
)
EXTRACT = "Free parking is expensive because every space occupies land worth thousands of dollars a year."


def item(evidence: list[str] | None = None) -> TopItem:
    return TopItem(
        rank=1, cluster_id=0, candidate_id="c1", insight=EXTRACT, extractive_text=EXTRACT, support=2, score=0.8,
        sources=[], embedding=np.zeros(384, dtype=np.float32), evidence=evidence or [EXTRACT, "Parking is land."],
    )


def rewriter(mock, **kw) -> InsightRewriter:
    settings = LLMSettings(model="openai/gpt-4o-mini", retries=1, retry_backoff_s=0, **kw)
    settings.completion_kwargs = {"mock_response": mock}
    return InsightRewriter(settings)


def test_a_valid_json_reply_replaces_the_extract():
    [done] = rewriter(json.dumps({"insight": GOOD})).rewrite_items([item()])
    assert done.insight == GOOD and done.rewrite_status == "llm"
    assert done.extractive_text == EXTRACT


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("Sure! Here is your insight: parking is expensive.", "malformed_json"),
        ("", "empty_reply"),
        (json.dumps({"insight": ""}), "empty_insight"),
        (json.dumps({"summary": GOOD}), "missing_insight_field"),
        (json.dumps({"insight": "**Parking** is " + GOOD}), "markup_in_insight"),
        (json.dumps({"insight": "Parking is costly."}), "length_3_words"),
        (json.dumps({"insight": " ".join([GOOD] * 4)}), "length_"),
    ],
)
def test_a_malformed_or_empty_reply_keeps_the_extract_and_records_why(reply, reason):
    [done] = rewriter(reply).rewrite_items([item()])
    assert done.insight == EXTRACT
    assert done.rewrite_status.startswith(f"llm_failed: {reason}")


def test_a_provider_error_keeps_the_extract_after_retries():
    [done] = rewriter(Exception("provider down")).rewrite_items([item()])
    assert done.insight == EXTRACT
    assert done.rewrite_status.startswith("llm_failed: error_")


def test_a_reply_in_a_code_fence_is_accepted():
    assert parse_insight(f"```json\n{json.dumps({'insight': GOOD})}\n```") == GOOD


def test_the_daily_token_budget_stops_rewriting_and_keeps_the_extracts():
    one_call = estimate_tokens(build_messages(item().evidence), LLMSettings().max_output_tokens)
    llm = rewriter(json.dumps({"insight": GOOD}), daily_token_budget=one_call + 40)
    items = llm.rewrite_items([item(), item(), item()])
    assert [i.rewrite_status for i in items] == ["llm", "llm", "llm_failed: token_budget_exhausted"]
    assert items[2].insight == EXTRACT
    assert llm.tokens_used <= one_call + 40


def test_without_a_model_nothing_is_called_and_items_stay_extractive():
    llm = InsightRewriter(LLMSettings(model=None))
    [done] = llm.rewrite_items([item()])
    assert done.rewrite_status == "extractive" and done.insight == EXTRACT and llm.tokens_used == 0


def test_only_the_storys_own_passages_are_sent():
    messages = build_messages(["first excerpt", "second excerpt"])
    user = messages[-1]["content"]
    assert "first excerpt" in user and "second excerpt" in user
    assert len(messages) == 2 and messages[0]["role"] == "system"


def test_a_stored_rewrite_of_the_same_extract_is_reused_without_a_call():
    llm = rewriter(ValueError("the provider must not be called"))
    [done] = llm.rewrite_items([item()], {("c1", EXTRACT): GOOD})
    assert done.insight == GOOD and done.rewrite_status == "llm"
    assert llm.tokens_used == 0 and llm.reused == 1


def test_a_stored_rewrite_of_a_different_extract_is_not_reused():
    llm = rewriter(json.dumps({"insight": GOOD}))
    [done] = llm.rewrite_items([item()], {("c1", "An older extract of the same candidate."): "Stale text."})
    assert done.insight == GOOD and llm.reused == 0 and llm.tokens_used > 0
