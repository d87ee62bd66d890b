"""The proxy: every request forwarded to the upstream as is, unless a queued fault matches."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import hdrs, web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from sandboxes.faults import ERROR_MODES, MODES, FaultBook, FaultSpecError

log = logging.getLogger(__name__)

# refund_pending needs a sandbox that creates the refund itself.
PROXY_MODES = MODES - {"refund_pending"}

# Hop-by-hop headers (RFC 9110 7.6.1) and the ones aiohttp sets again for the next hop.
_NOT_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)

FAULTS = web.AppKey("faults", FaultBook)
IDEMPOTENCY = web.AppKey("idempotency", dict[tuple[str, str], "_Remembered"])
UPSTREAM = web.AppKey("upstream", str)
SESSION = web.AppKey("session", aiohttp.ClientSession)


def _stripe_error(status: int, message: str, *, type_: str = "api_error", param: str | None = None) -> web.Response:
    error: dict[str, Any] = {"type": type_, "message": message}
    if param is not None:
        error["param"] = param
    return web.json_response({"error": error}, status=status)


def _server_error(status: int) -> web.Response:
    return _stripe_error(status, f"Injected fault: the Stripe API answered {status} (sandbox fault proxy).")


def _api_key(request: web.Request) -> str:
    """The account of a request: its Stripe API key, as a Bearer token (the SDK) or Basic user."""
    scheme, _, credentials = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[0]
        except ValueError:  # also binascii.Error and UnicodeDecodeError
            return ""
    return ""


def _masked(api_key: str | None) -> str | None:
    """An API key as logged: a secret, so only its kind and last characters (like Stripe's dashboard)."""
    return api_key if not api_key else f"{api_key[:8]}…{api_key[-4:]}"


def _forwardable(headers: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    return CIMultiDict((name, value) for name, value in headers.items() if name.lower() not in _NOT_FORWARDED)


async def _forward(request: web.Request) -> web.Response:
    body = await request.read()
    url = URL(request.app[UPSTREAM] + request.raw_path, encoded=True)
    try:
        async with request.app[SESSION].request(
            request.method, url, headers=_forwardable(request.headers), data=body or None, allow_redirects=False
        ) as answer:
            return web.Response(
                status=answer.status,
                reason=answer.reason,
                headers=_forwardable(answer.headers),
                body=await answer.read(),
            )
    except aiohttp.ClientError as exc:
        log.warning("upstream %s unreachable: %s", request.app[UPSTREAM], exc)
        return _stripe_error(502, f"The sandbox fault proxy could not reach the upstream: {exc}")


@dataclass
class _Remembered:
    """What a POST with an Idempotency-Key did: its request, then (once done) its answer."""

    fingerprint: str
    answer: web.Response | None = None


def _fingerprint(request: web.Request, body: bytes) -> str:
    return hashlib.sha256(request.raw_path.encode() + b"\0" + body).hexdigest()


def _replayed(answer: web.Response) -> web.Response:
    headers = CIMultiDict(answer.headers)
    headers["Idempotent-Replayed"] = "true"
    return web.Response(status=answer.status, reason=answer.reason, headers=headers, body=answer.body)


async def proxy(request: web.Request) -> web.Response:
    """Stripe's Idempotency-Key rules, which localstripe ignores: a POST whose key was seen
    answers the first request's answer again (other parameters: 400 idempotency_error;
    still in flight: 409), and the answer is remembered once the request reached Stripe
    (a fault that never forwards, like a 500 before applying, remembers nothing)."""
    key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
    if not key:
        return await _answer(request)
    slot = (_api_key(request), key)
    fingerprint = _fingerprint(request, await request.read())
    seen = request.app[IDEMPOTENCY].get(slot)
    if seen is not None:
        if seen.fingerprint != fingerprint:
            message = (
                "Keys for idempotent requests can only be used with the same parameters they were first used with."
            )
            return _stripe_error(400, message, type_="idempotency_error")
        if seen.answer is None:
            message = "There is currently another in-progress request using this Stripe API key and idempotency key."
            return _stripe_error(409, message, type_="invalid_request_error")
        return _replayed(seen.answer)
    remembered = request.app[IDEMPOTENCY][slot] = _Remembered(fingerprint)
    try:
        answer, forwarded = await _answer_and_tell(request)
    except BaseException:
        del request.app[IDEMPOTENCY][slot]
        raise
    if forwarded:
        remembered.answer = answer
    else:
        del request.app[IDEMPOTENCY][slot]
    return answer


async def _answer(request: web.Request) -> web.Response:
    return (await _answer_and_tell(request))[0]


async def _answer_and_tell(request: web.Request) -> tuple[web.Response, bool]:
    """The answer (forwarded, or the fault's) and whether the request reached the upstream."""
    api_key = _api_key(request)
    fault = request.app[FAULTS].take(api_key, request.method, request.path)
    if fault is None:
        return await _forward(request), True
    log.info(
        "fault %s (%.0f ms) on %s %s for %s",
        fault.mode,
        fault.delay_s * 1000,
        request.method,
        request.path,
        _masked(api_key),
    )
    if fault.mode in ERROR_MODES:
        return _server_error(ERROR_MODES[fault.mode]), False
    if fault.mode == "timeout_before":
        await asyncio.sleep(fault.delay_s)
        return _server_error(503), False
    if fault.mode == "delay":
        await asyncio.sleep(fault.delay_s)
    response = await _forward(request)
    if fault.mode == "timeout_after":
        await asyncio.sleep(fault.delay_s)
    if fault.mode == "apply_then_500":
        return _server_error(500), True
    return response, True


# -- control API (never forwarded)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "service": "stripe-fault-proxy", "upstream": request.app[UPSTREAM]})


async def add_fault(request: web.Request) -> web.Response:
    try:
        spec = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        spec = None
    if not isinstance(spec, dict):
        return _stripe_error(400, "The request body must be a JSON object", type_="invalid_request_error")
    try:
        rule = request.app[FAULTS].add(spec)
    except FaultSpecError as exc:
        return _stripe_error(400, str(exc), type_="invalid_request_error", param=exc.field)
    log.info("fault queued: %s", {**rule.to_json(), "account": _masked(rule.account)})
    return web.json_response(rule.to_json())


async def list_faults(request: web.Request) -> web.Response:
    items = [rule.to_json() for rule in request.app[FAULTS].rules()]
    return web.json_response({"entity": "collection", "count": len(items), "items": items})


async def clear_faults(request: web.Request) -> web.Response:
    return web.json_response({"cleared": request.app[FAULTS].clear(request.query.get("account"))})


def create_app(upstream: str) -> web.Application:
    """The proxy in front of `upstream` (e.g. ``http://127.0.0.1:8420``) as an aiohttp application."""
    app = web.Application()
    app[UPSTREAM] = upstream.rstrip("/")
    app[FAULTS] = FaultBook(PROXY_MODES)
    app[IDEMPOTENCY] = {}

    async def session(app: web.Application) -> AsyncIterator[None]:
        # The upstream's bytes as they are (no decompression), and no headers of our own.
        skip = (hdrs.ACCEPT, hdrs.ACCEPT_ENCODING, hdrs.USER_AGENT)
        async with aiohttp.ClientSession(auto_decompress=False, skip_auto_headers=skip) as client:
            app[SESSION] = client
            yield

    app.cleanup_ctx.append(session)
    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.post("/_sandbox/faults", add_fault),
            web.get("/_sandbox/faults", list_faults),
            web.delete("/_sandbox/faults", clear_faults),
            web.route("*", "/{path:.*}", proxy),
        ]
    )
    return app
