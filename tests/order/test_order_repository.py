"""The order's psycopg reads and insert (repository.create_order, get_order, list_orders)
against its ORM row: the same order either way; a key's second insert is the key's order;
another merchant's or mode's order is not found. A payment step's prepared reference is
recorded once (repository.record_reference)."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import driver_transaction, session_factory
from services.common.errors import NotFound
from services.common.identity import Caller
from services.order import repository
from services.order.domain import CaptureMethod, NewOrder, OrderStatus
from services.order.models import OrderRow

NEW_ORDER = NewOrder(
    amount=2500,
    currency="INR",
    capture_method=CaptureMethod.MANUAL,
    customer_email="buyer@example.com",
    description="two lamps",
    metadata={"cart": "42", "note": "ünïcode"},
)


@pytest.fixture()
def caller() -> Caller:
    return Caller(merchant_id=f"mer_repo_{secrets.token_hex(4)}", mode="test")


async def test_the_psycopg_order_is_the_orm_rows_order(engine: AsyncEngine, caller: Caller) -> None:
    async with driver_transaction(engine) as db:
        created = await repository.create_order(db=db, caller=caller, order=NEW_ORDER)
    async with driver_transaction(engine) as db:
        read = await repository.get_order(db=db, caller=caller, order_id=created.id)
        assert await repository.list_orders(db=db, caller=caller, limit=10) == [read]
        assert await repository.list_orders(db=db, caller=caller, limit=10, status=OrderStatus.FAILED) == []
    async with session_factory(engine)() as session:
        row = await repository.order_row_or_raise(session=session, caller=caller, order_id=created.id)
        from_orm = repository.to_domain(row)
    assert created == read == from_orm
    assert (read.status, read.capture_method, read.metadata) == (
        OrderStatus.CREATED,
        CaptureMethod.MANUAL,
        NEW_ORDER.metadata,
    )
    assert (row.version, row.attempt, row.payment_candidates) == (1, 0, [])  # the database's defaults


async def test_a_keys_second_insert_is_the_keys_order(engine: AsyncEngine, caller: Caller) -> None:
    key = f"create-{secrets.token_hex(4)}"
    other = Caller(merchant_id=caller.merchant_id, mode="live")
    async with driver_transaction(engine) as db:
        first = await repository.create_order(db=db, caller=caller, order=NEW_ORDER, idempotency_key=key)
    async with driver_transaction(engine) as db:
        again = await repository.create_order(db=db, caller=caller, order=NEW_ORDER, idempotency_key=key)
        in_other_mode = await repository.create_order(db=db, caller=other, order=NEW_ORDER, idempotency_key=key)
    assert again == first and in_other_mode.id != first.id
    async with session_factory(engine)() as session:
        orders = select(func.count()).where(OrderRow.merchant_id == caller.merchant_id, OrderRow.idempotency_key == key)
        assert await session.scalar(orders) == 2  # one per mode


async def test_another_merchants_or_modes_order_is_not_found(engine: AsyncEngine, caller: Caller) -> None:
    async with driver_transaction(engine) as db:
        order = await repository.create_order(db=db, caller=caller, order=NEW_ORDER)
    for stranger in (Caller(merchant_id="mer_someone_else", mode="test"), Caller(caller.merchant_id, mode="live")):
        with pytest.raises(NotFound) as raised:
            async with driver_transaction(engine) as db:
                await repository.get_order(db=db, caller=stranger, order_id=order.id)
        assert raised.value.reason == "ORDER_NOT_FOUND"


async def test_a_steps_first_recorded_reference_stays(engine: AsyncEngine, caller: Caller) -> None:
    async with driver_transaction(engine) as db:
        order = await repository.create_order(db=db, caller=caller, order=NEW_ORDER)
    key = f"{order.id}-1-0"
    step: dict[str, object] = {
        "order_id": order.id,
        "merchant_id": caller.merchant_id,
        "attempt": 1,
        "type": "AUTHORIZE",
        "status": "PENDING",
        "processor": "razorpay",
        "amount": order.amount,
        "currency": order.currency,
        "routing_score": None,
        "idempotency_key": key,
    }
    async with driver_transaction(engine) as db:
        assert await repository.transaction_reference(db=db, idempotency_key=key) == ""
        assert await repository.record_reference(db=db, values=step, reference="order_first") == ("order_first", True)
    async with driver_transaction(engine) as db:  # a second run of the step prepared another
        assert await repository.record_reference(db=db, values=step, reference="order_second") == (
            "order_first",
            False,
        )
        assert await repository.transaction_reference(db=db, idempotency_key=key) == "order_first"
    other_step = step | {"idempotency_key": f"{order.id}-1-1"}
    async with session_factory(engine).begin() as session:  # a step that failed before its prepare answered
        await repository.get_or_create_transaction(session=session, values=other_step)
    async with driver_transaction(engine) as db:
        assert await repository.record_reference(db=db, values=other_step, reference="order_third") == (
            "order_third",
            True,
        )
    async with session_factory(engine)() as session:
        rows = await repository.list_transactions(session=session, caller=caller, order_id=order.id)
    assert [(row.idempotency_key, row.processor_reference, row.status) for row in rows] == [
        (key, "order_first", "PENDING"),
        (other_step["idempotency_key"], "order_third", "PENDING"),
    ]
