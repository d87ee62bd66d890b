"""The web service's aiohttp application: hosted checkout, the dashboard's static build
(a single-page app: unknown paths get its index.html), health, and error pages that never
show a stack trace."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
from aiohttp import web

from services.web import pages
from services.web.checkout import Checkout

log = logging.getLogger("payloops.web")
STATIC = Path(__file__).resolve().parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_page(error: grpc.aio.AioRpcError) -> web.Response:
    code = error.code()
    if code == grpc.StatusCode.NOT_FOUND:
        return pages.notice("Checkout link not found", "This payment link is not valid.", status=404)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return pages.notice("This checkout link cannot be used", error.details() or "", status=400)
    log.warning("checkout call failed", extra={"code": code.name})
    return pages.notice(
        "Payment service unavailable", "Nothing was charged by this page. Please try again in a moment.", status=503
    )


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except grpc.aio.AioRpcError as error:
        return error_page(error)
    except Exception:
        log.exception("web request failed", extra={"path": request.path})
        return pages.notice("Something went wrong", "Please try again in a moment.", status=500)


class Dashboard:
    """The dashboard's built files under /dashboard/ (index.html for any other path)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.home),
            web.get("/dashboard", self.home),
            web.get("/dashboard/{path:.*}", self.serve),
        ]

    async def home(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/dashboard/")

    async def serve(self, request: web.Request) -> web.StreamResponse:
        index = self.root / "index.html"
        if not index.is_file():
            return pages.notice("Dashboard not built", "Run the README's set-up: it builds the dashboard.", status=503)
        wanted = (self.root / request.match_info["path"]).resolve()
        if wanted.is_file() and wanted.is_relative_to(self.root):
            immutable = "/_app/immutable/" in request.path
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return web.FileResponse(wanted, headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})
        if request.match_info["path"].startswith("_app/"):
            raise web.HTTPNotFound()
        html = index.read_text()
        headers = {"Cache-Control": "no-cache", **dashboard_headers(html)}
        return web.Response(text=html, content_type="text/html", headers=headers)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


def dashboard_headers(html: str) -> dict[str, str]:
    """A strict policy for the app's page: its own scripts, and its inline boot script by
    hash (no 'unsafe-inline' for scripts); the API on the same origin only."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in INLINE_SCRIPT.findall(html)
    )
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
    return {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "SERVING"})


async def stylesheet(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "checkout.css", headers={"Cache-Control": "public, max-age=3600"})


def build_app(checkout: Checkout, dashboard: Dashboard) -> web.Application:
    app = web.Application(middlewares=[error_pages], client_max_size=64 * 1024)
    app.add_routes([web.get("/healthz", health), web.get("/checkout/assets/checkout.css", stylesheet)])
    app.add_routes(checkout.routes())
    app.add_routes(dashboard.routes())
    return app
