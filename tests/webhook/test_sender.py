"""One webhook attempt against a local endpoint: signed per Standard Webhooks (checked
with the reference library), redirects never followed, loopback refused unless the
development switch is on."""

from __future__ import annotations

import json
import time

from standardwebhooks.webhooks import Webhook

from services.merchant.catalogue import new_webhook_secret
from services.webhook.outbound.sender import send
from services.webhook.outbound.signing import signed_headers
from tests.webhook.receiver import running_receiver

BODY = json.dumps({"id": "evt_1", "type": "order.succeeded", "data": {"object": {"id": "ord_1"}}}).encode()


def headers(secret: str) -> dict[str, str]:
    return signed_headers(secret, "evt_1", 1_700_000_000, BODY)


async def test_a_signed_post_verifies_with_the_reference_library() -> None:
    secret = new_webhook_secret()
    with running_receiver() as receiver:
        result = await send(
            f"{receiver.base_url}/ok",
            BODY,
            signed_headers(secret, "evt_1", int(time.time()), BODY),
            timeout=5,
            allow_loopback=True,
        )
        assert result.delivered and result.status_code == 200 and result.error == ""
        [request] = receiver.answered("/ok")
    assert Webhook(secret).verify(request.body, request.headers) == json.loads(BODY)
    assert request.headers["webhook-id"] == "evt_1"


async def test_loopback_is_refused_without_the_switch_and_nothing_is_sent() -> None:
    with running_receiver() as receiver:
        port = receiver.base_url.rsplit(":", 1)[1]
        for url in (f"{receiver.base_url}/ok", f"http://localhost:{port}/ok", f"http://[::ffff:127.0.0.1]:{port}/ok"):
            result = await send(url, BODY, headers(new_webhook_secret()), timeout=5)
            assert not result.delivered and result.status_code == 0 and result.error.startswith("refused"), url
        assert receiver.requests == []


async def test_a_redirect_is_a_failed_attempt_and_never_followed() -> None:
    with running_receiver() as receiver:
        result = await send(
            f"{receiver.base_url}/redirect", BODY, headers(new_webhook_secret()), timeout=5, allow_loopback=True
        )
        assert (result.delivered, result.status_code, result.error) == (False, 302, "redirect not followed")
        assert [r.path for r in receiver.requests] == ["/redirect"]  # /ok never asked


async def test_errors_and_timeouts_are_outcomes_not_exceptions() -> None:
    with running_receiver() as receiver:
        failed = await send(
            f"{receiver.base_url}/dead", BODY, headers(new_webhook_secret()), timeout=5, allow_loopback=True
        )
        slow = await send(
            f"{receiver.base_url}/slow-first/3", BODY, headers(new_webhook_secret()), timeout=0.5, allow_loopback=True
        )
    assert (failed.delivered, failed.status_code) == (False, 500)
    assert not slow.delivered and slow.status_code == 0 and "0.5" in slow.error
    closed = await send("http://127.0.0.1:9/x", BODY, headers(new_webhook_secret()), timeout=2, allow_loopback=True)
    assert not closed.delivered and closed.status_code == 0 and closed.error
