"""HTTP routes: Razorpay's ``/v1`` API (HTTP Basic auth) and the ``/_sandbox`` controls (no auth)."""

from __future__ import annotations

import asyncio
import base64
import html
import json
import logging
import re
from typing import Any

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler
from yarl import URL

from sandboxes.faults import ERROR_MODES, FaultBook, FaultSpecError, from_headers

from . import ledger
from .errors import RazorpayError, bad_request, server_fault, unauthorized, validation_error
from .models import Payment, collection
from .store import Account, Store
from .webhooks import WebhookHub, sign

log = logging.getLogger(__name__)

TEST_KEY_PREFIX = "rzp_test_"
IDEMPOTENCY_HEADER = "X-Refund-Idempotency"
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{10,255}")

STORE = web.AppKey("store", Store)
FAULTS = web.AppKey("faults", FaultBook)
WEBHOOKS = web.AppKey("webhooks", WebhookHub)
DELAY_S = web.AppKey("delay_s", float)

ACCOUNT = web.RequestKey("account", Account)
KEY_SECRET = web.RequestKey("key_secret", str)
PAUSE_S = web.RequestKey("pause_s", float)
REFUND_PENDING = web.RequestKey("refund_pending", bool)

Body = dict[str, Any]


# -- plumbing


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


async def _read_body(request: web.Request) -> Body:
    if request.content_type == "application/x-www-form-urlencoded":
        return dict(await request.post())
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body


async def pause(request: web.Request) -> None:
    """Wait the artificial delay (``--delay-ms`` plus a ``delay`` fault) once per request."""
    seconds = request.get(PAUSE_S, 0.0)
    if seconds > 0:
        request[PAUSE_S] = 0.0
        await asyncio.sleep(seconds)


def _authenticate(request: web.Request) -> tuple[str, str]:
    header = request.headers.get(hdrs.AUTHORIZATION)
    if not header:
        raise unauthorized("Please provide your api key for authentication purposes.")
    scheme, _, encoded = header.partition(" ")
    try:
        if scheme.lower() != "basic":
            raise ValueError(scheme)
        key_id, colon, key_secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except ValueError:  # also binascii.Error and UnicodeDecodeError
        raise unauthorized("Authentication failed") from None
    if not key_id.startswith(TEST_KEY_PREFIX) or key_id == TEST_KEY_PREFIX:
        raise unauthorized("The api key provided is invalid")
    if not colon or not key_secret:
        raise unauthorized("Authentication failed")
    return key_id, key_secret


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure answers Razorpay's JSON error body (the SDK parses every error as JSON)."""
    try:
        return await handler(request)
    except RazorpayError as exc:
        return exc.response()
    except FaultSpecError as exc:
        return validation_error(str(exc), exc.field).response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        description = "The requested URL was not found on the server." if exc.status == 404 else str(exc.reason)
        return RazorpayError(exc.status, description).response()
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return server_fault(500).response()


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """For ``/v1``: Basic auth → account, then injected faults and the artificial delay."""
    if not request.path.startswith("/v1/"):
        return await handler(request)
    key_id, key_secret = _authenticate(request)
    app = request.app
    request[ACCOUNT] = app[STORE].account(key_id)
    request[KEY_SECRET] = key_secret
    request[PAUSE_S] = app[DELAY_S]
    fault = from_headers(request.headers) or app[FAULTS].take(key_id, request.method, request.path)
    if fault is not None:
        log.info(
            "fault %s (%.0f ms) on %s %s for %s",
            fault.mode,
            fault.delay_s * 1000,
            request.method,
            request.path,
            key_id,
        )
        if fault.mode in ERROR_MODES:
            raise server_fault(ERROR_MODES[fault.mode])
        if fault.mode == "timeout_before":
            await asyncio.sleep(fault.delay_s)
            raise server_fault(503)
        if fault.mode == "delay":
            request[PAUSE_S] += fault.delay_s
        if fault.mode == "refund_pending":
            request[REFUND_PENDING] = True
    response: web.StreamResponse
    try:
        response = await handler(request)
    except RazorpayError as exc:
        response = exc.response()
    await pause(request)  # whatever part of the delay the handler did not already wait
    if fault is not None and fault.mode == "timeout_after":
        await asyncio.sleep(fault.delay_s)
    if fault is not None and fault.mode == "apply_then_500":
        return server_fault(500).response()
    return response


