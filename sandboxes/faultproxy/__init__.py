"""A fault-injecting HTTP proxy in front of localstripe (which has no fault switch of its own).

``python -m sandboxes.faultproxy --host 127.0.0.1 --port 8421 --upstream http://127.0.0.1:8420``,
or ``create_app(upstream)`` for an in-process aiohttp application. Point the Stripe SDK at the
proxy instead of localstripe: every request (method, path, query, headers, body) goes to the
upstream and its answer comes back unchanged, unless a queued fault matches.

Control API (answered by the proxy, never forwarded): ``GET /healthz``; ``POST /_sandbox/faults``
with the spec of ``sandboxes.faults`` (answers the rule); ``GET /_sandbox/faults`` (``{"entity":
"collection", "count", "items"}``, like the Razorpay sandbox); ``DELETE /_sandbox/faults[?account=]``
(``{"cleared": n}``). A rule's ``account`` is matched against the request's Stripe API key (the
``Authorization: Bearer sk_...`` the SDK sends, or the user of Basic auth), so tests sharing one
proxy fault only their own merchant's calls. Faults are queued only: no ``X-Sandbox-Fault``
header, every request header is forwarded.

Modes, in Stripe's terms (error answers carry ``{"error": {"type": "api_error", "message"}}``):
``http_500`` / ``http_502`` / ``http_503`` answer that status without forwarding;
``timeout_before`` waits ``delay_ms``, then answers 503 without forwarding; ``timeout_after``
forwards, then waits ``delay_ms`` before answering; ``apply_then_500`` forwards, then answers 500
instead of the upstream's answer; ``delay`` waits ``delay_ms``, then forwards normally.
``refund_pending`` is the Razorpay sandbox's alone and is refused here. An unreachable upstream
answers 502.

It also keeps Stripe's ``Idempotency-Key`` promise, which localstripe does not: a POST with a
key already seen (per API key) answers the first answer again, marked ``Idempotent-Replayed``;
with other parameters it is 400 ``idempotency_error``; while the first is still in flight, 409.
The answer is remembered once the request reached the upstream, as Stripe saves a result once
the endpoint started executing (``apply_then_500``'s 500 included).
"""

from .app import create_app

__all__ = ["create_app"]
