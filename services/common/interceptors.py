"""The one server interceptor: the mesh's call policy first (who may call this method),
trace ids into the log context, domain errors into AIP-193 statuses, a request that is
not the method's message into INVALID_ARGUMENT, unexpected errors into a bare INTERNAL
(logged, never shown)."""

from __future__ import annotations

import inspect
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from grpc_status import rpc_status

from services.common.call_policy import authorize
from services.common.errors import InvalidArgument, PayLoopsError, internal_status, unimplemented_status
from services.common.identity import TRACE_HEADER, Context
from services.common.logging import trace_id_var
from services.common.mesh import peer_identity
from services.common.text_guard import refuse_nul_characters

log = logging.getLogger("payloops.rpc")

Handler = Callable[[Any, Context], Awaitable[Any]]


class Undecodable:
    """A request whose bytes are not the method's message (e.g. JSON the gateway
    transcoded into a map of strings from nested objects). grpc would answer UNKNOWN, a
    500 at the edge; the handler answers INVALID_ARGUMENT instead."""


UNDECODABLE = Undecodable()


def decoding(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except DecodeError:
            return UNDECODABLE

    return decode


def _trace_id(details: grpc.HandlerCallDetails) -> str:
    for key, value in details.invocation_metadata or ():
        if key == TRACE_HEADER:
            return value if isinstance(value, str) else value.decode()
    return uuid.uuid4().hex


def check_caller(method: str, context: Context) -> None:
    """The mesh's call policy (services.common.call_policy), refusals logged with who asked."""
    caller = peer_identity(context)
    try:
        authorize(method, caller, (key for key, _ in context.invocation_metadata() or ()))
    except PayLoopsError as error:
        log.warning(
            "call refused by the mesh policy",
            extra={"method": method, "caller": caller or "(no certificate)", "reason": error.reason},
        )
        raise


def _authorized_stream(handler: grpc.RpcMethodHandler[Any, Any], method: str) -> grpc.RpcMethodHandler[Any, Any]:
    """A streaming handler (health Watch, reflection) behind the same call policy."""
    inner: Callable[[Any, Context], Any] | None = handler.unary_stream or handler.stream_stream  # type: ignore[assignment]
    if inner is None:  # client streaming: no PayLoops or standard service has one
        raise RuntimeError(f"{method}: client-streaming methods are not supported")

    async def behaviour(request: Any, context: Context) -> None:
        try:
            check_caller(method, context)
        except PayLoopsError as error:
            await context.abort_with_status(rpc_status.to_status(error.to_status()))
        result = inner(request, context)
        if inspect.isasyncgen(result):
            async for item in result:
                await context.write(item)
        else:
            await result

    make = grpc.unary_stream_rpc_method_handler if handler.unary_stream else grpc.stream_stream_rpc_method_handler
    return make(
        behaviour,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        if handler.unary_unary is None:
            return _authorized_stream(handler, method)
        trace_id = _trace_id(handler_call_details)
        inner: Handler = handler.unary_unary  # type: ignore[assignment]  # aio handlers are coroutines

        async def guarded(request: Any, context: Context) -> Any:
            token = trace_id_var.set(trace_id)
            started = time.perf_counter()
            code = "OK"
            try:
                check_caller(method, context)
                if request is UNDECODABLE:
                    raise InvalidArgument(
                        message="the request body does not match the method's message (check the field types)",
                        reason="REQUEST_MALFORMED",
                    )
                refuse_nul_characters(request)
                return await inner(request, context)
            except PayLoopsError as error:
                code = error.code.name
                log.info("rpc refused", extra={"method": method, "code": code, "reason": error.reason})
                await context.abort_with_status(rpc_status.to_status(error.to_status()))
            except grpc.aio.AbortError:
                raise
            except NotImplementedError:  # the generated default of an RPC not built yet
                code = "UNIMPLEMENTED"
                await context.abort_with_status(rpc_status.to_status(unimplemented_status(method)))
            except Exception:
                code = "INTERNAL"
                log.exception("rpc failed", extra={"method": method})
                await context.abort_with_status(rpc_status.to_status(internal_status()))
            finally:
                elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
                log.debug("rpc", extra={"method": method, "code": code, "ms": elapsed_ms})
                trace_id_var.reset(token)

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=decoding(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