def _account(request: web.Request) -> Account:
    return request[ACCOUNT]


# -- /v1 orders


async def create_order(request: web.Request) -> web.Response:
    body = await _read_body(request)
    await pause(request)
    return _json(ledger.create_order(_account(request), body).to_json())


async def fetch_order(request: web.Request) -> web.Response:
    return _json(_account(request).order(request.match_info["order_id"]).to_json())


async def order_payments(request: web.Request) -> web.Response:
    account = _account(request)
    order = account.order(request.match_info["order_id"])
    return _json(collection([account.payments[p].to_json() for p in reversed(order.payment_ids)]))


# -- /v1 payments


async def _create_payment(request: web.Request, *, require_token: bool) -> web.Response:
    body = await _read_body(request)
    await pause(request)
    origin = str(request.url.origin())
    answer = ledger.create_payment(
        _account(request),
        body,
        require_token=require_token,
        key_secret=request[KEY_SECRET],
        authenticate_url=lambda payment_id: f"{origin}/_sandbox/payments/{payment_id}/authenticate",
    )
    return _json(answer)


async def create_recurring_payment(request: web.Request) -> web.Response:
    return await _create_payment(request, require_token=True)


async def create_json_payment(request: web.Request) -> web.Response:
    return await _create_payment(request, require_token=False)


async def fetch_payment(request: web.Request) -> web.Response:
    return _json(_account(request).payment(request.match_info["payment_id"]).to_json())


async def capture_payment(request: web.Request) -> web.Response:
    body = await _read_body(request)
    await pause(request)
    account = _account(request)
    payment = account.payment(request.match_info["payment_id"])
    return _json(ledger.capture_payment(account, payment, body).to_json())


# -- /v1 refunds


async def _refund(request: web.Request, payment_id: str, body: Body) -> web.Response:
    account = _account(request)
    pending = request.get(REFUND_PENDING, False)
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        await pause(request)
        refund = ledger.create_refund(account, account.payment(payment_id), body, pending=pending)
        return _json(refund.to_json())
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise validation_error(
            f"The {IDEMPOTENCY_HEADER} header must be 10 to 255 letters, digits, hyphens or underscores",
            IDEMPOTENCY_HEADER,
        )
    account.payment(payment_id)
    replay = account.claim_refund_key(key, ledger.refund_fingerprint(payment_id, body))
    if replay is not None:
        return _json(replay.to_json())
    refund_id: str | None = None
    try:
        await pause(request)  # the key is in flight while we wait: a concurrent retry gets 409
        refund = ledger.create_refund(account, account.payment(payment_id), body, pending=pending)
        refund_id = refund.id
    finally:
        account.finish_refund_key(key, refund_id)
    return _json(refund.to_json())


async def refund_payment(request: web.Request) -> web.Response:
    body = await _read_body(request)
    return await _refund(request, request.match_info["payment_id"], body)


async def create_refund(request: web.Request) -> web.Response:
    body = await _read_body(request)
    payment_id = body.pop("payment_id", None)
    if not isinstance(payment_id, str):
        raise validation_error("The payment_id field is required.", "payment_id")
    return await _refund(request, payment_id, body)


async def fetch_refund(request: web.Request) -> web.Response:
    return _json(_account(request).refund(request.match_info["refund_id"]).to_json())


async def payment_refunds(request: web.Request) -> web.Response:
    account = _account(request)
    payment = account.payment(request.match_info["payment_id"])
    return _json(collection([account.refunds[r].to_json() for r in reversed(payment.refund_ids)]))


async def payment_refund(request: web.Request) -> web.Response:
    account = _account(request)
    payment = account.payment(request.match_info["payment_id"])
    refund = account.refund(request.match_info["refund_id"])
    if refund.payment_id != payment.id:
        raise RazorpayError(404, "The id provided does not exist", field="id")
    return _json(refund.to_json())


# -- /_sandbox controls


