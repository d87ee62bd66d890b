"""The deterministic choice behind a volume split."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeAlias

# (split key, total weight) -> a point in [0, total weight)
Splitter: TypeAlias = Callable[[str, int], int]


def hash_point(key: str, total: int) -> int:
    """Uniform over [0, total) across keys and always the same for one key. Cumulative
    weights over this point keep most keys on their processor when weights change a little."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") % total
