"""The pure comparison of reconciliation: one order's books against the processor's."""

from __future__ import annotations

from payloops.processor.v1 import processor_pb2

from services.order.models import OrderRow, RefundRow, TransactionRow
from services.order.reconcile import Finding, TheirRefund, compare_order

Status = processor_pb2.PaymentResult.Status


def order(captured: int = 1000, refunded: int = 0, status: str = "SUCCEEDED") -> OrderRow:
    return OrderRow(
        id="ord_1", merchant_id="mer_1", amount=1000, amount_captured=captured, amount_refunded=refunded, status=status
    )


def charge(status: str = "SUCCEEDED", reference: str = "pi_1", kind: str = "CHARGE") -> TransactionRow:
    return TransactionRow(
        id=f"txn_{reference}", type=kind, status=status, processor="stripe", processor_reference=reference, amount=1000
    )


def theirs(
    status: processor_pb2.PaymentResult.Status.ValueType, reference: str = "pi_1", refunded: int = 0
) -> processor_pb2.PaymentResult:
    captured = 1000 if status == Status.CAPTURED else 0
    return processor_pb2.PaymentResult(
        status=status, processor_reference=reference, amount=1000, amount_captured=captured, amount_refunded=refunded
    )


def results(found: list[Finding]) -> dict[tuple[str, str], str]:
    return {(f.object_type, f.object_id): f.result for f in found}


def test_both_books_agree() -> None:
    found = compare_order(order(), [charge()], [], {"stripe": [theirs(Status.CAPTURED)]}, {})
    assert results(found) == {("payment", "txn_pi_1"): "MATCH", ("order", "ord_1"): "MATCH"}


def test_money_only_one_side_holds() -> None:
    missing_there = compare_order(order(), [charge()], [], {"stripe": [theirs(Status.FAILED)]}, {})
    assert results(missing_there)[("payment", "txn_pi_1")] == "MISSING_AT_PROCESSOR"
    missing_here = compare_order(
        order(captured=0, status="FAILED"), [charge("FAILED")], [], {"stripe": [theirs(Status.CAPTURED)]}, {}
    )
    assert results(missing_here) == {("payment", "txn_pi_1"): "MISSING_AT_PAYLOOPS", ("order", "ord_1"): "MISMATCH"}
    unknown_to_us = compare_order(
        order(), [charge()], [], {"stripe": [theirs(Status.CAPTURED), theirs(Status.CAPTURED, "pi_2")]}, {}
    )
    assert results(unknown_to_us)[("payment", "")] == "MISSING_AT_PAYLOOPS"
    assert results(unknown_to_us)[("order", "ord_1")] == "DUPLICATE"


def test_a_late_capture_refunded_automatically_matches() -> None:
    late = charge("SUCCEEDED", "pi_2")
    refund = RefundRow(id="ref_1", status="SUCCEEDED", amount=1000, processor="stripe", processor_reference="re_1")
    payments = {"stripe": [theirs(Status.CAPTURED), theirs(Status.CAPTURED, "pi_2", refunded=1000)]}
    found = compare_order(
        order(captured=2000, refunded=1000),
        [charge(), late],
        [refund],
        payments,
        {"ref_1": TheirRefund("SUCCEEDED", 1000)},
    )
    assert set(results(found).values()) == {"MATCH"}


def test_refunds_compare_outcome_and_amount() -> None:
    def refund_result(ours: str, their: TheirRefund) -> str:
        refund = RefundRow(id="ref_1", status=ours, amount=300, processor="stripe", processor_reference="re_1")
        found = compare_order(
            order(refunded=300 if ours == "SUCCEEDED" else 0),
            [charge()],
            [refund],
            {"stripe": [theirs(Status.CAPTURED)]},
            {"ref_1": their},
        )
        return results(found)[("refund", "ref_1")]

    assert refund_result("SUCCEEDED", TheirRefund("SUCCEEDED", 300)) == "MATCH"
    assert refund_result("SUCCEEDED", TheirRefund("", 0)) == "MISSING_AT_PROCESSOR"
    assert refund_result("PENDING", TheirRefund("SUCCEEDED", 300)) == "MISSING_AT_PAYLOOPS"
    assert refund_result("SUCCEEDED", TheirRefund("SUCCEEDED", 200)) == "MISMATCH"


def test_a_voided_authorization_matches_a_released_one() -> None:
    authorization = charge("SUCCEEDED", kind="AUTHORIZE")
    void = TransactionRow(
        id="txn_v", type="VOID", status="SUCCEEDED", processor="stripe", processor_reference="pi_1", amount=1000
    )
    found = compare_order(
        order(captured=0, status="CANCELLED"), [authorization, void], [], {"stripe": [theirs(Status.VOIDED)]}, {}
    )
    assert set(results(found).values()) == {"MATCH"}
