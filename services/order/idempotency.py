"""Idempotency-Key for the merchant API's POSTs, stored durably per merchant, and bound to
the operation rather than to the connection.

The first request with a key runs once and its answer (message or error status) is
stored; a later request with the same key and the same body gets the stored answer;
the same key with another body is 409 IDEMPOTENCY_KEY_REUSED. A request arriving while
the first is still running waits a while for its answer, then is 409
IDEMPOTENCY_KEY_IN_USE.

The handler runs in a task of its own: a client that disconnects or times out cancels
its wait, never the operation, whose answer is stored when it ends. When the handler
itself cannot finish (a transient failure, or this process dies and the key's lease
runs out) the key is not released: the next request with the same key and body takes
it over and runs the handler again, and the handlers bind what they start to the key
(`request_key()`), so that second run joins the first's order, payment or refund."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

import grpc
from google.rpc import status_pb2
from grpc_status import rpc_status
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.errors import Conflict, FieldViolation, InvalidArgument, PayLoopsError
from services.common.identity import Context, caller, metadata_value
from services.order.models import IdempotencyKeyRow

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
TRANSIENT = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNKNOWN}
Handler = Callable[[Any, Context], Awaitable[Any]]
RUNNING, DONE, INTERRUPTED = "running", "done", "interrupted"
JOIN_POLL_SECONDS = 0.05

log = logging.getLogger("payloops.order.idempotency")
_request_key: ContextVar[str] = ContextVar("idempotency_key", default="")
_resumed: ContextVar[bool] = ContextVar("idempotency_resumed", default=False)


def request_key() -> str:
    """The Idempotency-Key of the request being handled ("" without one)."""
    return _request_key.get()


def request_resumed() -> bool:
    """Whether this request took its key over from an earlier request with the same key and
    body that did not finish: whatever that one did, this one answers as its result."""
    return _resumed.get()


def matching(scope: dict[str, str]) -> list[Any]:
    return [getattr(IdempotencyKeyRow, name) == value for name, value in scope.items()]


def fingerprint(method: str, request: Any) -> str:
    return hashlib.sha256(method.encode() + b"\0" + request.SerializeToString(deterministic=True)).hexdigest()


class IdempotencyStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        lease: timedelta,
        retention: timedelta,
        join_seconds: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.lease = lease
        self.retention = retention
        self.join_seconds = join_seconds
        self._operations: set[asyncio.Task[Any]] = set()

    async def run(self, method: str, handler: Handler, request: Any, context: Context) -> Any:
        """Run `handler` at most once per (merchant, mode, key); bytes are a stored answer."""
        key = metadata_value(context, HEADER)
        if not key:
            return await handler(request, context)
        if len(key) > MAX_KEY_LENGTH:
            raise InvalidArgument(
                message=f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters",
                reason="IDEMPOTENCY_KEY_INVALID",
                violations=[FieldViolation("Idempotency-Key", f"at most {MAX_KEY_LENGTH} characters")],
            )
        who = caller(context)
        scope = {"merchant_id": who.merchant_id, "mode": who.mode, "key": key}
        digest = fingerprint(method, request)
        deadline = time.monotonic() + self.join_seconds
        while isinstance(claim := await self._claim(scope, digest), IdempotencyKeyRow):
            if claim.state != RUNNING or claim.request_hash != digest or time.monotonic() >= deadline:
                return await self._replay(claim, digest, context)
            await asyncio.sleep(JOIN_POLL_SECONDS)
        operation = asyncio.create_task(self._operate(scope, key, claim, handler, request, context))
        self._operations.add(operation)
        operation.add_done_callback(self._settled)
        return await asyncio.shield(operation)

    def _settled(self, operation: asyncio.Task[Any]) -> None:
        self._operations.discard(operation)
        if not operation.cancelled():
            operation.exception()  # retrieved: an answer nobody waited for is not an error

    async def _operate(
        self, scope: dict[str, str], key: str, resumed: bool, handler: Handler, request: Any, context: Context
    ) -> Any:
        """The handler, to its end whatever happens to the caller; then its answer is stored.
        While it runs its lease is renewed, so only a dead process loses the key."""
        _request_key.set(key)
        _resumed.set(resumed)
        renewing = asyncio.create_task(self._renew(scope))
        try:
            response = await handler(request, context)
        except PayLoopsError as error:
            if error.code in TRANSIENT:
                await self._interrupt(scope)
            else:
                await self._finish(scope, error.code, error.to_status().SerializeToString())
            raise
        except BaseException:
            await self._interrupt(scope)
            raise
        finally:
            renewing.cancel()
        await self._finish(scope, grpc.StatusCode.OK, response.SerializeToString())
        return response

    async def _renew(self, scope: dict[str, str]) -> None:
        every = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                async with self.sessions.begin() as session:
                    await session.execute(
                        update(IdempotencyKeyRow).filter_by(**scope, state=RUNNING).values(updated_at=func.now())
                    )
            except Exception:  # a missed renewal only shortens the lease
                log.warning("idempotency lease not renewed", exc_info=True)

    async def _claim(self, scope: dict[str, str], digest: str) -> IdempotencyKeyRow | bool:
        """The existing row; or, when this request now owns the key, whether it took it over
        from an earlier request that did not finish."""
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                insert(IdempotencyKeyRow)
                .values(**scope, request_hash=digest)
                .on_conflict_do_nothing()
                .returning(IdempotencyKeyRow.key)
            )
            if claimed.first() is not None:
                return False
            stale = IdempotencyKeyRow.updated_at < func.now() - self.lease
            row, lease_expired = (
                await session.execute(select(IdempotencyKeyRow, stale).where(*matching(scope)).with_for_update())
            ).one()
            abandoned = row.state == INTERRUPTED or (row.state == RUNNING and lease_expired)
            if abandoned and row.request_hash == digest:
                await session.execute(
                    update(IdempotencyKeyRow).filter_by(**scope).values(state=RUNNING, updated_at=func.now())
                )
                return True
            session.expunge(row)
            return row

    async def _replay(self, row: IdempotencyKeyRow, digest: str, context: Context) -> Any:
        if row.request_hash != digest:
            raise Conflict(
                message="this Idempotency-Key was used with a different request", reason="IDEMPOTENCY_KEY_REUSED"
            )
        if row.state != DONE:
            raise Conflict(
                message="a request with this Idempotency-Key is still running; retry later",
                reason="IDEMPOTENCY_KEY_IN_USE",
            )
        if row.status_code != grpc.StatusCode.OK.value[0]:
            await context.abort_with_status(rpc_status.to_status(status_pb2.Status.FromString(row.response)))
        return row.response

    async def _finish(self, scope: dict[str, str], code: grpc.StatusCode, payload: bytes) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(IdempotencyKeyRow)
                .filter_by(**scope)
                .values(state=DONE, status_code=code.value[0], response=payload, updated_at=func.now())
            )

    async def _interrupt(self, scope: dict[str, str]) -> None:
        """The operation did not finish: the next request with the same body takes it over."""
        async with self.sessions.begin() as session:
            await session.execute(
                update(IdempotencyKeyRow).filter_by(**scope).values(state=INTERRUPTED, updated_at=func.now())
            )

    async def purge_expired(self) -> int:
        async with self.sessions.begin() as session:
            done = await session.execute(
                delete(IdempotencyKeyRow).where(IdempotencyKeyRow.created_at < func.now() - self.retention)
            )
        return int(getattr(done, "rowcount", 0) or 0)


class IdempotencyInterceptor(grpc.aio.ServerInterceptor):
    """Applies an IdempotencyStore to the listed methods (full gRPC method names)."""

    def __init__(self, store: IdempotencyStore, methods: frozenset[str]) -> None:
        self.store = store
        self.methods = methods

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or handler.unary_unary is None or method not in self.methods:
            return handler
        inner: Handler = handler.unary_unary  # type: ignore[assignment]  # aio handlers are coroutines
        serialize = handler.response_serializer

        async def once(request: Any, context: Context) -> Any:
            return await self.store.run(method, inner, request, context)

        def serialize_or_replay(response: Any) -> bytes:
            return response if isinstance(response, bytes) else serialize(response)  # type: ignore[misc]

        return grpc.unary_unary_rpc_method_handler(
            once, request_deserializer=handler.request_deserializer, response_serializer=serialize_or_replay
        )
