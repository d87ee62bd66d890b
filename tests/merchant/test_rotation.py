"""`python -m services.merchant.rotate_key` against the running platform: every sealed
value moves to the active key while the services keep working (they hold both keys)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from payloops.merchant.v1 import merchant_internal_service_pb2 as internal

from launcher.platform import Platform
from tests.merchant.helpers import Merchant, client, database, internal_stub, remember, set_up_merchant

ROOT = Path(__file__).resolve().parents[2]
VISA = {"type": "card", "token": "pm_card_visa"}


def rotate(platform: Platform, active_key_id: str, *extra: str) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, **platform.service_env("merchant"), "CREDENTIAL_ACTIVE_KEY_ID": active_key_id}
    done = subprocess.run(
        [sys.executable, "-m", "services.merchant.rotate_key", *extra],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert not done.stderr.strip(), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, report


def key_ids(platform: Platform) -> set[str]:
    with database(platform) as db:
        rows = db.execute(
            "SELECT key_id FROM merchant.processor_configs UNION SELECT key_id FROM merchant.webhook_endpoints"
        )
        return {row[0] for row in rows}


def pays(platform: Platform, merchant: Merchant, currency: str) -> None:
    with client(platform, **{"X-API-Key": merchant.api_key}) as rest:
        order = rest.post("/v1/orders", json={"amount": 90_000, "currency": currency}).json()
        paid = rest.post(f"/v1/orders/{order['id']}/pay", json={"paymentMethod": VISA})
    assert paid.status_code == 200 and paid.json()["status"] == "SUCCEEDED", paid.text


def secrets_of(platform: Platform, merchant: Merchant) -> tuple[dict[str, str], list[str]]:
    merchant_id = merchant.account.merchant_id
    with internal_stub(platform, as_identity="processor-stripe") as stub:
        stripe = stub.GetProcessorCredentials(
            internal.GetProcessorCredentialsRequest(merchant_id=merchant_id, processor="stripe")
        )
    with internal_stub(platform, as_identity="webhook-worker") as stub:
        endpoints = stub.ListWebhookSubscriptions(
            internal.ListWebhookSubscriptionsRequest(merchant_id=merchant_id, event_type="order.succeeded")
        )
    return dict(stripe.credentials), [e.secret for e in endpoints.webhook_endpoints]


def test_rotation_reseals_everything_and_payments_keep_working(platform: Platform) -> None:
    merchant = set_up_merchant(platform)
    with client(platform, **merchant.account.bearer) as dashboard:
        endpoint = dashboard.post("/api/webhook-endpoints", json={"url": "https://r.example.com/h"}).json()
        remember(endpoint["secret"])
    before = secrets_of(platform, merchant)
    assert before[1] == [endpoint["secret"]]
    try:
        code, report = rotate(platform, "dev2", "--batch-size", "2")  # small batches: several pages
        assert code == 0, report
        assert report["unreadable"] == [] and report["remaining"] == 0 and report["active_key_id"] == "dev2"
        assert report["resealed"]["processor_configs"] >= 2 and report["resealed"]["webhook_endpoints"] >= 1
        assert key_ids(platform) == {"dev2"}
        assert secrets_of(platform, merchant) == before
        pays(platform, merchant, "USD")  # the running service reads the new key
        pays(platform, merchant, "INR")
        assert rotate(platform, "dev2")[1]["resealed"] == {"processor_configs": 0, "webhook_endpoints": 0}
    finally:
        code, report = rotate(platform, "dev1")  # back to the platform's own active key
    assert code == 0 and key_ids(platform) == {"dev1"}, report
    assert secrets_of(platform, merchant) == before


def test_values_that_cannot_be_opened_are_reported_not_lost(platform: Platform) -> None:
    merchant = set_up_merchant(platform)
    merchant_id = merchant.account.merchant_id
    with database(platform) as db:
        db.execute(
            "UPDATE merchant.processor_configs SET key_id = 'retired' WHERE merchant_id = %s AND processor = 'stripe'",
            (merchant_id,),
        )
        try:
            code, report = rotate(platform, "dev1")
            assert code == 1
            assert report["unreadable"] == [f"processor_configs/{merchant_id}/stripe"] and report["remaining"] == 1
            row = db.execute(
                "SELECT key_id FROM merchant.processor_configs WHERE merchant_id = %s AND processor = 'stripe'",
                (merchant_id,),
            ).fetchone()
            assert row == ("retired",)
        finally:
            db.execute(
                "UPDATE merchant.processor_configs SET key_id = 'dev1' WHERE merchant_id = %s AND processor = 'stripe'",
                (merchant_id,),
            )
    with client(platform, **merchant.account.bearer) as dashboard:
        assert httpx.codes.is_success(dashboard.get("/api/processors").status_code)
