"""A `retry-after` trailer on errors that carry a retry delay (RESOURCE_EXHAUSTED,
UNAVAILABLE): the gateway's transcoder turns trailers into response headers, so REST
clients get an HTTP Retry-After as well as the google.rpc.RetryInfo detail.

Runs inside the shared ErrorInterceptor, which passes the resulting abort through."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from services.common.errors import PayLoopsError
from services.common.identity import Context

Handler = Callable[[Any, Context], Awaitable[Any]]
log = logging.getLogger("payloops.rpc")


class RetryAfterInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner: Handler = handler.unary_unary  # type: ignore[assignment]  # aio handlers are coroutines

        async def with_retry_after(request: Any, context: Context) -> Any:
            try:
                return await inner(request, context)
            except PayLoopsError as error:
                seconds = int(getattr(error, "retry_after_seconds", 0))
                if seconds <= 0:
                    raise
                log.info(
                    "rpc refused",
                    extra={"method": handler_call_details.method, "code": error.code.name, "reason": error.reason},
                )
                status = rpc_status.to_status(error.to_status())
                await context.abort(
                    status.code, status.details, (*status.trailing_metadata, ("retry-after", str(seconds)))
                )

        return grpc.unary_unary_rpc_method_handler(
            with_retry_after,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
