"""Run a synchronous SDK off the event loop, in a pool of its own (so a slow processor
cannot starve the default executor other code shares)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class BlockingCalls:
    def __init__(self, max_workers: int, name: str) -> None:
        self.executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`function(*args, **kwargs)` in the pool. The call must bound its own time (an SDK
        timeout): a thread cannot be cancelled."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(function, *args, **kwargs))

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
