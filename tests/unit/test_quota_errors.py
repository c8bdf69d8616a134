"""A spent quota in both envelopes: Google's QuotaFailure + RetryInfo, OpenAI's codes."""

from __future__ import annotations

from gemgate.core.errors import QuotaExceeded
from gemgate.dialects.gemini.errors import error_body, retry_seconds
from gemgate.dialects.openai.errors import error_body as openai_error_body

RPM = QuotaExceeded(
    "Quota exceeded.", quota_id="RequestsPerMinutePerKey", limit=20, retry_after=12.2
)
BUDGET = QuotaExceeded("Budget exhausted.", quota_id="BudgetUsdPerKey", limit=1.5, retry_after=None)


def test_google_envelope_names_the_quota_and_the_retry_delay() -> None:
    error = error_body(RPM)["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    failure, retry = error["details"]
    assert failure["@type"] == "type.googleapis.com/google.rpc.QuotaFailure"
    assert failure["violations"][0]["quotaId"] == "RequestsPerMinutePerKey"
    assert failure["violations"][0]["quotaValue"] == "20"
    assert retry == {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "13s"}
    assert retry_seconds(RPM) == 13


def test_a_spent_budget_has_no_retry_delay() -> None:
    details = error_body(BUDGET)["error"]["details"]
    assert [d["@type"] for d in details] == ["type.googleapis.com/google.rpc.QuotaFailure"]
    assert retry_seconds(BUDGET) is None


def test_openai_envelope_uses_openais_codes() -> None:
    rate = openai_error_body(RPM)["error"]
    assert (rate["type"], rate["code"]) == ("rate_limit_error", "rate_limit_exceeded")
    assert openai_error_body(BUDGET)["error"]["code"] == "insufficient_quota"