def _required_str(body: Body, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise validation_error(f"The {name} field is required.", name)
    return value


async def healthz(request: web.Request) -> web.Response:
    return _json({"status": "ok", "service": "razorpay-sandbox"})


async def add_fault(request: web.Request) -> web.Response:
    rule = request.app[FAULTS].add(await _read_body(request))
    log.info("fault queued: %s", rule.to_json())
    return _json(rule.to_json())


async def list_faults(request: web.Request) -> web.Response:
    return _json(collection([rule.to_json() for rule in request.app[FAULTS].rules()]))


async def clear_faults(request: web.Request) -> web.Response:
    return _json({"cleared": request.app[FAULTS].clear(request.query.get("account"))})


async def add_webhook(request: web.Request) -> web.Response:
    body = await _read_body(request)
    events = body.get("events")
    if events is not None and not (isinstance(events, list) and all(isinstance(e, str) for e in events)):
        raise validation_error("events must be a list of event names", "events")
    account = _required_str(body, "account")
    target = request.app[WEBHOOKS].register(
        account,
        _required_str(body, "url"),
        _required_str(body, "secret"),
        frozenset(events) if events is not None else None,
    )
    return _json({"account": account, **target.to_json()})


async def list_webhooks(request: web.Request) -> web.Response:
    account = request.query.get("account", "")
    return _json(collection([t.to_json() for t in request.app[WEBHOOKS].targets(account)]))


async def remove_webhooks(request: web.Request) -> web.Response:
    account = request.query.get("account", "")
    return _json({"removed": request.app[WEBHOOKS].unregister(account, request.query.get("url"))})


async def sign_webhook(request: web.Request) -> web.Response:
    body = await _read_body(request)
    payload = body.get("body")
    if not isinstance(payload, str):
        raise validation_error("The body field must be the raw body as a string.", "body")
    return _json({"signature": sign(payload.encode(), _required_str(body, "secret"))})


async def list_events(request: web.Request) -> web.Response:
    records = request.app[WEBHOOKS].events(request.query.get("account"), request.query.get("event"))
    return _json(collection([r.to_json() for r in records]))


async def stats(request: web.Request) -> web.Response:
    return _json(request.app[STORE].stats(request.query.get("account")))


async def reset(request: web.Request) -> web.Response:
    request.app[STORE].reset()
    request.app[FAULTS].clear()
    request.app[WEBHOOKS].reset()
    return _json({"reset": True})


_AUTH_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Razorpay sandbox: authenticate payment</title></head>
<body><h1>Authenticate payment</h1>
<p>Payment {payment_id} of {amount} (minor units) {currency} for order {order_id}: {status}</p>
<form method="post" action="/_sandbox/payments/{payment_id}/complete">
<input type="hidden" name="outcome" value="success"><button type="submit">Authenticate</button></form>
<form method="post" action="/_sandbox/payments/{payment_id}/complete">
<input type="hidden" name="outcome" value="failure"><button type="submit">Fail authentication</button></form>
</body></html>
"""


def _auth_page(payment: Payment) -> web.Response:
    fields = {
        "payment_id": payment.id,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "order_id": payment.order_id,
        "status": payment.status,
    }
    return web.Response(
        text=_AUTH_PAGE.format(**{k: html.escape(v) for k, v in fields.items()}), content_type="text/html"
    )


async def authenticate_page(request: web.Request) -> web.Response:
    _, payment = request.app[STORE].payment_anywhere(request.match_info["payment_id"])
    return _auth_page(payment)


async def complete_payment(request: web.Request) -> web.StreamResponse:
    """Finish a payment awaiting authentication: ``{"outcome": "success" | "failure"}``.

    JSON callers get the payment entity. The HTML page's form posts are redirected (303) to the
    payment's ``callback_url`` with Razorpay's callback fields, when it had one.
    """
    from_form = request.content_type == "application/x-www-form-urlencoded"
    body = await _read_body(request)
    outcome = body.get("outcome", "success")
    if outcome not in ("success", "failure"):
        raise validation_error("outcome must be success or failure", "outcome")
    account, payment = request.app[STORE].payment_anywhere(request.match_info["payment_id"])
    ledger.complete_payment(account, payment, success=outcome == "success")
    if not from_form:
        return _json(payment.to_json())
    if payment.callback_url is None:
        return _auth_page(payment)
    if payment.status == "failed":
        params = {
            "error[code]": payment.error_code or "",
            "error[description]": payment.error_description or "",
            "error[source]": payment.error_source or "",
            "error[step]": payment.error_step or "",
            "error[reason]": payment.error_reason or "",
            "error[metadata]": json.dumps({"payment_id": payment.id, "order_id": payment.order_id}),
        }
    else:
        params = ledger.success_answer(payment)
    raise web.HTTPSeeOther(URL(payment.callback_url).extend_query(params))


async def process_refund(request: web.Request) -> web.Response:
    """Settle a pending refund: ``{"outcome": "processed" | "failed"}`` (default processed)."""
    body = await _read_body(request)
    outcome = body.get("outcome", "processed")
    if outcome not in ("processed", "failed"):
        raise validation_error("outcome must be processed or failed", "outcome")
    account, refund = request.app[STORE].refund_anywhere(request.match_info["refund_id"])
    return _json(ledger.settle_refund(account, refund, processed=outcome == "processed").to_json())


# -- the application


def create_app(
    delay_ms: float = 0,
    *,
    webhook_attempts: int = 4,
    webhook_backoff_ms: float = 500,
    webhook_timeout_ms: float = 5000,
) -> web.Application:
    """The sandbox as an aiohttp application (state lives in the application, in memory)."""
    if delay_ms < 0:
        raise ValueError("delay_ms must be >= 0")
    hub = WebhookHub(
        attempts=webhook_attempts,
        backoff_s=webhook_backoff_ms / 1000,
        timeout_s=webhook_timeout_ms / 1000,
    )
    app = web.Application(middlewares=[errors_middleware, api_middleware])
    app[STORE] = Store(sink=hub.publish)
    app[FAULTS] = FaultBook()
    app[WEBHOOKS] = hub
    app[DELAY_S] = delay_ms / 1000

    async def start_webhooks(app: web.Application) -> None:
        await hub.start()

    async def stop_webhooks(app: web.Application) -> None:
        await hub.close()

    app.on_startup.append(start_webhooks)
    app.on_cleanup.append(stop_webhooks)
    app.add_routes(
        [
            web.get("/healthz", healthz),
            # Razorpay API (the SDK's paths: base_url + "/v1/...")
            web.post("/v1/orders", create_order),
            web.get("/v1/orders/{order_id}", fetch_order),
            web.get("/v1/orders/{order_id}/payments", order_payments),
            web.post("/v1/payments/create/recurring", create_recurring_payment),
            web.post("/v1/payments/create/json", create_json_payment),
            web.get("/v1/payments/{payment_id}", fetch_payment),
            web.post("/v1/payments/{payment_id}/capture", capture_payment),
            web.post("/v1/payments/{payment_id}/refund", refund_payment),
            web.get("/v1/payments/{payment_id}/refunds", payment_refunds),
            web.get("/v1/payments/{payment_id}/refunds/{refund_id}", payment_refund),
            web.post("/v1/refunds", create_refund),
            web.get("/v1/refunds/{refund_id}", fetch_refund),
            # sandbox controls (no auth)
            web.post("/_sandbox/faults", add_fault),
            web.get("/_sandbox/faults", list_faults),
            web.delete("/_sandbox/faults", clear_faults),
            web.post("/_sandbox/webhooks", add_webhook),
            web.get("/_sandbox/webhooks", list_webhooks),
            web.delete("/_sandbox/webhooks", remove_webhooks),
            web.post("/_sandbox/webhooks/sign", sign_webhook),
            web.get("/_sandbox/events", list_events),
            web.get("/_sandbox/stats", stats),
            web.post("/_sandbox/reset", reset),
            web.get("/_sandbox/payments/{payment_id}/authenticate", authenticate_page),
            web.post("/_sandbox/payments/{payment_id}/complete", complete_payment),
            web.post("/_sandbox/refunds/{refund_id}/process", process_refund),
        ]
    )
    return app
