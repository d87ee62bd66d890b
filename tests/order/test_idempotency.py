"""A keyed CreateOrder runs inside its Idempotency-Key's transaction: the key, the order
and the stored answer are committed together or not at all. Driven through
IdempotencyStore with the order service's own create, on the test platform's database."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from payloops.order.v1 import order_pb2, order_service_pb2
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from launcher.platform import Platform
from services.common.db import driver_transaction, sqlalchemy_url
from services.common.errors import Conflict, InvalidArgument, Unavailable
from services.common.identity import MERCHANT_ID_HEADER, MODE_HEADER, caller
from services.order import repository
from services.order.convert import order_to_proto
from services.order.domain import CaptureMethod, NewOrder
from services.order.idempotency import HEADER, IdempotencyStore, request_key, request_transaction

CREATE = "/payloops.order.v1.OrderService/CreateOrder"


class Refused(Exception):
    """What the fake context raises where gRPC would abort with a stored error."""

    def __init__(self, status: Any) -> None:
        super().__init__(status.details)
        self.status = status


class FakeContext:
    def __init__(self, merchant_id: str, key: str) -> None:
        self.metadata = ((MERCHANT_ID_HEADER, merchant_id), (MODE_HEADER, "test"), (HEADER, key))

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.metadata

    async def abort_with_status(self, status: Any) -> None:
        raise Refused(status)


class CreateOrder:
    """The servicer's create (repository.create_order in the request's transaction), with a
    failure to inject after its insert and a count of its runs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.runs = 0
        self.then_fail: BaseException | None = None

    async def __call__(self, request: order_service_pb2.CreateOrderRequest, context: Any) -> order_pb2.Order:
        self.runs += 1
        new = NewOrder(request.amount, request.currency, CaptureMethod.AUTOMATIC, "", "", {})
        async with request_transaction(self.engine) as db:
            who = caller(context)
            order = await repository.create_order(db=db, caller=who, order=new, idempotency_key=request_key())
            await asyncio.sleep(0.05)  # held open a moment: the other requests arrive while it runs
        if self.then_fail is not None:
            raise self.then_fail
        return order_to_proto(order)


@pytest.fixture()
async def engine(platform: Platform) -> AsyncIterator[AsyncEngine]:
    """Several connections: concurrent requests each hold one."""
    engine = create_async_engine(sqlalchemy_url(platform.database_libpq_url), pool_size=6, max_overflow=0)
    yield engine
    await engine.dispose()


@pytest.fixture()
def store(engine: AsyncEngine) -> IdempotencyStore:
    return IdempotencyStore(engine, lease=timedelta(seconds=30), retention=timedelta(hours=1), join_seconds=2)


def request(amount: int = 1200) -> order_service_pb2.CreateOrderRequest:
    return order_service_pb2.CreateOrderRequest(amount=amount, currency="INR")


def new_context() -> FakeContext:
    return FakeContext(f"mer_idem_{secrets.token_hex(4)}", f"key-{secrets.token_hex(4)}")


async def create(store: IdempotencyStore, handler: CreateOrder, context: FakeContext, amount: int = 1200) -> Any:
    return await store.run(CREATE, handler, request(amount), context, in_key_transaction=True)  # type: ignore[arg-type]


async def written(engine: AsyncEngine, context: FakeContext) -> tuple[int, int]:
    """(orders, idempotency keys) the context's merchant has."""
    merchant = {"merchant_id": context.metadata[0][1]}
    counts = []
    async with driver_transaction(engine) as db:
        for table in ("orders.orders", "orders.idempotency_keys"):
            row = await (
                await db.execute(f"SELECT count(*) FROM {table} WHERE merchant_id = %(merchant_id)s", merchant)
            ).fetchone()
            assert row is not None
            counts.append(int(row[0]))
    return counts[0], counts[1]


def as_bytes(answer: Any) -> bytes:
    return answer if isinstance(answer, bytes) else bytes(answer.SerializeToString())


async def test_concurrent_requests_with_one_key_create_one_order_and_all_get_its_answer(
    store: IdempotencyStore, engine: AsyncEngine
) -> None:
    handler, context = CreateOrder(engine), new_context()
    answers = await asyncio.gather(*(create(store, handler, context) for _ in range(5)))
    assert handler.runs == 1  # the others waited on its uncommitted key, then read its answer
    assert len({as_bytes(answer) for answer in answers}) == 1
    assert await written(engine, context) == (1, 1)


async def test_a_crash_after_the_insert_leaves_neither_order_nor_key_and_the_retry_creates_it_once(
    store: IdempotencyStore, engine: AsyncEngine
) -> None:
    handler, context = CreateOrder(engine), new_context()
    handler.then_fail = RuntimeError("the process dies here")
    with pytest.raises(RuntimeError):
        await create(store, handler, context)
    assert await written(engine, context) == (0, 0)
    handler.then_fail = None
    first = await create(store, handler, context)
    assert as_bytes(await create(store, handler, context)) == as_bytes(first)
    assert (handler.runs, await written(engine, context)) == (2, (1, 1))


async def test_a_transient_failure_stores_nothing_and_the_retry_runs_again(
    store: IdempotencyStore, engine: AsyncEngine
) -> None:
    handler, context = CreateOrder(engine), new_context()
    handler.then_fail = Unavailable(message="the database went away", reason="UNAVAILABLE")
    with pytest.raises(Unavailable):
        await create(store, handler, context)
    handler.then_fail = None
    assert order_pb2.Order.FromString(as_bytes(await create(store, handler, context))).amount == 1200
    assert (handler.runs, await written(engine, context)) == (2, (1, 1))


async def test_a_refusal_undoes_its_writes_and_is_the_keys_answer(store: IdempotencyStore, engine: AsyncEngine) -> None:
    handler, context = CreateOrder(engine), new_context()
    handler.then_fail = InvalidArgument(message="refused after the insert", reason="REFUSED")
    with pytest.raises(InvalidArgument):
        await create(store, handler, context)
    assert await written(engine, context) == (0, 1)  # the key holds the refusal, no order
    with pytest.raises(Refused) as replayed:
        await create(store, handler, context)
    assert (replayed.value.status.code, replayed.value.status.details) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "refused after the insert",
    )
    with pytest.raises(Conflict) as reused:
        await create(store, handler, context, amount=1300)
    assert (reused.value.reason, handler.runs) == ("IDEMPOTENCY_KEY_REUSED", 1)
