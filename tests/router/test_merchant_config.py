"""The per-merchant cache of routing configs and the deadline of the merchant call."""

from __future__ import annotations

from typing import Any

from payloops.merchant.v1 import merchant_internal_service_pb2 as pb

from services.router.merchant_config import MerchantRoutingSource


class FakeStub:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float | None]] = []

    async def GetRoutingConfig(
        self, request: pb.GetRoutingConfigRequest, *, timeout: float | None = None, **_: Any
    ) -> pb.GetRoutingConfigResponse:
        self.calls.append((request.merchant_id, timeout))
        return pb.GetRoutingConfigResponse(enabled_processors=["stripe"])


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def source(stub: FakeStub, clock: Clock, ttl: float = 5.0, **options: Any) -> MerchantRoutingSource:
    return MerchantRoutingSource(
        stub,  # type: ignore[arg-type]
        ttl_seconds=ttl,
        call_timeout_seconds=2.0,
        clock=clock,
        **options,
    )


async def test_a_config_is_reused_until_it_expires() -> None:
    stub, clock = FakeStub(), Clock()
    configs = source(stub, clock)
    first = await configs.get("mer_1")
    clock.now += 4.9
    assert await configs.get("mer_1") is first
    await configs.get("mer_2")
    assert [merchant for merchant, _ in stub.calls] == ["mer_1", "mer_2"]
    clock.now += 0.2
    assert (await configs.get("mer_1")).enabled == frozenset({"stripe"})
    assert [merchant for merchant, _ in stub.calls] == ["mer_1", "mer_2", "mer_1"]


async def test_a_zero_ttl_asks_every_time() -> None:
    stub = FakeStub()
    configs = source(stub, Clock(), ttl=0)
    for _ in range(3):
        await configs.get("mer_1")
    assert len(stub.calls) == 3 and not configs.cache.entries


async def test_the_callers_deadline_shortens_the_merchant_call() -> None:
    stub = FakeStub()
    configs = source(stub, Clock(), ttl=0)
    await configs.get("mer_1")
    await configs.get("mer_1", time_remaining=0.4)
    await configs.get("mer_1", time_remaining=30)
    assert [timeout for _, timeout in stub.calls] == [2.0, 0.4, 2.0]


async def test_the_cache_is_bounded() -> None:
    stub = FakeStub()
    configs = source(stub, Clock(), max_entries=2)
    for merchant in ("mer_1", "mer_2", "mer_1", "mer_3"):
        await configs.get(merchant)
    assert list(configs.cache.entries) == ["mer_1", "mer_3"]
