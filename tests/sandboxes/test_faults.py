"""Fault rules with a probability: they hit that share of matching requests, a miss
consumes nothing, and a bad probability is refused."""

from __future__ import annotations

import random

import pytest

from sandboxes.faults import FaultBook, FaultSpecError


def test_a_rule_hits_its_share_of_matching_requests() -> None:
    book = FaultBook(rng=random.Random(11))
    book.add({"mode": "http_503", "path_contains": "/payments", "count": -1, "probability": 0.3})
    hits = sum(book.take("acct", "POST", "/v1/payments") is not None for _ in range(10_000))
    assert 2_800 < hits < 3_200
    assert book.take("acct", "POST", "/v1/orders") is None  # not matching: never hit


def test_a_miss_consumes_nothing() -> None:
    book = FaultBook(rng=random.Random(3))
    book.add({"mode": "http_500", "count": 2, "probability": 0.5})
    hits = [book.take("acct", "GET", "/v1/x") for _ in range(200)]
    assert sum(hit is not None for hit in hits) == 2  # exactly its count, however many misses
    assert book.rules() == []


@pytest.mark.parametrize("probability", [0, -0.1, 1.5, "half", True])
def test_a_bad_probability_is_refused(probability: object) -> None:
    with pytest.raises(FaultSpecError) as refused:
        FaultBook().add({"mode": "http_500", "probability": probability})
    assert refused.value.field == "probability"
