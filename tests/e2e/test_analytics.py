"""GET /api/analytics/summary through the gateway: for a fresh merchant, the figures equal
the orders it created, paid and refunded through the API (as the API shows them
afterwards); its live mode has figures of its own; another merchant sees none of it; bad
input answers 400 with its reason."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from payloops.order.v1 import order_pb2

from launcher.platform import Platform
from tests.e2e.flows import DECLINED, VISA, create, pay, refund, transactions, wait_for_refund, wait_for_status
from tests.merchant.helpers import Merchant, aip193, client, create_api_key, set_up_merchant, violated_fields

# (currency, amount, the payment methods it is paid with in turn)
ORDERS = [
    ("USD", 1000, [VISA]),
    ("USD", 2000, [DECLINED]),
    ("USD", 300, [DECLINED, VISA]),
    ("EUR", 500, [VISA]),
    ("INR", 50_000, [VISA]),
    ("JPY", 700, []),
]
REFUNDED = ("EUR", 200)
PAID = {"SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED"}
NO_OUTCOME = {"PROCESSOR_UNAVAILABLE", "cancelled"}
Json = dict[str, Any]


@dataclass(frozen=True)
class Books:
    """A merchant's orders, their transactions and refunds, as the API shows them."""

    merchant: Merchant
    orders: list[Json]
    transactions: list[Json]
    refunds: list[Json]
    live_order: Json
    start: datetime


def settle(rest: httpx.Client, order_id: str, method: dict[str, str]) -> None:
    answer = pay(rest, order_id, method)
    assert answer.status_code == 200, answer.text
    wait_for_status(rest, order_id)


@pytest.fixture(scope="module")
def books(platform: Platform) -> Books:
    merchant = set_up_merchant(platform)
    start = datetime.now(UTC) - timedelta(seconds=1)
    with client(platform, **{"X-API-Key": merchant.api_key}) as rest:
        ids = []
        for currency, amount, methods in ORDERS:
            ids.append(create(rest, currency=currency, amount=amount)["id"])
            for method in methods:
                settle(rest, ids[-1], method)
        [refunded_order] = [i for i, (currency, *_) in zip(ids, ORDERS, strict=True) if currency == REFUNDED[0]]
        answer = refund(rest, refunded_order, amount=REFUNDED[1])
        assert answer.status_code == 200, answer.text
        refunds = [wait_for_refund(rest, answer.json()["id"])]
        orders = [rest.get(f"/v1/orders/{order_id}").json() for order_id in ids]
        attempts = [t for order_id in ids for t in transactions(rest, order_id)]
    with client(platform, **merchant.account.bearer) as dashboard:
        live_key, _ = create_api_key(dashboard, "live")
    with client(platform, **{"X-API-Key": live_key}) as live:
        live_order = create(live, currency="GBP", amount=4200)
    return Books(merchant, orders, attempts, refunds, live_order, start)


def summary(platform: Platform, merchant: Merchant, **query: str) -> httpx.Response:
    with client(platform, **merchant.account.bearer) as dashboard:
        return dashboard.get("/api/analytics/summary", params=query)


def since(start: datetime) -> dict[str, str]:
    end = datetime.now(UTC) + timedelta(minutes=1)
    return {"from": rfc3339(start), "to": rfc3339(end)}


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def volume(sums: Counter[str] | dict[str, int]) -> list[Json]:
    return [{"currency": currency, "amount": str(amount)} for currency, amount in sorted(sums.items())]


def money(rows: list[Json], field: str = "amount") -> Counter[str]:
    sums: Counter[str] = Counter()
    for row in rows:
        sums[row["currency"]] += int(row.get(field, 0))
    return sums


def expected_processors(attempts: list[Json]) -> tuple[list[Json], list[Json]]:
    """byProcessor and failureCodes by the proto's definition, from the transactions."""
    outcomes = [
        t
        for t in attempts
        if t["type"] in ("CHARGE", "AUTHORIZE")
        and (t["status"] == "SUCCEEDED" or (t["status"] == "FAILED" and t["failureCode"] not in NO_OUTCOME))
    ]
    by_processor: dict[str, list[Json]] = defaultdict(list)
    for t in outcomes:
        by_processor[t["processor"]].append(t)
    processors = []
    for name, rows in sorted(by_processor.items()):
        won = [t for t in rows if t["status"] == "SUCCEEDED"]
        processors.append(
            {
                "processor": name,
                "attempted": len(rows),
                "succeeded": len(won),
                "successRate": len(won) / len(rows),
                "volume": volume(money(won)),
            }
        )
    codes = Counter(t["failureCode"] for t in outcomes if t["status"] == "FAILED")
    return processors, [{"code": c, "count": n} for c, n in sorted(codes.items(), key=lambda i: (-i[1], i[0]))]


