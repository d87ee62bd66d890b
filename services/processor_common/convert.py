"""ProcessorService messages ⇄ the plug-in dataclasses, with the request validation every
processor shares."""

from __future__ import annotations

from payloops.processor.v1 import processor_pb2, processor_service_pb2

from services.common.errors import FieldViolation, InvalidArgument, require
from services.common.money import amount_violations, currency_violations
from services.processor_common.model import (
    CaptureRequest,
    PaymentRequest,
    PaymentResult,
    ProcessorEvent,
    RefundRequest,
    RefundResult,
)
from services.processor_common.test_tokens import native_processor

MAX_AMOUNT = 2**31 - 1  # the contract's int32


def _required(**values: str) -> list[FieldViolation]:
    return [FieldViolation(name, "is required") for name, value in values.items() if not value]


def _context_violations(context: processor_service_pb2.CallContext) -> list[FieldViolation]:
    return _required(**{"context.merchant_id": context.merchant_id, "context.idempotency_key": context.idempotency_key})


def payment_request(
    message: processor_service_pb2.AuthorizeRequest | processor_service_pb2.PreparePaymentRequest, processor: str
) -> PaymentRequest:
    violations = _context_violations(message.context)
    violations += _required(order_id=message.order_id, payment_method_token=message.payment_method_token)
    violations += amount_violations(message.amount, maximum=MAX_AMOUNT)
    violations += currency_violations(message.currency)
    require(violations)
    native = native_processor(message.payment_method_token)
    if native is not None and native != processor:
        raise InvalidArgument(
            message=f"a {native} payment method cannot be used at {processor}",
            reason="PAYMENT_METHOD_NOT_SUPPORTED",
            violations=[FieldViolation("payment_method_token", f"belongs to {native}")],
        )
    resume = message if isinstance(message, processor_service_pb2.AuthorizeRequest) else None
    return PaymentRequest(
        idempotency_key=message.context.idempotency_key,
        order_id=message.order_id,
        amount=message.amount,
        currency=message.currency,
        payment_method_token=message.payment_method_token,
        capture=message.capture,
        payment_method_type=message.payment_method_type,
        return_url=resume.return_url if resume else "",
        customer_email=message.customer_email,
        description=message.description,
        existing_reference=resume.existing_reference if resume else "",
        authenticate=message.authenticate,
        newly_prepared=bool(resume and resume.existing_reference and resume.newly_prepared),
    )


def _optional_money(amount: int, currency: str) -> list[FieldViolation]:
    violations = [FieldViolation("amount", "must not be negative")] if amount < 0 else []
    return violations + (currency_violations(currency) if currency else [])


def capture_request(message: processor_service_pb2.CaptureRequest) -> CaptureRequest:
    violations = _context_violations(message.context) + _required(processor_reference=message.processor_reference)
    require(violations + _optional_money(message.amount, message.currency))
    return CaptureRequest(
        idempotency_key=message.context.idempotency_key,
        reference=message.processor_reference,
        amount=message.amount,
        currency=message.currency,
    )


def refund_request(message: processor_service_pb2.RefundRequest) -> RefundRequest:
    violations = _context_violations(message.context)
    violations += _required(processor_reference=message.processor_reference, refund_id=message.refund_id)
    require(violations + _optional_money(message.amount, message.currency))
    return RefundRequest(
        idempotency_key=message.context.idempotency_key,
        reference=message.processor_reference,
        refund_id=message.refund_id,
        amount=message.amount,
        currency=message.currency,
        reason=message.reason,
    )


def require_fields(**values: str) -> None:
    require(_required(**values))


def require_context(context: processor_service_pb2.CallContext, **values: str) -> None:
    require(_context_violations(context) + _required(**values))


def payment_result(result: PaymentResult) -> processor_pb2.PaymentResult:
    return processor_pb2.PaymentResult(
        status=processor_pb2.PaymentResult.Status.Value(result.status.value),
        processor_reference=result.reference,
        amount=result.amount,
        amount_captured=result.amount_captured,
        failure_code=result.failure_code,
        failure_message=result.failure_message,
        next_action_url=result.next_action_url,
        processor_status=result.processor_status,
        parent_reference=result.parent_reference,
        currency=result.currency,
        amount_refunded=result.amount_refunded,
    )


def refund_result(result: RefundResult) -> processor_pb2.RefundResult:
    return processor_pb2.RefundResult(
        status=processor_pb2.RefundResult.Status.Value(result.status.value),
        processor_reference=result.reference,
        amount=result.amount,
        failure_code=result.failure_code,
        failure_message=result.failure_message,
    )


def processor_event(event: ProcessorEvent) -> processor_pb2.ProcessorEvent:
    message = processor_pb2.ProcessorEvent(
        event_id=event.event_id, event_type=event.event_type, order_id=event.order_id, refund_id=event.refund_id
    )
    if event.payment is not None:
        message.payment.CopyFrom(payment_result(event.payment))
    elif event.refund is not None:
        message.refund.CopyFrom(refund_result(event.refund))
    return message
