"""Recorded PaymentWorkflow, RefundWorkflow and WebhookDeliveryWorkflow histories must
replay on the current workflow code: a change that would break workflows already running
in production fails here.

Record new ones (after changing the workflow on purpose, with a versioning patch) with
`python scripts/record_histories.py --temporal <address>` against a platform that ran payments.
pay-ord_cqQVgzudVNtW1wdqRAEvfDnO-1 is a CHF payment under a priority rule [razorpay, stripe]
whose merchant retries razorpay's card_declined elsewhere: declined at both."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from services.common.temporal_converter import DATA_CONVERTER
from services.order.workflows import RETRY_RULES, PaymentWorkflow, RefundWorkflow
from services.webhook.outbound.workflows import WebhookDeliveryWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_there_are_recorded_histories_of_each_workflow() -> None:
    assert len([p for p in HISTORIES if p.name.startswith("pay-")]) >= 3
    assert len([p for p in HISTORIES if p.name.startswith("refund-")]) >= 2
    assert len([p for p in HISTORIES if p.name.startswith("deliver-")]) >= 2
    # Payments from before and after the local-activity patch (LOCAL_STEPS) both replay.
    local = [p for p in HISTORIES if p.name.startswith("pay-") and "core_local_activity" in p.read_text()]
    assert 3 <= len(local) < len([p for p in HISTORIES if p.name.startswith("pay-")])
    # A payment retried at its next processor after a code in its retry rules (RETRY_RULES).
    assert any(RETRY_RULES in patches(p) for p in HISTORIES if p.name.startswith("pay-"))


def patches(path: Path) -> set[str]:
    """The versioning patches a recorded history went through."""
    events = json.loads(path.read_text())["events"]
    markers = [e["markerRecordedEventAttributes"] for e in events if "markerRecordedEventAttributes" in e]
    return {
        json.loads(base64.b64decode(payload["data"]))["id"]
        for marker in markers
        if marker["markerName"] == "core_patch"
        for payload in marker["details"]["patch-data"]["payloads"]
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await Replayer(
        workflows=[PaymentWorkflow, RefundWorkflow, WebhookDeliveryWorkflow], data_converter=DATA_CONVERTER
    ).replay_workflow(history)
