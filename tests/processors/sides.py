"""What the conformance suite needs to know or do at each processor's sandbox: count the
payments and refunds it really holds, inject faults, and produce webhooks it signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from tests.processors.harness import Fault, FaultProxy, credentials_for

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.processor.v1.processor_service_pb2_grpc import ProcessorServiceAsyncStub as Stub


@dataclass
class Side:
    name: str
    stub: Stub  # called as the order service (payments, refunds)
    currency: str
    reports_action_url: bool  # a redirect URL with REQUIRES_ACTION
    signs_timestamps: bool  # webhook signatures cover a timestamp
    finds_by_order_id: bool  # GetPayment with only the PayLoops order id
    # ParseWebhook is the webhook service's (the mesh's call policy); set by the fixture
    webhook_stub: Stub | None = None

    def merchant(self) -> str:
        """A fresh merchant: its own sandbox account, so counts start at zero."""
        return f"mer_{self.name[:3]}{uuid.uuid4().hex[:12]}"

    def credentials(self, merchant: str) -> dict[str, str]:
        return credentials_for(merchant, self.name)

    async def payments_for(self, merchant: str, order_id: str) -> int:
        raise NotImplementedError

    async def refunds_for(self, merchant: str, reference: str) -> int:
        raise NotImplementedError

    async def fail_next_payment_call(self, merchant: str) -> None:
        """The next confirm/payment call answers 5xx without acting."""
        raise NotImplementedError

    async def stall_next_payment_call(self, merchant: str, seconds: float) -> None:
        """The next confirm/payment call acts, then answers only after `seconds`."""
        raise NotImplementedError

    async def payment_webhook(self, merchant: str, reference: str) -> tuple[bytes, dict[str, str]]:
        """The sandbox's own event about a captured payment, signed as the processor signs."""
        raise NotImplementedError


class StripeSide(Side):
    def __init__(self, stub: Stub, localstripe_url: str, proxy: FaultProxy) -> None:
        super().__init__("stripe", stub, "USD", reports_action_url=False, signs_timestamps=True, finds_by_order_id=True)
        self.url = localstripe_url
        self.proxy = proxy

    async def _list(self, path: str, merchant: str, **query: str) -> list[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.credentials(merchant)['secretKey']}"}
        found: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": "100", **query}
        async with httpx.AsyncClient(base_url=self.url, headers=headers, timeout=5) as client:
            while True:
                page = (await client.get(path, params=params)).raise_for_status().json()
                found += page["data"]
                if not page["has_more"] or not page["data"]:
                    return found
                params["starting_after"] = page["data"][-1]["id"]

    async def payments_for(self, merchant: str, order_id: str) -> int:
        intents = await self._list("/v1/payment_intents", merchant)
        return sum(1 for i in intents if i["metadata"].get("payloops_order_id") == order_id)

    async def refunds_for(self, merchant: str, reference: str) -> int:
        return len(await self._list("/v1/refunds", merchant, payment_intent=reference))

    async def fail_next_payment_call(self, merchant: str) -> None:
        self.proxy.add(Fault(self.credentials(merchant)["secretKey"], "POST", "/confirm", "http_500"))

    async def stall_next_payment_call(self, merchant: str, seconds: float) -> None:
        fault = Fault(self.credentials(merchant)["secretKey"], "POST", "/confirm", "delay_after", delay_s=seconds)
        self.proxy.add(fault)

    def sign(self, merchant: str, body: bytes, timestamp: int) -> dict[str, str]:
        secret = self.credentials(merchant)["webhookSecret"].encode()
        mac = hmac.new(secret, b"%d.%s" % (timestamp, body), hashlib.sha256).hexdigest()
        return {"stripe-signature": f"t={timestamp},v1={mac}"}

    async def payment_webhook(self, merchant: str, reference: str) -> tuple[bytes, dict[str, str]]:
        events = await self._list("/v1/events", merchant, type="payment_intent.succeeded")
        event = next(e for e in events if e["data"]["object"]["id"] == reference)
        body = json.dumps(event, indent=2, sort_keys=True).encode()  # as localstripe sends it
        return body, self.sign(merchant, body, int(time.time()))


class RazorpaySide(Side):
    def __init__(self, stub: Stub, sandbox_url: str) -> None:
        super().__init__(
            "razorpay", stub, "INR", reports_action_url=True, signs_timestamps=False, finds_by_order_id=False
        )
        self.url = sandbox_url

    async def _control(self, method: str, path: str, **kwargs: Any) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            return (await client.request(method, path, **kwargs)).raise_for_status().json()

    async def _stats(self, merchant: str) -> dict[str, Any]:
        stats: dict[str, Any] = await self._control(
            "GET", "/_sandbox/stats", params={"account": self.credentials(merchant)["keyId"]}
        )
        return stats

    async def payments_for(self, merchant: str, order_id: str) -> int:
        return int((await self._stats(merchant))["payments"]["total"])

    async def refunds_for(self, merchant: str, reference: str) -> int:
        return int((await self._stats(merchant))["refunds"]["total"])

    async def _fault(self, merchant: str, mode: str, delay_ms: float = 0) -> None:
        rule = {"account": self.credentials(merchant)["keyId"], "path_contains": "/payments/create", "mode": mode}
        await self._control("POST", "/_sandbox/faults", json={**rule, "method": "POST", "delay_ms": delay_ms or None})

    async def fail_next_payment_call(self, merchant: str) -> None:
        await self._fault(merchant, "http_503")

    async def stall_next_payment_call(self, merchant: str, seconds: float) -> None:
        await self._fault(merchant, "timeout_after", delay_ms=seconds * 1000)

    async def payment_webhook(self, merchant: str, reference: str) -> tuple[bytes, dict[str, str]]:
        account = self.credentials(merchant)["keyId"]
        events = await self._control(
            "GET", "/_sandbox/events", params={"account": account, "event": "payment.captured"}
        )
        record = next(e for e in events["items"] if e["body"]["payload"]["payment"]["entity"]["id"] == reference)
        body = json.dumps(record["body"])
        secret = self.credentials(merchant)["webhookSecret"]
        signed = await self._control("POST", "/_sandbox/webhooks/sign", json={"secret": secret, "body": body})
        return body.encode(), {"x-razorpay-signature": signed["signature"], "x-razorpay-event-id": record["id"]}
