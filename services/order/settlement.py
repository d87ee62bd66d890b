"""What a processor's word about a capture, a void or a late capture does to our books, in
one place for the workflows and for processor webhooks alike. Every function runs in the
caller's transaction, with the order's row lock held."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import FailedPrecondition
from services.common.ids import new_id
from services.order import repository
from services.order.authorizations import DONE, AuthorizationStep, StepKind
from services.order.domain import OrderStatus, TransactionStatus
from services.order.models import OrderRow, RefundRow, TransactionRow
from services.order.payments import CAPTURED, ChargeResult

S, T = OrderStatus, TransactionStatus
CHARGES = ("CHARGE", "AUTHORIZE")
STEPS = (StepKind.CAPTURE.value, StepKind.VOID.value)
# An order still waiting for its payment's outcome (the workflow or the customer).
OPEN = frozenset({S.PROCESSING.value, S.REQUIRES_ACTION.value})
# An order whose authorization (or pending 3-D Secure payment) a step may act on.
ACTIONABLE = {
    StepKind.CAPTURE.value: frozenset({S.AUTHORIZED.value}),
    StepKind.VOID.value: frozenset({S.AUTHORIZED.value, S.REQUIRES_ACTION.value}),
}
LATE_CAPTURE_REASON = "automatic: captured at the processor after the order was closed"


async def begin_step(session: AsyncSession, order: OrderRow, kind: StepKind, amount: int) -> AuthorizationStep:
    """Records a capture or void of the order's current payment as a PENDING transaction
    (or finds the one already running) and describes it for its workflow."""
    charge = await session.scalar(
        select(TransactionRow)
        .where(
            TransactionRow.order_id == order.id,
            TransactionRow.attempt == order.attempt,
            TransactionRow.type.in_(CHARGES),
            TransactionRow.status.in_((T.SUCCEEDED.value, T.ACTION_REQUIRED.value)),
            TransactionRow.processor_reference != "",
        )
        .order_by(TransactionRow.created_at.desc())
        .limit(1)
    )
    if charge is None:
        raise FailedPrecondition(message="the order has no authorization to act on", reason="ORDER_NOT_AUTHORIZED")
    steps = list(
        await session.scalars(
            select(TransactionRow).where(
                TransactionRow.order_id == order.id,
                TransactionRow.attempt == order.attempt,
                TransactionRow.type.in_(STEPS),
            )
        )
    )
    running = next((t for t in steps if t.status == T.PENDING.value), None)
    if running is not None and running.type != kind.value:
        raise FailedPrecondition(
            message=f"a {running.type.lower()} of this order is still in progress",
            reason="ORDER_STATE_CONFLICT",
            metadata={"in_progress": running.type},
        )
    if running is None:
        number = 1 + sum(1 for t in steps if t.type == kind.value)
        running = TransactionRow(
            id=new_id("txn"),
            order_id=order.id,
            merchant_id=order.merchant_id,
            attempt=order.attempt,
            type=kind.value,
            status=T.PENDING.value,
            processor=charge.processor,
            processor_reference=charge.processor_reference,
            amount=amount,
            currency=order.currency,
            idempotency_key=f"{order.id}-a{order.attempt}-{kind.value.lower()}-{number}",
        )
        session.add(running)
        await session.flush()
    return step_of(order, running)


def step_of(order: OrderRow, txn: TransactionRow) -> AuthorizationStep:
    return AuthorizationStep(
        kind=txn.type,
        order_id=order.id,
        merchant_id=order.merchant_id,
        mode=order.mode,
        attempt=txn.attempt,
        processor=txn.processor,
        processor_reference=txn.processor_reference,
        amount=txn.amount,
        currency=txn.currency,
        transaction_key=txn.idempotency_key,
    )


async def running_step(session: AsyncSession, order: OrderRow, kind: StepKind) -> AuthorizationStep | None:
    txn = await session.scalar(
        select(TransactionRow).where(
            TransactionRow.order_id == order.id,
            TransactionRow.attempt == order.attempt,
            TransactionRow.type == kind.value,
            TransactionRow.status == T.PENDING.value,
        )
    )
    return None if txn is None else step_of(order, txn)


async def settle_step(
    session: AsyncSession, order: OrderRow, step: AuthorizationStep, result: ChargeResult | None, refusal: str = ""
) -> str:
    """Records a capture's or void's outcome; None with `refusal`: the processor refused
    the step (the order is unchanged). Returns the order's status."""
    txn = await session.scalar(
        select(TransactionRow).where(TransactionRow.idempotency_key == step.transaction_key).with_for_update()
    )
    assert txn is not None
    if result is None:
        repository.advance_transaction(txn, T.FAILED.value, failure_code=refusal or "refused")
        return order.status
    charge = await session.scalar(
        select(TransactionRow)
        .where(
            TransactionRow.order_id == order.id,
            TransactionRow.attempt == step.attempt,
            TransactionRow.type.in_(CHARGES),
            TransactionRow.processor_reference == step.processor_reference,
        )
        .with_for_update()
    )
    actionable = order.status in ACTIONABLE[step.kind] and order.attempt == step.attempt
    if result.status == DONE[step.kind] or (step.kind == StepKind.VOID.value and result.status != CAPTURED):
        repository.advance_transaction(txn, T.SUCCEEDED.value)
        if step.kind == StepKind.CAPTURE.value and actionable:
            repository.move(order, S.SUCCEEDED)
            order.amount_captured = result.amount_captured or txn.amount
        elif actionable:  # voided (or nothing left to void: the payment had failed)
            if charge is not None:
                repository.advance_transaction(charge, T.FAILED.value, failure_code="cancelled")
            repository.move(order, S.CANCELLED)
        return order.status
    if step.kind == StepKind.VOID.value:  # captured before it could be cancelled: the payment stands
        repository.advance_transaction(txn, T.FAILED.value, failure_code="payment_captured")
        if charge is not None:
            repository.advance_transaction(charge, T.SUCCEEDED.value)
        if actionable:
            repository.record_payment(
                order,
                S.SUCCEEDED,
                processor=step.processor,
                amount_captured=result.amount_captured,
                failure_code="",
                failure_message="",
                next_action_url="",
            )
        return order.status
    repository.advance_transaction(
        txn,
        T.FAILED.value,
        failure_code=result.failure_code or "capture_failed",
        failure_message=result.failure_message,
    )
    return order.status


async def record_late_capture(
    session: AsyncSession, order: OrderRow, charge: TransactionRow, amount_captured: int
) -> RefundRow | None:
    """A capture the processor reports for a charge that is not the order's payment (the
    order was cancelled or failed, or another charge paid it): our books record the money
    and refund it automatically, so they keep agreeing with the processor's. Returns the
    new refund (its workflow is to be started), None if this capture was already handled."""
    if charge.status == T.SUCCEEDED.value:
        return None
    repository.advance_transaction(charge, T.SUCCEEDED.value)
    amount = amount_captured or charge.amount
    order.amount_captured += amount
    return await repository.add_refund(
        session=session, order=order, charge=charge, amount=amount, reason=LATE_CAPTURE_REASON
    )


def is_late_capture(order: OrderRow, charge: TransactionRow, status: str) -> bool:
    """A CAPTURED report for a charge that is not the one the order is waiting on: the order
    was closed (cancelled, failed, paid by another charge), or the charge was given up on."""
    awaited = (
        order.status in OPEN | {S.AUTHORIZED.value}
        and charge.attempt == order.attempt
        and charge.status != T.FAILED.value
    )
    return status == CAPTURED and charge.status != T.SUCCEEDED.value and not awaited
