"""A stateful, in-memory fake of Razorpay's API for dev, tests and benchmarks.

``python -m sandboxes.razorpay --host 127.0.0.1 --port 8790 [--delay-ms 0]``, or
``create_app(delay_ms)`` for an in-process aiohttp application. Point the official SDK at it
with ``razorpay.Client(auth=("rzp_test_...", "<any secret>"), base_url="http://127.0.0.1:8790")``.
Test tokens are listed in ``tokens``, fault injection in ``sandboxes.faults``, webhooks in
``webhooks``; README.md has the whole picture.
"""

from .app import create_app

__all__ = ["create_app"]
