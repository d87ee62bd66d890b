"""The request/retry logic of every call, free of I/O: a generator that yields what to do
next (send a request, or wait) and receives what happened. The sync and async transports
only carry the steps out."""

from __future__ import annotations

import email.utils
import logging
import time
import uuid
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from ..errors import APIConnectionError, APIError, error_from_answer, error_reason, parse_body
from .call import Call
from .config import ClientConfig, RetryPolicy

T = TypeVar("T")

logger = logging.getLogger("payloops")

USER_AGENT = "payloops-python"
RETRYABLE_STATUSES = frozenset({429, 503})
IDEMPOTENCY_KEY_IN_USE = "IDEMPOTENCY_KEY_IN_USE"


@dataclass(frozen=True)
class Send:
    method: str
    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: Mapping[str, Any] | None
    timeout: float


@dataclass(frozen=True)
class Wait:
    seconds: float


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    content: bytes


Outcome = Answer | httpx.TransportError
Step = Send | Wait
Exchange = Generator[Step, Outcome | None, T]


def exchange(call: Call[T], config: ClientConfig) -> Exchange[T]:
    """Send `call`, retrying as `config.retry` allows, and return its parsed answer."""
    request = _request(call, config)
    retry = 0
    while True:
        outcome = yield request
        assert outcome is not None, "a Send step is answered with its outcome"
        delay = retry_delay(outcome, retry, config.retry)
        _log(request, outcome, delay)
        if delay is None:
            return _result(call, outcome)
        yield Wait(delay)
        retry += 1


def _request(call: Call[Any], config: ClientConfig) -> Send:
    headers = {"accept": "application/json", "user-agent": USER_AGENT}
    if call.authenticated:
        headers.update(config.credentials)
    body = call.body
    if call.method == "POST":
        # One key for the call and all its retries: the server executes it at most once.
        headers["idempotency-key"] = call.idempotency_key or str(uuid.uuid4())
        body = body or {}
    return Send(call.method, call.path, headers, call.query, body, config.timeout)


def retry_delay(outcome: Outcome, retry: int, policy: RetryPolicy) -> float | None:
    """Seconds to wait before retrying, or None when the outcome is final."""
    if retry >= policy.max_network_retries:
        return None
    if isinstance(outcome, httpx.TransportError):
        return policy.delay(retry)
    if outcome.status in RETRYABLE_STATUSES:
        return policy.delay(retry, retry_after_seconds(outcome.headers.get("retry-after")))
    if outcome.status == 409 and error_reason(parse_body(outcome.content) or {}) == IDEMPOTENCY_KEY_IN_USE:
        return policy.delay(retry)
    return None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) in seconds; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _result(call: Call[T], outcome: Outcome) -> T:
    if isinstance(outcome, httpx.TransportError):
        raise APIConnectionError(f"could not get an answer from PayLoops ({type(outcome).__name__})") from outcome
    if not 200 <= outcome.status < 300:
        raise error_from_answer(outcome.status, outcome.content, outcome.headers)
    body = parse_body(outcome.content)
    if body is None:
        raise APIError("the answer is not a JSON object", http_status=outcome.status)
    return call.parse(body)


def _log(request: Send, outcome: Outcome, delay: float | None) -> None:
    result = type(outcome).__name__ if isinstance(outcome, httpx.TransportError) else outcome.status
    then = "final" if delay is None else f"retrying in {delay:.2f}s"
    logger.debug("%s %s -> %s (%s)", request.method, request.path, result, then)