def test_the_figures_equal_the_orders_created(platform: Platform, books: Books) -> None:
    answer = summary(platform, books.merchant, **since(books.start))
    assert answer.status_code == 200, answer.text
    got = answer.json()
    orders, refunds = books.orders, [r for r in books.refunds if r["status"] != "FAILED"]
    paid = [o for o in orders if o["status"] in PAID]

    assert got["totals"] == {
        "count": len(ORDERS),
        "volume": volume(money(orders)),
        "succeeded": len(paid),
        "capturedVolume": volume(money(orders, "amountCaptured")),
        "refunds": {"count": len(refunds), "volume": volume(money(refunds))},
    }
    statuses = Counter(o["status"] for o in orders)
    assert got["byStatus"] == [
        {"status": s, "count": statuses[s], "volume": volume(money([o for o in orders if o["status"] == s]))}
        for s in sorted(statuses, key=order_pb2.Order.Status.Value)
    ]
    assert got["byCurrency"] == [
        {
            "currency": currency,
            "count": sum(o["currency"] == currency for o in orders),
            "volume": str(money(orders)[currency]),
            "succeeded": sum(o["currency"] == currency for o in paid),
            "capturedVolume": str(money(orders, "amountCaptured")[currency]),
            "refundCount": sum(r["currency"] == currency for r in refunds),
            "refundedVolume": str(money(refunds)[currency]),
        }
        for currency in sorted(money(orders))
    ]
    assert (got["byProcessor"], got["failureCodes"]) == expected_processors(books.transactions)
    days = [day for day in got["daily"] if day["count"]]
    assert [day["date"] for day in days] == sorted({o["createdAt"][:10] for o in orders})
    assert sum(day["count"] for day in days) == len(ORDERS)
    assert sum(day["succeeded"] for day in days) == len(paid)
    # ...and what the orders above must have come to, whatever the definitions
    assert (got["totals"]["succeeded"], got["totals"]["refunds"]["volume"]) == (4, volume({"EUR": 200}))
    assert [(p["processor"], p["attempted"], p["succeeded"]) for p in got["byProcessor"]] == [
        ("razorpay", 1, 1),
        ("stripe", 5, 3),
    ]
    assert [c["count"] for c in got["failureCodes"]] == [2]


def test_without_a_range_it_is_the_last_30_days(platform: Platform, books: Books) -> None:
    answer = summary(platform, books.merchant)
    assert answer.status_code == 200, answer.text
    assert answer.json()["totals"]["count"] == len(ORDERS)
    assert len(answer.json()["daily"]) == 31  # every UTC day the 30 days touch


def test_the_live_mode_has_its_own_figures(platform: Platform, books: Books) -> None:
    answer = summary(platform, books.merchant, **since(books.start), mode="live")
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert (got["totals"]["count"], got["totals"]["volume"]) == (1, volume({"GBP": 4200}))
    assert got["byStatus"] == [{"status": "CREATED", "count": 1, "volume": volume({"GBP": 4200})}]
    assert got["byProcessor"] == []


def test_another_merchant_sees_none_of_it(platform: Platform, books: Books) -> None:
    answer = summary(platform, set_up_merchant(platform), **since(books.start))
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["totals"] == {
        "count": 0,
        "volume": [],
        "succeeded": 0,
        "capturedVolume": [],
        "refunds": {"count": 0, "volume": []},
    }
    assert [got[k] for k in ("byStatus", "byProcessor", "byCurrency", "failureCodes")] == [[], [], [], []]
    assert all(day["count"] == 0 for day in got["daily"])


NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("query", "reason", "fields"),
    [
        ({"mode": "sandbox"}, "MODE_INVALID", ["mode"]),
        ({"from": rfc3339(NOW), "to": rfc3339(NOW - timedelta(hours=1))}, "TIME_RANGE_INVALID", ["from"]),
        ({"from": rfc3339(NOW + timedelta(days=1))}, "TIME_RANGE_INVALID", ["from"]),
        ({"from": rfc3339(NOW - timedelta(days=400)), "to": rfc3339(NOW)}, "TIME_RANGE_INVALID", ["from"]),
    ],
    ids=["mode", "reversed", "future", "too-long"],
)
def test_bad_input_answers_400_with_its_reason(
    platform: Platform, books: Books, query: dict[str, str], reason: str, fields: list[str]
) -> None:
    got, body = aip193(summary(platform, books.merchant, **query), 400)
    assert (got, violated_fields(body)) == (reason, fields)


def test_a_timestamp_that_is_not_rfc3339_is_refused_by_the_gateway(platform: Platform, books: Books) -> None:
    for query in ({"from": "yesterday"}, {"from": "2025-03-01"}, {"to": "2025-13-01T00:00:00Z"}):
        assert aip193(summary(platform, books.merchant, **query), 400)[0] == "INVALID_JSON"
