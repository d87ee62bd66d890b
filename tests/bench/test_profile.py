"""How bench/profile.py charges py-spy's samples to libraries."""

from __future__ import annotations

import pytest

from bench.profile import RATE_HZ, charge, frame_path, library_of, seconds_by_library


@pytest.mark.parametrize(
    ("frame", "library"),
    [
        ("greenlet_spawn (sqlalchemy/util/concurrency.py:209)", "sqlalchemy"),
        (
            "commit (<sqlalchemy generated _go() wrapper for sqlalchemy.orm.session.SessionTransaction.commit>:2)",
            "sqlalchemy",
        ),
        ("parse (google/protobuf/json_format.py:10)", "protobuf"),
        ("pay (services/order/coordinator.py:9)", "payloops"),
        ("run (/work/x/.venv/lib/python3.11/site-packages/temporalio/worker/_workflow.py:3)", "temporalio"),
        ("run (asyncio/runners.py:190)", None),
        ("get_type_hints (typing.py:2357)", None),
        ("_run_code (<frozen runpy>:88)", None),
        ("<module> (<string>:2)", None),
        ("get (/usr/lib/python3.11/queue.py:171)", None),
    ],
)
def test_each_frame_belongs_to_its_library_or_to_the_standard_library(frame: str, library: str | None) -> None:
    assert library_of(frame_path(frame)) == library


def test_a_sample_is_charged_to_its_innermost_library_frame() -> None:
    waiting = [
        "run (asyncio/runners.py:118)",
        "_run (asyncio/events.py:80)",
        "execute (psycopg/cursor_async.py:113)",
        "wait (psycopg/connection_async.py:532)",
        "add_reader (asyncio/selector_events.py:340)",
    ]
    assert charge(waiting) == "psycopg"
    assert charge(["run (asyncio/runners.py:118)", "select (selectors.py:468)"]) == "python"
    # The server's main loop is not the caller of what the event loop runs.
    served = ["run (services/common/server.py:77)", "run_forever (asyncio/base_events.py:607)"]
    assert charge([*served, "_run (asyncio/events.py:80)", "__step (asyncio/tasks.py:1)"]) == "python"
    assert charge([*served, "_run (asyncio/events.py:80)", "pay (services/order/coordinator.py:94)"]) == "payloops"


def test_samples_become_seconds_per_library_most_first() -> None:
    raw = [
        "run (asyncio/runners.py:118);scalar (sqlalchemy/orm/session.py:2616) 30",
        "run (asyncio/runners.py:118);execute (psycopg/cursor_async.py:113) 10",
        "run (asyncio/runners.py:118);scalar (sqlalchemy/orm/session.py:2617) 20",
        "",
    ]
    assert seconds_by_library(raw) == {"sqlalchemy": 50 / RATE_HZ, "psycopg": 10 / RATE_HZ}
    assert list(seconds_by_library(raw)) == ["sqlalchemy", "psycopg"]
