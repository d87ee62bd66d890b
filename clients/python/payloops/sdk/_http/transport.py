"""Carry out an exchange's steps with httpx: blocking, or on an asyncio event loop."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx

from .call import Call
from .config import ClientConfig
from .exchange import Answer, Exchange, Outcome, Step, Wait, exchange

T = TypeVar("T")


@dataclass(frozen=True)
class _Done(Generic[T]):
    result: T


def _advance(plan: Exchange[T], outcome: Outcome | None) -> Step | _Done[T]:
    """Hand the plan the outcome of its last step; its next step, or its result once it returned."""
    try:
        return plan.send(outcome)
    except StopIteration as done:
        return _Done(done.value)


class SyncTransport:
    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._http = httpx.Client(base_url=config.base_url)

    def request(self, call: Call[T]) -> T:
        plan = exchange(call, self.config)
        step = _advance(plan, None)
        while not isinstance(step, _Done):
            step = _advance(plan, self._carry_out(step))
        return step.result

    def _carry_out(self, step: Step) -> Outcome | None:
        if isinstance(step, Wait):
            time.sleep(step.seconds)
            return None
        try:
            answer = self._http.request(
                step.method, step.path, params=step.query, json=step.body, headers=step.headers, timeout=step.timeout
            )
        except httpx.TransportError as failure:
            return failure
        return Answer(answer.status_code, answer.headers, answer.content)

    def close(self) -> None:
        self._http.close()


class AsyncTransport:
    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self._http = httpx.AsyncClient(base_url=config.base_url)

    async def request(self, call: Call[T]) -> T:
        plan = exchange(call, self.config)
        step = _advance(plan, None)
        while not isinstance(step, _Done):
            step = _advance(plan, await self._carry_out(step))
        return step.result

    async def _carry_out(self, step: Step) -> Outcome | None:
        if isinstance(step, Wait):
            await asyncio.sleep(step.seconds)
            return None
        try:
            answer = await self._http.request(
                step.method, step.path, params=step.query, json=step.body, headers=step.headers, timeout=step.timeout
            )
        except httpx.TransportError as failure:
            return failure
        return Answer(answer.status_code, answer.headers, answer.content)

    async def aclose(self) -> None:
        await self._http.aclose()
