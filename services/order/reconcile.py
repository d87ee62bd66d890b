"""Reconciliation: PayLoops' books against each processor's own records. Read-only.

For every order created in a window, the processors are asked for every payment they hold
for it (ListPayments) and for each of its refunds (GetRefund); then, per object:

- a payment (charge or authorization) matches when both books say money moved, or both
  say it did not; PayLoops recording money the processor does not hold is MISSING_AT_PROCESSOR,
  the processor holding money PayLoops does not record is MISSING_AT_PAYLOOPS;
- a refund matches when both books give it the same outcome and amount;
- an order's totals (captured minus refunded) match the processor's; an order whose money
  the processor took more than once, unrefunded, is a DUPLICATE.

`compare_order` is pure; `Reconciler` gathers both books."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import grpc
from payloops.processor.v1 import processor_pb2, processor_service_pb2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import relay
from services.order.authorizations import StepKind
from services.order.domain import TransactionStatus
from services.order.models import OrderRow, RefundRow, TransactionRow
from services.order.refunds import RefundStatus

if TYPE_CHECKING:  # the async stub type exists in the type stubs only
    from payloops.processor.v1.processor_service_pb2_grpc import ProcessorServiceAsyncStub as ProcessorStub

Payment = processor_pb2.PaymentResult
Status = Payment.Status
MATCH, MISMATCH, MISSING_AT_PROCESSOR, MISSING_AT_PAYLOOPS, DUPLICATE = (
    "MATCH",
    "MISMATCH",
    "MISSING_AT_PROCESSOR",
    "MISSING_AT_PAYLOOPS",
    "DUPLICATE",
)
MONEY = frozenset({Status.CAPTURED, Status.AUTHORIZED})
CHARGES = ("CHARGE", "AUTHORIZE")


@dataclass(frozen=True)
class Finding:
    object_type: str  # payment | refund | order
    object_id: str
    merchant_id: str
    order_id: str
    processor: str
    processor_reference: str
    result: str
    ours: str
    theirs: str


@dataclass(frozen=True)
class TheirRefund:
    status: str  # RefundResult.Status name; "" when the processor has no such refund
    amount: int


def describe(payment: Payment | None) -> str:
    if payment is None:
        return "none"
    return f"{Status.Name(payment.status)} {payment.amount_captured or payment.amount}"


def belongs(payment: Payment, reference: str) -> bool:
    return reference in (payment.processor_reference, payment.parent_reference)


def their_payment(payments: Sequence[Payment], reference: str) -> Payment | None:
    """The processor's payment a reference names; among several (a Razorpay order's), the
    one that moved money."""
    mine = [p for p in payments if belongs(p, reference)]
    return next((p for p in mine if p.status in MONEY), mine[0] if mine else None)


def payment_result(charge: TransactionRow, steps: Sequence[TransactionRow], theirs: Payment | None) -> str:
    ours_moved = charge.status == TransactionStatus.SUCCEEDED.value
    voided = any(s.type == StepKind.VOID.value and s.status == TransactionStatus.SUCCEEDED.value for s in steps)
    theirs_moved = theirs is not None and theirs.status in MONEY
    if ours_moved and theirs_moved:
        assert theirs is not None
        return MATCH if theirs.amount == charge.amount else MISMATCH
    if ours_moved and voided:  # a released authorization: nothing captured on either side
        return MATCH
    if ours_moved:
        return MISSING_AT_PROCESSOR
    if theirs_moved:
        return MISSING_AT_PAYLOOPS
    waiting = charge.status == TransactionStatus.ACTION_REQUIRED.value
    if waiting != (theirs is not None and theirs.status == Status.REQUIRES_ACTION):
        return MISMATCH
    return MATCH


def refund_result(refund: RefundRow, theirs: TheirRefund | None) -> str:
    if theirs is None or not theirs.status:
        if refund.status == RefundStatus.SUCCEEDED.value:
            return MISSING_AT_PROCESSOR
        return MATCH  # pending or failed before the processor made one
    if theirs.status == RefundStatus.SUCCEEDED.value and refund.status != RefundStatus.SUCCEEDED.value:
        return MISSING_AT_PAYLOOPS
    if theirs.status != refund.status or theirs.amount != refund.amount:
        return MISMATCH
    return MATCH


def compare_order(
    order: OrderRow,
    transactions: Sequence[TransactionRow],
    refunds: Sequence[RefundRow],
    payments: Mapping[str, Sequence[Payment]],
    their_refunds: Mapping[str, TheirRefund],
) -> list[Finding]:
    """Every payment and refund of one order, and its totals, against the processors'
    records (`payments` by processor, `their_refunds` by PayLoops refund id)."""

    def finding(
        kind: str, object_id: str, processor: str, reference: str, result: str, ours: str, theirs: str
    ) -> Finding:
        return Finding(kind, object_id, order.merchant_id, order.id, processor, reference, result, ours, theirs)

    found: list[Finding] = []
    claimed: set[str] = set()
    for charge in (t for t in transactions if t.type in CHARGES and t.processor_reference):
        theirs = their_payment(payments.get(charge.processor, ()), charge.processor_reference)
        if theirs is not None:
            claimed.add(theirs.processor_reference)
        steps = [t for t in transactions if t.type in (StepKind.CAPTURE.value, StepKind.VOID.value)]
        result = payment_result(
            charge, [s for s in steps if s.processor_reference == charge.processor_reference], theirs
        )
        ours = f"{charge.status} {charge.amount}"
        found.append(
            finding("payment", charge.id, charge.processor, charge.processor_reference, result, ours, describe(theirs))
        )
    for processor, theirs_all in payments.items():
        for theirs in theirs_all:
            if theirs.processor_reference not in claimed and theirs.status in MONEY:
                ref = theirs.processor_reference
                found.append(finding("payment", "", processor, ref, MISSING_AT_PAYLOOPS, "none", describe(theirs)))
    for refund in refunds:
        their_refund = their_refunds.get(refund.id)
        theirs_text = f"{their_refund.status} {their_refund.amount}" if their_refund and their_refund.status else "none"
        result = refund_result(refund, their_refund)
        ours = f"{refund.status} {refund.amount}"
        found.append(
            finding("refund", refund.id, refund.processor, refund.processor_reference, result, ours, theirs_text)
        )
    found.append(order_totals(order, payments))
    return found


def net_theirs(payments: Mapping[str, Sequence[Payment]]) -> int:
    return sum(
        p.amount_captured - p.amount_refunded for ps in payments.values() for p in ps if p.status == Status.CAPTURED
    )


def order_totals(order: OrderRow, payments: Mapping[str, Sequence[Payment]]) -> Finding:
    captured = [p for ps in payments.values() for p in ps if p.status == Status.CAPTURED]
    theirs = net_theirs(payments)
    ours = order.amount_captured - order.amount_refunded
    if len(captured) > 1 and theirs > order.amount:
        result = DUPLICATE
    else:
        result = MATCH if ours == theirs else MISMATCH
    processors = ",".join(sorted(p for p, ps in payments.items() if ps))
    return Finding(
        "order",
        order.id,
        order.merchant_id,
        order.id,
        processors,
        "",
        result,
        f"{order.status} net {ours}",
        f"net {theirs} in {len(captured)} captured payment(s)",
    )


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    orders: int
    net_ours: int
    net_theirs: int

    @property
    def clean(self) -> bool:
        return all(f.result == MATCH for f in self.findings)


class Reconciler:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], processors: Mapping[str, ProcessorStub], call_timeout: float
    ) -> None:
        self.sessions = sessions
        self.processors = processors
        self.call_timeout = call_timeout

    async def run(self, start: datetime, end: datetime, merchant_id: str = "") -> Report:
        async with self.sessions() as session:
            query = select(OrderRow).where(OrderRow.created_at >= start, OrderRow.created_at < end)
            if merchant_id:
                query = query.where(OrderRow.merchant_id == merchant_id)
            orders = list(await session.scalars(query.order_by(OrderRow.created_at, OrderRow.id)))
            ids = [o.id for o in orders]
            transactions = list(
                await session.scalars(
                    select(TransactionRow)
                    .where(TransactionRow.order_id.in_(ids))
                    .order_by(TransactionRow.created_at, TransactionRow.id)
                )
            )
            refunds = list(await session.scalars(select(RefundRow).where(RefundRow.order_id.in_(ids))))
        findings: list[Finding] = []
        net_ours = net_all = 0
        for order in orders:
            mine = [t for t in transactions if t.order_id == order.id]
            my_refunds = [r for r in refunds if r.order_id == order.id]
            if not mine:
                continue
            payments = await self.payments(order, mine)
            their_refunds = {r.id: await self.refund(order.merchant_id, r) for r in my_refunds}
            findings += compare_order(order, mine, my_refunds, payments, their_refunds)
            net_ours += order.amount_captured - order.amount_refunded
            net_all += net_theirs(payments)
        return Report(findings, len(orders), net_ours, net_all)

    async def payments(self, order: OrderRow, transactions: Sequence[TransactionRow]) -> dict[str, list[Payment]]:
        found: dict[str, list[Payment]] = {}
        for processor in sorted({t.processor for t in transactions if t.type in CHARGES}):
            references = sorted({t.processor_reference for t in transactions if t.processor == processor} - {""})
            request = processor_service_pb2.ListPaymentsRequest(
                merchant_id=order.merchant_id, order_id=order.id, processor_references=references
            )
            try:
                # A processor service restarting (its channel reconnecting) delays a read-only
                # comparison rather than failing it.
                answer = await self.processors[processor].ListPayments(
                    request, timeout=self.call_timeout, wait_for_ready=True
                )
            except grpc.aio.AioRpcError as error:
                raise relay(error) from None
            found[processor] = list(answer.payments)
        return found

    async def refund(self, merchant_id: str, refund: RefundRow) -> TheirRefund:
        if not refund.processor_reference:
            return TheirRefund("", 0)
        request = processor_service_pb2.GetRefundRequest(
            merchant_id=merchant_id, processor_reference=refund.processor_reference
        )
        try:
            answer = await self.processors[refund.processor].GetRefund(
                request, timeout=self.call_timeout, wait_for_ready=True
            )
        except grpc.aio.AioRpcError as error:
            raise relay(error) from None
        status = processor_pb2.RefundResult.Status.Name(answer.result.status)
        return TheirRefund(status, answer.result.amount)
