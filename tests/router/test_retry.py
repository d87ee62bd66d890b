"""Retry rules: the shipped table, a merchant's overrides, the most attempts per payment,
and the checks on what a merchant stores."""

from __future__ import annotations

import pytest
from payloops.merchant.v1 import merchant_pb2

from services.router.convert import retry_settings_from_proto, retry_settings_violations
from services.router.domain import Candidate, Decision, RetrySettings, apply_retry_settings

RETRY, FINAL, STEP_UP = Decision.RETRY_NEXT_PROCESSOR, Decision.DO_NOT_RETRY, Decision.REQUIRES_ACTION
CANDIDATES = [Candidate("razorpay", "rule rr_1: priority list #1"), Candidate("stripe", "rule rr_1: priority list #2")]


def test_the_shipped_table_retries_processor_errors_steps_up_and_keeps_declines_final() -> None:
    retry_on = RetrySettings().codes("stripe", RETRY)
    assert {"processing_error", "api_error", "gateway_error", "server_error", "bank_technical_error"} == set(retry_on)
    assert not {"card_declined", "insufficient_funds", "expired_card"} & set(retry_on)
    # Unavailability is the workflow's own rule, never the table's.
    assert "PROCESSOR_UNAVAILABLE" not in retry_on
    assert RetrySettings().codes("razorpay", STEP_UP) == ("authentication_required",)


def test_a_merchant_overrides_codes_of_one_processor() -> None:
    settings = RetrySettings(
        overrides={
            ("razorpay", "card_declined"): RETRY,
            ("razorpay", "gateway_error"): FINAL,
            ("razorpay", "authentication_required"): FINAL,
            ("stripe", "do_not_honor"): STEP_UP,
        }
    )
    assert "card_declined" in settings.codes("razorpay", RETRY) and "gateway_error" not in settings.codes(
        "razorpay", RETRY
    )
    assert "card_declined" not in settings.codes("stripe", RETRY) and "gateway_error" in settings.codes("stripe", RETRY)
    assert settings.codes("razorpay", STEP_UP) == ()
    assert settings.codes("stripe", STEP_UP) == ("authentication_required", "do_not_honor")


def test_candidates_carry_their_codes_and_stop_at_max_attempts() -> None:
    settings = RetrySettings(max_attempts=1, overrides={("razorpay", "card_declined"): RETRY})
    [only] = apply_retry_settings(CANDIDATES, settings)
    assert only.processor == "razorpay" and "card_declined" in only.retry_on
    assert only.step_up_on == ("authentication_required",)
    assert [c.processor for c in apply_retry_settings(CANDIDATES, RetrySettings())] == ["razorpay", "stripe"]


def proto(max_attempts: int | None = None, *rules: tuple[str, str, int]) -> merchant_pb2.RetrySettings:
    settings = merchant_pb2.RetrySettings(
        rules=[merchant_pb2.RetryRule(processor=p, failure_code=c, decision=d) for p, c, d in rules]  # type: ignore[arg-type]
    )
    if max_attempts is not None:
        settings.max_attempts = max_attempts
    return settings


def test_stored_settings_become_the_domains() -> None:
    stored = proto(
        2,
        ("stripe", "card_declined", merchant_pb2.RetryRule.RETRY_NEXT_PROCESSOR),
        ("stripe", "do_not_honor", merchant_pb2.RetryRule.REQUIRES_ACTION),
    )
    expected = RetrySettings(2, {("stripe", "card_declined"): RETRY, ("stripe", "do_not_honor"): STEP_UP})
    assert retry_settings_from_proto(stored) == expected
    assert retry_settings_from_proto(merchant_pb2.RetrySettings()) == RetrySettings()


@pytest.mark.parametrize(
    ("settings", "fields"),
    [
        (proto(0), ["max_attempts"]),
        (proto(11), ["max_attempts"]),
        (proto(None, ("adyen", "x", 1)), ["rules[0].processor"]),
        (proto(None, ("stripe", "", 1)), ["rules[0].failure_code"]),
        (proto(None, ("stripe", "card_declined", 0)), ["rules[0].decision"]),
        (proto(None, ("stripe", "card_declined", 1), ("stripe", "card_declined", 2)), ["rules[1].failure_code"]),
    ],
)
def test_bad_settings_are_named_field_by_field(settings: merchant_pb2.RetrySettings, fields: list[str]) -> None:
    assert [v.field for v in retry_settings_violations(settings)] == fields


def test_good_settings_pass() -> None:
    assert retry_settings_violations(proto(3, ("razorpay", "card_declined", 1), ("stripe", "card_declined", 2))) == []
