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
(`request_key()`), so that second run joins the first's order, payment or refund.

A handler that only writes to this database (CreateOrder) runs inside the key's own
transaction (`request_transaction()`): the key is taken, the handler's writes made and
its answer stored in one commit, or none of it is. A second request with the key waits
on the first's uncommitted row, then gets its stored answer."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import grpc
from google.rpc import status_pb2
from grpc_status import rpc_status
from psycopg import AsyncConnection
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import driver_statements, driver_transaction
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
_transaction: ContextVar[AsyncConnection[Any] | None] = ContextVar("idempotency_transaction", default=None)


def request_key() -> str:
    """The Idempotency-Key of the request being handled ("" without one)."""
    return _request_key.get()


def request_resumed() -> bool:
    """Whether this request took its key over from an earlier request with the same key and
    body that did not finish: whatever that one did, this one answers as its result."""
    return _resumed.get()


@contextlib.asynccontextmanager
async def request_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection[Any]]:
    """The transaction of the request's Idempotency-Key when the handler runs inside it
    (committed with the key and the answer); otherwise statements that commit one by one,
    so a handler that runs here writes with one statement (CreateOrder's insert)."""
    key_transaction = _transaction.get()
    if key_transaction is not None:
        yield key_transaction
        return
    async with driver_statements(engine) as db:
        yield db


def fingerprint(method: str, request: Any) -> str:
    return hashlib.sha256(method.encode() + b"\0" + request.SerializeToString(deterministic=True)).hexdigest()


@dataclass(frozen=True)
class Claim:
    """A key's row as another request left it."""

    state: str
    request_hash: str
    status_code: int | None
    response: bytes | None


# Straight on psycopg (a key costs two transactions per POST; through the ORM each would
# cost several times its statement). The table is the model's.
TABLE = cast(Table, IdempotencyKeyRow.__table__).fullname
SCOPE = "merchant_id = %(merchant_id)s AND mode = %(mode)s AND key = %(key)s"
TAKE = f"""INSERT INTO {TABLE} (merchant_id, mode, key, request_hash, state, created_at, updated_at)
    VALUES (%(merchant_id)s, %(mode)s, %(key)s, %(request_hash)s, '{RUNNING}', now(), now())
    ON CONFLICT DO NOTHING RETURNING key"""
LOCK = f"""SELECT state, request_hash, status_code, response, updated_at < now() - %(lease)s
    FROM {TABLE} WHERE {SCOPE} FOR UPDATE"""
RETAKE = f"UPDATE {TABLE} SET state = '{RUNNING}', updated_at = now() WHERE {SCOPE}"
RENEW = f"UPDATE {TABLE} SET updated_at = now() WHERE {SCOPE} AND state = '{RUNNING}'"
FINISH = f"""UPDATE {TABLE} SET state = '{DONE}', status_code = %(status_code)s, response = %(response)s,
    updated_at = now() WHERE {SCOPE}"""
REFUSED = f"""INSERT INTO {TABLE}
    (merchant_id, mode, key, request_hash, state, status_code, response, created_at, updated_at)
    VALUES (%(merchant_id)s, %(mode)s, %(key)s, %(request_hash)s, '{DONE}', %(status_code)s, %(response)s, now(), now())
    ON CONFLICT DO NOTHING"""
INTERRUPT = f"UPDATE {TABLE} SET state = '{INTERRUPTED}', updated_at = now() WHERE {SCOPE}"
PURGE = f"DELETE FROM {TABLE} WHERE created_at < now() - %(retention)s"


