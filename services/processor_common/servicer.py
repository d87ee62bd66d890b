"""ProcessorService for any plug-in: validate, fetch the merchant's credentials, call the
plug-in, answer. Plug-in errors are PayLoopsErrors: the shared interceptor maps them."""

from __future__ import annotations

import logging

from payloops.processor.v1 import processor_service_pb2 as pb
from payloops.processor.v1 import processor_service_pb2_grpc

from services.common.errors import FieldViolation, require
from services.common.identity import Context
from services.processor_common import convert
from services.processor_common.credentials import CredentialsSource
from services.processor_common.model import Credentials, PaymentLookup, VoidRequest, WebhookRequest
from services.processor_common.plugin import ProcessorPlugin

log = logging.getLogger("payloops.processor")


class ProcessorServicer(processor_service_pb2_grpc.ProcessorServiceServicer):
    def __init__(self, plugin: ProcessorPlugin, credentials_source: CredentialsSource) -> None:
        self.plugin = plugin
        self.credentials_source = credentials_source

    async def _credentials(self, merchant_id: str) -> Credentials:
        return await self.credentials_source.get(merchant_id, self.plugin.id)

    async def PreparePayment(self, request: pb.PreparePaymentRequest, context: Context) -> pb.PreparePaymentResponse:
        payment = convert.payment_request(request, self.plugin.id)
        reference = await self.plugin.prepare(payment, await self._credentials(request.context.merchant_id))
        log.info("prepare", extra={"order_id": payment.order_id, "reference": reference})
        return pb.PreparePaymentResponse(processor_reference=reference)

    async def Authorize(self, request: pb.AuthorizeRequest, context: Context) -> pb.AuthorizeResponse:
        payment = convert.payment_request(request, self.plugin.id)
        result = await self.plugin.authorize(payment, await self._credentials(request.context.merchant_id))
        log.info(
            "authorize",
            extra={
                "order_id": payment.order_id,
                "reference": result.reference,
                "status": result.status.value,
                "failure_code": result.failure_code,
                "resumed": bool(payment.existing_reference),
            },
        )
        return pb.AuthorizeResponse(result=convert.payment_result(result))

    async def Capture(self, request: pb.CaptureRequest, context: Context) -> pb.CaptureResponse:
        capture = convert.capture_request(request)
        result = await self.plugin.capture(capture, await self._credentials(request.context.merchant_id))
        return pb.CaptureResponse(result=convert.payment_result(result))

    async def Void(self, request: pb.VoidRequest, context: Context) -> pb.VoidResponse:
        convert.require_context(request.context, processor_reference=request.processor_reference)
        void = VoidRequest(idempotency_key=request.context.idempotency_key, reference=request.processor_reference)
        result = await self.plugin.void(void, await self._credentials(request.context.merchant_id))
        return pb.VoidResponse(result=convert.payment_result(result))

    async def Refund(self, request: pb.RefundRequest, context: Context) -> pb.RefundResponse:
        refund = convert.refund_request(request)
        result = await self.plugin.refund(refund, await self._credentials(request.context.merchant_id))
        log.info(
            "refund",
            extra={"refund_id": refund.refund_id, "reference": result.reference, "status": result.status.value},
        )
        return pb.RefundResponse(result=convert.refund_result(result))

    async def GetPayment(self, request: pb.GetPaymentRequest, context: Context) -> pb.GetPaymentResponse:
        convert.require_fields(merchant_id=request.merchant_id)
        if not request.processor_reference:
            if not self.plugin.finds_payments_by_order_id:
                reason = f"{self.plugin.id} cannot find a payment by order id alone"
                require(
                    [FieldViolation("processor_reference", f"is required: {reason}")], "PROCESSOR_REFERENCE_REQUIRED"
                )
            convert.require_fields(order_id=request.order_id)
        lookup = PaymentLookup(reference=request.processor_reference, order_id=request.order_id)
        result = await self.plugin.get_payment(lookup, await self._credentials(request.merchant_id))
        return pb.GetPaymentResponse(result=convert.payment_result(result))

    async def GetRefund(self, request: pb.GetRefundRequest, context: Context) -> pb.GetRefundResponse:
        convert.require_fields(merchant_id=request.merchant_id, processor_reference=request.processor_reference)
        credentials = await self._credentials(request.merchant_id)
        result = await self.plugin.get_refund(request.processor_reference, credentials)
        return pb.GetRefundResponse(result=convert.refund_result(result))

    async def ListPayments(self, request: pb.ListPaymentsRequest, context: Context) -> pb.ListPaymentsResponse:
        convert.require_fields(merchant_id=request.merchant_id, order_id=request.order_id)
        credentials = await self._credentials(request.merchant_id)
        found = await self.plugin.list_payments(request.order_id, list(request.processor_references), credentials)
        return pb.ListPaymentsResponse(payments=[convert.payment_result(p) for p in found])

    async def ParseWebhook(self, request: pb.ParseWebhookRequest, context: Context) -> pb.ParseWebhookResponse:
        convert.require_fields(merchant_id=request.merchant_id)
        webhook = WebhookRequest(body=request.body, headers={k.lower(): v for k, v in request.headers.items()})
        event = await self.plugin.parse_webhook(webhook, await self._credentials(request.merchant_id))
        return pb.ParseWebhookResponse(event=convert.processor_event(event))