class IdempotencyStore:
    def __init__(
        self,
        engine: AsyncEngine,
        lease: timedelta,
        retention: timedelta,
        join_seconds: float = 10.0,
    ) -> None:
        self.engine = engine
        self.lease = lease
        self.retention = retention
        self.join_seconds = join_seconds
        self._operations: set[asyncio.Task[Any]] = set()

    async def run(
        self, method: str, handler: Handler, request: Any, context: Context, *, in_key_transaction: bool = False
    ) -> Any:
        """Run `handler` at most once per (merchant, mode, key); bytes are a stored answer.
        With `in_key_transaction`, the handler writes only through `request_transaction()`
        and moves nothing outside this database."""
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
        if in_key_transaction:
            atomic = self._detached(self._take_and_run(scope, digest, key, handler, request, context))
            answer = await asyncio.shield(atomic)
            if not isinstance(answer, Claim):
                return answer
            if answer.state != RUNNING:
                return await self._replay(answer, digest, context)
        deadline = time.monotonic() + self.join_seconds
        while isinstance(claim := await self._claim(scope, digest), Claim):
            if claim.state != RUNNING or claim.request_hash != digest or time.monotonic() >= deadline:
                return await self._replay(claim, digest, context)
            await asyncio.sleep(JOIN_POLL_SECONDS)
        return await asyncio.shield(self._detached(self._operate(scope, key, claim, handler, request, context)))

    def _detached(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        """`work` in a task of its own, which a caller that goes away does not cancel."""
        operation = asyncio.ensure_future(work)
        self._operations.add(operation)
        operation.add_done_callback(self._settled)
        return operation

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
                await self._write(INTERRUPT, scope)
            else:
                await self._finish(scope, error.code, error.to_status().SerializeToString())
            raise
        except BaseException:
            await self._write(INTERRUPT, scope)  # the next request with the same body takes it over
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
                await self._write(RENEW, scope)
            except Exception:  # a missed renewal only shortens the lease
                log.warning("idempotency lease not renewed", exc_info=True)

    async def _take_and_run(
        self, scope: dict[str, str], digest: str, key: str, handler: Handler, request: Any, context: Context
    ) -> Any:
        """The key taken, the handler run and its answer stored in one transaction; or the
        key's row as another request left it. A failure undoes all of it; a refusal is then
        stored as the key's answer on its own (rare, so the answer needs no savepoint)."""
        try:
            async with driver_transaction(self.engine) as db:
                claim = await self._take(db, scope, digest)
                if isinstance(claim, Claim):
                    return claim
                _request_key.set(key)
                _resumed.set(claim)
                _transaction.set(db)
                response = await handler(request, context)
                await db.execute(FINISH, self._answer(scope, grpc.StatusCode.OK, response.SerializeToString()))
        except PayLoopsError as error:
            if error.code not in TRANSIENT:
                refusal = self._answer(scope, error.code, error.to_status().SerializeToString())
                await self._write(REFUSED, refusal | {"request_hash": digest})
            raise
        return response

    async def _claim(self, scope: dict[str, str], digest: str) -> Claim | bool:
        async with driver_transaction(self.engine) as db:
            return await self._take(db, scope, digest)

    async def _take(self, db: AsyncConnection[Any], scope: dict[str, str], digest: str) -> Claim | bool:
        """The existing row; or, when this request now owns the key, whether it took it over
        from an earlier request that did not finish."""
        if await (await db.execute(TAKE, scope | {"request_hash": digest})).fetchone() is not None:
            return False
        row = await (await db.execute(LOCK, scope | {"lease": self.lease})).fetchone()
        assert row is not None  # it conflicted, and keys are only deleted long after
        state, request_hash, status_code, response, lease_expired = row
        abandoned = state == INTERRUPTED or (state == RUNNING and lease_expired)
        if abandoned and request_hash == digest:
            await db.execute(RETAKE, scope)
            return True
        return Claim(state, request_hash, status_code, response)

    async def _replay(self, claim: Claim, digest: str, context: Context) -> Any:
        if claim.request_hash != digest:
            raise Conflict(
                message="this Idempotency-Key was used with a different request", reason="IDEMPOTENCY_KEY_REUSED"
            )
        if claim.state != DONE:
            raise Conflict(
                message="a request with this Idempotency-Key is still running; retry later",
                reason="IDEMPOTENCY_KEY_IN_USE",
            )
        if claim.status_code != grpc.StatusCode.OK.value[0]:
            await context.abort_with_status(rpc_status.to_status(status_pb2.Status.FromString(claim.response or b"")))
        return claim.response

    async def _finish(self, scope: dict[str, str], code: grpc.StatusCode, payload: bytes) -> None:
        await self._write(FINISH, self._answer(scope, code, payload))

    @staticmethod
    def _answer(scope: dict[str, str], code: grpc.StatusCode, payload: bytes) -> dict[str, Any]:
        return scope | {"status_code": code.value[0], "response": payload}

    async def _write(self, statement: str, values: dict[str, Any]) -> None:
        async with driver_statements(self.engine) as db:
            await db.execute(statement, values)

    async def purge_expired(self) -> int:
        async with driver_statements(self.engine) as db:
            done = await db.execute(PURGE, {"retention": self.retention})
        return done.rowcount


class IdempotencyInterceptor(grpc.aio.ServerInterceptor):
    """Applies an IdempotencyStore to the listed methods (full gRPC method names)."""

    def __init__(
        self, store: IdempotencyStore, methods: frozenset[str], in_key_transaction: frozenset[str] = frozenset()
    ) -> None:
        """`in_key_transaction`: those of `methods` whose handlers only write to this
        database, through `request_transaction()`."""
        self.store = store
        self.methods = methods
        self.in_key_transaction = in_key_transaction

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

        atomic = method in self.in_key_transaction

        async def once(request: Any, context: Context) -> Any:
            return await self.store.run(method, inner, request, context, in_key_transaction=atomic)

        def serialize_or_replay(response: Any) -> bytes:
            return response if isinstance(response, bytes) else serialize(response)  # type: ignore[misc]

        return grpc.unary_unary_rpc_method_handler(
            once, request_deserializer=handler.request_deserializer, response_serializer=serialize_or_replay
        )
